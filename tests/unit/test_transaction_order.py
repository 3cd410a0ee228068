"""The order PynamoDB sends a transaction's items in, which DynamoPurchaseStore.apply relies upon.

DynamoDB answers a cancelled transaction with one reason per item, in the order the items were sent. The store
labels the reasons by listing its items as PynamoDB sends them (condition checks, then deletes, puts, updates, each
kind in the order it was added), whatever order they were added in. If an upgrade of PynamoDB changed that order,
a refusal would be mislabelled and the saga would run the wrong compensation: this test fails first.
"""

from __future__ import annotations

from typing import Any

import pytest
from pynamodb.connection import Connection
from pynamodb.transactions import TransactWrite

from persistence import keys, schema
from persistence.models import CounterItem, MarkerItem, ProductItem, TableItem, bind


class RecordingConnection(Connection):
    """Sends nothing: keeps each request it would have sent."""

    def __init__(self) -> None:
        super().__init__(region="us-east-1")
        self.requests: list[tuple[str, dict[str, Any]]] = []

    def dispatch(self, operation_name: str, operation_kwargs: dict[str, Any]) -> dict[str, Any]:
        self.requests.append((operation_name, operation_kwargs))
        return {}


def test_items_are_sent_checks_first_then_deletes_puts_and_updates_each_in_the_order_added(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # PynamoDB names the table in each item: bound to one of this test's, unbound again after it.
    for name in ("table_name", "region", "host"):
        monkeypatch.setattr(TableItem.Meta, name, getattr(TableItem.Meta, name))
    bind("transaction-order", "us-east-1", None)
    connection = RecordingConnection()
    first, second = CounterItem(*keys.counter("FIRST"), value=1), CounterItem(*keys.counter("SECOND"), value=2)

    # Added in the reverse of the order they are sent in, and two of a kind to show each kind keeps its order.
    with TransactWrite(connection=connection) as transaction:
        transaction.update(
            CounterItem(*keys.counter("UPDATED")), actions=[CounterItem.value.set(3)], add_version_condition=False
        )
        transaction.save(first)
        transaction.save(second)
        transaction.delete(MarkerItem(*keys.consumed("step:event-1")))
        transaction.condition_check(ProductItem, *keys.product("SKU-1"), condition=ProductItem.stock_available < 1)

    [(operation, request)] = connection.requests
    assert operation == "TransactWriteItems"
    sent = [
        (kind, (body.get("Key") or body["Item"])[schema.PARTITION_KEY]["S"])
        for entry in request["TransactItems"]
        for kind, body in entry.items()
    ]
    assert sent == [
        ("ConditionCheck", keys.product("SKU-1")[0]),
        ("Delete", keys.consumed("step:event-1")[0]),
        ("Put", keys.counter("FIRST")[0]),
        ("Put", keys.counter("SECOND")[0]),
        ("Update", keys.counter("UPDATED")[0]),
    ]
