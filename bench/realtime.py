"""The realtime gateway on the local stack: how soon a status change reaches a subscribed client, how long a change
takes to reach every subscriber of one topic, what one post costs, and what that means on AWS.

As `make dev` runs it: moto in server mode in its own process, the local API Gateway WebSocket emulation in its
own process serving the same handlers, the table's stream polled (every 20 ms) into the fan-out, and the delivery
queue consumed by four pollers (Lambda scales that consumer out). Clients are real WebSocket clients speaking
graphql-transport-ws, in a process of their own.

- Push latency: a vehicle's status is written (RESERVED, then AVAILABLE again) through the same conditional update
  the saga uses; the time from just before the write to the subscribed client receiving `next`.
- Fan-out: N clients subscribed to `vehicleAvailabilityChanged`; the time from the write to the last of them
  receiving `next`, for N = 1, 100, 1000, 5000 (above FANOUT_BATCH_SIZE, 250, through the delivery queue).
- Per-post CPU: the CPU time (of the posting thread) one post to @connections costs, with the SDK's client and
  with the lean one the functions use, against a local server that answers 200 at once.
- A model of AWS, fed by that per-post cost: the time to serve 50,000 and 500,000 subscribers of one topic, and the
  cost per million pushes, beside AppSync's published prices.

Run: `make bench` (or `.venv/bin/python -m bench.realtime`).
"""

from __future__ import annotations

import asyncio
import json
import math
import multiprocessing
import os
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import boto3
import websockets

from bench.support import emulated_platform, seed_vehicles, summary
from tests.conftest import free_port

LATENCY_SAMPLES = 30
FAN_OUT_SIZES = (1, 100, 1000, 5000)
POST_COST_SAMPLES = 2000
SUBSCRIPTION = "subscription { vehicleAvailabilityChanged { id status } }"


async def subscriber(url: str, token: str) -> Any:
    protocol = websockets.Subprotocol("graphql-transport-ws")
    # Thousands of clients connect: the gateway runs each one's $connect, as API Gateway would, and queues the rest.
    connection = await websockets.connect(url, subprotocols=[protocol], max_queue=None, open_timeout=120)
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
        arrivals = await asyncio.wait_for(all_received(clients, vehicle_id, "RESERVED"), 300)
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


def cpu_seconds(pid: int | None) -> float:
    """The CPU time (user and system) a process of this machine has used so far (Linux's /proc)."""
    if pid is None:
        return 0.0
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def fan_out(
    url: str, token: str, vehicle_id: str, sources: Any, *, sizes: tuple[int, ...], gateway_pid: int | None
) -> dict[int, tuple[float, ...]]:
    """For each size: (ms until the last client received `next`, ms the fan-out and delivery handlers worked, CPU
    ms this process spent meanwhile: the functions' side, their DynamoDB and SQS calls and their posts; CPU ms of
    the gateway's process and of the clients' process meanwhile)."""
    from local_stack.platform import handler_seconds

    figures = {}
    spawn = multiprocessing.get_context("spawn")
    for size in sizes:
        parent, child = spawn.Pipe()
        process = spawn.Process(target=clients_process, args=(url, token, size, vehicle_id, child))
        process.start()
        assert parent.recv() == "subscribed"
        wait_until(lambda size=size: stored_subscriptions() == size)
        busy = handler_seconds(sources)
        cpu = time.process_time()
        gateway_cpu, clients_cpu = cpu_seconds(gateway_pid), cpu_seconds(process.pid)
        started = time.time()
        flip(vehicle_id, True)
        last = parent.recv()
        cpu = time.process_time() - cpu
        gateway_cpu = cpu_seconds(gateway_pid) - gateway_cpu
        clients_cpu = cpu_seconds(process.pid) - clients_cpu
        # The handlers' time is counted when their invocations return, just after their last posts (the delivery
        # invocations of a large topic end within moments of each other).
        wait_until(lambda busy=busy: handler_seconds(sources) > busy, timeout=30)
        time.sleep(0.5)
        working = handler_seconds(sources) - busy
        figures[size] = tuple(seconds * 1000 for seconds in (last - started, working, cpu, gateway_cpu, clients_cpu))
        print(f"  (measured {size} subscribers: {figures[size][0]:.0f} ms)", flush=True)
        parent.send("close")
        process.join(300)
        flip(vehicle_id, False)
        wait_until(lambda: stored_subscriptions() == 0)
    return figures


class _Accepting(BaseHTTPRequestHandler):
    """@connections answering every post at once: what is left to measure is the poster's own work."""

    protocol_version = "HTTP/1.1"

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("content-length", 0)))
        self.send_response(200)
        self.send_header("content-length", "0")
        self.end_headers()

    def log_message(self, *_: Any) -> None:
        pass


def post_cost() -> dict[str, float]:
    """CPU µs of the posting thread per post, median of alternating rounds: the SDK's client, then the lean one."""
    import statistics

    import boto3
    from botocore.config import Config

    from realtime.handlers import ManagementApi
    from realtime.protocol import next_message

    server = ThreadingHTTPServer(("127.0.0.1", 0), _Accepting)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    endpoint = f"http://127.0.0.1:{server.server_address[1]}"
    sdk_client = boto3.client(
        "apigatewaymanagementapi", endpoint_url=endpoint, config=Config(retries={"total_max_attempts": 1})
    )
    posters = {"sdk": ManagementApi(endpoint, client=sdk_client), "lean": ManagementApi(endpoint)}
    message = next_message("1", {"data": {"vehicleAvailabilityChanged": {"id": "V1", "status": "RESERVED"}}}, version=3)
    rounds: dict[str, list[float]] = {name: [] for name in posters}
    try:
        for _ in range(5):
            for name, poster in posters.items():
                started = time.thread_time()
                for _ in range(POST_COST_SAMPLES // 5):
                    poster.post("AAAAAAAAAAAAAAA=", message)
                rounds[name].append((time.thread_time() - started) / (POST_COST_SAMPLES // 5) * 1e6)
    finally:
        server.shutdown()
        server.server_close()
    return {name: statistics.median(values) for name, values in rounds.items()}


# -- A model of AWS ------------------------------------------------------------------------------------------------
# Prices: us-east-1, on demand, late 2026. API Gateway WebSocket: 1.00 USD per million messages (32 KB each), 0.25
# per million connection-minutes. Lambda arm64: 0.0000133334 USD per GB-second, 0.20 per million requests. SQS
# standard: 0.40 per million requests (64 KB each). DynamoDB on demand: 0.125 per million read units.
# AppSync real-time: 2.00 per million updates, 0.08 per million connection-minutes.
APIGW_PER_MESSAGE = 1.00e-6
APIGW_PER_CONNECTION_MINUTE = 0.25e-6
LAMBDA_PER_GB_SECOND = 0.0000133334
LAMBDA_PER_REQUEST = 0.20e-6
SQS_PER_REQUEST = 0.40e-6
DYNAMODB_PER_READ_UNIT = 0.125e-6
APPSYNC_PER_UPDATE = 2.00e-6
APPSYNC_PER_CONNECTION_MINUTE = 0.08e-6
# What the model assumes of AWS (each named so it can be argued with):
POST_ROUND_TRIP_MS = 15.0  # a post to @connections from a Lambda in the same region, answered
LAMBDA_VCPU_MEMORY_GB = 1.769  # the delivery function's memory: one full vCPU
DELIVERY_CONCURRENCY = (100, 1000)  # concurrent delivery invocations: a reserved slice, the default account limit
APIGW_ACCOUNT_RPS = 10_000  # API Gateway's default account-level throttle (per region), posts included
SUBSCRIPTION_ITEM_BYTES = 300  # a stored subscription (keys, document, principal): ~3,400 per 1 MB Query page
QUERY_PAGE_MS = 30.0  # one 1 MB Query page
SEND_BATCH_MS = 15.0  # one SendMessageBatch of ten delivery batches
INVOCATION_OVERHEAD_MS = 20.0  # SQS -> Lambda hand-off and the invocation around the posts


def aws_model(post_cpu_us: float, batch_size: int, parallel_posts: int) -> list[str]:
    """Time to serve one change to N subscribers, and the cost per million pushes, from the per-post CPU."""
    post_cpu_ms = post_cpu_us / 1000
    # A delivery invocation: its posts are bound by its one vCPU or by the round trips of `parallel_posts` at a time.
    batch_ms = max(batch_size * post_cpu_ms, batch_size / parallel_posts * POST_ROUND_TRIP_MS) + INVOCATION_OVERHEAD_MS
    per_page = 1_000_000 // SUBSCRIPTION_ITEM_BYTES
    lines = [
        f"  model of AWS (per-post CPU {post_cpu_us:.0f} µs as measured here, {batch_size} subscribers per delivery "
        f"invocation, {parallel_posts} posts in flight each, {POST_ROUND_TRIP_MS:.0f} ms a post's round trip):",
        f"    one delivery invocation: {batch_ms:.0f} ms for {batch_size} posts",
    ]
    for audience in (50_000, 500_000):
        batches = math.ceil(audience / batch_size)
        # The stream handler reads the subscribers page by page and sends the batches as it goes.
        cutting_s = (math.ceil(audience / per_page) * QUERY_PAGE_MS + math.ceil(batches / 10) * SEND_BATCH_MS) / 1000
        for concurrency in DELIVERY_CONCURRENCY:
            delivering_s = math.ceil(batches / concurrency) * batch_ms / 1000
            throttled_s = audience / APIGW_ACCOUNT_RPS
            total = max(cutting_s, delivering_s, throttled_s) + batch_ms / 1000
            lines.append(
                f"    {audience:>7,} subscribers, {concurrency:>4} concurrent deliveries: about {total:5.1f} s "
                f"(cutting {cutting_s:.1f} s, posting {delivering_s:.1f} s, API Gateway's {APIGW_ACCOUNT_RPS:,}/s "
                f"account throttle {throttled_s:.1f} s)"
            )
    million = 1_000_000
    invocations = million / batch_size
    lambda_cost = invocations * (batch_ms / 1000 * LAMBDA_VCPU_MEMORY_GB * LAMBDA_PER_GB_SECOND + LAMBDA_PER_REQUEST)
    # Each batch: a tenth of a SendMessageBatch (billed per 64 KB, a batch's size), a receive and a delete.
    sqs_cost = invocations * 3 * SQS_PER_REQUEST
    # Eventually consistent Query: half a read unit per 4 KB of subscriptions read.
    dynamodb_cost = million * SUBSCRIPTION_ITEM_BYTES / 4096 / 2 * DYNAMODB_PER_READ_UNIT
    apigw_cost = million * APIGW_PER_MESSAGE
    total_cost = apigw_cost + lambda_cost + sqs_cost + dynamodb_cost
    lines += [
        f"    per million pushes: {total_cost:.2f} USD (API Gateway messages {apigw_cost:.2f}, Lambda "
        f"{lambda_cost:.3f}, SQS {sqs_cost:.4f}, DynamoDB reads {dynamodb_cost:.4f}); an order's pushes add a "
        "claim each (0.625 USD per million writes)",
        f"    AppSync: {APPSYNC_PER_UPDATE * million:.2f} USD per million real-time updates; connection-minutes "
        f"{APIGW_PER_CONNECTION_MINUTE * million:.2f} USD per million here, "
        f"{APPSYNC_PER_CONNECTION_MINUTE * million:.2f} on AppSync",
    ]
    return lines


def main() -> None:
    """`python -m bench.realtime [SIZE ...]`: the fan-out sizes to measure (1 100 1000 5000 by default)."""
    sizes = tuple(int(size) for size in sys.argv[1:]) or FAN_OUT_SIZES
    with emulated_platform(free_port()) as stack:
        ws_port = free_port()
        stack.environment["WS_MANAGEMENT_URL"] = f"http://127.0.0.1:{ws_port}"
        os.environ.update(stack.environment)
        from local_stack.platform import DELIVERY_POLLERS, realtime_event_sources
        from local_stack.users import LocalUserPool, ensure_user
        from local_stack.ws_gateway import GatewayProcess
        from realtime.handlers import POST_CONCURRENCY
        from runtime.settings import get_settings

        get_settings.cache_clear()
        batch_size = get_settings().realtime.fanout_batch_size
        email = f"bench-{uuid.uuid4().hex[:8]}@example.com"
        pool = LocalUserPool(stack.endpoint, "us-east-1")
        ensure_user(boto3.client("cognito-idp"), stack.provisioned.user_pool_id, email, "customer")
        token = pool.token(email)
        vehicles = seed_vehicles(stack.environment, 5)
        costs = post_cost()
        # The gateway outlives the fan-out: pushes in flight still find it.
        # Subscribing 5000 clients takes minutes on the emulator: no client may reach the idle limit meanwhile.
        with (
            GatewayProcess("127.0.0.1", ws_port, idle_timeout=7200, log_level="ERROR") as gateway,
            realtime_event_sources(stack.provisioned) as sources,
        ):
            latency = asyncio.run(measure(gateway.websocket_url, token, vehicles))
            served = fan_out(gateway.websocket_url, token, vehicles[-1], sources, sizes=sizes, gateway_pid=gateway.pid)

    print("Realtime gateway on the local stack (moto server, local API Gateway WebSocket, stream every 20 ms)")
    print(
        f"  push latency, status write -> client receives next: median {latency['median_ms']:.1f} ms, "
        f"p95 {latency['p95_ms']:.1f} ms ({latency['runs']} changes)"
    )
    for size, (elapsed, working, cpu, gateway_cpu, clients_cpu) in served.items():
        path = "direct" if size <= batch_size else f"{math.ceil(size / batch_size)} delivery batches"
        print(
            f"  fan-out to {size:>4} subscribers of one topic: last client served {elapsed:7.1f} ms after the write"
            f" (handlers at work {working:7.1f} ms; {path})\n"
            f"    CPU meanwhile, µs per subscriber: functions' process {cpu / size * 1000:5.0f}, gateway's "
            f"{gateway_cpu / size * 1000:5.0f}, clients' {clients_cpu / size * 1000:5.0f}"
        )
    print(
        f"  per-post CPU (posting thread, local server answering at once): SDK client {costs['sdk']:.0f} µs, "
        f"lean client {costs['lean']:.0f} µs ({costs['sdk'] / costs['lean']:.1f}x less)"
    )
    print(
        f"  (clients in a process of their own, the gateway in another; fan-out, {DELIVERY_POLLERS} delivery pollers "
        "and the emulator's client share this one)"
    )
    for line in aws_model(costs["lean"], batch_size, POST_CONCURRENCY):
        print(line)


if __name__ == "__main__":
    main()
