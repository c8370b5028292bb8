"""Masters, `mammokit assign` and `mammokit grade`: the layout they keep, the errors they give, and
(slow, real otter-grader) full marks for a solution, 0 for a blank student notebook, partial marks."""
from __future__ import annotations

import shutil
from pathlib import Path

import nbformat
import pandas as pd
import pytest

from mammokit import cli, exercises
from mammokit.course import notebook
from mammokit.course.grading import (JUDGE, GradingError, assign, collect, course_stem, grade, student_cells,
                                     summary_path, totals_path, written_path)
from mammokit.course.masters import (MasterError, check_cell_source, exercise_module, grader_source, make_masters,
                                     read_source, sources)

ROOT = Path(__file__).resolve().parents[1]
SOURCES = sources()  # notebooks/solutions/NN_name.md: the course as text
STEMS = sorted(exercises.NOTEBOOK_MODULES)


def _write(path: Path, cells: list, **metadata) -> Path:
    nb = nbformat.v4.new_notebook(cells=cells, metadata=metadata)
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)
    return path


@pytest.fixture(scope="session")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The masters built from the committed sources (the checks go to a scratch package folder)."""
    out = tmp_path_factory.mktemp("built")
    make_masters(dest=out / "masters", package=out / "exercises")
    return out


def test_every_master_is_in_the_house_layout(built: Path):
    masters = sorted((built / "masters").glob("*.ipynb"))
    assert [m.stem for m in SOURCES] == [m.stem for m in masters] == STEMS, "one source per course notebook"
    for path in masters:
        nb = nbformat.read(path, as_version=4)
        assert nb.cells[0].cell_type == "raw" and nb.cells[0].source.startswith("# ASSIGNMENT CONFIG")
        assert notebook.colab_badge(path.stem) in nb.cells[1].source
        code = [c for c in nb.cells if c.cell_type == "code"]
        assert "parameters" in code[0].metadata["tags"] and code[0].source == notebook.parameters_source(path.stem)
        assert code[1].source == notebook.setup_source(path.stem)
        assert code[2].source == grader_source(path.stem)
        raw = [c.source for c in nb.cells if c.cell_type == "raw"]
        for ex in exercises.for_notebook(path.stem):
            assert f"# BEGIN QUESTION\nname: {ex.name}\npoints: {ex.points}" in raw
            assert any(c.source == check_cell_source(ex.name) for c in code), ex.name
        assert not any("def check_" in c.source for c in code), "check cells stay out of the notebooks"
        assert [c.id for c in nb.cells] == [f"{path.stem[:2]}-m{i:03d}" for i in range(len(nb.cells))]


def test_committed_exercise_modules_are_generated_from_the_sources(built: Path):
    """An edit to a check cell in notebooks/solutions/*.md must reach mammokit/exercises (the package
    students import): `mammokit masters` rewrites it."""
    for path in SOURCES:
        module = ROOT / "mammokit" / "exercises" / f"{exercises.NOTEBOOK_MODULES[path.stem]}.py"
        assert module.read_text() == (built / "exercises" / module.name).read_text(), \
            f"{module} is stale against {path}: run `mammokit masters` (or `mammokit assign`)"


def _source(tmp_path: Path, edit) -> Path:
    """Notebook 01's source with ``edit(text) -> text`` applied, in ``tmp_path``."""
    path = tmp_path / "01_data.md"
    tmp_path.mkdir(parents=True, exist_ok=True)
    path.write_text(edit(SOURCES[0].read_text()))
    return path


def test_a_malformed_exercise_is_named_with_file_and_cell(tmp_path: Path):
    no_check = _source(tmp_path / "a", lambda t: t.replace("def check_side(", "def check_sides("))
    with pytest.raises(MasterError, match=r"q01_side has no `def check_side\(answer\)`") as info:
        exercise_module(read_source(no_check))
    assert str(no_check) in str(info.value)
    typo = _source(tmp_path / "b", lambda t: t.replace('"answer": "side"', '"answr": "side"'))
    with pytest.raises(MasterError, match=r"cell \d+ .*needs \"answer\".*got answr, exercise") as info:
        read_source(typo)
    assert str(typo) in str(info.value)
    with pytest.raises(MasterError, match="not a course source"):
        read_source(tmp_path / "b" / "notes.md")


def test_adding_an_exercise_is_one_edit_of_the_source(tmp_path: Path):
    """CONTRIBUTING's worked example: a prompt, a solution and a check in the source; `mammokit
    masters` puts the question into the master and its check into the package module."""
    new = ('\n+++ {"exercise": "q01_film_count", "answer": "film_count"}\n\n**Exercise (q01_film_count).** How many '
           'films does the catalog hold?\n\n```{code-cell} ipython3\nfilm_count = catalog.image_id.nunique()  # SOLUTION\n```\n\n'
           '```{code-cell} ipython3\n:tags: [check]\n\ndef check_film_count(answer):\n    expect(value(answer) >= 1, '
           '"count the films")\n```\n')
    path = _source(tmp_path, lambda t: t + new)
    src = read_source(path)
    assert src.questions[-1].name == "q01_film_count"
    assert "Exercise('q01_film_count', NB, 'film_count', check_film_count)" in exercise_module(src)
    make_masters(tmp_path, tmp_path / "masters", package=tmp_path / "pkg")
    master = nbformat.read(tmp_path / "masters" / "01_data.ipynb", as_version=4)
    assert any(c.source == check_cell_source("q01_film_count") for c in master.cells)
    assert "def check_film_count" in (tmp_path / "pkg" / "ex01_data.py").read_text()


def _setup_only(path: Path, stem: str = "01_data", **metadata) -> Path:
    return _write(path, [nbformat.v4.new_code_cell(notebook.setup_source(stem))], **metadata)


def test_course_stem_from_metadata_or_setup_cell(tmp_path: Path):
    assert course_stem(_setup_only(tmp_path / "a.ipynb", "03_augmentation")) == "03_augmentation"
    tagged = _write(tmp_path / "b.ipynb", [], mammokit={"notebook": "06_evaluation"})
    assert course_stem(tagged) == "06_evaluation"


def test_students_are_named_by_folder_or_file(tmp_path: Path):
    _setup_only(tmp_path / "class" / "alice" / "01_data.ipynb")
    _setup_only(tmp_path / "class" / "bob" / "work" / "01_data (1).ipynb")
    loose = _setup_only(tmp_path / "carol_01_data.ipynb")
    subs = collect([tmp_path / "class", loose])
    assert sorted(s.student for s in subs) == ["alice", "bob", "carol"]
    assert {s.notebook for s in subs} == {"01_data"}


def test_bad_submissions_are_all_named_before_grading(tmp_path: Path):
    (tmp_path / "broken.ipynb").write_text("{not json")
    _write(tmp_path / "other.ipynb", [nbformat.v4.new_code_cell("print(1)")])
    _setup_only(tmp_path / "fine_01_data.ipynb")
    with pytest.raises(GradingError) as info:
        collect([tmp_path])
    message = str(info.value)
    assert "broken.ipynb: not a readable notebook" in message
    assert "other.ipynb: not a mammokit course notebook" in message
    assert "fine_01_data" not in message
    with pytest.raises(GradingError, match="no such file"):
        collect([tmp_path / "missing.ipynb"])


def test_grade_refuses_existing_output_and_missing_autograder(tmp_path: Path, capsys):
    sub = _setup_only(tmp_path / "subs" / "dan_01_data.ipynb")
    out = tmp_path / "scores.csv"
    with pytest.raises(GradingError, match="no autograder for 01_data"):
        grade([sub], out, autograders=tmp_path / "none")
    out.write_text("old")
    with pytest.raises(GradingError, match="--overwrite"):
        grade([sub], out, autograders=tmp_path / "none")
    with pytest.raises(GradingError, match="--jobs=0 must be a positive integer"):
        grade([sub], tmp_path / "other.csv", autograders=tmp_path / "none", jobs=0)
    assert cli.main(["grade", str(sub), "--out", str(out), "--autograders", str(tmp_path)]) == 2
    assert "exists; pass --overwrite" in capsys.readouterr().err
    assert out.read_text() == "old"


def test_assign_without_sources_names_what_it_looked_for(tmp_path: Path):
    with pytest.raises(GradingError, match="none of the course sources"):
        assign(tmp_path, tmp_path / "s", tmp_path / "a", package=tmp_path / "pkg")


def _solve(nb: nbformat.NotebookNode, master: nbformat.NotebookNode, names: set[str], *,
           record_predictions: bool = True) -> None:
    """Put the master's solution into the student's answer cells of the questions ``names`` (and,
    for a prediction, the check output a run before the reveal leaves, unless told otherwise)."""
    solutions = {}
    for i, cell in enumerate(master.cells):
        if cell.cell_type == "raw" and cell.source.startswith("# BEGIN QUESTION"):
            name = cell.source.split("name: ")[1].split()[0]
            solutions[name] = next(c.source for c in master.cells[i:] if c.cell_type == "code")
    answers = [c for c in nb.cells if "otter_answer_cell" in c.metadata.get("tags", [])]
    assert len(answers) == len(solutions), "one answer cell per question"
    for name, cell in zip(solutions, answers):
        if name in names:
            cell.source = solutions[name]
            if exercises.get(name).kind == "predict" and record_predictions:
                _ran_check(nb, name, cell.source)


def _ran_check(nb: nbformat.NotebookNode, name: str, answer_cell: str) -> None:
    """What the student's own run leaves in a predict question's check cell (``grader.check``,
    run before the reveal): its output, made by the kit's real Grader in a fresh record."""
    from mammokit.exercises import predictions

    namespace = {"mk": __import__("mammokit"), "np": __import__("numpy")}
    exec(answer_cell, namespace)
    saved = dict(predictions._records), set(predictions._revealed)
    predictions._records.clear(), predictions._revealed.clear()
    try:
        shown = exercises.Grader(name_stem(name)).check(name, namespace[exercises.get(name).answer])
    finally:
        predictions._records.clear(), predictions._records.update(saved[0])
        predictions._revealed.clear(), predictions._revealed.update(saved[1])
    data, metadata = shown._repr_mimebundle_()
    cell = next(c for c in nb.cells if c.cell_type == "code" and c.source == f'grader.check("{name}")')
    cell.outputs = [nbformat.v4.new_output("display_data", data=data, metadata=metadata)]


def name_stem(name: str) -> str:
    return next(stem for stem in STEMS if stem.startswith(name[1:3]))


@pytest.fixture(scope="session")
def assigned(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    """`mammokit assign` once per session on the committed sources: (student notebooks, autograders,
    masters); the checks it generates go to a scratch folder, never over the package's."""
    out = tmp_path_factory.mktemp("assigned")
    assign(None, out / "students", out / "autograder", package=out / "exercises", masters=out / "masters")
    return out / "students", out / "autograder", out / "masters"


@pytest.mark.slow
@pytest.mark.parametrize("stem", STEMS)
def test_committed_student_notebook_matches_its_master(stem: str, assigned: tuple[Path, Path]):
    fresh = nbformat.read(assigned[0] / f"{stem}.ipynb", as_version=4)
    committed = nbformat.read(ROOT / "notebooks" / f"{stem}.ipynb", as_version=4)
    assert student_cells(committed) == student_cells(fresh), \
        f"notebooks/{stem}.ipynb is stale: run `mammokit assign --only {stem}` and commit it"
    code = [c for c in committed.cells if c.cell_type == "code"]
    assert "parameters" in code[0].metadata["tags"] and code[1].source == notebook.setup_source(stem)
    assert code[2].source == grader_source(stem)
    assert not any(c.outputs or c.execution_count for c in code)
    assert not any("BEGIN SOLUTION" in c.source or c.cell_type == "raw" for c in committed.cells)
    answers = [c for c in code if "otter_answer_cell" in c.metadata.get("tags", [])]
    assert len(answers) == len(exercises.for_notebook(stem)), "one answer cell per exercise"
    assert all("..." in c.source for c in answers), "every answer cell is blank (otter's ...)"


ATTACK = """\
# Tampering with the grading from inside the submission (issue 21): none of it may score.
import builtins, sys, types
import numpy
import mammokit.exercises as mx
mk.exercises.check = lambda *a, **k: None  # the instructor's first find
mx.verdict = lambda name, answer: mx.Verdict(name, "passed")
mx.judge = lambda name, events: mx.Verdict(name, "passed")
for module in list(sys.modules.values()):
    if getattr(module, "__name__", "").startswith("mammokit.exercises"):
        module.expect = lambda ok, message: None
numpy.array_equal = numpy.allclose = numpy.isclose = lambda *a, **k: True
_isinstance = builtins.isinstance
builtins.isinstance = lambda obj, cls: True if type(obj).__name__ == "Anything" else _isinstance(obj, cls)

class Anything:
    def __eq__(self, other):
        return True
    __hash__ = object.__hash__

side = lambda image_id: Anything()  # rigged __eq__
try:
    class_counts = mk.exercises.get("q01_class_counts").reference  # the old answer key
except AttributeError:
    class_counts = lambda catalog: {"normal": Anything(), "benign": Anything(), "malignant": Anything()}
sys.modules["mammokit.exercises"] = types.SimpleNamespace(check=lambda *a, **k: None, record=lambda *a, **k: None)
"""
HALF_TYPED = 'def patient_id(image_id):\n    return f"p{(int(image_id[3:]) + 1) // 2:03d"\n'


def attacker(nb: nbformat.NotebookNode, master: nbformat.NotebookNode, solved: set[str]) -> nbformat.NotebookNode:
    """Notebook 01 with ``solved`` answered, q01_patient_id half-typed, PROFILE = "paper", a written
    answer, and the ATTACK cell last (after every notebook cell, before otter's test cells)."""
    _solve(nb, master, solved)
    code = [c for c in nb.cells if c.cell_type == "code"]
    code[0].source = code[0].source.replace("PROFILE = None", 'PROFILE = "paper"')
    answers = [c for c in code if "otter_answer_cell" in c.metadata.get("tags", [])]
    next(c for c in answers if c.source.startswith("def patient_id")).source = HALF_TYPED
    written = next(i for i, c in enumerate(nb.cells) if c.source.startswith("**Written question 1**"))
    nb.cells[written + 1].source = "Her two films share anatomy, so the model recognises her."
    nb.cells.append(nbformat.v4.new_code_cell(ATTACK))
    return nb


@pytest.mark.slow
@pytest.mark.timeout(2400)  # eight real gradings (each executes a notebook); the default 900 s is too short
def test_grading_a_class_full_blank_partial_and_tampered(assigned: tuple[Path, Path], tmp_path: Path):
    """Issue #14's done-when with real otter-grader: every notebook solved scores full marks (and so
    runs top to bottom answered), an untouched notebook scores 0. Issue #21: carol answers two
    questions of notebook 01 and tampers with the rest (ATTACK: rebinds mk.exercises.check, patches
    mammokit.exercises, numpy and builtins, replaces sys.modules' entry, answers with a rigged
    __eq__, reaches for the old answer key), half-types one answer and sets PROFILE = "paper": she
    scores exactly her two answers, the half-typed one is called a syntax error, the profile stays
    smoke; the written answers, totals and times are written for the instructor."""
    _, autograders, masters = assigned
    subs = tmp_path / "class"
    for student in ("alice", "bob", "carol", "dave"):
        (subs / student).mkdir(parents=True)
    for stem in STEMS:  # alice answers everything, with the solutions
        nb = nbformat.read(ROOT / "notebooks" / f"{stem}.ipynb", as_version=4)
        _solve(nb, nbformat.read(masters / f"{stem}.ipynb", as_version=4),
               {ex.name for ex in exercises.for_notebook(stem)})
        nbformat.write(nb, subs / "alice" / f"{stem}.ipynb")
    for stem in STEMS[:1]:  # bob hands in notebook 01 untouched (nbval shows all six unanswered)
        shutil.copy(ROOT / "notebooks" / f"{stem}.ipynb", subs / "bob" / f"{stem}.ipynb")
    first = exercises.for_notebook(STEMS[0])
    solved = {"q01_row_index", "q01_films_per_patient"}  # carol answers two questions of notebook 01
    nb = nbformat.read(ROOT / "notebooks" / f"{STEMS[0]}.ipynb", as_version=4)
    nbformat.write(attacker(nb, nbformat.read(masters / f"{STEMS[0]}.ipynb", as_version=4), solved), subs / "carol" / f"{STEMS[0]}.ipynb")
    nb = nbformat.read(ROOT / "notebooks" / f"{STEMS[0]}.ipynb", as_version=4)  # dave fills in his prediction
    _solve(nb, nbformat.read(masters / f"{STEMS[0]}.ipynb", as_version=4), {"q01_films_per_patient"},
           record_predictions=False)  # but never checked it before the reveal (no record in his notebook)
    nbformat.write(nb, subs / "dave" / f"{STEMS[0]}.ipynb")

    out = tmp_path / "scores.csv"
    scores = grade([subs], out, autograders=autograders, jobs=2, quiet=True)  # otter starts the kernels: the path graded
    assert list(scores.columns[:6]) == ["submission", "student", "notebook", "question", "points", "max_points"]
    assert not scores.error.fillna("").astype(bool).any(), scores[scores.error.fillna("") != ""].error.tolist()
    points = scores.groupby(["student", "notebook"])[["points", "max_points"]].sum()
    for stem in STEMS:
        total = sum(ex.points for ex in exercises.for_notebook(stem))
        assert points.loc[("alice", stem)].tolist() == [total, total], f"solved {stem} must score full marks"
    bob = scores[scores.student == "bob"]
    assert len(bob) == sum(len(exercises.for_notebook(s)) for s in STEMS[:1]) and (bob.points == 0).all()
    assert bob.feedback.str.contains("not answered yet").all(), "a blank answer's row says why it scored 0"
    carol = scores[scores.student == "carol"].set_index("question")
    assert carol.points.sum() == sum(ex.points for ex in first if ex.name in solved), carol[["points", "feedback"]]
    assert all(carol.points[name] > 0 for name in solved)
    assert "syntax error in your answer cell" in carol.feedback["q01_patient_id"]
    for name in ("q01_side", "q01_class_counts"):  # tampered: 0, and the row says why
        assert carol.points[name] == 0 and carol.feedback[name].startswith("wrong"), carol.feedback[name]
    dave = scores[scores.student == "dave"].set_index("question")
    assert dave.points.sum() == 0 and dave.feedback["q01_films_per_patient"].startswith("no credit: no record")

    summary = pd.read_csv(summary_path(out))
    assert sorted(set(summary.student)) == ["alice", "bob", "carol", "dave"] and len(summary) == len(STEMS) + 3
    assert (summary.profile == "smoke").all(), "grading pins the profile whatever a submission sets"
    assert (summary.seconds > 0).all()
    totals = pd.read_csv(totals_path(out)).set_index("student")
    assert totals.loc["alice", "notebooks"] == len(STEMS) and totals.loc["alice", "points"] == totals.loc[
        "alice", "max_points"] and totals.loc["carol", "points"] == len(solved)
    written = written_path(out).read_text()
    assert "## carol · 01_data" in written and "Her two films share anatomy" in written
    assert "_(no answer)_" in written  # bob's


# --- the student and instructor loop (issue 21 item 5) ---------------------------------------------



def _kernel(*cells: str) -> dict:
    """A namespace as IPython leaves it after running ``cells`` in order (``In`` holds their sources;
    the last one is the setup cell calling resolve)."""
    ns: dict = {"In": [""]}
    for source in cells:
        ns["In"].append(source)
        if "resolve(" not in source:
            exec(source, ns)
    return ns


def _resolve(ns: dict, tmp_path: Path, monkeypatch):
    from mammokit.course import params

    monkeypatch.setenv("MAMMOKIT_RUN_DIR", str(tmp_path / "run"))
    return params.resolve("01_data", {k: v for k, v in ns.items() if k != "__builtins__"}, quiet=True)


SETUP = 'P = mk.params.resolve("01_data", globals())'


def test_a_fixed_parameter_typo_passes_when_the_setup_cell_runs_again(tmp_path: Path, monkeypatch):
    """NSHOW = 6 stops the setup cell; fixed to N_SHOW = 6 and the parameters cell run again, the
    setup cell passes although NSHOW is still in the kernel. Re-running the setup cell without the
    fix still stops."""
    from mammokit.errors import ConfigError

    typo = "PROFILE = None\nN_SHOW = None\nNSHOW = 6  # typo"
    with pytest.raises(ConfigError, match=r"unknown parameter\(s\) NSHOW \(did you mean N_SHOW\?\)"):
        _resolve(_kernel(typo, SETUP), tmp_path, monkeypatch)
    with pytest.raises(ConfigError, match="NSHOW"):  # run the setup cell again, nothing fixed
        _resolve(_kernel(typo, SETUP, SETUP), tmp_path, monkeypatch)
    fixed = _kernel(typo, SETUP, "PROFILE = None\nN_SHOW = 6", SETUP)
    assert fixed["NSHOW"] == 6 and _resolve(fixed, tmp_path, monkeypatch).N_SHOW == 6
    # a student's own UPPERCASE name further down is not a parameter, when the setup cell runs again
    own = _kernel("PROFILE = None\nN_SHOW = None", SETUP, "x = 1", "THRESHOLD = 50", SETUP)
    assert "THRESHOLD" in own and _resolve(own, tmp_path, monkeypatch).notebook == "01_data"
    # papermill's injected cell right after the parameters cell counts with it: -p EPOCHZ still stops
    with pytest.raises(ConfigError, match="EPOCHZ"):
        _resolve(_kernel("PROFILE = None\nN_SHOW = None", "# Parameters\nEPOCHZ = 5\n", SETUP), tmp_path, monkeypatch)
    # in the parameters cell itself, a name of your own is flagged: only parameters go there
    with pytest.raises(ConfigError, match="THRESHOLD"):
        _resolve(_kernel("PROFILE = None\nN_SHOW = None\nTHRESHOLD = 50", SETUP), tmp_path, monkeypatch)


def test_a_parameter_error_is_one_line_in_a_notebook(tmp_path: Path, monkeypatch):
    from mammokit.errors import ConfigError

    with pytest.raises(ConfigError) as info:
        _resolve(_kernel("PROFILE = None\nNSHOW = 6", SETUP), tmp_path, monkeypatch)
    lines = info.value._render_traceback_()  # what IPython shows instead of the traceback
    assert len(lines) == 1 and lines[0].startswith("ConfigError: 01_data: unknown parameter(s) NSHOW")


def test_grading_pins_the_profile(tmp_path: Path, monkeypatch, capsys):
    from mammokit.course import params

    monkeypatch.setenv("MAMMOKIT_RUN_DIR", str(tmp_path / "run"))
    monkeypatch.setenv("MAMMOKIT_PROFILE", "smoke")
    assert params.resolve("01_data", {"PROFILE": "paper"}, quiet=True).PROFILE == "paper"  # a course run: the notebook wins
    monkeypatch.setenv("MAMMOKIT_PINNED", "PROFILE")
    pinned = params.resolve("01_data", {"PROFILE": "paper"})
    assert pinned.PROFILE == "smoke" and pinned.DATA == "synthetic"
    assert "PROFILE='paper' from the notebook is ignored" in capsys.readouterr().out


def _student_01(tmp_path: Path, **answers: str) -> Path:
    nb = nbformat.read(ROOT / "notebooks" / "01_data.ipynb", as_version=4)
    for cell in nb.cells:
        for name, source in answers.items():
            if "otter_answer_cell" in cell.metadata.get("tags", []) and cell.source.startswith(f"def {name}("):
                cell.source = source
    path = tmp_path / "01_data.ipynb"
    nbformat.write(nb, path)
    return path


def test_the_judge_calls_a_half_typed_answer_a_syntax_error(tmp_path: Path):
    import json

    from mammokit.course import judge

    path = _student_01(tmp_path, patient_id=HALF_TYPED, side="def side(image_id):\n    %time 1\n    return 'L'")
    nb = json.loads(path.read_text())
    cells = judge.answer_cells(nb)
    assert set(cells) == {ex.name for ex in exercises.for_notebook("01_data")}
    assert judge.syntax_error(cells["q01_patient_id"][0]).startswith("line 2")
    assert judge.syntax_error(cells["q01_side"][0]) is None  # IPython magics are fine
    questions = [{"name": ex.name, "points": ex.points, "answer": ex.answer} for ex in exercises.for_notebook("01_data")]
    record = {"q01_row_index": {"name": "q01_row_index", "missing": True, "seed": "1"}}
    rows = {r["question"]: r for r in judge.judge(questions, record, nb, 1, exercises)}
    assert "syntax error in your answer cell for q01_patient_id (line 2" in rows["q01_patient_id"]["feedback"]
    assert "`row_index` is not defined" in rows["q01_row_index"]["feedback"]
    assert "no answer was recorded" in rows["q01_side"]["feedback"]  # e.g. `mk.exercises.record` rebound
    assert all(r["points"] == 0 for r in rows.values())


@pytest.mark.slow
def test_the_autograder_carries_its_judge(assigned: tuple[Path, Path]):
    import json
    import zipfile

    for stem in STEMS:
        with zipfile.ZipFile(assigned[1] / f"{stem}.zip") as z:
            names = set(z.namelist())
            assert {f"{JUDGE}/judge.py", f"{JUDGE}/exercises/__init__.py", f"{JUDGE}/questions.json"} <= names
            questions = json.loads(z.read(f"{JUDGE}/questions.json"))
            tests = {n for n in names if n.startswith("tests/")}
        assert [q["name"] for q in questions] == [ex.name for ex in exercises.for_notebook(stem)]
        assert len(tests) == len(questions)
