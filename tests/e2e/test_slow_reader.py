"""A client that never reads must not hold back anyone else's pushes (issue 11, section 3).

The attack, as it was found: a raw WebSocket client with a 4 KB receive buffer subscribes 20 times to
`vehicleAvailabilityChanged`, sends a burst of the largest pings, and never reads again. The gateway's pongs, then
the pushes to it, had nowhere to go; the post to it waited under the connection's lock with no timeout, the fan-out
waited on that post (boto's 60 s, and its retries), and the next vehicle change reached everyone else only once the
attacker left, 155 s later. Now the gateway drops the client whose send buffer overflows, and no post waits on it.

`pytest tests/e2e/test_slow_reader.py -s` prints the other subscriber's latencies before and after the attack.
"""

from __future__ import annotations

import asyncio
import json
import math
import time
from collections.abc import Callable

import pytest
from websockets.asyncio.client import ClientConnection

from tests.e2e.conftest import LocalStack
from tests.e2e.test_realtime import (
    SUBPROTOCOL,
    VEHICLE_CHANGES,
    graphql_data,
    initialise,
    ping_pong,
    receive,
    run,
    socket,
    subscribe,
    ws_url,
)
from tests.integration.test_ws_gateway import PING_FLOOD, SilentClient

pytestmark = pytest.mark.e2e

CREATE = "mutation($input: CreateVehicleInput!) { createVehicle(input: $input) { id } }"
# The bound on a push to a subscriber while the attack goes on: the usual is tens of milliseconds, the attack made
# it 155 s. A push later than LATE is not waited for.
USUAL = 2.0
LATE = 10.0
CHANGES = 3
# How long the attacker's client waits for the stack to answer it (sign-in, subscriptions) on a loaded machine.
ANSWER = 30.0


def create_vehicle(stack: LocalStack, admin: str) -> str:
    """A vehicle change: a new vehicle for sale is pushed to every `vehicleAvailabilityChanged` subscriber."""
    vehicle = {"brand": "Lenta", "model": "Leitora", "year": 2025, "color": "Cinza", "price": "989000.00"}
    vehicle_id: str = graphql_data(stack, CREATE, {"input": vehicle}, admin)["createVehicle"]["id"]
    return vehicle_id


async def served_after(stack: LocalStack, admin: str, watcher: ClientConnection) -> float:
    """Change a vehicle; the seconds until `watcher` is pushed that change (the mutation included), inf past LATE."""
    started = time.monotonic()
    vehicle_id = await asyncio.to_thread(create_vehicle, stack, admin)
    while (left := started + LATE - time.monotonic()) > 0:
        try:
            message = await receive(watcher, timeout=left)
        except TimeoutError:
            break
        # Other tests' orders move vehicles too: their changes are pushed in between.
        if message["type"] == "next" and message["payload"]["data"]["vehicleAvailabilityChanged"]["id"] == vehicle_id:
            return time.monotonic() - started
    return math.inf


def attacker(stack: LocalStack, token: str) -> SilentClient:
    """The attacker's client, signed in and subscribed 20 times (a connection's most) to every vehicle change."""
    client = SilentClient(ws_url(stack), receive_buffer=4096, subprotocols=(SUBPROTOCOL,), timeout=ANSWER)
    client.send(json.dumps({"type": "connection_init", "payload": {"Authorization": f"Bearer {token}"}}))
    assert json.loads(client.recv(ANSWER)) == {"type": "connection_ack"}
    for number in range(20):
        client.send(json.dumps({"id": f"s{number}", "type": "subscribe", "payload": {"query": VEHICLE_CHANGES}}))
    # `$default` takes a connection's messages one at a time, in order: at the pong, the 20 subscriptions are stored.
    client.send(json.dumps({"type": "ping"}))
    while (message := json.loads(client.recv(ANSWER)))["type"] != "pong":
        assert message["type"] == "next", message  # other tests' vehicle changes, already pushed to it
    return client


def test_a_client_that_never_reads_does_not_hold_back_the_other_subscribers(
    local_stack: LocalStack, token: Callable[[str], str]
) -> None:
    admin, customer = token("admin@example.com"), token("customer@example.com")
    log_from = len(local_stack.output())

    async def scenario() -> tuple[list[float], int, list[float], bool]:
        async with socket(local_stack) as watcher:
            await initialise(watcher, customer)
            await subscribe(watcher, "vehicles", VEHICLE_CHANGES)
            await ping_pong(watcher)
            before = [await served_after(local_stack, admin, watcher) for _ in range(CHANGES)]
            slow = await asyncio.to_thread(attacker, local_stack, customer)
            try:
                # The burst of pings, and never a read from here on.
                pings = await asyncio.to_thread(slow.flood_pings, PING_FLOOD)
                during = [await served_after(local_stack, admin, watcher) for _ in range(CHANGES)]
                closed = await asyncio.to_thread(slow.closed, LATE)
            finally:
                slow.close()
            return before, pings, during, closed

    before, pings, during, closed = run(scenario(), timeout=120)
    log = local_stack.output()[log_from:]
    print(
        f"another subscriber served in {', '.join(f'{seconds * 1000:.0f} ms' for seconds in before)} before the"
        f" attack; {', '.join(f'{seconds * 1000:.0f} ms' for seconds in during)} after a client that never reads"
        f" sent {pings} pings of 125 bytes"
    )

    assert max(before) < USUAL, before  # the stack serves pushes as usual
    assert max(during) < USUAL, during
    assert pings < PING_FLOOD, "the gateway answered every ping of a client that reads nothing"
    assert closed, "the client that never reads is still connected"
    assert "$disconnect 1006 Connection closed abnormally: not reading: over 1048576 bytes" in log
