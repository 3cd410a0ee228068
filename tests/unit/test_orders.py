"""Orders as values: what placing one makes, which moves the state machine lets through, totals, fingerprints."""

from __future__ import annotations

from datetime import timedelta

import pytest

from domain.errors import Conflict, InvalidTransition, ValidationFailed
from domain.events import ClientValidated, EventType
from domain.order_status import CancellationReason, OrderStatus, VehicleStatus
from domain.orders import (
    HistoryEntry,
    ItemKind,
    Order,
    OrderItem,
    Payment,
    PaymentStatus,
    advance,
    await_payment,
    cancel,
    note,
    owe_refund,
    parse_idempotency_key,
    place_vehicle_order,
    request_fingerprint,
    with_payment_status,
)
from domain.values import Money
from tests.unit.factories import NOW, make_vehicle

S = OrderStatus
R = CancellationReason
KEY = "3f1c2a9e-8b7d-4c6e-a5f4-0e1d2c3b4a59"
LATER = NOW + timedelta(minutes=3)


def _placed(price: str = "189900.00") -> Order:
    order, _ = place_vehicle_order(
        order_id="order-1",
        client_id="client-ana",
        vehicle=make_vehicle(vehicle_id="vehicle-1", price=price),
        idempotency_key=KEY,
        correlation_id="corr-1",
        now=NOW,
    )
    return order


def _at(status: OrderStatus) -> Order:
    """An order walked along the happy path (or cancelled) to `status`."""
    order = _placed()
    path = {
        S.PLACED: [],
        S.RESERVED: [S.RESERVED],
        S.AWAITING_PAYMENT: [S.RESERVED, S.AWAITING_PAYMENT],
        S.PAID: [S.RESERVED, S.AWAITING_PAYMENT, S.PAID],
        S.COMPLETED: [S.RESERVED, S.AWAITING_PAYMENT, S.PAID, S.COMPLETED],
        S.PENDING_STOCK: [S.PENDING_STOCK],
        S.CANCELLED: [S.CANCELLED],
    }[status]
    for target in path:
        order = advance(order, target, EventType.ORDER_PLACED, NOW)
    return order


# --- placing ----------------------------------------------------------------------------------------------------


def test_a_vehicle_order_is_placed_at_the_vehicles_price() -> None:
    vehicle = make_vehicle(vehicle_id="vehicle-9", brand="Honda", model="Civic", year=2024, color="Preto")
    order, event = place_vehicle_order(
        order_id="order-1",
        client_id="client-ana",
        vehicle=vehicle,
        idempotency_key=f"  {KEY}  ",
        correlation_id="corr-1",
        now=NOW,
    )
    assert order.status is S.PLACED
    assert order.items == (
        OrderItem(ItemKind.VEHICLE, "vehicle-9", "Honda Civic 2024 Preto", 1, Money.parse("189900.00")),
    )
    assert order.total == Money.parse("189900.00")
    assert order.vehicle_id == "vehicle-9"
    assert order.idempotency_key == KEY
    assert (order.placed_at, order.updated_at) == (NOW, NOW)
    assert order.history == (HistoryEntry(S.PLACED, "OrderPlaced", NOW),)
    assert order.version == 0
    assert (order.cancellation_reason, order.payment, order.refund_owed) == (None, None, None)
    assert not order.is_terminal
    assert event.event_type is EventType.ORDER_PLACED
    assert (event.order_id, event.correlation_id, event.occurred_at) == ("order-1", "corr-1", NOW)
    assert dict(event.payload) == {
        "clientId": "client-ana",
        "vehicleId": "vehicle-9",
        "total": "189900.00",
        "items": [{"ref": "vehicle-9", "kind": "VEHICLE", "quantity": 1}],
    }


def test_a_sold_vehicle_cannot_be_ordered() -> None:
    with pytest.raises(Conflict) as caught:
        place_vehicle_order(
            order_id="order-1",
            client_id="client-ana",
            vehicle=make_vehicle(status=VehicleStatus.SOLD),
            idempotency_key=KEY,
            correlation_id="corr-1",
            now=NOW,
        )
    assert caught.value.field == "vehicleId"


def test_a_reserved_vehicle_may_be_ordered_the_saga_decides() -> None:
    order, _ = place_vehicle_order(
        order_id="order-1",
        client_id="client-ana",
        vehicle=make_vehicle(status=VehicleStatus.RESERVED),
        idempotency_key=KEY,
        correlation_id="corr-1",
        now=NOW,
    )
    assert order.status is S.PLACED


@pytest.mark.parametrize("key", [KEY, "abcdefgh", "A" * 100, "order_2025.06:15-01", " padded-key-1 "])
def test_idempotency_keys_that_fit_are_accepted(key: str) -> None:
    assert parse_idempotency_key(key) == key.strip()


@pytest.mark.parametrize(
    "key", ["", "       ", "abcdefg", "A" * 101, "with space1", "slash/1234", "ação-12345", "k\n12345678"]
)
def test_idempotency_keys_that_do_not_fit_are_refused(key: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        parse_idempotency_key(key)
    assert caught.value.field == "idempotencyKey"
    assert "8-100" in caught.value.message


# --- transitions --------------------------------------------------------------------------------------------------


def test_advancing_records_each_step_in_the_history() -> None:
    order = _placed()
    order = advance(order, S.RESERVED, EventType.INVENTORY_RESERVED, NOW + timedelta(seconds=1))
    order = advance(order, S.AWAITING_PAYMENT, EventType.PAYMENT_REQUESTED, LATER, "code PAY-1")
    assert order.status is S.AWAITING_PAYMENT
    assert order.updated_at == LATER
    assert order.placed_at == NOW
    assert order.history == (
        HistoryEntry(S.PLACED, "OrderPlaced", NOW),
        HistoryEntry(S.RESERVED, "InventoryReserved", NOW + timedelta(seconds=1)),
        HistoryEntry(S.AWAITING_PAYMENT, "PaymentRequested", LATER, "code PAY-1"),
    )


@pytest.mark.parametrize(
    ("current", "target"),
    [
        (S.PLACED, S.AWAITING_PAYMENT),
        (S.PLACED, S.PAID),
        (S.PLACED, S.COMPLETED),
        (S.PLACED, S.PLACED),
        (S.RESERVED, S.PAID),
        (S.RESERVED, S.PLACED),
        (S.AWAITING_PAYMENT, S.COMPLETED),
        (S.AWAITING_PAYMENT, S.RESERVED),
        (S.PAID, S.AWAITING_PAYMENT),
        (S.COMPLETED, S.CANCELLED),
        (S.COMPLETED, S.PAID),
        (S.CANCELLED, S.RESERVED),
        (S.CANCELLED, S.PLACED),
    ],
)
def test_advance_refuses_illegal_moves(current: OrderStatus, target: OrderStatus) -> None:
    order = _at(current)
    with pytest.raises(InvalidTransition) as caught:
        advance(order, target, EventType.ORDER_PLACED, LATER)
    assert (caught.value.current, caught.value.target) == (current.value, target.value)
    assert caught.value.code == "CONFLICT"


def test_note_records_a_step_without_moving_the_status() -> None:
    order = note(_at(S.AWAITING_PAYMENT), EventType.PAYMENT_EXPIRED, LATER, "expired")
    assert order.status is S.AWAITING_PAYMENT
    assert order.history[-1] == HistoryEntry(S.AWAITING_PAYMENT, "PaymentExpired", LATER, "expired")
    assert order.updated_at == LATER


# --- cancelling ---------------------------------------------------------------------------------------------------


def test_cancel_records_the_reason() -> None:
    order = cancel(_at(S.AWAITING_PAYMENT), R.PAYMENT_EXPIRED, LATER)
    assert order.status is S.CANCELLED
    assert order.cancellation_reason is R.PAYMENT_EXPIRED
    assert order.is_terminal
    assert order.history[-1] == HistoryEntry(S.CANCELLED, "OrderCancelled", LATER, "PAYMENT_EXPIRED")


def test_cancel_keeps_a_given_detail() -> None:
    order = cancel(_placed(), R.VEHICLE_UNAVAILABLE, LATER, "vehicle-1 was sold")
    assert order.history[-1].detail == "vehicle-1 was sold"


@pytest.mark.parametrize(
    ("current", "reason"),
    [
        (S.PAID, R.CUSTOMER_CANCELLED),
        (S.COMPLETED, R.CUSTOMER_CANCELLED),
        (S.CANCELLED, R.CUSTOMER_CANCELLED),
        (S.PLACED, R.PAYMENT_EXPIRED),
        (S.RESERVED, R.PAYMENT_FAILED),
        (S.PAID, R.PAYMENT_EXPIRED),
        (S.AWAITING_PAYMENT, R.CLIENT_INVALID),
        (S.RESERVED, R.VEHICLE_UNAVAILABLE),
        (S.COMPLETED, R.OUT_OF_STOCK),
    ],
)
def test_cancel_refuses_a_reason_outside_its_stage(current: OrderStatus, reason: CancellationReason) -> None:
    order = _at(current)
    with pytest.raises(InvalidTransition) as caught:
        cancel(order, reason, LATER)
    assert caught.value.current == current.value
    assert caught.value.target == f"CANCELLED ({reason.value})"


@pytest.mark.parametrize("current", [S.PLACED, S.PENDING_STOCK, S.RESERVED, S.AWAITING_PAYMENT])
def test_the_customer_may_cancel_before_payment(current: OrderStatus) -> None:
    assert cancel(_at(current), R.CUSTOMER_CANCELLED, LATER).cancellation_reason is R.CUSTOMER_CANCELLED


# --- payment --------------------------------------------------------------------------------------------------


def test_awaiting_payment_carries_the_payment_and_says_so_in_the_history() -> None:
    payment = Payment("PAY-ABC", Money.parse("189900.00"), NOW + timedelta(minutes=30))
    order = await_payment(_at(S.RESERVED), payment, LATER)
    assert order.status is S.AWAITING_PAYMENT
    assert order.payment == payment
    assert order.payment.status is PaymentStatus.PENDING
    assert order.history[-1].detail == "payment PAY-ABC: 189900.00 until 2025-06-15T12:30:00+00:00"


def test_payment_status_changes_only_when_there_is_a_payment() -> None:
    assert with_payment_status(_placed(), PaymentStatus.PAID) == _placed()
    payment = Payment("PAY-ABC", Money.parse("10.00"), LATER)
    order = with_payment_status(await_payment(_at(S.RESERVED), payment, NOW), PaymentStatus.EXPIRED)
    assert order.payment is not None
    assert order.payment.status is PaymentStatus.EXPIRED


def test_a_refund_owed_is_recorded_without_changing_the_status() -> None:
    payment = Payment("PAY-ABC", Money.parse("189900.00"), LATER)
    order = cancel(await_payment(_at(S.RESERVED), payment, NOW), R.CUSTOMER_CANCELLED, NOW)
    owed = owe_refund(order, Money.parse("189900.00"), LATER)
    assert owed.status is S.CANCELLED
    assert owed.cancellation_reason is R.CUSTOMER_CANCELLED
    assert owed.refund_owed == Money.parse("189900.00")
    assert owed.payment is not None
    assert owed.payment.status is PaymentStatus.REFUND_OWED
    assert owed.payment.received == Money.parse("189900.00")
    assert owed.history[-1] == HistoryEntry(
        S.CANCELLED, "RefundOwed", LATER, "payment of 189900.00 received after cancellation"
    )


# --- totals and fingerprints -----------------------------------------------------------------------------------


def test_the_total_is_the_exact_sum_of_the_items() -> None:
    items = (
        OrderItem(ItemKind.PRODUCT, "PRD-1", "Tapete", 3, Money.parse("149.90")),
        OrderItem(ItemKind.PRODUCT, "PRD-2", "Calota", 4, Money.parse("0.10")),
        OrderItem(ItemKind.VEHICLE, "vehicle-1", "Toyota Corolla", 1, Money.parse("189900.99")),
    )
    order = Order(
        id="order-1",
        client_id="client-ana",
        items=items,
        status=S.PLACED,
        idempotency_key=KEY,
        correlation_id="corr-1",
        placed_at=NOW,
        updated_at=NOW,
        history=(),
    )
    assert items[0].total == Money.parse("449.70")
    assert order.total == Money.parse("190351.09")
    assert str(order.total) == "190351.09"
    assert order.vehicle_id == "vehicle-1"


def test_an_order_without_items_totals_zero_and_has_no_vehicle() -> None:
    order = Order("o", "c", (), S.PLACED, KEY, "corr", NOW, NOW, ())
    assert order.total == Money.zero()
    assert order.vehicle_id is None


def test_order_events_carry_the_orders_ids() -> None:
    event = _placed().event(ClientValidated(client_id="client-ana"), LATER)
    assert (event.order_id, event.correlation_id, event.occurred_at) == ("order-1", "corr-1", LATER)
    assert event.event_id != _placed().event(ClientValidated(client_id="x"), LATER).event_id


def test_the_fingerprint_does_not_depend_on_key_order() -> None:
    a = request_fingerprint({"vehicleId": "v-1", "items": [{"productId": "p", "quantity": 2}], "note": None})
    b = request_fingerprint({"note": None, "items": [{"quantity": 2, "productId": "p"}], "vehicleId": "v-1"})
    assert a == b
    assert len(a) == 64
    assert request_fingerprint({"vehicleId": "v-1"}) == request_fingerprint({"vehicleId": "v-1"})


@pytest.mark.parametrize(
    "other",
    [
        {"vehicleId": "v-2"},
        {"vehicleId": "v-1", "extra": 1},
        {"vehicleid": "v-1"},
        {"vehicleId": ["v-1"]},
        {},
    ],
)
def test_a_different_request_has_a_different_fingerprint(other: dict[str, object]) -> None:
    assert request_fingerprint(other) != request_fingerprint({"vehicleId": "v-1"})
