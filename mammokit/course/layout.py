"""The course output folder: the one module that knows what ``mammokit course --out`` and
``mammokit sweep --out`` leave, with typed records that are written and read back as JSON/CSV
(never by parsing the Markdown meant for people)::

    OUT/.mammokit-run             marks a folder the kit made: --overwrite replaces only those
    OUT/course.json               the run as a :class:`CourseRun`: profile, and per notebook its
                                  status, seconds and kernel peak RSS (read_course, write_course)
    OUT/summary.csv               long table notebook, metric, value (status, seconds, every metric)
    OUT/summary.md                the same for people; nothing reads it back
    OUT/notebooks/<nb>.ipynb      executed notebooks (executed_path); OUT/html/<nb>.html (html_path)
    OUT/metrics/, models/, ...    the notebooks' own run folder: RUN_DIR is OUT (mammokit.runs)
  a sweep:
    OUT/runs/<point>/             one RUN_DIR per grid point, its executed notebook inside (sweep_run_dir)
    OUT/sweep.csv, sweep.md, sweep.png
"""
from __future__ import annotations

import json
import shutil
from dataclasses import asdict, dataclass
from pathlib import Path

from mammokit.errors import ConfigError, DataError, MammokitError
from mammokit.files import check_output_dir, write_text

RUN_MARKER = ".mammokit-run"
"""Written into every output folder the kit makes: ``--overwrite`` only ever replaces those."""
COURSE = "course.json"
SUMMARY_CSV = "summary.csv"
SUMMARY_MD = "summary.md"
SWEEP_CSV, SWEEP_MD, SWEEP_PNG = "sweep.csv", "sweep.md", "sweep.png"
STATUSES = ("ok", "FAILED")


@dataclass(frozen=True)
class NotebookRun:
    """How one notebook of a course run ended (``status`` ``"ok"`` or ``"FAILED"``)."""

    notebook: str
    status: str
    seconds: float
    kernel_peak_rss_mb: float
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.status == "ok"


@dataclass(frozen=True)
class CourseRun:
    """A ``mammokit course`` run: its profile, output folder and notebooks in the order they ran."""

    profile: str
    folder: str
    notebooks: tuple[NotebookRun, ...]


# --- where things go ---------------------------------------------------------------------------------

def executed_path(out: Path | str, notebook: Path | str) -> Path:
    """``OUT/notebooks/<nb>.ipynb``: the executed copy of ``notebook``."""
    return Path(out) / "notebooks" / Path(notebook).name


def html_path(out: Path | str, stem: str) -> Path:
    """``OUT/html/<stem>.html``: the HTML copy for instructors without Jupyter."""
    return Path(out) / "html" / f"{Path(stem).stem}.html"


def sweep_run_dir(out: Path | str, point_name: str) -> Path:
    """``OUT/runs/<point>``: the RUN_DIR of one grid point of a sweep."""
    return Path(out) / "runs" / point_name


def prepare_out(out: Path, overwrite: bool) -> None:
    """Refuse to mix two runs in one folder unless told to replace the old one.

    ``--overwrite`` replaces only a folder the kit made for a run (it holds :data:`RUN_MARKER`);
    any other non-empty folder is refused, so a typo in ``--out`` never deletes a user's files.
    """
    check_output_dir(out, "--out")
    if out.exists() and any(out.iterdir()):
        if not overwrite:
            raise MammokitError(f"--out {out} already holds files; choose another --out or pass --overwrite")
        if not ((out / RUN_MARKER).is_file() or (out / SUMMARY_MD).is_file()):  # summary.md: older runs
            raise MammokitError(f"--out {out} holds files that are not a mammokit run (no {RUN_MARKER}); "
                                "--overwrite only replaces run folders. Choose another --out.")
        shutil.rmtree(out)
    out.mkdir(parents=True, exist_ok=True)
    write_text(out / RUN_MARKER, "a mammokit run folder; `--overwrite` may replace it\n")


# --- the course record -------------------------------------------------------------------------------

def write_course(out: Path | str, run: CourseRun) -> Path:
    """Write ``run`` as ``OUT/course.json`` (atomically); its path."""
    for nb in run.notebooks:
        if nb.status not in STATUSES:
            raise ConfigError(f"write_course: {nb.notebook} status={nb.status!r}; use one of {STATUSES}")
    path = Path(out) / COURSE
    write_text(path, json.dumps(asdict(run), indent=2))
    return path


def read_course(out: Path | str) -> CourseRun:
    """The :class:`CourseRun` a ``mammokit course --out`` folder holds, or a :class:`ConfigError`
    (not a course folder) / :class:`DataError` (its record damaged) saying what to do."""
    path = Path(out) / COURSE
    if not path.is_file():
        raise ConfigError(f"{path}: no course record; pass a `mammokit course --out` folder "
                          "(runs made before course.json existed: run the course again)")
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        notebooks = tuple(NotebookRun(**nb) for nb in raw["notebooks"])
        run = CourseRun(str(raw["profile"]), str(raw["folder"]), notebooks)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError) as exc:
        raise DataError(f"{path}: not a readable course record ({type(exc).__name__}: {exc}); "
                        "run the course again") from None
    if any(nb.status not in STATUSES for nb in run.notebooks):
        raise DataError(f"{path}: a notebook status is not one of {STATUSES}; run the course again")
    return run
