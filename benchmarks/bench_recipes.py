"""Which recipe is the best honest one? Every recipe under the same patient-grouped k-fold CV.

Each recipe of ``mammokit.recipes.candidates(profile)`` (baselines, the ConvNet on each ROI recipe,
the ConvNet fused with the radius) — or the extra ConvNet variants given with ``--variant`` — is trained per
fold on the training patients only and scored on the held-out patients; the table gives the
pooled out-of-fold AUC with its 95 % patient-bootstrap interval, the mean ± sd over folds, and
the wall time. Repeating over ``--seeds`` (different folds and initialisations) shows how much
a result moves with luck. Writes ``benchmarks/results/bench_recipes.json`` and prints a
markdown table.

    python benchmarks/bench_recipes.py --data ../shared/mias-dev            # classroom profile
    python benchmarks/bench_recipes.py --only "size" "hand" --seeds 0 1 2
    python benchmarks/bench_recipes.py --only size hand margin tangential annotation --explored --seeds 0 1 2 3 4
    python benchmarks/bench_recipes.py --variant '{"roi": "fixed", "window_mm": 24}'
"""
from __future__ import annotations

import json
import os
import platform
import time
from pathlib import Path

from cv_options import cv_parser

import numpy as np

RESULTS = Path(__file__).resolve().parent / "results"


def measure(name: str, recipe, rois, k: int, seed: int, n_boot: int) -> dict:
    from mammokit.crossval import cross_validate_recipe

    t0 = time.perf_counter()
    cv = cross_validate_recipe(lambda train: recipe(train, seed=seed), rois, k=k, seed=seed, n_boot=n_boot,
                               progress=False)
    auc = cv.summary.set_index("metric").loc["auc"]
    return {"recipe": name, "seed": seed, "auc": float(auc.estimate), "auc_low": float(auc.ci_low),
            "auc_high": float(auc.ci_high), "fold_mean": float(auc["mean"]), "fold_sd": float(auc.sd),
            "seconds": time.perf_counter() - t0}


def main() -> None:
    parser = cv_parser(__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", default=None, help="recipes whose name contains one of these words")
    parser.add_argument("--variant", action="append", default=[],
                        help="JSON of mammokit.recipes.convnet keywords (and TrainConfig fields) over the profile's sizes (recipes.CONVNET)")
    parser.add_argument("--explored", action="store_true",
                        help="also the recipes of mammokit.recipes.EXPLORED (margin features; the annotation baseline)")
    parser.add_argument("--out", type=Path, default=RESULTS / "bench_recipes.json")
    args = parser.parse_args()

    if not (Path(args.data) / "Info.txt").is_file():
        print(f"skipped: no MIAS folder at {args.data} (pass --data or set MAMMOKIT_MIAS_DEV)")
        return

    from mammokit import data, recipes, roi
    from mammokit.train import TrainConfig

    rois = roi.build_roi_dataset(data.load_catalog(args.data), progress=False)
    pool = {**recipes.candidates(args.profile), **(recipes.EXPLORED if args.explored else {})}
    if args.only is not None:
        pool = {n: r for n, r in pool.items() if any(w.lower() in n.lower() for w in args.only)}
    for text in args.variant:
        options = {**recipes.CONVNET[args.profile], **json.loads(text)}
        training = {k: options.pop(k) for k in list(options) if k in TrainConfig.__dataclass_fields__}
        options["config"] = options["config"].replace(**training)  # e.g. {"epochs": 20}
        pool[f"ConvNet {text}"] = lambda train, seed=0, o=options: recipes.convnet(train, seed=seed, **o)
    print(f"{len(rois)} ROIs of {len(set(rois.groups))} patients from {args.data}; profile {args.profile}; "
          f"{args.folds}-fold CV grouped by patient; seeds {args.seeds}", flush=True)
    print("| recipe | seed | pooled AUC (95 % CI) | folds mean ± sd | time |\n|---|---|---|---|---|", flush=True)
    rows = []
    for name, recipe in pool.items():
        for seed in args.seeds:
            r = measure(name, recipe, rois, args.folds, seed, args.bootstrap)
            rows.append(r)
            print(f"| {name} | {seed} | {r['auc']:.3f} ({r['auc_low']:.2f}–{r['auc_high']:.2f}) | "
                  f"{r['fold_mean']:.2f} ± {r['fold_sd']:.2f} | {r['seconds']:.0f} s |", flush=True)
    payload = {"benchmark": "bench_recipes", "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
               "machine": {"platform": platform.platform(), "cpus": os.cpu_count(),
                           "load_average": os.getloadavg()},
               "data": args.data, "profile": args.profile, "folds": args.folds, "rows": rows}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(payload, indent=2))
    print("wrote", args.out)
    means = {}
    for r in rows:
        means.setdefault(r["recipe"], []).append(r["auc"])
    print("mean pooled AUC over seeds:", {n: round(float(np.mean(v)), 3) for n, v in means.items()})
    print("min-max over seeds:", {n: (round(float(np.min(v)), 3), round(float(np.max(v)), 3)) for n, v in means.items()})


if __name__ == "__main__":
    main()
