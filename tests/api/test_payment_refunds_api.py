"""What the SPA sees of a payment the dealership owes back: what arrived (`received`), what is owed (`refundOwed`)
and a status that says so, never PAID for a cancelled order."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from domain.purchase import PaymentReceived
from domain.values import Money
from graphql_api.wiring import Services
from tests.api.conftest import GraphQLClient, Saga, register_customer

ORDER = (
    "query($id: ID!) { order(id: $id) { status cancellationReason refundOwed "
    "payment { amount status received refundOwed } } }"
)
PLACE = "mutation($i: PlaceOrderInput!) { placeOrder(input: $i) { id } }"


def _awaiting_payment(client: GraphQLClient, services: Services, saga: Saga) -> str:
    vehicle = services.catalog.create_vehicle(brand="BYD", model="Song", year=2025, color="Preto", price="172500.00")
    register_customer(services)
    placed = client.execute(
        PLACE, {"i": {"vehicleId": vehicle.id, "idempotencyKey": "key-refund-1"}}, token="customer-token"
    )
    order_id: str = placed["data"]["placeOrder"]["id"]
    saga.run()
    return order_id


def _pay(services: Services, saga: Saga, order_id: str, amount: str, event: str = "provider-1") -> None:
    order = services.orders.get_order(order_id)
    assert order is not None
    assert order.payment is not None
    received = PaymentReceived(
        code=order.payment.code, end_to_end_id=event, amount=Money.parse(amount), paid_at=datetime.now(UTC)
    )
    services.purchase.receive_payment(received)
    saga.run()


def _order(client: GraphQLClient, order_id: str) -> dict[str, Any]:
    result = client.execute(ORDER, {"id": order_id}, token="customer-token")
    assert result["errors"] == [], result
    order: dict[str, Any] = result["data"]["order"]
    return order


def test_an_underpaid_order_shows_the_money_received_and_owed_back(
    client: GraphQLClient, services: Services, saga: Saga
) -> None:
    order_id = _awaiting_payment(client, services, saga)
    assert _order(client, order_id)["payment"] == {
        "amount": "172500.00",
        "status": "PENDING",
        "received": "0.00",
        "refundOwed": None,
    }

    _pay(services, saga, order_id, "1.00")

    order = _order(client, order_id)
    assert (order["status"], order["cancellationReason"], order["refundOwed"]) == (
        "CANCELLED",
        "PAYMENT_FAILED",
        "1.00",
    )
    assert order["payment"] == {
        "amount": "172500.00",
        "status": "REFUND_OWED",
        "received": "1.00",
        "refundOwed": "1.00",
    }


def test_a_paid_order_shows_it_received_its_amount(client: GraphQLClient, services: Services, saga: Saga) -> None:
    order_id = _awaiting_payment(client, services, saga)

    _pay(services, saga, order_id, "172500.00")

    order = _order(client, order_id)
    assert order["status"] == "COMPLETED"
    assert order["payment"] == {"amount": "172500.00", "status": "PAID", "received": "172500.00", "refundOwed": None}


def test_money_after_a_cancellation_shows_as_owed_back(client: GraphQLClient, services: Services, saga: Saga) -> None:
    order_id = _awaiting_payment(client, services, saga)
    cancel = client.execute(
        "mutation($id: ID!) { cancelOrder(id: $id) { status } }", {"id": order_id}, token="customer-token"
    )
    assert cancel["errors"] == []
    saga.run()

    _pay(services, saga, order_id, "172500.00")

    order = _order(client, order_id)
    assert order["status"] == "CANCELLED"
    assert order["payment"] == {
        "amount": "172500.00",
        "status": "REFUND_OWED",
        "received": "172500.00",
        "refundOwed": "172500.00",
    }


def test_the_charge_and_the_refunds_of_the_money_owed_back_are_shown(
    client: GraphQLClient, services: Services, saga: Saga
) -> None:
    order_id = _awaiting_payment(client, services, saga)
    _pay(services, saga, order_id, "1.00", event="E-UNDERPAID")
    refund = services.purchase.refund_owed(order_id=order_id, end_to_end_id="E-UNDERPAID", amount=Money.parse("1.00"))

    query = (
        "query($id: ID!) { order(id: $id) { payment { brCode location "
        "refunds { id amount status requestedAt completedAt } } } }"
    )
    result = client.execute(query, {"id": order_id}, token="customer-token")

    assert result["errors"] == [], result
    payment = result["data"]["order"]["payment"]
    # The charge's BR Code (to copy, and to draw as a QR code) and its location at the PSP.
    order = services.orders.get_order(order_id)
    assert order is not None
    assert order.payment is not None
    assert payment["brCode"] == order.payment.br_code
    assert payment["brCode"].startswith("000201")
    assert payment["location"] == order.payment.location
    (shown,) = payment["refunds"]
    assert (shown["id"], shown["amount"], shown["status"]) == (refund.id, "1.00", "REFUNDED")
    assert shown["requestedAt"] is not None
    assert shown["completedAt"] is not None
