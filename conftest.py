"""Shared test setup: a private data/cache/run area per session, and the MIAS dev subset.

Environment variables set here reach notebook kernels too (nbval and papermill start them
as child processes): committed notebooks then run in the fast ``smoke`` profile.
"""
from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent
MIAS_DEV = Path(os.environ.get("MAMMOKIT_MIAS_DEV", ROOT.parent / "shared" / "mias-dev"))
_SESSION_DIR = Path(tempfile.mkdtemp(prefix="mammokit-tests-"))


def pytest_configure(config: pytest.Config) -> None:
    os.environ.setdefault("MAMMOKIT_PROFILE", "smoke")
    os.environ["MAMMOKIT_DATA_DIR"] = str(_SESSION_DIR / "data")
    os.environ["MAMMOKIT_RUN_DIR"] = str(_SESSION_DIR / "run")
    os.environ["KERAS_HOME"] = str(_SESSION_DIR / "keras")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def pytest_unconfigure(config: pytest.Config) -> None:
    shutil.rmtree(_SESSION_DIR, ignore_errors=True)


@pytest.fixture(scope="session")
def session_dir() -> Path:
    """A scratch folder shared by the whole session (also MAMMOKIT_DATA_DIR's parent)."""
    return _SESSION_DIR


@pytest.fixture(scope="session")
def mias_dev() -> Path:
    """The real MIAS development subset. In CI its absence is a failure, locally a skip."""
    if (MIAS_DEV / "Info.txt").is_file():
        return MIAS_DEV
    message = f"MIAS development subset not found at {MIAS_DEV} (set MAMMOKIT_MIAS_DEV)"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    """Screenshots and figures tests leave for a person to look at (git-ignored)."""
    path = ROOT / "test-artifacts"
    path.mkdir(exist_ok=True)
    return path
