"""The ledger core is layered: each module imports only the layers below it, never a cycle.

journal < accounts < lots < holds < ledger (grant, spend, clawback). The test reads the
imports of each module (top-level and inside functions) instead of trusting a docstring.
"""

from __future__ import annotations

import ast
from pathlib import Path

import credits_app

ROOT = Path(credits_app.__file__).parent
LAYERS = [
    ("journal", ["services/journal.py"]),
    ("accounts", ["services/accounts.py"]),
    ("lots", ["services/lots"]),
    ("holds", ["services/holds"]),
    ("ledger", ["services/ledger.py"]),
]


def _module_name(path: Path) -> str:
    relative = path.relative_to(ROOT.parent).with_suffix("")
    parts = list(relative.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _layer_of(module: str) -> int | None:
    for index, (_, places) in enumerate(LAYERS):
        for place in places:
            prefix = "credits_app." + place.removesuffix(".py").replace("/", ".")
            if module == prefix or module.startswith(prefix + "."):
                return index
    return None


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return {name for name in found if name.startswith("credits_app.services")}


def _files(place: str) -> list[Path]:
    path = ROOT / place
    return sorted(path.rglob("*.py")) if path.is_dir() else [path]


def test_each_layer_imports_only_the_layers_below_it():
    upward = []
    for index, (name, places) in enumerate(LAYERS):
        for place in places:
            for path in _files(place):
                for imported in _imports(path):
                    layer = _layer_of(imported)
                    if layer is not None and layer > index:
                        upward.append(f"{_module_name(path)} ({name}) imports {imported}")
    assert upward == []


def test_the_layers_cover_the_whole_ledger_core():
    # A new module of the core must be placed in a layer, or this test would not guard it.
    for _, places in LAYERS:
        for place in places:
            assert _files(place), place
    assert _layer_of("credits_app.services.lots.store") == 2
    assert _layer_of("credits_app.services.holds.store") == 3
