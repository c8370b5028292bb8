"""Exercises inside the notebooks: checks that test behaviour, and a fallback that keeps going.

Each exercise asks the student to write one piece of the pipeline (a function or a value)
under a name such as ``row_index``. Its check calls the answer on fresh inputs and compares it
with the kit's own pipeline; it never reads the answer's text. The answer key (the solution
cells) is not in this package: it lives in the course's text sources (``notebooks/solutions/*.md``).

A check reaches the answer only through :func:`call` (a function answer) and :func:`value`
(a predicted value). Each turns what the answer gives into plain data (numbers, strings,
numpy arrays of numbers, lists, dicts; :func:`plain`), so an object with a rigged ``__eq__``
never reaches a comparison. The same check runs three ways:

- live, in the student's kernel: ``check(name, answer)`` raises :class:`NotAnswered` or
  :class:`WrongAnswer`; ``grader.check(name)`` shows the verdict and never raises;
- recording, in the submission's kernel at grading time: ``record(name)`` runs the check and
  writes the answer's outputs (plain data) to ``$MAMMOKIT_GRADING_RECORD``; it decides nothing;
- judging, in a fresh process that never ran the submission (``mammokit.course.judge``): the
  check runs again on the same inputs with the recorded outputs replayed, so whatever the
  submission rebinds in its own kernel (``mk.exercises.check``, numpy, builtins) cannot change
  the verdict: at most it changes its own outputs.

Inputs are drawn from fixed seeds mixed with ``$MAMMOKIT_GRADING_SEED``, which ``mammokit grade``
draws afresh for every submission. ``use(name, answer)`` returns the answer when it passes and
otherwise the kit's own pipeline function for that step (or None where there is none), and
prints which, so the cells after an exercise always run.

An exercise names the calls it does not accept (``forbids``: the package's own answer, the
library one-liner the prompt excludes; its fallback always counts as one): a function answer that
reaches one, however renamed or deep in a helper, fails with feedback naming the call and why
(live and judged alike; :mod:`mammokit.exercises.answers` says what this does and does not stop).

The checks of notebook ``NN_name`` live in ``mammokit.exercises.exNN_name`` (loaded on first use,
so notebook 01 never imports TensorFlow), generated from the cells tagged ``check`` in its course
source ``notebooks/solutions/NN_name.md`` by ``mammokit masters`` (:mod:`mammokit.course.masters`).
"""
from __future__ import annotations

import importlib
import inspect
import json
import os
import sys
from dataclasses import dataclass
from typing import Any

from mammokit import backend, profiles
from mammokit.errors import ConfigError
from mammokit.exercises import predictions
from mammokit.exercises.predictions import reveal  # noqa: F401 - mk.exercises.reveal, in the cell that shows an answer
from mammokit.exercises.answers import (Forbidden, Live, NotAnswered, Recorder, Replay, WrongAnswer,  # noqa: F401
                                       call, is_placeholder, plain, shortcut_message, unplain, value)

from mammokit.exercises.spec import RECORD_ENV, SEED_ENV, Exercise, expect, rng  # noqa: F401

NOTEBOOK_MODULES = {stem: f"ex{stem}" for stem in profiles.NOTEBOOKS}  # 01_data -> exercises.ex01_data


def _module(notebook: str):
    if notebook not in NOTEBOOK_MODULES:
        raise ConfigError(f"no exercises for notebook {notebook!r}; known: {', '.join(NOTEBOOK_MODULES)}")
    name = f"exercises.{NOTEBOOK_MODULES[notebook]}"
    if name in backend.TENSORFLOW_MODULES:
        backend.load_tensorflow()  # the same quiet import as `mk.<module>`: its checks import Keras
    return importlib.import_module(f"{__name__}.{NOTEBOOK_MODULES[notebook]}")


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


def _run(ex: Exercise, handle: Live | Replay) -> None:
    try:
        ex.check(handle)
    except NotAnswered as exc:
        raise NotAnswered(f"{ex.name}: {exc}") from None
    except WrongAnswer as exc:
        raise WrongAnswer(f"{ex.name}: {exc}") from None
    except Exception as exc:  # noqa: BLE001 - a check must report, never crash the notebook
        raise WrongAnswer(f"{ex.name}: checking `{ex.answer}` failed with {type(exc).__name__}: {exc}") from None


def check(name: str, answer: Any, *, forbid: bool = True) -> None:
    """Raise NotAnswered/WrongAnswer unless ``answer`` passes exercise ``name``; return None.
    ``forbid=False`` lets the kit test its own fallback (grading always forbids)."""
    ex = get(name)
    _run(ex, Live(answer, ex.answer, ex.shortcuts if forbid else ()))


@dataclass
class Verdict:
    """What ``grader.check`` shows: passed / not answered yet / wrong, with the reason. A
    prediction's verdict also carries its record (:mod:`~mammokit.exercises.predictions`), which
    the output keeps in the notebook for the judge; "late": made after the answer was shown."""

    name: str
    status: str  # "passed", "not answered", "wrong", "late"
    message: str = ""
    record: dict | None = None

    @property
    def passed(self) -> bool:
        return self.status == "passed"

    def __repr__(self) -> str:
        if self.record is not None:
            return f"{self.name}: {self.message}"
        if self.passed:
            return f"{self.name}: passed"
        if self.status == "not answered":
            return f"{self.name}: not answered yet. {self.message}".rstrip()
        return f"{self.name}: not yet right. {self.message}"

    def _repr_markdown_(self) -> str:
        icon = {"passed": "✅", "not answered": "⏳", "late": "⏰"}.get(self.status, "❌")
        return f"{icon} **{self.name}** — {repr(self).split(': ', 1)[1]}"

    def _repr_mimebundle_(self, include=None, exclude=None):
        data = {"text/markdown": self._repr_markdown_(), "text/plain": repr(self)}
        return (data, {predictions.KEY: self.record}) if self.record is not None else data


def _verdict(ex: Exercise, handle: Live | Replay) -> Verdict:
    try:
        _run(ex, handle)
    except NotAnswered as exc:
        return Verdict(ex.name, "not answered", str(exc).split(": ", 1)[-1].removeprefix("not answered yet: "))
    except WrongAnswer as exc:
        return Verdict(ex.name, "wrong", str(exc).split(": ", 1)[-1])
    return Verdict(ex.name, "passed")


def verdict(name: str, answer: Any, *, forbid: bool = True) -> Verdict:
    """The result of :func:`check` as a value (never raises on a wrong or missing answer)."""
    ex = get(name)
    return _verdict(ex, Live(answer, ex.answer, ex.shortcuts if forbid else ()))


def judge(name: str, events: list) -> Verdict:
    """The verdict on a recorded answer (:func:`record`'s events), with no submission code running."""
    ex = get(name)
    return _verdict(ex, Replay(events, ex.shortcuts))


def use(name: str, answer: Any, *, quiet: bool = False) -> Any:
    """The student's answer if it passes, else the kit's own function for that step (None where
    the kit has none: the next cell skips it); prints which."""
    ex = get(name)
    v = verdict(name, answer)
    if not quiet:
        reason = repr(v).split(": ", 1)[1]
        if v.passed:
            print(f"{name}: using your `{ex.answer}` (it passed its check)")
        elif ex.fallback is not None:
            print(f"{name}: using the kit's own function instead of your `{ex.answer}` ({reason})")
        else:
            print(f"{name}: skipping what uses your `{ex.answer}` ({reason})")
    return answer if v.passed else ex.fallback


def record(name: str, answer: Any = inspect.Parameter.empty) -> None:
    """Grading, in the submission's kernel: run exercise ``name``'s check on the answer (by default
    the answer variable in the caller's namespace) and append its outputs, as plain data, to the
    file ``$MAMMOKIT_GRADING_RECORD`` names. Decides nothing: the judge does, in another process."""
    ex = get(name)
    namespace = _caller_namespace()
    entry: dict[str, Any] = {"name": name, "seed": os.environ.get(SEED_ENV)}
    try:
        entry["profile"] = str(namespace["P"]["PROFILE"])
    except Exception:  # noqa: BLE001 - the setup cell did not run; the judge says so if it matters
        entry["profile"] = None
    if answer is inspect.Parameter.empty and ex.answer not in namespace:
        entry["missing"] = True
    else:
        recorder = Recorder(namespace.get(ex.answer) if answer is inspect.Parameter.empty else answer, ex.answer,
                            ex.shortcuts)
        try:
            ex.check(recorder)
        except Exception:  # noqa: BLE001 - the verdict is the judge's; the outputs so far are what counts
            pass
        entry["events"] = recorder.events
    path = os.environ.get(RECORD_ENV)
    if path:
        with open(path, "a", encoding="utf-8") as f:
            f.write(json.dumps(entry) + "\n")


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
        result = verdict(name, answer)
        if self.exercises[name].kind == "predict" and result.passed:
            said = json.loads(json.dumps(plain(answer)))
            record = predictions.note(name, said)
            late = not record["before_reveal"] or record["value"] != said
            return Verdict(name, "late" if late else "passed", predictions.message(record, said), record)
        return result

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
