"""Domain transfer (issue 20, notebook 05): benign vs malignant from the lesion detector's convolutions.

Patient-grouped k-fold CV on the SAME folds (:func:`mammokit.crossval.compare_recipes`) of
:func:`mammokit.domain.detector_init` (the detector trained on each fold's training patients'
windows, its convolutions the start of a benign-vs-malignant net), :func:`mammokit.domain.random_init`
(the same net, input and schedule from random weights) and, for reference, ``recipes.size_only``;
``--backbone VGG19`` adds the frozen-feature arm (:func:`mammokit.domain.backbone_features`;
ImageNet weights must be in ``$KERAS_HOME/models`` or downloadable). Pooled out-of-fold AUC with the
patient-bootstrap 95 % CI, mean ± sd over folds, seconds, and the load average before and after.

    nice -n 10 python benchmarks/bench_domain.py --seeds 0 1

Writes ``benchmarks/results/bench_domain.json`` and prints a markdown table.
"""
from __future__ import annotations

import json
import os
import platform
import time
from pathlib import Path

from cv_options import cv_parser

RESULTS = Path(__file__).resolve().parent / "results"


def main() -> None:
    parser = cv_parser(__doc__.splitlines()[0])
    parser.add_argument("--backbone", default=None, help="add this backbone's frozen ImageNet features (e.g. VGG19)")
    parser.add_argument("--weights", default="imagenet")
    parser.add_argument("--out", type=Path, default=RESULTS / "bench_domain.json")
    args = parser.parse_args()

    from mammokit import data, domain, recipes
    from mammokit.crossval import compare_recipes
    from mammokit.roi import build_roi_dataset, class_counts

    catalog = data.load_catalog(args.data)
    rois = build_roi_dataset(catalog, size=64, progress=False)  # the folds' ROIs (the window arms re-cut them)
    pool = {"size only (radius, mm)": lambda train, seed=0: recipes.size_only(train, seed=seed),
            **domain.arms(catalog, None, args.profile, backbone=args.backbone, weights=args.weights)}
    payload = {"benchmark": "bench_domain", "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
               "machine": {"platform": platform.platform(), "cpus": os.cpu_count(), "load_before": os.getloadavg()},
               "data": args.data, "profile": args.profile, "folds": args.folds, "rois": class_counts(rois), "rows": []}
    print(class_counts(rois), flush=True)
    print(f"{args.folds}-fold CV grouped by patient, same folds for every arm; load {os.getloadavg()}\n"
          "| arm | fold seed | pooled AUC (95 % CI) | folds mean ± sd | seconds |\n|---|---|---|---|---|", flush=True)
    for seed in args.seeds:
        table, _ = compare_recipes(pool, rois, k=args.folds, seed=seed, n_boot=args.bootstrap, progress=False)
        for r in table.itertuples():
            row = {"recipe": r.recipe, "seed": seed, "auc": float(r.auc), "auc_low": float(r.auc_low),
                   "auc_high": float(r.auc_high), "fold_mean": float(r.auc_mean), "fold_sd": float(r.auc_sd),
                   "seconds": float(r.seconds), "load_after": os.getloadavg()}
            payload["rows"].append(row)
            print(f"| {r.recipe} | {seed} | {r.auc:.3f} ({r.auc_low:.2f}–{r.auc_high:.2f}) | "
                  f"{r.auc_mean:.2f} ± {r.auc_sd:.2f} | {r.seconds:.0f} |", flush=True)
        args.out.parent.mkdir(parents=True, exist_ok=True)
        payload["machine"]["load_after"] = os.getloadavg()
        args.out.write_text(json.dumps(payload, indent=2, default=str))
    print(f"load {os.getloadavg()}; wrote {args.out}")


if __name__ == "__main__":
    main()
