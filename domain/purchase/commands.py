"""The API's entry points into the saga: place, cancel, receive a payment notification, and the sweeps."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import datetime, timedelta

from domain.errors import Conflict, Forbidden, NotFound, StaleVersion
from domain.events import (
    CancellationRequested,
    DomainEvent,
    EventType,
    OrderCancelled,
    PaymentConfirmed,
    PaymentExpired,
    RefundCompleted,
    RefundOwed,
)
from domain.order_status import CancellationReason, OrderStatus, cancellation_allowed
from domain.orders import (
    ItemStatus,
    Order,
    PaymentStatus,
    ProductLine,
    Refund,
    RefundStatus,
    cancel,
    note,
    parse_idempotency_key,
    parse_product_lines,
    place_product_order,
    place_vehicle_order,
    request_fingerprint,
    with_payment_status,
)
from domain.purchase.change import Change, IdempotencyClaim, PaymentRecord
from domain.purchase.dependencies import PurchaseDependencies
from domain.purchase.errors import AlreadyApplied, KeyReused, PaymentChanged
from domain.purchase.ports import PaymentReceived, RefundOutcome
from domain.purchase.rules import COMPENSATED, MAX_REFUND_ATTEMPTS, hours, release_stock
from domain.retries import with_fresh_reads
from domain.values import Money


class PurchaseCommands(PurchaseDependencies):
    """What a person (or a schedule) asks of the saga; each writes its order with the event that starts a step."""

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

        def attempt() -> Order:
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
                # The code can no longer be paid; closing it also takes it out of the expiry sweep's index. Removed
                # at the provider before the commit, so a cancelled order's charge is never left payable (a payment
                # that got there first is a late payment, owed back).
                self.payments.remove_charge(order.payment.code)
                cancelled = with_payment_status(cancelled, PaymentStatus.CANCELLED)
                closed = replace(order.payment, status=PaymentStatus.CANCELLED)
                payment = PaymentRecord(order.id, closed, expected_status=PaymentStatus.PENDING)
            event = order.event(CancellationRequested(requested_by=requested_by), now)
            try:
                self.store.apply(Change(order=cancelled, payment=payment, events=(event,)))
            except PaymentChanged as error:
                raise Conflict(f"the payment of order {order_id} has already been received") from error
            return replace(cancelled, version=order.version + 1)

        # The saga may move the order between the read and the write (StaleVersion): decide again on its new state.
        return with_fresh_reads(attempt)

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
            # Removed at the provider before the record is closed: if the provider cannot be reached, the payment
            # stays due and the next sweep tries again.
            self.payments.remove_charge(record.payment.code)
            if order is None or not current:
                # A payment its order no longer waits for: close it, or it would come back on every sweep.
                with contextlib.suppress(PaymentChanged):
                    self.store.apply(Change(payment=closing))
                continue
            change = Change(
                order=note(with_payment_status(order, PaymentStatus.EXPIRED), EventType.PAYMENT_EXPIRED, now),
                payment=closing,
                events=(order.event(PaymentExpired(payment_code=record.payment.code), now),),
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
            detail = f"waited for {waited} longer than {hours(hold)}"
            released, moves, waits = release_stock(cancel(order, reason, now, detail))
            change = Change(
                order=replace(released, applied=released.applied | {COMPENSATED}),
                stock=moves,
                waits_removed=waits,
                events=(order.event(OrderCancelled(reason=reason.value, detail=detail), now),),
            )
            try:
                self.store.apply(change)
            except StaleVersion:  # the order's version, or a product's stock (StockChanged)
                continue  # the order moved meanwhile (a restock reserved it): that outcome stands; next sweep decides
            expired += 1
        return expired

    def receive_payment(self, received: PaymentReceived) -> bool:
        """The provider received money for a charge (a Pix, from the webhook or the reconciliation). Only emits
        PaymentConfirmed; the saga decides whether the order keeps the money or owes it back.

        Returns False when this payment was already received (its end-to-end id: a replay changes nothing)."""
        code = received.code
        record = self.store.get_payment(code)
        order = None if record is None else self.store.get_order(record.order_id)
        if record is None or order is None:
            raise NotFound("payment", code)
        confirmed = PaymentConfirmed(
            payment_code=code, amount=str(received.amount), provider_event_id=received.end_to_end_id
        )
        event = order.event(confirmed, self.clock.now())
        # A payment no longer pending (expired, say) keeps its status: the event still tells the saga money moved.
        payment = (
            PaymentRecord(record.order_id, replace(record.payment, status=PaymentStatus.PAID), PaymentStatus.PENDING)
            if record.payment.status is PaymentStatus.PENDING
            else None
        )
        receipt = received.end_to_end_id
        try:
            self.store.apply(Change(payment=payment, events=(event,), receipt=receipt))
        except AlreadyApplied:
            return False
        except PaymentChanged:
            # The payment left PENDING between our read and write (the expiry sweep): record the event alone.
            try:
                self.store.apply(Change(events=(event,), receipt=receipt))
            except AlreadyApplied:
                return False
        return True

    def payments_received(self, end_to_end_ids: Iterable[str]) -> set[str]:
        """Which of these payments the saga has received already (a notice of one changes nothing now)."""
        return self.store.received(end_to_end_ids)

    def refund_owed(self, *, order_id: str, end_to_end_id: str, amount: Money, attempt: int = 1) -> Refund:
        """Give back money the order received and does not keep (a RefundOwed event names it, and the attempt):
        the provider is asked, the refund recorded on the order's payment with what the provider said.

        Safe to repeat: the same attempt asked again is the same refund at the provider, and an attempt already
        ended is not asked again. Once the money is back (any attempt REFUNDED), nothing more is asked."""

        def ask() -> Refund:
            order = self.store.get_order(order_id)
            if order is None or order.payment is None:
                raise NotFound("order payment", order_id)
            attempts = order.payment.refund_attempts(end_to_end_id)
            refunded = next((known for known in attempts if known.status is RefundStatus.REFUNDED), None)
            if refunded is not None:
                return refunded
            known = attempts[attempt - 1] if len(attempts) >= attempt else None
            if known is not None and known.status is RefundStatus.FAILED:
                return known  # this attempt is over; a next one, if any is left, is its own RefundOwed
            receipt = self.payments.refund(
                payment_code=order.payment.code, end_to_end_id=end_to_end_id, amount=amount, attempt=attempt
            )
            now = self.clock.now()
            refund = Refund(
                id=receipt.id,
                end_to_end_id=end_to_end_id,
                amount=amount,
                status=receipt.status,
                requested_at=now if known is None else known.requested_at,
                completed_at=receipt.completed_at,
            )
            updated = _with_refund(order, refund, now)
            if updated is not order:
                self.store.apply(Change(order=updated, events=_outcome_events(updated, refund.id, now)))
            assert updated.payment is not None  # the order's, with the refund recorded
            return next(recorded for recorded in updated.payment.refunds if recorded.id == refund.id)

        return with_fresh_reads(ask)

    def execute_refund(self, event: DomainEvent, consumer: str) -> None:
        """The refund step (RefundOwed): the money goes back to the Pix it came from, through the provider. Safe to
        run again (refund_owed asks for the same refund)."""
        del consumer  # refund_owed is idempotent by the Pix and the attempt, not by the delivery
        owed = event.payload_as(RefundOwed)
        self.refund_owed(
            order_id=event.order_id,
            end_to_end_id=owed.end_to_end_id,
            amount=Money.parse(owed.amount),
            attempt=owed.attempt or 1,
        )

    def record_refund_outcome(self, outcome: RefundOutcome) -> bool:
        """The provider says how a refund ended (the webhook or the reconciliation). Recorded once: a refund
        already REFUNDED or FAILED keeps its outcome, and a replay changes nothing. A refund the order does not
        know yet (the provider was asked, then the step crashed before recording it) is recorded as told.

        Returns whether the order changed."""
        record = self.store.get_payment(outcome.code)
        if record is None:
            raise NotFound("payment", outcome.code)

        def attempt() -> bool:
            order = self.store.get_order(record.order_id)
            if order is None or order.payment is None:
                raise NotFound("order", record.order_id)
            told = Refund(
                id=outcome.refund_id,
                end_to_end_id=outcome.end_to_end_id,
                amount=outcome.amount,
                status=outcome.status,
                requested_at=outcome.requested_at,
                completed_at=outcome.completed_at,
            )
            now = self.clock.now()
            updated = _with_refund(order, told, now)
            if updated is order:
                return False
            self.store.apply(Change(order=updated, events=_outcome_events(updated, told.id, now)))
            return True

        return with_fresh_reads(attempt)


def _outcome_events(updated: Order, refund_id: str, now: datetime) -> tuple[DomainEvent, ...]:
    """What the order just recording the refund `refund_id`'s final outcome says (it changed, and a final outcome
    never changes again: so each is emitted once, with the change that made it so). REFUNDED: RefundCompleted.
    FAILED (NAO_REALIZADO): the money is still owed, so the next attempt is owed too, up to MAX_REFUND_ATTEMPTS;
    after the last, the order shows the failed refunds for the staff to settle by hand."""
    assert updated.payment is not None  # the order's, with the refund recorded
    payment = updated.payment
    refund = next(recorded for recorded in payment.refunds if recorded.id == refund_id)
    if refund.status is RefundStatus.REFUNDED:
        completed = RefundCompleted(
            payment_code=payment.code,
            refund_id=refund.id,
            amount=str(refund.amount),
            end_to_end_id=refund.end_to_end_id,
        )
        return (updated.event(completed, now),)
    attempts = payment.refund_attempts(refund.end_to_end_id)
    if refund.status is RefundStatus.FAILED and refund is attempts[-1] and len(attempts) < MAX_REFUND_ATTEMPTS:
        retry = RefundOwed(
            payment_code=payment.code,
            amount=str(refund.amount),
            end_to_end_id=refund.end_to_end_id,
            attempt=len(attempts) + 1,
        )
        return (updated.event(retry, now),)
    return ()


def _with_refund(order: Order, refund: Refund, now: datetime) -> Order:
    """The order with `refund` recorded on its payment, or the same order when that says nothing new: a refund's
    outcome, once REFUNDED or FAILED, is final."""
    assert order.payment is not None  # checked by the callers
    refunds = list(order.payment.refunds)
    index = next((i for i, known in enumerate(refunds) if known.id == refund.id), None)
    if index is None:
        # A final outcome the provider gave no time for (a refund not carried out has none) ended when it was told.
        ended = refund.completed_at or (None if refund.status is RefundStatus.PENDING else now)
        refunds.append(replace(refund, completed_at=ended))
    else:
        known = refunds[index]
        if known.status is not RefundStatus.PENDING or refund.status is RefundStatus.PENDING:
            return order
        refunds[index] = replace(known, status=refund.status, completed_at=refund.completed_at or now)
    detail = f"refund {refund.id} of {refund.amount}: {refund.status.value}"
    # The history names what happened: the money back with the payer, or a refund still on its way (or failed).
    happened = EventType.REFUND_COMPLETED if refund.status is RefundStatus.REFUNDED else EventType.REFUND_OWED
    return replace(note(order, happened, now, detail), payment=replace(order.payment, refunds=tuple(refunds)))
