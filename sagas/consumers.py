"""One Lambda handler per saga step, each fed by its own SQS queue (subscribed to the events topic with a filter
on the event type). Partial batch failures are reported, so one bad message never sends its batch back."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from domain.events import DomainEvent, InvalidEvent
from platform_spec.routes import STEP_SUBSCRIPTIONS
from runtime.logs import service_logger
from runtime.telemetry import lambda_entry, publish_metrics, step_latency, traced
from sagas.wiring import SagaServices, saga_services

# Picks the step, from this process's services: it takes the event and the consumer's name.
Step = Callable[[SagaServices], Callable[[DomainEvent, str], None]]


def consumer(
    name: str, step: Step, services: Callable[[], SagaServices] = saga_services
) -> Callable[[dict[str, Any], Any], Any]:
    """A Lambda handler for the queue `name`: each record is a domain event of a type that queue subscribes to,
    handed to `step` over `services` (this process's graph by default)."""
    accepts = STEP_SUBSCRIPTIONS[name]
    logger = service_logger(f"saga.{name}")
    processor = BatchProcessor(event_type=EventType.SQS)

    def handle_record(record: SQSRecord) -> None:
        event = DomainEvent.from_json(record.body)
        logger.thread_safe_append_keys(
            order_id=event.order_id, correlation_id=event.correlation_id, event=event.event_type.value
        )
        try:
            if event.event_type not in accepts:
                # A message this queue's filter should never let through: fail it so it ends in the DLQ, seen.
                raise InvalidEvent(f"{name} does not handle {event.event_type}")
            with traced(name, order_id=event.order_id, event_type=event.event_type.value):
                step(services())(event, name)
            # From the event's commit to this step's: the queue's wait and the step's work, what a customer waits.
            waited = (datetime.now(UTC) - event.occurred_at).total_seconds() * 1000
            publish_metrics([step_latency(name, waited)])
            logger.info("handled")
        finally:
            logger.thread_safe_clear_keys()

    @lambda_entry(logger)
    def handler(event: dict[str, Any], context: Any) -> Any:
        return process_partial_response(event=event, record_handler=handle_record, processor=processor, context=context)

    handler.__name__ = name.replace("-", "_")
    return handler


# Queue name -> the step its consumer runs.
STEPS: Mapping[str, Step] = MappingProxyType(
    {
        "validate-client": lambda services: services.purchase.validate_client,
        "reserve-inventory": lambda services: services.purchase.reserve_inventory,
        "request-payment": lambda services: services.purchase.request_payment,
        "complete-sale": lambda services: services.purchase.complete_sale,
        "compensate": lambda services: services.purchase.compensate,
        "refund": lambda services: services.purchase.execute_refund,
        "notify": lambda services: services.notifications.notify,
    }
)
# Queue name -> handler: what the CDK app wires with event source mappings, and the local stack with pollers.
HANDLERS = {name: consumer(name, step) for name, step in STEPS.items()}
# Each handler under its Lambda name (sagas.consumers.<queue with underscores>), as the CDK app names them.
validate_client = HANDLERS["validate-client"]
reserve_inventory = HANDLERS["reserve-inventory"]
request_payment = HANDLERS["request-payment"]
complete_sale = HANDLERS["complete-sale"]
compensate = HANDLERS["compensate"]
refund = HANDLERS["refund"]
notify = HANDLERS["notify"]
