"""The saga's steps, one per queue: each reads, decides and hands one `Change` to the store."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

from domain.events import (
    ClientValidated,
    DomainEvent,
    EventType,
    InvalidEvent,
    InventoryReserved,
    InvoiceFailed,
    InvoiceIssued,
    OrderCancelled,
    OrderRejected,
    PaymentConfirmed,
    PaymentFailed,
    PaymentRequested,
    RefundOwed,
    ReservationFailed,
    SaleCompleted,
    StockPending,
)
from domain.invoice_document import invoice_content, invoice_document_key
from domain.order_status import CancellationReason, InvoiceStatus, OrderStatus, VehicleStatus, cancellation_allowed
from domain.orders import (
    Invoice,
    ItemStatus,
    Order,
    OrderItem,
    Payment,
    PaymentStatus,
    advance,
    await_payment,
    cancel,
    item_refs,
    note,
    owe_refund,
    paid_in_full,
)
from domain.purchase.change import Change, PaymentRecord, Sale, StockMove, StockMoveKind, VehicleClaim, Wait
from domain.purchase.config import INVOICE_NUMBER_DIGITS, RESUME_BATCH
from domain.purchase.dependencies import PurchaseDependencies
from domain.purchase.errors import AlreadyApplied, InvoiceNumberTaken, StockChanged, VehicleUnavailable
from domain.purchase.ports import Payer, PaymentRefused
from domain.purchase.rules import COMPENSATED, PAID_BY, failure_reason, happened, marker, release_stock
from domain.retries import with_fresh_reads
from domain.values import Money


class SagaSteps(PurchaseDependencies):
    """The saga's steps; each is safe to run again on a redelivered event."""

    def validate_client(self, event: DomainEvent, consumer: str) -> None:
        order = self._order(event, consumer)
        if order is None:
            return
        if order.status is not OrderStatus.PLACED or happened(order, EventType.CLIENT_VALIDATED):
            return
        now = self.clock.now()
        client = self.store.get_client(order.client_id)
        if client is None:
            detail = "the buyer is not a registered client"
            self._apply(
                Change(
                    order=note(order, EventType.ORDER_REJECTED, now, detail),
                    events=(order.event(OrderRejected(reason="CLIENT_INVALID", detail=detail), now),),
                    consumed=marker(consumer, event),
                )
            )
            return
        self._apply(
            Change(
                order=note(order, EventType.CLIENT_VALIDATED, now, f"client {client.name}"),
                events=(order.event(ClientValidated(client_id=client.id), now),),
                consumed=marker(consumer, event),
            )
        )

    def reserve_inventory(self, event: DomainEvent, consumer: str) -> None:
        order = self._order(event, consumer)
        if order is None or order.status is not OrderStatus.PLACED:
            return
        if order.vehicle_id is None:
            self._reserve_products(order.id, marker(consumer, event))
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
                        events=(order.event(InventoryReserved(items=item_refs(order.items)), now),),
                        consumed=marker(consumer, event),
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
                events=(order.event(ReservationFailed(reason=reason, detail=detail), now),),
                consumed=marker(consumer, event),
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
            events = (order.event(InventoryReserved(items=item_refs(items)), now),)
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
            events = (order.event(StockPending(pending_items=waiting_for), now),)
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
        client = self.store.get_client(order.client_id)
        if client is None:
            raise InvalidEvent(f"order {order.id} was reserved for a client that does not exist")
        try:
            charge = self.payments.create_charge(
                order_id=order.id,
                amount=order.total,
                expires_at=now + self.config.payment_ttl,
                payer=Payer(name=client.name, cpf=client.cpf.value),
                description=f"Pedido {order.id}",
            )
        except PaymentRefused as refused:
            self._refused_charge(order, refused.reason, marker(consumer, event), now)
            return
        # The provider's deadline is the order's: the sweep expires the order when the charge stops being payable.
        payment = Payment(
            code=charge.code,
            amount=order.total,
            expires_at=charge.expires_at,
            br_code=charge.br_code,
            location=charge.location,
        )
        requested = PaymentRequested(
            payment_code=charge.code, amount=str(payment.amount), expires_at=charge.expires_at.isoformat()
        )
        self._apply(
            Change(
                order=await_payment(order, payment, now),
                payment=PaymentRecord(order.id, payment, expected_status=None),
                events=(order.event(requested, now),),
                consumed=marker(consumer, event),
            )
        )

    def _refused_charge(self, order: Order, reason: str, consumed: str, now: datetime) -> None:
        """The provider will not charge the order (it said why): cancelled, PAYMENT_REFUSED, what it holds given
        back, the customer told once by the cancellation's email."""
        detail = f"the payment could not be created: {reason}"
        cancelled = cancel(order, CancellationReason.PAYMENT_REFUSED, now, detail)
        told = order.event(OrderCancelled(reason=CancellationReason.PAYMENT_REFUSED.value, detail=detail), now)
        self._apply(self._compensation(order, cancelled, (told,), consumed))

    def complete_sale(self, event: DomainEvent, consumer: str) -> None:
        """PaymentConfirmed: PAID, then the vehicle SOLD and the sale recorded (COMPLETED), exactly once.

        Two commits, so a crash between them leaves a PAID order that the redelivered event completes. Money for
        an order that no longer waits for it (cancelled, expired, failed) or of the wrong amount is owed back.
        """
        order = self._order(event, consumer)
        if order is None:
            return
        received = event.payload_as(PaymentConfirmed)
        amount = Money.parse(received.amount, field="amount", allow_zero=True)
        code = received.payment_code
        # The provider's id of this payment (a Pix's endToEndId): what its refund, if it is owed back, names.
        paid_by = received.provider_event_id
        now = self.clock.now()
        waiting = (
            order.status is OrderStatus.AWAITING_PAYMENT
            and order.refund_owed is None
            and order.payment is not None
            and order.payment.status is PaymentStatus.PENDING
        )
        if waiting and amount != order.total:
            # Not the price agreed: the order is cancelled, what was paid is owed back, what it held goes free.
            detail = f"paid {amount}, expected {order.total}"
            failed = owe_refund(
                cancel(order, CancellationReason.PAYMENT_FAILED, now, detail), amount, now, "of the wrong amount"
            )
            said = (
                order.event(PaymentFailed(payment_code=code, provider_event_id=paid_by, detail=detail), now),
                order.event(OrderCancelled(reason=CancellationReason.PAYMENT_FAILED.value), now),
                order.event(RefundOwed(payment_code=code, amount=str(amount), end_to_end_id=paid_by), now),
            )
            self._apply(self._compensation(order, failed, said, marker(consumer, event)))
            return
        paid_by_this = f"{PAID_BY}{event.event_id}" in order.applied
        if not waiting and not (order.status is OrderStatus.PAID and paid_by_this):
            # Money the order does not wait for: it came after the cancellation, or paid the code once more (a boleto
            # can be paid twice). Each payment is owed back once; a redelivery of one finds its marker.
            if order.status is not OrderStatus.PLACED:
                owed_back = RefundOwed(payment_code=code, amount=str(amount), end_to_end_id=paid_by)
                refund = order.event(owed_back, now)
                why = "received after cancellation" if order.status is OrderStatus.CANCELLED else "paid twice"
                owed = owe_refund(order, amount, now, why)
                self._apply(Change(order=owed, events=(refund,), consumed=marker(consumer, event)))
            return
        if order.status is OrderStatus.AWAITING_PAYMENT:
            order = self._issue_invoice(order, now, event)
        invoice = order.invoice
        if order.status is OrderStatus.PAID and invoice is not None and invoice.status is InvoiceStatus.PENDING:
            self._commit_sale(order, marker(consumer, event), now)

    def _issue_invoice(self, order: Order, now: datetime, payment: DomainEvent) -> Order:
        """PAID, with its invoice PENDING under the next number of the sequence, in one commit.

        Without the consumer's marker: a crash after it leaves a PAID order that the redelivered event finishes (the
        order names the event that paid it; any other payment of it is money owed back).
        """
        paid_by = payment.payload_as(PaymentConfirmed).provider_event_id
        paid = paid_in_full(advance(order, OrderStatus.PAID, EventType.PAYMENT_CONFIRMED, now), paid_by)
        paid = replace(paid, applied=paid.applied | {f"{PAID_BY}{payment.event_id}"})

        def attempt() -> Order:
            number = self.store.last_invoice_number() + 1
            invoice = Invoice(number=f"{number:0{INVOICE_NUMBER_DIGITS}d}", status=InvoiceStatus.PENDING, issued_at=now)
            issued = note(replace(paid, invoice=invoice), EventType.INVOICE_ISSUED, now, f"invoice {invoice.number}")
            event = order.event(InvoiceIssued(invoice_number=invoice.number, amount=str(order.total)), now)
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
        content = invoice_content(
            number=invoice.number, issued_at=invoice.issued_at, seller=self.config.seller, buyer=client, order=order
        )
        document = self.renderer.render(content)
        self.archive.store(key, document)
        confirmed = replace(order, invoice=replace(invoice, status=InvoiceStatus.CONFIRMED, document_key=key))
        vehicle_id = order.vehicle_id
        completed = SaleCompleted(
            client_id=order.client_id,
            amount=str(order.total),
            invoice_number=invoice.number,
            items=item_refs(order.items),
            vehicle_id=vehicle_id,
        )
        claim = sale = None
        if vehicle_id is not None:
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
                    events=(order.event(completed, now),),
                    consumed=consumed,
                )
            )
        except (VehicleUnavailable, StockChanged) as error:
            reason = CancellationReason.OUT_OF_STOCK if vehicle_id is None else CancellationReason.VEHICLE_UNAVAILABLE
            detail = f"the goods could not be committed to invoice {invoice.number}: {error}"
            failed = replace(order, invoice=replace(invoice, status=InvoiceStatus.ERROR_STOCK, detail=detail))
            failure = InvoiceFailed(invoice_number=invoice.number, reason=reason.value, detail=detail)
            self._apply(
                Change(
                    order=note(failed, EventType.INVOICE_FAILED, now, detail),
                    events=(order.event(failure, now),),
                    consumed=consumed,
                )
            )

    def compensate(self, event: DomainEvent, consumer: str) -> None:
        """A failure or a cancellation: cancel the order with its reason, give back what it holds (the vehicle,
        reserved stock, its place in the stock lines), owe back money already taken, and say so once."""
        reason = failure_reason(event)
        order = self._order(event, consumer)
        if order is None:
            return
        now = self.clock.now()
        events = [order.event(OrderCancelled(reason=reason.value), now)]
        if order.status is OrderStatus.CANCELLED:
            if order.cancellation_reason is not reason or COMPENSATED in order.applied:
                return  # cancelled for another reason, or compensated already: that compensation stands
            cancelled = order
        elif cancellation_allowed(order.status, reason):
            cancelled = cancel(order, reason, now)
            if order.status is OrderStatus.PAID and order.payment is not None:
                # Paid, then the goods could not be committed: the money goes back, and the cancellation (one
                # email) says so; the RefundOwed event is for the books.
                amount = str(order.payment.amount)
                cancelled = owe_refund(
                    cancelled, order.payment.amount, now, "refunded: the goods were not there", newly_received=False
                )
                events = [order.event(OrderCancelled(reason=reason.value, refund=amount), now)]
                paid_by = order.payment.paid_by
                assert paid_by is not None, "a PAID order names the payment that paid it (paid_in_full)"
                refund = RefundOwed(
                    payment_code=order.payment.code,
                    amount=amount,
                    end_to_end_id=paid_by,
                    told_with=EventType.ORDER_CANCELLED.value,
                )
                events.append(order.event(refund, now))
        else:
            return  # a late failure for an order that moved on (paid, completed): that outcome stands
        self._apply(self._compensation(order, cancelled, events, marker(consumer, event)))

    # --- helpers ----------------------------------------------------------------------------------------------------

    def _order(self, event: DomainEvent, consumer: str) -> Order | None:
        """The event's order, or None when this consumer applied the event already."""
        order = self.store.get_order(event.order_id)
        if order is None:
            # Events are written with their order; an unknown order means a message that is not ours.
            raise InvalidEvent(f"{event.event_type} for unknown order {event.order_id}")
        return None if marker(consumer, event) in order.applied else order

    def _compensation(
        self, order: Order, cancelled: Order, events: Sequence[DomainEvent], consumed: str | None
    ) -> Change:
        """`order` ended as `cancelled`, saying `events`: what it holds is given back (its vehicle, reserved stock,
        its places in the waiting lines), and it is marked compensated, so that a later failure of the same kind
        (a redelivered or a second failure) neither releases nor tells anybody again."""
        released, moves, waits = release_stock(cancelled)
        return Change(
            order=replace(released, applied=released.applied | {COMPENSATED}),
            vehicle=self._release(order),
            stock=moves,
            waits_removed=waits,
            events=tuple(events),
            consumed=consumed,
        )

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
