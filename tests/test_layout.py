"""The package's shape: no import cycles, no borrowed private names, a declared public surface."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

PACKAGE = Path(__file__).parents[1] / "syncer"


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def _top_level_imports(tree: ast.Module) -> Iterator[ast.ImportFrom | ast.Import]:
    """Imports run when the module is imported: not those inside functions or TYPE_CHECKING."""
    for node in tree.body:
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node
        elif isinstance(node, ast.If) and "TYPE_CHECKING" not in ast.unparse(node.test):
            yield from (n for n in node.body if isinstance(n, ast.Import | ast.ImportFrom))


def _targets(node: ast.Import | ast.ImportFrom, module: str) -> Iterator[str]:
    """The syncer modules an import statement makes Python import."""
    if isinstance(node, ast.Import):
        yield from (alias.name for alias in node.names if alias.name in MODULES)
        return
    base = node.module or ""
    if node.level:
        package = module.split(".")[: -node.level] if module in MODULES else []
        base = ".".join([*package, base] if base else package)
    for alias in node.names:
        candidate = f"{base}.{alias.name}"
        yield candidate if candidate in MODULES else base
    # Importing ``a.b.c`` imports ``a`` and ``a.b`` first; a module's own enclosing packages
    # are already being imported, so they are no edge.
    parts = base.split(".")
    for i in range(1, len(parts)):
        package = ".".join(parts[:i])
        if not module.startswith(package + "."):
            yield package


def _graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for module, path in MODULES.items():
        tree = ast.parse(path.read_text(), str(path))
        graph[module] = {
            target
            for node in _top_level_imports(tree)
            for target in _targets(node, module)
            if target in MODULES and target != module
        }
    return graph


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(module: str) -> list[str] | None:
        state[module] = 1
        stack.append(module)
        for target in sorted(graph[module]):
            if state.get(target) == 1:
                return [*stack[stack.index(target) :], target]
            if target not in state and (found := visit(target)):
                return found
        stack.pop()
        state[module] = 2
        return None

    for module in sorted(graph):
        if module not in state and (found := visit(module)):
            return found
    return None


def test_the_package_has_no_import_cycles() -> None:
    cycle = _cycle(_graph())
    assert cycle is None, " -> ".join(cycle or [])


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set()}) is None


@pytest.mark.parametrize("module", sorted(MODULES))
def test_no_module_imports_another_modules_private_name(module: str) -> None:
    tree = ast.parse(MODULES[module].read_text())
    borrowed = [
        f"{node.module}.{alias.name}"
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom)
        for alias in node.names
        if alias.name.startswith("_") and not alias.name.startswith("__")
    ]
    assert borrowed == []


PUBLIC = sorted(m for m in MODULES if not m.split(".")[-1].startswith("_") and m != "syncer")


@pytest.mark.parametrize("module", PUBLIC)
def test_every_public_module_declares_its_public_names(module: str) -> None:
    tree = ast.parse(MODULES[module].read_text())
    declared = [
        node
        for node in tree.body
        if isinstance(node, ast.Assign)
        and any(isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets)
    ]
    defined = {
        node.name
        for node in tree.body
        if isinstance(node, ast.FunctionDef | ast.ClassDef) and not node.name.startswith("_")
    }
    if not defined:
        return  # a package marker or a module with nothing to export
    assert declared, f"{module} defines {sorted(defined)[:3]}... but no __all__"
    names = set(ast.literal_eval(declared[0].value))
    assert defined <= names, f"not in __all__: {sorted(defined - names)}"
