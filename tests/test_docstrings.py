"""The array-facing public API is documented the numpydoc way (issue 22 item 7).

A public function of these modules whose signature takes or returns an array (``NDArray``,
``ArrayLike``, ``np.ndarray``) has ``Parameters`` and ``Returns`` sections, where the shape,
dtype and range of each array are written; arrays are typed with ``numpy.typing``, not
``np.ndarray`` or ``Any``. The check reads the source (ast), so no TensorFlow is imported.
"""
from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1] / "mammokit"
MODULES = sorted(["segment.py", "preprocess.py", "quality.py", "augment.py", "inflation.py", "online.py",
                  "evaluate.py", "splits.py", "datasets.py", "explain.py", "features.py", "patches.py",
                  "significance.py", "confound.py", "findings.py", "data/images.py", "data/catalog.py", "data/validate.py", "data/synthetic.py",
                  "cache.py", "checks.py", "crossval.py", "data/dicom.py", "detector.py", "finetune.py",
                  "leakage.py", "roi.py", "train.py", "widgets.py"] + [f"plots/{p.name}" for p in (ROOT / "plots").glob("*.py")])
ARRAY = re.compile(r"\b(ndarray|NDArray|ArrayLike)\b")
SECTION = re.compile(r"^\s*(Parameters|Returns|Yields)\n\s*-{3,}\s*$", re.M)


def array_facing(source: str) -> list[tuple[str, str | None, list[str]]]:
    """(name, docstring, annotations) of each public module-level function that takes or returns an array."""
    found = []
    for node in ast.parse(source).body:
        if not isinstance(node, ast.FunctionDef) or node.name.startswith("_"):
            continue
        args = node.args.posonlyargs + node.args.args + node.args.kwonlyargs + [node.args.vararg, node.args.kwarg]
        args = [a for a in args if a is not None]
        notes = [ast.unparse(a.annotation) for a in args if a.annotation is not None]
        notes += [ast.unparse(node.returns)] if node.returns is not None else []
        if any(ARRAY.search(n) for n in notes):
            found.append((node.name, ast.get_docstring(node), notes))
    return found


def missing_sections(source: str) -> list[str]:
    """'name: what is missing' for each array-facing function without numpydoc sections."""
    bad = []
    for name, doc, _ in array_facing(source):
        sections = set(SECTION.findall(doc or ""))
        lacking = {"Parameters", "Returns"} - sections - ({"Returns"} if "Yields" in sections else set())
        if lacking:
            bad.append(f"{name}: no {' / '.join(sorted(lacking))} section")
    return bad


@pytest.mark.parametrize("module", MODULES)
def test_array_facing_functions_have_parameters_and_returns_sections(module: str):
    bad = missing_sections((ROOT / module).read_text())
    assert not bad, (f"mammokit/{module}: write numpydoc Parameters/Returns (shape, dtype, range of each array; "
                     f"see CONTRIBUTING 'Docstrings') for {bad}")


@pytest.mark.parametrize("module", MODULES)
def test_arrays_are_typed_with_numpy_typing(module: str):
    bare = sorted({name for name, _, notes in array_facing((ROOT / module).read_text())
                   if any(re.search(r"\bnp\.ndarray\b", n) for n in notes)})
    assert not bare, f"mammokit/{module}: type arrays as NDArray[np.uint8] / NDArray[np.floating] / ArrayLike in {bare}"


def test_the_rule_fails_on_a_function_without_sections():
    source = ('from numpy.typing import NDArray\n'
              'def flip(image: NDArray) -> NDArray:\n    """Mirror left-right."""\n\n'
              'def twice(x: int) -> int:\n    """Not array-facing: prose is enough."""\n\n'
              'def _private(image: NDArray) -> NDArray:\n    """Private: prose is enough."""\n')
    assert missing_sections(source) == ["flip: no Parameters / Returns section"]
    documented = source.replace('"""Mirror left-right."""',
                                '"""Mirror.\n\n    Parameters\n    ----------\n    image : NDArray\n\n'
                                '    Returns\n    -------\n    NDArray\n    """')
    assert missing_sections(documented) == []
