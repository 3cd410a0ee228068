"""The purchase saga under random interleavings (issue 7): a Hypothesis state machine over the memory `Saga` that
places vehicle and product orders (fresh and reused idempotency keys), delivers the outbox's events in any order,
twice, and again long after, pays (the right amount, the wrong one, a failure; the same provider event twice),
cancels (as the buyer, as someone else, as staff), moves stock, lets payments expire, ends stock holds that waited
too long (PENDING_STOCK_TTL_HOURS) and resumes waiting orders.

After every step it checks what must always hold (stock, vehicles, status paths, invoice numbers, emails); at the
end of every run it lets the saga finish (every event delivered, every payment expired) and checks that nothing is
stuck, every finished order was told once, and a cancelled order holds nothing.

Refusals a caller gets (Conflict, NotFound, ValidationFailed, Forbidden) are outcomes; anything else a step raises
is a bug. A saga step runs alone here (no concurrency), so it must never raise at all.
"""

from __future__ import annotations

import functools
import itertools
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Concatenate, ParamSpec

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from domain.catalog import Catalog
from domain.errors import Conflict, NotFound, ValidationFailed
from domain.events import DomainEvent, EventType
from domain.order_status import ORDER_TRANSITIONS, InvoiceStatus, OrderStatus, VehicleStatus
from domain.orders import HistoryEntry, ItemStatus, Order, PaymentStatus
from domain.purchase import DEFAULT_PENDING_STOCK_TTL, PaymentReceived
from domain.values import Money
from platform_spec.routes import STEP_SUBSCRIPTIONS
from tests.unit.factories import make_product, make_vehicle
from tests.unit.saga_fakes import ADMIN, ANA, BRUNO, PAYMENT_TTL, Saga

VEHICLES = {"vehicle-1": "189900.00", "vehicle-2": "99900.00", "vehicle-3": "54900.00"}
PHONE = "PRD-1001"
HEADSET = "PRD-2002"
INITIAL_STOCK = {PHONE: 3, HEADSET: 5}
CLIENTS = (ANA, BRUNO)
# Below every order's total (the cheapest line is 150.00): always the wrong amount.
WRONG_AMOUNT = "100.00"
COMPENSATED = STEP_SUBSCRIPTIONS["compensate"]
HOLDING = frozenset({OrderStatus.RESERVED, OrderStatus.AWAITING_PAYMENT, OrderStatus.PAID})
# A few orders per run, so that runs spend their steps moving them along rather than placing more.
MAX_ORDERS = 6
UNFINISHED = frozenset({OrderStatus.PLACED, OrderStatus.RESERVED, OrderStatus.AWAITING_PAYMENT, OrderStatus.PAID})

P = ParamSpec("P")


@dataclass(frozen=True)
class ProviderEvent:
    """One notification as the payment provider sent it, to send it again word for word."""

    event_id: str
    code: str
    order_id: str
    amount: Money


def _step(
    body: Callable[Concatenate[SagaInterleavings, P], None],
) -> Callable[Concatenate[SagaInterleavings, P], None]:
    """Marks the machine unclean while a rule runs: a rule that raised leaves it so, and teardown does not pile a
    second failure on the first."""

    @functools.wraps(body)
    def run(machine: SagaInterleavings, /, *args: P.args, **kwargs: P.kwargs) -> None:
        machine.clean = False
        body(machine, *args, **kwargs)
        machine.clean = True

    return run


def _subjects(saga: Saga, order_id: str) -> Counter[str]:
    """The emails sent about one order, counted by kind."""
    kinds: Counter[str] = Counter()
    for email in saga.mailer.sent:
        if email.subject == f"Compra confirmada: pedido {order_id}":
            kinds["confirmed"] += 1
        elif email.subject == f"Pedido {order_id} cancelado":
            kinds["cancelled"] += 1
        elif email.subject == f"Reembolso do pedido {order_id}":
            kinds["refund"] += 1
    return kinds


def _refunds_told_alone(saga: Saga, order_id: str) -> int:
    """RefundOwed events of an order that get an email of their own (not the one the cancellation already says)."""
    return sum(
        1
        for event in saga.store.outbox
        if event.order_id == order_id
        and event.event_type is EventType.REFUND_OWED
        and event.payload.get("toldWith") != EventType.ORDER_CANCELLED.value
    )


def _valid_path(history: tuple[HistoryEntry, ...]) -> bool:
    """The history starts PLACED and every change of status is one ORDER_TRANSITIONS allows (notes repeat it)."""
    if not history or history[0].status is not OrderStatus.PLACED:
        return False
    return all(
        after.status is before.status or after.status in ORDER_TRANSITIONS[before.status]
        for before, after in itertools.pairwise(history)
    )


class SagaInterleavings(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.saga = Saga.build(
            vehicles=[make_vehicle(vehicle_id=vid, price=price) for vid, price in VEHICLES.items()],
            products=[
                make_product(sku=PHONE, description="Smartphone XYZ", unit_price="2500.00", stock_on_hand=3),
                make_product(sku=HEADSET, description="Fone Bluetooth", unit_price="150.00", stock_on_hand=5),
            ],
        )
        self.catalog = Catalog(
            vehicles=self.saga.vehicles, products=self.saga.products, clock=self.saga.clock, new_id=lambda: "unused"
        )
        self.orders: list[str] = []
        # (client, key) -> (the request it was first used for, the order it placed)
        self.keys: dict[tuple[str, str], tuple[object, str]] = {}
        self.delivered: list[DomainEvent] = []
        self.provider_events: list[ProviderEvent] = []
        self.adjusted: Counter[str] = Counter()
        self.histories: dict[str, tuple[HistoryEntry, ...]] = {}
        self.clean = True

    # --- helpers --------------------------------------------------------------------------------------------------

    def _order(self, order_id: str) -> Order:
        return self.saga.order(order_id)

    def _all_orders(self) -> list[Order]:
        return [self._order(order_id) for order_id in self.orders]

    def _compensating(self) -> set[str]:
        """Orders with a compensation still in the queue."""
        return {event.order_id for event in self.saga.pending() if event.event_type in COMPENSATED}

    def _key(self, data: st.DataObject, client: str) -> str:
        used = sorted({key for _, key in self.keys})
        reuse: bool = data.draw(st.booleans(), label="reuse key") if used else False
        if reuse:
            return data.draw(st.sampled_from(used), label="reused key")
        return f"key-{len(self.keys) + 1:04d}-{client}"

    def _placed(
        self, client: str, key: str, request: object, place: Callable[[str], Order], *, sold: bool = False
    ) -> None:
        """Place through `place` and check the answer against what the key was used for before."""
        order_id = f"order-{len(self.orders) + 1}"
        first = self.keys.get((client, key))
        try:
            order = place(order_id)
        except Conflict:
            # A key reused for another request; under a fresh key, a vehicle already sold (a replay answers first).
            assert sold if first is None else first[0] != request
            return
        if first is not None:
            assert first[0] == request, "a key reused for another request must be a CONFLICT"
            assert order.id == first[1], "the same request under the same key returns the first order"
            return
        assert not sold, "a sold vehicle is refused at once"
        assert order.id == order_id
        assert order.status is OrderStatus.PLACED
        self.orders.append(order_id)
        self.keys[(client, key)] = (request, order_id)

    # --- the API: customers and staff -----------------------------------------------------------------------------

    @precondition(lambda self: len(self.orders) < MAX_ORDERS)
    @rule(vehicle=st.sampled_from(sorted(VEHICLES)), client=st.sampled_from(CLIENTS), data=st.data())
    @_step
    def place_vehicle_order(self, vehicle: str, client: str, data: st.DataObject) -> None:
        key = self._key(data, client)
        self._placed(
            client,
            key,
            ("vehicle", vehicle),
            lambda order_id: self.saga.place(order_id=order_id, client_id=client, vehicle_id=vehicle, key=key),
            sold=self.saga.vehicle(vehicle).status is VehicleStatus.SOLD,
        )

    @precondition(lambda self: len(self.orders) < MAX_ORDERS)
    @rule(
        lines=st.lists(
            st.tuples(st.sampled_from((PHONE, HEADSET)), st.integers(1, 4)),
            min_size=1,
            max_size=2,
            unique_by=lambda line: line[0],
        ),
        client=st.sampled_from(CLIENTS),
        data=st.data(),
    )
    @_step
    def place_product_order(self, lines: list[tuple[str, int]], client: str, data: st.DataObject) -> None:
        key = self._key(data, client)
        self._placed(
            client,
            key,
            ("items", tuple(lines)),
            lambda order_id: self.saga.place_products(lines, order_id=order_id, client_id=client, key=key),
        )

    @precondition(lambda self: bool(self.orders))
    @rule(requester=st.sampled_from((ANA, BRUNO, ADMIN)), data=st.data())
    @_step
    def cancel(self, requester: str, data: st.DataObject) -> None:
        order_id = data.draw(st.sampled_from(self.orders), label="order")
        before = self._order(order_id)
        try:
            cancelled = self.saga.purchase.cancel_by_customer(
                order_id, requested_by=requester, is_admin=requester == ADMIN
            )
        except NotFound:
            assert requester not in {ADMIN, before.client_id}, "the buyer and staff find the order"
            return
        except Conflict:
            assert before.status not in {OrderStatus.PLACED, OrderStatus.PENDING_STOCK, OrderStatus.RESERVED}
            return
        assert requester in {ADMIN, before.client_id}, "another customer's order is NOT_FOUND"
        assert cancelled.status is OrderStatus.CANCELLED
        assert self._order(order_id).status is OrderStatus.CANCELLED

    @rule(sku=st.sampled_from((PHONE, HEADSET)), delta=st.integers(-4, 5).filter(bool))
    @_step
    def adjust_stock(self, sku: str, delta: int) -> None:
        before = self.saga.product(sku)
        try:
            self.catalog.adjust_stock(sku, delta)
        except ValidationFailed:
            assert before.stock_on_hand + delta < before.stock_reserved, "only what orders hold may be refused"
            return
        assert before.stock_on_hand + delta >= before.stock_reserved
        self.adjusted[sku] += delta

    @rule(sku=st.sampled_from((PHONE, HEADSET)))
    @_step
    def resume_pending(self, sku: str) -> None:
        """What the outbox relay does when a product's available stock rises (sagas/restock.py)."""
        self.saga.purchase.resume_pending(sku)

    # --- the payment provider and the sweep -----------------------------------------------------------------------

    @precondition(lambda self: any(self._order(order_id).payment is not None for order_id in self.orders))
    @rule(outcome=st.sampled_from(("paid", "wrong amount")), data=st.data())
    @_step
    def pay(self, outcome: str, data: st.DataObject) -> None:
        self._pay(outcome, data)

    def _pay(self, outcome: str, data: st.DataObject) -> None:
        payable = [order_id for order_id in self.orders if self._order(order_id).payment is not None]
        order_id = data.draw(st.sampled_from(payable), label="order")
        payment = self._order(order_id).payment
        assert payment is not None
        event = ProviderEvent(
            event_id=f"provider-evt-{len(self.provider_events) + 1}",
            code=payment.code,
            order_id=order_id,
            amount=Money.parse(WRONG_AMOUNT) if outcome == "wrong amount" else payment.amount,
        )
        assert self._notify(event), "a new provider event is always recorded"
        self.provider_events.append(event)

    @precondition(lambda self: any(self._order(order_id).payment is not None for order_id in self.orders))
    @rule(data=st.data())
    @_step
    def pay_and_catch_up(self, data: st.DataObject) -> None:
        """The happy path's shortcut: the price paid and the queues drained, so runs reach COMPLETED often."""
        self._pay("paid", data)
        self._catch_up()

    @precondition(lambda self: bool(self.provider_events))
    @rule(data=st.data())
    @_step
    def replay_provider_event(self, data: st.DataObject) -> None:
        event = data.draw(st.sampled_from(self.provider_events), label="provider event")
        assert not self._notify(event), "one provider event, one effect"

    def _notify(self, event: ProviderEvent) -> bool:
        received = PaymentReceived(
            code=event.code, end_to_end_id=event.event_id, amount=event.amount, paid_at=self.saga.clock.now()
        )
        return self.saga.purchase.receive_payment(received)

    @rule(wait=st.sampled_from((timedelta(0), timedelta(minutes=10), PAYMENT_TTL + timedelta(seconds=1))))
    @_step
    def expire_due_payments(self, wait: timedelta) -> None:
        self.saga.clock.advance(wait)
        self.saga.purchase.expire_due_payments()

    @rule(wait=st.sampled_from((timedelta(0), timedelta(hours=1), DEFAULT_PENDING_STOCK_TTL + timedelta(seconds=1))))
    @_step
    def expire_stock_holds(self, wait: timedelta) -> None:
        """The same sweep ends the holds of orders waiting for stock too long (PENDING_STOCK_TTL_HOURS)."""
        self.saga.clock.advance(wait)
        self.saga.purchase.expire_stock_holds()

    # --- the queues: any order, twice, late ------------------------------------------------------------------------

    @precondition(lambda self: bool(self.saga.pending()))
    @rule(times=st.sampled_from((1, 2)), data=st.data())
    @_step
    def deliver_one(self, times: int, data: st.DataObject) -> None:
        """One pending event, picked anywhere in the queue (out of order), delivered once or twice in a row."""
        pending = self.saga.pending()
        event = pending[data.draw(st.integers(0, len(pending) - 1), label="pending index")]
        self.saga.queue.remove(event)
        self.saga.deliver(event, times)
        self.delivered.append(event)

    @precondition(lambda self: bool(self.delivered))
    @rule(data=st.data())
    @_step
    def redeliver_late(self, data: st.DataObject) -> None:
        """An event delivered before, delivered again after other things happened."""
        self.saga.deliver(data.draw(st.sampled_from(self.delivered), label="delivered event"))

    @rule()
    @_step
    def catch_up(self) -> None:
        """The queues drain, oldest first: lets a run reach payments within few steps."""
        self._catch_up()

    def _catch_up(self) -> None:
        self.saga.pending()
        self.delivered.extend(self.saga.queue)
        self.saga.run()

    # --- what always holds ----------------------------------------------------------------------------------------

    @invariant()
    def stock_is_counted_by_the_orders_that_hold_it(self) -> None:
        # An item is RESERVED from the reservation until its order is compensated (RELEASED); a COMPLETED order's
        # items stay RESERVED but their units left on hand and reserved together at the commit. So, per product:
        #   reserved == sum of RESERVED items of orders not COMPLETED (a CANCELLED one still holds its units until
        #               its compensation runs, and lets them go in the same commit that marks them RELEASED)
        #   on hand  == initial stock + accepted adjustments - units of COMPLETED orders
        orders = self._all_orders()
        for sku, initial in INITIAL_STOCK.items():
            product = self.saga.product(sku)
            held = sum(
                item.quantity
                for order in orders
                if order.status is not OrderStatus.COMPLETED
                for item in order.product_items
                if item.ref_id == sku and item.status is ItemStatus.RESERVED
            )
            sold = sum(
                item.quantity
                for order in orders
                if order.status is OrderStatus.COMPLETED
                for item in order.product_items
                if item.ref_id == sku
            )
            assert 0 <= product.stock_reserved <= product.stock_on_hand, product
            assert product.stock_reserved == held, (sku, product.stock_reserved, held)
            assert product.stock_on_hand == initial + self.adjusted[sku] - sold, (sku, product.stock_on_hand)

    @invariant()
    def the_waiting_lines_hold_exactly_the_pending_items(self) -> None:
        # An item goes PENDING in the commit that puts its order in the product's line, and leaves it (RESERVED or
        # RELEASED) in the commit that takes it out; a PENDING_STOCK order waits for at least one item.
        orders = self._all_orders()
        for sku in INITIAL_STOCK:
            expected = sorted(
                (order.placed_at, order.id)
                for order in orders
                if any(i.ref_id == sku and i.status is ItemStatus.PENDING for i in order.product_items)
            )
            assert self.saga.store.waiting_orders(sku, 1000) == [order_id for _, order_id in expected], sku
        compensating = self._compensating()
        for order in orders:
            pending = [item for item in order.product_items if item.status is ItemStatus.PENDING]
            if order.status is OrderStatus.PENDING_STOCK:
                assert pending, order.id
            elif pending:
                assert order.status is OrderStatus.CANCELLED, order.id  # compensation not yet delivered
            # A cancelled order gives back what it holds in its compensation's commit: until then, that event is
            # still in the queue (a customer's cancel commits the order first and the compensation follows).
            held = [item for item in order.product_items if item.status in {ItemStatus.RESERVED, ItemStatus.PENDING}]
            if order.status is OrderStatus.CANCELLED and held:
                assert order.id in compensating, f"{order.id} is cancelled, holds {held} and nothing will free them"

    @invariant()
    def vehicles_are_held_by_one_order_and_sold_once(self) -> None:
        # A vehicle is RESERVED by an order that is RESERVED, AWAITING_PAYMENT or PAID, or by a CANCELLED one
        # whose compensation is still in the queue (a customer's cancel commits the order first; the compensation
        # frees the vehicle). SOLD with exactly one sale, of a COMPLETED order for it.
        sales = Counter(sale.vehicle_id for sale in self.saga.store.sales.values())
        assert all(count == 1 for count in sales.values()), sales
        compensating = self._compensating()
        for vehicle_id in VEHICLES:
            vehicle = self.saga.vehicle(vehicle_id)
            if vehicle.status is VehicleStatus.AVAILABLE:
                assert vehicle.reserved_by is None
                assert sales[vehicle_id] == 0
            elif vehicle.status is VehicleStatus.RESERVED:
                holder_id = vehicle.reserved_by
                assert holder_id is not None
                holder = self._order(holder_id)
                assert holder.vehicle_id == vehicle_id
                assert holder.status in HOLDING or (
                    holder.status is OrderStatus.CANCELLED and holder.id in compensating
                ), (vehicle_id, holder.id, holder.status)
                assert sales[vehicle_id] == 0
            else:
                assert sales[vehicle_id] == 1, vehicle_id
        for sale in self.saga.store.sales.values():
            order = self._order(sale.order_id)
            assert order.status is OrderStatus.COMPLETED
            assert order.vehicle_id == sale.vehicle_id
            assert self.saga.vehicle(sale.vehicle_id).status is VehicleStatus.SOLD
        for order in self._all_orders():
            if order.vehicle_id is None:
                continue
            vehicle = self.saga.vehicle(order.vehicle_id)
            if order.status in HOLDING:
                assert vehicle.status is VehicleStatus.RESERVED, order.id
                assert vehicle.reserved_by == order.id, order.id
            if order.status is OrderStatus.COMPLETED:
                assert order.id in self.saga.store.sales, order.id
                assert vehicle.status is VehicleStatus.SOLD, order.id

    @invariant()
    def orders_move_only_along_the_state_machine(self) -> None:
        # The history only grows, every status change in it is allowed, and the order is where its history ends;
        # so no order is ever both COMPLETED and CANCELLED (both are terminal).
        for order in self._all_orders():
            before = self.histories.get(order.id, ())
            assert order.history[: len(before)] == before, f"{order.id} rewrote its history"
            assert _valid_path(order.history), [(e.status.value, e.event) for e in order.history]
            assert order.status is order.history[-1].status
            statuses = {entry.status for entry in order.history}
            assert not {OrderStatus.COMPLETED, OrderStatus.CANCELLED} <= statuses
            self.histories[order.id] = order.history

    @invariant()
    def invoices_are_numbered_from_one_without_gaps(self) -> None:
        numbers = sorted(int(order.invoice.number) for order in self._all_orders() if order.invoice is not None)
        assert numbers == list(range(1, self.saga.store.last_invoice_number() + 1)), numbers
        for order in self._all_orders():
            if order.status is OrderStatus.COMPLETED:
                assert order.invoice is not None
                assert order.invoice.status is InvoiceStatus.CONFIRMED
                assert order.payment is not None
                assert order.payment.status is PaymentStatus.PAID

    @invariant()
    def each_order_is_told_each_thing_at_most_once(self) -> None:
        feed = Counter(notice["orderId"] for notice in self.saga.feed.notices)
        alerts = Counter(alert["orderId"] for _, alert in self.saga.alerts.published)
        for order in self._all_orders():
            told = _subjects(self.saga, order.id)
            # Every refund is its own money, and its own email; every other kind is said once.
            assert max((count for kind, count in told.items() if kind != "refund"), default=0) <= 1, (order.id, told)
            assert told["refund"] <= _refunds_told_alone(self.saga, order.id), (order.id, told)
            assert not (told["confirmed"] and told["cancelled"]), order.id
            if told["confirmed"]:
                assert order.status is OrderStatus.COMPLETED
            if told["cancelled"]:
                assert order.status is OrderStatus.CANCELLED
            assert feed[order.id] <= 1, order.id
            assert alerts[order.id] <= 1, order.id

    # --- the end of a run: let the saga finish --------------------------------------------------------------------

    def _drain(self) -> None:
        """Every event delivered, nobody pays any more, every payment expires, waiting orders retried (as the
        relay does when a cancellation frees stock), until nothing changes."""
        saga = self.saga
        for _ in range(50):
            before = (len(saga.store.outbox), [self._order(order_id).version for order_id in self.orders])
            saga.run()
            for sku in INITIAL_STOCK:
                saga.purchase.resume_pending(sku)
            saga.run()
            saga.clock.advance(PAYMENT_TTL + timedelta(seconds=1))
            saga.purchase.expire_due_payments()
            saga.run()
            if (len(saga.store.outbox), [self._order(order_id).version for order_id in self.orders]) == before:
                return
        raise AssertionError("the saga did not settle")

    def teardown(self) -> None:
        if not self.clean:
            return  # a rule failed: that is the failure to report
        self._drain()
        self.stock_is_counted_by_the_orders_that_hold_it()
        self.the_waiting_lines_hold_exactly_the_pending_items()
        self.vehicles_are_held_by_one_order_and_sold_once()
        self.orders_move_only_along_the_state_machine()
        self.invoices_are_numbered_from_one_without_gaps()
        self.each_order_is_told_each_thing_at_most_once()
        saga = self.saga
        assert saga.store.payments_due(saga.clock.now() + PAYMENT_TTL * 10, 1000) == [], "a payment left pending"
        for order in self._all_orders():
            assert order.status not in UNFINISHED, f"{order.id} is stuck {order.status.value}"
            told = _subjects(saga, order.id)
            if order.status is OrderStatus.PENDING_STOCK:
                # Waiting for stock that never came: allowed, if it really is short of something it waits for.
                assert any(
                    item.quantity > saga.product(item.ref_id).stock_available
                    for item in order.product_items
                    if item.status is ItemStatus.PENDING
                ), f"{order.id} waits for stock that is on the shelf"
                assert told["confirmed"] + told["cancelled"] == 0
                continue
            assert told["confirmed"] + told["cancelled"] == 1, (order.id, order.status, told)
            # A refund owed is its own email, unless the order was paid and then cancelled by the saga (invoice
            # issued, goods not committed): then the cancellation's email says both (domain/notifications.py).
            assert told["refund"] == _refunds_told_alone(self.saga, order.id), (order.id, told)
            if order.status is OrderStatus.CANCELLED:
                # Nothing held: an item it reserved or waited for is RELEASED; one it never reached (cancelled while
                # PLACED) keeps no status at all, so "every item RELEASED" would be wrong.
                held = [
                    item for item in order.product_items if item.status in {ItemStatus.RESERVED, ItemStatus.PENDING}
                ]
                assert not held, f"{order.id} is cancelled and still holds {held}"
                vehicle_id = order.vehicle_id
                if vehicle_id is not None:
                    assert saga.vehicle(vehicle_id).reserved_by != order.id, order.id
                assert order.payment is None or order.payment.status is not PaymentStatus.PENDING, order.id
        for vehicle_id in VEHICLES:
            assert saga.vehicle(vehicle_id).status is not VehicleStatus.RESERVED, vehicle_id
        self._no_money_is_lost()

    def _no_money_is_lost(self) -> None:
        # "Money that arrives for an order that no longer waits for it is recorded as a refund owed" (decisions.md):
        # every confirmed payment the provider reported (once per provider event) is either the price of the order
        # it completed or owed back.
        received: dict[str, Money] = {}
        for event in self.provider_events:
            received[event.order_id] = received.get(event.order_id, Money.zero()) + event.amount
        for order in self._all_orders():
            kept = order.total if order.status is OrderStatus.COMPLETED else Money.zero()
            owed = order.refund_owed or Money.zero()
            assert received.get(order.id, Money.zero()) == kept + owed, (
                f"{order.id} {order.status.value}: received {received.get(order.id)}, kept {kept}, owed {owed}"
            )
            # And the order's payment says so: what arrived, and a status that never claims PAID for money owed back.
            shown = order.payment.received if order.payment is not None else Money.zero()
            assert shown == received.get(order.id, Money.zero()), (order.id, order.payment)
            if order.status is OrderStatus.CANCELLED and order.refund_owed is not None:
                assert order.payment is not None
                assert order.payment.status is PaymentStatus.REFUND_OWED, (order.id, order.payment)


SagaInterleavings.TestCase.settings = settings(
    max_examples=150,
    stateful_step_count=40,
    deadline=None,
    derandomize=False,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
test_saga_interleavings = SagaInterleavings.TestCase
