"""The judge: a submission's points, decided in a fresh process that never ran the submission.

``mammokit grade`` runs each submission under otter; at the end of that run every question's
test cell calls ``mk.exercises.record(name)``, which runs the check in the submission's kernel and
writes the answer's outputs on the grading seed's inputs, as plain data, to a record file. Then
this file, carried in the autograder zip (``mk_judge/judge.py``), runs as a script in a new
Python: it registers the zip's own copy of the checks (``mk_judge/exercises/``) as
``mammokit.exercises`` by path, before anything could import another, draws the same inputs
from the same seed, replays the recorded outputs and compares them with the kit's pipeline. So
nothing a submission does in its kernel (rebinding ``mk.exercises.check``, patching
``mammokit.exercises``, ``sys.modules``, numpy or builtins, answers with a rigged ``__eq__``)
reaches the comparison; at most it changes its own outputs, which then have to be right.

It also reads the submission's answer cells (as text, never run here): a cell that does not
parse is reported as a syntax error in that cell, not as a missing name; an answer function (or
a helper of the same cells it calls) that names a call its exercise forbids (``cv2.threshold``,
``mk.data.mias.patient_of``, ``from sklearn.metrics import roc_auc_score``) scores 0 with that
call named, even if the record says otherwise (the record is written in the submission's kernel,
whose code can switch the run-time check off). Self-checks at the top level of a cell are not
read: comparing your answer with the library is fine, answering with it is not. A prediction
(predict-then-run) earns its point only if the handed-in notebook's saved check output shows it
was recorded before the answer was shown (:mod:`mammokit.exercises.predictions`).

    python mk_judge/judge.py --checks mk_judge/exercises --questions mk_judge/questions.json \
        --record record.jsonl --seed 123 --submission 01_data.ipynb --out verdicts.json
"""
from __future__ import annotations

import argparse
import ast
import importlib.util
import json
import os
import re
import sys
from pathlib import Path

_QUESTION = re.compile(r"\((q\d\d_[a-z0-9_]+)\)")


def load_checks(folder: Path):
    """The autograder's checks as ``mammokit.exercises``, loaded from ``folder`` by path."""
    if "mammokit.exercises" in sys.modules:
        raise RuntimeError("mammokit.exercises is already imported: the judge must load the autograder's own checks")
    import mammokit  # the pipeline the checks compare with

    spec = importlib.util.spec_from_file_location("mammokit.exercises", folder / "__init__.py",
                                                  submodule_search_locations=[str(folder)])
    module = importlib.util.module_from_spec(spec)
    sys.modules["mammokit.exercises"] = module
    spec.loader.exec_module(module)
    mammokit.__dict__["exercises"] = module
    return module


def answer_cells(nb: dict) -> dict[str, list[str]]:
    """{question: sources of its answer cells}: each cell tagged ``otter_answer_cell`` belongs to the
    question whose prompt ("**Exercise (q01_row_index).**") came last before it."""
    found: dict[str, list[str]] = {}
    current = None
    for cell in nb.get("cells", []):
        source = cell.get("source", "")
        source = "".join(source) if isinstance(source, list) else str(source)
        if cell.get("cell_type") == "markdown":
            match = _QUESTION.search(source)
            current = match.group(1) if match else current
        elif "otter_answer_cell" in cell.get("metadata", {}).get("tags", []) and current:
            found.setdefault(current, []).append(source)
    return found


def syntax_error(source: str) -> str | None:
    """None if ``source`` (IPython magics allowed) parses, else "line N: what is wrong"."""
    try:
        from IPython.core.inputtransformer2 import TransformerManager

        python = TransformerManager().transform_cell(source)
    except Exception:  # noqa: BLE001 - IPython missing or the transform failed: parse the text as is
        python = source
    try:
        compile(python, "<answer cell>", "exec", dont_inherit=True)
    except SyntaxError as exc:
        return f"line {exc.lineno}: {exc.msg}"
    return None


_ALIASES = {"mk": "mammokit", "np": "numpy", "cv2": "cv2", "pd": "pandas"}  # the setup cells' imports


def _dotted(node: ast.AST, names: dict[str, str]) -> str | None:
    """``mk.data.mias.patient_of`` as "mammokit.data.mias.patient_of" (None: not an imported name)."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    root = names.get(node.id) if isinstance(node, ast.Name) else None
    return ".".join([root, *reversed(parts)]) if root else None


def named_shortcut(sources: list[str], answer: str, forbidden: list[str]) -> str | None:
    """The first forbidden dotted name that the answer's definition (or a helper of the same cells
    it calls by name) refers to, read from the text; None if none. A name counts if its path is
    the forbidden one, or ends the same way in the same top-level package (a re-export)."""
    trees = []
    for source in sources:
        try:
            trees.append(ast.parse(source))
        except (SyntaxError, ValueError):  # IPython magics, or reported as a syntax error already
            continue
    names = dict(_ALIASES)
    defs: dict[str, list[ast.AST]] = {}
    for node in (n for tree in trees for n in ast.walk(tree)):
        if isinstance(node, ast.Import):
            names.update({a.asname or a.name.split(".")[0]: a.name if a.asname else a.name.split(".")[0]
                          for a in node.names})
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.update({a.asname or a.name: f"{node.module}.{a.name}" for a in node.names})
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            defs.setdefault(node.name, []).append(node)
        elif isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == answer for t in node.targets):
            defs.setdefault(answer, []).append(node.value)
    wanted = {(f.split(".")[0], f.split(".")[-1]): f for f in forbidden}
    todo, done = [answer], set()
    while todo:
        name = todo.pop()
        done.add(name)
        for node in (n for d in defs.get(name, []) for n in ast.walk(d)):
            path = _dotted(node, names) if isinstance(node, (ast.Attribute, ast.Name)) else None
            if path and (path in forbidden or (path.split(".")[0], path.split(".")[-1]) in wanted):
                return path if path in forbidden else wanted[(path.split(".")[0], path.split(".")[-1])]
            if isinstance(node, ast.Name) and node.id in defs and node.id not in done:
                todo.append(node.id)
    return None


def read_record(path: Path) -> dict[str, dict]:
    """{question: its last record entry}; lines that are not JSON objects are skipped."""
    entries: dict[str, dict] = {}
    if not path.is_file():
        return entries
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        try:
            entry = json.loads(line)
        except (ValueError, RecursionError):  # the record is the submission's output: damaged is empty
            continue
        if isinstance(entry, dict) and isinstance(entry.get("name"), str):
            entries[entry["name"]] = entry
    return entries


def prediction_late(exercises, name: str, entry: dict, nb: dict) -> str | None:
    """For a predict exercise, why its (well-formed) prediction earns nothing, read from the
    handed-in notebook's saved check output (:func:`mammokit.exercises.predictions.credit`); None
    for other exercises or a prediction recorded before the reveal."""
    if exercises.get(name).kind != "predict":
        return None
    events = entry.get("events") or [{}]
    said = events[0].get("out") if isinstance(events[0], dict) else None
    return exercises.predictions.credit(nb, name, said)


def judge(questions: list[dict], record: dict[str, dict], nb: dict, seed: int, exercises) -> list[dict]:
    """One row per question: points, max_points, feedback."""
    cells = answer_cells(nb)
    rows = []
    for q in questions:
        name, points, answer = q["name"], float(q["points"]), q["answer"]
        broken = [(i, err) for i, src in enumerate(cells.get(name, []), start=1) for err in [syntax_error(src)] if err]
        entry = record.get(name)
        shortcuts = exercises.get(name).shortcuts
        named = named_shortcut(cells.get(name, []), answer, [f.name for f in shortcuts]) if shortcuts else None
        if broken:
            feedback = f"syntax error in your answer cell for {name} ({broken[0][1]}): fix it and run the cell"
        elif named:
            feedback = f"wrong: {exercises.shortcut_message(named, shortcuts, f'`{answer}`')}"
        elif entry is None:
            feedback = (f"no answer was recorded for {name}: the grading cell could not run in your notebook "
                        "(did a cell rebind `mk` or `mk.exercises`, or stop the kernel?)")
        elif entry.get("missing"):
            feedback = f"`{answer}` is not defined after your notebook ran: run its answer cell and keep the name"
        else:
            verdict = exercises.judge(name, entry.get("events") or [])
            note = "" if str(entry.get("seed")) == str(seed) else " (your run drew other inputs than the grader's)"
            late = prediction_late(exercises, name, entry, nb) if verdict.passed else None
            rows.append({"question": name, "points": points if verdict.passed and not late else 0.0,
                         "max_points": points, "feedback": f"no credit: {late}" if late else "" if verdict.passed else
                         f"{'not answered yet' if verdict.status == 'not answered' else 'wrong'}: "
                         f"{verdict.message}{note}"})
            continue
        rows.append({"question": name, "points": 0.0, "max_points": points, "feedback": feedback})
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    for name in ("checks", "questions", "record", "submission", "out"):
        parser.add_argument(f"--{name}", type=Path, required=True)
    parser.add_argument("--seed", type=int, required=True)
    args = parser.parse_args(argv)
    os.environ["MAMMOKIT_GRADING_SEED"] = str(args.seed)  # the same inputs the submission's run drew
    os.environ.pop("MAMMOKIT_GRADING_RECORD", None)
    exercises = load_checks(args.checks)
    questions = json.loads(args.questions.read_text())
    record = read_record(args.record)
    nb = json.loads(args.submission.read_text(encoding="utf-8"))
    rows = judge(questions, record, nb, args.seed, exercises)
    profiles = sorted({str(e.get("profile")) for e in record.values() if e.get("profile") is not None})
    args.out.write_text(json.dumps({"rows": rows, "profile": ",".join(profiles) or None}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
