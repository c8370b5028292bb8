"""Value checks: the one home of "is this option allowed?", for notebook parameters and API options.

A :data:`Check` takes a value and returns ``None`` when it is fine, else what is allowed
("a positive integer", "one of 'all', 'masses'"), so one check serves two ends:
:mod:`mammokit.course.params` words a notebook parameter's error (and ``mammokit params``
lists what is allowed), and :func:`require` raises for a pipeline function's option.

>>> integer(1)(3) is None, integer(1)(0)
(True, 'a positive integer')
>>> require(integer(1), 8, "make_dataset: batch_size")
8
>>> require(integer(1), "eight", "make_dataset: batch_size")
Traceback (most recent call last):
...
mammokit.errors.ConfigError: make_dataset: batch_size='eight' must be a positive integer
"""
from __future__ import annotations

import dataclasses
import difflib
import functools
import numbers
from typing import Any, Callable, TypeVar

import numpy as np
import numpy.typing as npt
from numpy.typing import NDArray

from mammokit.errors import ConfigError, DataError

Check = Callable[[Any], "str | None"]  # returns a complaint, or None when the value is fine
_Class = TypeVar("_Class", bound=type)


def require(check: Check, value: Any, what: str, error: type[Exception] = ConfigError, hint: str = "") -> Any:
    """``value`` when ``check`` allows it, else ``error`` saying ``{what}={value!r} must be ...``.

    ``what`` names the option where the user wrote it (``"TrainConfig: epochs"``); ``hint``
    (e.g. ``"(paper: 0.001)"``) is appended to the message."""
    complaint = check(value)
    if complaint is not None:
        raise error(f"{what}={value!r} must be {complaint}" + (f" {hint}" if hint else ""))
    return value


def allows(check: Check, hint: str = "") -> dict[str, Any]:
    """Field metadata of an options dataclass: what the field allows, declared once beside it
    (``batch_size: int = field(default=32, metadata=allows(BATCH_SIZE))``); :func:`check_fields`
    enforces it and :func:`field_check` hands the same check to whoever else takes that knob."""
    return {"check": check, "hint": hint}


def check_fields(options: Any) -> None:
    """Raise a ConfigError naming the class and field for the first field of the dataclass
    instance ``options`` whose value its :func:`allows` metadata refuses (call it in ``__post_init__``)."""
    for f in dataclasses.fields(options):
        if "check" in f.metadata:
            require(f.metadata["check"], getattr(options, f.name), f"{type(options).__name__}: {f.name}",
                    hint=f.metadata["hint"])


def field_check(cls: type, name: str) -> Check:
    """The check a dataclass field declared with :func:`allows` (e.g. for a notebook parameter)."""
    return next(f.metadata["check"] for f in dataclasses.fields(cls) if f.name == name)


def strict_fields(cls: _Class) -> _Class:
    """Class decorator for an options dataclass (put it above ``@dataclass``): an unknown keyword
    (a misspelt key in ``Config(**settings)``, or in ``dataclasses.replace``) is a ConfigError
    naming it and the closest field, instead of Python's TypeError about ``__init__``.

    >>> @strict_fields
    ... @dataclasses.dataclass(frozen=True)
    ... class Knobs:
    ...     offset: int = 0
    >>> Knobs(ofset=3)
    Traceback (most recent call last):
    ...
    mammokit.errors.ConfigError: Knobs: unknown option 'ofset' (did you mean 'offset'?); the fields are: offset
    """
    names = [f.name for f in dataclasses.fields(cls) if f.init]
    generated = cls.__init__

    @functools.wraps(generated)
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        unknown = [k for k in kwargs if k not in names]
        if unknown:
            hints = []
            for name in unknown:
                close = difflib.get_close_matches(name, names, n=1, cutoff=0.6)
                hints.append(f"{name!r}" + (f" (did you mean {close[0]!r}?)" if close else ""))
            raise ConfigError(f"{cls.__name__}: unknown option{'s' if len(unknown) > 1 else ''} {', '.join(hints)}; "
                              f"the fields are: {', '.join(names)}")
        if len(args) > len(names):
            raise ConfigError(f"{cls.__name__}: {len(args)} values given by position, but it has {len(names)} "
                              "fields; name them (field=value)")
        generated(self, *args, **kwargs)

    cls.__init__ = __init__
    return cls


def _is_int(value: Any) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool) and value == value  # not NaN


def _range(kind: str, lo: Any, hi: Any) -> str:
    if lo is None and hi is None:
        return kind
    if hi is None:
        return "a positive integer" if (kind == "an integer" and lo == 1) else f"{kind} >= {lo}"
    if lo is None:
        return f"{kind} <= {hi}"
    return f"{kind} in [{lo}, {hi}]"


def one_of(*allowed: Any) -> Check:
    def check(value: Any) -> str | None:
        return None if value in allowed else "one of " + ", ".join(repr(a) for a in allowed)
    return check


def integer(lo: int | None = None, hi: int | None = None, *, odd: bool = False) -> Check:
    """An int (NumPy's too, never a bool) within the bounds, both included; ``odd``: odd ones only."""
    def check(value: Any) -> str | None:
        ok = _is_int(value) and (lo is None or value >= lo) and (hi is None or value <= hi)
        ok = ok and (not odd or value % 2 == 1)
        return None if ok else _range("an odd integer" if odd else "an integer", lo, hi)
    return check


def number(lo: float | None = None, hi: float | None = None, *, above: float | None = None) -> Check:
    """A real number within [lo, hi]; ``above`` excludes its bound, e.g. ``number(hi=1, above=0)`` is (0, 1]."""
    def check(value: Any) -> str | None:
        ok = _is_number(value) and (lo is None or value >= lo) and (hi is None or value <= hi)
        ok = ok and (above is None or value > above)
        if ok:
            return None
        if above is not None:
            return f"a number in ({above}, {hi if hi is not None else 'inf'}]"
        return _range("a number", lo, hi)
    return check


def boolean(value: Any) -> str | None:
    return None if isinstance(value, bool) else "True or False"


def text(value: Any) -> str | None:
    return None if isinstance(value, str) and value.strip() else "a non-empty string"


def folder(value: Any) -> str | None:
    """A folder path the kit can create or write into (not an existing file, not read-only)."""
    from mammokit.errors import OutputError
    from mammokit.files import check_output_dir

    if text(value) is not None:
        return "a folder path"
    try:
        check_output_dir(value, "folder")
    except OutputError as exc:
        return f"a folder you can write to ({str(exc).split(': ', 1)[-1]})"
    return None


def optional(check: Check) -> Check:
    """Allow ``None`` as a deliberate value (e.g. 'no limit'), besides what ``check`` allows."""
    def wrapped(value: Any) -> str | None:
        if value is None:
            return None
        complaint = check(value)
        return None if complaint is None else f"None or {complaint}"
    return wrapped


def list_of(check: Check, allow_empty: bool = False) -> Check:
    def wrapped(value: Any) -> str | None:
        if not isinstance(value, (list, tuple)) or not (value or allow_empty):
            return "a list" if allow_empty else "a non-empty list"
        for item in value:
            complaint = check(item)
            if complaint is not None:
                return f"a list whose items are {complaint}"
        return None
    return wrapped


def binary_labels(labels: npt.ArrayLike, what: str, error: type[Exception] = DataError, *, n: int | None = None,
                  hint: str = "") -> NDArray[np.int_]:
    """``labels`` as an int array of 0 (benign) / 1 (malignant), else ``error`` naming ``what``: the one
    label check (datasets raise ``DataError``, metrics their ``EvaluationError``).

    Parameters
    ----------
    labels : array_like of shape (N,), each 0 or 1
    what : str, whose labels (named in the error)
    error : the exception class raised
    n : int, how many there must be (one per image); None: any non-empty 1-D array
    hint : str, added to the error for values other than 0 / 1

    Returns
    -------
    numpy.ndarray of shape (N,), int, 0 or 1

    >>> binary_labels([0, 1, 1], "labels").tolist()
    [0, 1, 1]
    """
    y = np.asarray(labels)
    if n is not None and y.shape != (n,):
        raise error(f"{what}: expected {n} labels (one per image), got shape {y.shape}")
    if n is None and (y.ndim != 1 or y.size == 0):
        raise error(f"{what}: labels must be a non-empty 1-D array, got shape {y.shape}")
    if not np.isin(y, (0, 1)).all():
        bad = sorted(set(np.unique(y).tolist()) - {0, 1})[:5]
        raise error(f"{what}: labels must be 0 (benign) or 1 (malignant), found {bad}" + (f"; {hint}" if hint else ""))
    return y.astype(int)
