"""The WebSocket handlers and the fan-out against the emulator, with the interleavings a test over sockets cannot pin.

On AWS the `$default` Lambda that starts a subscription and the fan-out Lambda that pushes a change run at the same
time. A subscriber must still get the order's statuses in order and without gaps: its first `next` is the order as
the subscription starts, and every later change follows. Here the handlers are called directly (events shaped as
API Gateway's), the management API's posts are recorded, and a change is made and pushed by the fan-out at a chosen
point inside the `$default` invocation, as a concurrent stream batch would.
"""

from __future__ import annotations

import json
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from pynamodb.connection import Connection

from domain.events import EventType
from domain.order_status import CancellationReason, OrderStatus
from domain.orders import Order, advance, cancel, place_vehicle_order
from domain.purchase import Change
from graphql_api.schema import build_schema
from graphql_api.wiring import Services
from local_stack.lambda_events import lambda_context
from persistence.connections import DynamoConnectionStore
from realtime import fanout, handlers
from realtime.handlers import ManagementApi, RealtimeServices
from runtime.settings import RealtimeSettings, Settings

ORDER_CHANGES = "subscription($orderId: ID!) { orderStatusChanged(orderId: $orderId) { id status } }"
CUSTOMER = "customer@example.com"


@dataclass
class Realtime:
    """The realtime handlers wired to the emulator; what they post to each connection is recorded, not sent."""

    services: RealtimeServices
    sent: dict[str, list[dict[str, Any]]] = field(default_factory=lambda: defaultdict(list))
    deleted: list[str] = field(default_factory=list)

    @staticmethod
    def _context(connection_id: str) -> dict[str, Any]:
        return {"connectionId": connection_id, "domainName": "localhost:8001", "stage": "local"}

    def connect(self) -> str:
        connection_id = uuid.uuid4().hex[:16]
        event = {
            "headers": {"Sec-WebSocket-Protocol": "graphql-transport-ws"},
            "requestContext": self._context(connection_id),
        }
        assert handlers.connect(event, lambda_context("realtime-connect"))["statusCode"] == 200
        return connection_id

    def send(self, connection_id: str, message: dict[str, Any]) -> None:
        event = {"requestContext": self._context(connection_id), "body": json.dumps(message)}
        handlers.default(event, lambda_context("realtime-default"))

    def statuses(self, connection_id: str, operation_id: str) -> list[str]:
        return [
            message["payload"]["data"]["orderStatusChanged"]["status"]
            for message in self.sent[connection_id]
            if message.get("id") == operation_id and message["type"] == "next"
        ]


@pytest.fixture
def realtime(settings: Settings, services: Services, monkeypatch: pytest.MonkeyPatch) -> Iterator[Realtime]:
    wired = RealtimeServices(
        # No init-timeout queue: these tests do not wait for connection_init's deadline.
        settings=replace(settings, realtime=RealtimeSettings(management_url="http://127.0.0.1:9")),
        connections=DynamoConnectionStore(Connection(region=settings.region, host=settings.endpoint_url)),
        api=services,
        schema=build_schema(settings),
    )
    recorder = Realtime(wired)

    def post(_api: ManagementApi, connection_id: str, message: dict[str, Any]) -> bool:
        recorder.sent[connection_id].append(message)
        return True

    def delete(_api: ManagementApi, connection_id: str) -> None:
        recorder.deleted.append(connection_id)

    monkeypatch.setattr(ManagementApi, "post", post)
    monkeypatch.setattr(ManagementApi, "delete", delete)
    # The handlers and the fan-out use this process's graph: this one, over the emulator, until the test ends.
    handlers.realtime_services.install(wired)
    yield recorder
    handlers.realtime_services.reset()


def write_order(services: Services, client_id: str) -> Order:
    vehicle = services.catalog.create_vehicle(
        brand="Fiat", model="Pulse", year=2024, color="Prata", price=Decimal("89900.00")
    )
    order, placed = place_vehicle_order(
        order_id=str(uuid.uuid4()),
        client_id=client_id,
        vehicle=vehicle,
        idempotency_key=str(uuid.uuid4()),
        correlation_id=str(uuid.uuid4()),
        now=datetime.now(UTC),
    )
    services.purchase.store.apply(Change(order=order, new_order=True, events=(placed,)))
    return stored(services, order.id)


def stored(services: Services, order_id: str) -> Order:
    order = services.orders.get_order(order_id)
    assert order is not None
    return order


def change_and_push(realtime: Realtime, order_id: str, step: Callable[[Order], Order]) -> Order:
    """Write the order's next state, then push it as the fan-out does for its stream record."""
    services = realtime.services.api
    services.purchase.store.apply(Change(order=step(stored(services, order_id))))
    order = stored(services, order_id)
    fanout.push(
        realtime.services,
        f"order:{order.id}",
        {("order", order.id): order},
        owner=order.client_id,
        version=order.version,
        claim=True,
    )
    return order


def reserve(order: Order) -> Order:
    return advance(order, OrderStatus.RESERVED, EventType.INVENTORY_RESERVED, datetime.now(UTC))


def cancel_it(order: Order) -> Order:
    return cancel(order, CancellationReason.CUSTOMER_CANCELLED, datetime.now(UTC))


def subscriber(realtime: Realtime, token: str) -> str:
    connection_id = realtime.connect()
    realtime.send(connection_id, {"type": "connection_init", "payload": {"Authorization": f"Bearer {token}"}})
    assert realtime.sent[connection_id] == [{"type": "connection_ack"}]
    return connection_id


def subscribe(realtime: Realtime, connection_id: str, order_id: str) -> None:
    message = {
        "id": "order",
        "type": "subscribe",
        "payload": {"query": ORDER_CHANGES, "variables": {"orderId": order_id}},
    }
    realtime.send(connection_id, message)


def test_a_subscriber_gets_the_state_now_then_each_later_change_once(
    realtime: Realtime, demo_users: dict[str, str], token_for: Callable[[str], str]
) -> None:
    order = write_order(realtime.services.api, demo_users[CUSTOMER])
    connection_id = subscriber(realtime, token_for(CUSTOMER))

    subscribe(realtime, connection_id, order.id)
    # The stream delivers the order's creation late (after the subscription started): already sent, not again.
    fanout.push(
        realtime.services,
        f"order:{order.id}",
        {("order", order.id): order},
        owner=None,
        version=order.version,
        claim=True,
    )
    change_and_push(realtime, order.id, reserve)
    change_and_push(realtime, order.id, cancel_it)

    assert realtime.statuses(connection_id, "order") == ["PLACED", "RESERVED", "CANCELLED"]


def test_a_change_made_while_the_subscription_is_authorized_is_its_first_state(
    realtime: Realtime,
    demo_users: dict[str, str],
    token_for: Callable[[str], str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    order = write_order(realtime.services.api, demo_users[CUSTOMER])
    connection_id = subscriber(realtime, token_for(CUSTOMER))
    authorize = handlers._authorize

    def authorize_then_the_saga_moves(*arguments: Any) -> Any:
        decided = authorize(*arguments)  # the order is checked while PLACED
        change_and_push(realtime, order.id, reserve)  # the saga reserves; the fan-out finds no subscriber yet
        return decided

    with monkeypatch.context() as patched:
        patched.setattr(handlers, "_authorize", authorize_then_the_saga_moves)
        subscribe(realtime, connection_id, order.id)
    change_and_push(realtime, order.id, cancel_it)

    # The first push is read after the subscription is stored: RESERVED, then every later change, none lost.
    assert realtime.statuses(connection_id, "order") == ["RESERVED", "CANCELLED"]


def test_a_change_pushed_before_the_first_push_is_not_followed_by_an_older_state(
    realtime: Realtime,
    demo_users: dict[str, str],
    token_for: Callable[[str], str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    order = write_order(realtime.services.api, demo_users[CUSTOMER])
    connection_id = subscriber(realtime, token_for(CUSTOMER))
    store = handlers._store

    def store_then_the_saga_moves(*arguments: Any) -> None:
        store(*arguments)  # the subscription is stored
        change_and_push(realtime, order.id, reserve)  # the fan-out claims and sends RESERVED first

    with monkeypatch.context() as patched:
        patched.setattr(handlers, "_store", store_then_the_saga_moves)
        subscribe(realtime, connection_id, order.id)

    # The first push finds RESERVED already sent: nothing older follows it.
    assert realtime.statuses(connection_id, "order") == ["RESERVED"]
