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
import os
import time
import uuid
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


async def measure(url: str, token: str, vehicles: list[str]) -> tuple[dict[str, float], dict[int, float]]:
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

    fan_out: dict[int, float] = {}
    for size in FAN_OUT_SIZES:
        clients = []
        for start in range(0, size, 100):
            clients += await asyncio.gather(*(subscriber(url, token) for _ in range(start, min(size, start + 100))))
        await asyncio.sleep(1)  # every subscription stored before the change
        vehicle_id = vehicles[-1]
        started = time.perf_counter()
        await loop.run_in_executor(None, flip, vehicle_id, True)
        arrivals = await asyncio.wait_for(all_received(clients, vehicle_id, "RESERVED"), 120)
        fan_out[size] = (max(arrivals) - started) * 1000
        await loop.run_in_executor(None, flip, vehicle_id, False)
        await asyncio.gather(*(client.close() for client in clients))
        await asyncio.sleep(1)  # their $disconnect handled before the next round
    return summary(latencies), fan_out


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
        with GatewayServer(gateway, port=ws_port), realtime_event_sources(stack.provisioned):
            latency, fan_out = asyncio.run(measure(f"ws://127.0.0.1:{ws_port}", token, vehicles))

    print("Realtime gateway on the local stack (moto server, local API Gateway WebSocket, stream every 20 ms)")
    print(
        f"  push latency, status write -> client receives next: median {latency['median_ms']:.1f} ms, "
        f"p95 {latency['p95_ms']:.1f} ms ({latency['runs']} changes)"
    )
    for size, elapsed in fan_out.items():
        print(f"  fan-out to {size:>4} subscribers of one topic: last one served {elapsed:7.1f} ms after the write")


if __name__ == "__main__":
    main()
