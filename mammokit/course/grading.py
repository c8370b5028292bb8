"""Instructor side of the exercises: ``mammokit assign`` and ``mammokit grade``, both via otter-grader.

``assign`` runs ``otter assign`` on each master in ``notebooks/solutions/`` and writes the
student notebook to ``notebooks/`` (house layout checked, outputs and volatile ids removed) and
the autograder to ``dist/autograder/<stem>.zip``. ``grade`` scores submissions with otter's
local runner (no Docker) in a subprocess per submission — a submission's code never runs in
the instructor's Python — and writes one row per submission × question plus a per-student summary.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence

import nbformat
import pandas as pd

from mammokit.course import notebook as house
from mammokit import paths
from mammokit.errors import MammokitError

MASTERS = Path("notebooks") / "solutions"
STUDENTS = Path("notebooks")
AUTOGRADERS = Path("dist") / "autograder"
_STEM = re.compile(r'mk\.(?:params\.resolve|exercises\.Grader)\(\s*"(\d\d_[a-z_]+)"')
SCORE_COLUMNS = ["submission", "student", "notebook", "question", "points", "max_points", "feedback", "error"]
_REASON = re.compile(r"(?:NotAnswered|WrongAnswer|\w*Error): (.*)")


class GradingError(MammokitError):
    """Assigning or grading cannot go on; the message names the file and the fix."""


# otter's local runner executes a submission with nbclient in the otter process: give that process
# the course runner's short-slice kernel polling, or a lost wake-up in a widget-heavy cell (notebook
# 02's explorer) leaves the grading idle until --timeout (seen here: 15 min for one notebook 02).
OTTER_MAIN = ("import sys; from mammokit.course.runner import poll_in_slices; poll_in_slices(); "
              "from otter.cli import cli; sys.argv[0] = 'otter'; cli()")


def _otter(args: Sequence[str], *, cwd: Path, timeout: float, env: dict | None = None) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-c", OTTER_MAIN, *args]
    try:
        return subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=timeout,
                              env={**os.environ, **(env or {})})
    except subprocess.TimeoutExpired:
        raise GradingError(f"`otter {' '.join(args)}` ran over {timeout:.0f} s; raise --timeout") from None


# --- assign ---------------------------------------------------------------------------------------

def clean_student(nb: nbformat.NotebookNode, stem: str) -> nbformat.NotebookNode:
    """House layout for a generated student notebook: no outputs, stable ids, layout checked."""
    for i, cell in enumerate(nb.cells):
        cell["id"] = f"{stem[:2]}-s{i:03d}"
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    nb.metadata.pop("widgets", None)
    nb.metadata["mammokit"] = {"notebook": stem}
    code = [c for c in nb.cells if c.cell_type == "code"]
    if len(code) < 2 or "parameters" not in code[0].metadata.get("tags", []):
        raise GradingError(f"{stem}: the first code cell of the student notebook is not the tagged parameters cell; "
                           "keep it first in the master")
    if code[1].source != house.setup_source(stem):
        raise GradingError(f"{stem}: the second code cell of the student notebook is not the setup cell; run "
                           f"mammokit.course.notebook.refresh_cells on notebooks/solutions/{stem}.ipynb")
    return nb


def assign_one(master: Path, students: Path, autograders: Path, timeout: float = 300) -> float:
    """Run ``otter assign`` on one master; returns seconds taken."""
    started = time.perf_counter()
    stem = master.stem
    with tempfile.TemporaryDirectory(prefix=f"mk-assign-{stem}-") as tmp:
        out = Path(tmp) / "dist"
        proc = _otter(["assign", "--no-pdfs", "--no-run-tests", str(master.resolve()), str(out)],
                      cwd=Path(tmp), timeout=timeout)
        student = out / "student" / master.name
        zips = sorted((out / "autograder").glob("*.zip"))
        if proc.returncode != 0 or not student.exists() or not zips:
            raise GradingError(f"otter assign failed on {master}:\n{(proc.stderr or proc.stdout)[-2000:]}")
        nb = clean_student(nbformat.read(student, as_version=4), stem)
        students.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, students / master.name)
        autograders.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(zips[-1], autograders / f"{stem}.zip")
    return time.perf_counter() - started


def assign(masters: Path | str | None = None, students: Path | str | None = None,
           autograders: Path | str | None = None, only: Iterable[str] | None = None) -> dict[str, float]:
    """Regenerate student notebooks and autograders from the masters; {stem: seconds}."""
    root = paths.project_root()
    masters = Path(masters) if masters else root / MASTERS
    students = Path(students) if students else root / STUDENTS
    autograders = Path(autograders) if autograders else root / AUTOGRADERS
    found = sorted(masters.glob("[0-9][0-9]_*.ipynb"))
    if only:
        wanted = {Path(s).stem for s in only}
        found = [m for m in found if m.stem in wanted]
    if not found:
        raise GradingError(f"{masters}: no master notebooks (NN_name.ipynb). Build them with "
                           "`mammokit masters notebooks notebooks/solutions`")
    return {m.stem: assign_one(m, students, autograders) for m in found}


def student_cells(nb: nbformat.NotebookNode) -> list[tuple[str, str, tuple[str, ...]]]:
    """What the sync test compares: cell type, source and tags (not ids, outputs or otter's metadata)."""
    return [(c.cell_type, c.source, tuple(c.metadata.get("tags", []))) for c in nb.cells]


# --- grade ----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Submission:
    path: Path
    student: str
    notebook: str


def course_stem(path: Path) -> str:
    """The course notebook a submission is (``01_data``…), from its metadata or setup cell."""
    try:
        nb = nbformat.read(path, as_version=4)
    except Exception as exc:  # noqa: BLE001 - nbformat raises several kinds on a damaged file
        raise GradingError(f"{path}: not a readable notebook ({type(exc).__name__}: {str(exc)[:200]}); ask the "
                           "student to download it again (File → Download .ipynb)") from None
    stem = nb.metadata.get("mammokit", {}).get("notebook")
    if not stem:
        match = next((m for c in nb.cells if c.cell_type == "code" for m in [_STEM.search(c.source)] if m), None)
        stem = match.group(1) if match else None
    if not stem:
        raise GradingError(f"{path}: not a mammokit course notebook (no setup cell naming one); remove it from "
                           "the submissions")
    return stem


def _student_name(path: Path, root: Path | None, stem: str) -> str:
    if root is not None and path.parent != root:
        return path.relative_to(root).parts[0]  # one folder per student
    name = path.stem.replace(stem, "").strip(" _-.()") or path.parent.name
    return name or path.stem


def collect(inputs: Sequence[Path | str]) -> list[Submission]:
    """Every submission among files and folders (recursively, checkpoints skipped); errors name
    every bad file at once, before anything is graded."""
    found: list[tuple[Path, Path | None]] = []
    for item in map(Path, inputs):
        if item.is_dir():
            found += [(p, item) for p in sorted(item.rglob("*.ipynb")) if ".ipynb_checkpoints" not in p.parts]
        elif item.is_file():
            found.append((item, None))
        else:
            raise GradingError(f"{item}: no such file or folder")
    if not found:
        raise GradingError(f"no .ipynb files in {', '.join(map(str, inputs))}")
    out, problems = [], []
    for path, root in found:
        try:
            stem = course_stem(path)
            out.append(Submission(path, _student_name(path, root, stem), stem))
        except GradingError as exc:
            problems.append(str(exc))
    if problems:
        raise GradingError("cannot grade these files:\n  " + "\n  ".join(problems))
    return out


def grade_one(sub: Submission, autograder: Path, *, profile: str = "smoke", timeout: float = 900) -> list[dict]:
    """Run ``otter run`` on one submission in a fresh folder; one row per question."""
    base = {"submission": str(sub.path), "student": sub.student, "notebook": sub.notebook}
    with tempfile.TemporaryDirectory(prefix="mk-grade-") as tmp:
        tmp = Path(tmp)
        work, out = tmp / "work", tmp / "out"
        work.mkdir()
        out.mkdir()
        copy = work / f"{sub.notebook}.ipynb"
        shutil.copyfile(sub.path, copy)
        env = {"MAMMOKIT_PROFILE": profile, "MAMMOKIT_RUN_DIR": str(tmp / "run"), "KERAS_HOME": str(tmp / "keras")}
        try:
            proc = _otter(["run", "--no-logo", "-a", str(autograder.resolve()), "-o", str(out), str(copy)],
                          cwd=work, timeout=timeout, env=env)
            results = out / "results.json"
            if not results.exists():
                raise GradingError(f"otter run wrote no results ({(proc.stderr or proc.stdout)[-500:].strip()})")
            tests = json.loads(results.read_text())["tests"]
        except GradingError as exc:
            return [{**base, "question": None, "points": 0.0, "max_points": None, "feedback": "", "error": str(exc)}]
    rows = []
    for test in tests:
        if "max_score" not in test:  # otter's "Public Tests" summary row
            continue
        reasons = _REASON.findall(test.get("output") or "")
        rows.append({**base, "question": test["name"], "points": float(test.get("score") or 0.0),
                     "max_points": float(test["max_score"]), "feedback": reasons[-1].strip() if reasons else "",
                     "error": ""})
    return rows


def summary_path(out: Path) -> Path:
    return out.with_name(f"{out.stem}_summary{out.suffix}")


def grade(inputs: Sequence[Path | str], out: Path | str, *, autograders: Path | str | None = None,
          overwrite: bool = False, profile: str = "smoke", timeout: float = 900, jobs: int = 1,
          quiet: bool = False) -> pd.DataFrame:
    """Grade submissions; writes ``out`` (submission × question) and ``<out>_summary.csv`` (per student).

    ``jobs`` submissions are graded at once, each in its own otter process (a class of 30 on an
    8-core machine: ``jobs=4``); rows keep the submissions' order whatever finishes first.
    """
    out = Path(out)
    if isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1:
        raise GradingError(f"--jobs={jobs!r} must be a positive integer (submissions graded at once)")
    for target in (out, summary_path(out)):
        if target.exists() and not overwrite:
            raise GradingError(f"{target} exists; pass --overwrite to replace it, or choose another --out")
    autograders = Path(autograders) if autograders else paths.project_root() / AUTOGRADERS
    subs = collect(inputs)
    missing = sorted({s.notebook for s in subs if not (autograders / f"{s.notebook}.zip").exists()})
    if missing:
        raise GradingError(f"no autograder for {', '.join(missing)} in {autograders}; run `mammokit assign` first "
                           "(or pass --autograders FOLDER)")
    def one(sub: Submission) -> list[dict]:
        started = time.perf_counter()
        got = grade_one(sub, autograders / f"{sub.notebook}.zip", profile=profile, timeout=timeout)
        if not quiet:
            score = sum(r["points"] for r in got)
            total = sum(r["max_points"] or 0 for r in got)
            note = f" ERROR: {got[0]['error'][:120]}" if got and got[0]["error"] else ""
            print(f"{sub.path}: {score:g}/{total:g} ({time.perf_counter() - started:.0f} s){note}", flush=True)
        return got

    if not quiet:
        print(f"grading {len(subs)} submission(s), {min(jobs, len(subs))} at a time", flush=True)
    with ThreadPoolExecutor(max_workers=jobs) as pool:  # threads only wait: each grading is a subprocess
        rows = [row for got in pool.map(one, subs) for row in got]
    scores = pd.DataFrame(rows, columns=SCORE_COLUMNS)
    out.parent.mkdir(parents=True, exist_ok=True)
    scores.to_csv(out, index=False)
    summary = (scores.groupby(["student", "notebook"], as_index=False)
               .agg(points=("points", "sum"), max_points=("max_points", "sum"),
                    errors=("error", lambda e: int((e.fillna("") != "").sum()))))
    summary.to_csv(summary_path(out), index=False)
    if not quiet:
        print(f"scores: {out}\nper student: {summary_path(out)}")
    return scores
