"""What a student sees after Run All: the notebooks as nbval executed them this session.

conftest.py saves each notebook nbval ran (outputs included) and orders these tests after
the notebooks, so nothing here executes a notebook again. Run alone (e.g. ``-k``) they skip:
there is nothing executed to look at.
"""
from __future__ import annotations

import re
from html import escape
from pathlib import Path

import nbformat
import pytest

from conftest import PREPROCESS_CHOICE, executed_dir
from mammokit import backend

ROOT = Path(__file__).resolve().parents[1]
STEMS = sorted(p.stem for p in (ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
UNREADABLE = {"\x1b[": "a terminal escape code", "\x08": "a backspace", "━": "a progress-bar box",
              "□": "a box the export cannot draw"}

pytestmark = pytest.mark.slow


@pytest.fixture
def executed(request: pytest.FixtureRequest):
    def load(stem: str) -> nbformat.NotebookNode:
        if stem not in getattr(request.config, "executed_notebooks", []):
            pytest.skip(f"notebooks/{stem}.ipynb was not run by nbval in this session")
        path = executed_dir() / f"{stem}.ipynb"
        assert path.exists(), f"nbval ran {stem} but its executed copy was not saved"
        return nbformat.read(path, as_version=4)
    return load


def _code(nb: nbformat.NotebookNode) -> list[nbformat.NotebookNode]:
    return [c for c in nb.cells if c.cell_type == "code"]


def _plots_in_loops(source: str) -> bool:
    """Whether a ``mk.plots`` call sits inside a ``for`` loop (one figure per pass: count unknown)."""
    import ast

    try:
        tree = ast.parse(source)
    except SyntaxError:  # IPython magics: read as straight-line code
        return False
    return any("mk.plots." in ast.unparse(loop) for loop in ast.walk(tree) if isinstance(loop, ast.For))


@pytest.mark.parametrize("stem", STEMS)
def test_every_figure_shows_exactly_once(stem: str, executed):
    for i, cell in enumerate(_code(executed(stem))):
        shown = [out["data"]["image/png"] for out in cell.outputs if "image/png" in out.get("data", {})]
        calls = cell.source.count("mk.plots.")
        if _plots_in_loops(cell.source):  # a figure per pass: each must show once, so no picture twice
            assert shown and len(set(shown)) == len(shown), f"code cell {i} shows a figure twice:\n{cell.source}"
        else:
            assert len(shown) == calls, f"code cell {i} draws {calls} figure(s) but shows {len(shown)}:\n{cell.source}"


@pytest.mark.parametrize("stem", STEMS)
def test_no_tensorflow_start_up_logs_in_the_output(stem: str, executed):
    for i, cell in enumerate(_code(executed(stem))):
        for out in cell.outputs:
            if out.output_type == "stream" and out.name == "stderr":
                noise = [line for line in out.text.splitlines() if backend.is_noise(line)]
                assert not noise, f"code cell {i} shows TensorFlow start-up logs: {noise[:3]}"


@pytest.mark.parametrize("stem", STEMS)
def test_printed_lines_are_plain_text(stem: str, executed):
    """What the notebooks print (training progress above all) reads as plain lines in Jupyter and
    in the HTML export: no terminal escape codes, backspaces or progress-bar boxes (issue #13 item 8;
    Keras' verbose=1 bar would bring all three)."""
    for i, cell in enumerate(_code(executed(stem))):
        for out in cell.outputs:
            if out.output_type == "stream":
                found = [name for char, name in UNREADABLE.items() if char in out.text]
                assert not found, f"code cell {i} prints {', '.join(found)}:\n{cell.source[:300]}"


def test_notebook_04_prints_one_plain_line_per_epoch(executed):
    """Notebook 04 trains in front of the student: each epoch ends in one readable summary line
    (Keras' verbose=2; "Epoch i/n" heads it when there is more than one epoch)."""
    printed = ["".join(out.text for out in c.outputs if out.output_type == "stream" and out.name == "stdout")
               for c in _code(executed("04_convnet"))]
    trained = [text for text in printed if "trained in" in text]
    assert len(trained) >= 2, "notebook 04 trains the positive control and the ConvNet, each saying how long"
    for text in trained:
        epochs = re.findall(r"^\d+/\d+ - \d+m?s - .*\bloss: [\d.]+.*$", text, re.M)
        assert epochs, f"no per-epoch summary line (Keras verbose=2) in:\n{text[:500]}"


def test_each_departure_is_shown_in_its_notebook_and_gathered_in_06(executed):
    """The departures from the paper are on screen where they are taught (each row of
    mk.paper.departures in its notebook's output) and all together in 06, beside the worksheet."""
    from mammokit import paper

    def shown(stem: str) -> str:
        return " ".join(out.get("data", {}).get("text/html", "") for c in _code(executed(stem)) for out in c.outputs)

    table, sheet = paper.departures(), paper.worksheet()
    for stem in sorted(set(table["notebook"]) - {"06_evaluation"}):
        page = shown(stem)
        for topic, kit in table.loc[table["notebook"] == stem, ["topic", "this kit"]].itertuples(index=False):
            assert escape(topic, quote=False) in page, f"{stem} does not show its departure {topic!r}"
            assert escape(kit, quote=False) in page, f"{stem}: what the kit does for {topic!r} is not shown whole"
    page = shown("06_evaluation")
    missing = [t for t in [*table["topic"], *sheet["topic"]] if escape(t, quote=False) not in page]
    assert not missing, f"06 does not gather {missing}"


@pytest.mark.parametrize("stem", STEMS)
def test_html_export_is_clean(stem: str, executed, tmp_path: Path):
    from nbconvert import HTMLExporter

    html, _ = HTMLExporter().from_notebook_node(executed(stem))
    assert "\u25a1" not in html, "a □ box (a character the export cannot draw, e.g. a progress bar)"
    assert "\x08" not in html and "\r" not in html.replace("\r\n", "\n"), "terminal control characters"
    assert "cudart_stub" not in html and "absl::InitializeLog" not in html
    (tmp_path / f"{stem}.html").write_text(html, encoding="utf-8")


@pytest.mark.parametrize("stem", STEMS)
def test_unanswered_exercises_say_so_and_the_notebook_goes_on_with_the_kits_function(stem: str, executed):
    """What `mammokit grade` scores 0 on an untouched notebook: every check says "not answered yet"
    (the same check the grader's judge runs), and every later cell ran on the kit's own function for
    the step, or skipped the answer where the kit has none (the answer key is not in the package)."""
    from mammokit import exercises

    code = _code(executed(stem))
    for ex in exercises.for_notebook(stem):
        shown = [out for c in code if c.source.strip() == f'grader.check("{ex.name}")' for out in c.outputs]
        text = " ".join(out.get("data", {}).get("text/plain", "") for out in shown)
        assert f"{ex.name}: not answered yet" in text, f"{ex.name}: the check cell shows {text!r}"
        used = [out.text for c in code if f'mk.exercises.use("{ex.name}"' in c.source
                for out in c.outputs if out.output_type == "stream"]
        said = "using the kit's own function" if ex.fallback is not None else "skipping what uses your"
        assert all(said in t for t in used), f"{ex.name}: {used}"


def test_notebook_03_builds_its_rois_with_02s_choice(executed):
    """A choice made in notebook 02 (here PREPROCESS, as a student's explorer setting would be)
    reaches notebook 03 through RUN_DIR, and 03 says where its preprocessing came from."""
    executed("02_preprocessing")
    text = " ".join(out.get("text", "") for c in _code(executed("03_augmentation")) for out in c.outputs)
    assert "preprocessing from notebook 02 (this RUN_DIR)" in text
    for name, value in PREPROCESS_CHOICE.items():
        shown = f"{name}=+{value}" if name == "otsu_offset" else f"{name}={value}"
        assert shown in text, f"notebook 03 does not show 02's {shown}"
