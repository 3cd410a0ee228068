"""The single table's keys are spelled in persistence/keys.py and nowhere else.

A key prefix (`ORDER#`, `WSTOPIC#`...) or a fixed key (a list partition, an item's sort key) written anywhere else in
the project's code is a second place that knows the table's format: the day one of them changes, the other reads the
wrong items. This test reads every module's string literals and fails on any that spells a key.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

from persistence import keys

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = (
    "domain",
    "persistence",
    "sagas",
    "realtime",
    "runtime",
    "graphql/graphql_api",
    "local_stack",
    "infra/cdk/vehicle_platform_infra",
    "platform_spec",
    "composition",
    "pix",
)
KEYS_MODULE = ROOT / "persistence" / "keys.py"
# Upper-case words before a `#`: the shape of every partition key prefix of the table.
KEY_PREFIX = re.compile(r"[A-Z][A-Z0-9_]*#")
# The fixed keys whose spelling says nothing else (unlike `ORDER` or `VEHICLE`, which are also the domain's words).
FIXED_KEYS = frozenset(
    {
        keys.PRODUCTS_LIST,
        keys.ALL_ORDERS_LIST,
        keys.PAYMENTS_DUE_LIST,
        keys.STOCK_HOLDS_LIST,
        keys.OPEN_CONNECTIONS_LIST,
        keys.MARKER_SORT,
    }
)


def _modules() -> Iterator[Path]:
    for package in PACKAGES:
        yield from sorted((ROOT / package).rglob("*.py"))


def _literals(path: Path) -> Iterator[tuple[int, str]]:
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            yield node.lineno, node.value


def _spells_a_key(text: str) -> bool:
    return KEY_PREFIX.match(text) is not None or text in FIXED_KEYS


def test_no_module_but_keys_spells_a_key() -> None:
    found = [
        f"{path.relative_to(ROOT)}:{line}: {text!r}"
        for path in _modules()
        if path != KEYS_MODULE
        for line, text in _literals(path)
        if _spells_a_key(text)
    ]
    assert found == []


def test_the_check_sees_the_keys_module_spell_them() -> None:
    """The check would catch every prefix and fixed key if it were written elsewhere (as it is in keys.py)."""
    spelled = {text for _, text in _literals(KEYS_MODULE) if _spells_a_key(text)}
    prefixes = {value for name, value in vars(keys).items() if name.endswith("_PREFIX")}
    assert prefixes <= spelled
    assert spelled >= FIXED_KEYS
