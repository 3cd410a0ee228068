"""The topics and queues: names, dead-letter queues, visibility, retries and retention."""

from __future__ import annotations

from dataclasses import dataclass

from platform_spec.routes import STEP_SUBSCRIPTIONS

PREFIX = "vehicle-platform"
# SQS moves a message to its DLQ after this many receives (seed 001: "DLQ after 3 retries").
MAX_RECEIVES = 3
# SQS's longest: a message waits 14 days in its queue, then 14 more in its DLQ (consumer markers outlive both).
MESSAGE_RETENTION_SECONDS = 14 * 24 * 3600


@dataclass(frozen=True, slots=True)
class QueueSpec:
    name: str
    # Domain event types this queue receives from the events topic; empty means it is fed some other way.
    event_types: tuple[str, ...] = ()
    fifo: bool = False
    visibility_timeout: int = 30
    dead_letters: bool = True

    @property
    def queue_name(self) -> str:
        return f"{PREFIX}-{self.name}" + (".fifo" if self.fifo else "")

    @property
    def dlq_name(self) -> str:
        return f"{PREFIX}-{self.name}-dlq" + (".fifo" if self.fifo else "")


@dataclass(frozen=True, slots=True)
class TopicSpec:
    name: str

    @property
    def topic_name(self) -> str:
        return f"{PREFIX}-{self.name}"


EVENTS_TOPIC = TopicSpec("domain-events")
ORDER_ERRORS_TOPIC = TopicSpec("order-errors")
PENDING_STOCK_TOPIC = TopicSpec("pending-stock")
TOPICS = (EVENTS_TOPIC, ORDER_ERRORS_TOPIC, PENDING_STOCK_TOPIC)

# One queue per saga step, subscribed to the events topic with a filter on the event type (DESIGN.md, Events).
SAGA_QUEUES = tuple(
    QueueSpec(step, tuple(sorted(event_type.value for event_type in event_types)))
    for step, event_types in STEP_SUBSCRIPTIONS.items()
)
SALES_NOTIFICATIONS_QUEUE = QueueSpec("sales-notifications")
# $connect leaves a delayed message here: when it comes back, a connection without connection_init is ended.
WS_INIT_TIMEOUT_QUEUE = QueueSpec("ws-init-timeout")
# The fan-out's delivery batches for a topic too large for one invocation: each is posted by realtime/delivery.py.
# Its visibility outlasts a batch whose every post times out (bounded in realtime/handlers.py, ManagementApi).
WS_DELIVERY_QUEUE = QueueSpec("ws-delivery", visibility_timeout=120)
INTAKE_FILES_QUEUE = QueueSpec("intake-files", visibility_timeout=60)
INTAKE_ORDERS_QUEUE = QueueSpec("intake-orders", fifo=True)
QUEUES = (
    *SAGA_QUEUES,
    SALES_NOTIFICATIONS_QUEUE,
    WS_INIT_TIMEOUT_QUEUE,
    WS_DELIVERY_QUEUE,
    INTAKE_FILES_QUEUE,
    INTAKE_ORDERS_QUEUE,
)
