"""Notebook 02's explorer cell under plain papermill, the way an instructor runs it.

The explorer once drew its picture inside ``with output:``; nbclient (under papermill and
``nbconvert --execute``) mirrors such captured output back to the kernel on the shell socket
while it waits on that socket for the cell's reply, and with pyzmq's edge-triggered sockets that
send could swallow the reply's wake-up: about one explorer cell in four then waited forever (see
``mammokit.widgets.PreprocessExplorer.update``). The race is per executed cell, so this runs
notebook 02 up to its explorer cell with that cell repeated ten times, once, through the
``papermill`` command itself — none of the kit's own runner, which polls around the race — with
a deadline, so a stall fails the test instead of hanging it. (It used to run the whole cut
notebook ten times: nine more kernels and nine more passes over 02's films, for the same ten
explorer cells.)
"""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from test_browser import NOTEBOOK, _up_to_the_explorer

pytestmark = pytest.mark.slow

RUNS = 10  # explorer cells executed in a row
DEADLINE_S = 300  # the whole run takes ~15 s on 2 idle cores, ~45 s on 2 busy ones; a stalled one never ends


def test_plain_papermill_never_stalls_at_the_explorer(tmp_path: Path) -> None:
    nb = _up_to_the_explorer(nbformat.read(NOTEBOOK, as_version=4))
    explorer = nb.cells[-1].source
    nb.cells += [nbformat.v4.new_code_cell(explorer) for _ in range(RUNS - 1)]
    cut, out = tmp_path / NOTEBOOK.name, tmp_path / "out.ipynb"
    nbformat.write(nb, cut)
    papermill = Path(sys.executable).parent / "papermill"  # the command itself: the point of this test
    try:
        done = subprocess.run(
            [str(papermill), str(cut), str(out), "-p", "PROFILE", "smoke", "-p", "RUN_DIR", str(tmp_path / "run"),
             "--cwd", str(NOTEBOOK.parent), "--no-progress-bar", "--log-output"],
            capture_output=True, text=True, timeout=DEADLINE_S)
    except subprocess.TimeoutExpired as stalled:
        log = (stalled.stderr or b"").decode(errors="replace") if isinstance(stalled.stderr, bytes) else stalled.stderr
        started = (log or "").count("Executing Cell")
        pytest.fail(f"plain papermill stalled: no end within {DEADLINE_S} s (it had started {started} cells; "
                    f"the explorer cells are the last {RUNS})")
    assert done.returncode == 0, done.stderr[-3000:]
    ran = nbformat.read(out, as_version=4)
    explorers = [c for c in ran.cells if c.cell_type == "code" and c.source == explorer]
    assert len(explorers) == RUNS
    for i, cell in enumerate(explorers):
        assert cell.metadata.papermill.status == "completed", f"explorer cell {i + 1} of {RUNS} did not complete"
        assert not any(o.output_type == "error" for o in cell.outputs), f"explorer cell {i + 1} of {RUNS} failed"
    pictures = [state for state in ran.metadata.widgets["application/vnd.jupyter.widget-state+json"]["state"].values()
                if state["model_name"] == "OutputModel"]
    assert len(pictures) >= RUNS and all(p["state"]["outputs"][0]["data"]["image/jpeg"] for p in pictures[:RUNS]), \
        "each explorer's picture is in its widget state"
