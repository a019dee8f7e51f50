"""manage_all's modules import each other one way: no cycle, not even for type checking.

The graph is read from the source (every import statement, also those under
``if TYPE_CHECKING:`` and inside functions), so a cycle fails here before it
fails anyone at import time.
"""

import ast
from pathlib import Path

PACKAGE = "tools.manage_all"
PACKAGE_DIR = Path(__file__).resolve().parents[1]


def modules() -> dict[str, Path]:
    """Short module name -> file, for every module of the package but its __init__."""
    return {path.stem: path for path in PACKAGE_DIR.glob("*.py") if path.stem != "__init__"}


def imported(tree: ast.AST, names: set[str]) -> set[str]:
    """The package's modules that one module's source imports."""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level == 1:
                base = node.module
            elif node.level == 0 and node.module and node.module.startswith(f"{PACKAGE}."):
                base = node.module.removeprefix(f"{PACKAGE}.")
            elif node.level == 0 and node.module == PACKAGE:
                base = None
            else:
                continue
            if base:  # from .layout import X / from tools.manage_all.layout import X
                found.add(base.split(".")[0])
            else:  # from . import gateway, postgres
                found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith(f"{PACKAGE}."):
                    found.add(alias.name.removeprefix(f"{PACKAGE}.").split(".")[0])
    return found & names


def import_graph() -> dict[str, set[str]]:
    files = modules()
    names = set(files)
    return {name: imported(ast.parse(path.read_text()), names) for name, path in files.items()}


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle of the graph as a path (first node repeated at the end), or None."""
    state: dict[str, str] = {}  # "visiting" on the current path, "done" once explored
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = "visiting"
        path.append(node)
        for target in sorted(graph.get(node, ())):
            if state.get(target) == "visiting":
                return path[path.index(target) :] + [target]
            if target not in state:
                cycle = visit(target)
                if cycle:
                    return cycle
        path.pop()
        state[node] = "done"
        return None

    for node in sorted(graph):
        if node not in state:
            cycle = visit(node)
            if cycle:
                return cycle
    return None


def test_find_cycle_finds_one_and_only_one():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": set()}) is None
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]


def test_the_graph_is_read_from_every_kind_of_import():
    source = (
        "from . import gateway, procs\n"
        "from .layout import X\n"
        "from tools.manage_all.net import free_port\n"
        "import tools.manage_all.postgres\n"
        "if TYPE_CHECKING:\n"
        "    from .system import System\n"
        "def later():\n"
        "    from .testrun import run_tests\n"
        "import json\n"
    )
    names = {"gateway", "procs", "layout", "net", "postgres", "system", "testrun", "json"}
    assert imported(ast.parse(source), names) == names - {"json"}


def test_manage_all_has_no_import_cycle():
    graph = import_graph()
    assert {"system", "audit", "maintenance", "layout"} <= set(graph)
    cycle = find_cycle(graph)
    assert cycle is None, f"import cycle: {' -> '.join(cycle or [])}"


def test_system_knows_nothing_of_what_works_on_its_data():
    """audit and maintenance take a System; System does not call them."""
    graph = import_graph()
    assert "system" in graph["audit"] and "system" in graph["maintenance"]
    assert not graph["system"] & {"audit", "maintenance", "commands", "cli"}
