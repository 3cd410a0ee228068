"""invoiceStatusChanged end to end but for the socket: subscriptions through the `$default` handler, each order change
written to the emulator's table and handed to the fan-out as its stream record (the item before and after), and the
`next` messages the management API would carry recorded per connection.

An invoice changes with its order (issued as the order is paid, confirmed as it completes) and on its own (ERROR_STOCK
leaves the order PAID): its subscribers hear every invoice change and nothing else.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord

from domain.events import EventType
from domain.invoice_document import invoice_document_key
from domain.order_status import CancellationReason, InvoiceStatus, OrderStatus
from domain.orders import Invoice, Order, Payment, advance, await_payment, cancel, note
from domain.purchase import Change
from realtime import fanout
from runtime.settings import Settings
from tests.integration import test_realtime_protocol
from tests.integration.test_realtime_protocol import Realtime, reserve, stored, subscriber, write_order

INVOICE_CHANGES = "subscription($orderId: ID!) { invoiceStatusChanged(orderId: $orderId) { number status url } }"
ORDER_CHANGES = "subscription($orderId: ID!) { orderStatusChanged(orderId: $orderId) { status } }"
CUSTOMER = "customer@example.com"
NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)

# The realtime handlers and the fan-out wired to the emulator, their posts recorded: the protocol tests' fixture.
realtime = test_realtime_protocol.realtime


def image(settings: Settings, order_id: str) -> dict[str, Any]:
    """The order's item as the table holds it: what a stream record carries as its old or new image."""
    key = {"PK": {"S": f"ORDER#{order_id}"}, "SK": {"S": "ORDER"}}
    item: dict[str, Any] = boto3.client("dynamodb").get_item(
        TableName=settings.table_name, Key=key, ConsistentRead=True
    )["Item"]
    return item


def change_and_stream(realtime: Realtime, order_id: str, step: Callable[[Order], Order]) -> Order:
    """Write the order's next state, then hand the fan-out the stream record of that write."""
    services = realtime.services.api
    settings = realtime.services.settings
    before = image(settings, order_id)
    services.purchase.store.apply(Change(order=step(stored(services, order_id))))
    record = {"eventName": "MODIFY", "dynamodb": {"OldImage": before, "NewImage": image(settings, order_id)}}
    fanout.fan_out(DynamoDBRecord(record))
    return stored(services, order_id)


def subscribe(realtime: Realtime, connection_id: str, operation_id: str, query: str, order_id: str) -> None:
    payload = {"query": query, "variables": {"orderId": order_id}}
    realtime.send(connection_id, {"id": operation_id, "type": "subscribe", "payload": payload})


def messages(realtime: Realtime, connection_id: str, operation_id: str) -> list[dict[str, Any]]:
    return [message for message in realtime.sent[connection_id] if message.get("id") == operation_id]


def pushed(realtime: Realtime, connection_id: str, operation_id: str, field: str) -> list[dict[str, Any]]:
    return [
        message["payload"]["data"][field]
        for message in messages(realtime, connection_id, operation_id)
        if message["type"] == "next"
    ]


def invoices(realtime: Realtime, connection_id: str) -> list[dict[str, Any]]:
    return pushed(realtime, connection_id, "invoice", "invoiceStatusChanged")


def await_it(order: Order) -> Order:
    payment = Payment(code="PAY-INVOICE0001", amount=order.total, expires_at=NOW + timedelta(minutes=30))
    return await_payment(order, payment, NOW)


def pay_it(order: Order) -> Order:
    issued = Invoice(number="000001", status=InvoiceStatus.PENDING, issued_at=NOW)
    return replace(advance(order, OrderStatus.PAID, EventType.PAYMENT_CONFIRMED, NOW), invoice=issued)


def confirm_it(order: Order) -> Order:
    assert order.invoice is not None
    key = invoice_document_key(order.id, order.invoice.number)
    confirmed = replace(order.invoice, status=InvoiceStatus.CONFIRMED, document_key=key)
    return advance(replace(order, invoice=confirmed), OrderStatus.COMPLETED, EventType.SALE_COMPLETED, NOW)


def fail_it(order: Order) -> Order:
    assert order.invoice is not None
    failed = replace(order.invoice, status=InvoiceStatus.ERROR_STOCK, detail="the vehicle was sold meanwhile")
    return note(replace(order, invoice=failed), EventType.INVOICE_FAILED, NOW)


def compensate_it(order: Order) -> Order:
    return cancel(order, CancellationReason.VEHICLE_UNAVAILABLE, NOW)


def test_the_owner_and_staff_hear_the_invoice_issued_then_confirmed_with_its_link(
    realtime: Realtime, demo_users: dict[str, str], token_for: Callable[[str], str]
) -> None:
    order = write_order(realtime.services.api, demo_users[CUSTOMER])
    owner = subscriber(realtime, token_for(CUSTOMER))
    staff = subscriber(realtime, token_for("admin@example.com"))
    other = subscriber(realtime, token_for("customer2@example.com"))
    for connection_id in (owner, staff, other):
        subscribe(realtime, connection_id, "invoice", INVOICE_CHANGES, order.id)

    for step in (reserve, await_it, pay_it, confirm_it):
        change_and_stream(realtime, order.id, step)

    heard = invoices(realtime, owner)
    assert [(invoice["number"], invoice["status"]) for invoice in heard] == [
        ("000001", "PENDING"),
        ("000001", "CONFIRMED"),
    ]
    url = heard[1]["url"]
    assert heard[0]["url"] is None
    assert isinstance(url, str)
    assert invoice_document_key(order.id, "000001") in url
    assert "Signature" in url
    assert invoices(realtime, staff) == heard
    # Someone else's order is as absent as a missing one: refused at subscribe time, never pushed to.
    refused = [
        (message["type"], [error["extensions"]["code"] for error in message["payload"]])
        for message in messages(realtime, other, "invoice")
    ]
    assert refused == [("error", ["NOT_FOUND"])]


def test_an_invoice_that_fails_is_heard_though_the_order_stays_paid(
    realtime: Realtime, demo_users: dict[str, str], token_for: Callable[[str], str]
) -> None:
    order = write_order(realtime.services.api, demo_users[CUSTOMER])
    connection_id = subscriber(realtime, token_for(CUSTOMER))
    subscribe(realtime, connection_id, "invoice", INVOICE_CHANGES, order.id)
    subscribe(realtime, connection_id, "order", ORDER_CHANGES, order.id)

    for step in (reserve, await_it, pay_it, fail_it, compensate_it):
        change_and_stream(realtime, order.id, step)

    assert [invoice["status"] for invoice in invoices(realtime, connection_id)] == ["PENDING", "ERROR_STOCK"]
    # The order's subscribers hear its statuses only: ERROR_STOCK changed none, the cancellation no invoice.
    orders = pushed(realtime, connection_id, "order", "orderStatusChanged")
    assert [order["status"] for order in orders] == [
        "PLACED",
        "RESERVED",
        "AWAITING_PAYMENT",
        "PAID",
        "CANCELLED",
    ]


def test_a_subscriber_arriving_after_the_invoice_was_issued_hears_it_as_it_is_now(
    realtime: Realtime, demo_users: dict[str, str], token_for: Callable[[str], str]
) -> None:
    # Given an order whose invoice was issued and confirmed before anyone listened
    order = write_order(realtime.services.api, demo_users[CUSTOMER])
    for step in (reserve, await_it, pay_it, confirm_it):
        change_and_stream(realtime, order.id, step)
    # When the customer subscribes to its invoice
    connection_id = subscriber(realtime, token_for(CUSTOMER))
    subscribe(realtime, connection_id, "invoice", INVOICE_CHANGES, order.id)
    # Then the first message is the invoice as it is now, link included
    [current] = invoices(realtime, connection_id)
    assert (current["number"], current["status"]) == ("000001", "CONFIRMED")
    assert isinstance(current["url"], str)


def test_a_subscriber_to_an_order_without_an_invoice_waits_for_its_issue(
    realtime: Realtime, demo_users: dict[str, str], token_for: Callable[[str], str]
) -> None:
    order = write_order(realtime.services.api, demo_users[CUSTOMER])
    connection_id = subscriber(realtime, token_for(CUSTOMER))
    subscribe(realtime, connection_id, "invoice", INVOICE_CHANGES, order.id)
    assert messages(realtime, connection_id, "invoice") == []
    for step in (reserve, await_it, pay_it):
        change_and_stream(realtime, order.id, step)
    assert [invoice["status"] for invoice in invoices(realtime, connection_id)] == ["PENDING"]
