"""Predict-then-run: the point rewards predicting before the answer is shown, whatever the guess.

A predict exercise's check looks only at the prediction's form (a number, one of the choices) and
never says whether it is right. When ``grader.check`` passes a prediction, :func:`note` records it
with whether the exercise's reveal has run in this kernel yet (:func:`reveal`, called by the cell
that shows the answer). Until the reveal, a new prediction replaces the old one; after it, the
record is frozen, so a prediction changed after seeing the answer does not change what counts.

The record travels in the notebook itself, in the metadata of the check cell's output
(:data:`KEY`), and the judge reads it from the handed-in notebook (:func:`credit`): a prediction
recorded before the reveal and handed in unchanged earns the point; one recorded after the
reveal, changed after it, or with no record in the notebook (outputs cleared, check cell never
run) earns nothing, with feedback that says which — never the answer.

What it does not stop: a kernel restart forgets what was revealed, and the notebook's JSON can be
edited by hand. Predictions are formative: the point rewards committing to a guess, the reveal
teaches.
"""
from __future__ import annotations

from typing import Any

KEY = "mammokit/prediction"
_records: dict[str, dict[str, Any]] = {}
_revealed: set[str] = set()


def note(name: str, value: Any) -> dict[str, Any]:
    """Record a well-formed prediction (plain data); returns the record that counts."""
    if name not in _revealed:
        _records[name] = {"name": name, "value": value, "before_reveal": True}
    elif name not in _records:
        _records[name] = {"name": name, "value": value, "before_reveal": False}
    return dict(_records[name])


def message(record: dict[str, Any], value: Any) -> str:
    """What the check says about a recorded prediction (never whether it is right)."""
    if not record["before_reveal"]:
        return (f"your prediction {value!r} came after the answer was shown: it earns no credit. Next time, "
                "predict and check before running the cell that reveals it")
    if record["value"] != value:
        return (f"you changed your prediction to {value!r} after the answer was shown; the one recorded before "
                f"it, {record['value']!r}, is what counts")
    return f"prediction recorded: {value!r}. Now run the cells below and compare"


class Reveal:
    """The answer of a predict exercise, shown beside the student's recorded prediction."""

    def __init__(self, name: str, truth: Any, record: dict[str, Any] | None):
        self.name, self.truth, self.record = name, truth, record

    def __repr__(self) -> str:
        if self.record is None or not self.record["before_reveal"]:
            said = "you recorded no prediction before this cell (write one and run its check first next time)"
        else:
            said = f"you predicted {self.record['value']!r}"
        return f"{self.name}: the answer is {self.truth!r}; {said}."

    def _repr_markdown_(self) -> str:
        return f"🔎 **{self.name}** — {repr(self).split(': ', 1)[1]}"


def reveal(name: str, truth: Any) -> Reveal:
    """Show the answer of predict exercise ``name``; from now on its prediction record is frozen."""
    _revealed.add(name)
    return Reveal(name, truth, _records.get(name))


def saved_records(nb: dict, name: str) -> list[dict[str, Any]]:
    """The prediction records of exercise ``name`` in a notebook's saved outputs, in cell order."""
    found = []
    for cell in nb.get("cells", []):
        for output in cell.get("outputs", []) if cell.get("cell_type") == "code" else []:
            record = (output.get("metadata") or {}).get(KEY)
            if isinstance(record, dict) and record.get("name") == name:
                found.append(record)
    return found


def credit(nb: dict, name: str, value: Any) -> str | None:
    """None if the handed-in prediction ``value`` was recorded before the reveal, else why not."""
    records = saved_records(nb, name)
    if not records:
        return ("no record of your prediction in the handed-in notebook: run its check cell before the cell "
                "that reveals the answer, and hand the notebook in with its outputs")
    record = records[-1]
    if not record.get("before_reveal"):
        return "your prediction was recorded after the answer was shown"
    if record.get("value") != value:
        return "the prediction you handed in is not the one you recorded before the answer was shown"
    return None
