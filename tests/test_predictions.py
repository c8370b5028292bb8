"""Predict-then-run (issue 21 item 3): a prediction earns its point for being made before the answer
is shown, whatever it is; the record travels in the notebook's saved output and the judge reads it."""
from __future__ import annotations

import json

import numpy as np
import pytest

import mammokit as mk
from mammokit import exercises as E
from mammokit.course import judge as judging
from mammokit.course.masters import solutions
from mammokit.exercises import predictions

KEY = solutions()
PREDICT = [ex for stem in E.NOTEBOOK_MODULES for ex in E.for_notebook(stem) if ex.kind == "predict"]
FAST = [ex for ex in PREDICT if ex.notebook not in {"04_convnet", "05_transfer_learning"}]


@pytest.fixture(autouse=True)
def fresh_kernel(monkeypatch):
    """Each test is a new kernel: nothing predicted, nothing revealed."""
    monkeypatch.setattr(predictions, "_records", {})
    monkeypatch.setattr(predictions, "_revealed", set())


def _solution(ex: E.Exercise):
    namespace = {"np": np, "mk": mk}
    exec(KEY[ex.name], namespace)
    return namespace[ex.answer]


def _other(value):
    """A different well-formed prediction of the same kind (a wrong guess, most likely)."""
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        return value + 1
    return value


@pytest.mark.parametrize("ex", FAST, ids=lambda ex: ex.name)
def test_any_well_formed_prediction_passes_and_no_feedback_names_the_answer(ex: E.Exercise):
    """The check compares nothing: the solution and another guess both pass, so no feedback of the
    check can carry the answer; a malformed prediction is told its form."""
    right = _solution(ex)
    for guess in (right, _other(right)):
        verdict = E.verdict(ex.name, guess)
        assert verdict.passed, (ex.name, guess, verdict.message)
    assert E.verdict(ex.name, object()).status == "wrong"


def _grader(ex: E.Exercise) -> E.Grader:
    return E.Grader(ex.notebook)


def test_a_prediction_before_the_reveal_is_recorded_in_the_output_and_frozen_after():
    ex = next(e for e in PREDICT if e.name == "q01_films_per_patient")
    grader = _grader(ex)
    first = grader.check(ex.name, 3)
    assert first.passed and "prediction recorded: 3" in repr(first)
    data, metadata = first._repr_mimebundle_()
    assert metadata[predictions.KEY] == {"name": ex.name, "value": 3, "before_reveal": True}
    assert "prediction recorded" in data["text/markdown"]
    again = grader.check(ex.name, 4)  # a second thought before the reveal replaces the first
    assert again.passed and again.record["value"] == 4
    shown = predictions.reveal(ex.name, 2)
    assert "the answer is 2; you predicted 4" in repr(shown)
    changed = grader.check(ex.name, 2)  # after seeing it
    assert changed.status == "late" and changed.record["value"] == 4 and "after the answer was shown" in repr(changed)
    assert "⏰" in changed._repr_markdown_()


def test_a_first_prediction_after_the_reveal_earns_nothing():
    ex = next(e for e in PREDICT if e.name == "q01_films_per_patient")
    shown = predictions.reveal(ex.name, 2)
    assert "no prediction" in repr(shown)
    late = _grader(ex).check(ex.name, 2)
    assert late.status == "late" and late.record["before_reveal"] is False


def _notebook(*records: dict) -> dict:
    outputs = [{"output_type": "display_data", "data": {"text/plain": "x"}, "metadata": {predictions.KEY: r}}
               for r in records]
    return {"cells": [{"cell_type": "code", "source": "grader.check(...)", "outputs": outputs, "metadata": {}}]}


def test_credit_reads_the_handed_in_notebook():
    name = "q01_films_per_patient"
    before = {"name": name, "value": 3, "before_reveal": True}
    assert predictions.credit(_notebook(before), name, 3) is None
    assert "not the one you recorded" in predictions.credit(_notebook(before), name, 2)
    assert "after the answer was shown" in predictions.credit(_notebook(dict(before, before_reveal=False)), name, 3)
    assert "no record" in predictions.credit(_notebook(), name, 3)
    assert "no record" in predictions.credit(_notebook(dict(before, name="q02_salt_pepper")), name, 3)


def test_the_judge_gives_the_point_only_with_a_record_from_before_the_reveal():
    name = "q01_films_per_patient"
    questions = [{"name": name, "points": 1, "answer": "films_per_patient_guess"}]
    record = {name: {"name": name, "seed": "0", "events": [{"out": 3}]}}
    json.dumps(record)
    scored = judging.judge(questions, record, _notebook({"name": name, "value": 3, "before_reveal": True}), 0, E)
    assert scored[0]["points"] == 1.0 and scored[0]["feedback"] == ""
    for nb in (_notebook(), _notebook({"name": name, "value": 3, "before_reveal": False}),
               _notebook({"name": name, "value": 1, "before_reveal": True})):
        row = judging.judge(questions, record, nb, 0, E)[0]
        assert row["points"] == 0.0 and row["feedback"].startswith("no credit: "), row
        assert "2" not in row["feedback"], "the judge's feedback never states the answer"


def test_every_prediction_is_revealed_after_it_is_asked_and_each_notebook_states_a_human_time():
    """Item 3: each predict question has a cell that shows its answer (after the question); item 4:
    each notebook says how long it takes a student, not only the machine."""
    import re

    from mammokit.course.masters import read_source, sources

    for path in sources():
        src = read_source(path)
        code = [(i, c.source) for i, c in enumerate(src.cells) if c.cell_type == "code"]
        for q in (q for q in src.questions if q.kind == "predict"):
            asked = next(i for i, c in enumerate(src.cells) if c.metadata.get("exercise") == q.name)
            assert any(i > asked and f'mk.exercises.reveal("{q.name}"' in s for i, s in code), \
                f"{path.name}: {q.name} has no reveal cell after it"
        intro = src.cells[0].source
        assert re.search(r"\*\*Time\.\*\*.*(For you|Human).*(minutes|hour)", intro, re.S), \
            f"{path.name}: the intro's Time line gives no estimate for the student"
