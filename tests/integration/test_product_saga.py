"""Product orders through the running saga against the emulator: stock reserved in DynamoDB transactions, orders
waiting for stock resumed from the table's stream, invoices confirmed with their document in S3, ERROR_STOCK."""

from __future__ import annotations

import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from typing import Any

import boto3

pytest_plugins = ["tests.integration.saga_harness"]

from domain.clients import Client  # noqa: E402
from domain.order_status import CancellationReason, InvoiceStatus, OrderStatus  # noqa: E402
from domain.orders import ItemStatus, Order  # noqa: E402
from domain.products import Product  # noqa: E402
from domain.values import Money  # noqa: E402
from persistence.models import ProductItem  # noqa: E402
from platform_spec.storage import INVOICES_BUCKET  # noqa: E402
from tests.integration.saga_harness import SagaHarness, new_key  # noqa: E402

WAITING = {OrderStatus.AWAITING_PAYMENT, OrderStatus.PENDING_STOCK}


def _product(saga: SagaHarness, *, price: str = "150.00", stock: int = 10) -> Product:
    return saga.services.catalog.create_product(
        sku=f"PRD-{uuid.uuid4().hex[:8].upper()}",
        description="Fone de Ouvido Bluetooth",
        unit_price=Decimal(price),
        initial_stock=stock,
    )


def _stock(saga: SagaHarness, sku: str) -> tuple[int, int, int]:
    product = saga.services.products.get(sku)
    assert product is not None
    return product.stock_on_hand, product.stock_reserved, product.stock_available


def _place(saga: SagaHarness, client: Client, lines: list[tuple[str, int]]) -> Order:
    return saga.services.purchase.place_product_order(
        client_id=client.id, lines=lines, idempotency_key=new_key(), order_id=new_key(), correlation_id=new_key()
    )


def _s3(saga: SagaHarness) -> Any:
    return boto3.client("s3", endpoint_url=saga.emulator, region_name=saga.settings.region)


def test_a_product_order_is_reserved_paid_invoiced_and_its_invoice_downloadable(saga: SagaHarness) -> None:
    # Given two products in stock and a client
    client = saga.register_buyer("Mariana Alves")
    phone = _product(saga, price="2500.00")
    headset = _product(saga, price="150.00")
    # When the client orders one phone and two headsets, and pays
    order = _place(saga, client, [(phone.sku, 1), (headset.sku, 2)])
    awaiting = saga.wait_for_status(order.id, OrderStatus.AWAITING_PAYMENT)
    assert [item.status for item in awaiting.items] == [ItemStatus.RESERVED, ItemStatus.RESERVED]
    assert _stock(saga, headset.sku) == (10, 2, 8)
    assert saga.pay(awaiting).status == 200
    # Then the sale completes, the stock leaves the shelf, and the invoice is confirmed
    done = saga.wait_for_status(order.id, OrderStatus.COMPLETED)
    assert _stock(saga, phone.sku) == (9, 0, 9)
    assert _stock(saga, headset.sku) == (8, 0, 8)
    invoice = done.invoice
    assert invoice is not None
    assert invoice.status is InvoiceStatus.CONFIRMED
    assert invoice.number.isdigit()
    assert len(invoice.number) == 9
    # And its document, in the invoices bucket, has the buyer, the items and the totals
    assert invoice.document_key == f"invoices/{order.id}/NF-{invoice.number}.html"
    stored = _s3(saga).get_object(Bucket=INVOICES_BUCKET, Key=invoice.document_key)
    assert stored["ContentType"].startswith("text/html")
    document = stored["Body"].read().decode()
    for text in ("Mariana Alves", str(client.cpf), "R$ 2.500,00", "R$ 300,00", "R$ 2.800,00", invoice.number):
        assert text in document
    # And the short-lived link the API hands out opens it
    link = saga.services.invoices.link(invoice.document_key)
    with urllib.request.urlopen(link, timeout=10) as response:  # noqa: S310 - the emulator's presigned URL
        assert response.read().decode() == document
    saga.wait_for_emails(order.id, 1)


def test_concurrent_orders_for_the_last_units_never_oversell(saga: SagaHarness) -> None:
    # Given five units and twelve clients ordering one each, at once
    product = _product(saga, stock=5)
    clients = [saga.register_buyer() for _ in range(12)]
    with ThreadPoolExecutor(12) as pool:
        orders = list(pool.map(lambda client: _place(saga, client, [(product.sku, 1)]), clients))
    settled = [
        saga.wait_for(order.id, lambda o: o.status in WAITING, what="to be reserved or waiting") for order in orders
    ]
    # Then exactly five are reserved, seven wait, and the stock is exactly used up, never below zero
    statuses = [order.status for order in settled]
    assert statuses.count(OrderStatus.AWAITING_PAYMENT) == 5
    assert statuses.count(OrderStatus.PENDING_STOCK) == 7
    assert _stock(saga, product.sku) == (5, 5, 0)


def test_an_order_waiting_for_stock_goes_on_when_the_stock_arrives(saga: SagaHarness) -> None:
    # Given a product with one unit and an order for three
    product = _product(saga, stock=1)
    client = saga.register_buyer()
    order = _place(saga, client, [(product.sku, 3)])
    pending = saga.wait_for_status(order.id, OrderStatus.PENDING_STOCK)
    assert [item.status for item in pending.items] == [ItemStatus.PENDING]
    assert pending.history[-1].event == "StockPending"
    # When staff record a delivery of five
    saga.services.catalog.adjust_stock(product.sku, 5)
    # Then the order is reserved without anyone touching it, and goes on to payment
    resumed = saga.wait_for_status(order.id, OrderStatus.AWAITING_PAYMENT)
    assert [item.status for item in resumed.items] == [ItemStatus.RESERVED]
    assert _stock(saga, product.sku) == (6, 3, 3)


def test_a_cancelled_order_gives_its_units_to_the_order_waiting_for_them(saga: SagaHarness) -> None:
    # Given two units held by one order, and a second order waiting for two
    product = _product(saga, stock=2)
    first = _place(saga, saga.register_buyer(), [(product.sku, 2)])
    saga.wait_for_status(first.id, OrderStatus.AWAITING_PAYMENT)
    second = _place(saga, saga.register_buyer(), [(product.sku, 2)])
    saga.wait_for_status(second.id, OrderStatus.PENDING_STOCK)
    # When the first customer cancels
    saga.cancel(saga.order(first.id))
    # Then the released units go to the waiting order
    saga.wait_for_status(first.id, OrderStatus.CANCELLED)
    saga.wait_for_status(second.id, OrderStatus.AWAITING_PAYMENT)
    assert _stock(saga, product.sku) == (2, 2, 0)


def test_stock_that_cannot_be_committed_puts_the_invoice_in_error_and_the_money_is_owed(saga: SagaHarness) -> None:
    # Given an order awaiting payment whose reserved units were taken off the shelf behind the application's back
    product = _product(saga, stock=3)
    order = _place(saga, saga.register_buyer(), [(product.sku, 2)])
    awaiting = saga.wait_for_status(order.id, OrderStatus.AWAITING_PAYMENT)
    corrupted = ProductItem.get(*ProductItem.key(product.sku))
    corrupted.update(actions=[ProductItem.stock_on_hand.set(1), ProductItem.stock_available.set(-1)])
    # When it is paid
    assert saga.pay(awaiting).status == 200
    # Then the invoice is ERROR_STOCK, the order cancelled out of stock, the payment owed back, the units released
    cancelled = saga.wait_for_status(order.id, OrderStatus.CANCELLED)
    assert cancelled.invoice is not None
    assert cancelled.invoice.status is InvoiceStatus.ERROR_STOCK
    assert cancelled.cancellation_reason is CancellationReason.OUT_OF_STOCK
    assert cancelled.refund_owed == Money.parse("300.00")
    assert _stock(saga, product.sku) == (1, 0, 1)
    [email] = saga.wait_for_emails(order.id, 1)
    assert "será devolvido" in email["body"]
