"""A customer buys a vehicle on the local stack: places the order over HTTP, pays with `vehicle-platform pay`,
watches it complete and finds the email in `vehicle-platform mail`; an unpaid order expires and frees the vehicle."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import Any

import pytest

from tests.e2e.conftest import LocalStack

pytestmark = pytest.mark.e2e

PLACE = """
mutation($input: PlaceOrderInput!) { placeOrder(input: $input) { id status total } }
"""
ORDER = """
query($id: ID!) {
  order(id: $id) {
    status cancellationReason total
    payment { code amount status brCode }
    items { vehicle { id status } }
    history { status event }
  }
}
"""


def graphql_data(stack: LocalStack, query: str, variables: dict[str, Any], token: str | None) -> dict[str, Any]:
    body = stack.graphql(query, variables, token).json()
    assert "errors" not in body, body
    data: dict[str, Any] = body["data"]
    return data


def cheapest_available(stack: LocalStack, skip: int = 0) -> str:
    page = graphql_data(stack, "{ vehicles(first: 20) { edges { node { id } } } }", {}, token=None)
    vehicle_id: str = page["vehicles"]["edges"][skip]["node"]["id"]
    return vehicle_id


def vehicle_status(stack: LocalStack, vehicle_id: str) -> str:
    data = graphql_data(stack, "query($id: ID!) { vehicle(id: $id) { status } }", {"id": vehicle_id}, None)
    status: str = data["vehicle"]["status"]
    return status


def wait_for_status(
    stack: LocalStack, order_id: str, token: str, statuses: set[str], *, timeout: float = 30, query: str = ORDER
) -> dict[str, Any]:
    """The order (as `query` reads it) once its status is one of `statuses`, or as it is after `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        order: dict[str, Any] = graphql_data(stack, query, {"id": order_id}, token)["order"]
        if order["status"] in statuses or time.monotonic() > deadline:
            return order
        time.sleep(0.2)


def test_a_customer_buys_a_vehicle_and_gets_the_email(local_stack: LocalStack, token: Callable[[str], str]) -> None:
    customer = token("customer@example.com")
    vehicle_id = cheapest_available(local_stack)
    key = str(uuid.uuid4())

    placed = graphql_data(local_stack, PLACE, {"input": {"vehicleId": vehicle_id, "idempotencyKey": key}}, customer)
    retried = graphql_data(local_stack, PLACE, {"input": {"vehicleId": vehicle_id, "idempotencyKey": key}}, customer)
    order_id = placed["placeOrder"]["id"]
    awaiting = wait_for_status(local_stack, order_id, customer, {"AWAITING_PAYMENT", "CANCELLED"})
    # The customer's bank app pays with the copy-and-paste BR Code; the PSP then calls the webhook
    paid = local_stack.cli("pay", awaiting["payment"]["brCode"])
    completed = wait_for_status(local_stack, order_id, customer, {"COMPLETED", "CANCELLED"})
    mail = local_stack.cli("mail").stdout

    assert placed["placeOrder"]["status"] == "PLACED"
    assert retried["placeOrder"]["id"] == order_id
    assert awaiting["status"] == "AWAITING_PAYMENT"
    assert awaiting["payment"]["amount"] == placed["placeOrder"]["total"]
    assert '"paid": true' in paid.stdout
    assert completed["status"] == "COMPLETED"
    assert completed["payment"]["status"] == "PAID"
    assert completed["items"][0]["vehicle"] == {"id": vehicle_id, "status": "SOLD"}
    assert [(step["event"], step["status"]) for step in completed["history"]] == [
        ("OrderPlaced", "PLACED"),
        ("ClientValidated", "PLACED"),
        ("InventoryReserved", "RESERVED"),
        ("PaymentRequested", "AWAITING_PAYMENT"),
        ("PaymentConfirmed", "PAID"),
        ("InvoiceIssued", "PAID"),
        ("SaleCompleted", "COMPLETED"),
    ]
    assert mail.count(f"Compra confirmada: pedido {order_id}") == 1
    assert "customer@example.com" in mail


def test_a_payment_whose_webhook_is_lost_completes_through_the_reconciliation(
    local_stack: LocalStack, token: Callable[[str], str]
) -> None:
    customer = token("customer2@example.com")
    vehicle_id = cheapest_available(local_stack, skip=4)
    placed = graphql_data(
        local_stack, PLACE, {"input": {"vehicleId": vehicle_id, "idempotencyKey": str(uuid.uuid4())}}, customer
    )
    order_id = placed["placeOrder"]["id"]
    awaiting = wait_for_status(local_stack, order_id, customer, {"AWAITING_PAYMENT", "CANCELLED"})

    # The customer pays by the txid, and the PSP's webhook call never comes
    paid = local_stack.cli("pay", awaiting["payment"]["code"], "--no-webhook")
    completed = wait_for_status(local_stack, order_id, customer, {"COMPLETED", "CANCELLED"})
    listed = local_stack.cli("pix").stdout

    assert '"paid": true' in paid.stdout
    assert completed["status"] == "COMPLETED", completed
    assert completed["payment"]["status"] == "PAID"
    assert f"charge  {awaiting['payment']['code']}  CONCLUIDA" in listed


def test_an_unpaid_order_expires_and_frees_the_vehicle(local_stack: LocalStack, token: Callable[[str], str]) -> None:
    customer = token("customer2@example.com")
    vehicle_id = cheapest_available(local_stack, skip=1)

    placed = graphql_data(
        local_stack, PLACE, {"input": {"vehicleId": vehicle_id, "idempotencyKey": str(uuid.uuid4())}}, customer
    )
    expired = wait_for_status(local_stack, placed["placeOrder"]["id"], customer, {"CANCELLED", "COMPLETED"})

    assert expired["status"] == "CANCELLED"
    assert expired["cancellationReason"] == "PAYMENT_EXPIRED"
    assert expired["payment"]["status"] == "EXPIRED"
    assert expired["items"][0]["vehicle"] == {"id": vehicle_id, "status": "AVAILABLE"}
    assert "cancelado" in local_stack.cli("mail").stdout


def test_a_customer_cancels_while_payment_is_pending(local_stack: LocalStack, token: Callable[[str], str]) -> None:
    customer = token("customer@example.com")
    vehicle_id = cheapest_available(local_stack, skip=2)
    placed = graphql_data(
        local_stack, PLACE, {"input": {"vehicleId": vehicle_id, "idempotencyKey": str(uuid.uuid4())}}, customer
    )
    order_id = placed["placeOrder"]["id"]
    wait_for_status(local_stack, order_id, customer, {"AWAITING_PAYMENT"})

    cancelled = graphql_data(
        local_stack,
        "mutation($id: ID!) { cancelOrder(id: $id) { status cancellationReason } }",
        {"id": order_id},
        customer,
    )
    released = wait_for_status(local_stack, order_id, customer, {"CANCELLED"})
    time.sleep(1)  # the compensation releases the vehicle just after the cancellation
    after = graphql_data(local_stack, ORDER, {"id": order_id}, customer)["order"]

    assert cancelled["cancelOrder"] == {"status": "CANCELLED", "cancellationReason": "CUSTOMER_CANCELLED"}
    assert released["status"] == "CANCELLED"
    assert after["items"][0]["vehicle"]["status"] == "AVAILABLE"


def test_another_customer_cannot_see_or_cancel_my_order(local_stack: LocalStack, token: Callable[[str], str]) -> None:
    mine = graphql_data(
        local_stack,
        PLACE,
        {"input": {"vehicleId": cheapest_available(local_stack, skip=3), "idempotencyKey": str(uuid.uuid4())}},
        token("customer@example.com"),
    )["placeOrder"]["id"]

    seen = local_stack.graphql(ORDER, {"id": mine}, token("customer2@example.com")).json()
    cancel = local_stack.graphql(
        "mutation($id: ID!) { cancelOrder(id: $id) { status } }", {"id": mine}, token("customer2@example.com")
    ).json()

    assert seen == {"data": {"order": None}}
    assert cancel["errors"][0]["extensions"]["code"] == "NOT_FOUND"
