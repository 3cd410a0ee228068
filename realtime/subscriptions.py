"""Subscriptions against the API's own schema: checked when they start, executed for each change pushed.

A subscription is not a long-lived resolver here (no Lambda lives that long): it is stored, and each change is run
through Strawberry's `subscribe` with the new state in the context, so the subscriber gets exactly the selection
set it asked for, rendered by the same types as the HTTP API.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import strawberry
from graphql import (
    FieldNode,
    OperationDefinitionNode,
    OperationType,
    get_operation_ast,
)
from graphql.execution.values import get_argument_values, get_variable_values

from graphql_api.context import PushContext
from graphql_api.limits import DocumentPolicy, DocumentRefused
from runtime.connection_state import SubscribeRequest

# Root field -> the topic its subscribers are stored under (and the argument naming it).
TOPICS = {"orderStatusChanged": "order", "invoiceStatusChanged": "invoice", "vehicleAvailabilityChanged": "vehicles"}


@dataclass(frozen=True, slots=True)
class Plan:
    """What a valid subscription listens to."""

    field: str
    topic: str
    # The order it is about, for the ones about an order (checked against the subscriber at both ends).
    order_id: str | None


class Refused(Exception):
    """The subscription cannot start: `errors` go back to the client in an `error` message."""

    def __init__(self, errors: list[dict[str, Any]]) -> None:
        super().__init__(errors[0]["message"] if errors else "refused")
        self.errors = errors


def _error(message: str, code: str) -> dict[str, Any]:
    return {"message": message, "extensions": {"code": code}}


def plan(schema: strawberry.Schema, request: SubscribeRequest, policy: DocumentPolicy) -> Plan:
    """Check the document as the HTTP API does (`policy`: tokens, limits, every rule) and find what it subscribes
    to; Refused when it cannot run. Checked here, when it starts, not at each push: a document too costly to
    render would otherwise be accepted and slow every change's fan-out."""
    try:
        document = policy.check(schema._schema, request.query)
    except DocumentRefused as refused:
        raise Refused([_error(error.message, "VALIDATION") for error in refused.errors]) from refused
    operation = get_operation_ast(document, request.operation_name)
    if not isinstance(operation, OperationDefinitionNode):
        raise Refused([_error("say which operation to run: operationName", "VALIDATION")])
    if operation.operation is not OperationType.SUBSCRIPTION:
        raise Refused(
            [_error("queries and mutations are served over HTTP; this socket serves subscriptions", "VALIDATION")]
        )
    node = operation.selection_set.selections[0]
    assert isinstance(node, FieldNode)  # a valid subscription has exactly one root field
    coerced = get_variable_values(schema._schema, operation.variable_definitions or (), dict(request.variables or {}))
    if isinstance(coerced, list):
        raise Refused([_error(error.message, "VALIDATION") for error in coerced])
    subscription_type = schema._schema.subscription_type
    assert subscription_type is not None
    arguments = get_argument_values(subscription_type.fields[node.name.value], node, coerced)
    field = node.name.value
    order_id = arguments.get("orderId")
    topic = TOPICS[field] if order_id is None else f"{TOPICS[field]}:{order_id}"
    return Plan(field=field, topic=topic, order_id=None if order_id is None else str(order_id))


def variables_key(request: SubscribeRequest) -> str:
    """Subscribers asking the same thing get the same rendering: this says when they do."""
    return json.dumps([request.query, request.variables, request.operation_name], sort_keys=True, default=str)


async def render(schema: strawberry.Schema, request: SubscribeRequest, context: PushContext) -> Mapping[str, Any]:
    """The `next` payload for one subscriber: its selection set over the state being pushed."""
    results = await schema.subscribe(
        request.query,
        variable_values=dict(request.variables or {}),
        context_value=context,
        operation_name=request.operation_name,
    )
    try:
        result = await results.__anext__()
    finally:
        await results.aclose()
    payload: dict[str, Any] = {"data": result.data}
    if result.errors:
        payload["errors"] = [error.formatted for error in result.errors]
    return payload
