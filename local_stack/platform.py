"""Everything the local stack runs besides the API: the stream and queue pollers feeding the saga's handlers, as
Lambda's event source mappings do, and the payment expiry schedule."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from typing import Any

from local_stack.event_sources import EventSource, EventSources, Handler, SqsEventSource, StreamEventSource
from local_stack.resources import Provisioned


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


def saga_event_sources(provisioned: Provisioned, *, expiry_interval: float) -> EventSources:
    """The saga wired as on AWS: stream -> relay, each step's queue -> its consumer, a schedule -> expiry sweep."""
    from sagas import expiry, relay
    from sagas.consumers import HANDLERS

    sources = EventSources(
        StreamEventSource("outbox-relay", provisioned.table_name, relay.handler),
        Schedule("payment-expiry", expiry.handler, expiry_interval),
    )
    for queue, handler in HANDLERS.items():
        sources.add(SqsEventSource(queue, provisioned.queue_urls[queue], handler))
    return sources
