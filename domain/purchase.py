"""The purchase saga's rules: what each step does with an order, given the event that reached it.

Every step reads, decides, and hands one `Change` to the store, which applies it atomically (order, vehicle,
payment, outbox events and the consumer's processed marker in one transaction) or not at all. A step re-run by a
redelivered message finds either its marker (the change was made) or the order in a state that no longer calls for
the step: nothing happens twice. A step that crashed before its commit changed nothing and simply runs again.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Protocol

from domain.clients import Client
from domain.errors import Conflict, Forbidden, NotFound, StaleVersion
from domain.events import DomainEvent, EventType, InvalidEvent
from domain.order_status import CancellationReason, OrderStatus, VehicleStatus, cancellation_allowed
from domain.orders import (
    Order,
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
from domain.ports import Clock
from domain.values import Money
from domain.vehicles import Vehicle

# What each failure event cancels an order for.
FAILURE_REASONS = {
    EventType.ORDER_REJECTED: CancellationReason.CLIENT_INVALID,
    EventType.RESERVATION_FAILED: CancellationReason.VEHICLE_UNAVAILABLE,
    EventType.PAYMENT_FAILED: CancellationReason.PAYMENT_FAILED,
    EventType.PAYMENT_EXPIRED: CancellationReason.PAYMENT_EXPIRED,
    EventType.CANCELLATION_REQUESTED: CancellationReason.CUSTOMER_CANCELLED,
}


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


class VehicleUnavailable(Conflict):
    """The vehicle was not in the expected state when the change was applied (another buyer won)."""


class PaymentChanged(Conflict):
    """The payment record was no longer in the expected status (paid, failed or expired meanwhile)."""


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

    def get_payment(self, code: str) -> PaymentRecord | None: ...

    def find_idempotency(self, scope: str, key: str) -> tuple[str, str] | None:
        """(fingerprint, order id) of the request that first used this key, if one did."""
        ...

    def payments_due(self, now: datetime, limit: int) -> list[PaymentRecord]:
        """Pending payments whose expiry has passed, oldest first."""
        ...

    def apply(self, change: Change) -> None:
        """All of the change or none of it.

        Raises StaleVersion (order), VehicleUnavailable, PaymentChanged, AlreadyApplied (marker or receipt) or
        KeyReused (idempotency key), naming the first condition that failed.
        """
        ...


class PaymentProvider(Protocol):
    def create_charge(self, *, idempotency_key: str, amount: Money, expires_at: datetime) -> str:
        """A payment code for the client to pay. The same key always gives the same code (no double charge)."""
        ...


@dataclass(frozen=True, slots=True)
class SagaConfig:
    payment_ttl: timedelta = timedelta(minutes=30)


@dataclass
class Purchase:
    """The saga's steps over one store, clock and payment provider."""

    store: PurchaseStore
    clock: Clock
    payments: PaymentProvider
    config: SagaConfig = field(default_factory=SagaConfig)

    # --- entry points: the API ------------------------------------------------------------------------------------

    def place_vehicle_order(
        self, *, client_id: str, vehicle_id: str, idempotency_key: str, order_id: str, correlation_id: str
    ) -> Order:
        """Write the order and its OrderPlaced event together, and answer at once; the saga takes it from there.

        The same key with the same request returns the first order; with another request it is a CONFLICT.
        """
        fingerprint = request_fingerprint({"vehicleId": vehicle_id})
        scope = f"placeOrder#{client_id}"
        key = parse_idempotency_key(idempotency_key)
        # A retry is answered from the key before anything else: the vehicle it bought is SOLD by now.
        used = self.store.find_idempotency(scope, key)
        if used is not None:
            return self._replayed(KeyReused(*used), fingerprint)
        if self.store.get_client(client_id) is None:
            raise Forbidden("register as a client (registerClient) before buying")
        vehicle = self.store.get_vehicle(vehicle_id)
        if vehicle is None:
            raise NotFound("vehicle", vehicle_id)
        order, event = place_vehicle_order(
            order_id=order_id,
            client_id=client_id,
            vehicle=vehicle,
            idempotency_key=idempotency_key,
            correlation_id=correlation_id,
            now=self.clock.now(),
        )
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
        if order is None:
            return
        vehicle_id = order.vehicle_id
        if order.status is not OrderStatus.PLACED or vehicle_id is None:
            return
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
                        events=(order.event(EventType.INVENTORY_RESERVED, {"vehicleId": vehicle_id}, now),),
                        consumed=_marker(consumer, event),
                    )
                )
                return
            except VehicleUnavailable:
                pass  # another buyer reserved it between our read and our write
        detail = f"vehicle {vehicle_id} is not available"
        self._apply(
            Change(
                order=note(order, EventType.RESERVATION_FAILED, now, detail),
                events=(
                    order.event(EventType.RESERVATION_FAILED, {"reason": "VEHICLE_UNAVAILABLE", "detail": detail}, now),
                ),
                consumed=_marker(consumer, event),
            )
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
            # Not the price agreed: the order is cancelled, what was paid is owed back, the vehicle goes free.
            failed = cancel(order, CancellationReason.PAYMENT_FAILED, now, f"paid {amount}, expected {order.total}")
            self._apply(
                Change(
                    order=owe_refund(failed, amount, now),
                    vehicle=self._release(order),
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
        if not waiting and order.status in {OrderStatus.AWAITING_PAYMENT, OrderStatus.CANCELLED}:
            if order.refund_owed is None:
                refund = order.event(EventType.REFUND_OWED, {"paymentCode": code, "amount": str(amount)}, now)
                owed = owe_refund(order, amount, now)
                self._apply(Change(order=owed, events=(refund,), consumed=_marker(consumer, event)))
            return
        if order.status is OrderStatus.AWAITING_PAYMENT:
            paid = with_payment_status(
                advance(order, OrderStatus.PAID, EventType.PAYMENT_CONFIRMED, now), PaymentStatus.PAID
            )
            self.store.apply(Change(order=paid))
            order = replace(paid, version=order.version + 1)
        vehicle_id = order.vehicle_id
        if order.status is not OrderStatus.PAID or vehicle_id is None:
            return  # completed already (a duplicate), or not a vehicle order
        sale = Sale(order.id, vehicle_id, order.client_id, order.total, now)
        self._apply(
            Change(
                order=advance(order, OrderStatus.COMPLETED, EventType.SALE_COMPLETED, now),
                vehicle=VehicleClaim(vehicle_id, VehicleStatus.RESERVED, VehicleStatus.SOLD, order.id, None),
                sale=sale,
                events=(
                    order.event(
                        EventType.SALE_COMPLETED,
                        {"clientId": order.client_id, "vehicleId": vehicle_id, "amount": str(order.total)},
                        now,
                    ),
                ),
                consumed=_marker(consumer, event),
            )
        )

    def compensate(self, event: DomainEvent, consumer: str) -> None:
        """A failure or a cancellation: cancel the order with its reason, release what it holds, say so once."""
        reason = FAILURE_REASONS.get(event.event_type)
        if reason is None:
            raise InvalidEvent(f"{event.event_type} is not a failure the saga compensates")
        order = self._order(event, consumer)
        if order is None:
            return
        now = self.clock.now()
        if order.status is OrderStatus.CANCELLED:
            cancelled = order if order.cancellation_reason is reason else None
        elif cancellation_allowed(order.status, reason):
            cancelled = cancel(order, reason, now)
            if reason is CancellationReason.PAYMENT_FAILED:
                cancelled = with_payment_status(cancelled, PaymentStatus.FAILED)
        else:
            return  # a late failure for an order that moved on (paid, completed): that outcome stands
        if cancelled is None:
            return  # cancelled for another reason already; that cancellation has its own compensation
        self._apply(
            Change(
                order=cancelled if cancelled is not order else None,
                vehicle=self._release(order),
                events=(order.event(EventType.ORDER_CANCELLED, {"reason": reason.value}, now),),
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


def _marker(consumer: str, event: DomainEvent) -> str:
    return f"{consumer}:{event.event_id}"


def _happened(order: Order, event_type: EventType) -> bool:
    return any(entry.event == event_type.value for entry in order.history)
