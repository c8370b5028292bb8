"""What an exercise's check cells are written with: :class:`Exercise`, :func:`rng`, :func:`expect`,
and the answer handles of :mod:`mammokit.exercises.answers` (:func:`call`, :func:`value`).

The generated modules ``mammokit/exercises/exNN_name.py`` import from here (and from ``answers``)
only, never from the package ``mammokit.exercises`` that loads them, so no import cycle runs
through ``importlib``: the package imports the modules, the modules import this.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from mammokit.errors import ConfigError
from mammokit.exercises.answers import (Forbidden, NotAnswered, WrongAnswer, call, plain,  # noqa: F401
                                       value)

RECORD_ENV, SEED_ENV = "MAMMOKIT_GRADING_RECORD", "MAMMOKIT_GRADING_SEED"


@dataclass(frozen=True)
class Exercise:
    """One auto-checked exercise, and the cells that put it into a notebook.

    ``check(answer)`` raises :class:`WrongAnswer` with a helpful message or returns None (it
    reaches the answer through :func:`call`/:func:`value` only). ``fallback`` is the kit's own
    pipeline function for the step, which the notebook uses instead of a failing answer (None:
    the cells after the exercise skip it). ``forbids`` the calls a function answer may not make
    (:class:`Forbidden`: dotted name and why). Prompt and solution live in the course source
    (``notebooks/solutions/NN_name.md``), which generates the module that declares this.
    """

    name: str
    notebook: str
    answer: str
    check: Callable[[Any], None]
    fallback: Any = None
    points: int = 1
    kind: str = "code"  # "code" (write a function/value) or "predict" (predict-then-run)
    tags: tuple[str, ...] = field(default_factory=tuple)
    forbids: tuple[Forbidden, ...] = ()

    def __post_init__(self) -> None:
        bad = [f for f in self.forbids if not isinstance(f, Forbidden)] if isinstance(self.forbids, tuple) else [0]
        if bad:
            raise ConfigError(f"{self.name}: forbids must be a tuple of mammokit.exercises.Forbidden(name, reason), "
                              f"got {self.forbids!r}")

    @property
    def shortcuts(self) -> tuple[Forbidden, ...]:
        """``forbids`` and the fallback: calling the kit's own stand-in is the plainest shortcut."""
        fallback = self.fallback
        if fallback is None or not callable(fallback):
            return self.forbids
        name = f"{getattr(fallback, '__module__', 'mammokit')}.{getattr(fallback, '__qualname__', 'fallback')}"
        own = Forbidden(name if all(p.isidentifier() for p in name.split(".")) else "mammokit.exercises.fallback",
                        f"it is the kit's own stand-in for `{self.answer}` (what mk.exercises.use falls back to)",
                        target=fallback)
        return (*self.forbids, own)


def rng(*seed: int) -> np.random.Generator:
    """A check's random inputs: its fixed ``seed`` mixed with the grading seed (0 outside grading)."""
    try:
        salt = int(os.environ.get(SEED_ENV, "0"))
    except ValueError:
        salt = 0
    return np.random.default_rng([*seed, salt] if salt else list(seed))


def expect(ok: bool, message: str) -> None:
    """Raise :class:`WrongAnswer` with ``message`` unless ``ok``."""
    if not ok:
        raise WrongAnswer(message)
