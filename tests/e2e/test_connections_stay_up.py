"""Connections that stay up, on a local stack whose gateway enforces API Gateway's limits shortened: 8 s idle, 40 s in
all; the keep-alive sweep runs every tenth of the idle window (0.8 s), as on AWS (a minute of 10). (At 4 s, a sweep
slowed by a loaded machine missed the idle limit: the margin is two sweeps.)

A client here behaves as graphql-ws does: it answers the server's `ping` with `pong`, and sends nothing else.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from tests.e2e.conftest import LocalStack, running_local_stack
from tests.e2e.test_realtime import (
    SUBPROTOCOL,
    VEHICLE_CHANGES,
    closed_after_error,
    initialise,
    place_order,
    run,
    send,
    subscribe,
    ws_url,
)

pytestmark = pytest.mark.e2e

IDLE_SECONDS = 8
MAX_DURATION_SECONDS = 40
CUSTOMER = "customer2@example.com"


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    log_path = tmp_path_factory.mktemp("connections-stay-up") / "dev.log"
    with running_local_stack(
        log_path,
        WS_IDLE_TIMEOUT_SECONDS=str(IDLE_SECONDS),
        WS_MAX_DURATION_SECONDS=str(MAX_DURATION_SECONDS),
    ) as running:
        yield running


@contextlib.asynccontextmanager
async def silent_socket(stack: LocalStack) -> AsyncIterator[ClientConnection]:
    # No WebSocket ping frames either (the gateway does not count them, and the SPA's browser sends none).
    async with connect(
        ws_url(stack), subprotocols=[SUBPROTOCOL], open_timeout=10, close_timeout=2, ping_interval=None
    ) as ws:
        yield ws


Heard = tuple[list[dict[str, Any]], int | None]


async def listen(ws: ClientConnection, seconds: float, *, answer_pings: bool) -> Heard:
    """Every message for `seconds` (answering each `ping` as graphql-ws does, if told), and the close code if the
    server closed the connection meanwhile."""
    received: list[dict[str, Any]] = []
    deadline = time.monotonic() + seconds
    try:
        while (left := deadline - time.monotonic()) > 0:
            try:
                message: dict[str, Any] = json.loads(await asyncio.wait_for(ws.recv(), left))
            except TimeoutError:
                break
            received.append(message)
            if message["type"] == "ping" and answer_pings:
                pong = {"type": "pong"} | ({"payload": message["payload"]} if "payload" in message else {})
                await ws.send(json.dumps(pong))
    except ConnectionClosed as closed:
        return received, None if closed.rcvd is None else closed.rcvd.code
    return received, None


def test_a_subscribed_silent_client_is_kept_past_the_idle_limit_and_still_gets_its_pushes(stack: LocalStack) -> None:
    token = stack.token(CUSTOMER)

    async def scenario() -> tuple[list[dict[str, Any]], int | None, list[dict[str, Any]]]:
        async with silent_socket(stack) as ws:
            await initialise(ws, token)
            await subscribe(ws, "vehicles", VEHICLE_CHANGES)
            quiet, closed = await listen(ws, 3 * IDLE_SECONDS, answer_pings=True)
            if closed is not None:
                return quiet, closed, []
            _, vehicle_id = await asyncio.to_thread(place_order, stack, token)
            pushed, closed = await listen(ws, 5, answer_pings=True)
            return quiet, closed, [m for m in pushed if m["type"] == "next" and vehicle_id in json.dumps(m)]

    quiet, closed, pushes = run(scenario())

    assert closed is None, f"closed with {closed} after {quiet}"
    pings = [message for message in quiet if message["type"] == "ping"]
    assert len(pings) >= 2, quiet  # three idle windows, each kept by a ping and its pong
    assert all(message == {"type": "ping"} for message in pings), pings
    assert pushes, "the vehicle's change never arrived"
    assert pushes[0]["payload"]["data"]["vehicleAvailabilityChanged"]["status"] == "RESERVED"


def test_a_client_that_never_answers_is_closed_at_the_idle_limit_as_api_gateway_does(stack: LocalStack) -> None:
    token = stack.token(CUSTOMER)

    async def scenario() -> tuple[list[dict[str, Any]], int | None]:
        async with silent_socket(stack) as ws:
            await initialise(ws, token)
            await subscribe(ws, "vehicles", VEHICLE_CHANGES)
            return await listen(ws, 3 * IDLE_SECONDS, answer_pings=False)

    received, closed = run(scenario())

    assert closed == 1001, received  # "Going away", API Gateway's close at the idle timeout
    assert {"type": "ping"} in received


def test_a_client_near_the_connection_limit_is_asked_to_reconnect_then_closed_normally(stack: LocalStack) -> None:
    token = stack.token(CUSTOMER)

    async def scenario() -> tuple[list[dict[str, Any]], int | None, float]:
        async with silent_socket(stack) as ws:
            opened = time.monotonic()
            await initialise(ws, token)
            await subscribe(ws, "vehicles", VEHICLE_CHANGES)
            received, closed = await listen(ws, MAX_DURATION_SECONDS + 5, answer_pings=True)
            return received, closed, time.monotonic() - opened

    received, closed, lasted = run(scenario(), timeout=MAX_DURATION_SECONDS + 20)

    warnings = [m for m in received if m["type"] == "ping" and m.get("payload", {}).get("reason") == "reconnect"]
    assert warnings, received
    assert warnings[0]["payload"]["cause"] == "CONNECTION_LIMIT"
    # Closed by the server before the gateway's own limit, normally: graphql-ws reconnects on 1000 while subscribed.
    assert closed == 1000
    assert lasted < MAX_DURATION_SECONDS


def test_blocking_a_user_completes_their_subscriptions_and_closes_their_connection(stack: LocalStack) -> None:
    blocked = "customer@example.com"
    token = stack.token(blocked)
    admin = stack.token("admin@example.com")

    async def scenario() -> tuple[dict[str, Any], Heard]:
        async with silent_socket(stack) as ws:
            await initialise(ws, token)
            await subscribe(ws, "vehicles", VEHICLE_CHANGES)
            await listen(ws, 0.5, answer_pings=True)  # the subscription is stored
            body = await asyncio.to_thread(
                lambda: stack.graphql(
                    "mutation($email: String!) { blockUser(email: $email) { userId connectionsEnded } }",
                    {"email": blocked},
                    admin,
                ).json()
            )
            return body, await listen(ws, 5, answer_pings=True)

    async def reconnect_with_the_old_token() -> dict[str, Any]:
        async with silent_socket(stack) as ws:
            await send(ws, {"type": "connection_init", "payload": {"Authorization": f"Bearer {token}"}})
            return await closed_after_error(ws, 4403)

    body, (received, closed) = run(scenario())
    refusal = run(reconnect_with_the_old_token())

    assert "errors" not in body, body
    assert body["data"]["blockUser"]["connectionsEnded"] == 1
    assert [m for m in received if m["type"] != "ping"] == [{"id": "vehicles", "type": "complete"}]
    assert closed == 1000
    # The token they still hold (valid for up to an hour) no longer opens a connection; and no new one is issued.
    assert refusal["reason"] == "the token was revoked: sign in again"
    assert stack.cli("token", blocked, check=False).returncode != 0
