"""Shortcuts an exercise forbids: an answer that reaches one, however renamed or hidden, fails with
feedback naming the call and why, live, recorded and judged; honest answers pass. Synthetic
exercises only (the course's own declare their forbids in their modules)."""
from __future__ import annotations

import dataclasses
import json
import sys

import cv2
import numpy as np
import pytest
import sklearn.metrics
from sklearn.metrics import roc_auc_score as renamed

from mammokit import exercises as E
from mammokit.course import judge as judge_module
from mammokit.errors import ConfigError

REASON = "the exercise is computing the AUC as a ranking probability yourself"


def _scores(n: int = 30):
    draw = E.rng(7)
    labels = np.r_[0, 1, draw.integers(0, 2, n)]
    return labels, draw.random(n + 2)


def check_auc(answer) -> None:
    labels, proba = _scores()
    got = E.call(answer, labels, proba, what="rank_auc(labels, proba)")
    want = sklearn.metrics.roc_auc_score(labels, proba)  # the check itself may use it: it is not watched
    E.expect(abs(float(got) - want) < 1e-9, f"rank_auc gave {got}, expected {want}")


def check_threshold(answer) -> None:
    image = (E.rng(8).random((20, 20)) * 255).astype(np.uint8)
    got = E.call(answer, image, what="threshold(image)")
    E.expect(float(got) >= 0, "a grey level is not negative")


def _kit_auc(labels, proba) -> float:  # the synthetic exercise's fallback: the kit's own answer
    return float(sklearn.metrics.roc_auc_score(labels, proba))


def _exercise(name: str, answer: str, check, **kwargs) -> E.Exercise:
    """A synthetic exercise; blank cell texts where Exercise still carries them (before the course is text)."""
    texts = {f.name: "" for f in dataclasses.fields(E.Exercise) if f.name in ("anchor", "prompt")}
    return E.Exercise(name, "99_test", answer, check, **texts, **kwargs)


EXERCISES = {ex.name: ex for ex in [
    _exercise("q99_auc", "rank_auc", check_auc, fallback=_kit_auc,
              forbids=(E.Forbidden("sklearn.metrics.roc_auc_score", REASON),
                       E.Forbidden("mk_no_such_module.deep.fn", "never imported, so never looked up"))),
    _exercise("q99_threshold", "threshold", check_threshold,
              forbids=(E.Forbidden("cv2.threshold", "the exercise is Otsu's search written in numpy"),)),
]}


@pytest.fixture(autouse=True)
def synthetic(monkeypatch):
    monkeypatch.setattr(E, "get", EXERCISES.__getitem__)


def honest_auc(labels, proba):
    labels, proba = np.asarray(labels), np.asarray(proba)
    diff = proba[labels == 1][:, None] - proba[labels == 0][None, :]
    return float(((diff > 0) + 0.5 * (diff == 0)).mean())


def _helper(labels, proba):
    return _deeper(labels, proba)


def _deeper(labels, proba):
    return renamed(labels, proba)


SHORTCUTS = {
    "the library, by its path": lambda labels, proba: sklearn.metrics.roc_auc_score(labels, proba),
    "the library, renamed": lambda labels, proba: renamed(labels, proba),
    "the library, two helpers deep": lambda labels, proba: _helper(labels, proba),
    "the kit's own answer (the fallback)": lambda labels, proba: E.get("q99_auc").fallback(labels, proba),
    "the fallback, through use()": lambda labels, proba: E.use("q99_auc", None, quiet=True)(labels, proba),
}


def test_an_honest_answer_passes_and_the_hook_is_gone_after():
    before = sys.getprofile()
    assert E.verdict("q99_auc", honest_auc).passed
    assert sys.getprofile() is before
    assert "mk_no_such_module" not in sys.modules  # a forbidden name is looked up, never imported
    assert E.verdict("q99_auc", _kit_auc, forbid=False).passed  # how the kit tests its own fallback
    assert not E.verdict("q99_auc", _kit_auc).passed


@pytest.mark.parametrize("how", list(SHORTCUTS))
def test_a_shortcut_fails_live_naming_the_call_and_why(how: str):
    with pytest.raises(E.WrongAnswer) as err:
        E.check("q99_auc", SHORTCUTS[how])
    message = str(err.value)
    assert "q99_auc" in message and "rank_auc(labels, proba) uses `" in message, message
    if "fallback" in how:
        assert "_kit_auc`" in message and "stand-in for `rank_auc`" in message, message
    else:
        assert "`sklearn.metrics.roc_auc_score`" in message and REASON in message, message
    assert not E.verdict("q99_auc", SHORTCUTS[how]).passed


def test_a_c_function_is_caught_too():
    otsu = lambda image: cv2.threshold(image, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)[0]  # noqa: E731
    v = E.verdict("q99_threshold", otsu)
    assert v.status == "wrong" and "`cv2.threshold`" in v.message and "numpy" in v.message, v
    assert E.verdict("q99_threshold", lambda image: float(np.mean(image))).passed


def test_an_answer_that_switches_the_hook_off_fails():
    def unhooked(labels, proba):
        sys.setprofile(None)
        return sklearn.metrics.roc_auc_score(labels, proba)

    v = E.verdict("q99_auc", unhooked)
    assert v.status == "wrong" and "switched off the check for shortcuts" in v.message, v


def test_a_check_run_inside_the_answer_does_not_blind_the_outer_watch():
    def sneaky(labels, proba):
        found = []  # the shortcut runs inside another check (with its own watch, which allows it)
        assert E.verdict("q99_threshold", lambda image: found.append(renamed(labels, proba)) or 1.0).passed
        return found[0]

    v = E.verdict("q99_auc", sneaky)
    assert v.status == "wrong" and "roc_auc_score" in v.message, v


def _recorded(name: str, answer, tmp_path, monkeypatch) -> dict:
    path = tmp_path / "record.jsonl"
    monkeypatch.setenv(E.RECORD_ENV, str(path))
    E.record(name, answer)
    return json.loads(path.read_text().splitlines()[-1])


def test_recorded_shortcut_is_judged_zero_with_the_judges_own_reason(tmp_path, monkeypatch):
    entry = _recorded("q99_auc", SHORTCUTS["the library, renamed"], tmp_path, monkeypatch)
    assert entry["events"][0]["forbidden"] == "sklearn.metrics.roc_auc_score"
    entry["events"][0]["message"] = "fine, full marks"  # the record is the submission's: its words do not count
    v = E.judge("q99_auc", entry["events"])
    assert v.status == "wrong" and REASON in v.message and "full marks" not in v.message, v
    honest = _recorded("q99_auc", honest_auc, tmp_path, monkeypatch)
    assert "forbidden" not in honest["events"][0] and E.judge("q99_auc", honest["events"]).passed


def _notebook(source: str) -> dict:
    return {"cells": [{"cell_type": "markdown", "metadata": {}, "source": "**Exercise (q99_auc).** Write it."},
                      {"cell_type": "code", "metadata": {"tags": ["otter_answer_cell"]}, "source": source}]}


HONEST_CELL = ("def rank_auc(labels, proba):\n"
               "    diff = proba[labels == 1][:, None] - proba[labels == 0][None, :]\n"
               "    return float(((diff > 0) + 0.5 * (diff == 0)).mean())\n")


@pytest.mark.parametrize("source, named", [
    (HONEST_CELL, None),
    (HONEST_CELL + "from sklearn.metrics import roc_auc_score\nassert rank_auc(y, p) == roc_auc_score(y, p)\n", None),
    ("from sklearn.metrics import roc_auc_score as auc\n\ndef rank_auc(labels, proba):\n    return auc(labels, proba)\n",
     "sklearn.metrics.roc_auc_score"),
    ("import sklearn\n\ndef _mine(y, p):\n    return sklearn.metrics._ranking.roc_auc_score(y, p)\n\n"
     "def rank_auc(labels, proba):\n    return _mine(labels, proba)\n", "sklearn.metrics.roc_auc_score"),
    ("rank_auc = lambda y, p: mk.exercises.get('q99_auc').fallback(y, p)\n", None),  # only the run-time check sees this
])
def test_the_judge_reads_shortcuts_named_in_the_answer(source: str, named: str | None):
    forbidden = [f.name for f in E.get("q99_auc").shortcuts]
    assert judge_module.named_shortcut([source], "rank_auc", forbidden) == named


def test_the_judge_scores_a_named_shortcut_zero_even_if_the_record_passes(tmp_path, monkeypatch):
    honest = _recorded("q99_auc", honest_auc, tmp_path, monkeypatch)  # as a record the submission forged would read
    questions = [{"name": "q99_auc", "points": 2, "answer": "rank_auc"}]
    cheat = "import sklearn.metrics as m\n\ndef rank_auc(labels, proba):\n    return m.roc_auc_score(labels, proba)\n"
    for source, points in ((HONEST_CELL, 2.0), (cheat, 0.0)):
        [row] = judge_module.judge(questions, {"q99_auc": honest}, _notebook(source), 0, E)
        assert row["points"] == points, row
    assert "`sklearn.metrics.roc_auc_score`" in row["feedback"] and REASON in row["feedback"], row
    recorded = _recorded("q99_auc", SHORTCUTS["the library, two helpers deep"], tmp_path, monkeypatch)
    [row] = judge_module.judge(questions, {"q99_auc": recorded}, _notebook(HONEST_CELL), 0, E)
    assert row["points"] == 0.0 and "roc_auc_score" in row["feedback"], row


@pytest.mark.parametrize("name, reason", [("roc_auc_score", "why"), ("sklearn.metrics.2x", "why"),
                                          ("sklearn.metrics.roc_auc_score", " ")])
def test_a_forbidden_call_must_be_a_dotted_path_with_a_reason(name: str, reason: str):
    with pytest.raises(ConfigError, match="Forbidden"):
        E.Forbidden(name, reason)


def test_forbids_must_be_forbidden_entries():
    with pytest.raises(ConfigError, match="q99_x: forbids must be a tuple"):
        _exercise("q99_x", "x", check_auc, forbids=("sklearn.metrics.roc_auc_score",))
