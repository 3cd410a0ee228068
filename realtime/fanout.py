"""The fan-out: every order, invoice and vehicle status change, pushed to the subscribers of its topic.

Fed by the table's stream (a second consumer beside the outbox relay): a stream record is the exact state the change
wrote, and a stream delivers one item's changes in the order they happened, so each subscriber sees an order's
statuses in order. Subscribers of a topic are one Query; subscribers asking the same document share one rendering;
the posts go out in parallel. A subscriber whose token expired gets `complete` and is dropped; one whose connection
is gone (410) is forgotten. No subscriber holds back the others: every post is bounded in time (see `ManagementApi`),
and one that fails loses that subscriber this message only, never the push (whose retry would post to everyone again).
"""

from __future__ import annotations

import asyncio
import functools
import time
from collections import defaultdict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord

from domain.order_status import InvoiceStatus
from domain.orders import Order
from domain.vehicles import Vehicle
from graphql_api.context import PushContext
from persistence.connections import StoredSubscription
from persistence.stream import OrderChanged, VehicleChanged, decode
from realtime.handlers import POST_CONCURRENCY, RealtimeServices, management_api, realtime_services
from realtime.protocol import complete_message, next_message
from realtime.subscriptions import render, variables_key
from runtime.logs import service_logger
from runtime.telemetry import BusinessMetric, MetricPoint, lambda_entry, publish_metrics

logger = service_logger("realtime-fanout")
processor = BatchProcessor(event_type=EventType.DynamoDBStreams)


def _invoice_status(order: Order | None) -> InvoiceStatus | None:
    """None before the invoice is issued."""
    return None if order is None or order.invoice is None else order.invoice.status


def fan_out(record: DynamoDBRecord) -> None:
    change = decode(record.raw_event)
    if isinstance(change, OrderChanged):
        order = change.after
        status_changed = change.before is None or order.status != change.before.status
        invoice_status = _invoice_status(order)
        # An invoice changes on its own too (ERROR_STOCK leaves the order PAID): each topic hears its own changes.
        invoice_changed = invoice_status is not None and invoice_status != _invoice_status(change.before)
        if not (status_changed or invoice_changed):
            return
        services = realtime_services()
        if status_changed:
            state: dict[tuple[str, str | None], Order | Vehicle] = {("order", order.id): order}
            push(services, f"order:{order.id}", state, owner=order.client_id, version=order.version)
        if invoice_changed:
            state = {("invoice", order.id): order}
            push(services, f"invoice:{order.id}", state, owner=order.client_id, version=order.version)
    elif isinstance(change, VehicleChanged) and (change.before is None or change.after.status != change.before.status):
        vehicle = change.after
        push(realtime_services(), "vehicles", {("vehicle", None): vehicle}, owner=None, version=None)


def push(
    services: RealtimeServices,
    topic: str,
    state: dict[tuple[str, str | None], Order | Vehicle],
    *,
    owner: str | None,
    version: int | None,
) -> int:
    """Push `state` to every subscriber of `topic`; the number of subscribers it was for."""
    management = management_api(services.settings.realtime.management_url)
    now = time.time()
    expired: list[StoredSubscription] = []
    deliver: list[StoredSubscription] = []
    for subscription in services.connections.subscribers(topic):
        principal = subscription.principal
        if principal.expires_at is not None and principal.expires_at < now:
            expired.append(subscription)
        elif owner is None or owner == principal.subject or principal.is_admin:
            deliver.append(subscription)
    groups: dict[str, list[StoredSubscription]] = defaultdict(list)
    for subscription in deliver:
        groups[variables_key(subscription.request)].append(subscription)
    payloads = asyncio.run(_render_all(services, groups, state)) if groups else {}

    def end(subscription: StoredSubscription) -> bool:
        # What an expired token authorized ends: the client is told, the subscription forgotten.
        management.post(subscription.connection_id, complete_message(subscription.request.id))
        services.connections.drop_subscription(subscription)
        return True

    def post(subscription: StoredSubscription) -> bool:
        """False when the subscriber is gone (410); a message the poster could not deliver otherwise is dropped."""
        request = subscription.request
        if version is not None and not services.connections.claim_delivery(
            subscription.topic, subscription.connection_id, request.id, version
        ):
            return True  # this version, or a newer one, was sent already (the subscription's first push)
        payload = payloads[variables_key(request)]
        if management.post(subscription.connection_id, next_message(request.id, payload)):
            return True
        services.connections.close(subscription.connection_id)
        return False

    jobs: list[Callable[[], bool]] = [functools.partial(end, each) for each in expired]
    jobs += [functools.partial(post, each) for each in deliver]
    if not jobs:
        return 0
    # In parallel: a post waits on nobody but API Gateway, and on it for a bounded time.
    with ThreadPoolExecutor(min(POST_CONCURRENCY, len(jobs))) as pool:
        gone = sum(not kept for kept in pool.map(lambda job: job(), jobs))
    logger.info("pushed %s to %d subscribers (%d gone)", topic, len(deliver), gone)
    publish_metrics(
        [MetricPoint(BusinessMetric.PUSHES, len(deliver)), MetricPoint(BusinessMetric.CONNECTIONS_GONE, gone)]
    )
    return len(deliver)


async def _render_all(
    services: RealtimeServices,
    groups: dict[str, list[StoredSubscription]],
    state: dict[tuple[str, str | None], Order | Vehicle],
) -> dict[str, Any]:
    async def one(key: str, subscription: StoredSubscription) -> tuple[str, Any]:
        context = PushContext(
            request_id=f"push:{subscription.topic}",
            services=services.api,
            authorization=None,
            principal=subscription.principal,
            state=dict(state),
        )
        return key, await render(services.schema, subscription.request, context)

    rendered = await asyncio.gather(*(one(key, members[0]) for key, members in groups.items()))
    return dict(rendered)


@lambda_entry(logger)
def handler(event: dict[str, Any], context: Any) -> Any:
    return process_partial_response(event=event, record_handler=fan_out, processor=processor, context=context)
