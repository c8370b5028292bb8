"""Does the ConvNet visibly learn? Lesion vs normal-tissue windows (issue 20), and the lesion map's speed.

1. Map time: :func:`mammokit.patches.lesion_map` of the classroom detector's net over a 1024²
   film (a MIAS film from ``--data``, else a 1024-px phantom), median of 3 runs, windows scored.
2. The study: windows of ``--data`` (:func:`mammokit.patches.build_patch_dataset`), patient-grouped
   k-fold CV of :func:`mammokit.detector.lesion_detector` and the intensity baseline on the SAME
   folds: pooled out-of-fold AUC with the patient-bootstrap 95 % CI, mean ± sd over folds,
   per-lesion-kind AUC (each kind's windows vs all normal windows), the AUC against each source
   of normal tissue (normal films / abnormal films), and seconds. ``--variant`` adds detector
   variants (JSON of ``lesion_detector`` keywords and TrainConfig fields); ``--patches`` cuts the
   windows differently (JSON of ``build_patch_dataset`` keywords, e.g. ``{"window_mm": 38.4}``).

    python benchmarks/bench_detector.py                                   # map time + the study, seed 0
    python benchmarks/bench_detector.py --seeds 0 1 2 --skip-map
    python benchmarks/bench_detector.py --only ConvNet --variant '{"tta": false}'
    python benchmarks/bench_detector.py --patches '{}'                    # one scale: the 25.6 mm window alone

Writes ``benchmarks/results/bench_detector.json`` and prints markdown tables.
"""
from __future__ import annotations

import json
import os
import platform
import statistics
import time
from pathlib import Path

from cv_options import cv_parser

import numpy as np

RESULTS = Path(__file__).resolve().parent / "results"


def map_time(data: str, profile: str, scales: list) -> dict:
    """Seconds of one lesion map of a 1024² film with the profile's detector nets (its seed
    ensemble; untrained: the time does not depend on the weights)."""
    from mammokit import detector, models, patches
    from mammokit.data import load_catalog, read_image

    if (Path(data) / "Info.txt").is_file():
        catalog = load_catalog(data)
        path = catalog.loc[catalog["abnormality"] != "NORM", "path"].iloc[0]
    else:
        from mammokit.data import synthetic

        folder = synthetic.write_phantoms(RESULTS / "phantoms-1024", n_patients=1, size=1024)
        path = load_catalog(folder)["path"].iloc[0]
    film = read_image(path)
    spec = detector.DETECTOR[profile]
    nets = [models.build_convnet((64, 64, len(scales)), filters=spec["filters"], seed=m) for m in range(spec["members"])]
    calibration = [(1.0, 0.0)] * len(nets) if spec["bagged"] and len(nets) > 1 else None  # one per net, as trained
    det = detector.LesionDetector(nets, 64, patches.WINDOW_MM, tta=True, scales=tuple(scales), calibration=calibration)
    patches.lesion_map(det, film)  # warm-up: Keras builds its predict function once
    times = []
    for _ in range(3):
        t0 = time.perf_counter()
        prob = patches.lesion_map(det, film)
        times.append(time.perf_counter() - t0)
    stride = patches.window_pixels(patches.STRIDE_MM)
    windows = int((~np.isnan(prob[stride // 2::stride, stride // 2::stride])).sum())
    return {"film": str(path), "shape": list(film.shape), "scales": list(scales), "seconds_median": statistics.median(times),
            "seconds": times, "stride_mm": patches.STRIDE_MM, "windows": windows, "members": len(nets)}


def kind_aucs(windows, cv, folds) -> dict:
    """Per lesion kind (its windows vs all normal windows) and per normal source (all lesion windows
    vs that source's windows), from the pooled out-of-fold predictions."""
    from sklearn.metrics import roc_auc_score

    order = np.concatenate([f.test for f in folds])  # run_folds stacks the test parts in fold order
    kind = windows.table["kind"].to_numpy()[order]
    label, proba = cv.predictions["label"].to_numpy(), cv.predictions["proba"].to_numpy()
    out = {}
    for k in sorted(set(kind[label == 1])):
        keep = (label == 0) | (kind == k)
        out[k] = float(roc_auc_score(label[keep], proba[keep]))
    for source in ("normal film", "abnormal film"):
        keep = (label == 1) | (kind == source)
        out[f"vs {source}"] = float(roc_auc_score(label[keep], proba[keep]))
    return out


def main() -> None:
    parser = cv_parser(__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", default=None, help="recipes whose name contains one of these words")
    parser.add_argument("--variant", action="append", default=[],
                        help="JSON of lesion_detector keywords and TrainConfig fields, e.g. '{\"epochs\": 25}'")
    parser.add_argument("--patches", default=json.dumps({"scales": [0.5, 1, 2]}),
                        help="JSON of build_patch_dataset keywords (default: the three scales, patches.MULTISCALE)")
    parser.add_argument("--skip-map", action="store_true")
    parser.add_argument("--figure", action="store_true",
                        help="also train the detector on fold 1's training patients and save the lesion map of "
                             "held-out abnormal films to benchmarks/results/lesion_map_<id>.png")
    parser.add_argument("--out", type=Path, default=RESULTS / "bench_detector.json")
    args = parser.parse_args()

    from mammokit import detector

    payload = {"benchmark": "bench_detector", "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
               "machine": {"platform": platform.platform(), "cpus": os.cpu_count()},
               "data": args.data, "profile": args.profile, "folds": args.folds, "patches": json.loads(args.patches)}
    if not args.skip_map:
        payload["map"] = m = map_time(args.data, args.profile, json.loads(args.patches).get("scales", [1.0]))
        print(f"lesion map of a {m['shape'][0]}x{m['shape'][1]} film: {m['seconds_median']:.2f} s (median of 3; "
              f"{m['windows']} windows at scales {m['scales']}, stride {m['stride_mm']} mm, {m['members']} net(s))", flush=True)
    if not (Path(args.data) / "Info.txt").is_file():
        print(f"study skipped: no MIAS folder at {args.data} (pass --data or set MAMMOKIT_MIAS_DEV)")
        return _write(args.out, payload)

    from mammokit import data, patches
    from mammokit.crossval import cross_validate_recipe
    from mammokit.splits import kfold_by_patient
    from mammokit.train import TrainConfig

    windows = patches.build_patch_dataset(data.load_catalog(args.data), progress=False, **json.loads(args.patches))
    print(patches.kind_counts(windows), flush=True)
    pool = dict(detector.DETECTOR_RECIPES)
    for text in args.variant:
        options = json.loads(text)
        training = {k: options.pop(k) for k in list(options) if k in TrainConfig.__dataclass_fields__}
        config = detector.DETECTOR[args.profile]["config"].replace(**training)
        pool[f"ConvNet {text}"] = (lambda train, seed=0, o=options, c=config:
                                   detector.lesion_detector(train, profile=args.profile, seed=seed, config=c, **o))
    if args.only is not None:
        pool = {n: r for n, r in pool.items() if any(w.lower() in n.lower() for w in args.only)}
    print(f"{args.folds}-fold CV grouped by patient; seeds {args.seeds}\n"
          "| recipe | seed | pooled AUC (95 % CI) | folds mean ± sd | per kind | vs normal films / abnormal films | "
          "time |\n|---|---|---|---|---|---|---|", flush=True)
    rows = []
    for seed in args.seeds:
        folds = kfold_by_patient(windows.table, k=args.folds, seed=seed)
        for name, recipe in pool.items():
            t0 = time.perf_counter()
            cv = cross_validate_recipe(lambda train, r=recipe: r(train, seed=seed), windows, folds=folds, seed=seed,
                                       n_boot=args.bootstrap, progress=False)
            auc = cv.summary.set_index("metric").loc["auc"]
            kinds = kind_aucs(windows, cv, folds)
            r = {"recipe": name, "seed": seed, "auc": float(auc.estimate), "auc_low": float(auc.ci_low),
                 "auc_high": float(auc.ci_high), "fold_mean": float(auc["mean"]), "fold_sd": float(auc.sd),
                 "fold_aucs": [round(float(a), 3) for a in cv.folds["auc"]],
                 "kinds": kinds, "seconds": time.perf_counter() - t0}
            rows.append(r)
            per_kind = ", ".join(f"{k} {v:.2f}" for k, v in kinds.items() if not k.startswith("vs "))
            print(f"| {name} | {seed} | {r['auc']:.3f} ({r['auc_low']:.2f}–{r['auc_high']:.2f}) | "
                  f"{r['fold_mean']:.2f} ± {r['fold_sd']:.2f} | {per_kind} | {kinds['vs normal film']:.2f} / "
                  f"{kinds['vs abnormal film']:.2f} | {r['seconds']:.0f} s |", flush=True)
    payload["windows"] = patches.kind_counts(windows)
    payload["rows"] = rows
    if args.figure:
        payload["figures"] = held_out_maps(windows, kfold_by_patient(windows.table, k=args.folds, seed=args.seeds[0]),
                                           args.profile, args.seeds[0])
    payload["machine"]["load_average"] = os.getloadavg()
    _write(args.out, payload)


def held_out_maps(windows, folds, profile: str, seed: int, n: int = 3) -> list[str]:
    """Lesion maps of ``n`` abnormal films of fold 1's test patients, by a detector trained on the
    other folds: what a student sees when the net has learned something."""
    from mammokit import detector, patches
    from mammokit.data import read_image
    from mammokit.plots import lesion_map_figure

    model = detector.lesion_detector(windows.take(folds[0].train), profile=profile, seed=seed)
    test = windows.table.iloc[folds[0].test]
    films = test.loc[test["label"] == 1].drop_duplicates("image_id").head(n)
    out = []
    for r in films.itertuples():
        t0 = time.perf_counter()
        prob = patches.lesion_map(model, read_image(r.path))
        seconds = time.perf_counter() - t0
        lesions = test[(test["image_id"] == r.image_id) & (test["copy"] == 0) & (test["label"] == 1)]
        lesions = lesions.assign(row=lesions["lesion_row"], col=lesions["lesion_col"])
        path = RESULTS / f"lesion_map_{r.image_id}.png"
        lesion_map_figure(read_image(r.path), prob, lesions, title=f"{r.image_id} ({r.kind}), held-out patient; "
                          f"map {seconds:.1f} s").savefig(path, dpi=70)
        out.append(str(path))
        print("wrote", path, flush=True)
    return out


def _write(out: Path, payload: dict) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(payload, indent=2))
    print("wrote", out)


if __name__ == "__main__":
    main()
