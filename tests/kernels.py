"""The suite's one way to run code in a real Jupyter kernel: the kit's own runner.

Tests that need a kernel (a notebook's first cells, a setup cell run twice, a pretend Colab)
go through :func:`run_notebook` / :func:`run_cells`, i.e. ``mammokit.course.runner.execute_notebook``
(papermill, the short-slice socket polling, ``NotebookFailed`` naming the failing cell), so a
failure reads the same everywhere and one fix to kernel start-up reaches every test.

Tests that exist to prove a specific user path start kernels that path's way and say so in a
comment: nbval (the student notebooks, see conftest.py), the ``papermill`` command
(tests/test_plain_papermill.py), ``mammokit course``/``sweep`` (tests/test_course.py, a subprocess
per notebook), otter (tests/test_grading.py) and JupyterLab (tests/test_browser.py).
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping, Sequence

import nbformat

from mammokit.course.runner import execute_notebook

KERNELSPEC = {"name": "python3", "display_name": "Python 3", "language": "python"}


def run_notebook(notebook: Path, output: Path, parameters: Mapping[str, Any] | None = None, *,
                 cwd: Path | None = None, timeout: int = 120) -> nbformat.NotebookNode:
    """Execute ``notebook`` into ``output`` in a fresh kernel and return the executed notebook.

    Raises :class:`mammokit.course.runner.NotebookFailed` on the first failing cell (the cell's
    source and the error in the message). ``timeout`` bounds each cell, in seconds.
    """
    execute_notebook(notebook, output, dict(parameters or {}), cwd=cwd or notebook.parent, timeout=timeout)
    return nbformat.read(output, as_version=4)


def run_cells(cells: Sequence[str], folder: Path, *, timeout: int = 120) -> nbformat.NotebookNode:
    """Run ``cells`` (code sources) top to bottom in one fresh kernel whose working folder is
    ``folder``; return the executed notebook (``cells[i]`` is ``.cells[i]``)."""
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source) for source in cells])
    nb.metadata["kernelspec"] = dict(KERNELSPEC)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "cells.ipynb"
    nbformat.write(nb, path)
    return run_notebook(path, folder / "cells.out.ipynb", cwd=folder, timeout=timeout)


def text(cell: nbformat.NotebookNode) -> str:
    """Everything a cell printed (its stream outputs), joined."""
    return "".join(out.get("text", "") for out in cell.get("outputs", []) if out.output_type == "stream")
