"""The package's shape: no import circle among covkb's modules, no module
over 800 lines, no function over 100 lines (issue 19).

Read from the source with ast, nothing imported.  Every import counts, at
module level or in a function, relative ones resolved, and one under `if
TYPE_CHECKING:` (for annotations only) too: a type one module names from
another ties them as much as a call does (a Protocol, or a module of its
own both import, unties them).  A nested function counts in its parent's
length too.
"""

from __future__ import annotations

import ast
import functools
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1] / "pyapi"
PACKAGE = ROOT / "covkb"
MAX_MODULE_LINES = 800
MAX_FUNCTION_LINES = 100


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _sources() -> dict[str, tuple[Path, ast.Module]]:
    return {_module_name(p): (p, ast.parse(p.read_text(encoding="utf-8"), str(p)))
            for p in sorted(PACKAGE.rglob("*.py"))}


SOURCES = _sources()


def _imports(name: str, path: Path, tree: ast.Module) -> set[str]:
    """The covkb modules this module imports, by name: `from pkg import sub`
    imports the module pkg.sub when there is one, else a name of pkg."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in _every_import(tree):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
            continue
        if node.level:
            base = package.split(".")
            target = ".".join(base[:len(base) - node.level + 1] + ([node.module] if node.module else []))
        else:
            target = node.module or ""
        for a in node.names:
            found.add(f"{target}.{a.name}" if f"{target}.{a.name}" in SOURCES else target)
    return {m for m in found if m in SOURCES and m != name}


def _every_import(tree: ast.Module) -> list[ast.Import | ast.ImportFrom]:
    """Every import, those under `if TYPE_CHECKING:` (annotations only) too."""
    return [n for n in _statements(tree) if isinstance(n, (ast.Import, ast.ImportFrom))]


def _statements(tree: ast.Module):
    """Every statement, nested ones too (an import or a def is one)."""
    stack: list[ast.AST] = list(tree.body)
    while stack:
        node = stack.pop()
        yield node
        stack.extend(n for n in ast.iter_child_nodes(node) if isinstance(n, (ast.stmt, ast.excepthandler, ast.match_case)))


@functools.cache
def _graph() -> dict[str, set[str]]:
    return {name: _imports(name, path, tree) for name, (path, tree) in SOURCES.items()}


def _circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

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
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_the_graph_is_read() -> None:
    graph = _graph()
    assert "covkb.errors" in graph["covkb.kb"]
    assert "covkb.service.app" in SOURCES


def test_every_import_is_read_type_only_ones_too() -> None:
    tree = ast.parse("from . import forms\nfrom ..policy import Policy\nif TYPE_CHECKING:\n    from ..kb import X\n"
                     "def f():\n    from ..errors import CovkbError\n    import covkb.render\n")
    assert _imports("covkb.web.pages", PACKAGE / "web" / "pages.py", tree) == {
        "covkb.web.forms", "covkb.policy", "covkb.kb", "covkb.errors", "covkb.render"}


def test_no_import_circle() -> None:
    circles = _circles(_graph())
    assert not circles, "import circles: " + "; ".join(" <-> ".join(c) for c in circles)


def test_the_circle_finder_finds_one() -> None:
    assert _circles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_module_length() -> None:
    long = []
    for path, _ in SOURCES.values():
        n = len(path.read_text(encoding="utf-8").splitlines())
        if n > MAX_MODULE_LINES:
            long.append(f"{path.relative_to(ROOT)}: {n} lines")
    assert not long, f"modules over {MAX_MODULE_LINES} lines: " + "; ".join(long)


def test_function_length() -> None:
    long = []
    for path, tree in SOURCES.values():
        for node in _statements(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                n = node.end_lineno - node.lineno + 1
                if n > MAX_FUNCTION_LINES:
                    long.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.name}: {n} lines")
    assert not long, f"functions over {MAX_FUNCTION_LINES} lines: " + "; ".join(long)
