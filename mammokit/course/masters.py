"""The course as text: each notebook's one source is ``notebooks/solutions/NN_name.md``.

A source is MyST Markdown as jupytext writes it (open it in JupyterLab as a notebook, or in any
editor): the lesson's prose and code, and each exercise inline where it is taught —

* a markdown cell whose metadata names the exercise (``+++ {"exercise": "q01_side", "answer":
  "side"}``, optional ``"fallback"``, ``"kind": "predict"``, ``"points"``, ``"forbids": [[dotted
  name, why], ...]``) holds the prompt;
* the next code cell is the solution, otter's ``# BEGIN SOLUTION``/``# SOLUTION`` markers inside;
* code cells tagged ``check`` hold the Python that checks answers (``check_<suffix>`` for exercise
  ``qNN_<suffix>``, and any helpers): they never reach a notebook; they become the package's
  module ``mammokit/exercises/exNN_name.py``, which students' kernels import for instant feedback;
* a markdown cell with ``{"written": true}`` is a written question for the instructor.

From the sources this module writes (``mammokit masters``, or ``mammokit assign`` which then runs
otter): the exercise modules, and otter master notebooks with the house cells added — the
badge, the parameters and setup cells (from :mod:`mammokit.course.params`), the grader cell, otter's
raw question cells and a test cell ``mk.exercises.record("<name>")`` per exercise (at grading it
records the answer's outputs for :mod:`mammokit.course.judge`, which decides). The solutions
stay out of the package: only the ``check`` cells enter it.
"""
from __future__ import annotations

import ast
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from mammokit import exercises, paths
from mammokit.course import notebook as house
from mammokit.errors import MammokitError
from mammokit.files import write_text

SOURCES = Path("notebooks") / "solutions"
BUILT = Path("dist") / "masters"
PACKAGE = Path("mammokit") / "exercises"
ASSIGNMENT_CONFIG = "\n".join([
    "# ASSIGNMENT CONFIG",
    "init_cell: false       # the grader comes from mammokit (third code cell), not otter.Notebook",
    "check_all_cell: false",
    "export_cell: false     # students hand in the .ipynb itself",
    "run_tests: false       # `mammokit grade` on the masters is the test",
    "solutions_pdf: false",
])
QUESTION_MARK = "# BEGIN QUESTION"
WRITTEN_MARK = "**Written question {i}** (your instructor reads it; not auto-graded). "
CHECK_TAG = "check"
_EXERCISE_KEYS = {"exercise", "answer", "fallback", "kind", "points", "forbids"}


class MasterError(MammokitError):
    """A course source cannot become a master; the message names the file, the cell and the fix."""


@dataclass(frozen=True)
class Question:
    """One exercise as its source declares it."""

    name: str
    answer: str
    solution: str
    fallback: str | None = None
    kind: str = "code"
    points: int = 1
    forbids: tuple[tuple[str, str], ...] = ()


@dataclass
class Source:
    """A parsed course source: its cells (check cells removed), questions and check code."""

    path: Path
    cells: list = field(default_factory=list)
    questions: list[Question] = field(default_factory=list)
    written: list[str] = field(default_factory=list)
    checks: list[str] = field(default_factory=list)

    @property
    def stem(self) -> str:
        return self.path.stem


def grader_source(stem: str) -> str:
    return (f'grader = mk.exercises.Grader("{stem}")  # grader.check("...") checks an exercise; '
            "it never stops the notebook")


def check_cell_source(name: str) -> str:
    return f'mk.exercises.record("{name}")'


def _where(path: Path, i: int, cell) -> str:
    first = cell.source.strip().splitlines()[0][:60] if cell.source.strip() else "(empty)"
    return f"{path}, cell {i + 1} ({first!r})"


def read_source(path: Path | str) -> Source:
    """Parse ``notebooks/solutions/NN_name.md``; a malformed exercise is named by file and cell."""
    import jupytext

    path = Path(path)
    if path.stem not in exercises.NOTEBOOK_MODULES:
        raise MasterError(f"{path}: not a course source; they are named {', '.join(exercises.NOTEBOOK_MODULES)} (.md)")
    try:
        nb = jupytext.read(path, fmt="md:myst")
    except (OSError, ValueError) as exc:
        raise MasterError(f"{path}: cannot read it as MyST Markdown ({exc})") from None
    src = Source(path)
    cells = list(nb.cells)
    i = 0
    while i < len(cells):
        cell = cells[i]
        meta = dict(cell.metadata)
        if cell.cell_type == "code" and CHECK_TAG in meta.get("tags", []):
            src.checks.append(cell.source)
        elif cell.cell_type == "markdown" and "exercise" in meta:
            unknown = set(meta) - _EXERCISE_KEYS
            if unknown or "answer" not in meta:
                raise MasterError(f"{_where(path, i, cell)}: an exercise cell needs \"answer\" and may have "
                                  f"{', '.join(sorted(_EXERCISE_KEYS - {'exercise', 'answer'}))}; "
                                  f"got {', '.join(sorted(meta))}")
            j = next((k for k in range(i + 1, len(cells)) if cells[k].cell_type == "code"
                      and CHECK_TAG not in cells[k].metadata.get("tags", [])), None)
            if j is None or j != i + 1:
                raise MasterError(f"{_where(path, i, cell)}: exercise {meta['exercise']} needs its solution "
                                  "code cell right after its prompt")
            forbids = meta.get("forbids", [])
            if not (isinstance(forbids, list) and all(isinstance(f, list) and len(f) == 2 for f in forbids)):
                raise MasterError(f"{_where(path, i, cell)}: \"forbids\" must be a list of [dotted name, why] pairs")
            src.questions.append(Question(meta["exercise"], meta["answer"], cells[j].source, meta.get("fallback"),
                                          meta.get("kind", "code"), int(meta.get("points", 1)),
                                          tuple((str(n), str(why)) for n, why in forbids)))
            src.cells.append(cell)
        elif cell.cell_type == "markdown" and meta.get("written"):
            src.written.append(cell.source)
            src.cells.append(cell)
        else:
            src.cells.append(cell)
        i += 1
    if not src.cells or src.cells[0].cell_type != "markdown":
        raise MasterError(f"{path}: the first cell must be the notebook's title (markdown)")
    return src


def _header_cells(src: Source) -> list:
    title, _, rest = src.cells[0].source.partition("\n")
    return [
        nbformat.v4.new_markdown_cell(f"{title}\n\n{house.colab_badge(src.stem)}\n{rest}"),
        nbformat.v4.new_code_cell(house.parameters_source(src.stem), metadata={"tags": ["parameters"]}),
        nbformat.v4.new_code_cell(house.setup_source(src.stem)),
        nbformat.v4.new_code_cell(grader_source(src.stem)),
    ]


def _question_cells(q: Question, prompt: str) -> list:
    raw = nbformat.v4.new_raw_cell
    return [raw(f"{QUESTION_MARK}\nname: {q.name}\npoints: {q.points}"), nbformat.v4.new_markdown_cell(prompt),
            raw("# BEGIN SOLUTION"), nbformat.v4.new_code_cell(q.solution), raw("# END SOLUTION"),
            raw("# BEGIN TESTS"), nbformat.v4.new_code_cell(check_cell_source(q.name)), raw("# END TESTS"),
            raw("# END QUESTION")]


def _not_accepted(q: Question) -> str:
    """The sentence under a prompt that names the shortcuts its check refuses (from ``forbids``)."""
    if not q.forbids:
        return ""
    names = ", ".join(f"`{name}`" for name in dict.fromkeys(name for name, _ in q.forbids))
    return f"\n\n*Not accepted here (write this step yourself): {names}.*"


def master_notebook(src: Source) -> nbformat.NotebookNode:
    """The otter master of a parsed source (house cells, question cells, written answers)."""
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    cells = [nbformat.v4.new_raw_cell(ASSIGNMENT_CONFIG), *_header_cells(src)]
    questions = {q.name: q for q in src.questions}
    written, skip = 0, False
    for cell in src.cells[1:]:
        meta = cell.metadata
        if skip:  # the solution cell, already placed inside its question
            skip = False
        elif cell.cell_type == "markdown" and "exercise" in meta:
            question = questions[meta["exercise"]]
            cells += _question_cells(question, cell.source + _not_accepted(question))
            skip = True
        elif cell.cell_type == "markdown" and meta.get("written"):
            written += 1
            cells += [nbformat.v4.new_markdown_cell(WRITTEN_MARK.format(i=written) + cell.source),
                      nbformat.v4.new_markdown_cell("_Your answer here._")]
        else:
            new = (nbformat.v4.new_code_cell if cell.cell_type == "code" else nbformat.v4.new_markdown_cell)(cell.source)
            if meta.get("tags"):
                new.metadata["tags"] = list(meta["tags"])
            cells.append(new)
    nb.cells = cells
    house.number_cells(nb, src.stem, "m")
    nbformat.validate(nb)
    return nb


def exercise_module(src: Source) -> str:
    """The Python module of a source's ``check`` cells: what students' kernels import."""
    names = [q.name for q in src.questions]
    body = "\n\n\n".join("\n".join(l for l in code.strip().splitlines() if not l.startswith("from __future__"))
                         for code in src.checks)
    defined = {n.name for n in ast.parse(body).body if isinstance(n, ast.FunctionDef)} if body else set()
    entries = []
    for q in src.questions:
        check = f"check_{q.name[4:]}"
        if check not in defined:
            raise MasterError(f"{src.path}: exercise {q.name} has no `def {check}(answer)` in a cell tagged "
                              f"{CHECK_TAG!r}; write it after the exercise's solution cell")
        extra = "".join([f", fallback={q.fallback}" if q.fallback else "",
                         f", kind={q.kind!r}" if q.kind != "code" else "",
                         f", points={q.points}" if q.points != 1 else "",
                         f", forbids=({''.join(f'Forbidden({n!r}, {why!r}), ' for n, why in q.forbids)})"
                         if q.forbids else ""])
        entries.append(f"    Exercise({q.name!r}, NB, {q.answer!r}, {check}{extra}),")
    if len(set(names)) != len(names):
        raise MasterError(f"{src.path}: an exercise name is used twice ({', '.join(names)})")
    written = "".join(f"    {text!r},\n" for text in src.written)
    return "\n".join([
        f'"""Notebook {src.stem[:2]}\'s exercise checks, generated from {SOURCES.as_posix()}/{src.path.name} by',
        "`mammokit masters`: edit them there (cells tagged `check`), not here.",
        '"""',
        "from __future__ import annotations",
        "",
        "from mammokit.exercises.spec import Exercise, Forbidden" if any(q.forbids for q in src.questions)
        else "from mammokit.exercises.spec import Exercise",
        body,
        "",
        "",
        f"NB = {src.stem!r}",
        "EXERCISES = [",
        *entries,
        "]",
        "",
        "WRITTEN = [",
        written.rstrip("\n"),
        "]",
        "",
    ]).replace("WRITTEN = [\n\n]", "WRITTEN = []")


def sources(src_dir: Path | str | None = None) -> list[Path]:
    """The course sources in ``src_dir`` (default ``notebooks/solutions``), in course order."""
    src_dir = Path(src_dir) if src_dir else paths.project_root() / SOURCES
    found = [src_dir / f"{stem}.md" for stem in exercises.NOTEBOOK_MODULES if (src_dir / f"{stem}.md").exists()]
    if not found:
        raise MasterError(f"{src_dir}: none of the course sources ({', '.join(exercises.NOTEBOOK_MODULES)}, .md) is "
                          "there")
    return found


def solutions(src_dir: Path | str | None = None) -> dict[str, str]:
    """The answer key, {exercise name: solution cell}, read from the sources (never the package)."""
    return {q.name: q.solution for path in sources(src_dir) for q in read_source(path).questions}


def make_masters(src_dir: Path | str | None = None, dest: Path | str | None = None, *,
                 package: Path | str | None = None, only: list[str] | None = None) -> list[Path]:
    """Write the exercise modules into ``package`` (default ``mammokit/exercises`` of this checkout)
    and a master ``NN_name.ipynb`` per source into ``dest`` (default ``dist/masters``)."""
    root = paths.project_root()
    dest = Path(dest) if dest else root / BUILT
    package = Path(package) if package else root / PACKAGE
    out = []
    for path in sources(src_dir):
        if only and path.stem not in only:
            continue
        src = read_source(path)
        write_text(package / f"{exercises.NOTEBOOK_MODULES[src.stem]}.py", exercise_module(src))
        dest.mkdir(parents=True, exist_ok=True)
        write_text(dest / f"{src.stem}.ipynb", nbformat.writes(master_notebook(src)) + "\n")
        out.append(dest / f"{src.stem}.ipynb")
    return out
