"""Everything the local stack runs besides the API: the stream and queue pollers feeding the saga's handlers, as
Lambda's event source mappings do, the payment expiry schedule and the Pix reconciliation's."""

from __future__ import annotations

import threading
import time
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import boto3
from botocore.config import Config

from local_stack.emulator import EVENT_SOURCE_AGENT
from local_stack.event_sources import EventSource, EventSources, Handler, SqsEventSource, StreamEventSource
from local_stack.resources import Provisioned

STREAM_POLL_SECONDS = 0.02
# How many invocations of the delivery function run at once locally, and the batches each takes (one: a delivery
# batch is already a few hundred posts). On AWS, Lambda scales the queue's consumer out on its own.
DELIVERY_POLLERS = 4
DELIVERY_BATCH_SIZE = 1


class Schedule(EventSource):
    """An EventBridge rate schedule: a Scheduled Event every `interval` seconds."""

    def __init__(self, name: str, handler: Handler, interval: float) -> None:
        super().__init__(name, handler)
        self.interval = interval

    def prepare(self) -> None:
        """Nothing to look up: a schedule only needs its clock."""

    def poll(self, stop: threading.Event) -> None:
        if stop.wait(self.interval):
            return
        self._invoke(scheduled_event(self.name), ["scheduled"])


def scheduled_event(rule: str) -> dict[str, Any]:
    return {
        "version": "0",
        "id": f"{rule}-{datetime.now(UTC).timestamp():.0f}",
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": "us-east-1",
        "resources": [f"arn:aws:events:us-east-1:000000000000:rule/{rule}"],
        "detail": {},
    }


class Timed:
    """A handler that keeps count of the time it ran: what Lambda would bill as duration."""

    def __init__(self, handler: Handler) -> None:
        self._handler = handler
        self.seconds = 0.0

    def __call__(self, event: dict[str, Any], context: Any) -> object:
        started = time.perf_counter()
        try:
            return self._handler(event, context)
        finally:
            self.seconds += time.perf_counter() - started


def _client(session: boto3.session.Session, service: str) -> Any:
    # Named, so that the emulator counts Lambda's polling apart from the application's requests.
    return session.client(service, config=Config(user_agent_extra=EVENT_SOURCE_AGENT))  # type: ignore[call-overload]


def _stream(session: boto3.session.Session, name: str, table: str, handler: Handler) -> StreamEventSource:
    # Lambda polls a stream about four times a second per shard; locally faster, as the saga's every hop and every
    # realtime push waits for it (at 50 ms, a push's p95 was 70 ms; at 20 ms, 36 ms).
    return StreamEventSource(
        name,
        table,
        Timed(handler),
        poll_interval=STREAM_POLL_SECONDS,
        streams_client=_client(session, "dynamodbstreams"),
        dynamodb_client=_client(session, "dynamodb"),
    )


def saga_event_sources(
    provisioned: Provisioned, *, expiry_interval: float, reconcile_interval: float | None = None
) -> EventSources:
    """The saga wired as on AWS: stream -> relay, each step's queue -> its consumer, a schedule -> expiry sweep,
    another -> the Pix reconciliation (unless `reconcile_interval` is None: tests that call the webhook themselves
    run it when they mean to); and the batch intake's two queues (dropped files, then their accepted orders) -> its
    two handlers."""
    from composition.aws import saga_services as build_saga_services
    from local_stack.faults import DuplicatingPublisher, TestSwitches, at_random, crashing_consumers
    from runtime.settings import get_settings
    from sagas import expiry, intake, reconcile, relay
    from sagas.consumers import HANDLERS
    from sagas.intake_adapters import intake_services
    from sagas.wiring import saga_services

    # Built once, here, before the pollers' threads ask: boto3's default session is not safe to share while threads
    # create clients. (A Lambda runs one event at a time per process and never meets this.)
    switches = TestSwitches.from_env()
    services = build_saga_services(get_settings())
    if switches.duplicate_delivery:
        services = replace(services, publisher=DuplicatingPublisher(services.publisher))
    saga_services.install(services)
    intake_services()
    consumers = crashing_consumers(at_random(switches.fault_rate)) if switches.fault_rate else HANDLERS
    session = boto3.session.Session()
    sources = EventSources(
        _stream(session, "outbox-relay", provisioned.table_name, relay.handler),
        Schedule("payment-expiry", Timed(expiry.handler), expiry_interval),
    )
    if reconcile_interval is not None:
        sources.add(Schedule("pix-reconciliation", Timed(reconcile.handler), reconcile_interval))
    for queue, handler in (consumers | intake.HANDLERS).items():
        sources.add(
            SqsEventSource(queue, provisioned.queue_urls[queue], Timed(handler), sqs_client=_client(session, "sqs"))
        )
    return sources


def handler_seconds(sources: EventSources) -> float:
    """The time the saga's handlers ran, all sources together."""
    return sum(handler_seconds_by_source(sources).values())


def handler_seconds_by_source(sources: EventSources) -> dict[str, float]:
    """The time each source's handler ran, by the source's name (the name of the function it stands in for)."""
    return {source.name: source.handler.seconds for source in sources.sources if isinstance(source.handler, Timed)}


def realtime_event_sources(
    provisioned: Provisioned, *, delivery_pollers: int = DELIVERY_POLLERS, keepalive_interval: float | None = None
) -> EventSources:
    """The realtime gateway's background: the stream -> fan-out, the connection_init deadline queue -> its check,
    the delivery queue -> `delivery_pollers` pollers, each invoking the delivery function with one batch at a time,
    as Lambda scales a queue's consumer out to several concurrent invocations, and (unless `keepalive_interval` is
    None) a schedule -> the connections' keep-alive sweep (on AWS the payment expiry's one-minute schedule, a tenth
    of the idle window: locally its own, at a tenth of the local one)."""
    from platform_spec.messaging import WS_DELIVERY_QUEUE, WS_INIT_TIMEOUT_QUEUE
    from realtime import delivery, fanout, handlers, sweep

    session = boto3.session.Session()
    sources = EventSources(
        _stream(session, "realtime-fanout", provisioned.table_name, fanout.handler),
        SqsEventSource(
            WS_INIT_TIMEOUT_QUEUE.name,
            provisioned.queue_urls[WS_INIT_TIMEOUT_QUEUE.name],
            Timed(handlers.init_timeout),
            sqs_client=_client(session, "sqs"),
        ),
    )
    for number in range(delivery_pollers):
        sources.add(
            SqsEventSource(
                f"{WS_DELIVERY_QUEUE.name}-{number + 1}",
                provisioned.queue_urls[WS_DELIVERY_QUEUE.name],
                Timed(delivery.handler),
                batch_size=DELIVERY_BATCH_SIZE,
                sqs_client=_client(session, "sqs"),
            )
        )
    if keepalive_interval is not None:
        sources.add(Schedule("connection-keepalive", Timed(sweep.handler), keepalive_interval))
    return sources
