"""The table's stream, decoded: a stream record in, a typed change out.

A record comes in Lambda's event shape (`eventName`, and `dynamodb` with the item's `OldImage` and `NewImage` in
DynamoDB JSON). What it means for the readers of the stream (the outbox relay, the restock, the realtime fan-out) is
one of the changes below, built with the same models and conversions the stores use, so that no reader knows a key
prefix, an attribute name or how an order's document is written. A record that is none of them (another kind of
item, or an item removed) decodes to None: the stream carries every write to the table.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from domain.orders import Order
from domain.vehicles import Vehicle
from persistence import keys, schema
from persistence.models import OrderItem, OutboxItem, ProductItem, VehicleItem
from persistence.purchases import order_from_item
from persistence.repositories import DynamoVehicleStore

Image = Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class OrderChanged:
    """An order written: its state before (None when it was placed) and after."""

    before: Order | None
    after: Order


@dataclass(frozen=True, slots=True)
class VehicleChanged:
    """A vehicle written: its state before (None when it was added) and after."""

    before: Vehicle | None
    after: Vehicle


@dataclass(frozen=True, slots=True)
class StockChanged:
    """A product written: the stock available before (None when it was added) and after."""

    sku: str
    available_before: int | None
    available_after: int | None


@dataclass(frozen=True, slots=True)
class OutboxEventAdded:
    """An event the outbox holds for publishing, written in the transaction that made it happen."""

    event_type: str
    body: str
    order_id: str
    # The trace of the work that committed it (X-Ray's header), when that work was traced.
    trace_header: str | None = None


TableChange = OrderChanged | VehicleChanged | StockChanged | OutboxEventAdded

_WRITES = frozenset({"INSERT", "MODIFY"})


def decode(record: Mapping[str, Any]) -> TableChange | None:
    """The change a stream record describes, or None when it is not one the table's readers act upon."""
    event_name = record.get("eventName")
    images: Mapping[str, Any] = record.get("dynamodb") or {}
    if event_name not in _WRITES:
        return None  # a removal: the TTL's, or an entity deleted; no reader acts upon one
    new: Image = images.get("NewImage") or {}
    old: Image | None = images.get("OldImage") or None
    partition = str(new.get(schema.PARTITION_KEY, {}).get("S", ""))
    if partition.startswith(keys.OUTBOX_PREFIX):
        # An outbox record is written once; its later changes (none today) are not new events.
        return _outbox_event(new) if event_name == "INSERT" else None
    if partition.startswith(keys.ORDER_PREFIX):
        return OrderChanged(before=None if old is None else _order(old), after=_order(new))
    if partition.startswith(keys.VEHICLE_PREFIX):
        return VehicleChanged(before=None if old is None else _vehicle(old), after=_vehicle(new))
    if partition.startswith(keys.PRODUCT_PREFIX):
        after = ProductItem.from_raw_data(dict(new))
        return StockChanged(
            sku=after.sku,
            available_before=None if old is None else _available(ProductItem.from_raw_data(dict(old))),
            available_after=_available(after),
        )
    return None


def _order(image: Image) -> Order:
    return order_from_item(OrderItem.from_raw_data(dict(image)))


def _vehicle(image: Image) -> Vehicle:
    return DynamoVehicleStore.to_vehicle(VehicleItem.from_raw_data(dict(image)))


def _available(item: ProductItem) -> int | None:
    value = item.stock_available
    return None if value is None else int(value)


def _outbox_event(image: Image) -> OutboxEventAdded:
    item = OutboxItem.from_raw_data(dict(image))
    return OutboxEventAdded(
        event_type=item.event_type, body=item.body, order_id=item.order_id, trace_header=item.trace_header
    )
