"""Which UPPERCASE names of a notebook's kernel are its parameters, and which the grader pins.

:func:`mammokit.course.params.resolve` asks here: a kernel keeps every name it ever ran, so a
fixed typo (``NSHOW`` -> ``N_SHOW``) or a student's own ``THRESHOLD = 50`` must not count as a
parameter; only what the parameters cell set in its latest run does.
"""
from __future__ import annotations

import ast
import os
import re
from typing import Any, Mapping

_UPPER = re.compile(r"^[A-Z][A-Z0-9_]*$")


def parameter_names(namespace: Mapping[str, Any], known: set[str]) -> set[str] | None:
    """The UPPERCASE names the latest run of the parameters cell assigned, from IPython's input
    history (``In``); None outside IPython.

    The parameters cell is the latest input made only of UPPERCASE assignments that sets at least
    one ``known`` parameter name; the assignment-only inputs run right before or after it (papermill's
    injected ``-p`` cell) count with it. So a typo fixed in the parameters cell and run again is
    gone, and a student's own ``THRESHOLD = 50`` further down is never taken for a parameter.
    """
    history = namespace.get("In")
    if not isinstance(history, list) or len(history) < 2:
        return None
    assigned = [_assignments(source) for source in history[:-1]]  # the last input is this setup cell
    latest = next((i for i in range(len(assigned) - 1, -1, -1) if assigned[i] and assigned[i] & known), None)
    if latest is None:
        return set()
    names = set(assigned[latest])
    for step in (-1, 1):
        i = latest + step
        while 0 <= i < len(assigned) and assigned[i]:
            names |= assigned[i]
            i += step
    return names


def _assignments(source: Any) -> set[str] | None:
    """The UPPERCASE names a cell assigns literal values to, if it does nothing else (comments aside)."""
    if not isinstance(source, str) or not source.strip():
        return None
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return None
    names: set[str] = set()
    for node in tree.body:
        targets = node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(
            node, (ast.AnnAssign,)) else None
        if not targets or not all(isinstance(t, ast.Name) and _UPPER.match(t.id) for t in targets):
            return None
        try:
            ast.literal_eval(node.value)  # a value papermill could inject, not `P = mk.params.resolve(...)`
        except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
            return None
        names |= {t.id for t in targets}
    return names or None


def pinned_names() -> set[str]:
    """Parameters whose $MAMMOKIT_<NAME> wins over the notebook ($MAMMOKIT_PINNED, e.g. grading's PROFILE)."""
    return {n.strip() for n in os.environ.get("MAMMOKIT_PINNED", "").split(",") if n.strip()}
