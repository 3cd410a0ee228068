"""The purchase saga, run for real and in-process against the emulator: fixtures and helpers for the saga tests.

Load it as a plugin from a test module (`pytest_plugins = ["tests.integration.saga_harness"]`), then ask for:

- `saga_config(**env)`: a decorator that sets saga environment variables for one test (PAYMENT_TTL_SECONDS,
  FAULT_INJECTION_RATE, DUPLICATE_DELIVERY...), on top of `SAGA_DEFAULTS`;
- `saga_settings`: the environment set and the settings caches cleared, without pollers: for tests that call the
  handlers themselves (the webhook, a consumer fed a hand-built SQS event);
- `saga`: the same, plus the stream relay, every step's queue poller and the expiry schedule running, as the
  local stack runs them. Queues and DLQs are drained before and after; the table is emptied by `services`.

Both yield a `SagaHarness` with helpers to register clients, create vehicles, place, wait for, pay and cancel
orders, and read what the saga sent: emails, sales notices, dead letters, outbox records and sales.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import random
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import urlparse

import boto3
import pytest

from domain.clients import AddressInput, Client
from domain.events import DomainEvent, EventType
from domain.notifications import Email
from domain.order_status import OrderStatus, VehicleStatus
from domain.orders import Order, Payment, advance, await_payment, place_vehicle_order
from domain.purchase import Change, PaymentRecord, VehicleClaim
from domain.registration import RegistrationInput, register
from domain.values import Cpf, Money
from domain.vehicles import Vehicle
from graphql_api.wiring import Services
from local_stack.config import LocalConfig
from local_stack.demo_data import DEMO_USERS
from local_stack.event_sources import EventSources
from local_stack.lambda_events import http_api_event, lambda_context
from local_stack.operations import DeadLetter, dead_letters, redrive, sent_emails
from local_stack.pix_psp import LocalPsp
from local_stack.platform import saga_event_sources
from local_stack.resources import Provisioned
from pix.model import CobRequest, Pix
from pix.txid import txid_for_order
from pix.webhook import WEBHOOK_SECRET_HEADER
from platform_spec.messaging import QUEUES, SALES_NOTIFICATIONS_QUEUE
from runtime.settings import Settings, get_settings
from sagas.adapters import SesMailer
from sagas.reconcile import reconcile
from sagas.wiring import saga_services

WEBHOOK_SECRET = "saga-tests-webhook-secret"
# What every saga test runs with unless it says otherwise: a payment deadline no test reaches, no faults.
SAGA_DEFAULTS: Mapping[str, str] = {
    "PAYMENT_TTL_SECONDS": "600",
    "PIX_WEBHOOK_SECRET": WEBHOOK_SECRET,
    "FAULT_INJECTION_RATE": "0",
    "DUPLICATE_DELIVERY": "",
}
# The expiry schedule runs this often in tests (every minute on AWS).
EXPIRY_INTERVAL_SECONDS = 0.5
DEFAULT_TIMEOUT = 30.0
POLL_SECONDS = 0.05

ADDRESS = AddressInput(
    street="Rua Augusta",
    number="1500",
    neighborhood="Consolação",
    city="São Paulo",
    state="SP",
    zip_code="01304-001",
)


def saga_config(**env: str) -> pytest.MarkDecorator:
    """Run one test with these saga environment variables (on top of SAGA_DEFAULTS)."""
    label = ",".join(f"{name}={value}" for name, value in env.items())
    return pytest.mark.parametrize("saga_env", [env], ids=[label])


# --- values ------------------------------------------------------------------------------------------------------


def make_cpf(rng: random.Random | None = None) -> str:
    """A valid CPF from nine random digits (not all the same), its check digits computed by the domain."""
    rng = rng or random.Random()
    while len(set(first_nine := "".join(str(rng.randrange(10)) for _ in range(9)))) == 1:
        pass
    return Cpf.complete(first_nine).value


def new_key() -> str:
    return str(uuid.uuid4())


# --- Lambda events ---------------------------------------------------------------------------------------------


def event_json(event_type: str, payload: dict[str, Any], order_id: str | None = None) -> str:
    """A domain event's wire form written by hand, so that a test can send what no producer would (a poisoned or
    malformed payload) straight to a queue."""
    return json.dumps(
        {
            "eventId": str(uuid.uuid4()),
            "eventType": event_type,
            "schemaVersion": 1,
            "orderId": order_id or str(uuid.uuid4()),
            "correlationId": str(uuid.uuid4()),
            "occurredAt": datetime.now(UTC).isoformat(),
            "payload": payload,
        }
    )


def sqs_event(*bodies: str, queue: str = "test") -> dict[str, Any]:
    """An SQS event as Lambda delivers it to a consumer, one record per body."""
    records = []
    for body in bodies:
        message_id = new_key()
        records.append(
            {
                "messageId": message_id,
                "receiptHandle": f"handle-{message_id}",
                "body": body,
                "attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": str(int(time.time() * 1000))},
                "messageAttributes": {},
                "md5OfBody": hashlib.md5(body.encode()).hexdigest(),  # noqa: S324 - SQS's own checksum
                "eventSource": "aws:sqs",
                "eventSourceARN": f"arn:aws:sqs:us-east-1:000000000000:{queue}",
                "awsRegion": "us-east-1",
            }
        )
    return {"Records": records}


@dataclass(frozen=True, slots=True)
class WebhookAnswer:
    status: int
    body: dict[str, Any]


def webhook_body(*pix: Pix) -> dict[str, Any]:
    """The PSP's notification of these Pix, in the API Pix's webhook shape."""
    return {"pix": [item.to_json() for item in pix]}


def call_webhook(body: dict[str, Any] | str, *, secret: str | None = WEBHOOK_SECRET) -> WebhookAnswer:
    """POST /webhooks/pix through sagas.webhook.handler with an HTTP API event, with the deployment's secret header
    as the PSP sends it (`secret`; none at all when None)."""
    from sagas import webhook

    text = body if isinstance(body, str) else json.dumps(body)
    headers = {} if secret is None else {WEBHOOK_SECRET_HEADER: secret}
    response = webhook.handler(http_api_event("POST", "/webhooks/pix", text, headers), lambda_context("pix-webhook"))
    answer = json.loads(response["body"]) if response.get("body") else {}
    return WebhookAnswer(int(response["statusCode"]), answer)


# --- the harness ---------------------------------------------------------------------------------------------------


class Timeout(AssertionError):
    """What a test waited for did not happen in time."""


# Clients and queue addresses for the whole session: creating a boto3 client costs tens of milliseconds.
_QUEUE_URLS: dict[str, str] = {}


@functools.cache
def _client(service: str, endpoint: str, region: str) -> Any:
    return boto3.session.Session().client(service, endpoint_url=endpoint, region_name=region)  # type: ignore[call-overload]


def wait_until(condition: Callable[[], Any], what: str, timeout: float = DEFAULT_TIMEOUT) -> Any:
    """Poll `condition` until it returns something truthy (returned), or fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if result:
            return result
        if time.monotonic() > deadline:
            raise Timeout(f"waited {timeout:.0f} s for {what}")
        time.sleep(POLL_SECONDS)


class SagaHarness:
    def __init__(
        self, services: Services, provisioned: Provisioned, settings: Settings, emulator: str, psp: LocalPsp
    ) -> None:
        self.services = services
        self.psp = psp
        self.provisioned = provisioned
        self.settings = settings
        self.emulator = emulator
        self.sources: EventSources | None = None
        port = urlparse(emulator).port
        self.local_config = LocalConfig.from_env(
            {
                "AWS_EMULATOR_PORT": str(port),
                "TABLE_NAME": settings.table_name,
                "AWS_REGION": settings.region,
            }
        )
        self.sqs: Any = _client("sqs", emulator, settings.region)
        self.dynamodb: Any = _client("dynamodb", emulator, settings.region)
        self._rng = random.Random()
        self._ses: Any = _client("ses", emulator, settings.region)
        self._ses_baseline = int(self._ses.get_send_quota()["SentLast24Hours"])
        self._lock = threading.Lock()
        self._emails: list[dict[str, Any]] = []

    # --- arranging -------------------------------------------------------------------------------------------

    def register_demo_client(self, email: str, user_id: str) -> Client:
        """Register a demo user (its Cognito subject as `user_id`) as a client, with its demo details."""
        demo = next(user for user in DEMO_USERS if user.email == email)
        assert demo.client is not None, f"{email} is not a customer"
        return register(self.services.clients, self.services.clock, user_id=user_id, user_email=email, data=demo.client)

    def register_buyer(self, name: str = "Comprador Teste") -> Client:
        """A client with no Cognito user: a fresh subject, CPF and email."""
        tag = uuid.uuid4().hex[:12]
        return register(
            self.services.clients,
            self.services.clock,
            user_id=f"buyer-{tag}",
            user_email=f"buyer-{tag}@example.com",
            data=RegistrationInput(name=name, cpf=make_cpf(self._rng), phone="(11) 98765-4321", address=ADDRESS),
        )

    def create_vehicle(self, price: str = "89900.00", *, brand: str = "Fiat", model: str = "Pulse") -> Vehicle:
        return self.services.catalog.create_vehicle(
            brand=brand, model=model, year=2024, color="Prata", price=Decimal(price)
        )

    def place_order(self, client: Client, vehicle: Vehicle) -> Order:
        return self.services.purchase.place_vehicle_order(
            client_id=client.id,
            vehicle_id=vehicle.id,
            idempotency_key=new_key(),
            order_id=new_key(),
            correlation_id=new_key(),
        )

    def write_order(self, client_id: str, vehicle: Vehicle) -> tuple[Order, DomainEvent]:
        """An order and its OrderPlaced event written straight to the store, skipping placeOrder's checks."""
        order, placed = place_vehicle_order(
            order_id=new_key(),
            client_id=client_id,
            vehicle=vehicle,
            idempotency_key=new_key(),
            correlation_id=new_key(),
            now=datetime.now(UTC),
        )
        self.services.purchase.store.apply(Change(order=order, new_order=True, events=(placed,)))
        return order, placed

    def write_awaiting_payment(self, client: Client, vehicle: Vehicle, *, ttl: timedelta = timedelta(hours=1)) -> Order:
        """An order already in AWAITING_PAYMENT (vehicle reserved, payment record pending), written directly."""
        now = datetime.now(UTC)
        order, _ = place_vehicle_order(
            order_id=new_key(),
            client_id=client.id,
            vehicle=vehicle,
            idempotency_key=new_key(),
            correlation_id=new_key(),
            now=now,
        )
        # The charge at the PSP, as the request-payment step would have created it.
        # (A PSP's charge is payable a second at least; the order's deadline may be past already.)
        request = CobRequest(
            expiracao=max(int(ttl.total_seconds()), 1), valor=order.total, chave=self.psp.settings.chave
        )
        cob, _ = self.psp.put_cob(txid_for_order(order.id), request.to_json())
        payment = Payment(
            code=cob.txid,
            amount=order.total,
            expires_at=now + ttl,
            br_code=cob.pix_copia_e_cola,
            location=cob.location,
        )
        reserved = advance(order, OrderStatus.RESERVED, EventType.INVENTORY_RESERVED, now)
        awaiting = await_payment(reserved, payment, now)
        self.services.purchase.store.apply(
            Change(
                order=awaiting,
                new_order=True,
                payment=PaymentRecord(order.id, payment, expected_status=None),
                vehicle=VehicleClaim(vehicle.id, VehicleStatus.AVAILABLE, VehicleStatus.RESERVED, None, order.id),
            )
        )
        stored = self.order(order.id)
        assert stored.status is OrderStatus.AWAITING_PAYMENT
        return stored

    # --- acting ------------------------------------------------------------------------------------------------

    def pay_at_psp(self, order: Order, *, amount: Money | None = None) -> Pix:
        """The customer's bank pays the order's charge at the local PSP (even one removed or expired a moment
        before: a payment can race either). Nobody is told yet: `notify` is the PSP's webhook call."""
        assert order.payment is not None, f"order {order.id} has no payment code"
        return self.psp.pay(txid=order.payment.code, amount=amount, even_if_inactive=True, notify=False)

    def notify(self, *pix: Pix) -> WebhookAnswer:
        """The PSP's webhook call telling of these Pix."""
        return call_webhook(webhook_body(*pix))

    def pay(self, order: Order, *, amount: Money | None = None) -> WebhookAnswer:
        """The customer pays the order's charge at the PSP, and the PSP calls the webhook."""
        return self.notify(self.pay_at_psp(order, amount=amount))

    def cancel(self, order: Order) -> Order:
        return self.services.purchase.cancel_by_customer(order.id, requested_by=order.client_id, is_admin=False)

    def reconcile(self) -> dict[str, int]:
        """One run of the Pix reconciliation (sagas/reconcile.py) at a moment its lag has passed for what the PSP
        holds now: every Pix received so far, and each refund's outcome, is applied through its idempotent path."""
        lag = timedelta(seconds=self.settings.pix.reconcile_lag_seconds + 1)
        return reconcile(saga_services(), datetime.now(UTC) + lag)

    # --- observing ---------------------------------------------------------------------------------------------

    def order(self, order_id: str) -> Order:
        order = self.services.orders.get_order(order_id)
        assert order is not None, f"order {order_id} does not exist"
        return order

    def vehicle(self, vehicle_id: str) -> Vehicle:
        vehicle = self.services.vehicles.get(vehicle_id)
        assert vehicle is not None, f"vehicle {vehicle_id} does not exist"
        return vehicle

    def wait_for(
        self, order_id: str, predicate: Callable[[Order], bool], timeout: float = DEFAULT_TIMEOUT, what: str = ""
    ) -> Order:
        """The order once `predicate` holds for it; fails after `timeout` seconds with the order's last state."""
        deadline = time.monotonic() + timeout
        while True:
            order = self.services.orders.get_order(order_id)
            if order is not None and predicate(order):
                return order
            if time.monotonic() > deadline:
                state = "missing" if order is None else f"{order.status.value} {[h.event for h in order.history]}"
                raise Timeout(f"waited {timeout:.0f} s for order {order_id} {what or 'to match'}; it is {state}")
            time.sleep(POLL_SECONDS)

    def wait_for_status(self, order_id: str, status: OrderStatus, timeout: float = DEFAULT_TIMEOUT) -> Order:
        return self.wait_for(order_id, lambda order: order.status is status, timeout, f"to be {status.value}")

    def wait_for_vehicle(self, vehicle_id: str, status: VehicleStatus, timeout: float = DEFAULT_TIMEOUT) -> Vehicle:
        def matches() -> Vehicle | None:
            vehicle = self.vehicle(vehicle_id)
            return vehicle if vehicle.status is status else None

        found: Vehicle = wait_until(matches, f"vehicle {vehicle_id} to be {status.value}", timeout)
        return found

    def emails(self, order_id: str | None = None, *, to: str | None = None) -> list[dict[str, Any]]:
        """Emails the saga handed to SES and SES accepted, about `order_id` (in the subject) and/or to `to`.

        Recorded in-process by a spy around SesMailer.send: the emulator's own record (`/moto-api/data.json`) holds
        every object moto ever made and grows to megabytes, too slow to poll. `ses_sent()` counts what SES
        accepted, and `sent_by_ses(order_id)` reads its record, to check the spy against the emulator.
        """
        with self._lock:
            recorded = list(self._emails)
        return [
            email
            for email in recorded
            if (order_id is None or order_id in email["subject"]) and (to is None or to in email["to"])
        ]

    def ses_sent(self) -> int:
        """How many emails SES accepted since this harness started (its send quota's 24-hour count)."""
        return int(self._ses.get_send_quota()["SentLast24Hours"]) - self._ses_baseline

    def sent_by_ses(self, order_id: str) -> list[dict[str, Any]]:
        """The emulator's own record of the emails about `order_id` (slow: reads /moto-api/data.json)."""
        return [email for email in sent_emails(self.local_config) if order_id in str(email["subject"])]

    def record_email(self, email: Email) -> None:
        with self._lock:
            self._emails.append({"to": [email.to], "subject": email.subject, "body": email.body})

    def wait_for_emails(
        self, order_id: str, count: int, *, to: str | None = None, timeout: float = DEFAULT_TIMEOUT
    ) -> list[dict[str, Any]]:
        def enough() -> list[dict[str, Any]] | None:
            emails = self.emails(order_id, to=to)
            return emails if len(emails) >= count else None

        found: list[dict[str, Any]] = wait_until(enough, f"{count} email(s) about order {order_id}", timeout)
        return found

    def sales_notices(self) -> list[dict[str, Any]]:
        """Take everything on the sales-notifications queue (received and deleted, as its consumer would)."""
        url = self.provisioned.queue_urls[SALES_NOTIFICATIONS_QUEUE.name]
        notices: list[dict[str, Any]] = []
        while True:
            batch = self.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=30).get(
                "Messages", []
            )
            if not batch:
                return notices
            notices.extend(json.loads(message["Body"]) for message in batch)
            entries = [{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(batch)]
            self.sqs.delete_message_batch(QueueUrl=url, Entries=entries)

    def queue_depth(self, queue: str) -> int:
        """Messages in a queue, visible or in flight (approximate, as SQS says)."""
        attributes = self.sqs.get_queue_attributes(
            QueueUrl=self.provisioned.queue_urls[queue],
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        return int(attributes["ApproximateNumberOfMessages"]) + int(attributes["ApproximateNumberOfMessagesNotVisible"])

    def settle(self, timeout: float = DEFAULT_TIMEOUT) -> None:
        """Wait until the saga has nothing left to do: every step's queue empty on three checks in a row."""
        steps = [spec.name for spec in QUEUES if spec.event_types]
        quiet = 0

        def idle() -> bool:
            nonlocal quiet
            quiet = quiet + 1 if all(self.queue_depth(step) == 0 for step in steps) else 0
            if quiet < 3:
                time.sleep(0.2)  # the relay publishes within its 0.2 s stream poll
            return quiet >= 3

        wait_until(idle, "every saga queue to be empty", timeout)

    def delivered(self, queue: str) -> int:
        """Records the running poller of `queue` has handed to its consumer, redeliveries included."""
        assert self.sources is not None, "the saga is not running"
        return next(source.records for source in self.sources.sources if source.name == queue)

    def failures(self) -> int:
        """Records the running consumers failed (reported, or raised), over every source."""
        assert self.sources is not None, "the saga is not running"
        return sum(source.failures for source in self.sources.sources)

    def dead_letters(self) -> list[DeadLetter]:
        return dead_letters(self.local_config)

    def redrive(self, queue: str | None = None) -> int:
        return redrive(self.local_config, queue)

    def send_to_queue(self, queue: str, body: str) -> None:
        self.sqs.send_message(QueueUrl=self.provisioned.queue_urls[queue], MessageBody=body)

    def items(self, prefix: str) -> list[dict[str, Any]]:
        """Every item whose partition key starts with `prefix` (a test-only scan), as plain values."""
        items: list[dict[str, Any]] = []
        paginator = self.dynamodb.get_paginator("scan")
        for page in paginator.paginate(
            TableName=self.settings.table_name,
            FilterExpression="begins_with(PK, :prefix)",
            ExpressionAttributeValues={":prefix": {"S": prefix}},
        ):
            items.extend({name: next(iter(value.values())) for name, value in item.items()} for item in page["Items"])
        return items

    def table_snapshot(self) -> dict[tuple[str, str], dict[str, Any]]:
        """The whole table, keyed by (PK, SK): to show that a redelivered event wrote nothing."""
        snapshot: dict[tuple[str, str], dict[str, Any]] = {}
        for page in self.dynamodb.get_paginator("scan").paginate(TableName=self.settings.table_name):
            for item in page["Items"]:
                snapshot[(item["PK"]["S"], item["SK"]["S"])] = item
        return snapshot

    def outbox(self, order_id: str, event_type: EventType | None = None) -> list[DomainEvent]:
        """The order's events written to the outbox, oldest first."""
        events = [
            DomainEvent.from_json(str(item["body"]))
            for item in self.items("OUTBOX#")
            if item["order_id"] == order_id and (event_type is None or item["event_type"] == event_type.value)
        ]
        return sorted(events, key=lambda event: event.occurred_at)

    def sales(self) -> list[dict[str, Any]]:
        return self.items("SALE#")

    # --- plumbing ----------------------------------------------------------------------------------------------

    def drain_queues(self, timeout: float = 10.0) -> None:
        """Empty every saga queue, the sales queue and their DLQs, in-flight messages included.

        Not PurgeQueue: the emulator, like SQS, allows one purge per queue per minute.
        """
        specs = [spec for spec in QUEUES if spec.event_types or spec is SALES_NOTIFICATIONS_QUEUE]
        # Queues before their DLQs: receiving a message past its maxReceiveCount moves it to the DLQ.
        names = [spec.queue_name for spec in specs] + [spec.dlq_name for spec in specs if spec.dead_letters]
        for name in names:
            self._drain(self._queue_url(name), time.monotonic() + timeout)

    def _queue_url(self, name: str) -> str:
        if name not in _QUEUE_URLS:
            _QUEUE_URLS[name] = self.sqs.get_queue_url(QueueName=name)["QueueUrl"]
        return _QUEUE_URLS[name]

    def _drain(self, url: str, deadline: float) -> None:
        while True:
            attributes = self.sqs.get_queue_attributes(
                QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
            )["Attributes"]
            visible, in_flight = (
                int(attributes["ApproximateNumberOfMessages"]),
                int(attributes["ApproximateNumberOfMessagesNotVisible"]),
            )
            if visible + in_flight == 0:
                return
            batch = self.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=30).get(
                "Messages", []
            )
            if batch:
                entries = [{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(batch)]
                self.sqs.delete_message_batch(QueueUrl=url, Entries=entries)
            elif time.monotonic() > deadline:
                raise Timeout(f"{url} still holds {in_flight} message(s) in flight")
            else:
                # In flight (a failed delivery waits its retry delay): it becomes visible again shortly.
                time.sleep(0.1)


@pytest.fixture
def saga_env() -> dict[str, str]:
    """Saga environment variables a test sets on top of SAGA_DEFAULTS: override with `@saga_config(...)`."""
    return {}


def _configure(environment: Mapping[str, str]) -> None:
    for name, value in environment.items():
        if value:
            os.environ[name] = value
        else:
            os.environ.pop(name, None)
    get_settings.cache_clear()
    saga_services.reset()


@pytest.fixture
def saga_settings(
    provisioned: Provisioned,
    settings: Settings,
    services: Services,
    saga_env: dict[str, str],
    *,
    local_psp: LocalPsp,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[SagaHarness]:
    """The saga's environment set (no pollers running): handlers called by the test run against the emulator."""
    environment = {**SAGA_DEFAULTS, **provisioned.function_environment(settings.endpoint_url or ""), **saga_env}
    previous = {name: os.environ.get(name, "") for name in environment}
    _configure(environment)
    # Built here, once, before any poller thread asks: boto3's default session is not safe to share while
    # threads create clients.
    saga_services()
    assert settings.endpoint_url, "the saga tests run against the emulator"
    harness = SagaHarness(services, provisioned, settings, settings.endpoint_url, local_psp)
    send = SesMailer.send

    def send_and_record(mailer: SesMailer, email: Email) -> None:
        send(mailer, email)
        harness.record_email(email)

    monkeypatch.setattr(SesMailer, "send", send_and_record)
    harness.drain_queues()
    try:
        yield harness
    finally:
        harness.drain_queues()
        _configure(previous)


@pytest.fixture
def saga(saga_settings: SagaHarness) -> Iterator[SagaHarness]:
    """The saga running: stream relay, every step's queue poller, the expiry schedule."""
    sources = saga_event_sources(saga_settings.provisioned, expiry_interval=EXPIRY_INTERVAL_SECONDS)
    saga_settings.sources = sources
    sources.start()
    try:
        yield saga_settings
    finally:
        sources.stop()
        saga_settings.sources = None
