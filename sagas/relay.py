"""The outbox relay: the table's stream delivers each new outbox record, and it is published on the events topic.

A failed publish is reported as a batch item failure, so the stream retries from that record: nothing is dropped,
and a record published twice (a crash after publishing) is harmless, since every consumer is idempotent.

The same handler resumes the orders waiting for a product's stock when it arrives (sagas/restock.py): a stream
serves two readers well, and the realtime fan-out is the other.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord

from domain.events import DomainEvent
from persistence.stream import OutboxEventAdded, StockChanged, decode
from runtime.logs import service_logger
from runtime.telemetry import event_metrics, lambda_entry, publish_metrics
from sagas.restock import resume_waiting_orders
from sagas.wiring import saga_services

logger = service_logger("outbox-relay")
processor = BatchProcessor(event_type=EventType.DynamoDBStreams)


def relay_event(event: OutboxEventAdded) -> None:
    saga_services().publisher.publish(event.event_type, event.body, event.order_id, event.trace_header)
    logger.info("published", extra={"event": event.event_type, "order_id": event.order_id})
    publish_metrics(event_metrics(DomainEvent.from_json(event.body)))


def on_table_change(record: DynamoDBRecord) -> None:
    # The stream carries every write to the table: only outbox events and stock changes are this handler's.
    change = decode(record.raw_event)
    if isinstance(change, OutboxEventAdded):
        relay_event(change)
    elif isinstance(change, StockChanged):
        resume_waiting_orders(change)


@lambda_entry(logger)
def handler(event: dict[str, Any], context: Any) -> Any:
    return process_partial_response(event=event, record_handler=on_table_change, processor=processor, context=context)
