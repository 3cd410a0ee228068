"""Orders: a client's purchase, its payment, and every status change it went through.

Each change returns a new Order with one more history entry; the state machine in order_status.py decides what is
allowed. Stores save an Order only if its version is still the one read, so two saga steps (or a step and the
customer) racing on one order end with exactly one winner.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from domain.errors import Conflict, InvalidTransition, NotFound, ValidationFailed
from domain.events import DomainEvent, EventPayload, EventType, OrderPlaced
from domain.order_status import (
    CancellationReason,
    InvoiceStatus,
    OrderStatus,
    VehicleStatus,
    cancellation_allowed,
    is_terminal,
    next_order_status,
)
from domain.products import Product, parse_sku
from domain.values import Money, Quantity
from domain.vehicles import Vehicle

# One order lists at most this many products: a cart, not a catalogue. Its reservation is one DynamoDB transaction
# of up to 100 items, and a short product takes two (its check and the order's place in its line).
MAX_ORDER_LINES = 40
# Client-chosen keys: long enough to be unique per attempt (a UUID fits), short enough to index.
_IDEMPOTENCY_KEY = re.compile(r"[A-Za-z0-9_.:-]{8,100}")


class ItemKind(StrEnum):
    VEHICLE = "VEHICLE"
    PRODUCT = "PRODUCT"


class ItemStatus(StrEnum):
    RESERVED = "RESERVED"
    PENDING = "PENDING"
    # The order was cancelled and what it held went back to stock.
    RELEASED = "RELEASED"


_NOTHING = Money(Decimal("0.00"))


class PaymentStatus(StrEnum):
    PENDING = "PENDING"
    PAID = "PAID"
    EXPIRED = "EXPIRED"
    # The order was cancelled before any money arrived; the code can no longer be paid.
    CANCELLED = "CANCELLED"
    # Money arrived that the order did not keep (the wrong amount, after the cancellation or expiry, or paid for
    # goods that were not there): all of it is owed back to the client. See `received` and the order's refund_owed.
    REFUND_OWED = "REFUND_OWED"


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


class RefundStatus(StrEnum):
    # Asked of the PSP, not settled yet.
    PENDING = "PENDING"
    REFUNDED = "REFUNDED"
    # The PSP could not return it; another attempt of the same refund may be asked for.
    FAILED = "FAILED"


@dataclass(frozen=True, slots=True)
class Refund:
    """One attempt at giving back money received: `id` is the PSP's name for it, `end_to_end_id` the received Pix."""

    id: str
    end_to_end_id: str
    amount: Money
    status: RefundStatus
    requested_at: datetime
    completed_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Payment:
    code: str
    # What the charge asks for.
    amount: Money
    expires_at: datetime
    status: PaymentStatus = PaymentStatus.PENDING
    # What actually arrived against the charge, every payment of it added up (0.00 until the first).
    received: Money = _NOTHING
    # The copy-and-paste code (BR Code) the payer's bank reads, and the charge's address at the PSP, when it has them.
    br_code: str | None = None
    location: str | None = None
    # The end-to-end id of the payment that paid it, once it is PAID: what a refund of that money names.
    paid_by: str | None = None
    # Every refund asked for against money received for this order, in the order they were asked for.
    refunds: tuple[Refund, ...] = ()

    def refund_attempts(self, end_to_end_id: str) -> tuple[Refund, ...]:
        """The refunds of one received payment, first attempt first."""
        return tuple(refund for refund in self.refunds if refund.end_to_end_id == end_to_end_id)


@dataclass(frozen=True, slots=True)
class Invoice:
    """The order's nota fiscal: numbered when the order is paid, confirmed when the goods are committed to it."""

    number: str
    status: InvoiceStatus
    issued_at: datetime
    # Where the document is stored, once the invoice is confirmed.
    document_key: str | None = None
    detail: str | None = None


@dataclass(frozen=True, slots=True)
class ProductLine:
    """One product and how many of it, as a customer asks for it."""

    product_id: str
    quantity: int


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
    invoice: Invoice | None = None
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
    def product_items(self) -> tuple[OrderItem, ...]:
        return tuple(item for item in self.items if item.kind is ItemKind.PRODUCT)

    @property
    def is_terminal(self) -> bool:
        return is_terminal(self.status)

    def event(self, payload: EventPayload, now: datetime) -> DomainEvent:
        return DomainEvent.of(payload, order_id=self.id, correlation_id=self.correlation_id, occurred_at=now)


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
    return order, _placed_event(order, now)


def parse_product_lines(lines: Sequence[tuple[str, int]], *, field: str = "items") -> tuple[ProductLine, ...]:
    """The lines of a product order, each product once, each quantity whole and positive; errors name the line."""
    if not lines:
        raise ValidationFailed(field, "an order needs at least one item")
    if len(lines) > MAX_ORDER_LINES:
        raise ValidationFailed(field, f"an order has at most {MAX_ORDER_LINES} items")
    parsed: list[ProductLine] = []
    seen: set[str] = set()
    for index, (product_id, quantity) in enumerate(lines):
        sku = parse_sku(product_id, field=f"{field}[{index}].productId")
        if sku in seen:
            raise ValidationFailed(f"{field}[{index}].productId", f"{sku} is listed twice; give one quantity")
        seen.add(sku)
        parsed.append(ProductLine(sku, Quantity.parse(quantity, field=f"{field}[{index}].quantity").value))
    return tuple(parsed)


def place_product_order(
    *,
    order_id: str,
    client_id: str,
    lines: Sequence[ProductLine],
    products: Mapping[str, Product],
    idempotency_key: str,
    correlation_id: str,
    now: datetime,
    prices: Mapping[str, Money] | None = None,
) -> tuple[Order, DomainEvent]:
    """A new order for product items, at the catalogue's prices (or at `prices` agreed elsewhere, a batch file's).

    Stock is not looked at here: the saga reserves it, or leaves the order waiting for it.
    """
    items = []
    for index, line in enumerate(lines):
        product = products.get(line.product_id)
        if product is None:
            raise NotFound("product", line.product_id, field=f"items[{index}].productId")
        unit_price = product.unit_price if prices is None else prices[line.product_id]
        items.append(
            OrderItem(
                kind=ItemKind.PRODUCT,
                ref_id=product.sku,
                description=product.description,
                quantity=line.quantity,
                unit_price=unit_price,
            )
        )
    order = Order(
        id=order_id,
        client_id=client_id,
        items=tuple(items),
        status=OrderStatus.PLACED,
        idempotency_key=parse_idempotency_key(idempotency_key),
        correlation_id=correlation_id,
        placed_at=now,
        updated_at=now,
        history=(HistoryEntry(OrderStatus.PLACED, EventType.ORDER_PLACED.value, now),),
    )
    return order, _placed_event(order, now)


def item_refs(items: Iterable[OrderItem]) -> list[dict[str, Any]]:
    """Items as events carry them: what and how many."""
    return [{"ref": item.ref_id, "kind": item.kind.value, "quantity": item.quantity} for item in items]


def _placed_event(order: Order, now: datetime) -> DomainEvent:
    placed = OrderPlaced(
        client_id=order.client_id, total=str(order.total), items=item_refs(order.items), vehicle_id=order.vehicle_id
    )
    return order.event(placed, now)


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


def paid_in_full(order: Order, paid_by: str | None = None) -> Order:
    """The charge was paid, exactly, by the payment `paid_by` (its end-to-end id): PAID, its amount received."""
    if order.payment is None:
        return order
    payment = order.payment
    received = payment.received + payment.amount
    return replace(order, payment=replace(payment, status=PaymentStatus.PAID, received=received, paid_by=paid_by))


def owe_refund(
    order: Order, amount: Money, now: datetime, why: str = "received after cancellation", *, newly_received: bool = True
) -> Order:
    """Money the order did not need (it arrived after the cancellation, was the wrong amount, or paid the code a
    second time): the dealership owes it back to the client, on top of whatever it owed already.

    The payment shows it: `received` counts the money (unless it was counted when it arrived: `newly_received`
    False, for a paid order whose goods were not there), and its status is REFUND_OWED unless the order keeps a
    payment (PAID or COMPLETED, then paid twice: it stays PAID, the extra owed back)."""
    owed = note(order, EventType.REFUND_OWED, now, f"payment of {amount} {why}")
    total = amount if order.refund_owed is None else order.refund_owed + amount
    if owed.payment is not None:
        keeps_a_payment = order.status in {OrderStatus.PAID, OrderStatus.COMPLETED}
        payment = replace(
            owed.payment,
            status=PaymentStatus.PAID if keeps_a_payment else PaymentStatus.REFUND_OWED,
            received=owed.payment.received + amount if newly_received else owed.payment.received,
        )
        owed = replace(owed, payment=payment)
    return replace(owed, refund_owed=total)
