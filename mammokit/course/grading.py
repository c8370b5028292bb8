"""Instructor side of the exercises: ``mammokit assign`` and ``mammokit grade``, both via otter-grader.

``assign`` builds the masters from the course's text sources (``notebooks/solutions/*.md``,
:mod:`mammokit.course.masters`), runs ``otter assign`` on each and writes the
student notebook to ``notebooks/`` (house layout checked, outputs and volatile ids removed) and
the autograder to ``dist/autograder/<stem>.zip``, with the judge added (``mk_judge/``: the
checks as of now, the questions, :mod:`mammokit.course.judge`). ``grade`` runs each submission
with otter's local runner (no Docker) in a subprocess — a submission's code never runs in the
instructor's Python — where the test cells only record the answers' outputs on inputs drawn from
a fresh seed; the judge then decides the points in another fresh process (see its docstring for
why a submission cannot change its own grade). Written: one row per submission × question, a
summary per submission (points, seconds, profile), totals per student, and the written answers.
"""
from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence

import nbformat
import pandas as pd

from mammokit import profiles
from mammokit.course import notebook as house
from mammokit.course import judge as judge_module
from mammokit.course.masters import BUILT, MasterError, Question, make_masters, read_source
from mammokit.course.masters import sources as source_files
from mammokit import exercises, paths
from mammokit.errors import MammokitError

STUDENTS = Path("notebooks")
AUTOGRADERS = Path("dist") / "autograder"
_STEM = re.compile(r'mk\.(?:params\.resolve|exercises\.Grader)\(\s*"(\d\d_[a-z_]+)"')
SCORE_COLUMNS = ["submission", "student", "notebook", "question", "points", "max_points", "feedback", "error"]
JUDGE = "mk_judge"  # the folder in each autograder zip that decides the points
PINNED = "PROFILE"  # parameters the grader sets whatever a submission says ($MAMMOKIT_PINNED)
_WRITTEN = re.compile(r"^\*\*Written question (\d+)\*\*[^.]*\.\s*(.*)", re.S)


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
    house.number_cells(nb, stem, "s")
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    nb.metadata.pop("widgets", None)
    nb.metadata["mammokit"] = {"notebook": stem}
    code = [c for c in nb.cells if c.cell_type == "code"]
    if len(code) < 3 or "parameters" not in code[0].metadata.get("tags", []) or code[1].source != house.setup_source(stem):
        raise GradingError(f"{stem}: otter assign did not keep the house cells (parameters, setup) first; is "
                           "otter-grader's version the one pyproject.toml asks for?")
    return nb


def assign_one(master: Path, students: Path, autograders: Path, timeout: float = 300, *,
               checks: Path | None = None, questions: Sequence[Question] = ()) -> float:
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
        add_judge(autograders / f"{stem}.zip", questions, checks)
    return time.perf_counter() - started


def add_judge(autograder: Path, questions: Sequence[Question], checks: Path | None = None) -> None:
    """Put the judge into an autograder zip: the judge script, this package's checks (the files
    of ``mammokit/exercises``, loaded by path at grading; the generated ``exNN`` modules from
    ``checks`` when given) and the notebook's questions."""
    package = Path(exercises.__file__).parent
    questions = [{"name": q.name, "points": q.points, "answer": q.answer} for q in questions]
    with zipfile.ZipFile(autograder, "a") as z:
        z.write(judge_module.__file__, f"{JUDGE}/judge.py")
        for path in sorted(package.glob("*.py")):
            generated = checks / path.name if checks and path.stem in exercises.NOTEBOOK_MODULES.values() else path
            z.write(generated, f"{JUDGE}/exercises/{path.name}")
        z.writestr(f"{JUDGE}/questions.json", json.dumps(questions, indent=1))


def assign(sources: Path | str | None = None, students: Path | str | None = None,
           autograders: Path | str | None = None, only: Iterable[str] | None = None, *,
           package: Path | str | None = None, masters: Path | str | None = None) -> dict[str, float]:
    """Build the course from its text sources (``notebooks/solutions/NN_name.md``): the exercise
    modules (into ``package``, default ``mammokit/exercises``) and masters (into ``masters``, default
    ``dist/masters``; :func:`mammokit.course.masters.make_masters`), then, through otter, the student
    notebooks and autograders (whose judge carries the checks just generated); {stem: seconds}."""
    root = paths.project_root()
    students = Path(students) if students else root / STUDENTS
    autograders = Path(autograders) if autograders else root / AUTOGRADERS
    wanted = sorted({Path(s).stem for s in only}) if only else None
    if wanted and set(wanted) - set(exercises.NOTEBOOK_MODULES):
        raise GradingError(f"--only {' '.join(wanted)}: the course notebooks are {', '.join(exercises.NOTEBOOK_MODULES)}")
    try:
        built = make_masters(sources, masters or root / BUILT, package=package, only=wanted)
    except MasterError as exc:
        raise GradingError(str(exc)) from None
    checks = Path(package) if package else Path(exercises.__file__).parent
    found = {path.stem: path for path in source_files(sources)}
    return {m.stem: assign_one(m, students, autograders, checks=checks, questions=read_source(found[m.stem]).questions)
            for m in built}


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


def _judge(autograder: Path, tmp: Path, record: Path, submission: Path, seed: int, timeout: float) -> dict:
    """Run the autograder's judge in a fresh Python: {"rows": [...], "profile": ...}."""
    folder = tmp / "judge"
    with zipfile.ZipFile(autograder) as z:
        members = [m for m in z.namelist() if m.startswith(f"{JUDGE}/") and ".." not in m]
        if f"{JUDGE}/judge.py" not in members:
            raise GradingError(f"{autograder} has no judge ({JUDGE}/); rebuild it with `mammokit assign`")
        z.extractall(folder, members)
    out = tmp / "verdicts.json"
    home = folder / JUDGE
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAMMOKIT_GRADING_")}
    try:
        proc = subprocess.run([sys.executable, str(home / "judge.py"), "--checks", str(home / "exercises"),
                               "--questions", str(home / "questions.json"), "--record", str(record),
                               "--submission", str(submission), "--seed", str(seed), "--out", str(out)],
                              cwd=tmp, capture_output=True, text=True, timeout=timeout, env=env)
    except subprocess.TimeoutExpired:
        raise GradingError(f"the judge ran over {timeout:.0f} s; raise --timeout") from None
    if proc.returncode != 0 or not out.exists():
        raise GradingError(f"the judge failed ({(proc.stderr or proc.stdout)[-800:].strip()})")
    return json.loads(out.read_text())


def grade_one(sub: Submission, autograder: Path, *, profile: str = profiles.QUICK_PROFILE,
              timeout: float = 900) -> list[dict]:
    """Run ``otter run`` on one submission in a fresh folder (its test cells record the answers'
    outputs), then the judge; one row per question, each with the run's ``profile``."""
    base = {"submission": str(sub.path), "student": sub.student, "notebook": sub.notebook}
    seed = secrets.randbelow(2 ** 31 - 1) + 1
    with tempfile.TemporaryDirectory(prefix="mk-grade-") as tmp:
        tmp = Path(tmp)
        work, out = tmp / "work", tmp / "out"
        work.mkdir()
        out.mkdir()
        copy = work / f"{sub.notebook}.ipynb"
        shutil.copyfile(sub.path, copy)
        record = tmp / "record.jsonl"
        env = {"MAMMOKIT_PROFILE": profile, "MAMMOKIT_PINNED": PINNED, "MAMMOKIT_RUN_DIR": str(tmp / "run"),
               "KERAS_HOME": str(tmp / "keras"), exercises.RECORD_ENV: str(record), exercises.SEED_ENV: str(seed)}
        try:
            proc = _otter(["run", "--no-logo", "-a", str(autograder.resolve()), "-o", str(out), str(copy)],
                          cwd=work, timeout=timeout, env=env)
            if not (out / "results.json").exists():
                raise GradingError(f"otter run wrote no results ({(proc.stderr or proc.stdout)[-500:].strip()})")
            verdicts = _judge(autograder, tmp, record, sub.path.resolve(), seed, timeout)
        except GradingError as exc:
            return [{**base, "question": None, "points": 0.0, "max_points": None, "feedback": "", "error": str(exc),
                     "profile": None}]
    return [{**base, **row, "error": "", "profile": verdicts.get("profile")} for row in verdicts["rows"]]


def written_answers(sub: Submission) -> list[tuple[str, str]]:
    """(question, answer) for each written question of a submission, in order ("" when unanswered)."""
    nb = nbformat.read(sub.path, as_version=4)
    found = []
    for i, cell in enumerate(nb.cells):
        match = _WRITTEN.match(cell.source) if cell.cell_type == "markdown" else None
        if match:
            nxt = nb.cells[i + 1].source.strip() if i + 1 < len(nb.cells) else ""
            found.append((match.group(2).strip(), "" if nxt in ("", "_Your answer here._") else nxt))
    return found


def written_markdown(subs: Sequence[Submission]) -> str:
    """The written answers of every submission, per student and notebook, for the instructor to read."""
    lines = ["# Written answers", ""]
    for sub in sorted(subs, key=lambda s: (s.student, s.notebook)):
        lines += [f"## {sub.student} · {sub.notebook}", f"_{sub.path}_", ""]
        answers = written_answers(sub)
        for n, (question, answer) in enumerate(answers, start=1):
            quoted = "\n".join(f"> {line}" for line in answer.splitlines()) if answer else "> _(no answer)_"
            lines += [f"**Question {n}.** {question}", "", quoted, ""]
        if not answers:
            lines += ["_(no written questions found in this notebook)_", ""]
    return "\n".join(lines)


def summary_path(out: Path) -> Path:
    return out.with_name(f"{out.stem}_summary{out.suffix}")


def totals_path(out: Path) -> Path:
    return out.with_name(f"{out.stem}_totals{out.suffix}")


def written_path(out: Path) -> Path:
    return out.with_name(f"{out.stem}_written.md")


def grade(inputs: Sequence[Path | str], out: Path | str, *, autograders: Path | str | None = None,
          overwrite: bool = False, profile: str = profiles.QUICK_PROFILE, timeout: float = 900, jobs: int = 1,
          quiet: bool = False) -> pd.DataFrame:
    """Grade submissions; writes ``out`` (submission × question), ``<out>_summary.csv`` (per
    submission: points, seconds, profile), ``<out>_totals.csv`` (per student) and
    ``<out>_written.md`` (the written answers, per student and notebook).

    ``jobs`` submissions are graded at once, each in its own otter process (a class of 30 on an
    8-core machine: ``jobs=4``); rows keep the submissions' order whatever finishes first.
    """
    out = Path(out)
    if isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1:
        raise GradingError(f"--jobs={jobs!r} must be a positive integer (submissions graded at once)")
    for target in (out, summary_path(out), totals_path(out), written_path(out)):
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
        for row in got:
            row["seconds"] = round(time.perf_counter() - started, 1)
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
    table = pd.DataFrame(rows, columns=[*SCORE_COLUMNS, "seconds", "profile"])
    scores = table[SCORE_COLUMNS]
    out.parent.mkdir(parents=True, exist_ok=True)
    scores.to_csv(out, index=False)
    summary = (table.groupby(["submission", "student", "notebook"], as_index=False, sort=False)
               .agg(points=("points", "sum"), max_points=("max_points", "sum"),
                    errors=("error", lambda e: int((e.fillna("") != "").sum())), seconds=("seconds", "max"),
                    profile=("profile", "first")))
    summary.to_csv(summary_path(out), index=False)
    totals = (summary.groupby("student", as_index=False)
              .agg(points=("points", "sum"), max_points=("max_points", "sum"), notebooks=("notebook", "count"),
                   errors=("errors", "sum"), seconds=("seconds", "sum")))
    totals.to_csv(totals_path(out), index=False)
    written_path(out).write_text(written_markdown(subs), encoding="utf-8")
    if not quiet:
        print(f"scores: {out}\nper submission: {summary_path(out)}\nper student: {totals_path(out)}\n"
              f"written answers: {written_path(out)}")
    return scores
