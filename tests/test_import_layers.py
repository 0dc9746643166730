"""The package's import graph: no cycles among modules, and no layer imports a higher one.

Every ``import`` of every module under byline/ counts, wherever it is written (module level,
inside a function, under ``if TYPE_CHECKING``): a function-level import is still a dependency,
only a later one.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "byline"

#: Layers from the bottom up; a module may import its own layer and those below it, never above.
#: The data flows input -> scoring -> decision -> reporting. ``byline.detector`` combines
#: scoring, decision and reporting, so it sits above them, with the package root (its lazy
#: facade: ``from byline import Detector``). Tracing is a feature built on the detector, used by
#: the interfaces; the engines run the detector over many inputs; the interfaces (command line,
#: server) are the top. The bottom layer is what every layer shares: errors, wording, the
#: extras table and the version.
LAYERS: list[tuple[str, tuple[str, ...]]] = [
    ("shared", ("byline.errors", "byline.wording", "byline.extras", "byline.version")),
    ("input", ("byline.input",)),
    ("scoring", ("byline.scoring",)),
    ("decision", ("byline.decision",)),
    ("reporting", ("byline.reporting",)),
    ("detector", ("byline.detector", "byline")),
    ("tracing", ("byline.tracing",)),
    ("engines", ("byline.engines",)),
    ("interfaces", ("byline.interfaces", "byline.__main__")),
]


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def _imports(name: str, path: Path) -> set[str]:
    """The byline modules ``name`` imports: ``from a.b import c`` is module a.b.c when that is a
    module, else a.b (a package's ``__init__``)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            for alias in node.names:
                found.add(f"{base}.{alias.name}" if f"{base}.{alias.name}" in MODULES else base)
    return {module for module in found if module in MODULES and module != name}


GRAPH = {name: _imports(name, path) for name, path in MODULES.items()}


def _layer(module: str) -> int:
    matches = [
        (len(prefix), index)
        for index, (_, prefixes) in enumerate(LAYERS)
        for prefix in prefixes
        if module == prefix or module.startswith(prefix + ".")
    ]
    if not matches:
        raise AssertionError(f"{module} is in no layer: add it to LAYERS")
    return max(matches)[1]


def test_the_walk_sees_the_package() -> None:
    assert "byline.interfaces.cli" in GRAPH and "byline.engines.runner" in GRAPH
    assert "byline.engines.common" in GRAPH["byline.engines.runner"]
    assert "byline.interfaces.console" in GRAPH["byline.interfaces.scan_command"]


@pytest.mark.parametrize("module", sorted(MODULES))
def test_module_is_in_a_layer(module: str) -> None:
    _layer(module)


def test_no_layer_imports_a_higher_one() -> None:
    upward = [
        f"{module} ({LAYERS[_layer(module)][0]}) imports {imported} ({LAYERS[_layer(imported)][0]})"
        for module, imported_modules in GRAPH.items()
        for imported in sorted(imported_modules)
        if _layer(imported) > _layer(module)
    ]
    assert not upward, "\n".join(upward)


def test_no_import_cycles() -> None:
    cycles: list[list[str]] = []
    state: dict[str, int] = {}  # 1: on the current path, 2: finished
    path: list[str] = []

    def visit(module: str) -> None:
        state[module] = 1
        path.append(module)
        for imported in sorted(GRAPH[module]):
            if state.get(imported) == 1:
                cycles.append([*path[path.index(imported) :], imported])
            elif imported not in state:
                visit(imported)
        path.pop()
        state[module] = 2

    for module in sorted(GRAPH):
        if module not in state:
            visit(module)
    assert not cycles, "\n".join(" -> ".join(cycle) for cycle in cycles)
