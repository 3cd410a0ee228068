"""POST /webhooks/payments: sagas.webhook.handler called with API Gateway HTTP API events, against the emulator.

The saga's pollers are not running: each test looks at what the webhook itself wrote (the outbox record of the
event it emits, the payment record, the provider's receipt) and at what it answered.
"""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

import pytest

pytest.register_assert_rewrite("tests.integration.saga_harness")

from domain.clients import Client  # noqa: E402
from domain.events import EventType  # noqa: E402
from domain.order_status import OrderStatus  # noqa: E402
from domain.orders import Order, PaymentStatus  # noqa: E402
from tests.integration.saga_harness import (  # noqa: E402
    WEBHOOK_SECRET,
    SagaHarness,
    WebhookAnswer,
    call_webhook,
    webhook_body,
)

pytest_plugins = ["tests.integration.saga_harness"]

REFUSED_SIGNATURE = WebhookAnswer(401, {"error": "invalid signature"})


@pytest.fixture
def harness(saga_settings: SagaHarness) -> SagaHarness:
    return saga_settings


@pytest.fixture
def order(harness: SagaHarness) -> Order:
    """An order in AWAITING_PAYMENT (vehicle reserved, payment code pending), written directly."""
    buyer: Client = harness.register_buyer("Paula Pagadora")
    return harness.write_awaiting_payment(buyer, harness.create_vehicle("64990.90"))


def code_of(order: Order) -> str:
    assert order.payment is not None
    return order.payment.code


def payment_item(harness: SagaHarness, order: Order) -> dict[str, Any]:
    [item] = harness.items(f"PAYMENT#{code_of(order)}")
    return item


def assert_nothing_recorded(harness: SagaHarness, order: Order) -> None:
    """No event emitted, the payment still pending, the order as it was."""
    assert harness.outbox(order.id) == []
    assert payment_item(harness, order)["status"] == PaymentStatus.PENDING.value
    assert harness.items("RECEIPT#") == []
    stored = harness.order(order.id)
    assert (stored.status, stored.version) == (OrderStatus.AWAITING_PAYMENT, order.version)


# --- accepted calls ------------------------------------------------------------------------------------------------


def test_a_signed_confirmation_is_accepted_and_emits_payment_confirmed(harness: SagaHarness, order: Order) -> None:
    body = webhook_body(code_of(order), "64990.90", event_id="evt_confirmed_1")

    answer = call_webhook(body)

    assert answer == WebhookAnswer(200, {"received": True, "duplicate": False})
    [event] = harness.outbox(order.id)
    assert event.event_type is EventType.PAYMENT_CONFIRMED
    assert dict(event.payload) == {
        "paymentCode": code_of(order),
        "amount": "64990.90",
        "providerEventId": "evt_confirmed_1",
    }
    assert (event.order_id, event.correlation_id) == (order.id, order.correlation_id)
    assert payment_item(harness, order)["status"] == PaymentStatus.PAID.value
    # The webhook only emits the event: the saga moves the order
    assert harness.order(order.id).status is OrderStatus.AWAITING_PAYMENT


def test_the_same_provider_event_again_is_a_duplicate_with_no_second_event(harness: SagaHarness, order: Order) -> None:
    body = webhook_body(code_of(order), "64990.90", event_id="evt_replayed")
    assert call_webhook(body).body == {"received": True, "duplicate": False}

    # The provider retries the same event (signed anew, a moment later)
    again = call_webhook(body, signed_at=time.time() + 1)

    assert again == WebhookAnswer(200, {"received": True, "duplicate": True})
    assert [event.event_type for event in harness.outbox(order.id)] == [EventType.PAYMENT_CONFIRMED]


def test_a_signed_failure_is_accepted_and_emits_payment_failed(harness: SagaHarness, order: Order) -> None:
    answer = call_webhook(webhook_body(code_of(order), "64990.90", fail=True, event_id="evt_failed_1"))

    assert answer == WebhookAnswer(200, {"received": True, "duplicate": False})
    [event] = harness.outbox(order.id)
    assert event.event_type is EventType.PAYMENT_FAILED
    assert dict(event.payload) == {
        "paymentCode": code_of(order),
        "providerEventId": "evt_failed_1",
        "detail": "card declined",
    }
    assert payment_item(harness, order)["status"] == PaymentStatus.FAILED.value


# --- refused signatures --------------------------------------------------------------------------------------------


def test_a_call_signed_with_another_secret_is_refused(harness: SagaHarness, order: Order) -> None:
    answer = call_webhook(webhook_body(code_of(order), "64990.90"), secret="not-" + WEBHOOK_SECRET)

    assert answer == REFUSED_SIGNATURE
    assert_nothing_recorded(harness, order)


def test_a_body_changed_after_signing_is_refused(harness: SagaHarness, order: Order) -> None:
    from runtime.webhook_signature import sign

    signed = json.dumps(webhook_body(code_of(order), "1.00"))
    sent = json.dumps(webhook_body(code_of(order), "64990.90"))
    signature = sign(WEBHOOK_SECRET.encode(), int(time.time()), signed.encode())

    assert call_webhook(sent, signature=signature) == REFUSED_SIGNATURE
    assert_nothing_recorded(harness, order)


def test_a_call_without_a_signature_header_is_refused(harness: SagaHarness, order: Order) -> None:
    assert call_webhook(webhook_body(code_of(order), "64990.90"), signed=False) == REFUSED_SIGNATURE
    assert_nothing_recorded(harness, order)


@pytest.mark.parametrize("header", ["", "garbage", "t=,v1=", "v1=abc", "t=1700000000", "t=99999999999999999,v1=ab"])
def test_a_malformed_signature_header_is_refused(harness: SagaHarness, order: Order, header: str) -> None:
    answer = call_webhook(webhook_body(code_of(order), "64990.90"), signature=header)

    assert answer == REFUSED_SIGNATURE
    assert_nothing_recorded(harness, order)


@pytest.mark.parametrize("age_seconds", [600, -600], ids=["ten-minutes-old", "ten-minutes-ahead"])
def test_a_call_signed_ten_minutes_away_from_now_is_refused(
    harness: SagaHarness, order: Order, age_seconds: int
) -> None:
    answer = call_webhook(webhook_body(code_of(order), "64990.90"), signed_at=time.time() - age_seconds)

    assert answer == REFUSED_SIGNATURE
    assert_nothing_recorded(harness, order)


# --- signed, but not acceptable ------------------------------------------------------------------------------------


def test_an_unknown_payment_code_is_not_found(harness: SagaHarness, order: Order) -> None:
    answer = call_webhook(webhook_body("PAY-NOSUCHCODE1", "64990.90"))

    assert answer.status == 404
    assert "PAY-NOSUCHCODE1" in answer.body["error"]
    assert_nothing_recorded(harness, order)


@pytest.mark.parametrize(
    "body",
    [
        '{"id": "evt_1", "type": "payment.confirmed", "data": {',
        # Correctly signed, and deeper than json.loads can recurse: it was a 500.
        "[" * 1000 + "]" * 1000,
        '{"id": "evt_1", "type": "payment.confirmed", "data": {"code": "PAY-1", "amount": NaN}}',
    ],
    ids=["truncated", "nested-1000-deep", "nan"],
)
def test_a_body_that_is_not_json_is_a_bad_request_naming_it(harness: SagaHarness, order: Order, body: str) -> None:
    answer = call_webhook(body)

    assert answer.status == 400
    assert answer.body["field"] == "body"
    assert_nothing_recorded(harness, order)


def _with(body: dict[str, Any], **changes: Any) -> dict[str, Any]:
    changed = {**body, **{name: value for name, value in changes.items() if name != "data"}}
    if "data" in changes:
        changed["data"] = {**body["data"], **changes["data"]}
    return changed


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"id": ""}, "id"),
        ({"id": 42}, "id"),
        ({"type": "payment.refunded"}, "type"),
        ({"data": {"code": ""}}, "data.code"),
        ({"data": {"code": None}}, "data.code"),
        ({"data": {"amount": "-5.00"}}, "data.amount"),
        ({"data": {"amount": "1.001"}}, "data.amount"),
    ],
    ids=["empty-id", "numeric-id", "unknown-type", "empty-code", "null-code", "negative-amount", "sub-cent-amount"],
)
def test_a_body_missing_what_is_needed_is_a_bad_request_naming_the_field(
    harness: SagaHarness, order: Order, change: dict[str, Any], field: str
) -> None:
    answer = call_webhook(_with(webhook_body(code_of(order), "64990.90"), **change))

    assert answer.status == 400
    assert answer.body["field"] == field
    assert_nothing_recorded(harness, order)


@pytest.mark.parametrize("body", ["null", "[]", '"text"', '{"id": "evt_1", "type": "payment.confirmed"}'])
def test_a_json_body_that_is_not_a_notification_is_a_bad_request(harness: SagaHarness, order: Order, body: str) -> None:
    answer = call_webhook(body)

    assert answer.status == 400
    assert answer.body["field"] == "body"
    assert_nothing_recorded(harness, order)


@pytest.mark.parametrize("amount", ["abc", "", [1], {"value": 1}], ids=["letters", "empty", "list", "object"])
def test_an_amount_that_is_not_a_number_is_a_bad_request(harness: SagaHarness, order: Order, amount: Any) -> None:
    body = webhook_body(code_of(order), "64990.90", event_id=f"evt_{uuid.uuid4().hex}")
    body["data"]["amount"] = amount

    answer = call_webhook(body)

    assert answer.status == 400
    assert answer.body["field"] == "data.amount"
    assert_nothing_recorded(harness, order)
