"""Where data, caches and runs live, so notebooks, CLI and tests agree without arguments.

Order: an environment variable wins; else the project checkout (a folder whose
``pyproject.toml`` names mammokit, found from the working directory upwards); else
``~/mammokit``. On Colab/Binder the checkout is usually the working directory.
"""
from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path


@lru_cache(maxsize=None)
def _checkout_from(start: str) -> Path | None:
    for folder in [Path(start), *Path(start).parents]:
        pyproject = folder / "pyproject.toml"
        if pyproject.is_file() and 'name = "mammokit"' in pyproject.read_text(errors="ignore"):
            return folder
    return None


def project_root() -> Path:
    """The mammokit checkout holding the working directory or this package, else ``~/mammokit``."""
    for start in (Path.cwd(), Path(__file__).resolve().parent):
        found = _checkout_from(str(start.resolve()))
        if found is not None:
            return found
    return Path.home() / "mammokit"


def data_dir() -> Path:
    """Downloaded and generated data (``$MAMMOKIT_DATA_DIR``, else ``<project>/data``)."""
    return Path(os.environ.get("MAMMOKIT_DATA_DIR") or project_root() / "data")


def cache_dir() -> Path:
    """Derived arrays (ROI sets, backbone features), safe to delete (``$MAMMOKIT_CACHE``)."""
    return Path(os.environ.get("MAMMOKIT_CACHE") or data_dir() / "cache")


DRIVE_RUNS = Path("/content/drive/MyDrive/mammokit/runs")
"""Where runs go on Colab with ``DRIVE = True``: Google Drive outlives the Colab machine's disk."""


def runs_dir() -> Path:
    """Executed notebooks, models and metrics of course runs (``<project>/runs``)."""
    return project_root() / "runs"


def notebooks_dir() -> Path:
    """The course notebooks (``$MAMMOKIT_NOTEBOOKS``, else the checkout's ``notebooks/``)."""
    return Path(os.environ.get("MAMMOKIT_NOTEBOOKS") or project_root() / "notebooks")
