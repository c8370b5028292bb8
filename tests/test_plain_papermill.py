"""Notebook 02's explorer cell under plain papermill, the way an instructor runs it.

The explorer once drew its picture inside ``with output:``; nbclient (under papermill and
``nbconvert --execute``) mirrors such captured output back to the kernel on the shell socket
while it waits on that socket for the cell's reply, and with pyzmq's edge-triggered sockets that
send could swallow the reply's wake-up: about one run in four then waited forever at the
explorer cell (see ``mammokit.widgets.PreprocessExplorer.update``). This runs the notebook up to
and including that cell ten times in a row through the ``papermill`` command itself — none of
the kit's own runner — each with a deadline, so a stall fails the test instead of hanging it.
"""
from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest

from test_browser import NOTEBOOK, _up_to_the_explorer

pytestmark = pytest.mark.slow

RUNS = 10
DEADLINE_S = 120  # a run takes ~10 s on 2 idle cores; a stalled one never ends


def test_plain_papermill_never_stalls_at_the_explorer(tmp_path: Path) -> None:
    cut = tmp_path / NOTEBOOK.name
    nbformat.write(_up_to_the_explorer(nbformat.read(NOTEBOOK, as_version=4)), cut)
    papermill = Path(sys.executable).parent / "papermill"
    seconds = []
    for run in range(RUNS):
        out = tmp_path / f"run{run}.ipynb"
        start = time.monotonic()
        try:
            done = subprocess.run(
                [str(papermill), str(cut), str(out), "-p", "PROFILE", "smoke", "-p", "RUN_DIR", str(tmp_path / "run"),
                 "--cwd", str(NOTEBOOK.parent), "--no-progress-bar"],
                capture_output=True, text=True, timeout=DEADLINE_S)
        except subprocess.TimeoutExpired:
            pytest.fail(f"plain papermill run {run + 1} of {RUNS} stalled: no end within {DEADLINE_S} s "
                        f"(earlier runs took {', '.join(f'{s:.0f}' for s in seconds) or '-'} s)")
        assert done.returncode == 0, done.stderr[-3000:]
        seconds.append(time.monotonic() - start)
        explorer = nbformat.read(out, as_version=4).cells[-1]
        assert not any(o.output_type == "error" for o in explorer.outputs)
    picture = [state for state in nbformat.read(out, as_version=4).metadata.widgets[
        "application/vnd.jupyter.widget-state+json"]["state"].values()
        if state["model_name"] == "OutputModel"]
    assert picture and picture[0]["state"]["outputs"][0]["data"]["image/jpeg"], "the explorer's picture is in its widget state"
