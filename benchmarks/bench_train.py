"""How fast does the paper's ConvNet train here, and does the input pipeline keep up?

For each ROI size (default 64, 128, 224 px) at batch 32 it measures, in images per second:

* ``model``: training steps fed from ``make_dataset`` WITHOUT augmentation (the model's own rate);
* ``end_to_end``: training steps with the kit's online augmentation in the pipeline;
* ``pipeline``: the input pipeline alone (shuffle → batch → augment → scale), no model, as
  ``fit`` runs it on a CPU (one batch augmented at a time, so a seeded run repeats);
  ``pipeline_parallel`` with parallel augmentation (the GPU default); ``pipeline_plain`` without
  augmentation.

The pipeline must not be the bottleneck: ``pipeline / model`` should be ≥ 3. Each timing
skips a warm-up epoch (graph tracing). Prints a table and writes
``benchmarks/results/bench_train.json``. On a GPU machine (or with ``--mixed-precision``) it
also times float32 against mixed precision; ``benchmarks/gpu.sh`` runs it that way.

    python benchmarks/bench_train.py            # ~3-4 minutes on 2 CPU cores
    python benchmarks/bench_train.py --sizes 64 --steps 10
"""
from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path

import numpy as np

RESULTS = Path(__file__).resolve().parent / "results"


def _timed_fit(model, ds, steps: int) -> float:
    """Images/s of the second of two epochs (the first one traces the graph)."""
    import keras

    times: list[float] = []

    class Clock(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.t0 = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            times.append(time.perf_counter() - self.t0)

    model.fit(ds, epochs=2, steps_per_epoch=steps, verbose=0, callbacks=[Clock()])
    return times[-1]


def _timed_pipeline(ds, steps: int) -> float:
    it = iter(ds)
    for _ in range(2):  # warm-up: tracing and the first prefetch
        next(it)
    t0 = time.perf_counter()
    for _ in range(steps):
        next(it)
    return time.perf_counter() - t0


def bench(size: int, batch: int, steps: int, seed: int = 0) -> dict[str, float]:
    from mammokit import datasets, models, online, train

    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, (8 * batch, size, size), dtype=np.uint8)
    labels = np.arange(len(images)) % 2
    row: dict[str, float] = {"size": size, "batch": batch, "steps": steps}

    def dataset(aug, parallel=False):
        return datasets.make_dataset(images, labels, batch, training=True, augment=aug, seed=seed, repeat=True,
                                     parallel=parallel)

    for key, aug in (("model", None), ("end_to_end", online.online_pipeline(seed))):
        model = models.build_convnet((size, size, 1), seed=seed)
        train.compile_model(model)
        row[f"{key}_img_s"] = steps * batch / _timed_fit(model, dataset(aug), steps)
    pipe_steps = steps * 3
    row["pipeline_img_s"] = pipe_steps * batch / _timed_pipeline(dataset(online.online_pipeline(seed)), pipe_steps)
    row["pipeline_parallel_img_s"] = pipe_steps * batch / _timed_pipeline(
        dataset(online.online_pipeline(seed), parallel=True), pipe_steps)
    row["pipeline_plain_img_s"] = pipe_steps * batch / _timed_pipeline(dataset(None), pipe_steps)
    row["pipeline_over_model"] = row["pipeline_img_s"] / row["model_img_s"]
    return row


def bench_mixed_precision(size: int, batch: int, steps: int) -> dict[str, float]:
    """GPU only: model images/s in float32 and in mixed_float16."""
    import keras

    from mammokit import datasets, models, train

    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (8 * batch, size, size), dtype=np.uint8)
    labels = np.arange(len(images)) % 2
    out: dict[str, float] = {"size": size, "batch": batch}
    for policy in ("float32", "mixed_float16"):
        keras.mixed_precision.set_global_policy(policy)
        model = models.build_convnet((size, size, 1))
        train.compile_model(model)
        ds = datasets.make_dataset(images, labels, batch, training=True, repeat=True)
        out[f"{policy}_img_s"] = steps * batch / _timed_fit(model, ds, steps)
    keras.mixed_precision.set_global_policy("float32")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[64, 128, 224])
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--steps", type=int, default=None, help="timed steps per size (default: by size)")
    parser.add_argument("--mixed-precision", action="store_true",
                        help="also time float32 vs mixed_float16 without a GPU (always done on a GPU)")
    parser.add_argument("--mixed-precision-size", type=int, default=224)
    parser.add_argument("--mixed-precision-steps", type=int, default=50)
    parser.add_argument("--out", type=Path, default=RESULTS / "bench_train.json")
    args = parser.parse_args()

    import keras
    import tensorflow as tf

    from mammokit import backend

    print(backend.device_report())
    rows = []
    for size in args.sizes:
        steps = args.steps or max(4, int(40 * (64 / size) ** 2))
        rows.append(bench(size, args.batch, steps))
        r = rows[-1]
        print(f"{size:>4} px  model {r['model_img_s']:7.1f}  end-to-end {r['end_to_end_img_s']:7.1f}  "
              f"pipeline {r['pipeline_img_s']:8.1f} (parallel {r['pipeline_parallel_img_s']:8.1f}, "
              f"plain {r['pipeline_plain_img_s']:8.1f})  "
              f"pipeline/model {r['pipeline_over_model']:5.1f}×   img/s", flush=True)
    gpu = []
    if tf.config.list_physical_devices("GPU") or args.mixed_precision:
        gpu.append(bench_mixed_precision(args.mixed_precision_size, args.batch, args.mixed_precision_steps))
        print(f"mixed precision, {args.mixed_precision_size} px:", gpu[-1])
    payload = {"benchmark": "bench_train", "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
               "machine": {"platform": platform.platform(), "cpus": __import__("os").cpu_count(),
                           "tensorflow": tf.__version__, "keras": keras.__version__,
                           "gpus": [g.name for g in tf.config.list_physical_devices("GPU")]},
               "rows": rows, "mixed_precision": gpu}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(payload, indent=2))
    print("wrote", args.out)


if __name__ == "__main__":
    main()
