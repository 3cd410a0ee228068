"""The table's stream, decoded: each item the stores write, as a stream record carries it, comes out as its typed
change, with the same domain objects the stores read back; removals and other items come out as nothing."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from domain.events import DomainEvent, EventType
from domain.order_status import InvoiceStatus, OrderStatus, VehicleStatus
from domain.orders import Invoice, Order, advance, place_vehicle_order
from persistence import keys
from persistence.models import CounterItem, TableItem
from persistence.purchases import _order_model, outbox_item
from persistence.repositories import DynamoProductStore, DynamoVehicleStore
from persistence.stream import OrderChanged, OutboxEventAdded, StockChanged, VehicleChanged, decode
from tests.unit.factories import NOW, make_product, make_vehicle


def record(event_name: str, new: TableItem, old: TableItem | None = None) -> dict[str, Any]:
    """A stream record in Lambda's event shape, its images in DynamoDB JSON as the table's stream writes them."""
    images: dict[str, Any] = {"Keys": {"PK": {"S": new.pk}, "SK": {"S": new.sk}}, "NewImage": new.serialize()}
    if old is not None:
        images["OldImage"] = old.serialize()
    return {"eventName": event_name, "dynamodb": images}


def placed_order() -> tuple[Order, DomainEvent]:
    order, event = place_vehicle_order(
        order_id="order-1",
        client_id="client-ana",
        vehicle=make_vehicle(),
        idempotency_key="key-00000001",
        correlation_id="corr-1",
        now=NOW,
    )
    return order, event


def test_an_order_written_is_its_state_before_and_after() -> None:
    placed, _ = placed_order()
    reserved = replace(advance(placed, OrderStatus.RESERVED, EventType.INVENTORY_RESERVED, NOW), version=2)
    invoiced = replace(reserved, invoice=Invoice("000000001", InvoiceStatus.PENDING, NOW))

    assert decode(record("INSERT", _order_model(placed))) == OrderChanged(before=None, after=placed)
    change = decode(record("MODIFY", _order_model(invoiced), _order_model(reserved)))
    assert isinstance(change, OrderChanged)
    assert change.before == reserved
    assert change.after == invoiced
    assert change.after.invoice is not None
    assert change.after.invoice.status is InvoiceStatus.PENDING


def test_a_vehicle_written_is_its_state_before_and_after() -> None:
    available = make_vehicle(version=1)
    reserved = replace(available, status=VehicleStatus.RESERVED, reserved_by="order-1", version=2)
    to_item = DynamoVehicleStore._to_item

    assert decode(record("INSERT", to_item(available))) == VehicleChanged(before=None, after=available)
    assert decode(record("MODIFY", to_item(reserved), to_item(available))) == VehicleChanged(available, reserved)


def test_a_product_written_is_its_available_stock_before_and_after() -> None:
    before = make_product(sku="PRD-1", stock_on_hand=3, stock_reserved=1, version=1)
    after = replace(before, stock_on_hand=8, version=2)
    to_item = DynamoProductStore._to_item

    assert decode(record("INSERT", to_item(before))) == StockChanged("PRD-1", None, 2)
    assert decode(record("MODIFY", to_item(after), to_item(before))) == StockChanged("PRD-1", 2, 7)


def test_a_new_outbox_record_is_the_event_it_holds() -> None:
    _, event = placed_order()
    item = outbox_item(event)

    assert decode(record("INSERT", item)) == OutboxEventAdded(
        event_type=EventType.ORDER_PLACED.value, body=event.to_json(), order_id="order-1"
    )
    assert decode(record("MODIFY", item, item)) is None  # written once: a later change is not a new event


def test_removals_and_other_items_are_no_change() -> None:
    placed, event = placed_order()
    # The TTL's deletion of a relayed event, and an order removed: no reader acts upon a removal.
    assert decode({"eventName": "REMOVE", "dynamodb": {"OldImage": outbox_item(event).serialize()}}) is None
    assert decode(record("REMOVE", _order_model(placed))) is None
    counter = CounterItem(*CounterItem.key(keys.INVOICE_SEQUENCE), value=1)
    assert decode(record("INSERT", counter)) is None
    assert decode({"eventName": "INSERT"}) is None
