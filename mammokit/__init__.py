"""mammokit — rebuild the mammogram mass classifier of Mahmood et al. (PLoS ONE, 2022).

Submodules load on first use (``mk.models`` imports Keras, which takes seconds), so
``import mammokit as mk`` stays instant in notebooks that only look at data.

The data flow runs left to right; no module imports one to its right::

    data -> segment -> preprocess -> quality -> roi -> features | splits -> augment -> inflation | online
         -> models | transfer -> datasets
         -> train -> finetune | patches -> evaluate / explain / significance / confound
         -> crossval / recipes / detector / domain -> leakage / paper / exercises / findings
         -> plots -> course (params, notebook, runner, sweep, summary, masters, grading) | cli

Infrastructure any module may use: backend, checks, constants (the paper's, MIAS's and the backbones'
numbers), errors, files, paths, runs, seed.
"""
from __future__ import annotations

import importlib
from typing import Any

from mammokit import backend
from mammokit.errors import ConfigError, DataError, DownloadError, MammokitError, OutputError

__version__ = "0.1.0"

backend.quiet_tensorflow_import()  # TensorFlow's start-up lines stay out of notebooks, however it is imported

_SUBMODULES = {
    "augment", "backend", "checks", "cli", "confound", "constants", "course", "crossval", "data", "datasets", "evaluate", "exercises",
    "detector", "domain", "explain", "features", "files", "findings", "finetune", "leakage", "models", "paper", "patches", "paths", "plots",
    "inflation", "online", "preprocess", "quality",
    "recipes", "roi", "runs", "seed", "segment", "significance", "splits", "train", "transfer", "widgets",
}
_SHORT_NAMES = {"params": "course.params", "notebook": "course.notebook"}  # what notebooks call (mk.params.resolve)

__all__ = ["ConfigError", "DataError", "DownloadError", "MammokitError", "OutputError",
           *sorted(_SUBMODULES | set(_SHORT_NAMES))]


def __getattr__(name: str) -> Any:
    if name in _SUBMODULES:
        if name in backend.TENSORFLOW_MODULES:
            backend.load_tensorflow()  # once, without TensorFlow's start-up log lines
        return importlib.import_module(f"mammokit.{name}")
    if name in _SHORT_NAMES:
        return importlib.import_module(f"mammokit.{_SHORT_NAMES[name]}")
    raise AttributeError(f"module 'mammokit' has no attribute {name!r}")
