"""Fakes for the purchase saga's unit tests: the world around `Purchase` and `Notifications`, and an outbox that a
test drives by hand, as the topic and the step queues would (each event through JSON, as on the wire)."""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from domain.clients import Client, register_client
from domain.events import PAYLOAD_SCHEMAS, DomainEvent, EventType
from domain.notifications import Claim, Email, Notifications
from domain.order_status import OrderStatus
from domain.orders import Order, RefundStatus
from domain.products import Product
from domain.purchase import (
    Change,
    Charge,
    Payer,
    PaymentProvider,
    PaymentReceived,
    PaymentRefused,
    Purchase,
    RefundReceipt,
    SagaConfig,
)
from domain.values import Money
from domain.vehicles import Vehicle
from persistence.memory import MemoryClientStore, MemoryProductStore, MemoryPurchaseStore, MemoryVehicleStore
from platform_spec.routes import STEP_SUBSCRIPTIONS
from runtime.invoice_html import HtmlInvoiceRenderer
from runtime.invoices import MemoryInvoiceArchive
from tests.unit.factories import (
    CPF_ANA,
    CPF_BRUNO,
    SELLER,
    FixedClock,
    address_input,
    cursor_codec,
    make_vehicle,
)

ANA = "client-ana"
BRUNO = "client-bruno"
ADMIN = "staff-admin"
VEHICLE = "vehicle-1"
PRICE = "189900.00"
PAYMENT_TTL = timedelta(minutes=30)
KEY = "key-0001-aaaa"


Step = Callable[[DomainEvent, str], None]

_SAMPLES: dict[type, Any] = {str: "text", list: [{"productId": "PRD-1", "quantity": 2}]}


def sample_payload(event_type: EventType) -> dict[str, Any]:
    """A payload that fits the event type's schema, every field filled with a sample of its type."""
    return {name: _SAMPLES[kind] for name, kind in PAYLOAD_SCHEMAS[event_type].items()}


def ana(now: datetime) -> Client:
    return register_client(
        client_id=ANA,
        name="Ana Souza",
        cpf=CPF_ANA,
        email="ana@example.com",
        phone="(21) 91234-5678",
        address=address_input(),
        now=now,
    )


def bruno(now: datetime) -> Client:
    return register_client(
        client_id=BRUNO,
        name="Bruno Lima",
        cpf=CPF_BRUNO,
        email="bruno@example.com",
        phone="(11) 98765-4321",
        address=address_input(),
        now=now,
    )


class MailerDown(RuntimeError):
    """The email service refused a send."""


class RecordingMailer:
    def __init__(self) -> None:
        self.sent: list[Email] = []
        self.failures = 0  # how many of the next sends fail

    def send(self, email: Email) -> None:
        if self.failures:
            self.failures -= 1
            raise MailerDown("SES is unavailable")
        self.sent.append(email)


class RecordingSalesFeed:
    def __init__(self) -> None:
        self.notices: list[dict[str, Any]] = []
        self.failures = 0

    def publish(self, notice: dict[str, Any]) -> None:
        if self.failures:
            self.failures -= 1
            raise MailerDown("the sales queue is unavailable")
        self.notices.append(notice)


class RecordingAlerts:
    def __init__(self) -> None:
        self.published: list[tuple[str, dict[str, Any]]] = []

    def publish(self, subject: str, message: dict[str, Any]) -> None:
        self.published.append((subject, message))


@dataclass
class _Entry:
    sent: bool
    lease_until: datetime | None


class MemoryLedger:
    """The notification ledger with the DynamoDB one's lease semantics: a claim holds the key for `lease_seconds`;
    a lease that ran out without `mark_sent` (its holder died) may be claimed again; `release` gives it back."""

    def __init__(self, clock: FixedClock) -> None:
        self._clock = clock
        self.entries: dict[str, _Entry] = {}

    def claim(self, key: str, lease_seconds: int) -> Claim:
        now = self._clock.now()
        entry = self.entries.get(key)
        if entry is not None and entry.sent:
            return Claim.SENT
        if entry is not None and entry.lease_until is not None and entry.lease_until >= now:
            return Claim.BUSY
        self.entries[key] = _Entry(sent=False, lease_until=now + timedelta(seconds=lease_seconds))
        return Claim.CLAIMED

    def mark_sent(self, key: str) -> None:
        self.entries[key] = _Entry(sent=True, lease_until=None)

    def release(self, key: str) -> None:
        entry = self.entries.get(key)
        if entry is not None and not entry.sent:
            del self.entries[key]


class InterceptingStore(MemoryPurchaseStore):
    """A memory store that, once, runs `interleave` just before applying the first change `when` selects: what a
    concurrent writer does between a step's read and its write."""

    def __init__(self, vehicles: MemoryVehicleStore, clients: MemoryClientStore, products: MemoryProductStore) -> None:
        super().__init__(vehicles, clients, cursor_codec(), products)
        self._hooks: list[tuple[Callable[[Change], bool], Callable[[], object]]] = []

    def before_apply(self, when: Callable[[Change], bool], interleave: Callable[[], object]) -> None:
        self._hooks.append((when, interleave))

    def apply(self, change: Change) -> None:
        for hook in list(self._hooks):
            when, interleave = hook
            if when(change):
                self._hooks.remove(hook)
                interleave()
        super().apply(change)


@dataclass
class RecordingPaymentProvider:
    """A Pix-like provider that remembers what it was asked: charges with a BR Code and a location, removals,
    refunds. `refusing` makes it refuse every charge with that reason; `refund_answers` is what each new refund
    attempt answers, in turn (REFUNDED once the list is used up); a refund asked again answers as it did."""

    refusing: str | None = None
    refund_answers: list[RefundStatus] = field(default_factory=list)
    charges: dict[str, tuple[Charge, Payer, str]] = field(default_factory=dict)
    removed: list[str] = field(default_factory=list)
    refunds: dict[str, RefundReceipt] = field(default_factory=dict)
    refund_calls: list[tuple[str, str, Money, int]] = field(default_factory=list)

    def create_charge(
        self, *, order_id: str, amount: Money, expires_at: datetime, payer: Payer, description: str
    ) -> Charge:
        if self.refusing is not None:
            raise PaymentRefused(self.refusing)
        code = f"TX{order_id.replace('-', '')}".ljust(26, "Z")
        known = self.charges.get(code)
        if known is None:
            charge = Charge(code=code, expires_at=expires_at, br_code=f"00020101-{code}", location=f"psp/{code}")
            self.charges[code] = (charge, payer, description)
            return charge
        return known[0]

    def remove_charge(self, code: str) -> None:
        self.removed.append(code)

    def refund(self, *, payment_code: str, end_to_end_id: str, amount: Money, attempt: int) -> RefundReceipt:
        self.refund_calls.append((payment_code, end_to_end_id, amount, attempt))
        refund_id = f"D{end_to_end_id}{attempt}"
        if refund_id not in self.refunds:
            status = self.refund_answers.pop(0) if self.refund_answers else RefundStatus.REFUNDED
            self.refunds[refund_id] = RefundReceipt(id=refund_id, status=status)
        return self.refunds[refund_id]


@dataclass
class Saga:
    """The purchase saga over memory stores, with the outbox delivered by hand."""

    clock: FixedClock
    vehicles: MemoryVehicleStore
    clients: MemoryClientStore
    products: MemoryProductStore
    archive: MemoryInvoiceArchive
    store: InterceptingStore
    purchase: Purchase
    ledger: MemoryLedger
    mailer: RecordingMailer
    feed: RecordingSalesFeed
    alerts: RecordingAlerts
    notifications: Notifications
    # Events written but not yet delivered, oldest first.
    queue: list[DomainEvent] = field(default_factory=list)
    # Every delivery made, as (consumer, event type), in order.
    deliveries: list[tuple[str, EventType]] = field(default_factory=list)
    _seen: int = 0

    @classmethod
    def build(
        cls,
        *,
        vehicles: Iterable[Vehicle] | None = None,
        clients: Iterable[Callable[[datetime], Client]] = (ana, bruno),
        products: Iterable[Product] = (),
        payments: PaymentProvider | None = None,
    ) -> Saga:
        clock = FixedClock()
        vehicle_store = MemoryVehicleStore(cursor_codec())
        for vehicle in vehicles if vehicles is not None else [make_vehicle(vehicle_id=VEHICLE, price=PRICE)]:
            vehicle_store.add(vehicle)
        client_store = MemoryClientStore()
        for make_client in clients:
            client_store.register(make_client(clock.now()))
        product_store = MemoryProductStore(cursor_codec())
        for product in products:
            product_store.add(product)
        store = InterceptingStore(vehicle_store, client_store, product_store)
        archive = MemoryInvoiceArchive()
        purchase = Purchase(
            store=store,
            clock=clock,
            payments=RecordingPaymentProvider() if payments is None else payments,
            archive=archive,
            renderer=HtmlInvoiceRenderer(),
            config=SagaConfig(seller=SELLER, payment_ttl=PAYMENT_TTL),
        )
        ledger = MemoryLedger(clock)
        mailer = RecordingMailer()
        feed = RecordingSalesFeed()
        alerts = RecordingAlerts()
        return cls(
            clock=clock,
            vehicles=vehicle_store,
            clients=client_store,
            products=product_store,
            archive=archive,
            store=store,
            purchase=purchase,
            ledger=ledger,
            mailer=mailer,
            feed=feed,
            alerts=alerts,
            notifications=Notifications(store, ledger, mailer, feed, alerts),
        )

    # --- reading what a user would see ---------------------------------------------------------------------------

    def order(self, order_id: str = "order-1") -> Order:
        order = self.store.get_order(order_id)
        assert order is not None, f"order {order_id} was not stored"
        return order

    def vehicle(self, vehicle_id: str = VEHICLE) -> Vehicle:
        vehicle = self.vehicles.get(vehicle_id)
        assert vehicle is not None
        return vehicle

    def written(self, order_id: str = "order-1") -> list[DomainEvent]:
        return [event for event in self.store.outbox if event.order_id == order_id]

    def written_types(self, order_id: str = "order-1") -> list[str]:
        return [event.event_type.value for event in self.written(order_id)]

    def history(self, order_id: str = "order-1") -> list[tuple[str, str]]:
        return [(entry.event, entry.status.value) for entry in self.order(order_id).history]

    def one(self, event_type: EventType, order_id: str = "order-1") -> DomainEvent:
        found = [event for event in self.written(order_id) if event.event_type is event_type]
        assert len(found) == 1, f"expected one {event_type}, found {len(found)}"
        return found[0]

    # --- acting as the API and the payment provider -------------------------------------------------------------

    def place(
        self,
        *,
        order_id: str = "order-1",
        client_id: str = ANA,
        vehicle_id: str = VEHICLE,
        key: str = KEY,
    ) -> Order:
        return self.purchase.place_vehicle_order(
            client_id=client_id,
            vehicle_id=vehicle_id,
            idempotency_key=key,
            order_id=order_id,
            correlation_id=f"corr-{order_id}",
        )

    def pay(
        self,
        order_id: str = "order-1",
        *,
        provider_event_id: str = "provider-evt-1",
        amount: str | None = None,
    ) -> bool:
        """The provider tells of a payment of the order's charge (the price, unless `amount`), named
        `provider_event_id` (a Pix's endToEndId)."""
        payment = self.order(order_id).payment
        assert payment is not None, f"order {order_id} has no payment code"
        received = PaymentReceived(
            code=payment.code,
            end_to_end_id=provider_event_id,
            amount=payment.amount if amount is None else Money.parse(amount),
            paid_at=self.clock.now(),
        )
        return self.purchase.receive_payment(received)

    # --- the topic and the queues ---------------------------------------------------------------------------------

    def steps(self) -> dict[EventType, list[tuple[str, Step]]]:
        """Each event type's consumers, as the queues' subscriptions route them (platform_spec/routes.py)."""
        p = self.purchase
        handlers: dict[str, Step] = {
            "validate-client": p.validate_client,
            "reserve-inventory": p.reserve_inventory,
            "request-payment": p.request_payment,
            "complete-sale": p.complete_sale,
            "compensate": p.compensate,
            "refund": p.execute_refund,
            "notify": self.notifications.notify,
        }
        routed: dict[EventType, list[tuple[str, Step]]] = {}
        for queue, event_types in STEP_SUBSCRIPTIONS.items():
            for event_type in event_types:
                routed.setdefault(event_type, []).append((queue, handlers[queue]))
        return routed

    def product(self, sku: str) -> Product:
        product = self.products.get(sku)
        assert product is not None
        return product

    def place_products(
        self, lines: list[tuple[str, int]], *, order_id: str = "order-1", client_id: str = ANA, key: str = KEY
    ) -> Order:
        return self.purchase.place_product_order(
            client_id=client_id, lines=lines, idempotency_key=key, order_id=order_id, correlation_id=f"corr-{order_id}"
        )

    def pending(self) -> list[DomainEvent]:
        """Events written and not yet delivered (newly written ones are queued first)."""
        self.queue.extend(self.store.outbox[self._seen :])
        self._seen = len(self.store.outbox)
        return list(self.queue)

    def take(self, event_type: EventType, order_id: str = "order-1") -> DomainEvent:
        """Remove the oldest undelivered event of a type from the queue, to deliver it by hand."""
        for event in self.pending():
            if event.event_type is event_type and event.order_id == order_id:
                self.queue.remove(event)
                return event
        raise AssertionError(f"no pending {event_type} for {order_id}")

    def deliver(self, event: DomainEvent, times: int = 1) -> None:
        """Deliver one event to every step subscribed to its type, `times` times, through its JSON form."""
        for _ in range(times):
            received = DomainEvent.from_json(event.to_json())
            for consumer, step in self.steps().get(event.event_type, []):
                self.deliveries.append((consumer, event.event_type))
                step(received, consumer)

    def run(self, *, times: int = 1, newest_first: bool = False, hold: Collection[EventType] = ()) -> None:
        """Deliver until nothing is left but the held types. `times` delivers each event that many times in a row;
        `newest_first` takes the queue from its newest event."""
        for _ in range(1000):
            ready = [event for event in self.pending() if event.event_type not in hold]
            if not ready:
                return
            event = ready[-1] if newest_first else ready[0]
            self.queue.remove(event)
            self.deliver(event, times)
        raise AssertionError("the saga did not go quiet")

    def replay_all(self) -> None:
        """Deliver every event ever written once more, oldest first: each step re-run after its change."""
        self.pending()
        for event in list(self.store.outbox):
            self.deliver(event)
        self.run()


def awaiting_payment(saga: Saga, order_id: str = "order-1", **place: str) -> Order:
    """An order placed and taken by the saga to AWAITING_PAYMENT, nothing received yet."""
    saga.place(order_id=order_id, **place)
    saga.run()
    order = saga.order(order_id)
    assert order.status is OrderStatus.AWAITING_PAYMENT
    assert order.payment is not None
    assert order.payment.received == Money.zero()
    return order
