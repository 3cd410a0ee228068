"""The graphql-transport-ws protocol (graphql-ws's PROTOCOL.md), as a pure state machine over one connection.

API Gateway WebSocket delivers each client message to a Lambda, which keeps no memory between messages: the
connection's state is stored, read, and handed in here with the next message. `receive` decides what to answer,
what to remember and whether the connection must end; the handler does the I/O.

API Gateway cannot close a connection with an application close code (4400, 4401...). So a protocol violation is
answered with a `connection_error` message carrying the code and reason the protocol prescribes, and then the
connection is deleted: a client sees the same reason, in a message instead of a close frame.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from enum import IntEnum
from typing import Any

from domain.errors import ValidationFailed
from graphql_api.trusted_documents import requested_id
from runtime import untrusted_json
from runtime.connection_state import ConnectionState, SubscribeRequest

SUBPROTOCOL = "graphql-transport-ws"
MAX_MESSAGE_BYTES = 64 * 1024
MAX_SUBSCRIPTIONS = 20
INIT_TIMEOUT_SECONDS = 10


class CloseCode(IntEnum):
    """The protocol's close codes, sent as `connection_error` messages (API Gateway cannot send them)."""

    BAD_REQUEST = 4400
    UNAUTHORIZED = 4401
    FORBIDDEN = 4403
    CONNECTION_INIT_TIMEOUT = 4408
    SUBSCRIBER_ALREADY_EXISTS = 4409
    TOO_MANY_INITIALISATION_REQUESTS = 4429


@dataclass(frozen=True, slots=True)
class Closing:
    code: CloseCode
    reason: str

    def message(self) -> dict[str, Any]:
        return {"type": "connection_error", "payload": {"code": int(self.code), "reason": self.reason}}


@dataclass(frozen=True, slots=True)
class Outcome:
    """What to do with one message: send `replies`, keep `state`, and maybe start, stop or close."""

    state: ConnectionState
    replies: tuple[dict[str, Any], ...] = ()
    # connection_init's payload, for the handler to authenticate before it acknowledges.
    init_payload: Mapping[str, Any] | None = None
    subscribe: SubscribeRequest | None = None
    complete: str | None = None
    closing: Closing | None = None


def _close(state: ConnectionState, code: CloseCode, reason: str) -> Outcome:
    return Outcome(state=state, closing=Closing(code, reason))


def _parse(raw: str) -> dict[str, Any] | None:
    try:
        message = untrusted_json.loads(raw)
    except untrusted_json.UnacceptableJson:
        return None
    return message if isinstance(message, dict) and isinstance(message.get("type"), str) else None


def receive(state: ConnectionState, raw: str) -> Outcome:  # noqa: PLR0911 - one answer per rule of the protocol
    """Judge one client message against the connection's state."""
    if len(raw.encode()) > MAX_MESSAGE_BYTES:
        return _close(state, CloseCode.BAD_REQUEST, "Message too large")
    message = _parse(raw)
    if message is None:
        return _close(state, CloseCode.BAD_REQUEST, "Invalid message received")
    kind = message["type"]
    if kind == "connection_init":
        if state.init_received:
            return _close(state, CloseCode.TOO_MANY_INITIALISATION_REQUESTS, "Too many initialisation requests")
        payload = message.get("payload")
        if payload is not None and not isinstance(payload, dict):
            return _close(state, CloseCode.BAD_REQUEST, "Invalid message received")
        return Outcome(state=replace(state, init_received=True), init_payload=payload or {})
    if kind == "ping":
        pong: dict[str, Any] = {"type": "pong"}
        if isinstance(message.get("payload"), dict):
            pong["payload"] = message["payload"]
        return Outcome(state=state, replies=(pong,))
    if kind == "pong":
        return Outcome(state=state)
    if kind == "subscribe":
        return _subscribe(state, message)
    if kind == "complete":
        operation_id = message.get("id")
        if not isinstance(operation_id, str) or not operation_id:
            return _close(state, CloseCode.BAD_REQUEST, "Invalid message received")
        remaining = state.subscriptions - {operation_id}
        return Outcome(state=replace(state, subscriptions=remaining), complete=operation_id)
    return _close(state, CloseCode.BAD_REQUEST, "Invalid message received")


def _subscribe(state: ConnectionState, message: dict[str, Any]) -> Outcome:  # noqa: PLR0911 - one answer per rule
    if not state.acknowledged:
        return _close(state, CloseCode.UNAUTHORIZED, "Unauthorized")
    operation_id, payload = message.get("id"), message.get("payload")
    if not isinstance(operation_id, str) or not operation_id or not isinstance(payload, dict):
        return _close(state, CloseCode.BAD_REQUEST, "Invalid message received")
    query, variables, operation_name = payload.get("query"), payload.get("variables"), payload.get("operationName")
    try:
        document_id = requested_id(payload)
    except ValidationFailed:
        return _close(state, CloseCode.BAD_REQUEST, "Invalid message received")
    if document_id is not None and query is None:
        query = ""
    if (
        not isinstance(query, str)
        or (variables is not None and not isinstance(variables, dict))
        or (operation_name is not None and not isinstance(operation_name, str))
    ):
        return _close(state, CloseCode.BAD_REQUEST, "Invalid message received")
    if operation_id in state.subscriptions:
        return _close(state, CloseCode.SUBSCRIBER_ALREADY_EXISTS, f"Subscriber for {operation_id} already exists")
    if len(state.subscriptions) >= MAX_SUBSCRIPTIONS:
        error = {
            "message": f"at most {MAX_SUBSCRIPTIONS} subscriptions per connection",
            "extensions": {"code": "RATE_LIMITED"},
        }
        return Outcome(state=state, replies=({"id": operation_id, "type": "error", "payload": [error]},))
    request = SubscribeRequest(operation_id, query, variables, operation_name, document_id)
    return Outcome(state=replace(state, subscriptions=state.subscriptions | {operation_id}), subscribe=request)


def acknowledge(state: ConnectionState) -> Outcome:
    """The handler authenticated connection_init's payload: the connection is open for subscriptions."""
    return Outcome(state=replace(state, acknowledged=True), replies=({"type": "connection_ack"},))


def refuse(state: ConnectionState, reason: str) -> Outcome:
    """connection_init's payload did not authenticate: 4403 Forbidden, then the connection ends."""
    return _close(state, CloseCode.FORBIDDEN, reason or "Forbidden")


def init_timed_out(state: ConnectionState) -> Outcome | None:
    """A connection that has not sent connection_init in time is closed (4408); None if it did."""
    if state.init_received:
        return None
    return _close(state, CloseCode.CONNECTION_INIT_TIMEOUT, "Connection initialisation timeout")


def next_message(operation_id: str, result: Mapping[str, Any], *, version: int) -> dict[str, Any]:
    """A pushed state, with the version of the entity it shows in the payload's `extensions`: pushes may arrive more
    than once or out of order (a redelivered batch, the first push racing the fan-out), and a client keeps, per
    entity, only the highest version it has seen."""
    payload = dict(result)
    payload["extensions"] = {**payload.get("extensions", {}), "version": version}
    return {"id": operation_id, "type": "next", "payload": payload}


def error_message(operation_id: str, errors: list[dict[str, Any]]) -> dict[str, Any]:
    return {"id": operation_id, "type": "error", "payload": errors}


def complete_message(operation_id: str) -> dict[str, Any]:
    return {"id": operation_id, "type": "complete"}


def offers_subprotocol(header: str | None) -> bool:
    """Whether the client's Sec-WebSocket-Protocol header lists graphql-transport-ws."""
    return header is not None and SUBPROTOCOL in {part.strip() for part in header.split(",")}
