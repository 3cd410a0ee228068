"""Status state machines: every pair of statuses is either an allowed transition or an InvalidTransition."""

from __future__ import annotations

from itertools import product

import pytest

from domain.errors import Conflict, InvalidTransition
from domain.order_status import (
    CANCELLATION_REASONS,
    INVOICE_TRANSITIONS,
    ORDER_TRANSITIONS,
    VEHICLE_TRANSITIONS,
    CancellationReason,
    InvoiceStatus,
    OrderStatus,
    VehicleStatus,
    cancellation_allowed,
    is_terminal,
    next_invoice_status,
    next_order_status,
    next_vehicle_status,
)

S = OrderStatus
R = CancellationReason

# The specification, written out independently of the module's tables so that a slip in either shows up.
_ORDER_ALLOWED: frozenset[tuple[OrderStatus, OrderStatus]] = frozenset(
    {
        (S.PLACED, S.RESERVED),
        (S.PLACED, S.PENDING_STOCK),
        (S.PLACED, S.CANCELLED),
        (S.PENDING_STOCK, S.RESERVED),
        (S.PENDING_STOCK, S.CANCELLED),
        (S.RESERVED, S.AWAITING_PAYMENT),
        (S.RESERVED, S.CANCELLED),
        (S.AWAITING_PAYMENT, S.PAID),
        (S.AWAITING_PAYMENT, S.CANCELLED),
        (S.PAID, S.COMPLETED),
        (S.PAID, S.CANCELLED),
    }
)
_ORDER_FORBIDDEN = sorted(set(product(OrderStatus, OrderStatus)) - _ORDER_ALLOWED)

_INVOICE_ALLOWED: frozenset[tuple[InvoiceStatus, InvoiceStatus]] = frozenset(
    {
        (InvoiceStatus.PENDING, InvoiceStatus.CONFIRMED),
        (InvoiceStatus.PENDING, InvoiceStatus.ERROR_STOCK),
    }
)
_INVOICE_FORBIDDEN = sorted(set(product(InvoiceStatus, InvoiceStatus)) - _INVOICE_ALLOWED)

_VEHICLE_ALLOWED: frozenset[tuple[VehicleStatus, VehicleStatus]] = frozenset(
    {
        (VehicleStatus.AVAILABLE, VehicleStatus.RESERVED),
        (VehicleStatus.RESERVED, VehicleStatus.AVAILABLE),
        (VehicleStatus.RESERVED, VehicleStatus.SOLD),
    }
)
_VEHICLE_FORBIDDEN = sorted(set(product(VehicleStatus, VehicleStatus)) - _VEHICLE_ALLOWED)

_CANCELLABLE: frozenset[tuple[OrderStatus, CancellationReason]] = frozenset(
    {
        (S.PLACED, R.CUSTOMER_CANCELLED),
        (S.PENDING_STOCK, R.CUSTOMER_CANCELLED),
        (S.RESERVED, R.CUSTOMER_CANCELLED),
        (S.AWAITING_PAYMENT, R.CUSTOMER_CANCELLED),
        (S.AWAITING_PAYMENT, R.PAYMENT_EXPIRED),
        (S.AWAITING_PAYMENT, R.PAYMENT_FAILED),
        (S.PLACED, R.CLIENT_INVALID),
        (S.PLACED, R.VEHICLE_UNAVAILABLE),
        (S.PAID, R.VEHICLE_UNAVAILABLE),
        (S.PLACED, R.OUT_OF_STOCK),
        (S.PENDING_STOCK, R.OUT_OF_STOCK),
        (S.PAID, R.OUT_OF_STOCK),
        # Only a waiting order's stock hold expires (PENDING_STOCK_TTL_HOURS).
        (S.PENDING_STOCK, R.STOCK_HOLD_EXPIRED),
        # The provider refused to create the charge.
        (S.RESERVED, R.PAYMENT_REFUSED),
    }
)
_NOT_CANCELLABLE = sorted(set(product(OrderStatus, CancellationReason)) - _CANCELLABLE)


def test_enum_values_are_their_names() -> None:
    # Stored in DynamoDB and exposed in GraphQL as these exact strings: renaming one is a migration.
    for enum in (OrderStatus, CancellationReason, InvoiceStatus, VehicleStatus):
        assert all(member.value == member.name for member in enum)
    assert [s.value for s in OrderStatus] == [
        "PLACED",
        "RESERVED",
        "AWAITING_PAYMENT",
        "PAID",
        "COMPLETED",
        "PENDING_STOCK",
        "CANCELLED",
    ]


def test_transition_tables_cover_every_status() -> None:
    assert set(ORDER_TRANSITIONS) == set(OrderStatus)
    assert set(INVOICE_TRANSITIONS) == set(InvoiceStatus)
    assert set(VEHICLE_TRANSITIONS) == set(VehicleStatus)
    assert set(CANCELLATION_REASONS) == set(CancellationReason)


def test_transition_tables_are_read_only() -> None:
    with pytest.raises(TypeError):
        ORDER_TRANSITIONS[S.COMPLETED] = frozenset({S.PLACED})  # type: ignore[index]


# --- Orders ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("current", "target"), sorted(_ORDER_ALLOWED))
def test_allowed_order_transition_returns_the_target(current: OrderStatus, target: OrderStatus) -> None:
    # Given an order in `current`
    # When it is moved to a status the state machine allows
    # Then the new status is the target
    assert next_order_status(current, target) is target


@pytest.mark.parametrize(("current", "target"), _ORDER_FORBIDDEN)
def test_forbidden_order_transition_is_refused(current: OrderStatus, target: OrderStatus) -> None:
    # Given an order in `current`
    # When it is moved to a status the state machine does not allow (staying put included)
    with pytest.raises(InvalidTransition) as caught:
        next_order_status(current, target)
    # Then the refusal is a conflict naming both statuses
    assert isinstance(caught.value, Conflict)
    assert caught.value.code == "CONFLICT"
    assert caught.value.current == current
    assert caught.value.target == target
    assert caught.value.message == f"order cannot go from {current.value} to {target.value}"


def test_the_happy_path_reaches_completed() -> None:
    status = S.PLACED
    for target in (S.RESERVED, S.AWAITING_PAYMENT, S.PAID, S.COMPLETED):
        status = next_order_status(status, target)
    assert status is S.COMPLETED
    assert is_terminal(status)


def test_a_paid_order_can_be_cancelled_by_compensation() -> None:
    # Given a paid order whose stock could not be committed
    # When the saga compensates
    # Then the order may be cancelled, and only for being out of stock
    assert next_order_status(S.PAID, S.CANCELLED) is S.CANCELLED
    assert cancellation_allowed(S.PAID, R.OUT_OF_STOCK)
    assert not cancellation_allowed(S.PAID, R.CUSTOMER_CANCELLED)


@pytest.mark.parametrize("status", list(OrderStatus))
def test_only_completed_and_cancelled_are_terminal(status: OrderStatus) -> None:
    assert is_terminal(status) is (status in {S.COMPLETED, S.CANCELLED})


# --- Cancellation ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(("current", "reason"), sorted(_CANCELLABLE))
def test_cancellation_is_allowed(current: OrderStatus, reason: CancellationReason) -> None:
    assert cancellation_allowed(current, reason) is True
    # Every legitimate cancellation is also a legal transition.
    assert next_order_status(current, S.CANCELLED) is S.CANCELLED


@pytest.mark.parametrize(("current", "reason"), _NOT_CANCELLABLE)
def test_cancellation_is_refused(current: OrderStatus, reason: CancellationReason) -> None:
    assert cancellation_allowed(current, reason) is False


@pytest.mark.parametrize("current", [S.PAID, S.COMPLETED, S.CANCELLED])
def test_customer_cannot_cancel_once_paid(current: OrderStatus) -> None:
    assert not cancellation_allowed(current, R.CUSTOMER_CANCELLED)


@pytest.mark.parametrize("reason", list(CancellationReason))
def test_terminal_orders_cannot_be_cancelled_for_any_reason(reason: CancellationReason) -> None:
    assert not cancellation_allowed(S.COMPLETED, reason)
    assert not cancellation_allowed(S.CANCELLED, reason)


# --- Invoices --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("current", "target"), sorted(_INVOICE_ALLOWED))
def test_allowed_invoice_transition_returns_the_target(current: InvoiceStatus, target: InvoiceStatus) -> None:
    assert next_invoice_status(current, target) is target


@pytest.mark.parametrize(("current", "target"), _INVOICE_FORBIDDEN)
def test_forbidden_invoice_transition_is_refused(current: InvoiceStatus, target: InvoiceStatus) -> None:
    with pytest.raises(InvalidTransition) as caught:
        next_invoice_status(current, target)
    assert caught.value.message == f"invoice cannot go from {current.value} to {target.value}"


# --- Vehicles --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("current", "target"), sorted(_VEHICLE_ALLOWED))
def test_allowed_vehicle_transition_returns_the_target(current: VehicleStatus, target: VehicleStatus) -> None:
    assert next_vehicle_status(current, target) is target


@pytest.mark.parametrize(("current", "target"), _VEHICLE_FORBIDDEN)
def test_forbidden_vehicle_transition_is_refused(current: VehicleStatus, target: VehicleStatus) -> None:
    with pytest.raises(InvalidTransition) as caught:
        next_vehicle_status(current, target)
    assert caught.value.message == f"vehicle cannot go from {current.value} to {target.value}"


def test_a_sold_vehicle_is_never_released() -> None:
    with pytest.raises(InvalidTransition):
        next_vehicle_status(VehicleStatus.SOLD, VehicleStatus.AVAILABLE)
