"""The realtime gateway on the local stack: how soon a status change reaches a subscribed client, and how long a
change takes to reach every subscriber of one topic.

As `make dev` runs it: moto in server mode in its own process, the local API Gateway WebSocket emulation serving
the same handlers, the table's stream polled (every 20 ms) into the fan-out. Clients are real WebSocket clients
speaking graphql-transport-ws, in this process.

- Push latency: a vehicle's status is written (RESERVED, then AVAILABLE again) through the same conditional update
  the saga uses; the time from just before the write to the subscribed client receiving `next`.
- Fan-out: N clients subscribed to `vehicleAvailabilityChanged`; the time from the write to the last of them
  receiving `next`, for N = 1, 100, 1000.

Run: `make bench` (or `.venv/bin/python -m bench.realtime`).
"""

from __future__ import annotations

import asyncio
import json
import multiprocessing
import os
import time
import uuid
from multiprocessing.connection import Connection
from typing import Any

import boto3
import websockets

from bench.support import emulated_platform, seed_vehicles, summary
from tests.conftest import free_port

LATENCY_SAMPLES = 30
FAN_OUT_SIZES = (1, 100, 1000)
SUBSCRIPTION = "subscription { vehicleAvailabilityChanged { id status } }"


async def subscriber(url: str, token: str) -> Any:
    protocol = websockets.Subprotocol("graphql-transport-ws")
    connection = await websockets.connect(url, subprotocols=[protocol], max_queue=None)
    await connection.send(json.dumps({"type": "connection_init", "payload": {"Authorization": f"Bearer {token}"}}))
    assert json.loads(await connection.recv())["type"] == "connection_ack"
    await connection.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": SUBSCRIPTION}}))
    return connection


async def next_for(connection: Any, vehicle_id: str, status: str) -> float:
    """When (perf_counter) this client received the `next` saying the vehicle is now `status`."""
    while True:
        message = json.loads(await connection.recv())
        if message.get("type") != "next":
            continue
        pushed = message["payload"]["data"]["vehicleAvailabilityChanged"]
        if pushed["id"] == vehicle_id and pushed["status"] == status:
            return time.perf_counter()


async def all_received(clients: list[Any], vehicle_id: str, status: str) -> list[float]:
    return list(await asyncio.gather(*(next_for(client, vehicle_id, status) for client in clients)))


def flip(vehicle_id: str, to_reserved: bool) -> None:
    """Reserve or release the vehicle, as the saga does (a conditional update of its status)."""
    from domain.order_status import VehicleStatus
    from domain.purchase import Change, VehicleClaim
    from sagas.wiring import saga_services

    store = saga_services().store
    if to_reserved:
        claim = VehicleClaim(vehicle_id, VehicleStatus.AVAILABLE, VehicleStatus.RESERVED, None, "bench-order")
    else:
        claim = VehicleClaim(vehicle_id, VehicleStatus.RESERVED, VehicleStatus.AVAILABLE, "bench-order", None)
    store.apply(Change(vehicle=claim))


async def measure(url: str, token: str, vehicles: list[str]) -> dict[str, float]:
    """Push latency: one subscriber, a vehicle reserved and released again and again."""
    loop = asyncio.get_running_loop()
    client = await subscriber(url, token)
    latencies = []
    for n in range(LATENCY_SAMPLES):
        vehicle_id = vehicles[n % len(vehicles)]
        started = time.perf_counter()
        await loop.run_in_executor(None, flip, vehicle_id, True)
        received = await asyncio.wait_for(next_for(client, vehicle_id, "RESERVED"), 30)
        latencies.append((received - started) * 1000)
        await loop.run_in_executor(None, flip, vehicle_id, False)
        await asyncio.wait_for(next_for(client, vehicle_id, "AVAILABLE"), 30)
    await client.close()

    return summary(latencies)


def clients_process(url: str, token: str, size: int, vehicle_id: str, pipe: Connection) -> None:
    """`size` subscribers in a process of their own, so that the clients' work does not slow the server's."""

    async def run() -> None:
        clients = []
        for start in range(0, size, 100):
            clients += await asyncio.gather(*(subscriber(url, token) for _ in range(start, min(size, start + 100))))
        pipe.send("subscribed")
        arrivals = await asyncio.wait_for(all_received(clients, vehicle_id, "RESERVED"), 120)
        # Wall-clock time, comparable across the two processes of one machine.
        pipe.send(time.time() - (time.perf_counter() - max(arrivals)))
        await asyncio.get_running_loop().run_in_executor(None, pipe.recv)
        await asyncio.gather(*(client.close() for client in clients))

    asyncio.run(run())


def stored_subscriptions() -> int:
    from realtime.handlers import realtime_services

    return sum(1 for _ in realtime_services().connections.subscribers("vehicles"))


def wait_until(condition: Any, timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("the subscriptions were not stored in time")
        time.sleep(0.2)


def fan_out(url: str, token: str, vehicle_id: str, sources: Any) -> dict[int, tuple[float, float]]:
    """For each size: (ms until the last client received `next`, ms the fan-out handler worked)."""
    from local_stack.platform import handler_seconds

    figures = {}
    spawn = multiprocessing.get_context("spawn")
    for size in FAN_OUT_SIZES:
        parent, child = spawn.Pipe()
        process = spawn.Process(target=clients_process, args=(url, token, size, vehicle_id, child))
        process.start()
        assert parent.recv() == "subscribed"
        wait_until(lambda size=size: stored_subscriptions() == size)
        busy = handler_seconds(sources)
        started = time.time()
        flip(vehicle_id, True)
        last = parent.recv()
        # The handler's time is counted when its invocation returns, just after its last post.
        wait_until(lambda busy=busy: handler_seconds(sources) > busy, timeout=30)
        figures[size] = ((last - started) * 1000, (handler_seconds(sources) - busy) * 1000)
        parent.send("close")
        process.join(120)
        flip(vehicle_id, False)
        wait_until(lambda: stored_subscriptions() == 0)
    return figures


def main() -> None:
    with emulated_platform(free_port()) as stack:
        ws_port = free_port()
        stack.environment["WS_MANAGEMENT_URL"] = f"http://127.0.0.1:{ws_port}"
        os.environ.update(stack.environment)
        from local_stack.platform import realtime_event_sources
        from local_stack.users import LocalUserPool, ensure_user
        from local_stack.ws_gateway import GatewayServer, WebSocketGateway
        from realtime import handlers
        from runtime.settings import get_settings

        get_settings.cache_clear()
        email = f"bench-{uuid.uuid4().hex[:8]}@example.com"
        pool = LocalUserPool(stack.endpoint, "us-east-1")
        ensure_user(boto3.client("cognito-idp"), stack.provisioned.user_pool_id, email, "customer")
        token = pool.token(email)
        vehicles = seed_vehicles(stack.environment, 5)
        gateway = WebSocketGateway(handlers.connect, handlers.default, handlers.disconnect)
        # The gateway outlives the fan-out: pushes in flight still find it.
        url = f"ws://127.0.0.1:{ws_port}"
        with GatewayServer(gateway, port=ws_port), realtime_event_sources(stack.provisioned) as sources:
            latency = asyncio.run(measure(url, token, vehicles))
            served = fan_out(url, token, vehicles[-1], sources)

    print("Realtime gateway on the local stack (moto server, local API Gateway WebSocket, stream every 20 ms)")
    print(
        f"  push latency, status write -> client receives next: median {latency['median_ms']:.1f} ms, "
        f"p95 {latency['p95_ms']:.1f} ms ({latency['runs']} changes)"
    )
    for size, (elapsed, working) in served.items():
        print(
            f"  fan-out to {size:>4} subscribers of one topic: last client served {elapsed:7.1f} ms after the write"
            f" (fan-out handler at work {working:7.1f} ms)"
        )
    print("  (the clients run in a process of their own; gateway, fan-out and emulator client share this one)")


if __name__ == "__main__":
    main()
