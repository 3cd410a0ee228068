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

from persistence.models import OutboxItem
from runtime.logs import service_logger
from sagas.restock import resume_waiting_orders
from sagas.wiring import saga_services

logger = service_logger("outbox-relay")
processor = BatchProcessor(event_type=EventType.DynamoDBStreams)


def relay_record(record: DynamoDBRecord) -> None:
    if record.event_name is None or record.event_name.name != "INSERT" or record.dynamodb is None:
        return
    image = record.dynamodb.new_image
    if not str(image.get("PK", "")).startswith(OutboxItem.PREFIX):
        return  # the stream carries every write to the table; only outbox records are events
    saga_services().publisher.publish(str(image["event_type"]), str(image["body"]), str(image["order_id"]))
    logger.info("published", extra={"event": image["event_type"], "order_id": image["order_id"]})


def on_table_change(record: DynamoDBRecord) -> None:
    relay_record(record)
    resume_waiting_orders(record)


def handler(event: dict[str, Any], context: Any) -> Any:
    return process_partial_response(event=event, record_handler=on_table_change, processor=processor, context=context)
