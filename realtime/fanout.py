"""The fan-out: every order, invoice and vehicle status change, pushed to the subscribers of its topic.

Fed by the table's stream (a second consumer beside the outbox relay): a stream record is the exact state the change
wrote, and a stream delivers one item's changes in the order they happened, so each subscriber sees an order's
statuses in order. Subscribers of a topic are one Query, read page by page; subscribers asking the same document
share one rendering, made when the first of them is met. A topic with at most one batch of subscribers (an order's
owner and the staff) is posted to from here; a larger one (thousands watching `vehicles`) is cut into delivery
batches, sent to the delivery queue and posted by as many invocations of realtime/delivery.py side by side. A
subscriber whose token expired gets `complete` and is dropped; one whose connection is gone (410) is forgotten.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from itertools import chain, islice
from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord

from domain.order_status import InvoiceStatus
from domain.orders import Order
from domain.vehicles import Vehicle
from graphql_api.context import PushContext
from persistence.connections import StoredSubscription
from persistence.stream import OrderChanged, VehicleChanged, decode
from realtime.batches import DeliveryBatch, Recipient, batch_of, pack
from realtime.delivery import deliver, report
from realtime.handlers import POST_CONCURRENCY, RealtimeServices, management_api, realtime_services, sqs_client
from realtime.protocol import complete_message
from realtime.subscriptions import render, variables_key
from runtime.logs import service_logger
from runtime.telemetry import lambda_entry

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
            push(services, f"order:{order.id}", state, owner=order.client_id, version=order.version, claim=True)
        if invoice_changed:
            state = {("invoice", order.id): order}
            push(services, f"invoice:{order.id}", state, owner=order.client_id, version=order.version, claim=True)
    elif isinstance(change, VehicleChanged) and (change.before is None or change.after.status != change.before.status):
        vehicle = change.after
        # No claim: one subscription hears every vehicle, so there is no one version to claim; the version in each
        # `next` lets a client keep the newest state of each vehicle.
        state = {("vehicle", None): vehicle}
        push(realtime_services(), "vehicles", state, owner=None, version=vehicle.version, claim=False)


class Renderings:
    """The push's payloads: each distinct document rendered once, when its first subscriber is met, under a short
    name the batches carry (its encoded size kept for packing them)."""

    def __init__(self, services: RealtimeServices, state: Mapping[tuple[str, str | None], Order | Vehicle]) -> None:
        self._services = services
        self._state = state
        self._names: dict[str, str] = {}
        self.payloads: dict[str, Mapping[str, Any]] = {}
        self.sizes: dict[str, int] = {}

    def name_for(self, subscription: StoredSubscription) -> str:
        key = variables_key(subscription.request)
        name = self._names.get(key)
        if name is None:
            name = self._names[key] = str(len(self._names))
            self.payloads[name] = asyncio.run(self._render(subscription))
            self.sizes[name] = len(json.dumps(self.payloads[name]).encode())
        return name

    async def _render(self, subscription: StoredSubscription) -> Mapping[str, Any]:
        context = PushContext(
            request_id=f"push:{subscription.topic}",
            services=self._services.api,
            authorization=None,
            principal=subscription.principal,
            state=dict(self._state),
        )
        return await render(self._services.schema, subscription.request, context)


def push(
    services: RealtimeServices,
    topic: str,
    state: dict[tuple[str, str | None], Order | Vehicle],
    *,
    owner: str | None,
    version: int,
    claim: bool,
) -> int:
    """Push `state` to every subscriber of `topic`, directly or through the delivery queue; the number of
    subscribers it was for."""
    now = time.time()
    renderings = Renderings(services, state)
    expired: list[StoredSubscription] = []

    def audience() -> Iterator[Recipient]:
        for subscription in services.connections.subscribers(topic):
            principal = subscription.principal
            if principal.expires_at is not None and principal.expires_at < now:
                expired.append(subscription)
            elif owner is None or owner == principal.subject or principal.is_admin:
                name = renderings.name_for(subscription)
                yield Recipient(subscription.connection_id, subscription.request.id, name)

    realtime = services.settings.realtime
    slices = pack(audience(), renderings.sizes, most=realtime.fanout_batch_size)
    first, second = next(slices, []), next(slices, None)
    if second is None or not realtime.delivery_queue_url:
        # One invocation's worth (or no queue to spread it over): posted from here, with no extra hop.
        recipients = [*first, *(second or []), *chain.from_iterable(slices)]
        # The expired are told while the others are posted to: neither waits for the other.
        with ThreadPoolExecutor(1) as side:
            ended = side.submit(_end, services, expired)
            if recipients:
                report(topic, deliver(services, batch_of(topic, version, claim, renderings.payloads, recipients)))
            ended.result()
        return len(recipients)
    pieces = (batch_of(topic, version, claim, renderings.payloads, piece) for piece in chain([first, second], slices))
    count, sent = _enqueue(realtime.delivery_queue_url, pieces)
    logger.info("sent %s to %d subscribers in %d delivery batches", topic, count, sent)
    _end(services, expired)
    return count


def _enqueue(queue_url: str, pieces: Iterator[DeliveryBatch]) -> tuple[int, int]:
    """Send the batches to the delivery queue as they are cut, up to ten to a request; (recipients, batches) sent.

    A request SQS partly refuses fails the stream record, whose retry sends every batch again: an order's
    subscribers are then held back by their claims, a vehicle's get a copy that its version tells them to drop."""
    # Imported here: only a large topic's push needs them, and the fan-out's cold start does not.
    from sagas.intake_adapters import MAX_BATCH_ENTRIES, DeliveryFailed, batches

    recipients = sent = 0
    while group := list(islice(pieces, MAX_BATCH_ENTRIES)):
        entries = [{"Id": str(index), "MessageBody": piece.to_json()} for index, piece in enumerate(group)]
        for request in batches(entries, lambda entry: len(entry["MessageBody"].encode())):
            response = sqs_client().send_message_batch(QueueUrl=queue_url, Entries=request)
            if response.get("Failed"):
                raise DeliveryFailed(f"SQS refused {len(response['Failed'])} delivery batch(es): {response['Failed']}")
        recipients += sum(len(piece.recipients) for piece in group)
        sent += len(group)
    return recipients, sent


def _end(services: RealtimeServices, expired: list[StoredSubscription]) -> None:
    """What an expired token authorized ends: the client is told, the subscription forgotten."""
    if not expired:
        return
    management = management_api(services.settings.realtime.management_url)

    def end(subscription: StoredSubscription) -> None:
        management.post(subscription.connection_id, complete_message(subscription.request.id))
        services.connections.drop_subscription(subscription)

    with ThreadPoolExecutor(min(POST_CONCURRENCY, len(expired))) as pool:
        list(pool.map(end, expired))


@lambda_entry(logger)
def handler(event: dict[str, Any], context: Any) -> Any:
    return process_partial_response(event=event, record_handler=fan_out, processor=processor, context=context)
