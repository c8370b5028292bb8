"""How a check reaches an answer: as plain data, live, recorded, or replayed from a record.

See :mod:`mammokit.exercises` for the three ways a check runs. Nothing here knows an exercise.

Shortcuts: while a check calls a function answer (live or recording), a profile hook
(``sys.setprofile``) notes whether the call reached, at any depth, a function the exercise
forbids (:class:`Forbidden`), compared by identity (an alias or a wrapper of one is caught). It
stops an honest shortcut: the package's own answer or a library one-liner, however imported,
renamed or hidden in a helper. It does not stop a deliberate cheat: the recording runs in the
submission's kernel, where code can remove the hook, patch this module or write its own record;
the judge's reading of the answer cells (``mammokit.course.judge``) catches only the plain
spellings of that, and the instructor's reading the rest. A value answer (not a function) is
computed before any check runs, so only that reading sees how.
"""
from __future__ import annotations

import base64
import functools
import inspect
import json
import sys
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from mammokit.errors import ConfigError


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


# --- shortcuts: calls an exercise forbids, noticed while the answer runs ----------------------------

UNHOOKED = "sys.setprofile"  # what a forbidden event names when the answer switched the watch off


@dataclass(frozen=True)
class Forbidden:
    """A call an exercise asks students not to make: ``name`` is its dotted path
    ("sklearn.metrics.roc_auc_score"), ``reason`` why the exercise wants the step written by hand.
    ``target`` is the object itself where the exercise holds it (its fallback); otherwise the name
    is resolved when a check runs, and only if its module is already imported (an answer cannot
    call a function of a module nobody imported, and a check never imports TensorFlow to look)."""

    name: str
    reason: str
    target: Any = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        parts = str(self.name).split(".") if isinstance(self.name, str) else []
        if len(parts) < 2 or not all(p.isidentifier() for p in parts):
            raise ConfigError(f"Forbidden name {self.name!r} is not a dotted path; write it like "
                              "'sklearn.metrics.roc_auc_score'")
        if not isinstance(self.reason, str) or not self.reason.strip():
            raise ConfigError(f"Forbidden {self.name!r} has no reason; say why the exercise asks students to write "
                              "it themselves")

    def resolve(self) -> Any:
        """The forbidden object, or None where its module is not imported (or it does not exist)."""
        if self.target is not None:
            return self.target
        parts = self.name.split(".")
        for cut in range(len(parts) - 1, 0, -1):
            module = sys.modules.get(".".join(parts[:cut]))
            if module is None:
                continue
            obj = module
            try:
                for attr in parts[cut:]:
                    obj = getattr(obj, attr)
            except AttributeError:
                return None
            return obj
        return None


def shortcut_message(name: str, forbids: tuple[Forbidden, ...] | list, what: str = "your function") -> str:
    """The feedback for an answer that used ``name``: which call, and why the exercise forbids it."""
    name = str(name)[:200]
    if name == UNHOOKED:
        return (f"{what} switched off the check for shortcuts ({UNHOOKED}); the grader cannot tell how it computes "
                "its answer, so it does not count")
    reason = next((f.reason for f in forbids if f.name == name), "this exercise asks you to write that step yourself")
    return f"{what} uses `{name}`, a shortcut this exercise does not accept: {reason}. Write that step yourself"


def _codes(obj: Any) -> list:
    """The code objects that run when ``obj`` is called (Python functions, unwrapped)."""
    if inspect.isclass(obj):
        return [c for k in ("__new__", "__init__", "__call__") if k in vars(obj) for c in _codes(vars(obj)[k])]
    if isinstance(obj, (staticmethod, classmethod)) or inspect.ismethod(obj):
        obj = obj.__func__
    if isinstance(obj, functools.partial):
        return _codes(obj.func)
    try:
        obj = inspect.unwrap(obj)
    except ValueError:
        return []
    code = getattr(obj, "__code__", None)
    return [code] if code is not None else []


class _Watch:
    """The profile hook: the first forbidden function the answer's call reaches, at any depth."""

    def __init__(self, forbids: tuple[Forbidden, ...]):
        self.codes: dict = {}
        self.builtins: dict[int, tuple[Any, str]] = {}
        for f in forbids:
            obj = f.resolve()
            if obj is None:
                continue
            for code in _codes(obj):
                self.codes.setdefault(code, f.name)
            if not _codes(obj) and callable(obj):  # a C function (cv2.threshold): the c_call event names it
                self.builtins.setdefault(id(obj), (obj, f.name))  # keeps obj alive, so its id stays its own
        self.seen: str | None = None
        self.outer: Any = None

    def __bool__(self) -> bool:
        return bool(self.codes or self.builtins)

    def __call__(self, frame, event: str, arg: Any) -> None:
        if self.outer is not None:
            self.outer(frame, event, arg)  # a check run inside the answer: the outer watch keeps watching
        if self.seen is None:
            if event == "call":
                self.seen = self.codes.get(frame.f_code)
            elif event == "c_call":
                hit = self.builtins.get(id(arg))
                self.seen = hit[1] if hit is not None and hit[0] is arg else None

    def run(self, fn: Callable, args: tuple, kwargs: dict) -> Any:
        """``fn(*args, **kwargs)`` watched; ``self.seen`` names the first forbidden call it made."""
        if not self:
            return fn(*args, **kwargs)
        previous = sys.getprofile()
        self.outer = previous if isinstance(previous, _Watch) else None
        sys.setprofile(self)
        try:
            return fn(*args, **kwargs)
        finally:
            if sys.getprofile() is not self:
                self.seen = self.seen or UNHOOKED
            sys.setprofile(previous)


# --- handles: how a check reaches the answer (live, recording, or replaying a record) --------------

class Live:
    """The answer itself (the student's kernel): calls it, keeps only plain data of what it gives."""

    def __init__(self, answer: Any, label: str = "your answer", forbids: tuple[Forbidden, ...] = ()):
        self.answer, self.label, self.forbids = answer, label, tuple(forbids)

    def event(self, args: tuple, kwargs: dict, what: str, encode: Callable | None, function: bool) -> dict:
        obj = self.answer
        if is_placeholder(obj):
            return {"raise": "NotAnswered", "message": f"not answered yet: replace the ... in `{self.label}` with "
                                                       "your answer"}
        if not function:
            return {"out": plain(obj)}
        if not callable(obj):
            return {"raise": "WrongAnswer", "message": f"{what} should be a function, got {type(obj).__name__}"}
        watch = _Watch(self.forbids)
        try:
            out = watch.run(obj, args, kwargs)
        except (NotAnswered, WrongAnswer) as exc:
            out, failed = None, {"raise": type(exc).__name__, "message": str(exc)}
        except Exception as exc:  # the student's bug: report it as a failed check, not a crash
            out, failed = None, {"raise": "WrongAnswer", "message": f"{what} raised {type(exc).__name__}: {exc}"}
        else:
            failed = None
        if watch.seen:
            return {"raise": "WrongAnswer", "forbidden": watch.seen,
                    "message": shortcut_message(watch.seen, self.forbids, what)}
        if failed:
            return failed
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

    def __init__(self, answer: Any, label: str = "your answer", forbids: tuple[Forbidden, ...] = ()):
        super().__init__(answer, label, forbids)
        self.events: list[dict] = []

    def log(self, event: dict) -> None:
        self.events.append(event)


class Replay:
    """A record, replayed in order: the judge's answer (no submission code runs). A recorded
    shortcut fails with the judge's own message (from ``forbids``), not the record's."""

    def __init__(self, events: list, forbids: tuple[Forbidden, ...] = ()):
        self.events = list(events) if isinstance(events, list) else []
        self.forbids = tuple(forbids)

    def next(self, args, kwargs, what, encode, function) -> dict:
        if not self.events:
            raise WrongAnswer(f"the submission's run recorded no answer for {what} (it stopped, or was altered)")
        event = self.events.pop(0)
        if isinstance(event, dict) and event.get("forbidden"):
            return {"raise": "WrongAnswer", "message": shortcut_message(event["forbidden"], self.forbids, what)}
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
