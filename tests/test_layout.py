"""The data flow stays one straight line: no module imports one to its right (lazy imports
inside functions included), and no module imports itself back through others (a cycle), inside
a subpackage or across. Infrastructure modules may be used anywhere."""
from __future__ import annotations

import ast
import functools
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "mammokit"
INFRASTRUCTURE = {"backend", "cache", "checks", "constants", "errors", "files", "paths", "profiles", "runs", "seed"}
ORDER = [  # left to right; modules on one line are siblings; a subpackage (data, plots, course) is one place
    {"data"}, {"segment"}, {"preprocess"}, {"quality"}, {"roi", "widgets"}, {"features", "splits"}, {"augment"},
    {"inflation", "online"}, {"models", "transfer"},
    {"datasets"}, {"train"}, {"finetune", "patches"}, {"evaluate", "explain", "significance", "confound"}, {"crossval", "recipes", "detector", "domain"},
    {"leakage", "paper", "exercises", "findings"}, {"plots"}, {"course", "cli"},
]
MAX_LINES = 400  # a longer module holds more than one concept: split it
RANK = {name: i for i, names in enumerate(ORDER) for name in names}
KNOWN_CYCLES: dict[frozenset[str], str] = {  # cycles tolerated for now; each must still exist (see below)
    # Not listed, because this scan cannot see it: mammokit.exercises loads its exNN modules with
    # importlib.import_module (a string, at call time, not an import statement), so
    # exNN -> exercises/__init__ is the only edge there; that package's owner untangles it.
}


# --- the module graph: every import statement of every module --------------------------------------

def module_name(path: Path, package: Path) -> str:
    """``mammokit/data/images.py`` -> ``mammokit.data.images``; a package's ``__init__.py`` is the package."""
    parts = [package.name, *path.relative_to(package).with_suffix("").parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _deepest_known(name: str, known: set[str]) -> str | None:
    parts = name.split(".")
    for end in range(len(parts), 0, -1):
        if ".".join(parts[:end]) in known:
            return ".".join(parts[:end])
    return None


def module_imports(path: Path, package: Path, known: set[str]) -> set[str]:
    """The package's modules that ``path`` imports anywhere in its body (module level, inside
    functions, under ``if TYPE_CHECKING``), absolute or relative. ``from pkg import name`` is the
    submodule ``pkg.name`` when there is one, else ``pkg`` itself; the module itself is left out."""
    me = module_name(path, package)
    here = me if path.name == "__init__.py" else me.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found |= {_deepest_known(alias.name, known) for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: one dot is this module's package, each further dot one up
                up = here.split(".")[:len(here.split(".")) - (node.level - 1)]
                base = ".".join(up + ([node.module] if node.module else []))
            else:
                base = node.module or ""
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                found.add(sub if sub in known else _deepest_known(base, known))
    return found - {None, me}


def import_graph(package: Path) -> dict[str, set[str]]:
    """Every module of ``package`` (a folder with ``__init__.py``) -> the package modules it imports."""
    paths = {module_name(p, package): p for p in sorted(package.rglob("*.py"))}
    known = set(paths)
    return {name: module_imports(p, package, known) for name, p in paths.items()}


def find_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """One cycle ``[a, b, ..., a]`` per strongly connected group of modules (Tarjan), sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    groups: list[set[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = set()
            while True:
                w = stack.pop()
                group.add(w)
                if w == v:
                    break
            if len(group) > 1:
                groups.append(group)

    for v in sorted(graph):
        if v not in index:
            visit(v)
    cycles = []
    for group in groups:  # the shortest way from the group's first module back to it (breadth first)
        start = min(group)
        parent: dict[str, str] = {}
        queue = [start]
        while start not in parent:
            v = queue.pop(0)
            for w in sorted(graph[v] & group):
                if w not in parent:
                    parent[w] = v
                    queue.append(w)
        cycle = [start]
        while len(cycle) == 1 or cycle[-1] != start:
            cycle.append(parent[cycle[-1]])
        cycles.append(cycle[::-1])
    return sorted(cycles)


def _top(module: str) -> str:
    return module.split(".")[1] if module.count(".") >= 1 else ""


@functools.cache
def _graph() -> dict[str, set[str]]:
    return import_graph(PACKAGE)


def _imports(path: Path) -> set[str]:
    """The top-level places (``data``, ``train``, ...) a module imports."""
    return {_top(m) for m in _graph()[module_name(path, PACKAGE)]} - {""}


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


def test_no_module_imports_itself_back_through_others():
    cycles = [c for c in find_cycles(_graph()) if frozenset(c) not in KNOWN_CYCLES]
    assert not cycles, "import cycles (move the shared piece below both, or next to what uses it): " + "; ".join(
        " -> ".join(c) for c in cycles)


def test_each_known_cycle_still_exists():
    found = {frozenset(c) for c in find_cycles(_graph())}
    stale = [KNOWN_CYCLES[k] for k in KNOWN_CYCLES if k not in found]
    assert not stale, f"these cycles are gone: remove them from KNOWN_CYCLES: {stale}"


def _package(root: Path, files: dict[str, str]) -> Path:
    """A throw-away package ``root/pkg`` holding ``files`` ({relative path: source})."""
    for rel, source in {"__init__.py": "", **files}.items():
        path = root / "pkg" / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(source)
    return root / "pkg"


def test_the_cycle_finder_sees_a_cycle_inside_a_subpackage_through_lazy_and_relative_imports(tmp_path):
    pkg = _package(tmp_path, {
        "sub/__init__.py": "",
        "sub/a.py": "from pkg.sub.b import thing\n",            # absolute, at module level
        "sub/b.py": "def thing():\n    from .c import other\n",  # relative, inside a function
        "sub/c.py": "import pkg.sub.a\n",                          # plain import, closing the loop
        "sub/d.py": "from pkg.sub import a\nimport numpy\n",      # uses the cycle, is not in it
        "top.py": "from pkg.sub import d\n",
    })
    graph = import_graph(pkg)
    assert graph["pkg.sub.b"] == {"pkg.sub.c"} and graph["pkg.sub.d"] == {"pkg.sub.a"}
    assert find_cycles(graph) == [["pkg.sub.a", "pkg.sub.b", "pkg.sub.c", "pkg.sub.a"]]


def test_the_cycle_finder_sees_a_cycle_across_subpackages_and_through_a_package_init(tmp_path):
    pkg = _package(tmp_path, {
        "one/__init__.py": "from pkg.one.x import X\n",
        "one/x.py": "X = 1\n",
        "two/__init__.py": "",
        "two/y.py": "from pkg.one import X\n",                   # a name of one/__init__: the package
        "one/z.py": "def f():\n    from ..two import y\n",     # two dots: up to pkg
    })
    graph = import_graph(pkg)
    assert graph["pkg.two.y"] == {"pkg.one"} and graph["pkg.one.z"] == {"pkg.two.y"}
    assert find_cycles(graph) == []  # one/__init__ does not import z: no cycle yet
    (pkg / "one" / "__init__.py").write_text("from pkg.one.x import X\nfrom . import z\n")
    assert find_cycles(import_graph(pkg)) == [["pkg.one", "pkg.one.z", "pkg.two.y", "pkg.one"]]


def test_the_cycle_finder_passes_a_package_without_a_cycle(tmp_path):
    pkg = _package(tmp_path, {
        "sub/__init__.py": "from pkg.sub.a import A\n",
        "sub/a.py": "from pkg import base\nA = base.B\n",
        "sub/b.py": "from pkg.sub import a\nfrom .a import A\nimport os\n",
        "base.py": "B = 2\n",
        "top.py": "import pkg.sub.b\nfrom pkg.sub import A\n",
    })
    graph = import_graph(pkg)
    assert graph["pkg.top"] == {"pkg.sub.b", "pkg.sub"} and graph["pkg.sub.a"] == {"pkg.base"}
    assert find_cycles(graph) == []


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
