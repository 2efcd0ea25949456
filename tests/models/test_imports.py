"""The modules of `models/` import each other without a circle (lazy imports inside functions
included), so each can be read, and imported, after the ones it builds on."""

import ast
from pathlib import Path

from ssmtune import models

PACKAGE = Path(models.__file__).parent


def _imports(path: Path) -> set[str]:
    """The `models` modules one file imports, anywhere in it."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module.startswith("models."):
                found.add(node.module.removeprefix("models."))
            elif node.module == "models":
                found.update(a.name for a in node.names if a.name.startswith("_"))
        elif isinstance(node, ast.Import):
            found.update(
                a.name.removeprefix("models.") for a in node.names if a.name.startswith("models.")
            )
    return found


def _graph() -> dict[str, set[str]]:
    return {p.stem: _imports(p) for p in PACKAGE.glob("_*.py") if p.name != "__init__.py"}


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import circle of `graph` (module -> modules it imports), or None."""
    done: set[str] = set()

    def visit(module: str, path: list[str]) -> list[str] | None:
        if module in path:
            return [*path[path.index(module) :], module]
        if module in done:
            return None
        for other in sorted(graph.get(module, ())):
            found = visit(other, [*path, module])
            if found:
                return found
        done.add(module)
        return None

    for module in sorted(graph):
        found = visit(module, [])
        if found:
            return found
    return None


def test_cycle_finder_finds_a_circle():
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b", "c"}, "b": {"c"}, "c": set()}) is None


def test_no_import_circle_within_models():
    graph = _graph()
    assert {"_config", "_registry", "_backbone", "_layer"} <= set(graph)
    assert _cycle(graph) is None, " -> ".join(_cycle(graph))
