"""How a check reaches an answer: as plain data, live, recorded, or replayed from a record.

See :mod:`mammokit.exercises` for the three ways a check runs. Nothing here knows an exercise.
"""
from __future__ import annotations

import base64
import json
from typing import Any, Callable

import numpy as np


class NotAnswered(AssertionError):
    """The answer is still otter's ``...`` placeholder (or a function that returns nothing)."""


class WrongAnswer(AssertionError):
    """The answer runs but disagrees with the package; the message says on what input."""


def is_placeholder(value: Any) -> bool:
    """True for otter's ``...`` placeholder and for None (a body of ``...`` returns None)."""
    return value is Ellipsis or value is None


# --- plain data: what an answer's output becomes before any check looks at it -----------------------

def plain(obj: Any, _depth: int = 0) -> Any:
    """``obj`` as JSON-able data: exact bool/int/float/str/None, numeric numpy arrays (tagged),
    lists, tuples, sets and dicts of those. Anything else (a student's class, a str subclass)
    becomes an "unsupported" marker, which :func:`unplain` turns into a WrongAnswer."""
    kind = type(obj)
    if _depth > 8:
        return {"__unsupported__": "data nested more than 8 levels deep"}
    if obj is None or kind in (bool, int, float, str):
        return obj
    if isinstance(obj, np.generic) and obj.dtype.kind in "biufcU":
        return plain(obj.item(), _depth + 1)
    if isinstance(obj, np.ndarray) or type(obj).__module__.startswith("pandas"):
        try:
            arr = np.array(obj)
        except Exception:  # noqa: BLE001 - whatever it is, it is not data the check can read
            return {"__unsupported__": kind.__name__}
        if type(arr) is np.ndarray and arr.dtype.kind in "OUS" and arr.ndim == 1:
            return [plain(v, _depth + 1) for v in arr.tolist()]
        if type(arr) is not np.ndarray or arr.dtype.kind not in "biufc":
            return {"__unsupported__": f"{kind.__name__} of {arr.dtype}"}
        arr = np.ascontiguousarray(arr)
        return {"__ndarray__": arr.dtype.str, "shape": list(arr.shape),
                "data": base64.b64encode(arr.tobytes()).decode("ascii")}
    if isinstance(obj, (list, tuple)) and (kind in (list, tuple) or hasattr(obj, "_fields")):
        items = [plain(v, _depth + 1) for v in tuple.__iter__(obj)] if isinstance(obj, tuple) else \
            [plain(v, _depth + 1) for v in list.__iter__(obj)]
        return items if kind is list else {"__tuple__": items}
    if kind in (set, frozenset):
        return {"__set__": [plain(v, _depth + 1) for v in obj]}
    if kind is dict:
        return {"__dict__": [[plain(k, _depth + 1), plain(v, _depth + 1)] for k, v in dict.items(obj)]}
    return {"__unsupported__": kind.__name__}


def unplain(data: Any, what: str = "your answer") -> Any:
    """The inverse of :func:`plain` on JSON-decoded data: builtins and numpy arrays only."""
    kind = type(data)
    if data is None or kind in (bool, int, float, str):
        return data
    if kind is list:
        return [unplain(v, what) for v in data]
    if kind is not dict:
        raise WrongAnswer(f"{what}: the grader could not read the recorded answer")
    if "__unsupported__" in data:
        raise WrongAnswer(f"{what} gave a {data['__unsupported__']}; return plain numbers, strings, numpy arrays, "
                          "lists or dicts")
    if "__ndarray__" in data:
        dtype = np.dtype(str(data["__ndarray__"]))
        if dtype.kind not in "biufc":
            raise WrongAnswer(f"{what}: the grader could not read the recorded array")
        raw = base64.b64decode(str(data["data"]))
        return np.frombuffer(raw, dtype=dtype).reshape([int(n) for n in data["shape"]]).copy()
    if "__tuple__" in data:
        return tuple(unplain(v, what) for v in data["__tuple__"])
    if "__set__" in data:
        return {_key(unplain(v, what)) for v in data["__set__"]}
    if "__dict__" in data:
        return {_key(unplain(k, what)): unplain(v, what) for k, v in data["__dict__"]}
    raise WrongAnswer(f"{what}: the grader could not read the recorded answer")


def _key(value: Any) -> Any:
    if isinstance(value, (list, dict, set, np.ndarray)):
        raise WrongAnswer("a dict key or set member must be a number or a string")
    return value


# --- handles: how a check reaches the answer (live, recording, or replaying a record) --------------

class Live:
    """The answer itself (the student's kernel): calls it, keeps only plain data of what it gives."""

    def __init__(self, answer: Any, label: str = "your answer"):
        self.answer, self.label = answer, label

    def event(self, args: tuple, kwargs: dict, what: str, encode: Callable | None, function: bool) -> dict:
        obj = self.answer
        if is_placeholder(obj):
            return {"raise": "NotAnswered", "message": f"not answered yet: replace the ... in `{self.label}` with "
                                                       "your answer"}
        if not function:
            return {"out": plain(obj)}
        if not callable(obj):
            return {"raise": "WrongAnswer", "message": f"{what} should be a function, got {type(obj).__name__}"}
        try:
            out = obj(*args, **kwargs)
        except (NotAnswered, WrongAnswer) as exc:
            return {"raise": type(exc).__name__, "message": str(exc)}
        except Exception as exc:  # the student's bug: report it as a failed check, not a crash
            return {"raise": "WrongAnswer", "message": f"{what} raised {type(exc).__name__}: {exc}"}
        if is_placeholder(out):
            return {"raise": "NotAnswered", "message": "not answered yet: your function returns nothing (still ...?)"}
        try:
            return {"out": plain(encode(out, *args) if encode else out)}
        except WrongAnswer as exc:
            return {"raise": "WrongAnswer", "message": str(exc)}
        except Exception as exc:  # noqa: BLE001 - an output the check cannot read is a wrong answer
            return {"raise": "WrongAnswer", "message": f"{what} returned something the check cannot use "
                                                       f"({type(exc).__name__}: {exc})"}

    def next(self, args, kwargs, what, encode, function) -> dict:
        event = json.loads(json.dumps(self.event(args, kwargs, what, encode, function)))
        self.log(event)
        return event

    def log(self, event: dict) -> None:
        pass


class Recorder(Live):
    """Live, and every event kept: what ``record`` writes for the judge."""

    def __init__(self, answer: Any, label: str = "your answer"):
        super().__init__(answer, label)
        self.events: list[dict] = []

    def log(self, event: dict) -> None:
        self.events.append(event)


class Replay:
    """A record, replayed in order: the judge's answer (no submission code runs)."""

    def __init__(self, events: list):
        self.events = list(events) if isinstance(events, list) else []

    def next(self, args, kwargs, what, encode, function) -> dict:
        if not self.events:
            raise WrongAnswer(f"the submission's run recorded no answer for {what} (it stopped, or was altered)")
        event = self.events.pop(0)
        return event if isinstance(event, dict) else {}


def _answer_of(event: dict, what: str) -> Any:
    if event.get("raise") == "NotAnswered":
        raise NotAnswered(str(event.get("message", "not answered yet")))
    if "raise" in event:
        raise WrongAnswer(str(event.get("message", f"{what} failed")))
    if "out" not in event:
        raise WrongAnswer(f"the grader could not read the recorded answer for {what}")
    return unplain(event["out"], what)


def _handle(answer: Any) -> Live | Replay:
    return answer if isinstance(answer, (Live, Replay)) else Live(answer)


def call(answer: Any, *args: Any, what: str = "your function", encode: Callable | None = None, **kwargs: Any) -> Any:
    """Call the student's function; plain data of its output (``encode(output, *args)`` if given).
    Placeholders raise NotAnswered, crashes a WrongAnswer naming the input."""
    return _answer_of(_handle(answer).next(args, kwargs, what, encode, True), what)


def value(answer: Any, what: str = "your answer") -> Any:
    """A predicted value as plain data (NotAnswered for the ``...`` placeholder)."""
    return _answer_of(_handle(answer).next((), {}, what, None, False), what)
