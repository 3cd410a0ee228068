"""The delivery function against the emulator: a topic larger than one batch goes through the real delivery queue,
and each batch is posted, signed, to a local @connections that records what it is sent.

The subscriptions are made by the WebSocket handlers themselves (connect, connection_init, subscribe); the fan-out
cuts the push into batches on the emulator's SQS queue; the delivery handler gets them as Lambda's event source
would (local_stack's SqsEventSource); the claims and the forgetting of a gone connection are on the emulator's
DynamoDB.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import replace
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote

import boto3
import pytest
from pynamodb.connection import Connection

from graphql_api.schema import build_schema
from graphql_api.wiring import Services
from local_stack.event_sources import SqsEventSource
from local_stack.lambda_events import lambda_context
from local_stack.resources import Provisioned
from persistence.connections import DynamoConnectionStore
from platform_spec.messaging import WS_DELIVERY_QUEUE
from realtime import delivery, fanout, handlers
from realtime.batches import DeliveryBatch
from realtime.handlers import RealtimeServices, management_api
from runtime.settings import RealtimeSettings, Settings
from tests.integration.test_realtime_protocol import write_order

VEHICLES = "subscription { vehicleAvailabilityChanged { id status } }"
ORDER = "subscription($orderId: ID!) { orderStatusChanged(orderId: $orderId) { id status } }"
CUSTOMER = "customer@example.com"
ADMIN = "admin@example.com"
BATCH_SIZE = 3


class Connections:
    """API Gateway's @connections, locally: records each post by connection; `gone` ones answer 410."""

    def __init__(self) -> None:
        self.sent: dict[str, list[dict[str, Any]]] = defaultdict(list)
        self.gone: set[str] = set()
        self.signed = True
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                recorder.signed &= self.headers.get("authorization", "").startswith("AWS4-HMAC-SHA256 Credential=")
                connection_id = unquote(self.path.rsplit("/", 1)[-1])
                if connection_id in recorder.gone:
                    self._answer(410, "GoneException")
                    return
                recorder.sent[connection_id].append(json.loads(body))
                self._answer(200, "")

            def do_DELETE(self) -> None:
                self._answer(200, "")

            def _answer(self, status: int, error: str) -> None:
                self.send_response(status)
                if error:
                    self.send_header("x-amzn-errortype", error)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *_: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def nexts(self, connection_id: str) -> list[dict[str, Any]]:
        return [message for message in self.sent[connection_id] if message["type"] == "next"]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def gateway() -> Iterator[Connections]:
    connections = Connections()
    yield connections
    connections.close()


@pytest.fixture
def wired(
    settings: Settings, services: Services, provisioned: Provisioned, gateway: Connections
) -> Iterator[RealtimeServices]:
    realtime = RealtimeSettings(
        management_url=gateway.url,
        delivery_queue_url=provisioned.queue_urls[WS_DELIVERY_QUEUE.name],
        fanout_batch_size=BATCH_SIZE,
    )
    services_over_emulator = RealtimeServices(
        settings=replace(settings, realtime=realtime),
        connections=DynamoConnectionStore(Connection(region=settings.region, host=settings.endpoint_url)),
        api=services,
        schema=build_schema(settings),
    )
    handlers.realtime_services.install(services_over_emulator)
    yield services_over_emulator
    handlers.realtime_services.reset()
    management_api.cache_clear()


def subscribed(token: str, query: str, variables: dict[str, str] | None = None) -> str:
    """A client connected, initialised and subscribed through the WebSocket handlers, as API Gateway invokes them."""
    connection_id = uuid.uuid4().hex[:16]
    context = {"connectionId": connection_id, "domainName": "localhost", "stage": "local"}
    connect = {"headers": {"Sec-WebSocket-Protocol": "graphql-transport-ws"}, "requestContext": context}
    assert handlers.connect(connect, lambda_context("ws-connect"))["statusCode"] == 200
    for message in (
        {"type": "connection_init", "payload": {"Authorization": f"Bearer {token}"}},
        {"id": "sub", "type": "subscribe", "payload": {"query": query, "variables": variables}},
    ):
        handlers.default({"requestContext": context, "body": json.dumps(message)}, lambda_context("ws-default"))
    return connection_id


def delivery_source(wired: RealtimeServices) -> SqsEventSource:
    source = SqsEventSource(
        WS_DELIVERY_QUEUE.name,
        wired.settings.realtime.delivery_queue_url,
        delivery.handler,
        batch_size=1,
        wait_seconds=0,
        sqs_client=boto3.client("sqs"),
    )
    source.prepare()
    return source


def drain(source: SqsEventSource) -> list[dict[str, Any]]:
    """Deliver every batch waiting on the queue, one invocation each; the messages delivered."""
    delivered = []
    while messages := source.sqs.receive_message(QueueUrl=source.queue_url, MaxNumberOfMessages=1).get("Messages"):
        source.deliver(messages)
        delivered += messages
    return delivered


def test_a_topic_larger_than_a_batch_is_posted_through_the_delivery_queue_once_to_each(
    wired: RealtimeServices,
    gateway: Connections,
    services: Services,
    token_for: Any,
) -> None:
    watchers = [subscribed(token_for(CUSTOMER), VEHICLES) for _ in range(7)]
    gone = watchers.pop()
    gateway.gone.add(gone)
    vehicle = services.catalog.create_vehicle(
        brand="BYD", model="Dolphin", year=2025, color="Azul", price=Decimal("149800.00")
    )

    pushed = fanout.push(
        wired, "vehicles", {("vehicle", None): vehicle}, owner=None, version=vehicle.version, claim=False
    )
    assert pushed == 7
    assert all(gateway.nexts(watcher) == [] for watcher in watchers)  # nothing posted by the fan-out itself
    delivered = drain(delivery_source(wired))

    assert len(delivered) == 3  # 7 subscribers, 3 to a batch
    assert [len(DeliveryBatch.from_json(message["Body"]).recipients) for message in delivered] == [3, 3, 1]
    for watcher in watchers:
        (message,) = gateway.nexts(watcher)
        assert message["payload"] == {
            "data": {"vehicleAvailabilityChanged": {"id": vehicle.id, "status": "AVAILABLE"}},
            "extensions": {"version": vehicle.version},
        }
    assert gateway.signed
    assert wired.connections.get(gone) is None  # 410: the connection and its subscription are forgotten
    assert sum(1 for _ in wired.connections.subscribers("vehicles")) == 6


def test_a_batch_delivered_again_posts_an_order_to_no_subscriber_twice(
    wired: RealtimeServices,
    gateway: Connections,
    services: Services,
    demo_users: dict[str, str],
    token_for: Any,
) -> None:
    order = write_order(services, demo_users[CUSTOMER])
    variables = {"orderId": order.id}
    owner = [subscribed(token_for(CUSTOMER), ORDER, variables) for _ in range(2)]
    staff = [subscribed(token_for(ADMIN), ORDER, variables) for _ in range(3)]
    first_pushes = {connection: gateway.nexts(connection) for connection in owner + staff}
    assert all(len(nexts) == 1 for nexts in first_pushes.values())  # the order as it was when they subscribed
    queue = wired.settings.realtime.delivery_queue_url
    moved = replace(order, version=order.version + 1)

    fanout.push(
        wired,
        f"order:{order.id}",
        {("order", order.id): moved},
        owner=order.client_id,
        version=moved.version,
        claim=True,
    )
    bodies = [message["Body"] for message in drain(delivery_source(wired))]
    for body in bodies:  # the same batches again, as after a failed invocation
        boto3.client("sqs").send_message(QueueUrl=queue, MessageBody=body)
    drain(delivery_source(wired))

    assert len(bodies) == 2  # 5 subscribers, 3 to a batch
    for connection in owner + staff:
        versions = [message["payload"]["extensions"]["version"] for message in gateway.nexts(connection)]
        assert versions == [order.version, moved.version]
