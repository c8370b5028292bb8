"""Run the course notebooks headless with papermill, as an instructor or CI would."""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

from mammokit import profiles
from mammokit.errors import MammokitError
from mammokit.course.layout import executed_path, html_path, prepare_out
from mammokit.files import write_text


class NotebookFailed(MammokitError):
    """A cell of an executed notebook raised; the message shows the cell and the error."""

    def __init__(self, notebook: Path, cell_index: int, source: str, error: str, output: Path):
        self.notebook, self.cell_index, self.source, self.error, self.output = (
            notebook, cell_index, source, error, output)
        shown = "\n".join("    " + line for line in source.splitlines()[:25])
        super().__init__(
            f"{notebook.name}: code cell {cell_index} failed:\n{shown}\n  -> {error}\n"
            f"  (executed notebook with the full traceback: {output})"
        )


def cell_timeout(parameters: Mapping[str, Any]) -> int:
    """The cell timeout for a run with these parameters (their PROFILE, else $MAMMOKIT_PROFILE):
    the profile's ``cell_timeout_s`` in :data:`mammokit.profiles.TABLE`. A stalled cell (a hung
    download, a deadlocked input pipeline) then ends the run with a message naming notebook and
    cell instead of hanging it. Instructors raise it with --cell-timeout."""
    limits = profiles.by_profile("cell_timeout_s")
    profile = parameters.get("PROFILE") or os.environ.get("MAMMOKIT_PROFILE") or profiles.DEFAULT_PROFILE
    return limits.get(str(profile), max(limits.values()))


POLL_SLICE_S = 0.5


def poll_in_slices() -> None:
    """Make the notebook client poll the kernel's sockets in short slices (idempotent).

    nbclient answers output captured by an ``ipywidgets.Output`` (``with out: display(...)``)
    with a message on the kernel's shell socket while it awaits the cell's reply on that same
    socket; pyzmq's sockets wake their poller on an edge, and that send can consume the edge of
    a reply that has just arrived, so the client sits idle until the poll's timeout — the whole
    cell timeout, or forever — although the kernel has finished (nbclient issue #312). The kit's
    own widgets no longer capture output that way (see ``PreprocessExplorer.update``), so plain
    papermill runs them; this guard stays for a student's own Output widget: polling again every
    :data:`POLL_SLICE_S` seconds looks at the socket afresh, so a lost wake-up costs half a second.
    """
    from queue import Empty
    from time import monotonic

    from jupyter_client.channels import AsyncZMQSocketChannel

    if getattr(AsyncZMQSocketChannel.get_msg, "polls_in_slices", False):
        return
    whole = AsyncZMQSocketChannel.get_msg

    async def get_msg(self, timeout: float | None = None) -> dict[str, Any]:
        deadline = None if timeout is None else monotonic() + timeout
        while True:
            left = POLL_SLICE_S if deadline is None else max(0.0, deadline - monotonic())
            try:
                return await whole(self, timeout=min(POLL_SLICE_S, left))
            except Empty:
                if deadline is not None and monotonic() >= deadline:
                    raise

    get_msg.polls_in_slices = True
    AsyncZMQSocketChannel.get_msg = get_msg


@dataclass(frozen=True)
class Executed:
    notebook: Path
    output: Path
    seconds: float


def execute_notebook(notebook: Path | str, output: Path | str, parameters: Mapping[str, Any],
                     *, cwd: Path | str | None = None, timeout: int | None = None,
                     env: Mapping[str, str] | None = None) -> Executed:
    """Execute ``notebook`` with papermill into ``output``; raise :class:`NotebookFailed` on a failing cell.

    ``timeout`` bounds each cell in seconds (default: :func:`cell_timeout` of the profile); a
    cell that runs longer is interrupted and reported like a failing one. ``env`` adds
    environment variables for the kernel (e.g. ``MAMMOKIT_PROFILE``).
    """
    import time

    import nbformat
    import papermill as pm
    from nbclient.exceptions import CellTimeoutError

    notebook, output = Path(notebook), Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    saved = {k: os.environ.get(k) for k in (env or {})}
    os.environ.update(env or {})
    timeout = int(timeout or cell_timeout(parameters))
    poll_in_slices()
    start = time.perf_counter()
    try:
        pm.execute_notebook(
            str(notebook), str(output), parameters=dict(parameters), kernel_name="python3",
            cwd=str(cwd or notebook.parent), progress_bar=False, execution_timeout=timeout,
        )
    except (pm.PapermillExecutionError, CellTimeoutError) as exc:
        nb = nbformat.read(output, as_version=4)  # papermill adds a banner cell: find the error
        code = [c for c in nb.cells if c.cell_type == "code"]
        failed = [i for i, c in enumerate(code) if any(o.output_type == "error" for o in c.outputs)]
        index = failed[0] if failed else getattr(exc, "cell_index", len(code) - 1)
        source = code[index].source if failed else ""
        if isinstance(exc, CellTimeoutError):
            elapsed = time.perf_counter() - start
            error = (f"timed out: the cell ran longer than {timeout} s ({elapsed:.0f} s into the notebook); "
                     "raise the limit with --cell-timeout if it is just slow")
        else:
            error = f"{exc.ename}: {exc.evalue}"
        raise NotebookFailed(notebook, index, source, error, output) from None
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    return Executed(notebook, output, time.perf_counter() - start)


# --- one notebook in its own process, so its kernel's peak memory can be read exactly ---------

@dataclass(frozen=True)
class Outcome:
    """How one headless notebook run ended: seconds, the kernel's peak RSS, and any failure."""

    notebook: str
    output: str
    seconds: float
    peak_rss_mb: float
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


def run_isolated(notebook: Path | str, output: Path | str, parameters: Mapping[str, Any],
                 *, cwd: Path | str | None = None, timeout: int | None = None) -> Outcome:
    """Execute one notebook in a child process; its kernel is that child's child.

    ``getrusage(RUSAGE_CHILDREN)`` in the child then gives the kernel's peak RSS, which the
    course summary reports so instructors know which profile fits Binder's ~2 GiB.
    """
    import json
    import subprocess
    import sys
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        result = Path(tmp) / "result.json"
        job = {"notebook": str(notebook), "output": str(output), "parameters": dict(parameters),
               "cwd": str(cwd) if cwd else None, "result": str(result), "timeout": timeout}
        proc = subprocess.run([sys.executable, "-m", "mammokit.course.runner", json.dumps(job)],
                              capture_output=True, text=True)
        if not result.exists():
            tail = (proc.stderr or proc.stdout)[-2000:]
            return Outcome(Path(notebook).stem, str(output), 0.0, 0.0,
                           f"the notebook runner crashed (exit {proc.returncode}):\n{tail}")
        return Outcome(**json.loads(result.read_text()))


def _worker(job: dict[str, Any]) -> None:
    import json
    import resource
    import time

    start = time.perf_counter()
    error = None
    try:
        execute_notebook(job["notebook"], job["output"], job["parameters"], cwd=job["cwd"],
                         timeout=job.get("timeout"))
    except MammokitError as exc:
        error = str(exc)
    except Exception as exc:  # papermill/nbclient infrastructure failures (kernel died, ...)
        error = f"{type(exc).__name__}: {exc}"
    peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    outcome = Outcome(Path(job["notebook"]).stem, job["output"], round(time.perf_counter() - start, 1),
                      round(peak_kb / 1024, 1), error)
    Path(job["result"]).write_text(json.dumps(outcome.__dict__))


# --- the course --------------------------------------------------------------------------------

def course_notebooks(only: list[str] | None = None) -> list[Path]:
    """The numbered notebooks in order, or the ones named in ``only`` (stems or file names)."""
    from mammokit import paths

    found = sorted(paths.notebooks_dir().glob("[0-9][0-9]_*.ipynb"))
    if not found:
        raise MammokitError(f"no course notebooks in {paths.notebooks_dir()}: run from a mammokit checkout")
    if only is None:
        return found
    by_stem = {nb.stem: nb for nb in found}
    wanted = [Path(name).stem for name in only]
    missing = [w for w in wanted if w not in by_stem]
    if missing:
        raise MammokitError(f"unknown notebook(s) {', '.join(missing)}; available: {', '.join(by_stem)}")
    return [by_stem[w] for w in wanted]


def overrides_for(notebook: str, parameters: Mapping[str, Any]) -> dict[str, Any]:
    """The overrides this notebook takes (a course-wide ``-p`` applies where the name exists)."""
    from mammokit.course import params

    names = {p.name for p in params.spec(notebook)}
    return {k: v for k, v in parameters.items() if k in names}


def check_overrides(notebooks: list[Path], parameters: Mapping[str, Any]) -> None:
    from mammokit.course import params

    known = {p.name for nb in notebooks for p in params.spec(nb.stem)}
    unknown = sorted(set(parameters) - known)
    if unknown:
        raise MammokitError(f"no notebook takes parameter(s) {', '.join(unknown)}; "
                            f"see `mammokit params <notebook>` (known: {', '.join(sorted(known))})")
    for key in ("PROFILE", "RUN_DIR"):
        if key in parameters:
            raise MammokitError(f"-p {key} is set by the course itself; use --profile / --out")


def check_values(notebooks: list[Path], parameters: Mapping[str, Any]) -> None:
    """Every ``-p`` value checked against every notebook that takes it, before the first one starts
    (a bad ``-p EPOCHS -1`` fails in a second, not after minutes in notebook 04)."""
    from mammokit.course import params

    for nb in notebooks:
        for name, value in overrides_for(nb.stem, parameters).items():
            params.check_value(nb.stem, name, value, source=f"-p {name}")


def export_html(executed: Path, html: Path) -> None:
    """An HTML copy of an executed notebook, for instructors without Jupyter."""
    from nbconvert import HTMLExporter

    body, _ = HTMLExporter().from_filename(str(executed))
    write_text(html, body)


def run_course(profile: str = profiles.QUICK_PROFILE, out: Path | str | None = None,
               parameters: Mapping[str, Any] | None = None, overwrite: bool = False,
               notebooks: list[str] | None = None, cell_timeout: int | None = None) -> list[Outcome]:
    """Run the notebooks in order into ``out``; stop at the first failing one.

    ``cell_timeout`` (seconds) fails a cell that runs longer; default: the profile's.
    Writes ``notebooks/`` (executed), ``html/``, each notebook's artefacts (models, tables,
    metrics) and the summary (``course.json``, ``summary.csv``, ``summary.md``: :mod:`mammokit.course.layout`). Raises :class:`MammokitError` naming the
    failing cell after writing the summary of what ran.
    """
    from mammokit import paths
    from mammokit.course.summary import write_summary

    from mammokit.course.params import absolute_paths

    parameters = absolute_paths(parameters or {})
    chosen = course_notebooks(notebooks)
    check_overrides(chosen, parameters)
    check_values(chosen, parameters)
    out = Path(out or paths.runs_dir() / profile).resolve()
    prepare_out(out, overwrite)
    print(f"mammokit course: profile {profile}, {len(chosen)} notebooks -> {out}", flush=True)
    outcomes: list[Outcome] = []
    for i, nb in enumerate(chosen, 1):
        print(f"[{i}/{len(chosen)}] {nb.stem} ...", end=" ", flush=True)
        executed = executed_path(out, nb)
        run_params = {"PROFILE": profile, "RUN_DIR": str(out), **overrides_for(nb.stem, parameters)}
        outcome = run_isolated(nb, executed, run_params, cwd=nb.parent, timeout=cell_timeout)
        outcomes.append(outcome)
        if executed.exists():
            export_html(executed, html_path(out, nb.stem))
        if not outcome.ok:
            print(f"FAILED after {outcome.seconds:.0f} s", flush=True)
            write_summary(out, profile, outcomes)
            raise MammokitError(outcome.error)
        print(f"ok ({outcome.seconds:.0f} s, kernel peak {outcome.peak_rss_mb:.0f} MB)", flush=True)
    summary = write_summary(out, profile, outcomes)
    print(f"summary: {summary}", flush=True)
    return outcomes


if __name__ == "__main__":
    import json
    import sys

    _worker(json.loads(sys.argv[1]))
