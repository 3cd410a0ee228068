"""The delivery function: posts one delivery batch (realtime/batches.py) to its subscribers, and the posting both it
and the fan-out's direct path share.

A batch holds a few hundred subscribers, so one invocation's posts are bounded whatever the topic's audience; many
batches of one change are posted side by side by as many invocations as Lambda scales the queue's consumer to.
Each subscriber of an order first claims the order's version (so none is sent a version twice, nor an older one
after a newer: a batch retried after a failure posts again only to those who did not get it); each `next` carries
the version in its extensions, so a client drops what it already has. A post that fails loses that subscriber this
message only (the poster logs it), never the batch, whose retry would post to everyone in it again.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from realtime.batches import DeliveryBatch, Recipient
from realtime.handlers import POST_CONCURRENCY, RealtimeServices, management_api, realtime_services
from realtime.protocol import next_message
from runtime.logs import service_logger
from runtime.telemetry import BusinessMetric, MetricPoint, lambda_entry, publish_metrics

logger = service_logger("realtime-delivery")
processor = BatchProcessor(event_type=EventType.SQS)


@dataclass(frozen=True, slots=True)
class Posted:
    """What became of a batch: subscribers sent the `next`, and those found gone (and forgotten)."""

    delivered: int
    gone: int


def deliver(services: RealtimeServices, batch: DeliveryBatch) -> Posted:
    """Post the batch's `next` to each of its recipients, in parallel on one pool of connections."""
    management = management_api(services.settings.realtime.management_url)
    connections = services.connections

    def post(recipient: Recipient) -> bool | None:
        """True when sent, None when this version (or a newer) was sent already, False when the client is gone."""
        if batch.claim and not connections.claim_delivery(
            batch.topic, recipient.connection_id, recipient.operation_id, batch.version
        ):
            return None
        message = next_message(recipient.operation_id, batch.renderings[recipient.rendering], version=batch.version)
        if management.post(recipient.connection_id, message):
            return True
        connections.close(recipient.connection_id)
        return False

    if not batch.recipients:
        return Posted(0, 0)
    # In parallel: a post waits on nobody but API Gateway, and on it for a bounded time (see `ManagementApi`).
    with ThreadPoolExecutor(min(POST_CONCURRENCY, len(batch.recipients))) as pool:
        outcomes = list(pool.map(post, batch.recipients))
    return Posted(delivered=sum(outcome is True for outcome in outcomes), gone=outcomes.count(False))


def report(topic: str, posted: Posted) -> None:
    logger.info("pushed %s to %d subscribers (%d gone)", topic, posted.delivered, posted.gone)
    publish_metrics(
        [
            MetricPoint(BusinessMetric.PUSHES, posted.delivered),
            MetricPoint(BusinessMetric.CONNECTIONS_GONE, posted.gone),
        ]
    )


def post_batch(record: SQSRecord) -> None:
    batch = DeliveryBatch.from_json(record.body)
    report(batch.topic, deliver(realtime_services(), batch))


@lambda_entry(logger)
def handler(event: dict[str, Any], context: Any) -> Any:
    """SQS: each record is one delivery batch. A batch that fails (the table unreachable) comes back: an order's
    subscribers whose claim went through are not posted to again; a vehicle's may be, and drop the copy by its
    version."""
    return process_partial_response(event=event, record_handler=post_batch, processor=processor, context=context)
