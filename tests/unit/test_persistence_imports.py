"""Persistence knows the domain and its own format, never the entry points that use it: the WebSocket connection
store keeps values whose home (runtime/principal.py, runtime/connection_state.py) imports nothing of the project."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ENTRY_POINTS = ("realtime", "sagas", "graphql_api", "local_stack", "vehicle_platform_infra")
PROJECT = ("domain", "persistence", "runtime", *ENTRY_POINTS)


def _imported(path: Path) -> Iterator[str]:
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.ImportFrom) and node.module is not None:
            yield node.module
        elif isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)


def _top(module: str) -> str:
    return module.split(".", maxsplit=1)[0]


def test_persistence_imports_no_entry_point() -> None:
    found = {
        f"{path.relative_to(ROOT)}: {module}"
        for path in sorted((ROOT / "persistence").glob("*.py"))
        for module in _imported(path)
        if _top(module) in ENTRY_POINTS
    }
    assert found == set()


def test_the_values_the_connection_store_keeps_import_nothing_of_the_project() -> None:
    for name in ("principal.py", "connection_state.py"):
        assert {_top(module) for module in _imported(ROOT / "runtime" / name)}.isdisjoint(PROJECT)
