"""Order.invoice through GraphQL: absent until payment, then numbered, and linked to its document once CONFIRMED."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from domain.order_status import InvoiceStatus
from domain.orders import Invoice, Order
from domain.purchase import Change
from graphql_api.wiring import Services
from tests.api.conftest import GraphQLClient, Saga, register_customer

KEY = "6b1d3f2a-invoice-order"
PLACE = """
mutation Place($input: PlaceOrderInput!) { placeOrder(input: $input) { id invoice { number status url } } }
"""
INVOICE = "query($id: ID!) { order(id: $id) { status invoice { number status issuedAt url } } }"


@pytest.fixture
def placed(client: GraphQLClient, services: Services) -> str:
    """The id of the customer's order for two mats, just placed."""
    register_customer(services)
    services.catalog.create_product(
        sku="PRD-1001", description="Tapete de borracha", unit_price="49.90", initial_stock=5
    )
    items = [{"productId": "PRD-1001", "quantity": 2}]
    result = client.execute(PLACE, {"input": {"idempotencyKey": KEY, "items": items}}, token="customer-token")
    assert result["errors"] == []
    order_id: str = result["data"]["placeOrder"]["id"]
    return order_id


def invoice_of(client: GraphQLClient, order_id: str, user: str = "customer") -> dict[str, Any]:
    result = client.execute(INVOICE, {"id": order_id}, token=f"{user}-token")
    assert result["errors"] == []
    order: dict[str, Any] = result["data"]["order"]
    return order


def stored(services: Services, order_id: str) -> Order:
    order = services.orders.get_order(order_id)
    assert order is not None
    return order


def test_there_is_no_invoice_before_payment(client: GraphQLClient, saga: Saga, placed: str) -> None:
    assert invoice_of(client, placed)["invoice"] is None

    saga.run()

    assert invoice_of(client, placed) == {"status": "AWAITING_PAYMENT", "invoice": None}


def test_a_paid_order_has_a_confirmed_invoice_with_a_link_to_its_document(
    client: GraphQLClient, services: Services, saga: Saga, placed: str
) -> None:
    saga.run()

    completed = saga.pay(placed)

    assert completed.invoice is not None
    assert completed.invoice.document_key is not None
    order = invoice_of(client, placed)
    assert order["status"] == "COMPLETED"
    assert order["invoice"] == {
        "number": completed.invoice.number,
        "status": "CONFIRMED",
        "issuedAt": completed.invoice.issued_at.isoformat(),
        "url": services.invoices.link(completed.invoice.document_key),
    }
    # Staff see the same invoice.
    assert invoice_of(client, placed, user="admin")["invoice"] == order["invoice"]


@pytest.mark.parametrize("status", [InvoiceStatus.PENDING, InvoiceStatus.ERROR_STOCK])
def test_an_invoice_not_confirmed_has_no_link(
    client: GraphQLClient, services: Services, placed: str, status: InvoiceStatus
) -> None:
    order = stored(services, placed)
    # A document key without confirmation (a store before a failed commit) must not be handed out either.
    invoice = Invoice(number="000042", status=status, issued_at=order.placed_at, document_key="invoices/000042.html")
    services.purchase.store.apply(Change(order=replace(order, invoice=invoice)))

    assert invoice_of(client, placed)["invoice"] == {
        "number": "000042",
        "status": status.value,
        "issuedAt": order.placed_at.isoformat(),
        "url": None,
    }


def test_the_link_is_signed_only_when_asked_for(
    client: GraphQLClient, services: Services, saga: Saga, placed: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    saga.run()
    saga.pay(placed)
    signed: list[str] = []
    link = services.invoices.link

    def counting(key: str) -> str:
        signed.append(key)
        return link(key)

    monkeypatch.setattr(services.invoices, "link", counting)
    result = client.execute(
        "query($id: ID!) { order(id: $id) { invoice { number status } } }", {"id": placed}, token="customer-token"
    )

    assert result["data"]["order"]["invoice"]["status"] == "CONFIRMED"
    assert signed == []
