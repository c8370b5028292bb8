"""Run the course notebooks headless with papermill, as an instructor or CI would."""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

from mammokit.errors import MammokitError


class NotebookFailed(MammokitError):
    """A cell of an executed notebook raised; the message shows the cell and the error."""

    def __init__(self, notebook: Path, cell_index: int, source: str, error: str, output: Path):
        self.notebook, self.cell_index, self.source, self.error, self.output = (
            notebook, cell_index, source, error, output)
        shown = "\n".join("    " + line for line in source.splitlines()[:25])
        super().__init__(
            f"{notebook.name}: cell {cell_index} failed:\n{shown}\n  -> {error}\n"
            f"  (executed notebook with the full traceback: {output})"
        )


@dataclass(frozen=True)
class Executed:
    notebook: Path
    output: Path
    seconds: float


def execute_notebook(notebook: Path | str, output: Path | str, parameters: Mapping[str, Any],
                     *, cwd: Path | str | None = None, timeout: int | None = None,
                     env: Mapping[str, str] | None = None) -> Executed:
    """Execute ``notebook`` with papermill into ``output``; raise :class:`NotebookFailed` on a failing cell.

    ``env`` adds environment variables for the kernel (e.g. ``MAMMOKIT_PROFILE``).
    """
    import time

    import nbformat
    import papermill as pm

    notebook, output = Path(notebook), Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    saved = {k: os.environ.get(k) for k in (env or {})}
    os.environ.update(env or {})
    start = time.perf_counter()
    try:
        pm.execute_notebook(
            str(notebook), str(output), parameters=dict(parameters), kernel_name="python3",
            cwd=str(cwd or notebook.parent), progress_bar=False, execution_timeout=timeout,
        )
    except pm.PapermillExecutionError as exc:
        nb = nbformat.read(output, as_version=4)
        source = nb.cells[exc.cell_index].source if exc.cell_index < len(nb.cells) else ""
        raise NotebookFailed(notebook, exc.cell_index, source,
                             f"{exc.ename}: {exc.evalue}", output) from None
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    return Executed(notebook, output, time.perf_counter() - start)
