"""Turn a course notebook into an otter-grader master (solution) notebook, from the exercise specs.

The exercises (prompt, solution, check, anchor) live in ``mammokit.exercises``; this module
only places their cells in otter's assign format after the anchor cell each names:
``# BEGIN QUESTION`` … ``# END QUESTION`` raw cells around the prompt, the solution cell and a
test cell ``mk.exercises.check("<name>", <answer>)``, then the optional follow-up cell that
uses the answer. The house layout stays: parameters cell, setup cell, then a third code cell
``grader = mk.exercises.Grader("<stem>")`` (otter's own init cell is switched off).

    python -m mammokit.masters notebooks notebooks/solutions   # what `mammokit masters` runs
"""
from __future__ import annotations

import sys
from pathlib import Path

import nbformat

from mammokit import exercises
from mammokit.errors import MammokitError

ASSIGNMENT_CONFIG = "\n".join([
    "# ASSIGNMENT CONFIG",
    "init_cell: false       # the grader comes from mammokit (third code cell), not otter.Notebook",
    "check_all_cell: false",
    "export_cell: false     # students hand in the .ipynb itself",
    "run_tests: false       # `mammokit grade` on the masters is the test",
    "solutions_pdf: false",
])
QUESTION_MARK = "# BEGIN QUESTION"


class MasterError(MammokitError):
    """A notebook cannot become a master: anchors missing, or it already is one."""


def grader_source(stem: str) -> str:
    return (f'grader = mk.exercises.Grader("{stem}")  # grader.check("...") checks an exercise; '
            "it never stops the notebook")


def test_source(ex: exercises.Exercise) -> str:
    return f'mk.exercises.check("{ex.name}", {ex.answer})'


def _raw(text: str) -> nbformat.NotebookNode:
    return nbformat.v4.new_raw_cell(text)


def question_cells(ex: exercises.Exercise) -> list[nbformat.NotebookNode]:
    """The cells of one exercise in otter's assign format (question, solution, tests)."""
    cells = [
        _raw(f"{QUESTION_MARK}\nname: {ex.name}\npoints: {ex.points}"),
        nbformat.v4.new_markdown_cell(ex.prompt),
        _raw("# BEGIN SOLUTION"),
        nbformat.v4.new_code_cell(ex.solution),
        _raw("# END SOLUTION"),
        _raw("# BEGIN TESTS"),
        nbformat.v4.new_code_cell(test_source(ex)),
        _raw("# END TESTS"),
        _raw("# END QUESTION"),
    ]
    if ex.follow:
        cells.append(nbformat.v4.new_code_cell(ex.follow))
    return cells


def written_cells(stem: str) -> list[nbformat.NotebookNode]:
    """Written questions for the instructor to read (markdown prompt + an answer cell)."""
    cells = []
    for i, text in enumerate(exercises.written_questions(stem), start=1):
        cells.append(nbformat.v4.new_markdown_cell(f"**Written question {i}** (your instructor reads it; "
                                                   f"not auto-graded). {text}"))
        cells.append(nbformat.v4.new_markdown_cell("_Your answer here._"))
    return cells


def _anchor_index(cells: list, anchor: str) -> int | None:
    for i, cell in enumerate(cells):
        if cell.cell_type == "code" and anchor in cell.source:
            return i
    return None


def make_master(notebook: Path | str, out: Path | str) -> Path:
    """Write the master of ``notebook`` (``NN_name.ipynb``) to ``out``; raises MasterError naming
    every anchor it cannot find, so a rewritten notebook's anchors are fixed in one go."""
    notebook, out = Path(notebook), Path(out)
    stem = notebook.stem
    try:
        nb = nbformat.read(notebook, as_version=4)
    except (OSError, ValueError) as exc:
        raise MasterError(f"{notebook}: cannot read it as a notebook ({exc})") from None
    if any(c.cell_type == "raw" and c.source.startswith(QUESTION_MARK) for c in nb.cells):
        raise MasterError(f"{notebook} already holds otter questions: it is a master, not a course notebook")
    code = [i for i, c in enumerate(nb.cells) if c.cell_type == "code"]
    if len(code) < 2:
        raise MasterError(f"{notebook}: expected the parameters cell and the setup cell first")
    exs = exercises.for_notebook(stem)
    where = {ex.name: _anchor_index(nb.cells, ex.anchor) for ex in exs}
    missing = [f"{ex.name}: {ex.anchor!r}" for ex in exs if where[ex.name] is None]
    if missing:
        raise MasterError(f"{notebook}: no code cell contains the anchor(s) " + "; ".join(missing) +
                          f". Edit the anchors in mammokit/exercises/{exercises.NOTEBOOK_MODULES[stem]}.py "
                          "to a distinctive substring of the cell each exercise should follow.")
    cells = [_raw(ASSIGNMENT_CONFIG)]
    for i, cell in enumerate(nb.cells):
        cells.append(cell)
        if i == code[1]:
            cells.append(nbformat.v4.new_code_cell(grader_source(stem)))
        for ex in exs:
            if where[ex.name] == i:
                cells.extend(question_cells(ex))
    at = len(cells) - 1 if cells[-1].cell_type == "markdown" else len(cells)  # before the recap
    cells[at:at] = written_cells(stem)
    for cell in cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    nb.cells = cells
    nb.metadata.pop("widgets", None)
    for i, cell in enumerate(nb.cells):
        cell["id"] = f"{stem[:2]}-m{i:03d}"
    out.parent.mkdir(parents=True, exist_ok=True)
    nbformat.validate(nb)
    nbformat.write(nb, out)
    return out


def make_masters(src: Path | str, dest: Path | str) -> list[Path]:
    """A master in ``dest`` for every course notebook in ``src`` that has exercises."""
    src, dest = Path(src), Path(dest)
    found = [src / f"{stem}.ipynb" for stem in exercises.NOTEBOOK_MODULES if (src / f"{stem}.ipynb").exists()]
    if not found:
        raise MasterError(f"{src}: none of the course notebooks ({', '.join(exercises.NOTEBOOK_MODULES)}) is there")
    return [make_master(path, dest / path.name) for path in found]


if __name__ == "__main__":  # pragma: no cover - thin wrapper
    if len(sys.argv) != 3:
        sys.exit("usage: python -m mammokit.masters NOTEBOOKS_DIR MASTERS_DIR")
    for path in make_masters(sys.argv[1], sys.argv[2]):
        print("master written:", path)
