"""Batch order files (seed 002): two Lambda handlers between the intake bucket and the purchase saga.

- `files`, on the intake-files queue, which the bucket's notifications feed (`.json` keys): reads each dropped file,
  writes its report at `<key>.report.json`, queues the accepted orders on the FIFO queue and publishes each
  rejected order on the order-errors topic (domain.batch_orders.BatchIntake).
- `orders`, on the intake-orders FIFO queue: places each accepted order into the saga (BatchOrders).

Both report partial batch failures: one bad file, or one customer's failing order, holds back nothing else.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import unquote_plus

from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    SqsFifoPartialProcessor,
    process_partial_response,
)
from aws_lambda_powertools.utilities.data_classes.s3_event import S3Event
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from domain.batch_orders import is_report
from domain.intake import IntakeOrder
from runtime.logs import service_logger
from runtime.telemetry import BusinessMetric, MetricPoint, lambda_entry, publish_metrics
from sagas.intake_adapters import intake_services

logger = service_logger("intake")
_files = BatchProcessor(event_type=EventType.SQS)
# A failed order holds back the later orders of its customer only (its message group), not the whole batch.
_orders = SqsFifoPartialProcessor(skip_group_on_error=True)


def take_file(record: SQSRecord) -> None:
    notification = json.loads(record.body)
    if notification.get("Event") == "s3:TestEvent":
        return  # S3 sends one when the bucket's notification is configured
    for entry in S3Event(notification).records:
        s3_object = entry.s3.get_object
        # Keys arrive URL-encoded. Reports are written next to the files and match the same ".json" filter.
        key = unquote_plus(s3_object.key)
        if is_report(key):
            continue
        logger.thread_safe_append_keys(file=key)
        try:
            services = intake_services()
            dropped = services.files.read(
                entry.s3.bucket.name, key, version_id=s3_object.version_id, sequencer=s3_object.get("sequencer")
            )
            if dropped is None:
                logger.warning("the file was deleted before it could be read")
                continue
            report = services.intake.take(dropped)
            logger.info(
                "file read",
                extra={"accepted": len(report.accepted), "rejected": len(report.rejected), "error": report.file_error},
            )
            publish_metrics(
                [
                    MetricPoint(BusinessMetric.INTAKE_ORDERS_ACCEPTED, len(report.accepted)),
                    MetricPoint(BusinessMetric.INTAKE_ORDERS_REJECTED, len(report.rejected)),
                ]
            )
        finally:
            logger.thread_safe_clear_keys()


def place_order(record: SQSRecord) -> None:
    order = IntakeOrder.from_json(record.body)
    logger.thread_safe_append_keys(order_id=order.order_id)
    try:
        placed = intake_services().orders.place(order)
        logger.info("placed", extra={"client_id": placed.client_id, "status": placed.status.value})
    finally:
        logger.thread_safe_clear_keys()


@lambda_entry(logger)
def files(event: dict[str, Any], context: Any) -> Any:
    return process_partial_response(event=event, record_handler=take_file, processor=_files, context=context)


@lambda_entry(logger)
def orders(event: dict[str, Any], context: Any) -> Any:
    return process_partial_response(event=event, record_handler=place_order, processor=_orders, context=context)


# Queue name -> handler: what the CDK app wires with event source mappings, and the local stack with pollers.
HANDLERS = {"intake-files": files, "intake-orders": orders}
