"""What operators see of the platform beyond its logs: business metrics (CloudWatch EMF, written to the function's
log, so no API call and no latency) and X-Ray traces (Powertools Tracer, boto3 patched).

The metrics a sale produces come from its domain events, as the relay publishes them: one place sees every event
exactly when it becomes visible to the rest of the platform, whichever step or API call committed it. The relay
delivers at least once, so a redelivered batch counts its events again: these are rates to watch, not a ledger.

The tracer costs an import of the X-Ray SDK at cold start (about 60 ms in Lambda, where its sampler needs no AWS
client; over 200 ms outside Lambda, where it builds one): it is only created where tracing is on, which is on AWS,
never locally.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.metrics import MetricUnit, single_metric
from aws_lambda_powertools.metrics.functions import is_metrics_disabled

from domain.events import DomainEvent, EventType, RefundOwed

if TYPE_CHECKING:
    from aws_lambda_powertools import Logger, Tracer

NAMESPACE = "VehiclePlatform"


class BusinessMetric(StrEnum):
    ORDERS_PLACED = "OrdersPlaced"
    SALES_COMPLETED = "SalesCompleted"
    ORDERS_CANCELLED = "OrdersCancelled"
    PAYMENTS_EXPIRED = "PaymentsExpired"
    REFUNDS_OWED = "RefundsOwed"
    # A refund asked again because the PSP did not make the one before (NAO_REALIZADO).
    REFUNDS_RETRIED = "RefundsRetried"
    SAGA_STEP_LATENCY = "SagaStepLatency"
    INTAKE_ORDERS_ACCEPTED = "IntakeOrdersAccepted"
    INTAKE_ORDERS_REJECTED = "IntakeOrdersRejected"
    PUSHES = "WebSocketPushes"
    CONNECTIONS_GONE = "WebSocketConnectionsGone"


# The dimension each metric is split by, if any: the dashboard and the alarms name the same ones.
REASON = "Reason"
STEP = "Step"


@dataclass(frozen=True, slots=True)
class MetricPoint:
    metric: BusinessMetric
    value: float = 1
    unit: MetricUnit = MetricUnit.Count
    dimension: tuple[str, str] | None = None


_EVENT_METRICS = {
    EventType.ORDER_PLACED: BusinessMetric.ORDERS_PLACED,
    EventType.SALE_COMPLETED: BusinessMetric.SALES_COMPLETED,
    EventType.PAYMENT_EXPIRED: BusinessMetric.PAYMENTS_EXPIRED,
    EventType.REFUND_OWED: BusinessMetric.REFUNDS_OWED,
}


def event_metrics(event: DomainEvent) -> tuple[MetricPoint, ...]:
    """The business metrics one published domain event counts towards (most events count towards none)."""
    if event.event_type is EventType.ORDER_CANCELLED:
        return (MetricPoint(BusinessMetric.ORDERS_CANCELLED, dimension=(REASON, str(event.payload["reason"]))),)
    if event.event_type is EventType.REFUND_OWED and event.payload_as(RefundOwed).attempt is not None:
        return (MetricPoint(BusinessMetric.REFUNDS_RETRIED),)
    metric = _EVENT_METRICS.get(event.event_type)
    return (MetricPoint(metric),) if metric else ()


def step_latency(step: str, milliseconds: float) -> MetricPoint:
    return MetricPoint(BusinessMetric.SAGA_STEP_LATENCY, milliseconds, MetricUnit.Milliseconds, (STEP, step))


def publish_metrics(points: Iterable[MetricPoint]) -> None:
    """Writes each point as one EMF line on stdout, which the function's log group turns into a metric. The metrics
    are the platform's, not a function's: no service dimension, so an alarm reads one series whoever emits it.
    POWERTOOLS_METRICS_DISABLED turns them off (the local stack does: its log is read by people)."""
    if is_metrics_disabled():
        return
    for point in points:
        if not point.value and point.unit is MetricUnit.Count:
            continue  # a zero count says nothing a missing datapoint does not, and costs a log line
        with single_metric(
            name=point.metric.value,
            unit=point.unit,
            value=point.value,
            namespace=NAMESPACE,
            default_dimensions=dict([point.dimension]) if point.dimension else None,
        ):
            pass


def tracing_enabled() -> bool:
    """On in Lambda unless POWERTOOLS_TRACE_DISABLED says otherwise; off anywhere else (the local stack, tests)."""
    in_lambda = bool(os.environ.get("AWS_LAMBDA_FUNCTION_NAME"))
    disabled = os.environ.get("POWERTOOLS_TRACE_DISABLED", "").lower() in {"1", "true"}
    return in_lambda and not disabled


@cache
def tracer() -> Tracer | None:
    """The process's one tracer, boto3 patched, or None where tracing is off (the X-Ray SDK is not even imported)."""
    if not tracing_enabled():
        return None
    from aws_lambda_powertools import Tracer

    return Tracer(patch_modules=["botocore"])


# Lambda's header for the invocation being served: `Root=1-...;Parent=...;Sampled=1`.
TRACE_HEADER_ENV = "_X_AMZN_TRACE_ID"
_CONTINUED_TRACE: ContextVar[str | None] = ContextVar("continued_trace", default=None)


def current_trace_header() -> str | None:
    """The trace of the work being done, to hand to work that continues it later (an event in the outbox)."""
    if not tracing_enabled():
        return None
    return os.environ.get(TRACE_HEADER_ENV) or None


def continue_trace(client: Any, operation: str) -> None:
    """Lets `trace_continued` choose the trace header of `operation`'s requests ("sns.Publish") on this client.
    The header is not part of a request's signature, so it is set just before the request leaves."""

    def set_header(request: Any, **_: Any) -> None:
        header = _CONTINUED_TRACE.get()
        if header:
            request.headers["X-Amzn-Trace-Id"] = header

    client.meta.events.register(f"before-send.{operation}", set_header)


@contextmanager
def trace_continued(header: str | None) -> Iterator[None]:
    """The requests made inside carry `header` (an earlier invocation's trace) instead of this invocation's."""
    token = _CONTINUED_TRACE.set(header)
    try:
        yield
    finally:
        _CONTINUED_TRACE.reset(token)


@contextmanager
def traced(name: str, *, order_id: str, event_type: str | None = None) -> Iterator[None]:
    """A subsegment for one unit of work, annotated so X-Ray finds every segment of a sale by its order id."""
    current = tracer()
    if current is None:
        yield
        return
    with current.provider.in_subsegment(name=name) as subsegment:
        subsegment.put_annotation("order_id", order_id)
        if event_type:
            subsegment.put_annotation("event_type", event_type)
        yield


LambdaHandler = Callable[[dict[str, Any], Any], Any]


def lambda_entry(logger: Logger) -> Callable[[LambdaHandler], LambdaHandler]:
    """What every Lambda entry point carries: the invocation's context on each of its log lines (request id, cold
    start, function), and, where tracing is on, a segment for the invocation (the tracer built at the first call, so
    importing the handler's module stays cheap)."""

    def decorate(handler: LambdaHandler) -> LambdaHandler:
        logged: LambdaHandler = logger.inject_lambda_context(handler, clear_state=True)
        traced_handler: LambdaHandler | None = None

        @functools.wraps(handler)
        def entry(event: dict[str, Any], context: Any) -> Any:
            nonlocal traced_handler
            current = tracer()
            if current is None:
                return logged(event, context)
            if traced_handler is None:
                traced_handler = current.capture_lambda_handler(logged)
            return traced_handler(event, context)

        return entry

    return decorate
