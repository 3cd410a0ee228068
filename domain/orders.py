"""Orders: a client's purchase, its payment, and every status change it went through.

Each change returns a new Order with one more history entry; the state machine in order_status.py decides what is
allowed. Stores save an Order only if its version is still the one read, so two saga steps (or a step and the
customer) racing on one order end with exactly one winner.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from typing import Any

from domain.errors import Conflict, InvalidTransition, ValidationFailed
from domain.events import DomainEvent, EventType
from domain.order_status import (
    CancellationReason,
    OrderStatus,
    VehicleStatus,
    cancellation_allowed,
    is_terminal,
    next_order_status,
)
from domain.values import Money
from domain.vehicles import Vehicle

# Client-chosen keys: long enough to be unique per attempt (a UUID fits), short enough to index.
_IDEMPOTENCY_KEY = re.compile(r"[A-Za-z0-9_.:-]{8,100}")


class ItemKind(StrEnum):
    VEHICLE = "VEHICLE"
    PRODUCT = "PRODUCT"


class ItemStatus(StrEnum):
    RESERVED = "RESERVED"
    PENDING = "PENDING"


class PaymentStatus(StrEnum):
    PENDING = "PENDING"
    PAID = "PAID"
    FAILED = "FAILED"
    EXPIRED = "EXPIRED"
    # The order was cancelled before any money arrived; the code can no longer be paid.
    CANCELLED = "CANCELLED"


@dataclass(frozen=True, slots=True)
class OrderItem:
    kind: ItemKind
    ref_id: str
    description: str
    quantity: int
    unit_price: Money
    status: ItemStatus | None = None

    @property
    def total(self) -> Money:
        return self.unit_price * self.quantity


@dataclass(frozen=True, slots=True)
class Payment:
    code: str
    amount: Money
    expires_at: datetime
    status: PaymentStatus = PaymentStatus.PENDING


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    """One step of the order's life: what happened (an event type), when, and the status it left the order in."""

    status: OrderStatus
    event: str
    at: datetime
    detail: str | None = None


@dataclass(frozen=True, slots=True)
class Order:
    id: str
    client_id: str
    items: tuple[OrderItem, ...]
    status: OrderStatus
    idempotency_key: str
    correlation_id: str
    placed_at: datetime
    updated_at: datetime
    history: tuple[HistoryEntry, ...]
    version: int = 0
    cancellation_reason: CancellationReason | None = None
    payment: Payment | None = None
    refund_owed: Money | None = None
    # "<consumer>:<event id>" of every event applied to this order: a redelivered event finds itself here. Kept in
    # the order rather than in items of their own, it costs nothing more to write.
    applied: frozenset[str] = frozenset()

    @property
    def total(self) -> Money:
        total = Money.zero()
        for item in self.items:
            total = total + item.total
        return total

    @property
    def vehicle_id(self) -> str | None:
        return next((item.ref_id for item in self.items if item.kind is ItemKind.VEHICLE), None)

    @property
    def is_terminal(self) -> bool:
        return is_terminal(self.status)

    def event(self, event_type: EventType, payload: dict[str, Any], now: datetime) -> DomainEvent:
        return DomainEvent(
            event_type=event_type,
            order_id=self.id,
            correlation_id=self.correlation_id,
            occurred_at=now,
            payload=payload,
        )


def parse_idempotency_key(raw: str) -> str:
    key = raw.strip()
    if not _IDEMPOTENCY_KEY.fullmatch(key):
        raise ValidationFailed("idempotencyKey", "idempotencyKey must be 8-100 letters, digits or _.:- (a UUID fits)")
    return key


def request_fingerprint(request: dict[str, Any]) -> str:
    """The same request always gives the same fingerprint: it tells a retry from a different order under one key."""
    canonical = json.dumps(request, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def place_vehicle_order(
    *,
    order_id: str,
    client_id: str,
    vehicle: Vehicle,
    idempotency_key: str,
    correlation_id: str,
    now: datetime,
) -> tuple[Order, DomainEvent]:
    """A new order for one vehicle at its current price. A sold vehicle is refused at once; a reserved one is
    accepted, since its reservation may yet be released, and the saga decides."""
    if vehicle.status is VehicleStatus.SOLD:
        raise Conflict(f"vehicle {vehicle.id} is already sold", field="vehicleId")
    item = OrderItem(
        kind=ItemKind.VEHICLE,
        ref_id=vehicle.id,
        description=f"{vehicle.brand} {vehicle.model} {vehicle.year} {vehicle.color}",
        quantity=1,
        unit_price=vehicle.price,
    )
    order = Order(
        id=order_id,
        client_id=client_id,
        items=(item,),
        status=OrderStatus.PLACED,
        idempotency_key=parse_idempotency_key(idempotency_key),
        correlation_id=correlation_id,
        placed_at=now,
        updated_at=now,
        history=(HistoryEntry(OrderStatus.PLACED, EventType.ORDER_PLACED.value, now),),
    )
    event = order.event(
        EventType.ORDER_PLACED, {"clientId": client_id, "vehicleId": vehicle.id, "total": str(order.total)}, now
    )
    return order, event


def note(order: Order, event: EventType, now: datetime, detail: str | None = None) -> Order:
    """Record a step that leaves the status as it is (the client was validated, a refund is owed...)."""
    entry = HistoryEntry(order.status, event.value, now, detail)
    return replace(order, history=(*order.history, entry), updated_at=now)


def advance(order: Order, target: OrderStatus, event: EventType, now: datetime, detail: str | None = None) -> Order:
    status = next_order_status(order.status, target)
    entry = HistoryEntry(status, event.value, now, detail)
    return replace(order, status=status, history=(*order.history, entry), updated_at=now)


def cancel(order: Order, reason: CancellationReason, now: datetime, detail: str | None = None) -> Order:
    if not cancellation_allowed(order.status, reason):
        raise InvalidTransition("order", order.status.value, f"{OrderStatus.CANCELLED.value} ({reason.value})")
    cancelled = advance(order, OrderStatus.CANCELLED, EventType.ORDER_CANCELLED, now, detail or reason.value)
    return replace(cancelled, cancellation_reason=reason)


def await_payment(order: Order, payment: Payment, now: datetime) -> Order:
    detail = f"payment {payment.code}: {payment.amount} until {payment.expires_at.isoformat()}"
    return replace(
        advance(order, OrderStatus.AWAITING_PAYMENT, EventType.PAYMENT_REQUESTED, now, detail), payment=payment
    )


def with_payment_status(order: Order, status: PaymentStatus) -> Order:
    if order.payment is None:
        return order
    return replace(order, payment=replace(order.payment, status=status))


def owe_refund(order: Order, amount: Money, now: datetime) -> Order:
    """Money arrived after the order was cancelled: the dealership owes it back to the client."""
    owed = note(order, EventType.REFUND_OWED, now, f"payment of {amount} received after cancellation")
    return replace(with_payment_status(owed, PaymentStatus.PAID), refund_owed=amount)
