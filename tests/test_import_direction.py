"""Imports point down (STYLE.md): a small walk over the source's import statements, lazy ones included.

Layers, bottom up: ``kit``/``errors``/``config`` → ``db`` → the domains (``accounts``, ``catalogue``,
``orders``, ``payments``, ``providers``, …) → HTTP plumbing (``api``) and the domains' edge modules
(``api.py``, ``*_api.py``, ``schemas.py``) → ``web`` → the composition roots (``app``, ``cli``,
``worker``, ``reactions``, ``models_registry``, ``tasks_registry``). The composition roots
``reactions``, ``models_registry`` and ``tasks_registry`` wire every domain together and are loaded
lazily by the module that needs them (``orders.audit``, ``db``, ``outbox.tasks``): those edges are
the only ones allowed to point up.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"
PACKAGE = SRC / "boxoffice"

ROOTS = {
    "boxoffice.app",
    "boxoffice.cli",
    "boxoffice.worker",
    "boxoffice.reactions",
    "boxoffice.models_registry",
    "boxoffice.tasks_registry",
}
LAZY_ROOTS = {"boxoffice.reactions", "boxoffice.models_registry", "boxoffice.tasks_registry"}
EDGE_NAMES = ("api", "schemas")
# Modules of plain functions and values: no database, no HTTP, no provider.
PURE_NAMES = ("rules", "policies", "actions")
# Cycles not yet untangled, each between two modules of one domain, named so none is added unnoticed.
KNOWN_CYCLES = {
    frozenset({"boxoffice.outbox.broker", "boxoffice.outbox.dispatch", "boxoffice.outbox.runner"}),
    frozenset({"boxoffice.providers.paypal.provider", "boxoffice.providers.paypal.webhooks"}),
}


def _modules() -> dict[str, Path]:
    found = {}
    for path in PACKAGE.rglob("*.py"):
        if "migrations" in path.parts:
            continue
        name = ".".join(path.with_suffix("").relative_to(SRC).parts).removesuffix(".__init__")
        found[name] = path
    return found


MODULES = _modules()


def _imports(path: Path) -> Iterator[tuple[str, int]]:
    """Every ``boxoffice`` module ``path`` imports at run time (``TYPE_CHECKING`` blocks left out)."""
    tree = ast.parse(path.read_text())
    skipped: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skipped.update(id(child) for child in ast.walk(node))
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("boxoffice"):
            for alias in node.names:
                full = f"{node.module}.{alias.name}"
                yield (full if full in MODULES else node.module), node.lineno
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("boxoffice"):
                    yield alias.name, node.lineno


def _is_edge(module: str) -> bool:
    last = module.rsplit(".", 1)[-1]
    return last in EDGE_NAMES or last.endswith("_api")


def _layer(module: str) -> int:
    parts = module.split(".")
    top = ".".join(parts[:2])
    if top in ROOTS:
        return 5
    if len(parts) < 2 or parts[1] in ("kit", "errors", "config"):
        return 0
    if parts[1] == "db":
        return 1
    if parts[1] == "web":
        return 4
    if parts[1] == "api" or _is_edge(module):
        return 3
    return 2


GRAPH = {module: sorted(set(_imports(path))) for module, path in MODULES.items()}


def test_no_module_imports_a_layer_above_its_own() -> None:
    upward = [
        f"{module}:{line} imports {target}"
        for module, targets in GRAPH.items()
        for target, line in targets
        if target not in LAZY_ROOTS and _layer(target) > _layer(module)
    ]
    assert upward == []


def _is_pure(module: str) -> bool:
    last = module.rsplit(".", 1)[-1]
    return last in PURE_NAMES or last.endswith("_rules")


def test_pure_modules_import_only_the_kit_and_other_pure_modules() -> None:
    """``rules.py`` and its kin answer questions like "when is an order paid?" without I/O (STYLE.md rule 1)."""
    found = [
        f"{module} imports {target}"
        for module, targets in GRAPH.items()
        if _is_pure(module)
        for target, _ in targets
        if _layer(target) != 0 and not _is_pure(target) and target.rsplit(".", 1)[0] != module.rsplit(".", 1)[0]
    ]
    assert found == []


def _cycles() -> list[frozenset[str]]:
    """Strongly connected groups of modules (Tarjan), leaving out the lazily loaded composition roots."""
    edges = {m: [t for t, _ in targets if t in MODULES and t not in LAZY_ROOTS] for m, targets in GRAPH.items()}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[frozenset[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in edges[node]:
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group = set()
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.add(member)
                if member == node:
                    break
            if len(group) > 1:
                found.append(frozenset(group))

    for node in edges:
        if node not in index:
            visit(node)
    return found


def test_there_are_no_import_cycles_but_the_known_ones() -> None:
    assert [sorted(c) for c in _cycles() if c not in KNOWN_CYCLES] == []
