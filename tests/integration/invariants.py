"""The purchase saga's invariants, checked against the emulator's table, queues and sent emails after a run.

`check_invariants(harness, order_ids, ...)` waits for the saga to settle, reads the whole table once (a test-only
scan) and the orders, vehicles, products and clients through the harness's services, and fails with every
violation it finds, not only the first:

1. **Every order terminal.** Each of `order_ids` is COMPLETED or CANCELLED (PENDING_STOCK too when
   `allow_pending_stock`).
2. **No vehicle sold twice.** At most one SALE item and one COMPLETED order per vehicle; the vehicle is SOLD iff a
   COMPLETED order bought it, and its SALE item names that order; every SALE item belongs to a COMPLETED vehicle
   order. A RESERVED vehicle is held by an order of it that is RESERVED, AWAITING_PAYMENT or PAID, and every such
   order holds it.
3. **A cancelled order holds nothing.** No vehicle is reserved by it; none of its items is RESERVED or PENDING
   (what it held is RELEASED; items it never held keep no status); it is in no product's waiting line; its
   payment record is not PENDING (it left the expiry sweep's index).
4. **Stock.** For every product: on hand, reserved and available are >= 0 and the stored `stock_available` is
   on hand - reserved. The rule that ties the counters to the orders, from domain/purchase.py: RESERVE moves
   units to `reserved` and marks the item RESERVED; RELEASE (compensation) moves them back and marks it RELEASED;
   COMMIT (the sale) takes them off both `reserved` and on hand but leaves the item RESERVED. Hence
   `stock_reserved == sum of the quantities of RESERVED items over the orders that are not COMPLETED` (CANCELLED
   ones hold none, by 3), and, given what came in (`stock_received`: initial stock plus deliveries),
   `stock_on_hand == received - sum of the quantities sold by COMPLETED orders`. The waiting line
   (`WAITING#<sku>`) is exactly the PENDING_STOCK orders with a PENDING item of that product.
5. **Money.** An order whose PaymentConfirmed is in the outbox (money arrived) is COMPLETED with nothing owed, or
   CANCELLED with a refund owed; never both, never neither (no lost payment). An order no money reached owes
   nothing and is not COMPLETED. A COMPLETED order has its payment PAID and its invoice CONFIRMED.
6. **Invoices.** Numbers are unique, and they are exactly 1..the counter's value (no gaps, no repeats).
7. **One email per terminal order** (domain/notifications.py): a COMPLETED order's client gets "Compra
   confirmada", a CANCELLED one's "Pedido ... cancelado"; money that arrived after the cancellation adds one
   "Reembolso" email (refund owed with no invoice), while a cancellation after payment (refund owed with an
   ERROR_STOCK invoice) says both in the one cancellation email; each refund the PSP settled (REFUNDED on the
   order's payment) adds one "valor devolvido" email. Orders whose buyer is no client get none;
   non-terminal orders only the refund email if they owe one. Each to the client's address; nothing else.
8. **One sales notice per COMPLETED order** on the sales-notifications queue (read and deleted: `sales_feed`).
9. **Nothing lost.** After `settle()` every step's queue and the intake queues are empty, every DLQ holds exactly
   `dead_letters` (the poison a scenario put there on purpose), the stream relay gave up on no record, and, with
   a `PublishLog`, every event of the outbox was published on SNS at least once.
10. **Every Pix is kept or given back, never both, never twice.** Each Pix the PSP received for an order's charge
   is either the payment of its COMPLETED order (`paid_by`) or refunded at the PSP (DEVOLVIDO: a refund still in
   processing does not count), unless every one of its MAX_REFUND_ATTEMPTS attempts ended NAO_REALIZADO (then the
   order still shows the money owed); no Pix is refunded twice, and the order records every refund the PSP made as
   REFUNDED. The check first waits for the PSP's refunds to settle and their word to reach the orders.
"""

from __future__ import annotations

import contextlib
import json
import threading
import weakref
from collections import Counter
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pytest

from domain.clients import Client
from domain.events import EventType
from domain.order_status import InvoiceStatus, OrderStatus, VehicleStatus
from domain.orders import ItemStatus, Order, PaymentStatus, RefundStatus
from domain.purchase import MAX_REFUND_ATTEMPTS
from local_stack.event_sources import StreamEventSource
from pix.model import DevolucaoStatus
from platform_spec.messaging import INTAKE_FILES_QUEUE, INTAKE_ORDERS_QUEUE, QUEUES
from sagas.adapters import SnsEventPublisher
from tests.integration.saga_harness import DEFAULT_TIMEOUT, SagaHarness, Timeout, wait_until

TERMINAL = frozenset({OrderStatus.COMPLETED, OrderStatus.CANCELLED})
HOLDING_A_VEHICLE = frozenset({OrderStatus.RESERVED, OrderStatus.AWAITING_PAYMENT, OrderStatus.PAID})
STEP_QUEUES = tuple(spec.name for spec in QUEUES if spec.event_types)
RELAY = "outbox-relay"
# The sales notices each harness's checks took off the queue so far: a second check in one test still sees them.
_NOTICES_TAKEN: weakref.WeakKeyDictionary[SagaHarness, Counter[str]] = weakref.WeakKeyDictionary()


class PublishLog:
    """Every event the relay published on SNS, by event id (each copy counted): a spy around
    SnsEventPublisher.publish that records a publish only once SNS accepted it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.counts: Counter[str] = Counter()

    def install(self, monkeypatch: pytest.MonkeyPatch) -> None:
        publish: Callable[[SnsEventPublisher, str, str, str, str | None], None] = SnsEventPublisher.publish

        def publish_and_record(
            publisher: SnsEventPublisher, event_type: str, body: str, order_id: str, trace_header: str | None = None
        ) -> None:
            publish(publisher, event_type, body, order_id, trace_header)
            with self._lock:
                self.counts[str(json.loads(body)["eventId"])] += 1

        monkeypatch.setattr(SnsEventPublisher, "publish", publish_and_record)

    def snapshot(self) -> Counter[str]:
        with self._lock:
            return Counter(self.counts)


@dataclass(frozen=True, slots=True)
class Outbox:
    event_id: str
    event_type: str
    order_id: str


@dataclass
class TableView:
    """The whole table, read once, by kind of item (plain values, as the harness's `items` gives them)."""

    orders: dict[str, Order] = field(default_factory=dict)
    sales: list[dict[str, Any]] = field(default_factory=list)
    outbox: list[Outbox] = field(default_factory=list)
    waiting: dict[str, set[str]] = field(default_factory=dict)  # sku -> order ids in its line
    payments: list[dict[str, Any]] = field(default_factory=list)
    products: dict[str, dict[str, Any]] = field(default_factory=dict)  # sku -> the raw item
    invoice_counter: int = 0


@dataclass(frozen=True, slots=True)
class Report:
    """What the run left: every order in the table, and how many copies of each event SNS accepted."""

    orders: Mapping[str, Order]
    published: Mapping[str, int]

    def statuses(self, order_ids: Iterable[str]) -> Counter[OrderStatus]:
        return Counter(self.orders[order_id].status for order_id in order_ids)


def read_table(harness: SagaHarness) -> TableView:
    view = TableView()
    order_ids: list[str] = []
    for page in harness.dynamodb.get_paginator("scan").paginate(TableName=harness.settings.table_name):
        for raw in page["Items"]:
            item = {name: next(iter(value.values())) for name, value in raw.items()}
            pk = str(item["PK"])
            kind = pk.split("#", 1)[0]
            if kind == "ORDER":
                order_ids.append(pk.split("#", 1)[1])
            elif kind == "SALE":
                view.sales.append(item)
            elif kind == "OUTBOX":
                view.outbox.append(Outbox(str(item["event_id"]), str(item["event_type"]), str(item["order_id"])))
            elif kind == "WAITING":
                view.waiting.setdefault(pk.split("#", 1)[1], set()).add(str(item["order_id"]))
            elif kind == "PAYMENT":
                view.payments.append(item)
            elif kind == "PRODUCT":
                view.products[str(item["sku"])] = item
            elif pk == "COUNTER#INVOICE":
                view.invoice_counter = int(str(item["value"]))
    orders = harness.services.orders.get_orders(order_ids)
    view.orders = {order_id: orders[order_id] for order_id in order_ids}
    return view


def expected_subjects(order: Order) -> list[str]:
    """The emails an order's client must have had, by subject (see rule 7)."""
    subjects: list[str] = []
    if order.status is OrderStatus.COMPLETED:
        subjects.append(f"Compra confirmada: pedido {order.id}")
    elif order.status is OrderStatus.CANCELLED:
        subjects.append(f"Pedido {order.id} cancelado")
    if order.refund_owed is not None and order.invoice is None:
        subjects.append(f"Reembolso do pedido {order.id}")
    if order.payment is not None:
        settled = [refund for refund in order.payment.refunds if refund.status is RefundStatus.REFUNDED]
        subjects += [f"Pedido {order.id}: valor devolvido" for _ in settled]
    return sorted(subjects)


def _refunds_settled(harness: SagaHarness, order_ids: Collection[str]) -> bool:
    """No refund of these orders' Pix is still in processing at the PSP, each Pix not kept has one made (or has
    failed every attempt), and each order knows every refund the PSP made."""
    orders = harness.services.orders.get_orders(order_ids)
    by_code = {order.payment.code: order for order in orders.values() if order.payment is not None}
    for pix in harness.psp.received():
        order = by_code.get(pix.txid or "")
        if order is None or order.payment is None:
            continue
        statuses = [refund.status for refund in pix.devolucoes]
        if DevolucaoStatus.EM_PROCESSAMENTO in statuses:
            return False
        kept = order.status is OrderStatus.COMPLETED and order.payment.paid_by == pix.end_to_end_id
        gave_up = len(statuses) >= MAX_REFUND_ATTEMPTS
        if not kept and order.status in TERMINAL and DevolucaoStatus.DEVOLVIDO not in statuses and not gave_up:
            return False
        known = {refund.id for refund in order.payment.refunds if refund.status is RefundStatus.REFUNDED}
        made = {refund.id for refund in pix.devolucoes if refund.status is DevolucaoStatus.DEVOLVIDO}
        if not made <= known:
            return False
    return True


def check_invariants(
    harness: SagaHarness,
    order_ids: Iterable[str],
    *,
    product_skus: Iterable[str] = (),
    vehicle_ids: Iterable[str] = (),
    allow_pending_stock: bool = False,
    stock_received: Mapping[str, int] | None = None,
    dead_letters: Collection[str] = (),
    published: PublishLog | None = None,
    sales_feed: bool = True,
    timeout: float = DEFAULT_TIMEOUT,
) -> Report:
    """Settle the saga, then check every invariant above over the whole table; fail listing every violation."""
    harness.settle(timeout)
    order_ids = list(order_ids)

    def reconciled() -> bool:
        # The PSP's word on a refund comes by the reconciliation here: the harness's PSP calls no webhook.
        harness.reconcile()
        harness.settle(timeout)
        return _refunds_settled(harness, order_ids)

    if not _refunds_settled(harness, order_ids):
        with contextlib.suppress(Timeout):  # what is missing is reported below
            wait_until(reconciled, "the PSP's refunds to settle", timeout)
    view = read_table(harness)
    clients = harness.services.clients.get_many(order.client_id for order in view.orders.values())
    # Emails are sent by the notify step, the last: wait for the ones the orders' states call for, then settle.
    wanted = {order.id: len(expected_subjects(order)) for order in view.orders.values() if order.client_id in clients}

    def emails_sent() -> bool:
        return all(len(harness.emails(order_id)) >= count for order_id, count in wanted.items())

    if not emails_sent():
        with contextlib.suppress(Timeout):  # what is missing is reported below
            wait_until(emails_sent, "every order's emails", timeout)
        harness.settle(timeout)
        view = read_table(harness)
        clients = harness.services.clients.get_many(order.client_id for order in view.orders.values())
    copies = published.snapshot() if published is not None else Counter[str]()

    problems: list[str] = []
    allowed = TERMINAL | ({OrderStatus.PENDING_STOCK} if allow_pending_stock else set())
    problems += _terminal(view, list(order_ids), allowed)
    problems += _vehicles(harness, view, set(vehicle_ids))
    problems += _stock(harness, view, set(product_skus), stock_received)
    problems += _money(view)
    problems += _invoices(view)
    problems += _emails(harness, view, clients)
    if sales_feed:
        problems += _sales_feed(harness, view)
    problems += _nothing_lost(harness, view, Counter(dead_letters), copies if published is not None else None)
    problems += _received_pix(harness, view)
    assert not problems, "saga invariants violated:\n  " + "\n  ".join(problems)
    return Report(orders=view.orders, published=copies)


def _received_pix(harness: SagaHarness, view: TableView) -> list[str]:
    """10. every Pix the PSP received for these orders kept by its order or given back, once."""
    problems: list[str] = []
    by_code = {order.payment.code: order for order in view.orders.values() if order.payment is not None}
    for pix in harness.psp.received():
        order = by_code.get(pix.txid or "")
        if order is None or order.payment is None:
            continue  # another test's, or no charge's
        made = [refund.id for refund in pix.devolucoes if refund.status is DevolucaoStatus.DEVOLVIDO]
        attempts = [(refund.id, refund.status.value) for refund in pix.devolucoes]
        kept = order.status is OrderStatus.COMPLETED and order.payment.paid_by == pix.end_to_end_id
        if len(made) > 1:
            problems.append(f"Pix {pix.end_to_end_id} of order {order.id} refunded {len(made)} times: {made}")
        gave_up = not made and len(attempts) >= MAX_REFUND_ATTEMPTS and order.refund_owed is not None
        if kept == bool(made) and not (gave_up and not kept):
            state = "kept and refunded" if kept else "neither kept nor refunded"
            problems.append(f"Pix {pix.end_to_end_id} of order {order.id} ({order.status.value}): {state} {attempts}")
        recorded = {refund.id for refund in order.payment.refunds if refund.status is RefundStatus.REFUNDED}
        if not set(made) <= recorded:
            problems.append(f"order {order.id} does not record the refunds {sorted(set(made) - recorded)} as made")
    return problems


def _terminal(view: TableView, order_ids: list[str], allowed: Collection[OrderStatus]) -> list[str]:
    """1. every order terminal."""
    problems: list[str] = []
    for order_id in order_ids:
        order = view.orders.get(order_id)
        if order is None:
            problems.append(f"order {order_id} is not in the table")
        elif order.status not in allowed:
            problems.append(f"order {order_id} ended {order.status.value}: {[h.event for h in order.history]}")
    return problems


def _vehicles(harness: SagaHarness, view: TableView, vehicle_ids: set[str]) -> list[str]:
    """2. no vehicle sold twice; 3. a cancelled order holds no vehicle."""
    problems: list[str] = []
    orders = view.orders
    by_vehicle: dict[str, list[Order]] = {}
    for order in orders.values():
        if order.vehicle_id is not None:
            by_vehicle.setdefault(order.vehicle_id, []).append(order)
    sales_by_vehicle: dict[str, list[dict[str, Any]]] = {}
    for sale in view.sales:
        sales_by_vehicle.setdefault(str(sale["vehicle_id"]), []).append(sale)
        sold_by = orders.get(str(sale["order_id"]))
        if sold_by is None or sold_by.status is not OrderStatus.COMPLETED or sold_by.vehicle_id != sale["vehicle_id"]:
            problems.append(f"sale {sale['order_id']} of vehicle {sale['vehicle_id']} has no COMPLETED order of it")
    for vehicle_id in sorted(vehicle_ids | set(by_vehicle)):
        vehicle = harness.vehicle(vehicle_id)
        buyers = [order for order in by_vehicle.get(vehicle_id, []) if order.status is OrderStatus.COMPLETED]
        sales = sales_by_vehicle.get(vehicle_id, [])
        if len(buyers) > 1 or len(sales) > 1:
            problems.append(f"vehicle {vehicle_id} sold twice: orders {[o.id for o in buyers]}, {len(sales)} sales")
        if (vehicle.status is VehicleStatus.SOLD) != bool(buyers):
            problems.append(f"vehicle {vehicle_id} is {vehicle.status.value} with {len(buyers)} COMPLETED order(s)")
        if buyers and [str(sale["order_id"]) for sale in sales] != [buyers[0].id]:
            problems.append(f"vehicle {vehicle_id}: sale items {sales} do not name its buyer {buyers[0].id}")
        holders = [order.id for order in by_vehicle.get(vehicle_id, []) if order.status in HOLDING_A_VEHICLE]
        held_by = [vehicle.reserved_by] if vehicle.status is VehicleStatus.RESERVED else []
        if holders != held_by:
            problems.append(
                f"vehicle {vehicle_id} is {vehicle.status.value} held by {vehicle.reserved_by}, while orders "
                f"{holders} are at a status that holds it"
            )
        if vehicle.status is not VehicleStatus.RESERVED and vehicle.reserved_by is not None:
            problems.append(f"vehicle {vehicle_id} is {vehicle.status.value} yet reserved by {vehicle.reserved_by}")
    return problems


def _stock(
    harness: SagaHarness, view: TableView, product_skus: set[str], stock_received: Mapping[str, int] | None
) -> list[str]:
    """3. a cancelled order holds no stock; 4. the counters, the orders and the waiting lines agree."""
    problems: list[str] = []
    orders = view.orders
    for order in orders.values():
        held = [item.ref_id for item in order.product_items if item.status in {ItemStatus.RESERVED, ItemStatus.PENDING}]
        if order.status is OrderStatus.CANCELLED and held:
            problems.append(f"cancelled order {order.id} still holds or waits for {held}")
        pending = [item for item in order.product_items if item.status is ItemStatus.PENDING]
        if (order.status is OrderStatus.PENDING_STOCK) != bool(pending):
            problems.append(f"order {order.id} is {order.status.value} with {len(pending)} PENDING item(s)")
    skus = product_skus | {item.ref_id for order in orders.values() for item in order.product_items}
    for sku in sorted(skus):
        product = harness.services.products.get(sku)
        raw = view.products.get(sku)
        if product is None or raw is None:
            problems.append(f"product {sku} does not exist")
            continue
        stored_available = int(str(raw["stock_available"]))
        on_hand, reserved = product.stock_on_hand, product.stock_reserved
        if min(on_hand, reserved, stored_available) < 0 or stored_available != on_hand - reserved:
            problems.append(f"product {sku}: on hand {on_hand}, reserved {reserved}, available {stored_available}")
        held_units = sum(
            item.quantity
            for order in orders.values()
            if order.status is not OrderStatus.COMPLETED
            for item in order.product_items
            if item.ref_id == sku and item.status is ItemStatus.RESERVED
        )
        if reserved != held_units:
            problems.append(f"product {sku}: {reserved} reserved, but unfinished orders hold {held_units}")
        sold = sum(
            item.quantity
            for order in orders.values()
            if order.status is OrderStatus.COMPLETED
            for item in order.product_items
            if item.ref_id == sku
        )
        if stock_received is not None and sku in stock_received and on_hand != stock_received[sku] - sold:
            problems.append(f"product {sku}: {on_hand} on hand, but {stock_received[sku]} came in and {sold} sold")
        waiting = {
            order.id
            for order in orders.values()
            if order.status is OrderStatus.PENDING_STOCK
            and any(item.ref_id == sku and item.status is ItemStatus.PENDING for item in order.product_items)
        }
        if view.waiting.get(sku, set()) != waiting:
            problems.append(f"product {sku}: waiting line {view.waiting.get(sku)} but orders waiting {waiting}")
    return problems


def _money(view: TableView) -> list[str]:
    """3. payment records of finished orders closed; 5. every payment that arrived is the sale or a refund owed."""
    problems: list[str] = []
    orders = view.orders
    for payment in view.payments:
        paying = orders.get(str(payment["order_id"]))
        if payment["status"] == PaymentStatus.PENDING.value and (
            paying is None or paying.status is not OrderStatus.AWAITING_PAYMENT
        ):
            problems.append(f"payment {payment['code']} is PENDING for order {payment['order_id']}, not awaiting it")
    paid = {event.order_id for event in view.outbox if event.event_type == EventType.PAYMENT_CONFIRMED.value}
    for order in orders.values():
        if order.id in paid:
            sold = order.status is OrderStatus.COMPLETED and order.refund_owed is None
            owed = order.status is OrderStatus.CANCELLED and order.refund_owed is not None
            if order.status in TERMINAL and sold == owed:
                problems.append(
                    f"order {order.id}: money arrived, it is {order.status.value}, refund owed {order.refund_owed}"
                )
        elif order.refund_owed is not None or order.status is OrderStatus.COMPLETED:
            problems.append(f"order {order.id} is {order.status.value}, owes {order.refund_owed}, yet nobody paid")
        if order.status is OrderStatus.COMPLETED and (
            order.payment is None
            or order.payment.status is not PaymentStatus.PAID
            or order.invoice is None
            or order.invoice.status is not InvoiceStatus.CONFIRMED
        ):
            problems.append(f"order {order.id} COMPLETED with payment {order.payment}, invoice {order.invoice}")
    return problems


def _invoices(view: TableView) -> list[str]:
    """6. invoice numbers unique, with no gaps."""
    problems: list[str] = []
    numbers = sorted(int(order.invoice.number) for order in view.orders.values() if order.invoice is not None)
    if len(set(numbers)) != len(numbers):
        problems.append(f"invoice numbers repeat: {[n for n, c in Counter(numbers).items() if c > 1]}")
    if numbers != list(range(1, view.invoice_counter + 1)):
        problems.append(f"invoice numbers {numbers} are not 1..{view.invoice_counter}")
    return problems


def _emails(harness: SagaHarness, view: TableView, clients: Mapping[str, Client]) -> list[str]:
    """7. one email per terminal order (and a refund's), to its client."""
    problems: list[str] = []
    for order in view.orders.values():
        client = clients.get(order.client_id)
        emails = harness.emails(order.id)
        expected = expected_subjects(order) if client is not None else []
        subjects = sorted(str(email["subject"]) for email in emails)
        if subjects != expected:
            problems.append(f"order {order.id} ({order.status.value}): emails {subjects}, expected {expected}")
        if client is not None and any(email["to"] != [client.email.value] for email in emails):
            problems.append(f"order {order.id}: an email went to someone else: {[e['to'] for e in emails]}")
    return problems


def _sales_feed(harness: SagaHarness, view: TableView) -> list[str]:
    """8. one sales notice per completed order (the queue is read and emptied; what an earlier check took counts)."""
    taken = _NOTICES_TAKEN.setdefault(harness, Counter())
    taken.update(str(notice["orderId"]) for notice in harness.sales_notices())
    notices = Counter(taken)
    completed = Counter(order.id for order in view.orders.values() if order.status is OrderStatus.COMPLETED)
    if notices != completed:
        return [f"sales notices {dict(notices)} differ from the completed orders {dict(completed)}"]
    return []


def _nothing_lost(
    harness: SagaHarness, view: TableView, dead_letters: Counter[str], copies: Counter[str] | None
) -> list[str]:
    """9. queues empty, the DLQs hold only the poison, the relay skipped nothing, every outbox event published."""
    problems: list[str] = []
    for queue in (*STEP_QUEUES, INTAKE_FILES_QUEUE.name, INTAKE_ORDERS_QUEUE.name):
        if depth := harness.queue_depth(queue):
            problems.append(f"queue {queue} still holds {depth} message(s)")
    letters = Counter(letter.body for letter in harness.dead_letters())
    if letters != dead_letters:
        problems.append(
            f"dead letters: unexpected {dict(letters - dead_letters)}, missing {dict(dead_letters - letters)}"
        )
    if harness.sources is not None:
        for source in harness.sources.sources:
            if isinstance(source, StreamEventSource) and source.name == RELAY and source.dead_letters:
                problems.append(f"the relay gave up on {len(source.dead_letters)} stream record(s)")
    if copies is not None:
        unpublished = [event for event in view.outbox if copies[event.event_id] == 0]
        if unpublished:
            problems.append(f"{len(unpublished)} outbox event(s) never published: {unpublished[:5]}")
    return problems
