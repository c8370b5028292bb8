"""Shared test setup: a private data/cache/run area per session, and the MIAS dev subset.

Environment variables set here reach notebook kernels too (nbval and papermill start them
as child processes): committed notebooks then run in the fast ``smoke`` profile.

Each student notebook is executed once per session, by nbval, as a student runs it (fresh
kernel, top to bottom, no injected parameters, exercises not answered yet). The hooks below keep what nbval saw: every
cell's outputs are written back into the notebook, which is saved to ``executed_dir()`` when
its last cell has run, so tests/test_executed_notebooks.py can look at the figures, the
streams and the HTML export without executing the notebook a second time.
"""
from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent
MIAS_DEV = Path(os.environ.get("MAMMOKIT_MIAS_DEV", ROOT.parent / "shared" / "mias-dev"))
_SESSION_DIR = Path(tempfile.mkdtemp(prefix="mammokit-tests-"))
PREPROCESS_CHOICE = {"otsu_offset": 10, "kernel": 3}


# nbval runs what students open (notebooks/NN_*.ipynb, exercises unanswered). The masters in
# notebooks/solutions/ run answered once too, under otter, in tests/test_grading.py (full marks).
collect_ignore_glob = ["notebooks/solutions/*"]


def pytest_configure(config: pytest.Config) -> None:
    os.environ.setdefault("MAMMOKIT_PROFILE", "smoke")
    os.environ["MAMMOKIT_DATA_DIR"] = str(_SESSION_DIR / "data")
    os.environ["MAMMOKIT_RUN_DIR"] = str(_SESSION_DIR / "run")
    os.environ["KERAS_HOME"] = str(_SESSION_DIR / "keras")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    # A student's non-default choice in notebook 02, so the nbval run of 03 shows it carried through
    # (tests/test_executed_notebooks.py) without running 02 and 03 a second time.
    os.environ.setdefault("MAMMOKIT_PREPROCESS", json.dumps(PREPROCESS_CHOICE))


def executed_dir() -> Path:
    """Where the notebooks nbval executed in this session are saved (``<stem>.ipynb``)."""
    return _SESSION_DIR / "executed"


def _is_notebook_cell(item: pytest.Item) -> bool:
    return hasattr(item, "test_outputs") and hasattr(item, "cell")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark notebook cells slow; run the checks on executed notebooks after the notebooks;
    leave out the full installs (marker ``install``) unless ``-m`` names them."""
    if "install" not in (config.option.markexpr or ""):
        dropped = [i for i in items if i.get_closest_marker("install")]
        if dropped:
            config.hook.pytest_deselected(items=dropped)
            items[:] = [i for i in items if not i.get_closest_marker("install")]
    config.executed_notebooks = sorted({Path(str(i.parent.fspath)).stem for i in items
                                        if _is_notebook_cell(i) and _executed_name(i) == Path(str(i.fspath)).name})
    for item in items:
        if _is_notebook_cell(item):
            item.add_marker(pytest.mark.slow)
    after = [i for i in items if Path(str(i.fspath)).name == "test_executed_notebooks.py"]
    items[:] = [i for i in items if i not in after] + after


def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> None:
    if not _is_notebook_cell(item):
        return
    item.cell.outputs = list(item.test_outputs or [])
    if nextitem is None or nextitem.parent is not item.parent:
        import nbformat

        executed_dir().mkdir(parents=True, exist_ok=True)
        nbformat.write(item.parent.nb, executed_dir() / _executed_name(item))


def _executed_name(item: pytest.Item) -> str:
    return Path(str(item.parent.fspath)).name


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
