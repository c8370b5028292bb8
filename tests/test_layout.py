"""The data flow stays one straight line: no module imports one to its right (lazy imports
inside functions included). Infrastructure modules may be used anywhere."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "mammokit"
INFRASTRUCTURE = {"backend", "checks", "errors", "files", "paths", "runs", "seed"}
ORDER = [  # left to right; modules on one line are siblings; a subpackage (data, plots, course) is one place
    {"data"}, {"preprocess"}, {"roi", "widgets"}, {"features", "splits"}, {"augment"}, {"models", "transfer"},
    {"datasets"}, {"train"}, {"finetune", "patches"}, {"evaluate", "explain"}, {"crossval", "recipes", "detector"},
    {"leakage", "paper", "exercises"}, {"plots"}, {"course", "cli"},
]
MAX_LINES = 400  # a longer module holds more than one concept: split it
RANK = {name: i for i, names in enumerate(ORDER) for name in names}


def _top(module: str) -> str:
    return module.split(".")[1] if module.startswith("mammokit.") else ""


def _imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            if node.module == "mammokit":
                found |= {alias.name for alias in node.names}
            elif node.module.startswith("mammokit."):
                found.add(_top(node.module))
        elif isinstance(node, ast.Import):
            found |= {_top(alias.name) for alias in node.names if alias.name.startswith("mammokit.")}
    return found - {""}


def _modules() -> list[tuple[str, Path]]:
    out = []
    for path in sorted(PACKAGE.rglob("*.py")):
        name = path.relative_to(PACKAGE).parts[0].removesuffix(".py")
        if name not in ("__init__", "__main__"):
            out.append((name, path))
    return out


def test_every_module_has_a_place_in_the_flow():
    names = {name for name, _ in _modules()}
    assert names <= set(RANK) | INFRASTRUCTURE, f"place these in ORDER: {names - set(RANK) - INFRASTRUCTURE}"


@pytest.mark.parametrize("name, path", _modules(), ids=lambda v: str(v) if isinstance(v, str) else v.name)
def test_no_module_imports_one_to_its_right(name: str, path: Path):
    if name in INFRASTRUCTURE:
        used = _imports(path) - INFRASTRUCTURE
        assert not used, f"{path.name} is infrastructure but uses {used}"
        return
    right = {m for m in _imports(path) - INFRASTRUCTURE if RANK.get(m, -1) > RANK[name]}
    assert not right, f"{path.relative_to(PACKAGE)} imports {sorted(right)}, which come later in the data flow"


def test_no_module_is_longer_than_the_limit():
    long = {str(path.relative_to(PACKAGE)): n for _, path in _modules()
            if (n := len(path.read_text().splitlines())) > MAX_LINES}
    assert not long, f"split these by concept (at most {MAX_LINES} lines each): {long}"


def test_the_short_names_notebooks_use_are_the_course_modules():
    import mammokit as mk
    from mammokit.course import notebook, params

    assert mk.params is params and mk.notebook is notebook
    assert mk.train.make_dataset is mk.datasets.make_dataset  # notebooks call it through train
    assert mk.course.__name__ == "mammokit.course" and not hasattr(mk.course, "resolve")
