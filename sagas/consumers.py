"""One Lambda handler per saga step, each fed by its own SQS queue (subscribed to the events topic with a filter
on the event type). Partial batch failures are reported, so one bad message never sends its batch back."""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from domain.events import DomainEvent, InvalidEvent
from platform_spec.routes import STEP_SUBSCRIPTIONS
from runtime.logs import service_logger
from sagas.wiring import SagaServices, saga_services

# Picks the step, from this process's services: it takes the event and the consumer's name.
Step = Callable[[SagaServices], Callable[[DomainEvent, str], None]]


class InjectedFault(RuntimeError):
    """A crash injected by test configuration (FAULT_INJECTION_RATE), before or after a step's commit."""


def _injected_fault(services: SagaServices) -> str | None:
    """Where this delivery crashes ("before" or "after" the step's commit), at the configured rate; or None."""
    rate = services.settings.saga.fault_rate
    if rate and random.random() < rate:  # noqa: S311 - fault injection, not cryptography
        return random.choice(("before", "after"))  # noqa: S311
    return None


def consumer(name: str, step: Step) -> Callable[[dict[str, Any], Any], Any]:
    """A Lambda handler for the queue `name`: each record is a domain event of a type that queue subscribes to."""
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
            services = saga_services()
            fault = _injected_fault(services)
            if fault == "before":
                raise InjectedFault("injected fault before the step")
            step(services)(event, name)
            if fault == "after":
                raise InjectedFault("injected fault after the step's commit")
            logger.info("handled")
        finally:
            logger.thread_safe_clear_keys()

    def handler(event: dict[str, Any], context: Any) -> Any:
        return process_partial_response(event=event, record_handler=handle_record, processor=processor, context=context)

    handler.__name__ = name.replace("-", "_")
    return handler


validate_client = consumer("validate-client", lambda services: services.purchase.validate_client)
reserve_inventory = consumer("reserve-inventory", lambda services: services.purchase.reserve_inventory)
request_payment = consumer("request-payment", lambda services: services.purchase.request_payment)
complete_sale = consumer("complete-sale", lambda services: services.purchase.complete_sale)
compensate = consumer("compensate", lambda services: services.purchase.compensate)
notify = consumer("notify", lambda services: services.notifications.notify)

# Queue name -> handler: what the CDK app wires with event source mappings, and the local stack with pollers.
HANDLERS = {
    "validate-client": validate_client,
    "reserve-inventory": reserve_inventory,
    "request-payment": request_payment,
    "complete-sale": complete_sale,
    "compensate": compensate,
    "notify": notify,
}
