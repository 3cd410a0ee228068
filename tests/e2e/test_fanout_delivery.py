"""A large topic on the local stack, as `make dev` runs it: with the batch size lowered by the environment, a change
to a vehicle watched by more subscribers than one batch goes through the delivery queue (several pollers, as Lambda
scales that consumer), and every subscriber gets exactly one `next`, carrying the vehicle's version."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import pytest
from websockets.asyncio.client import ClientConnection, connect

from tests.e2e.conftest import LocalStack, running_local_stack
from tests.e2e.test_realtime import (
    SUBPROTOCOL,
    VEHICLE_CHANGES,
    initialise,
    ping_pong,
    place_order,
    run,
    subscribe,
    ws_url,
)

pytestmark = pytest.mark.e2e

BATCH_SIZE = 4
SUBSCRIBERS = 22  # six batches: five of four, one of two
# After the push, how long each client keeps listening for a second copy.
QUIET_SECONDS = 2.0


@pytest.fixture(scope="module")
def small_batches(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    log_path = tmp_path_factory.mktemp("fanout-delivery") / "dev.log"
    with running_local_stack(log_path, FANOUT_BATCH_SIZE=str(BATCH_SIZE)) as stack:
        yield stack


def test_a_topic_larger_than_a_batch_reaches_every_subscriber_once_through_the_delivery_queue(
    small_batches: LocalStack,
) -> None:
    stack = small_batches
    customer, buyer = stack.token("customer@example.com"), stack.token("customer2@example.com")

    async def watcher(ready: asyncio.Semaphore, sockets: list[ClientConnection]) -> None:
        async with ready:
            ws = await connect(ws_url(stack), subprotocols=[SUBPROTOCOL], open_timeout=30)
            sockets.append(ws)
            await initialise(ws, customer)
            await subscribe(ws, "vehicles", VEHICLE_CHANGES)
            assert await ping_pong(ws) == []

    async def heard(ws: ClientConnection, vehicle_id: str) -> list[dict[str, Any]]:
        """Every `next` about the vehicle, until the socket has been quiet for a while after the first."""
        nexts: list[dict[str, Any]] = []
        timeout = 30.0
        while True:
            try:
                message = json.loads(await asyncio.wait_for(ws.recv(), timeout))
            except TimeoutError:
                return nexts
            assert (message["type"], message["id"]) == ("next", "vehicles"), message
            if message["payload"]["data"]["vehicleAvailabilityChanged"]["id"] == vehicle_id:
                nexts.append(message["payload"])
                timeout = QUIET_SECONDS

    async def scenario() -> tuple[str, list[list[dict[str, Any]]]]:
        sockets: list[ClientConnection] = []
        try:
            ready = asyncio.Semaphore(10)
            await asyncio.gather(*(watcher(ready, sockets) for _ in range(SUBSCRIBERS)))
            _, vehicle_id = await asyncio.to_thread(place_order, stack, buyer)
            return vehicle_id, list(await asyncio.gather(*(heard(ws, vehicle_id) for ws in sockets)))
        finally:
            await asyncio.gather(*(ws.close() for ws in sockets), return_exceptions=True)

    vehicle_id, received = run(scenario(), timeout=120)

    assert len(received) == SUBSCRIBERS
    assert [len(nexts) for nexts in received] == [1] * SUBSCRIBERS, "each subscriber gets the change exactly once"
    payloads = [nexts[0] for nexts in received]
    assert {json.dumps(payload["data"], sort_keys=True) for payload in payloads} == {
        json.dumps({"vehicleAvailabilityChanged": {"id": vehicle_id, "status": "RESERVED"}}, sort_keys=True)
    }
    versions = {payload["extensions"]["version"] for payload in payloads}
    assert len(versions) == 1
    assert isinstance(next(iter(versions)), int)
    assert next(iter(versions)) > 0
    batches = -(-SUBSCRIBERS // BATCH_SIZE)
    assert f"sent vehicles to {SUBSCRIBERS} subscribers in {batches} delivery batches" in stack.output()
