"""The purchase saga's rules: what each step does with an order, given the event that reached it.

Every step reads, decides, and hands one `Change` to the store, which applies it atomically (order, vehicle,
payment, outbox events and the consumer's processed marker in one transaction) or not at all. A step re-run by a
redelivered message finds either its marker (the change was made) or the order in a state that no longer calls for
the step: nothing happens twice. A step that crashed before its commit changed nothing and simply runs again.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Protocol

from domain.clients import Client
from domain.errors import Conflict, Forbidden, NotFound, StaleVersion
from domain.events import DomainEvent, EventType, InvalidEvent
from domain.invoice_document import Seller, invoice_document_key, render_invoice
from domain.order_status import (
    CancellationReason,
    InvoiceStatus,
    OrderStatus,
    VehicleStatus,
    cancellation_allowed,
)
from domain.orders import (
    Invoice,
    ItemKind,
    ItemStatus,
    Order,
    OrderItem,
    Payment,
    PaymentStatus,
    ProductLine,
    advance,
    await_payment,
    cancel,
    item_refs,
    note,
    owe_refund,
    paid_in_full,
    parse_idempotency_key,
    parse_product_lines,
    place_product_order,
    place_vehicle_order,
    request_fingerprint,
    with_payment_status,
)
from domain.ports import Clock
from domain.products import Product
from domain.retries import with_fresh_reads
from domain.values import Money
from domain.vehicles import Vehicle

# What each failure event cancels an order for; ReservationFailed and InvoiceFailed name their reason.
FAILURE_REASONS = {
    EventType.ORDER_REJECTED: CancellationReason.CLIENT_INVALID,
    EventType.PAYMENT_FAILED: CancellationReason.PAYMENT_FAILED,
    EventType.PAYMENT_EXPIRED: CancellationReason.PAYMENT_EXPIRED,
    EventType.CANCELLATION_REQUESTED: CancellationReason.CUSTOMER_CANCELLED,
}
_REASON_IN_PAYLOAD = frozenset({EventType.RESERVATION_FAILED, EventType.INVOICE_FAILED})
# Markers kept in the order's `applied`: its cancellation was compensated (said and released once); the event that
# paid it (a redelivery of that one completes the sale, any other payment is owed back).
_COMPENSATED = "compensated"
_PAID_BY = "paid-by:"
# Invoice numbers are nine digits, as a nota fiscal's are.
INVOICE_NUMBER_DIGITS = 9
# The restock step looks at this many waiting orders of a product per stock arrival, oldest first.
RESUME_BATCH = 100


# --- what a step asks the store to apply, all or nothing ---------------------------------------------------------


@dataclass(frozen=True, slots=True)
class VehicleClaim:
    """Move a vehicle from `expected` to `new` status, only if it is still `expected` (and held by `holder`)."""

    vehicle_id: str
    expected: VehicleStatus
    new: VehicleStatus
    expected_holder: str | None
    new_holder: str | None


@dataclass(frozen=True, slots=True)
class PaymentRecord:
    """The payment as the webhook and the expiry sweep find it: by code, with its order."""

    order_id: str
    payment: Payment
    # The status the stored record must still have; None to create it.
    expected_status: PaymentStatus | None


@dataclass(frozen=True, slots=True)
class IdempotencyClaim:
    """One client's key for one request: the first use stores the fingerprint, a reuse must match it."""

    scope: str
    key: str
    fingerprint: str
    order_id: str


@dataclass(frozen=True, slots=True)
class Sale:
    order_id: str
    vehicle_id: str
    client_id: str
    amount: Money
    sold_at: datetime


class StockMoveKind(StrEnum):
    RESERVE = "RESERVE"  # available -> reserved, only if at least `quantity` is available
    RELEASE = "RELEASE"  # reserved -> available: a cancelled order gives back what it held
    COMMIT = "COMMIT"  # reserved and on hand both down: the goods leave with the sale
    SHORT = "SHORT"  # writes nothing: holds only while fewer than `quantity` are available


@dataclass(frozen=True, slots=True)
class StockMove:
    sku: str
    quantity: int
    kind: StockMoveKind


@dataclass(frozen=True, slots=True)
class Wait:
    """An order in a product's line of orders waiting for stock, oldest first."""

    sku: str
    order_id: str
    since: datetime


@dataclass(frozen=True, slots=True)
class Change:
    # The order's new state, saved only if the stored version is still `order.version` (or, new, absent).
    order: Order | None = None
    new_order: bool = False
    events: tuple[DomainEvent, ...] = ()
    vehicle: VehicleClaim | None = None
    payment: PaymentRecord | None = None
    sale: Sale | None = None
    idempotency: IdempotencyClaim | None = None
    # "<consumer>:<event id>": refused if present, so one consumer applies one event once.
    consumed: str | None = None
    # The payment provider's event id, for the webhook: one provider event, one effect.
    receipt: str | None = None
    stock: tuple[StockMove, ...] = ()
    waits_added: tuple[Wait, ...] = ()
    waits_removed: tuple[Wait, ...] = ()
    # The invoice number this change takes: refused unless it follows the last one issued (no gaps, no repeats).
    invoice_number: int | None = None


class VehicleUnavailable(Conflict):
    """The vehicle was not in the expected state when the change was applied (another buyer won)."""


class PaymentChanged(Conflict):
    """The payment record was no longer in the expected status (paid, failed or expired meanwhile)."""


class StockChanged(StaleVersion):
    """A product's stock was not what the change counted on: read it again and decide again."""

    def __init__(self, sku: str) -> None:
        super().__init__("product stock", sku)
        self.sku = sku


class InvoiceNumberTaken(Conflict):
    """Another invoice took the number first: take the next one."""


class AlreadyApplied(Exception):
    """The change's consumer marker or provider receipt exists: this event was applied before."""


class KeyReused(Conflict):
    """An idempotency key already used; `fingerprint` and `order_id` say for what."""

    def __init__(self, fingerprint: str, order_id: str) -> None:
        super().__init__("idempotencyKey was already used", field="idempotencyKey")
        self.fingerprint = fingerprint
        self.order_id = order_id


class PurchaseStore(Protocol):
    def get_order(self, order_id: str) -> Order | None: ...

    def get_client(self, client_id: str) -> Client | None: ...

    def get_vehicle(self, vehicle_id: str) -> Vehicle | None: ...

    def get_products(self, skus: Iterable[str]) -> Mapping[str, Product]: ...

    def waiting_orders(self, sku: str, limit: int) -> list[str]:
        """Ids of the orders waiting for this product's stock, oldest first."""
        ...

    def last_invoice_number(self) -> int:
        """The number of the last invoice issued; 0 before the first."""
        ...

    def get_payment(self, code: str) -> PaymentRecord | None: ...

    def find_idempotency(self, scope: str, key: str) -> tuple[str, str] | None:
        """(fingerprint, order id) of the request that first used this key, if one did."""
        ...

    def payments_due(self, now: datetime, limit: int) -> list[PaymentRecord]:
        """Pending payments whose expiry has passed, oldest first."""
        ...

    def holds_due(self, waiting_since: datetime, limit: int) -> list[str]:
        """Ids of orders in a stock line since before `waiting_since`, oldest first, each once (a sparse index of
        the lines, never a scan)."""
        ...

    def apply(self, change: Change) -> None:
        """All of the change or none of it.

        Raises StaleVersion (order), VehicleUnavailable, StockChanged, PaymentChanged, InvoiceNumberTaken,
        AlreadyApplied (marker or receipt) or KeyReused (idempotency key), naming the first condition that failed.
        """
        ...


class PaymentProvider(Protocol):
    def create_charge(self, *, idempotency_key: str, amount: Money, expires_at: datetime) -> str:
        """A payment code for the client to pay. The same key always gives the same code (no double charge)."""
        ...


class InvoiceArchive(Protocol):
    def store(self, key: str, document: str) -> None:
        """Keep the invoice's document under `key`; storing the same document again changes nothing."""
        ...


DEFAULT_PENDING_STOCK_TTL = timedelta(hours=72)


@dataclass(frozen=True, slots=True)
class SagaConfig:
    seller: Seller
    payment_ttl: timedelta = timedelta(minutes=30)
    # How long an order may wait for stock (PENDING_STOCK), holding what it reserved, before it is cancelled.
    pending_stock_ttl: timedelta = DEFAULT_PENDING_STOCK_TTL


@dataclass
class Purchase:
    """The saga's steps over one store, clock and payment provider."""

    store: PurchaseStore
    clock: Clock
    payments: PaymentProvider
    archive: InvoiceArchive
    config: SagaConfig

    # --- entry points: the API ------------------------------------------------------------------------------------

    def place_vehicle_order(
        self, *, client_id: str, vehicle_id: str, idempotency_key: str, order_id: str, correlation_id: str
    ) -> Order:
        """Write the order and its OrderPlaced event together, and answer at once; the saga takes it from there.

        The same key with the same request returns the first order; with another request it is a CONFLICT.
        """

        def build() -> tuple[Order, DomainEvent]:
            vehicle = self.store.get_vehicle(vehicle_id)
            if vehicle is None:
                raise NotFound("vehicle", vehicle_id, field="vehicleId")
            return place_vehicle_order(
                order_id=order_id,
                client_id=client_id,
                vehicle=vehicle,
                idempotency_key=idempotency_key,
                correlation_id=correlation_id,
                now=self.clock.now(),
            )

        return self._place(client_id, idempotency_key, {"vehicleId": vehicle_id}, build)

    def place_product_order(
        self,
        *,
        client_id: str,
        lines: Sequence[tuple[str, int]],
        idempotency_key: str,
        order_id: str,
        correlation_id: str,
    ) -> Order:
        """An order for products at the catalogue's prices, answered at once as PLACED, like a vehicle order."""
        parsed = parse_product_lines(lines)

        def build() -> tuple[Order, DomainEvent]:
            return place_product_order(
                order_id=order_id,
                client_id=client_id,
                lines=parsed,
                products=self.store.get_products(line.product_id for line in parsed),
                idempotency_key=idempotency_key,
                correlation_id=correlation_id,
                now=self.clock.now(),
            )

        request = {"items": [[line.product_id, line.quantity] for line in parsed]}
        return self._place(client_id, idempotency_key, request, build)

    def place_batch_order(
        self,
        *,
        order_id: str,
        client_id: str,
        lines: Sequence[ProductLine],
        prices: Mapping[str, Money],
        correlation_id: str,
    ) -> Order:
        """An order from a batch file, under the file's order id and at the file's prices (checked against the
        catalogue when the file was read). Its id is its idempotency key: a second delivery returns the first."""
        existing = self.store.get_order(order_id)
        if existing is not None:
            return existing
        order, event = place_product_order(
            order_id=order_id,
            client_id=client_id,
            lines=lines,
            products=self.store.get_products(line.product_id for line in lines),
            idempotency_key=f"batch:{order_id}",
            correlation_id=correlation_id,
            now=self.clock.now(),
            prices=prices,
        )
        try:
            self.store.apply(Change(order=order, new_order=True, events=(event,)))
        except StaleVersion:  # the same order, placed by a concurrent delivery
            placed = self.store.get_order(order_id)
            if placed is None:  # pragma: no cover - the condition that failed says it exists
                raise
            return placed
        return order

    def _place(
        self,
        client_id: str,
        idempotency_key: str,
        request: Mapping[str, object],
        build: Callable[[], tuple[Order, DomainEvent]],
    ) -> Order:
        fingerprint = request_fingerprint(dict(request))
        scope = f"placeOrder#{client_id}"
        key = parse_idempotency_key(idempotency_key)
        # A retry is answered from the key before anything else: what it bought may be sold out by now.
        used = self.store.find_idempotency(scope, key)
        if used is not None:
            return self._replayed(KeyReused(*used), fingerprint)
        if self.store.get_client(client_id) is None:
            raise Forbidden("register as a client (registerClient) before buying")
        order, event = build()
        claim = IdempotencyClaim(scope, key, fingerprint, order.id)
        try:
            self.store.apply(Change(order=order, new_order=True, events=(event,), idempotency=claim))
        except KeyReused as reused:  # the same request, racing this one
            return self._replayed(reused, fingerprint)
        return order

    def _replayed(self, used: KeyReused, fingerprint: str) -> Order:
        if used.fingerprint != fingerprint:
            raise Conflict("idempotencyKey was already used for a different order", field="idempotencyKey") from used
        existing = self.store.get_order(used.order_id)
        if existing is None:  # pragma: no cover - the claim and the order are written together
            raise used
        return existing

    def cancel_by_customer(self, order_id: str, *, requested_by: str, is_admin: bool) -> Order:
        """The customer (or staff) cancels while payment is pending. Racing the payment, exactly one wins: the
        order's version and the payment record's status decide. Cancelling a cancelled order returns it."""
        order = self.store.get_order(order_id)
        if order is None or (order.client_id != requested_by and not is_admin):
            raise NotFound("order", order_id)
        if order.status is OrderStatus.CANCELLED:
            return order
        if not cancellation_allowed(order.status, CancellationReason.CUSTOMER_CANCELLED):
            raise Conflict(f"order {order_id} is {order.status.value} and can no longer be cancelled")
        now = self.clock.now()
        cancelled = cancel(order, CancellationReason.CUSTOMER_CANCELLED, now)
        payment = None
        if order.payment is not None and order.payment.status is PaymentStatus.PENDING:
            # The code can no longer be paid; closing it also takes it out of the expiry sweep's index.
            cancelled = with_payment_status(cancelled, PaymentStatus.CANCELLED)
            closed = replace(order.payment, status=PaymentStatus.CANCELLED)
            payment = PaymentRecord(order.id, closed, expected_status=PaymentStatus.PENDING)
        event = order.event(EventType.CANCELLATION_REQUESTED, {"requestedBy": requested_by}, now)
        try:
            self.store.apply(Change(order=cancelled, payment=payment, events=(event,)))
        except StaleVersion:
            # The saga moved the order meanwhile: decide again on its new state.
            return self.cancel_by_customer(order_id, requested_by=requested_by, is_admin=is_admin)
        except PaymentChanged as error:
            raise Conflict(f"the payment of order {order_id} has already been received") from error
        return replace(cancelled, version=order.version + 1)

    def expire_due_payments(self, limit: int = 100) -> int:
        """Emit PaymentExpired for each pending payment past its expiry (run every minute by a schedule)."""
        now = self.clock.now()
        expired = 0
        for record in self.store.payments_due(now, limit):
            order = self.store.get_order(record.order_id)
            expired_payment = replace(record.payment, status=PaymentStatus.EXPIRED)
            closing = PaymentRecord(record.order_id, expired_payment, expected_status=PaymentStatus.PENDING)
            current = (
                order is not None
                and order.status is OrderStatus.AWAITING_PAYMENT
                and order.payment is not None
                and order.payment.code == record.payment.code
                and order.payment.status is PaymentStatus.PENDING
            )
            if order is None or not current:
                # A payment its order no longer waits for: close it, or it would come back on every sweep.
                with contextlib.suppress(PaymentChanged):
                    self.store.apply(Change(payment=closing))
                continue
            change = Change(
                order=note(with_payment_status(order, PaymentStatus.EXPIRED), EventType.PAYMENT_EXPIRED, now),
                payment=closing,
                events=(order.event(EventType.PAYMENT_EXPIRED, {"paymentCode": record.payment.code}, now),),
            )
            try:
                self.store.apply(change)
            except (StaleVersion, PaymentChanged):
                continue  # paid or cancelled meanwhile: that outcome stands
            expired += 1
        return expired

    def expire_stock_holds(self, limit: int = 100, *, ttl: timedelta | None = None) -> int:
        """Cancel each order that has waited for stock longer than `ttl` (the config's by default), run by the
        payment expiry sweep's schedule: STOCK_HOLD_EXPIRED, what it reserved released (the restock flow hands it to
        the next in line), its places in the stock lines given up, the customer told by the cancellation's email.

        Written under the order's version: a restock that reserves the order's last item at the same moment wins
        (the order goes on to payment) or this does (the order is cancelled), never both. Returns how many."""
        now = self.clock.now()
        hold = self.config.pending_stock_ttl if ttl is None else ttl
        expired = 0
        for order_id in self.store.holds_due(now - hold, limit):
            order = self.store.get_order(order_id)
            if order is None or not cancellation_allowed(order.status, CancellationReason.STOCK_HOLD_EXPIRED):
                continue  # reserved or cancelled meanwhile; its lines were left in the same write
            reason = CancellationReason.STOCK_HOLD_EXPIRED
            waited = ", ".join(
                f"{item.quantity} x {item.ref_id}" for item in order.items if item.status is ItemStatus.PENDING
            )
            detail = f"waited for {waited} longer than {_hours(hold)}"
            released, moves, waits = _release_stock(cancel(order, reason, now, detail))
            change = Change(
                order=replace(released, applied=released.applied | {_COMPENSATED}),
                stock=moves,
                waits_removed=waits,
                events=(order.event(EventType.ORDER_CANCELLED, {"reason": reason.value, "detail": detail}, now),),
            )
            try:
                self.store.apply(change)
            except StaleVersion:  # the order's version, or a product's stock (StockChanged)
                continue  # the order moved meanwhile (a restock reserved it): that outcome stands; next sweep decides
            expired += 1
        return expired

    def receive_payment_notification(
        self, *, provider_event_id: str, code: str, paid: bool, amount: Money, detail: str
    ) -> bool:
        """The provider says a payment code was paid (or failed). Only emits the event; the saga acts on it.

        Returns False when this provider event was already received (a replay changes nothing).
        """
        record = self.store.get_payment(code)
        order = None if record is None else self.store.get_order(record.order_id)
        if record is None or order is None:
            raise NotFound("payment", code)
        now = self.clock.now()
        pending = record.payment.status is PaymentStatus.PENDING
        new_status = PaymentStatus.PAID if paid else PaymentStatus.FAILED
        if paid:
            payload = {"paymentCode": code, "amount": str(amount), "providerEventId": provider_event_id}
            event = order.event(EventType.PAYMENT_CONFIRMED, payload, now)
        else:
            payload = {"paymentCode": code, "providerEventId": provider_event_id, "detail": detail}
            event = order.event(EventType.PAYMENT_FAILED, payload, now)
        # A payment no longer pending (expired, say) keeps its status: the event still tells the saga money moved.
        payment = (
            PaymentRecord(record.order_id, replace(record.payment, status=new_status), PaymentStatus.PENDING)
            if pending
            else None
        )
        try:
            self.store.apply(Change(payment=payment, events=(event,), receipt=provider_event_id))
        except AlreadyApplied:
            return False
        except PaymentChanged:
            # The payment left PENDING between our read and write (the expiry sweep): record the event alone.
            try:
                self.store.apply(Change(events=(event,), receipt=provider_event_id))
            except AlreadyApplied:
                return False
        return True

    # --- the saga's steps: one per queue --------------------------------------------------------------------------

    def validate_client(self, event: DomainEvent, consumer: str) -> None:
        order = self._order(event, consumer)
        if order is None:
            return
        if order.status is not OrderStatus.PLACED or _happened(order, EventType.CLIENT_VALIDATED):
            return
        now = self.clock.now()
        client = self.store.get_client(order.client_id)
        if client is None:
            detail = "the buyer is not a registered client"
            self._apply(
                Change(
                    order=note(order, EventType.ORDER_REJECTED, now, detail),
                    events=(
                        order.event(EventType.ORDER_REJECTED, {"reason": "CLIENT_INVALID", "detail": detail}, now),
                    ),
                    consumed=_marker(consumer, event),
                )
            )
            return
        self._apply(
            Change(
                order=note(order, EventType.CLIENT_VALIDATED, now, f"client {client.name}"),
                events=(order.event(EventType.CLIENT_VALIDATED, {"clientId": client.id}, now),),
                consumed=_marker(consumer, event),
            )
        )

    def reserve_inventory(self, event: DomainEvent, consumer: str) -> None:
        order = self._order(event, consumer)
        if order is None or order.status is not OrderStatus.PLACED:
            return
        if order.vehicle_id is None:
            self._reserve_products(order.id, _marker(consumer, event))
            return
        vehicle_id = order.vehicle_id
        now = self.clock.now()
        vehicle = self.store.get_vehicle(vehicle_id)
        if vehicle is not None and vehicle.status is VehicleStatus.AVAILABLE:
            try:
                self._apply(
                    Change(
                        order=advance(order, OrderStatus.RESERVED, EventType.INVENTORY_RESERVED, now),
                        vehicle=VehicleClaim(
                            vehicle_id, VehicleStatus.AVAILABLE, VehicleStatus.RESERVED, None, order.id
                        ),
                        events=(order.event(EventType.INVENTORY_RESERVED, {"items": item_refs(order.items)}, now),),
                        consumed=_marker(consumer, event),
                    )
                )
                return
            except VehicleUnavailable:
                pass  # another buyer reserved it between our read and our write
        detail = f"vehicle {vehicle_id} is not available"
        reason = CancellationReason.VEHICLE_UNAVAILABLE.value
        self._apply(
            Change(
                order=note(order, EventType.RESERVATION_FAILED, now, detail),
                events=(order.event(EventType.RESERVATION_FAILED, {"reason": reason, "detail": detail}, now),),
                consumed=_marker(consumer, event),
            )
        )

    def resume_pending(self, sku: str, limit: int = RESUME_BATCH) -> int:
        """Stock of `sku` arrived (a delivery, a cancelled order's release): the orders waiting for it try again,
        oldest first. Returns how many of them are now fully reserved and go on to payment."""
        resumed = 0
        for order_id in self.store.waiting_orders(sku, limit):
            order = self._reserve_products(order_id, None)
            if order is not None and order.status is OrderStatus.RESERVED:
                resumed += 1
        return resumed

    def _reserve_products(self, order_id: str, consumed: str | None) -> Order | None:
        """Reserve what the order's products have in stock, in one transaction with the order; what is short
        leaves the order PENDING_STOCK, in each short product's line. Lost races are decided again, fresh."""

        def attempt() -> Order | None:
            order = self.store.get_order(order_id)
            if order is None or order.status not in {OrderStatus.PLACED, OrderStatus.PENDING_STOCK}:
                return order
            if consumed is not None and consumed in order.applied:
                return order
            change = self._stock_reservation(order, consumed)
            if change is None:
                return order
            self._apply(change)
            return change.order

        return with_fresh_reads(attempt)

    def _stock_reservation(self, order: Order, consumed: str | None) -> Change | None:
        now = self.clock.now()
        products = self.store.get_products(item.ref_id for item in order.product_items)
        items: list[OrderItem] = []
        moves: list[StockMove] = []
        added: list[Wait] = []
        removed: list[Wait] = []
        for item in order.items:
            if item.status is ItemStatus.RESERVED:
                items.append(item)
                continue
            wait = Wait(item.ref_id, order.id, order.placed_at)
            product = products.get(item.ref_id)
            if product is not None and product.stock_available >= item.quantity:
                items.append(replace(item, status=ItemStatus.RESERVED))
                moves.append(StockMove(item.ref_id, item.quantity, StockMoveKind.RESERVE))
                if item.status is ItemStatus.PENDING:
                    removed.append(wait)
                continue
            items.append(replace(item, status=ItemStatus.PENDING))
            if product is not None:
                # Refused if the stock arrived meanwhile: the order must not start waiting for what is there.
                moves.append(StockMove(item.ref_id, item.quantity, StockMoveKind.SHORT))
            if item.status is not ItemStatus.PENDING:
                added.append(wait)
        updated = replace(order, items=tuple(items))
        pending = [item for item in items if item.status is ItemStatus.PENDING]
        reserved_now = [move for move in moves if move.kind is StockMoveKind.RESERVE]
        events: tuple[DomainEvent, ...] = ()
        if not pending:
            updated = advance(updated, OrderStatus.RESERVED, EventType.INVENTORY_RESERVED, now)
            events = (order.event(EventType.INVENTORY_RESERVED, {"items": item_refs(items)}, now),)
        elif order.status is OrderStatus.PLACED:
            waiting_for = [
                {
                    "productId": item.ref_id,
                    "quantity": item.quantity,
                    "available": max(0, products[item.ref_id].stock_available) if item.ref_id in products else 0,
                }
                for item in pending
            ]
            detail = "waiting for " + ", ".join(f"{item.quantity} x {item.ref_id}" for item in pending)
            updated = advance(updated, OrderStatus.PENDING_STOCK, EventType.STOCK_PENDING, now, detail)
            events = (order.event(EventType.STOCK_PENDING, {"pendingItems": waiting_for}, now),)
        elif reserved_now:
            reserved = ", ".join(f"{move.quantity} x {move.sku}" for move in reserved_now)
            updated = note(updated, EventType.INVENTORY_RESERVED, now, f"reserved {reserved}; still waiting")
        else:
            return None  # still short of everything it waits for: nothing to write
        return Change(
            order=updated,
            stock=tuple(moves),
            waits_added=tuple(added),
            waits_removed=tuple(removed),
            events=events,
            consumed=consumed,
        )

    def request_payment(self, event: DomainEvent, consumer: str) -> None:
        order = self._order(event, consumer)
        if order is None:
            return
        if order.status is not OrderStatus.RESERVED:
            return
        now = self.clock.now()
        expires_at = now + self.config.payment_ttl
        code = self.payments.create_charge(
            idempotency_key=f"order:{order.id}", amount=order.total, expires_at=expires_at
        )
        payment = Payment(code=code, amount=order.total, expires_at=expires_at)
        self._apply(
            Change(
                order=await_payment(order, payment, now),
                payment=PaymentRecord(order.id, payment, expected_status=None),
                events=(
                    order.event(
                        EventType.PAYMENT_REQUESTED,
                        {"paymentCode": code, "amount": str(payment.amount), "expiresAt": expires_at.isoformat()},
                        now,
                    ),
                ),
                consumed=_marker(consumer, event),
            )
        )

    def complete_sale(self, event: DomainEvent, consumer: str) -> None:
        """PaymentConfirmed: PAID, then the vehicle SOLD and the sale recorded (COMPLETED), exactly once.

        Two commits, so a crash between them leaves a PAID order that the redelivered event completes. Money for
        an order that no longer waits for it (cancelled, expired, failed) or of the wrong amount is owed back.
        """
        order = self._order(event, consumer)
        if order is None:
            return
        amount = Money.parse(event.payload["amount"], field="amount", allow_zero=True)
        code = str(event.payload["paymentCode"])
        now = self.clock.now()
        waiting = (
            order.status is OrderStatus.AWAITING_PAYMENT
            and order.refund_owed is None
            and order.payment is not None
            and order.payment.status is PaymentStatus.PENDING
        )
        if waiting and amount != order.total:
            # Not the price agreed: the order is cancelled, what was paid is owed back, what it held goes free.
            failed = cancel(order, CancellationReason.PAYMENT_FAILED, now, f"paid {amount}, expected {order.total}")
            released, moves, waits = _release_stock(owe_refund(failed, amount, now, "of the wrong amount"))
            self._apply(
                Change(
                    order=replace(released, applied=released.applied | {_COMPENSATED}),
                    vehicle=self._release(order),
                    stock=moves,
                    waits_removed=waits,
                    events=(
                        order.event(
                            EventType.ORDER_CANCELLED, {"reason": CancellationReason.PAYMENT_FAILED.value}, now
                        ),
                        order.event(EventType.REFUND_OWED, {"paymentCode": code, "amount": str(amount)}, now),
                    ),
                    consumed=_marker(consumer, event),
                )
            )
            return
        paid_by_this = f"{_PAID_BY}{event.event_id}" in order.applied
        if not waiting and not (order.status is OrderStatus.PAID and paid_by_this):
            # Money the order does not wait for: it came after the cancellation, or paid the code once more (a boleto
            # can be paid twice). Each payment is owed back once; a redelivery of one finds its marker.
            if order.status is not OrderStatus.PLACED:
                refund = order.event(EventType.REFUND_OWED, {"paymentCode": code, "amount": str(amount)}, now)
                why = "received after cancellation" if order.status is OrderStatus.CANCELLED else "paid twice"
                owed = owe_refund(order, amount, now, why)
                self._apply(Change(order=owed, events=(refund,), consumed=_marker(consumer, event)))
            return
        if order.status is OrderStatus.AWAITING_PAYMENT:
            order = self._issue_invoice(order, now, event)
        invoice = order.invoice
        if order.status is OrderStatus.PAID and invoice is not None and invoice.status is InvoiceStatus.PENDING:
            self._commit_sale(order, _marker(consumer, event), now)

    def _issue_invoice(self, order: Order, now: datetime, payment: DomainEvent) -> Order:
        """PAID, with its invoice PENDING under the next number of the sequence, in one commit.

        Without the consumer's marker: a crash after it leaves a PAID order that the redelivered event finishes (the
        order names the event that paid it; any other payment of it is money owed back).
        """
        paid = paid_in_full(advance(order, OrderStatus.PAID, EventType.PAYMENT_CONFIRMED, now))
        paid = replace(paid, applied=paid.applied | {f"{_PAID_BY}{payment.event_id}"})

        def attempt() -> Order:
            number = self.store.last_invoice_number() + 1
            invoice = Invoice(number=f"{number:0{INVOICE_NUMBER_DIGITS}d}", status=InvoiceStatus.PENDING, issued_at=now)
            issued = note(replace(paid, invoice=invoice), EventType.INVOICE_ISSUED, now, f"invoice {invoice.number}")
            payload = {"invoiceNumber": invoice.number, "amount": str(order.total)}
            event = order.event(EventType.INVOICE_ISSUED, payload, now)
            self.store.apply(Change(order=issued, invoice_number=number, events=(event,)))
            return replace(issued, version=order.version + 1)

        return with_fresh_reads(attempt, retry_on=(InvoiceNumberTaken,))

    def _commit_sale(self, order: Order, consumed: str, now: datetime) -> None:
        """The goods leave with the sale: the vehicle SOLD or the reserved stock taken off the shelf, the invoice
        CONFIRMED with its document stored, the order COMPLETED; all at once. If the goods are not there to
        commit, the invoice goes to ERROR_STOCK and InvoiceFailed has the order cancelled and the money owed."""
        invoice = order.invoice
        assert invoice is not None  # checked by the caller
        client = self.store.get_client(order.client_id)
        if client is None:
            raise InvalidEvent(f"order {order.id} was paid by a client that does not exist")
        # Stored before the commit that links it, and the same every time: a retry rewrites the same bytes.
        key = invoice_document_key(order.id, invoice.number)
        document = render_invoice(
            number=invoice.number, issued_at=invoice.issued_at, seller=self.config.seller, buyer=client, order=order
        )
        self.archive.store(key, document)
        confirmed = replace(order, invoice=replace(invoice, status=InvoiceStatus.CONFIRMED, document_key=key))
        payload: dict[str, object] = {
            "clientId": order.client_id,
            "amount": str(order.total),
            "invoiceNumber": invoice.number,
            "items": item_refs(order.items),
        }
        vehicle_id = order.vehicle_id
        claim = sale = None
        if vehicle_id is not None:
            payload["vehicleId"] = vehicle_id
            claim = VehicleClaim(vehicle_id, VehicleStatus.RESERVED, VehicleStatus.SOLD, order.id, None)
            sale = Sale(order.id, vehicle_id, order.client_id, order.total, now)
        moves = tuple(
            StockMove(item.ref_id, item.quantity, StockMoveKind.COMMIT)
            for item in order.product_items
            if item.status is ItemStatus.RESERVED
        )
        try:
            self._apply(
                Change(
                    order=advance(confirmed, OrderStatus.COMPLETED, EventType.SALE_COMPLETED, now),
                    vehicle=claim,
                    stock=moves,
                    sale=sale,
                    events=(order.event(EventType.SALE_COMPLETED, payload, now),),
                    consumed=consumed,
                )
            )
        except (VehicleUnavailable, StockChanged) as error:
            reason = CancellationReason.OUT_OF_STOCK if vehicle_id is None else CancellationReason.VEHICLE_UNAVAILABLE
            detail = f"the goods could not be committed to invoice {invoice.number}: {error}"
            failed = replace(order, invoice=replace(invoice, status=InvoiceStatus.ERROR_STOCK, detail=detail))
            failure = {"invoiceNumber": invoice.number, "reason": reason.value, "detail": detail}
            self._apply(
                Change(
                    order=note(failed, EventType.INVOICE_FAILED, now, detail),
                    events=(order.event(EventType.INVOICE_FAILED, failure, now),),
                    consumed=consumed,
                )
            )

    def compensate(self, event: DomainEvent, consumer: str) -> None:
        """A failure or a cancellation: cancel the order with its reason, give back what it holds (the vehicle,
        reserved stock, its place in the stock lines), owe back money already taken, and say so once."""
        reason = _failure_reason(event)
        order = self._order(event, consumer)
        if order is None:
            return
        now = self.clock.now()
        events = [order.event(EventType.ORDER_CANCELLED, {"reason": reason.value}, now)]
        if order.status is OrderStatus.CANCELLED:
            if order.cancellation_reason is not reason or _COMPENSATED in order.applied:
                return  # cancelled for another reason, or compensated already: that compensation stands
            cancelled = order
        elif cancellation_allowed(order.status, reason):
            cancelled = cancel(order, reason, now)
            owes_already = cancelled.payment is not None and cancelled.payment.status is PaymentStatus.REFUND_OWED
            if reason is CancellationReason.PAYMENT_FAILED and not owes_already:
                cancelled = with_payment_status(cancelled, PaymentStatus.FAILED)
            if order.status is OrderStatus.PAID and order.payment is not None:
                # Paid, then the goods could not be committed: the money goes back, and the cancellation (one
                # email) says so; the RefundOwed event is for the books.
                amount = str(order.payment.amount)
                cancelled = owe_refund(
                    cancelled, order.payment.amount, now, "refunded: the goods were not there", newly_received=False
                )
                events = [order.event(EventType.ORDER_CANCELLED, {"reason": reason.value, "refund": amount}, now)]
                refund = {"paymentCode": order.payment.code, "amount": amount, "toldWith": "OrderCancelled"}
                events.append(order.event(EventType.REFUND_OWED, refund, now))
        else:
            return  # a late failure for an order that moved on (paid, completed): that outcome stands
        released, moves, waits = _release_stock(cancelled)
        self._apply(
            Change(
                # Marked, so that a later failure of the same kind (a second failed payment) tells nobody again.
                order=replace(released, applied=released.applied | {_COMPENSATED}),
                vehicle=self._release(order),
                stock=moves,
                waits_removed=waits,
                events=tuple(events),
                consumed=_marker(consumer, event),
            )
        )

    # --- helpers ----------------------------------------------------------------------------------------------------

    def _order(self, event: DomainEvent, consumer: str) -> Order | None:
        """The event's order, or None when this consumer applied the event already."""
        order = self.store.get_order(event.order_id)
        if order is None:
            # Events are written with their order; an unknown order means a message that is not ours.
            raise InvalidEvent(f"{event.event_type} for unknown order {event.order_id}")
        return None if _marker(consumer, event) in order.applied else order

    def _release(self, order: Order) -> VehicleClaim | None:
        """Free the order's vehicle, if this order is the one holding it (never another buyer's reservation)."""
        vehicle_id = order.vehicle_id
        vehicle = None if vehicle_id is None else self.store.get_vehicle(vehicle_id)
        if vehicle is None or vehicle.status is not VehicleStatus.RESERVED or vehicle.reserved_by != order.id:
            return None
        return VehicleClaim(vehicle.id, VehicleStatus.RESERVED, VehicleStatus.AVAILABLE, order.id, None)

    def _apply(self, change: Change) -> None:
        """Apply a step's change; an event already applied by this consumer is a success, not an error.

        The consumer's marker goes into the order the change writes (the order's version makes it atomic); only a
        change that writes no order stores it as an item of its own.
        """
        if change.consumed is not None and change.order is not None:
            if change.consumed in change.order.applied:
                return
            marked = replace(change.order, applied=change.order.applied | {change.consumed})
            change = replace(change, order=marked, consumed=None)
        try:
            self.store.apply(change)
        except AlreadyApplied:
            return


def _failure_reason(event: DomainEvent) -> CancellationReason:
    if event.event_type in _REASON_IN_PAYLOAD:
        try:
            return CancellationReason(event.payload["reason"])
        except ValueError as error:
            raise InvalidEvent(f"{event.event_type} names no cancellation reason: {error}") from error
    reason = FAILURE_REASONS.get(event.event_type)
    if reason is None:
        raise InvalidEvent(f"{event.event_type} is not a failure the saga compensates")
    return reason


def _release_stock(order: Order) -> tuple[Order, tuple[StockMove, ...], tuple[Wait, ...]]:
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


def _hours(span: timedelta) -> str:
    hours = span.total_seconds() / 3600
    return f"{hours:g} hours"


def _marker(consumer: str, event: DomainEvent) -> str:
    return f"{consumer}:{event.event_id}"


def _happened(order: Order, event_type: EventType) -> bool:
    return any(entry.event == event_type.value for entry in order.history)
