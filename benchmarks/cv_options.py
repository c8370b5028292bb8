"""The command-line options the cross-validation benchmarks share (``bench_detector``,
``bench_recipes``, ``bench_domain``): which data, profile, folds, seeds and bootstrap size.

Imported as a sibling by the scripts, which run as files (``python benchmarks/bench_x.py``, and so
``python -m benchmarks``); the ``bench_`` prefix is kept off so ``python -m benchmarks`` does not run it.
"""
from __future__ import annotations

import argparse
import os
from pathlib import Path

DEFAULT_DATA = Path(os.environ.get("MAMMOKIT_MIAS_DEV", Path(__file__).resolve().parents[2] / "shared" / "mias-dev"))


def cv_parser(description: str) -> argparse.ArgumentParser:
    """A parser with the shared options; each script adds its own."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--data", default=str(DEFAULT_DATA), help="a MIAS-layout folder (default: the dev subset)")
    parser.add_argument("--profile", default="classroom")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--bootstrap", type=int, default=1000)
    return parser
