"""The order's payment as the table keeps it: the charge's BR Code and location, the payment that paid it and its
refunds survive the round trip, and a payment written before they existed reads with none of them."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta

from domain.events import EventType
from domain.order_status import OrderStatus
from domain.orders import (
    Order,
    Payment,
    PaymentStatus,
    Refund,
    RefundStatus,
    advance,
    await_payment,
    place_vehicle_order,
)
from domain.values import Money
from persistence.purchases import _order_model, order_from_item
from tests.unit.factories import NOW, make_vehicle

PRICE = Money.parse("189900.00")


def _awaiting(payment: Payment) -> Order:
    order, _ = place_vehicle_order(
        order_id="order-1",
        client_id="client-ana",
        vehicle=make_vehicle(),
        idempotency_key="key-00000001",
        correlation_id="corr-1",
        now=NOW,
    )
    reserved = advance(order, OrderStatus.RESERVED, EventType.INVENTORY_RESERVED, NOW)
    return await_payment(reserved, payment, NOW)


def test_a_pix_payment_with_its_refunds_reads_back_as_written() -> None:
    payment = Payment(
        code="VP0123456789abcdef0123456789abcdef",
        amount=PRICE,
        expires_at=NOW + timedelta(minutes=30),
        status=PaymentStatus.REFUND_OWED,
        received=PRICE,
        br_code="00020101021226...6304ABCD",
        location="psp.example/qr/v2/abc",
        paid_by="E99999999202612030700abcdefghijk",
        refunds=(
            Refund("D1", "E99999999202612030700abcdefghijk", PRICE, RefundStatus.FAILED, NOW, NOW),
            Refund("D2", "E99999999202612030700abcdefghijk", PRICE, RefundStatus.PENDING, NOW + timedelta(minutes=1)),
        ),
    )
    order = _awaiting(payment)
    assert order_from_item(_order_model(order)) == order


def test_a_payment_written_before_pix_reads_with_no_code_location_or_refunds() -> None:
    payment = Payment(code="PAY-ABCDEFGHIJKL", amount=PRICE, expires_at=NOW + timedelta(minutes=30))
    model = _order_model(_awaiting(payment))
    document = json.loads(model.document)
    for key in ("brCode", "location", "paidBy", "refunds"):
        del document["payment"][key]
    model.document = json.dumps(document)
    read = order_from_item(model)
    assert read.payment == replace(payment, br_code=None, location=None, paid_by=None, refunds=())
