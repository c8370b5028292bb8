"""Every course notebook: committed clean, parameters as the contract says, stops at once on a
misspelled parameter (papermill injects it; only the first cells run).

Whole notebooks are executed once per session, by nbval (see addopts in pyproject.toml);
tests/test_executed_notebooks.py looks at what that run showed.
"""
from __future__ import annotations

import ast
from pathlib import Path

import nbformat
import pytest

from kernels import run_notebook
from mammokit.course import notebook, params
from mammokit.course.runner import NotebookFailed

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
IDS = [nb.stem for nb in NOTEBOOKS]


def _parameters_cell(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    tagged = [c for c in nb.cells if "parameters" in c.get("metadata", {}).get("tags", [])]
    assert len(tagged) == 1, "exactly one cell must be tagged 'parameters'"
    return tagged[0]


def test_notebooks_exist():
    assert NOTEBOOKS, "no course notebooks found"
    assert {nb.stem for nb in NOTEBOOKS} <= set(params.NOTEBOOKS), "a notebook has no parameter spec"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_committed_without_outputs_or_widget_state(path: Path):
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    dirty = [i for i, c in enumerate(nb.cells)
             if c.cell_type == "code" and (c.get("outputs") or c.get("execution_count"))]
    assert not dirty, f"cells {dirty} carry outputs; clear them before committing"
    assert "widgets" not in nb.metadata, "metadata.widgets holds stale widget state; strip it"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_parameters_cell_matches_the_spec(path: Path):
    nb = nbformat.read(path, as_version=4)
    cell = _parameters_cell(nb)
    assigned = []
    for node in ast.parse(cell.source).body:
        assert isinstance(node, ast.Assign) and len(node.targets) == 1, \
            f"the parameters cell holds plain assignments only, got: {ast.unparse(node)}"
        assigned.append(node.targets[0].id)
    assert assigned == [p.name for p in params.spec(path.stem)], \
        "parameters cell and mammokit.course.params.NOTEBOOKS disagree"
    assert cell.source == notebook.parameters_source(path.stem), \
        "parameter comments are stale: run `mammokit assign --only <stem>` (the build writes this cell)"
    first_code = [c for c in nb.cells if c.cell_type == "code"]
    assert first_code[0] is cell, "the parameters cell comes first"
    assert first_code[1].source == notebook.setup_source(path.stem), \
        "the cell after the parameters is the standard setup cell (mammokit.course.notebook.setup_source)"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_misspelled_parameter_stops_the_first_cell(path: Path, tmp_path: Path):
    with pytest.raises(NotebookFailed) as info:
        run_notebook(path, tmp_path / path.name, {"PROFILE": "smoke", "EPOCHZ": 3})
    assert "EPOCHZ" in str(info.value) and "ConfigError" in str(info.value)
    nb = nbformat.read(tmp_path / path.name, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert not any(c.get("outputs") for c in code[3:]), "cells after the validation must not run"
