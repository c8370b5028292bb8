"""Exercises inside the notebooks: checks that test behaviour, and a fallback that keeps going.

Each exercise asks the student to write one piece of the pipeline (a function or a value)
under a name such as ``row_index``. Its check calls the answer on fresh inputs and compares it
with the package, which is the answer key; it never reads the answer's text. Three entry points:

- ``check(name, answer)`` raises :class:`NotAnswered` or :class:`WrongAnswer` (both
  ``AssertionError``), and returns None when the answer passes: otter's autograder tests call it.
- ``grader.check(name)`` (a :class:`Grader`) shows the same verdict in the notebook and never
  raises, so an unanswered exercise does not stop a papermill or ``mammokit course`` run.
- ``use(name, answer)`` returns the answer when it passes and the package's reference
  otherwise, and prints which, so the cells after an exercise always run.

The exercises of notebook ``NN_name`` live in ``mammokit.exercises.exNN_name`` (loaded on first
use, so notebook 01 never imports TensorFlow).
"""
from __future__ import annotations

import importlib
import inspect
import sys
from dataclasses import dataclass, field
from typing import Any, Callable

from mammokit import backend
from mammokit.errors import ConfigError

NOTEBOOK_MODULES = {
    "01_data": "ex01_data", "02_preprocessing": "ex02_preprocessing", "03_augmentation": "ex03_augmentation",
    "04_convnet": "ex04_convnet", "05_transfer_learning": "ex05_transfer_learning", "06_evaluation": "ex06_evaluation",
}


class NotAnswered(AssertionError):
    """The answer is still otter's ``...`` placeholder (or a function that returns nothing)."""


class WrongAnswer(AssertionError):
    """The answer runs but disagrees with the package; the message says on what input."""


@dataclass(frozen=True)
class Exercise:
    """One auto-checked exercise, and the cells that put it into a notebook.

    ``check(answer)`` raises :class:`WrongAnswer` with a helpful message or returns None;
    ``reference`` is what the notebook uses instead of a failing answer. ``anchor`` is a
    distinctive substring of the notebook cell the exercise goes after; ``prompt`` the markdown
    shown to students; ``solution`` the code cell (otter's ``# BEGIN SOLUTION`` markers around
    the part students write); ``follow`` an optional cell after the check that uses the answer.
    """

    name: str
    notebook: str
    answer: str
    check: Callable[[Any], None]
    reference: Any
    anchor: str
    prompt: str
    solution: str
    follow: str = ""
    points: int = 1
    kind: str = "code"  # "code" (write a function/value) or "predict" (predict-then-run)
    tags: tuple[str, ...] = field(default_factory=tuple)


def _module(notebook: str):
    if notebook not in NOTEBOOK_MODULES:
        raise ConfigError(f"no exercises for notebook {notebook!r}; known: {', '.join(NOTEBOOK_MODULES)}")
    name = f"exercises.{NOTEBOOK_MODULES[notebook]}"
    if name in backend.TENSORFLOW_MODULES:
        backend.load_tensorflow()  # the same quiet import as `mk.<module>`: its checks import Keras
    return importlib.import_module(f"mammokit.{name}")


def for_notebook(notebook: str) -> list[Exercise]:
    """The exercises of one notebook, in the order they appear in it."""
    return list(_module(notebook).EXERCISES)


def written_questions(notebook: str) -> list[str]:
    """Short written questions for the instructor to read (not auto-graded)."""
    return list(getattr(_module(notebook), "WRITTEN", []))


def get(name: str) -> Exercise:
    """The exercise called ``name`` (``q01_row_index``: the digits say which notebook)."""
    digits = name[1:3] if len(name) > 3 else ""
    stems = [s for s in NOTEBOOK_MODULES if s.startswith(digits)] if digits.isdigit() else list(NOTEBOOK_MODULES)
    for stem in stems:
        for ex in for_notebook(stem):
            if ex.name == name:
                return ex
    raise ConfigError(f"unknown exercise {name!r}; names look like 'q01_row_index' (see mammokit.exercises)")


def is_placeholder(value: Any) -> bool:
    """True for otter's ``...`` placeholder and for None (a body of ``...`` returns None)."""
    return value is Ellipsis or value is None


def call(answer: Callable, *args: Any, what: str = "your function", **kwargs: Any) -> Any:
    """Call the student's function; placeholders raise NotAnswered, crashes a WrongAnswer naming the input."""
    if is_placeholder(answer):
        raise NotAnswered("not answered yet: replace the ... with your code")
    if not callable(answer):
        raise WrongAnswer(f"{what} should be a function, got {type(answer).__name__}")
    try:
        out = answer(*args, **kwargs)
    except (NotAnswered, WrongAnswer):
        raise
    except Exception as exc:  # the student's bug: report it as a failed check, not a crash
        raise WrongAnswer(f"{what} raised {type(exc).__name__}: {exc}") from None
    if is_placeholder(out):
        raise NotAnswered("not answered yet: your function returns nothing (still ...?)")
    return out


def expect(ok: bool, message: str) -> None:
    """Raise :class:`WrongAnswer` with ``message`` unless ``ok``."""
    if not ok:
        raise WrongAnswer(message)


def check(name: str, answer: Any) -> None:
    """Raise NotAnswered/WrongAnswer unless ``answer`` passes exercise ``name``; return None."""
    ex = get(name)
    if is_placeholder(answer):
        raise NotAnswered(f"{name}: not answered yet: replace the ... in `{ex.answer}` with your answer")
    try:
        ex.check(answer)
    except NotAnswered as exc:
        raise NotAnswered(f"{name}: {exc}") from None
    except WrongAnswer as exc:
        raise WrongAnswer(f"{name}: {exc}") from None
    except Exception as exc:  # noqa: BLE001 - a check must report, never crash the notebook
        raise WrongAnswer(f"{name}: checking `{ex.answer}` failed with {type(exc).__name__}: {exc}") from None


@dataclass
class Verdict:
    """What ``grader.check`` shows: passed / not answered yet / wrong, with the reason."""

    name: str
    status: str  # "passed", "not answered", "wrong"
    message: str = ""

    @property
    def passed(self) -> bool:
        return self.status == "passed"

    def __repr__(self) -> str:
        if self.passed:
            return f"{self.name}: passed"
        if self.status == "not answered":
            return f"{self.name}: not answered yet. {self.message}".rstrip()
        return f"{self.name}: not yet right. {self.message}"

    def _repr_markdown_(self) -> str:
        icon = {"passed": "✅", "not answered": "⏳"}.get(self.status, "❌")
        return f"{icon} **{self.name}** — {repr(self).split(': ', 1)[1]}"


def verdict(name: str, answer: Any) -> Verdict:
    """The result of :func:`check` as a value (never raises on a wrong or missing answer)."""
    try:
        check(name, answer)
    except NotAnswered as exc:
        return Verdict(name, "not answered", str(exc).split(": ", 1)[-1].removeprefix("not answered yet: "))
    except WrongAnswer as exc:
        return Verdict(name, "wrong", str(exc).split(": ", 1)[-1])
    return Verdict(name, "passed")


def use(name: str, answer: Any, *, quiet: bool = False) -> Any:
    """The student's answer if it passes, else the package's reference; prints which."""
    ex = get(name)
    v = verdict(name, answer)
    if not quiet:
        if v.passed:
            print(f"{name}: using your `{ex.answer}` (it passed its check)")
        else:
            print(f"{name}: using the package's reference for `{ex.answer}` ({repr(v).split(': ', 1)[1]})")
    return answer if v.passed else ex.reference


class Grader:
    """Stands in for ``otter.Notebook`` inside the course notebooks: ``grader.check("q01_row_index")``.

    Why not otter's own: ``otter.Notebook`` reads its tests from the notebook file on disk,
    which Colab does not have and papermill runs from another folder; the checks live in the
    package instead, so they work wherever ``mammokit`` imports. Grading still uses otter.
    """

    def __init__(self, notebook: str):
        self.notebook = notebook
        self.exercises = {ex.name: ex for ex in for_notebook(notebook)}

    def check(self, name: str, answer: Any = inspect.Parameter.empty) -> Verdict:
        """Check exercise ``name`` against the answer variable in the caller's namespace."""
        if name not in self.exercises:
            raise ConfigError(f"{self.notebook} has no exercise {name!r}; it has {', '.join(self.exercises)}")
        if answer is inspect.Parameter.empty:
            answer = _caller_namespace().get(self.exercises[name].answer, Ellipsis)
        return verdict(name, answer)

    def check_all(self) -> list[Verdict]:
        """Every exercise of the notebook, in order."""
        namespace = _caller_namespace()
        return [verdict(n, namespace.get(ex.answer, Ellipsis)) for n, ex in self.exercises.items()]


def _caller_namespace() -> dict:
    """The notebook's globals: IPython's user namespace, else the calling frame's globals."""
    shell = getattr(sys.modules.get("IPython"), "get_ipython", lambda: None)()
    if shell is not None:
        return shell.user_ns
    return inspect.stack()[2].frame.f_globals
