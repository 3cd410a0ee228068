"""A customer orders products on the local stack, pays, and downloads the invoice; an order for more than the
shelf holds waits, and goes on when staff record a delivery. All over HTTP, as the SPA does."""

from __future__ import annotations

import urllib.request
import uuid
from collections.abc import Callable
from typing import Any

import pytest

from tests.e2e.conftest import LocalStack
from tests.e2e.test_purchase import graphql_data, wait_for_status

pytestmark = pytest.mark.e2e

PLACE = """
mutation($input: PlaceOrderInput!) { placeOrder(input: $input) { id status total items { productId quantity } } }
"""
ORDER = """
query($id: ID!) {
  order(id: $id) {
    status total
    payment { code amount }
    items { productId quantity status }
    invoice { number status url }
  }
}
"""
CREATE_PRODUCT = """
mutation($input: CreateProductInput!) { createProduct(input: $input) { sku stockAvailable } }
"""
ADJUST = "mutation($sku: ID!, $delta: Int!) { adjustStock(productId: $sku, delta: $delta) { stockAvailable } }"


def wait_for(stack: LocalStack, order_id: str, token: str, statuses: set[str]) -> dict[str, Any]:
    return wait_for_status(stack, order_id, token, statuses, query=ORDER)


def new_product(stack: LocalStack, admin: str, stock: int) -> str:
    sku = f"PRD-{uuid.uuid4().hex[:6].upper()}"
    product = {"sku": sku, "description": "Carregador veicular", "unitPrice": "89.90", "initialStock": stock}
    graphql_data(stack, CREATE_PRODUCT, {"input": product}, admin)
    return sku


def test_a_customer_orders_products_pays_and_downloads_the_invoice(
    local_stack: LocalStack, token: Callable[[str], str]
) -> None:
    customer = token("customer@example.com")
    items = [{"productId": "PRD-1001", "quantity": 1}, {"productId": "PRD-2002", "quantity": 2}]
    placed = graphql_data(
        local_stack, PLACE, {"input": {"items": items, "idempotencyKey": str(uuid.uuid4())}}, customer
    )["placeOrder"]
    assert placed["status"] == "PLACED"
    assert placed["total"] == "2800.00"

    awaiting = wait_for(local_stack, placed["id"], customer, {"AWAITING_PAYMENT", "PENDING_STOCK", "CANCELLED"})
    assert awaiting["status"] == "AWAITING_PAYMENT", awaiting
    assert {item["status"] for item in awaiting["items"]} == {"RESERVED"}
    assert awaiting["invoice"] is None
    local_stack.cli("pay", awaiting["payment"]["code"])

    completed = wait_for(local_stack, placed["id"], customer, {"COMPLETED", "CANCELLED"})
    assert completed["status"] == "COMPLETED", completed
    invoice = completed["invoice"]
    assert invoice["status"] == "CONFIRMED"
    with urllib.request.urlopen(invoice["url"], timeout=10) as response:  # noqa: S310 - the emulator's link
        document = response.read().decode()
    assert f"Nº {invoice['number']}" in document
    assert "R$ 2.800,00" in document
    assert "Smartphone XYZ" in document


def test_an_order_waits_for_stock_and_goes_on_when_staff_record_a_delivery(
    local_stack: LocalStack, token: Callable[[str], str]
) -> None:
    customer, admin = token("customer@example.com"), token("admin@example.com")
    sku = new_product(local_stack, admin, stock=1)
    placed = graphql_data(
        local_stack,
        PLACE,
        {"input": {"items": [{"productId": sku, "quantity": 3}], "idempotencyKey": str(uuid.uuid4())}},
        customer,
    )["placeOrder"]
    pending = wait_for(local_stack, placed["id"], customer, {"PENDING_STOCK", "AWAITING_PAYMENT", "CANCELLED"})
    assert pending["status"] == "PENDING_STOCK", pending
    assert [item["status"] for item in pending["items"]] == ["PENDING"]
    mail = local_stack.cli("mail").stdout
    assert placed["id"] in mail  # the pending-stock notification reached the staff

    graphql_data(local_stack, ADJUST, {"sku": sku, "delta": 5}, admin)
    resumed = wait_for(local_stack, placed["id"], customer, {"AWAITING_PAYMENT", "CANCELLED"})
    assert resumed["status"] == "AWAITING_PAYMENT", resumed
    assert [item["status"] for item in resumed["items"]] == ["RESERVED"]
