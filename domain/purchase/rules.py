"""Rules the API commands and the saga steps share: why an order is cancelled, what it gives back, its markers."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from domain.events import DomainEvent, EventType, InvalidEvent, InvoiceFailed, ReservationFailed
from domain.order_status import CancellationReason
from domain.orders import ItemKind, ItemStatus, Order, OrderItem
from domain.purchase.change import StockMove, StockMoveKind, Wait

# What each failure event cancels an order for; ReservationFailed and InvoiceFailed name their reason.
FAILURE_REASONS = {
    EventType.ORDER_REJECTED: CancellationReason.CLIENT_INVALID,
    EventType.PAYMENT_EXPIRED: CancellationReason.PAYMENT_EXPIRED,
    EventType.CANCELLATION_REQUESTED: CancellationReason.CUSTOMER_CANCELLED,
}
# Markers kept in the order's `applied`: its cancellation was compensated (said and released once); the event that
# paid it (a redelivery of that one completes the sale, any other payment is owed back).
COMPENSATED = "compensated"
PAID_BY = "paid-by:"
# How many times one received payment's refund is asked of the provider when it ends NAO_REALIZADO (a refused
# refund is often transient at the payer's bank; one refused three times needs a person).
MAX_REFUND_ATTEMPTS = 3


def failure_reason(event: DomainEvent) -> CancellationReason:
    named = _named_reason(event)
    if named is not None:
        try:
            return CancellationReason(named)
        except ValueError as error:
            raise InvalidEvent(f"{event.event_type} names no cancellation reason: {error}") from error
    reason = FAILURE_REASONS.get(event.event_type)
    if reason is None:
        raise InvalidEvent(f"{event.event_type} is not a failure the saga compensates")
    return reason


def _named_reason(event: DomainEvent) -> str | None:
    if event.event_type is EventType.RESERVATION_FAILED:
        return event.payload_as(ReservationFailed).reason
    if event.event_type is EventType.INVOICE_FAILED:
        return event.payload_as(InvoiceFailed).reason
    return None


def release_stock(order: Order) -> tuple[Order, tuple[StockMove, ...], tuple[Wait, ...]]:
    """The order with its products let go: reserved units back to stock, its place in the stock lines given up.
    Written with the order (and its version), so that a product's units are released once."""
    moves: list[StockMove] = []
    waits: list[Wait] = []
    items: list[OrderItem] = []
    for item in order.items:
        if item.kind is not ItemKind.PRODUCT or item.status not in {ItemStatus.RESERVED, ItemStatus.PENDING}:
            items.append(item)
            continue
        if item.status is ItemStatus.RESERVED:
            moves.append(StockMove(item.ref_id, item.quantity, StockMoveKind.RELEASE))
        else:
            waits.append(Wait(item.ref_id, order.id, order.placed_at))
        items.append(replace(item, status=ItemStatus.RELEASED))
    if not moves and not waits:
        return order, (), ()
    return replace(order, items=tuple(items)), tuple(moves), tuple(waits)


def hours(span: timedelta) -> str:
    hours = span.total_seconds() / 3600
    return f"{hours:g} hours"


def marker(consumer: str, event: DomainEvent) -> str:
    return f"{consumer}:{event.event_id}"


def happened(order: Order, event_type: EventType) -> bool:
    return any(entry.event == event_type.value for entry in order.history)
