"""Cost of the paper's five transfer backbones on this machine: step time, memory, parameters.

For each backbone, in its own subprocess (so peak memory is that backbone's alone, and the
machine, often shared, runs one at a time), at ``--size`` px (default 224), batch ``--batch``
(default 8), weights=None (the cost does not depend on the values of the weights):

* build time and parameter counts;
* **features**: seconds per batch of the frozen backbone's forward pass (the classroom path,
  also at ``--classroom-size`` px, default 96);
* **frozen**: seconds per training step with the backbone frozen (head only learns);
* **fine-tune**: seconds per training step with every layer trainable except batch norm
  (``--no-finetune`` skips it: its first step traces the whole backward graph, 20-85 s);
* peak resident memory (ru_maxrss) after each phase.

The first call of each kind (graph tracing) is timed separately from the steady steps.
Prints a table and writes ``benchmarks/results/bench_backbones.json``.

    python benchmarks/bench_backbones.py [--size 224] [--batch 8] [--steps 3] [--only VGG19 ...]
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))


def _rss_gib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20  # KiB on Linux


def _timed(fn, steps: int) -> tuple[float, float]:
    """(first call s, mean of the next ``steps`` calls s)."""
    t = time.perf_counter()
    fn()
    first = time.perf_counter() - t
    t = time.perf_counter()
    for _ in range(steps):
        fn()
    return first, (time.perf_counter() - t) / max(steps, 1)


def measure(name: str, size: int, batch: int, steps: int, classroom_size: int, finetune: bool) -> dict:
    """Everything about one backbone (runs inside the child process)."""
    import numpy as np

    from mammokit import train, transfer

    out: dict = {"backbone": name, "size": size, "batch": batch}
    t = time.perf_counter()
    model = transfer.build_transfer(name, size, weights=None)
    out["build_s"] = round(time.perf_counter() - t, 2)
    out["params"] = transfer.count_params(model)["total"]
    out["rss_built_gib"] = round(_rss_gib(), 2)
    rng = np.random.default_rng(0)
    x = rng.random((batch, size, size, 1), dtype=np.float32)
    y = rng.integers(0, 2, batch).astype("int32")

    import keras
    encoder = keras.Model(model.input, model.get_layer("mk_pool").output)
    first, steady = _timed(lambda: encoder(x, training=False), steps)
    out.update(features_first_s=round(first, 2), features_s_per_batch=round(steady, 3))
    out["rss_features_gib"] = round(_rss_gib(), 2)

    if classroom_size and classroom_size != size:
        small = transfer.build_transfer(name, classroom_size, weights=None)
        enc_small = keras.Model(small.input, small.get_layer("mk_pool").output)
        xs = rng.random((batch, classroom_size, classroom_size, 1), dtype=np.float32)
        _, steady = _timed(lambda: enc_small(xs, training=False), steps)
        out["classroom_side"] = transfer.input_size_for(name, classroom_size)
        out["features_small_s_per_batch"] = round(steady, 3)
        del small, enc_small

    transfer.set_trainable(model, 0)
    train.compile_model(model, 1e-3)
    first, steady = _timed(lambda: model.train_on_batch(x, y), steps)
    out.update(frozen_first_s=round(first, 1), frozen_s_per_step=round(steady, 3))
    out["rss_frozen_gib"] = round(_rss_gib(), 2)

    if finetune:
        out["trainable_layers"] = transfer.set_trainable(model, None)
        train.compile_model(model, 1e-4)
        first, steady = _timed(lambda: model.train_on_batch(x, y), max(1, steps - 1))
        out.update(finetune_first_s=round(first, 1), finetune_s_per_step=round(steady, 3))
        out["rss_finetune_gib"] = round(_rss_gib(), 2)
    return out


def main() -> int:
    from mammokit.constants import PAPER_BACKBONES

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", type=int, default=224)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--steps", type=int, default=3)
    ap.add_argument("--classroom-size", type=int, default=96)
    ap.add_argument("--no-finetune", action="store_true")
    ap.add_argument("--only", nargs="*", default=list(PAPER_BACKBONES))
    ap.add_argument("--child", help=argparse.SUPPRESS)
    args = ap.parse_args()

    if args.child:  # one backbone, print JSON
        print("RESULT " + json.dumps(measure(args.child, args.size, args.batch, args.steps,
                                             args.classroom_size, not args.no_finetune)), flush=True)
        return 0

    rows = []
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
    for name in args.only:
        cmd = [sys.executable, __file__, "--child", name, "--size", str(args.size), "--batch", str(args.batch),
               "--steps", str(args.steps), "--classroom-size", str(args.classroom_size)]
        if args.no_finetune:
            cmd.append("--no-finetune")
        t = time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
        lines = [line for line in proc.stdout.splitlines() if line.startswith("RESULT ")]
        if proc.returncode != 0 or not lines:
            print(f"{name}: failed (rc {proc.returncode})\n{proc.stderr[-2000:]}", file=sys.stderr)
            continue
        row = json.loads(lines[-1][len("RESULT "):])
        row["wall_s"] = round(time.perf_counter() - t, 1)
        rows.append(row)
        print(json.dumps(row), flush=True)

    cols = ["backbone", "params", "build_s", "features_s_per_batch", "features_small_s_per_batch",
            "frozen_first_s", "frozen_s_per_step", "finetune_first_s", "finetune_s_per_step",
            "rss_frozen_gib", "rss_finetune_gib", "wall_s"]
    print("\n" + " | ".join(cols))
    for r in rows:
        print(" | ".join(str(r.get(c, "")) for c in cols))
    results = HERE / "results"
    results.mkdir(exist_ok=True)
    machine = {"platform": platform.platform(), "cpus": os.cpu_count(), "python": platform.python_version()}
    payload = {"machine": machine,
               "args": {k: v for k, v in vars(args).items() if k != "child"}, "rows": rows}
    (results / "bench_backbones.json").write_text(json.dumps(payload, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
