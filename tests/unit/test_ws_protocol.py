"""graphql-transport-ws, judged message by message (graphql-ws's PROTOCOL.md)."""

from __future__ import annotations

import json

import pytest

from realtime.protocol import (
    MAX_MESSAGE_BYTES,
    MAX_SUBSCRIPTIONS,
    CloseCode,
    acknowledge,
    init_timed_out,
    next_message,
    offers_subprotocol,
    receive,
    refuse,
)
from runtime.connection_state import ConnectionState

SUBSCRIBE = {"id": "1", "type": "subscribe", "payload": {"query": "subscription { vehicleAvailabilityChanged { id } }"}}


def acked() -> ConnectionState:
    state = receive(ConnectionState(), json.dumps({"type": "connection_init"})).state
    return acknowledge(state).state


def test_connection_init_hands_its_payload_to_the_handler_and_ack_follows() -> None:
    outcome = receive(
        ConnectionState(), json.dumps({"type": "connection_init", "payload": {"Authorization": "Bearer t"}})
    )

    assert outcome.init_payload == {"Authorization": "Bearer t"}
    assert outcome.replies == ()
    assert acknowledge(outcome.state).replies == ({"type": "connection_ack"},)


def test_a_second_connection_init_is_4429() -> None:
    outcome = receive(acked(), json.dumps({"type": "connection_init"}))
    assert outcome.closing is not None
    assert outcome.closing.code is CloseCode.TOO_MANY_INITIALISATION_REQUESTS


def test_subscribe_before_the_ack_is_4401() -> None:
    outcome = receive(ConnectionState(), json.dumps(SUBSCRIBE))
    assert outcome.closing is not None
    assert outcome.closing.code is CloseCode.UNAUTHORIZED


def test_a_subscribe_is_handed_over_and_remembered() -> None:
    outcome = receive(acked(), json.dumps(SUBSCRIBE))

    assert outcome.closing is None
    assert outcome.subscribe is not None
    assert outcome.subscribe.id == "1"
    assert outcome.subscribe.query == SUBSCRIBE["payload"]["query"]  # type: ignore[index]
    assert outcome.state.subscriptions == {"1"}


@pytest.mark.parametrize(
    "payload",
    [
        # What the SPA's graphql-ws client sends for a trusted document: an empty query beside the hash.
        {"query": "", "extensions": {"persistedQuery": {"version": 1, "sha256Hash": "ab" * 32}}},
        {"documentId": "sha256:" + "ab" * 32},
    ],
    ids=["apq-hash", "documentId"],
)
def test_a_subscribe_may_name_a_trusted_document_instead_of_sending_its_text(payload: dict[str, object]) -> None:
    outcome = receive(acked(), json.dumps({"id": "1", "type": "subscribe", "payload": payload}))

    assert outcome.subscribe is not None
    assert (outcome.subscribe.query, outcome.subscribe.document_id) == ("", "sha256:" + "ab" * 32)


def test_a_duplicate_subscription_id_is_4409() -> None:
    state = receive(acked(), json.dumps(SUBSCRIBE)).state
    outcome = receive(state, json.dumps(SUBSCRIBE))
    assert outcome.closing is not None
    assert outcome.closing.code is CloseCode.SUBSCRIBER_ALREADY_EXISTS


def test_complete_forgets_the_subscription_and_an_unknown_id_is_harmless() -> None:
    state = receive(acked(), json.dumps(SUBSCRIBE)).state

    done = receive(state, json.dumps({"id": "1", "type": "complete"}))
    unknown = receive(done.state, json.dumps({"id": "nope", "type": "complete"}))

    assert done.complete == "1"
    assert done.state.subscriptions == frozenset()
    assert unknown.closing is None


def test_ping_is_answered_with_pong_carrying_its_payload() -> None:
    outcome = receive(ConnectionState(), json.dumps({"type": "ping", "payload": {"n": 1}}))
    assert outcome.replies == ({"type": "pong", "payload": {"n": 1}},)
    assert receive(ConnectionState(), json.dumps({"type": "pong"})).replies == ()


@pytest.mark.parametrize(
    "raw",
    [
        "not json",
        "[]",
        json.dumps({"type": "unknown"}),
        json.dumps({"no": "type"}),
        json.dumps({"type": "subscribe", "id": "", "payload": {"query": "{ a }"}}),
        json.dumps({"type": "subscribe", "id": "1"}),
        json.dumps({"type": "subscribe", "id": "1", "payload": {"query": 1}}),
        json.dumps({"type": "subscribe", "id": "1", "payload": {"query": "{ a }", "variables": []}}),
        json.dumps({"type": "subscribe", "id": "1", "payload": {"documentId": "sha256:nothex"}}),
        json.dumps({"type": "complete"}),
        json.dumps({"type": "connection_init", "payload": "token"}),
        "[" * 100_000,
    ],
)
def test_an_invalid_message_is_4400(raw: str) -> None:
    state = acked() if "subscribe" in raw else ConnectionState()
    outcome = receive(state, raw)
    assert outcome.closing is not None
    assert outcome.closing.code is CloseCode.BAD_REQUEST
    assert outcome.closing.message() == {
        "type": "connection_error",
        "payload": {"code": 4400, "reason": outcome.closing.reason},
    }


def test_an_oversized_message_is_4400() -> None:
    outcome = receive(acked(), json.dumps({"type": "ping", "payload": {"x": "y" * MAX_MESSAGE_BYTES}}))
    assert outcome.closing is not None
    assert outcome.closing.code is CloseCode.BAD_REQUEST


def test_subscriptions_per_connection_are_capped_with_an_error_not_a_close() -> None:
    state = acked()
    for n in range(MAX_SUBSCRIPTIONS):
        state = receive(state, json.dumps({**SUBSCRIBE, "id": str(n)})).state

    outcome = receive(state, json.dumps({**SUBSCRIBE, "id": "one-too-many"}))

    assert outcome.closing is None
    assert outcome.subscribe is None
    assert outcome.replies[0]["type"] == "error"
    assert outcome.replies[0]["id"] == "one-too-many"


def test_a_refused_token_is_4403_and_a_silent_connection_times_out_4408() -> None:
    state = receive(ConnectionState(), json.dumps({"type": "connection_init"})).state
    refused = refuse(state, "the token has expired")
    timed_out = init_timed_out(ConnectionState())

    assert refused.closing is not None
    assert refused.closing.code is CloseCode.FORBIDDEN
    assert timed_out is not None
    assert timed_out.closing is not None
    assert timed_out.closing.code is CloseCode.CONNECTION_INIT_TIMEOUT
    assert init_timed_out(state) is None


@pytest.mark.parametrize(
    ("header", "offered"),
    [("graphql-transport-ws", True), ("graphql-ws, graphql-transport-ws", True), ("graphql-ws", False), (None, False)],
)
def test_the_subprotocol_is_recognised_only_when_offered(header: str | None, offered: bool) -> None:
    assert offers_subprotocol(header) is offered


def test_a_next_carries_the_version_of_the_state_it_shows_in_its_extensions() -> None:
    rendered = {"data": {"orderStatusChanged": {"status": "PAID"}}, "extensions": {"cost": 3}}

    message = next_message("op-1", rendered, version=7)

    assert message == {
        "id": "op-1",
        "type": "next",
        "payload": {"data": {"orderStatusChanged": {"status": "PAID"}}, "extensions": {"cost": 3, "version": 7}},
    }
    assert rendered == {"data": {"orderStatusChanged": {"status": "PAID"}}, "extensions": {"cost": 3}}  # untouched
