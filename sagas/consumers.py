"""One Lambda handler per saga step, each fed by its own SQS queue (subscribed to the events topic with a filter
on the event type). Partial batch failures are reported, so one bad message never sends its batch back."""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from domain.events import DomainEvent, InvalidEvent
from domain.events import EventType as DomainEventType
from runtime.logs import service_logger
from sagas.wiring import SagaServices, saga_services

Step = Callable[[SagaServices, DomainEvent, str], None]


class InjectedFault(RuntimeError):
    """A crash injected by test configuration (FAULT_INJECTION_RATE), before or after a step's commit."""


def _maybe_crash(services: SagaServices, where: str) -> None:
    rate = services.settings.saga.fault_rate
    if rate and random.random() < rate:  # noqa: S311 - fault injection, not cryptography
        raise InjectedFault(f"injected fault {where} the step")


def consumer(name: str, accepts: frozenset[DomainEventType], step: Step) -> Callable[[dict[str, Any], Any], Any]:
    """A Lambda handler for the queue `name`: each record is a domain event of one of the `accepts` types."""
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
            services = saga_services()
            _maybe_crash(services, "before")
            step(services, event, name)
            _maybe_crash(services, "after")
            logger.info("handled")
        finally:
            logger.thread_safe_clear_keys()

    def handler(event: dict[str, Any], context: Any) -> Any:
        return process_partial_response(event=event, record_handler=handle_record, processor=processor, context=context)

    handler.__name__ = name.replace("-", "_")
    return handler


validate_client = consumer(
    "validate-client",
    frozenset({DomainEventType.ORDER_PLACED}),
    lambda services, event, name: services.purchase.validate_client(event, name),
)
reserve_inventory = consumer(
    "reserve-inventory",
    frozenset({DomainEventType.CLIENT_VALIDATED}),
    lambda services, event, name: services.purchase.reserve_inventory(event, name),
)
request_payment = consumer(
    "request-payment",
    frozenset({DomainEventType.INVENTORY_RESERVED}),
    lambda services, event, name: services.purchase.request_payment(event, name),
)
complete_sale = consumer(
    "complete-sale",
    frozenset({DomainEventType.PAYMENT_CONFIRMED}),
    lambda services, event, name: services.purchase.complete_sale(event, name),
)
compensate = consumer(
    "compensate",
    frozenset(
        {
            DomainEventType.ORDER_REJECTED,
            DomainEventType.RESERVATION_FAILED,
            DomainEventType.PAYMENT_FAILED,
            DomainEventType.PAYMENT_EXPIRED,
            DomainEventType.CANCELLATION_REQUESTED,
        }
    ),
    lambda services, event, name: services.purchase.compensate(event, name),
)
notify = consumer(
    "notify",
    frozenset({DomainEventType.SALE_COMPLETED, DomainEventType.ORDER_CANCELLED, DomainEventType.REFUND_OWED}),
    lambda services, event, _: services.notifications.notify(event),
)

# Queue name -> handler: what the CDK app wires with event source mappings, and the local stack with pollers.
HANDLERS = {
    "validate-client": validate_client,
    "reserve-inventory": reserve_inventory,
    "request-payment": request_payment,
    "complete-sale": complete_sale,
    "compensate": compensate,
    "notify": notify,
}
