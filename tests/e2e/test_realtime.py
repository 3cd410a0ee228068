"""Realtime on the local stack, as the SPA sees it: subscriptions over the WebSocket gateway (graphql-transport-ws).

The SPA's own client (graphql-ws from npm, run by Node) and a Python client (gql) watch an order move to COMPLETED;
the protocol's rules are checked message by message with a bare `websockets` client; a dropped client leaves nothing
behind in the table; 200 subscribers of one topic all get the push.

API Gateway cannot close with application codes, so a protocol violation arrives as a `connection_error` message with
the code (4400, 4401...), then a normal close (1000).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from pathlib import Path
from typing import Any, TypeVar

import boto3
import pytest
from gql import Client, GraphQLRequest
from gql.transport.websockets import WebsocketsTransport
from mypy_boto3_dynamodb import DynamoDBClient
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.typing import Subprotocol

from graphql_api.trusted_documents import MANIFEST, document_id
from tests.api.generated_documents import doubling
from tests.e2e.conftest import LocalStack

pytestmark = pytest.mark.e2e

SUBPROTOCOL = Subprotocol("graphql-transport-ws")
NODE_CLIENT = Path(__file__).parent / "ws_client" / "subscribe.mjs"
HAPPY_PATH = ["PLACED", "RESERVED", "AWAITING_PAYMENT", "PAID", "COMPLETED"]
TERMINAL = {"COMPLETED", "CANCELLED"}
TABLE = "vehicle-platform"

PLACE = "mutation($input: PlaceOrderInput!) { placeOrder(input: $input) { id } }"
ORDER = "query($id: ID!) { order(id: $id) { status cancellationReason payment { code } } }"
ORDER_CHANGES = """
subscription($orderId: ID!) { orderStatusChanged(orderId: $orderId) { id status } }
"""
VEHICLE_CHANGES = "subscription { vehicleAvailabilityChanged { id status } }"
INVOICE_CHANGES = "subscription($orderId: ID!) { invoiceStatusChanged(orderId: $orderId) { number status } }"

T = TypeVar("T")


# HTTP: orders and vehicles, as the SPA places and reads them


def graphql_data(stack: LocalStack, query: str, variables: dict[str, Any], token: str | None) -> dict[str, Any]:
    body = stack.graphql(query, variables, token).json()
    assert "errors" not in body, body
    data: dict[str, Any] = body["data"]
    return data


# Vehicles this module bought: each test takes a fresh one, from the end of the list (other tests buy from its start).
_taken: set[str] = set()


def place_order(stack: LocalStack, token: str) -> tuple[str, str]:
    """An order for a vehicle for sale that no test here bought yet, read again right before: (order id, vehicle)."""
    page = graphql_data(stack, "{ vehicles(first: 50) { edges { node { id } } } }", {}, None)
    available = [edge["node"]["id"] for edge in page["vehicles"]["edges"] if edge["node"]["id"] not in _taken]
    assert available, "no vehicle left for sale"
    vehicle_id: str = available[-1]
    _taken.add(vehicle_id)
    order_input = {"vehicleId": vehicle_id, "idempotencyKey": str(uuid.uuid4())}
    order_id: str = graphql_data(stack, PLACE, {"input": order_input}, token)["placeOrder"]["id"]
    return order_id, vehicle_id


def read_order(stack: LocalStack, order_id: str, token: str) -> dict[str, Any]:
    order: dict[str, Any] = graphql_data(stack, ORDER, {"id": order_id}, token)["order"]
    return order


def wait_for_order(stack: LocalStack, order_id: str, token: str, statuses: set[str], timeout: float = 15) -> str:
    deadline = time.monotonic() + timeout
    while True:
        status: str = read_order(stack, order_id, token)["status"]
        if status in statuses or time.monotonic() > deadline:
            return status
        time.sleep(0.1)


async def pay(stack: LocalStack, order_id: str, token: str) -> None:
    """Pay the order's charge at the local PSP by its txid (`vehicle-platform pay`); it must be AWAITING_PAYMENT."""
    order = await asyncio.to_thread(read_order, stack, order_id, token)
    assert order["status"] == "AWAITING_PAYMENT", order
    paid = await asyncio.to_thread(stack.cli, "pay", order["payment"]["code"])
    assert '"paid": true' in paid.stdout, paid.stdout


def distinct(statuses: list[str]) -> list[str]:
    return [status for index, status in enumerate(statuses) if index == 0 or statuses[index - 1] != status]


def in_order_without_gaps(statuses: list[str]) -> bool:
    """The happy path's statuses from the first one seen to COMPLETED, consecutive repeats allowed."""
    seen = distinct(statuses)
    return bool(seen) and seen[0] in HAPPY_PATH and seen == HAPPY_PATH[HAPPY_PATH.index(seen[0]) :]


def assert_in_order_without_gaps(seen_by: dict[str, list[str]]) -> None:
    """Each subscriber saw the happy path from its first status to COMPLETED (consecutive repeats allowed)."""
    for who, statuses in seen_by.items():
        assert in_order_without_gaps(statuses), f"{who} saw {statuses}"


# WebSocket: a bare graphql-transport-ws client


def ws_url(stack: LocalStack) -> str:
    return f"ws://127.0.0.1:{stack.environment['WS_PORT']}"


def run(coroutine: Coroutine[Any, Any, T], timeout: float = 60) -> T:
    async def bounded() -> T:
        return await asyncio.wait_for(coroutine, timeout)

    return asyncio.run(bounded())


async def until(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        await asyncio.sleep(0.05)


@contextlib.asynccontextmanager
async def socket(stack: LocalStack) -> AsyncIterator[ClientConnection]:
    async with connect(ws_url(stack), subprotocols=[SUBPROTOCOL], open_timeout=10, close_timeout=2) as ws:
        assert ws.subprotocol == SUBPROTOCOL
        yield ws


async def send(ws: ClientConnection, message: dict[str, Any]) -> None:
    await ws.send(json.dumps(message))


async def receive(ws: ClientConnection, timeout: float = 10) -> dict[str, Any]:
    message: dict[str, Any] = json.loads(await asyncio.wait_for(ws.recv(), timeout))
    return message


async def initialise(ws: ClientConnection, token: str) -> None:
    await send(ws, {"type": "connection_init", "payload": {"Authorization": f"Bearer {token}"}})
    assert await receive(ws) == {"type": "connection_ack"}


async def subscribe(
    ws: ClientConnection, operation_id: str, query: str, variables: dict[str, Any] | None = None
) -> None:
    payload: dict[str, Any] = {"query": query} if variables is None else {"query": query, "variables": variables}
    await send(ws, {"id": operation_id, "type": "subscribe", "payload": payload})


async def ping_pong(ws: ClientConnection) -> list[dict[str, Any]]:
    """Ping, and the messages that came before the pong. `$default` runs one message at a time per connection, in
    order: once the pong is here, every message sent before the ping has been handled."""
    marker = {"check": str(uuid.uuid4())}
    await send(ws, {"type": "ping", "payload": marker})
    before = []
    while (message := await receive(ws)) != {"type": "pong", "payload": marker}:
        before.append(message)
    return before


async def message_or_close_code(ws: ClientConnection, timeout: float = 10) -> dict[str, Any] | int | None:
    """The next message, or the close code the server sent if the connection closes instead."""
    try:
        return await receive(ws, timeout)
    except ConnectionClosed as closed:
        return None if closed.rcvd is None else closed.rcvd.code


async def closed_after_error(ws: ClientConnection, code: int, timeout: float = 10) -> dict[str, Any]:
    """The next message is `connection_error` with `code`, then the server closes normally (as API Gateway does after
    DeleteConnection); the connection_error payload."""
    error = await receive(ws, timeout)
    assert error["type"] == "connection_error", error
    assert error["payload"]["code"] == code, error
    assert await message_or_close_code(ws) == 1000  # not another message
    payload: dict[str, Any] = error["payload"]
    return payload


def next_status(message: dict[str, Any], operation_id: str) -> str:
    assert (message["type"], message["id"]) == ("next", operation_id), message
    status: str = message["payload"]["data"]["orderStatusChanged"]["status"]
    return status


async def statuses_until(ws: ClientConnection, operation_id: str, seen: list[str], stop: set[str]) -> list[str]:
    """Read the order's statuses pushed for `operation_id` into `seen` until one of `stop` (or a terminal one)."""
    while not seen or seen[-1] not in stop | TERMINAL:
        seen.append(next_status(await receive(ws), operation_id))
    return seen


# 1. The SPA's client and a Python client watch an order to COMPLETED


async def watch_with_node(url: str, token: str, order_id: str, seen: list[str], lines: list[str]) -> int:
    process = await asyncio.create_subprocess_exec(
        "node",
        str(NODE_CLIENT),
        url,
        token,
        order_id,
        "40",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    assert process.stdout is not None
    assert process.stderr is not None
    try:
        async for raw in process.stdout:
            lines.append(raw.decode().strip())
            line = json.loads(raw)
            if "status" in line:
                seen.append(line["status"])
        lines.extend((await process.stderr.read()).decode().splitlines())
        return await process.wait()
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()


async def watch_with_gql(url: str, token: str, order_id: str, seen: list[str]) -> None:
    transport = WebsocketsTransport(
        url=url,
        init_payload={"Authorization": f"Bearer {token}"},
        subprotocols=[WebsocketsTransport.GRAPHQLWS_SUBPROTOCOL],
    )
    request = GraphQLRequest(ORDER_CHANGES, variable_values={"orderId": order_id})
    async with Client(transport=transport) as session:
        async for result in session.subscribe(request):
            seen.append(result["orderStatusChanged"]["status"])
            if seen[-1] in TERMINAL:
                return


async def both_clients_watch_a_purchase(
    stack: LocalStack, token: str, order_id: str
) -> tuple[list[str], list[str], list[str]]:
    url = ws_url(stack)
    node_seen: list[str] = []
    node_lines: list[str] = []
    gql_seen: list[str] = []
    node = asyncio.create_task(watch_with_node(url, token, order_id, node_seen, node_lines))
    python = asyncio.create_task(watch_with_gql(url, token, order_id, gql_seen))
    try:

        def both_past_placement() -> bool:
            if node.done() or python.done():
                return True  # failed (or ended early): the assertions below say how
            return all({"AWAITING_PAYMENT", *TERMINAL} & set(seen) for seen in (node_seen, gql_seen))

        await until(both_past_placement, 20, "both clients to see AWAITING_PAYMENT")
        if not TERMINAL & {*node_seen, *gql_seen} and not (node.done() or python.done()):
            await pay(stack, order_id, token)
        node_exit = await asyncio.wait_for(node, 30)
        await asyncio.wait_for(python, 30)
    finally:
        for task in (node, python):
            task.cancel()
        await asyncio.gather(node, python, return_exceptions=True)
    assert node_exit == 0, node_lines
    return node_seen, gql_seen, node_lines


def test_the_spa_client_and_a_python_client_see_every_status_of_a_purchase_in_order(
    local_stack: LocalStack, token: Callable[[str], str]
) -> None:
    customer = token("customer@example.com")
    for _attempt in range(3):
        order_id, _ = place_order(local_stack, customer)
        node_seen, gql_seen, node_lines = run(both_clients_watch_a_purchase(local_stack, customer, order_id))
        order = read_order(local_stack, order_id, customer)
        if order["cancellationReason"] != "VEHICLE_UNAVAILABLE":
            break  # else another test bought the vehicle between our read and our order: try another one

    assert node_lines[0] == '{"event":"connected"}', node_lines
    assert node_seen[-1] == gql_seen[-1] == "COMPLETED", (node_seen, gql_seen, order)
    assert "AWAITING_PAYMENT" in node_seen
    assert "AWAITING_PAYMENT" in gql_seen
    assert_in_order_without_gaps({"graphql-ws (Node)": node_seen, "gql (Python)": gql_seen})


# 2. Someone else's order


def test_a_customer_cannot_subscribe_to_another_customers_order(
    local_stack: LocalStack, token: Callable[[str], str]
) -> None:
    owner, stranger_token, staff = (
        token(email) for email in ("customer@example.com", "customer2@example.com", "admin@example.com")
    )
    order_id, _ = place_order(local_stack, owner)

    async def scenario() -> tuple[dict[str, Any], list[dict[str, Any]], list[dict[str, Any]], list[str]]:
        async with socket(local_stack) as stranger, socket(local_stack) as admin:
            await initialise(stranger, stranger_token)
            await subscribe(stranger, "theirs", ORDER_CHANGES, {"orderId": order_id})
            refused = await receive(stranger)
            still_open = await ping_pong(stranger)
            # Staff may watch any order: its state now at once, then every change.
            await initialise(admin, staff)
            await subscribe(admin, "any", ORDER_CHANGES, {"orderId": order_id})
            admin_seen = await statuses_until(admin, "any", [], {"AWAITING_PAYMENT"})
            await pay(local_stack, order_id, owner)
            await statuses_until(admin, "any", admin_seen, TERMINAL)
            # Nothing of that order leaked to the stranger meanwhile.
            return refused, still_open, await ping_pong(stranger), admin_seen

    refused, still_open, stranger_got, admin_seen = run(scenario())

    assert (refused["type"], refused["id"]) == ("error", "theirs"), refused
    assert [error["extensions"]["code"] for error in refused["payload"]] == ["NOT_FOUND"], refused
    assert still_open == []
    assert stranger_got == []
    assert admin_seen[-1] == "COMPLETED", admin_seen
    assert_in_order_without_gaps({"the admin": admin_seen})


# 3. The protocol, rule by rule, over the local gateway


def test_a_client_not_offering_graphql_transport_ws_is_refused(local_stack: LocalStack) -> None:
    async def scenario() -> int:
        with pytest.raises(InvalidStatus) as refused:
            async with connect(ws_url(local_stack), open_timeout=10):
                pass
        return refused.value.response.status_code

    assert run(scenario()) == 400


def test_connection_init_with_a_bad_token_is_forbidden(local_stack: LocalStack) -> None:
    async def scenario() -> dict[str, Any]:
        async with socket(local_stack) as ws:
            await send(ws, {"type": "connection_init", "payload": {"Authorization": "Bearer not-a-token"}})
            return await closed_after_error(ws, 4403)

    assert run(scenario())["reason"]


def test_connection_init_without_a_token_is_forbidden(local_stack: LocalStack) -> None:
    async def scenario() -> dict[str, Any]:
        async with socket(local_stack) as ws:
            await send(ws, {"type": "connection_init"})
            return await closed_after_error(ws, 4403)

    assert run(scenario())["code"] == 4403


def test_subscribing_before_connection_init_is_unauthorized(local_stack: LocalStack) -> None:
    async def scenario() -> dict[str, Any]:
        async with socket(local_stack) as ws:
            await subscribe(ws, "1", VEHICLE_CHANGES)
            return await closed_after_error(ws, 4401)

    assert run(scenario())["reason"] == "Unauthorized"


def test_a_second_connection_init_is_too_many(local_stack: LocalStack, token: Callable[[str], str]) -> None:
    async def scenario() -> dict[str, Any]:
        async with socket(local_stack) as ws:
            await initialise(ws, token("customer@example.com"))
            await send(
                ws, {"type": "connection_init", "payload": {"Authorization": f"Bearer {token('customer@example.com')}"}}
            )
            return await closed_after_error(ws, 4429)

    assert run(scenario())["reason"] == "Too many initialisation requests"


def test_a_duplicate_subscription_id_is_refused(local_stack: LocalStack, token: Callable[[str], str]) -> None:
    async def scenario() -> dict[str, Any]:
        async with socket(local_stack) as ws:
            await initialise(ws, token("customer@example.com"))
            await subscribe(ws, "same", VEHICLE_CHANGES)
            assert await ping_pong(ws) == []
            await subscribe(ws, "same", VEHICLE_CHANGES)
            return await closed_after_error(ws, 4409)

    assert run(scenario())["reason"] == "Subscriber for same already exists"


@pytest.mark.parametrize(
    "message",
    ["{not json", "[]", '{"type": "no_such_type"}', '{"type": "complete"}'],
    ids=["invalid-json", "not-an-object", "unknown-type", "complete-without-id"],
)
def test_an_invalid_message_is_a_bad_request(
    local_stack: LocalStack, token: Callable[[str], str], message: str
) -> None:
    async def scenario() -> dict[str, Any]:
        async with socket(local_stack) as ws:
            await initialise(ws, token("customer@example.com"))
            await ws.send(message)
            return await closed_after_error(ws, 4400)

    assert run(scenario())["reason"] == "Invalid message received"


def test_an_invalid_document_is_an_error_and_the_connection_goes_on(
    local_stack: LocalStack, token: Callable[[str], str]
) -> None:
    async def scenario() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        async with socket(local_stack) as ws:
            await initialise(ws, token("customer@example.com"))
            await subscribe(ws, "unknown-field", "subscription { noSuchField }")
            await subscribe(ws, "syntax", "subscription {")
            await subscribe(ws, "query", "{ vehicles { edges { node { id } } } }")
            # The HTTP API's limits, checked when the subscription starts (not at each push, where it once cost
            # every other subscriber seconds).
            await subscribe(ws, "doubling", doubling(21, "subscription { vehicleAvailabilityChanged { ...F%d } }"))
            aliases = " ".join(f"a{n}: id" for n in range(600))
            await subscribe(ws, "aliases", f"subscription {{ vehicleAvailabilityChanged {{ {aliases} }} }}")
            errors = [await receive(ws) for _ in range(5)]
            # The ids refused are free again: the same id may subscribe to something valid.
            await subscribe(ws, "unknown-field", VEHICLE_CHANGES)
            return errors, await ping_pong(ws)

    errors, after = run(scenario())

    assert [(error["type"], error["id"]) for error in errors] == [
        ("error", "unknown-field"),
        ("error", "syntax"),
        ("error", "query"),
        ("error", "doubling"),
        ("error", "aliases"),
    ]
    assert all(error["payload"][0]["extensions"]["code"] == "VALIDATION" for error in errors), errors
    assert after == []


def test_a_subscription_may_name_one_of_the_web_apps_trusted_documents_by_its_hash(
    local_stack: LocalStack, token: Callable[[str], str]
) -> None:
    manifest: dict[str, str] = json.loads(MANIFEST.read_text())
    text = next(text for text in manifest.values() if "vehicleAvailabilityChanged" in text)
    digest = document_id(text).removeprefix("sha256:")

    async def scenario() -> tuple[dict[str, Any], dict[str, Any]]:
        async with socket(local_stack) as ws:
            await initialise(ws, token("customer@example.com"))
            persisted = {"version": 1, "sha256Hash": digest}
            await send(
                ws,
                {
                    "id": "known",
                    "type": "subscribe",
                    "payload": {"query": "", "extensions": {"persistedQuery": persisted}},
                },
            )
            unknown = {"version": 1, "sha256Hash": "0" * 64}
            await send(
                ws,
                {
                    "id": "unknown",
                    "type": "subscribe",
                    "payload": {"query": "", "extensions": {"persistedQuery": unknown}},
                },
            )
            refused = await receive(ws)
            await asyncio.to_thread(place_order, local_stack, token("customer2@example.com"))
            return refused, await receive(ws)

    refused, pushed = run(scenario())

    assert (refused["id"], refused["type"]) == ("unknown", "error")
    assert refused["payload"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"
    assert (pushed["id"], pushed["type"]) == ("known", "next")
    assert set(pushed["payload"]["data"]["vehicleAvailabilityChanged"]) == {"__typename", "id", "status"}


def test_ping_gets_pong_with_its_payload(local_stack: LocalStack, token: Callable[[str], str]) -> None:
    async def scenario() -> tuple[dict[str, Any], dict[str, Any]]:
        async with socket(local_stack) as ws:
            await send(ws, {"type": "ping"})  # allowed before connection_init too
            before_init = await receive(ws)
            await initialise(ws, token("customer@example.com"))
            await send(ws, {"type": "ping", "payload": {"at": 1}})
            return before_init, await receive(ws)

    assert run(scenario()) == ({"type": "pong"}, {"type": "pong", "payload": {"at": 1}})


def test_the_21st_subscription_of_a_connection_is_rate_limited(
    local_stack: LocalStack, token: Callable[[str], str]
) -> None:
    async def scenario() -> tuple[dict[str, Any], list[dict[str, Any]]]:
        async with socket(local_stack) as ws:
            await initialise(ws, token("customer@example.com"))
            for number in range(21):
                await subscribe(ws, f"s{number}", VEHICLE_CHANGES)
            refused = await receive(ws)
            # Vehicles reserved or released by the other tests' orders meanwhile are pushed to the 20 admitted.
            while refused["type"] == "next":
                refused = await receive(ws)
            return refused, await ping_pong(ws)

    refused, after = run(scenario())

    assert (refused["type"], refused["id"]) == ("error", "s20"), refused
    assert refused["payload"][0]["extensions"]["code"] == "RATE_LIMITED"
    assert [message for message in after if message["type"] != "next"] == []


def test_complete_from_the_client_stops_that_subscription_only(
    local_stack: LocalStack, token: Callable[[str], str]
) -> None:
    customer = token("customer@example.com")
    order_id, _ = place_order(local_stack, customer)

    async def scenario() -> tuple[list[str], list[dict[str, Any]], str]:
        async with socket(local_stack) as ws:
            await initialise(ws, customer)
            await subscribe(ws, "stopped", ORDER_CHANGES, {"orderId": order_id})
            await subscribe(ws, "kept", ORDER_CHANGES, {"orderId": order_id})
            seen: dict[str, list[str]] = {"stopped": [], "kept": []}
            while not all(statuses and statuses[-1] in {"AWAITING_PAYMENT", *TERMINAL} for statuses in seen.values()):
                message = await receive(ws)
                seen[message["id"]].append(next_status(message, message["id"]))
            await send(ws, {"id": "stopped", "type": "complete"})
            assert await ping_pong(ws) == []  # the complete is handled: nothing more for "stopped" from here
            await pay(local_stack, order_id, customer)
            kept = seen["kept"]
            after: list[dict[str, Any]] = []
            while kept[-1] not in TERMINAL:
                message = await receive(ws)
                after.append(message)
                if message.get("id") == "kept":
                    kept.append(next_status(message, "kept"))
            after += await ping_pong(ws)  # and nothing for "stopped" after the last change either
            # A completed id is free again: subscribing with it starts afresh, from the order's state now.
            await subscribe(ws, "stopped", ORDER_CHANGES, {"orderId": order_id})
            return kept, after, next_status(await receive(ws), "stopped")

    kept, after, resubscribed = run(scenario())

    assert kept[-1] == "COMPLETED", kept
    assert [message for message in after if message.get("id") != "kept"] == []
    assert resubscribed == "COMPLETED"
    assert_in_order_without_gaps({"the kept subscription": kept})


def test_an_invoice_subscription_does_not_start_with_an_error(
    local_stack: LocalStack, token: Callable[[str], str]
) -> None:
    customer = token("customer@example.com")
    order_id, _ = place_order(local_stack, customer)  # unpaid: it expires, and the vehicle is for sale again

    async def scenario() -> list[dict[str, Any]]:
        async with socket(local_stack) as ws:
            await initialise(ws, customer)
            await subscribe(ws, "invoice", INVOICE_CHANGES, {"orderId": order_id})
            return await ping_pong(ws)

    before_pong = run(scenario())

    assert [message for message in before_pong if message["type"] != "next" or "errors" in message["payload"]] == []


def test_a_connection_without_connection_init_is_closed_after_the_timeout(local_stack: LocalStack) -> None:
    async def scenario() -> tuple[dict[str, Any], float]:
        started = time.monotonic()
        async with socket(local_stack) as ws:
            payload = await closed_after_error(ws, 4408, timeout=15)
            return payload, time.monotonic() - started

    payload, waited = run(scenario())

    assert payload["reason"] == "Connection initialisation timeout"
    assert 9 <= waited <= 15, waited


# 4. A dropped client leaves nothing behind


def dynamodb(stack: LocalStack) -> DynamoDBClient:
    return boto3.client("dynamodb", endpoint_url=stack.environment["AWS_ENDPOINT_URL"], region_name="us-east-1")


def items_under(client: DynamoDBClient, prefix: str) -> list[dict[str, Any]]:
    """Every item whose PK starts with `prefix` (a Scan: fine in a test, never in the product)."""
    items: list[dict[str, Any]] = []
    for page in client.get_paginator("scan").paginate(
        TableName=TABLE,
        FilterExpression="begins_with(PK, :prefix)",
        ExpressionAttributeValues={":prefix": {"S": prefix}},
        ConsistentRead=True,
    ):
        items += page.get("Items", [])
    return items


def test_a_dropped_client_is_forgotten_and_the_order_still_completes(
    local_stack: LocalStack, token: Callable[[str], str]
) -> None:
    customer = token("customer@example.com")
    order_id, _ = place_order(local_stack, customer)
    table = dynamodb(local_stack)
    topic = f"WSTOPIC#order:{order_id}"
    log_from = len(local_stack.output())

    def left_behind(connection_id: str) -> list[dict[str, Any]]:
        subscriptions = [
            item
            for prefix in (topic, "WSTOPIC#vehicles")
            for item in items_under(table, prefix)
            if item["connection_id"]["S"] == connection_id
        ]
        return subscriptions + items_under(table, f"WSCONN#{connection_id}")

    async def scenario() -> tuple[str, list[dict[str, Any]], list[str]]:
        async with socket(local_stack) as survivor:
            await initialise(survivor, customer)
            await subscribe(survivor, "watch", ORDER_CHANGES, {"orderId": order_id})
            survivor_seen = await statuses_until(survivor, "watch", [], {"AWAITING_PAYMENT"})

            dropped = await connect(ws_url(local_stack), subprotocols=[SUBPROTOCOL])
            await initialise(dropped, customer)
            await subscribe(dropped, "order", ORDER_CHANGES, {"orderId": order_id})
            await subscribe(dropped, "vehicles", VEHICLE_CHANGES)
            await ping_pong(dropped)
            mine = [item for item in items_under(table, topic) if item["operation_id"]["S"] == "order"]
            assert len(mine) == 1, mine
            connection_id = mine[0]["connection_id"]["S"]
            stored = left_behind(connection_id)
            # Gone without a close frame, as a laptop lid closing: the gateway only sees the socket end. The order
            # moves on at once, racing the clean-up.
            assert dropped.transport is not None
            dropped.transport.abort()
            await pay(local_stack, order_id, customer)
            await statuses_until(survivor, "watch", survivor_seen, TERMINAL)

            await until(lambda: not left_behind(connection_id), 10, f"{connection_id}'s items to be deleted")
            return connection_id, stored, survivor_seen

    connection_id, stored, survivor_seen = run(scenario())
    final = wait_for_order(local_stack, order_id, customer, TERMINAL)
    log = local_stack.output()[log_from:]
    problems = [
        line
        for line in log.splitlines()
        if ("ERROR" in line or "Traceback" in line) and "without completing handshake" not in line
    ]

    assert sorted(item["PK"]["S"] for item in stored) == sorted([topic, "WSTOPIC#vehicles", f"WSCONN#{connection_id}"])
    assert final == "COMPLETED"
    assert survivor_seen[-1] == "COMPLETED", survivor_seen
    assert f"{connection_id} $disconnect" in log  # the gateway saw it go and ran $disconnect
    assert problems == []
    assert_in_order_without_gaps({"the surviving client": survivor_seen})


# 5. One topic, 200 subscribers


SUBSCRIBERS = 200


def test_200_subscribers_of_one_topic_all_get_the_change(local_stack: LocalStack, token: Callable[[str], str]) -> None:
    customer = token("customer@example.com")

    async def subscriber(ready: asyncio.Semaphore, sockets: list[ClientConnection]) -> None:
        async with ready:
            ws = await connect(ws_url(local_stack), subprotocols=[SUBPROTOCOL], open_timeout=30)
            sockets.append(ws)
            await initialise(ws, customer)
            await subscribe(ws, "vehicles", VEHICLE_CHANGES)
            assert await ping_pong(ws) == []

    async def delivered(ws: ClientConnection, vehicle_id: str) -> dict[str, Any]:
        while True:
            message = await receive(ws, timeout=60)
            assert (message["type"], message["id"]) == ("next", "vehicles"), message
            vehicle: dict[str, Any] = message["payload"]["data"]["vehicleAvailabilityChanged"]
            if vehicle["id"] == vehicle_id:
                return vehicle

    async def scenario() -> tuple[float, float, list[dict[str, Any] | BaseException]]:
        sockets: list[ClientConnection] = []
        try:
            started = time.monotonic()
            ready = asyncio.Semaphore(25)
            await asyncio.gather(*(subscriber(ready, sockets) for _ in range(SUBSCRIBERS)))
            subscribed = time.monotonic() - started
            _, vehicle_id = await asyncio.to_thread(place_order, local_stack, token("customer2@example.com"))
            changed = time.monotonic()
            pending: list[Awaitable[dict[str, Any]]] = [
                asyncio.wait_for(delivered(ws, vehicle_id), 30) for ws in sockets
            ]
            received = await asyncio.gather(*pending, return_exceptions=True)
            return subscribed, time.monotonic() - changed, received
        finally:
            await asyncio.gather(*(ws.close() for ws in sockets), return_exceptions=True)

    subscribed, pushed, received = run(scenario(), timeout=120)
    failures = [result for result in received if isinstance(result, BaseException)]

    assert len(received) == SUBSCRIBERS
    assert failures == [], f"{len(failures)} of {SUBSCRIBERS} missed the push: {failures[:3]}"
    assert {vehicle["status"] for vehicle in received if isinstance(vehicle, dict)} == {"RESERVED"}
    print(f"{SUBSCRIBERS} subscribers ready in {subscribed:.1f} s; all pushed to within {pushed:.1f} s")
