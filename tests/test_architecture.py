"""The architecture as a test: layers, circles, function-level imports and module sizes.

The layers, bottom to top (``docs/architecture.md`` draws them):

0. ``kernels``: Numba hot loops, arrays in and out;
1. the core of ``twin``: the clock, seeds, configuration, units, CRS, errors, results;
2. ``twin.city``: the city's layers, loading, checks and importers;
3. ``twin.generate``: generated networks (may use the city's schemas);
4. the city systems ``twin.traffic``, ``twin.transit``, ``twin.water``, ``twin.compute`` and
   ``twin.hotline``; a system uses another only where :data:`SYSTEM_USES` says so;
5. ``scenarios``; 6. ``viz``; 7. ``twin_cli``, the command line.

A module may import from its own layer (within its package) or from below, never from above, and
no chain of imports may come back to where it started, counting function-level imports.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("kernels", "twin", "twin_cli", "scenarios", "viz")
SYSTEMS = ("twin.traffic", "twin.transit", "twin.water", "twin.compute", "twin.hotline", "twin.robotaxi",
           "twin.hazards", "twin.coupled")

SYSTEM_USES = {
    # Buses run through the traffic model's signalised junctions (transit signal priority).
    "twin.transit": {"twin.traffic"},
    # The coupled city (issue 19) drives each system from the hazard through their public APIs.
    "twin.coupled": {"twin.hazards", "twin.traffic", "twin.transit", "twin.water", "twin.compute"},
}
"""Which city system may import which other one (its public modules)."""

HEAVY = {
    "pandas", "matplotlib", "shapely", "scipy", "networkx", "pyogrio", "pyproj", "geopandas",
    "pyvista", "vtk", "trame_vtk", "wntr", "numba", "osmnx", "pyrosm", "gtfs_kit", "sumolib", "sumo",
    "dask", "distributed", "rich", "simpy", "pyarrow",
}
"""Third-party packages slow enough to import that a function may defer them (with a comment)."""

DEFER_WORDS = ("defer", "lazy", "lazily", "heavy", "slow", "start-up", "startup", "--help")
MAX_MODULE_LINES = 700
MAX_FUNCTION_LINES = 80


def layer_of(module: str) -> int:
    """The layer number of one of our modules (see the module docstring)."""
    top = module.split(".")[0]
    if top == "kernels":
        return 0
    if top == "twin_cli":
        return 7
    if top == "scenarios":
        return 5
    if top == "viz":
        return 6
    if module.startswith("twin.city"):
        return 2
    if module.startswith("twin.generate"):
        return 3
    if any(module == s or module.startswith(s + ".") for s in SYSTEMS):
        return 4
    return 1


def system_of(module: str) -> str | None:
    return next((s for s in SYSTEMS if module == s or module.startswith(s + ".")), None)


def our_modules() -> dict[str, Path]:
    modules = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            parts = path.relative_to(ROOT).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            modules[name] = path
    return modules


MODULES = our_modules()


def imported_names(module: str, node: ast.Import | ast.ImportFrom) -> list[str]:
    """Dotted names an import statement refers to (relative imports resolved)."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    base = node.module or ""
    if node.level:
        parts = module.split(".")
        keep = len(parts) - node.level + (1 if MODULES[module].name == "__init__.py" else 0)
        base = ".".join(parts[:keep] + ([base] if base else []))
    return [base] + [f"{base}.{alias.name}" for alias in node.names]


def resolve(name: str) -> str | None:
    """The module of ours that ``name`` names or lies in, if any."""
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name or None


class Imports(ast.NodeVisitor):
    """Every import of one module, with whether it sits inside a function."""

    def __init__(self) -> None:
        self.found: list[tuple[ast.Import | ast.ImportFrom, bool]] = []
        self._depth = 0

    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:  # noqa: N802 - ast API
        self._depth += 1
        self.generic_visit(node)
        self._depth -= 1

    visit_AsyncFunctionDef = visit_FunctionDef  # noqa: N815 - ast API

    def visit_Import(self, node: ast.Import) -> None:  # noqa: N802 - ast API
        self.found.append((node, self._depth > 0))

    visit_ImportFrom = visit_Import  # noqa: N815 - ast API


def parsed(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"))


def import_graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {name: set() for name in MODULES}
    for module, path in MODULES.items():
        visitor = Imports()
        visitor.visit(parsed(path))
        for node, _ in visitor.found:
            for name in imported_names(module, node):
                target = resolve(name)
                if target and target != module:
                    graph[module].add(target)
    return graph


def is_reexport_of_children(cycle: list[str]) -> bool:
    """A package ``__init__`` that imports its own children is not a circle worth reporting."""
    return any(
        MODULES[p].name == "__init__.py" and all(m == p or m.startswith(p + ".") for m in cycle)
        for p in cycle
    )


def strongly_connected(graph: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's strongly connected components with more than one module."""
    sys.setrecursionlimit(10_000)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                components.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return components


def test_no_circle_of_imports():
    circles = [c for c in strongly_connected(import_graph()) if not is_reexport_of_children(c)]
    assert not circles, "import circles:\n" + "\n".join(" <-> ".join(c) for c in circles)


def against_the_layering(module: str, target: str) -> str | None:
    """Why ``module`` may not import ``target``, or ``None`` if it may."""
    if layer_of(target) > layer_of(module):
        return "imports a higher layer"
    source_system, target_system = system_of(module), system_of(target)
    if source_system and target_system and source_system != target_system:
        if target_system not in SYSTEM_USES.get(source_system, set()):
            return f"{source_system} may not use {target_system} (see SYSTEM_USES)"
    if layer_of(module) == 4 and layer_of(target) == 3:
        return "a city system may not use generated networks (tests and scenarios do)"
    return None


def test_imports_follow_the_layering():
    problems = []
    for module, targets in import_graph().items():
        for target in sorted(targets):
            why = against_the_layering(module, target)
            if why:
                problems.append(f"{module} -> {target}: {why}")
    assert not problems, "\n".join(problems)


def _has_defer_comment(lines: list[str], node: ast.stmt) -> bool:
    """A comment on the import's line, or on the line just above it, saying why it is deferred."""
    window = lines[max(node.lineno - 2, 0): node.end_lineno]
    return any("#" in line and any(w in line.lower() for w in DEFER_WORDS) for line in window)


def function_level_import_problems(module: str, path: Path) -> list[str]:
    lines = path.read_text(encoding="utf-8").splitlines()
    visitor = Imports()
    visitor.visit(parsed(path))
    problems = []
    for node, in_function in visitor.found:
        if not in_function or (isinstance(node, ast.ImportFrom) and node.module == "__future__"):
            continue
        names = imported_names(module, node)
        where = f"{path.relative_to(ROOT)}:{node.lineno}"
        if any(resolve(n) for n in names):
            if not module.startswith("twin_cli"):
                problems.append(f"{where}: function-level import of our own module {names[0]}")
            continue
        root = names[0].split(".")[0]
        if root not in HEAVY:
            problems.append(f"{where}: function-level import of {root}, which is not slow to import")
        elif not _has_defer_comment(lines, node):
            problems.append(f"{where}: deferred import of {root} without a comment saying why")
    return problems


def test_function_level_imports_only_defer_heavy_packages():
    problems = [p for m, path in MODULES.items() for p in function_level_import_problems(m, path)]
    assert not problems, "\n".join(problems)


def _long_function_explained(lines: list[str], node: ast.FunctionDef) -> bool:
    """A ``# long:`` comment just above the ``def`` (or its decorators) says why it is long."""
    first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
    above = lines[max(first - 3, 0): first - 1]
    return any("# long:" in line for line in above)


def size_problems(path: Path) -> list[str]:
    lines = path.read_text(encoding="utf-8").splitlines()
    name = path.relative_to(ROOT)
    problems = []
    if len(lines) > MAX_MODULE_LINES:
        problems.append(f"{name}: {len(lines)} lines (at most {MAX_MODULE_LINES}: split the concepts)")
    for node in ast.walk(parsed(path)):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            length = node.end_lineno - node.lineno + 1
            if length > MAX_FUNCTION_LINES and not _long_function_explained(lines, node):
                problems.append(f"{name}:{node.lineno} {node.name}: {length} lines without a '# long:' reason")
    return problems


@pytest.mark.parametrize("package", PACKAGES)
def test_modules_and_functions_are_small(package):
    problems = [p for path in sorted((ROOT / package).rglob("*.py")) for p in size_problems(path)]
    assert not problems, "\n".join(problems)


def test_the_layer_check_catches_what_it_should():
    """The checks themselves: a higher layer, a foreign system and a circle are each reported."""
    assert against_the_layering("twin.engine", "scenarios.runner") == "imports a higher layer"
    assert against_the_layering("twin.water.network", "twin.traffic.model")
    assert against_the_layering("twin.transit.buses", "twin.traffic.model") is None
    assert against_the_layering("twin.traffic.model", "twin.generate.roads")
    assert strongly_connected({"a": {"b"}, "b": {"a"}, "c": set()}) == [["a", "b"]]


@pytest.mark.parametrize("module", ["twin", "twin_cli"])
def test_start_up_imports_no_heavy_package(module):
    """``import twin`` and the command line (so ``twin --help``) load none of the slow packages:
    start-up stays fast because nothing heavy is imported, not because a clock says so."""
    import subprocess

    heavy = sorted(HEAVY | {"numpy"})
    code = f"import sys, {module}; print(','.join(m for m in {heavy!r} if m in sys.modules))"
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert loaded == "", f"importing {module} loads {loaded}"
