"""A saga consumer takes its services: handed a graph over in-memory stores, the Lambda handler runs its step on
it, with no locator to patch and no AWS behind it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError

from domain.events import EventType
from local_stack.lambda_events import lambda_context
from pix.model import Pix
from runtime.settings import Settings
from sagas.consumers import STEPS, consumer
from sagas.wiring import SagaServices
from tests.unit.saga_fakes import Saga


class RecordingPublisher:
    def __init__(self) -> None:
        self.published: list[tuple[str, str, str]] = []

    def publish(self, event_type: str, body: str, order_id: str, trace_header: str | None = None) -> None:
        self.published.append((event_type, body, order_id))


def sqs_batch(*bodies: str) -> dict[str, Any]:
    """An SQS event as Lambda delivers it, one record per body (only what the batch processor reads)."""
    return {
        "Records": [
            {"messageId": f"message-{index}", "body": body, "eventSource": "aws:sqs", "attributes": {}}
            for index, body in enumerate(bodies)
        ]
    }


class NoPixReceived:
    def list_pix(self, inicio: datetime, fim: datetime) -> tuple[Pix, ...]:
        del inicio, fim
        return ()


def in_memory_graph(saga: Saga) -> SagaServices:
    return SagaServices(
        settings=Settings.from_env({"CURSOR_SECRET": "unit"}),
        store=saga.store,
        purchase=saga.purchase,
        notifications=saga.notifications,
        publisher=RecordingPublisher(),
        received_pix=NoPixReceived(),
    )


def test_a_consumer_runs_its_step_on_the_graph_it_is_given() -> None:
    # Given an order placed in memory, and the validate-client handler built over that graph
    saga = Saga.build()
    saga.place()
    placed = saga.take(EventType.ORDER_PLACED)
    graph = in_memory_graph(saga)
    handler = consumer("validate-client", STEPS["validate-client"], lambda: graph)

    # When Lambda hands it the OrderPlaced
    response = handler(sqs_batch(placed.to_json()), lambda_context("validate-client"))

    # Then the step ran on that graph: the client validated, nothing failed
    assert response == {"batchItemFailures": []}
    assert EventType.CLIENT_VALIDATED in [event.event_type for event in saga.written()]


def test_a_consumer_refuses_an_event_its_queue_does_not_subscribe_to() -> None:
    saga = Saga.build()
    saga.place()
    placed = saga.take(EventType.ORDER_PLACED)
    graph = in_memory_graph(saga)
    handler = consumer("notify", STEPS["notify"], lambda: graph)

    # Every record of the batch failed: Powertools fails the invocation, and SQS will dead-letter the message
    with pytest.raises(BatchProcessingError, match="notify does not handle OrderPlaced"):
        handler(sqs_batch(placed.to_json()), lambda_context("validate-client"))
    assert saga.written_types() == ["OrderPlaced"]
