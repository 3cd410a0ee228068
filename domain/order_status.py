"""The status state machines of orders, invoices and vehicles, and which cancellations are legitimate.

The purchase saga drives an order through these states; every change goes through `next_*_status` so that a
message delivered twice or out of order is refused instead of rewinding an order.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from types import MappingProxyType
from typing import TypeVar

from domain.errors import InvalidTransition


class OrderStatus(StrEnum):
    PLACED = "PLACED"
    RESERVED = "RESERVED"
    AWAITING_PAYMENT = "AWAITING_PAYMENT"
    PAID = "PAID"
    COMPLETED = "COMPLETED"
    PENDING_STOCK = "PENDING_STOCK"
    CANCELLED = "CANCELLED"


class CancellationReason(StrEnum):
    CLIENT_INVALID = "CLIENT_INVALID"
    VEHICLE_UNAVAILABLE = "VEHICLE_UNAVAILABLE"
    OUT_OF_STOCK = "OUT_OF_STOCK"
    PAYMENT_EXPIRED = "PAYMENT_EXPIRED"
    PAYMENT_FAILED = "PAYMENT_FAILED"
    CUSTOMER_CANCELLED = "CUSTOMER_CANCELLED"
    # Waited for stock longer than the hold lasts (PENDING_STOCK_TTL_HOURS): what it held goes to the next in line.
    STOCK_HOLD_EXPIRED = "STOCK_HOLD_EXPIRED"
    # The payment provider refused to create the order's charge (its answer says why).
    PAYMENT_REFUSED = "PAYMENT_REFUSED"


class InvoiceStatus(StrEnum):
    PENDING = "PENDING"
    CONFIRMED = "CONFIRMED"
    ERROR_STOCK = "ERROR_STOCK"


class VehicleStatus(StrEnum):
    AVAILABLE = "AVAILABLE"
    RESERVED = "RESERVED"
    SOLD = "SOLD"


_Status = TypeVar("_Status", bound=StrEnum)

ORDER_TRANSITIONS: Mapping[OrderStatus, frozenset[OrderStatus]] = MappingProxyType(
    {
        OrderStatus.PLACED: frozenset({OrderStatus.RESERVED, OrderStatus.PENDING_STOCK, OrderStatus.CANCELLED}),
        OrderStatus.PENDING_STOCK: frozenset({OrderStatus.RESERVED, OrderStatus.CANCELLED}),
        OrderStatus.RESERVED: frozenset({OrderStatus.AWAITING_PAYMENT, OrderStatus.CANCELLED}),
        OrderStatus.AWAITING_PAYMENT: frozenset({OrderStatus.PAID, OrderStatus.CANCELLED}),
        # PAID -> CANCELLED is the compensation when stock cannot be committed after payment: the order is
        # cancelled and a refund is recorded as owed.
        OrderStatus.PAID: frozenset({OrderStatus.COMPLETED, OrderStatus.CANCELLED}),
        OrderStatus.COMPLETED: frozenset(),
        OrderStatus.CANCELLED: frozenset(),
    }
)

# Where each reason may cancel from. A reason outside its states means the message belongs to another stage
# of the saga (a late payment expiry after the customer paid, say) and must not cancel the order.
CANCELLATION_REASONS: Mapping[CancellationReason, frozenset[OrderStatus]] = MappingProxyType(
    {
        CancellationReason.CUSTOMER_CANCELLED: frozenset(
            {
                OrderStatus.PLACED,
                OrderStatus.PENDING_STOCK,
                OrderStatus.RESERVED,
                OrderStatus.AWAITING_PAYMENT,
            }
        ),
        CancellationReason.PAYMENT_EXPIRED: frozenset({OrderStatus.AWAITING_PAYMENT}),
        CancellationReason.PAYMENT_FAILED: frozenset({OrderStatus.AWAITING_PAYMENT}),
        CancellationReason.CLIENT_INVALID: frozenset({OrderStatus.PLACED}),
        # From PAID: the invoice could not take the goods (ERROR_STOCK); the payment is owed back.
        CancellationReason.VEHICLE_UNAVAILABLE: frozenset({OrderStatus.PLACED, OrderStatus.PAID}),
        CancellationReason.OUT_OF_STOCK: frozenset({OrderStatus.PLACED, OrderStatus.PENDING_STOCK, OrderStatus.PAID}),
        # Only a waiting order's hold expires: once reserved in full, the payment's own deadline takes over.
        CancellationReason.STOCK_HOLD_EXPIRED: frozenset({OrderStatus.PENDING_STOCK}),
        # Only while the charge is being created: once it exists, the order awaits its payment.
        CancellationReason.PAYMENT_REFUSED: frozenset({OrderStatus.RESERVED}),
    }
)

INVOICE_TRANSITIONS: Mapping[InvoiceStatus, frozenset[InvoiceStatus]] = MappingProxyType(
    {
        InvoiceStatus.PENDING: frozenset({InvoiceStatus.CONFIRMED, InvoiceStatus.ERROR_STOCK}),
        InvoiceStatus.CONFIRMED: frozenset(),
        InvoiceStatus.ERROR_STOCK: frozenset(),
    }
)

VEHICLE_TRANSITIONS: Mapping[VehicleStatus, frozenset[VehicleStatus]] = MappingProxyType(
    {
        VehicleStatus.AVAILABLE: frozenset({VehicleStatus.RESERVED}),
        # RESERVED -> AVAILABLE releases the vehicle when the order holding it is cancelled.
        VehicleStatus.RESERVED: frozenset({VehicleStatus.AVAILABLE, VehicleStatus.SOLD}),
        VehicleStatus.SOLD: frozenset(),
    }
)


def _next(transitions: Mapping[_Status, frozenset[_Status]], entity: str, current: _Status, target: _Status) -> _Status:
    if target not in transitions[current]:
        raise InvalidTransition(entity, current, target)
    return target


def next_order_status(current: OrderStatus, target: OrderStatus) -> OrderStatus:
    """`target` if an order may move there from `current`; staying put is not a transition."""
    return _next(ORDER_TRANSITIONS, "order", current, target)


def next_invoice_status(current: InvoiceStatus, target: InvoiceStatus) -> InvoiceStatus:
    return _next(INVOICE_TRANSITIONS, "invoice", current, target)


def next_vehicle_status(current: VehicleStatus, target: VehicleStatus) -> VehicleStatus:
    return _next(VEHICLE_TRANSITIONS, "vehicle", current, target)


def is_terminal(status: OrderStatus) -> bool:
    return not ORDER_TRANSITIONS[status]


def cancellation_allowed(current: OrderStatus, reason: CancellationReason) -> bool:
    return current in CANCELLATION_REASONS[reason]
