"""POST /webhooks/pix: sagas.webhook.handler called with API Gateway HTTP API events, against the emulator.

The saga's pollers are not running: each test looks at what the webhook itself wrote (the outbox record of the
event it emits, the payment record, the Pix's receipt) and at what it answered.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from typing import Any

import pytest

pytest.register_assert_rewrite("tests.integration.saga_harness")

from domain.clients import Client  # noqa: E402
from domain.events import EventType  # noqa: E402
from domain.order_status import OrderStatus  # noqa: E402
from domain.orders import Order, PaymentStatus, RefundStatus  # noqa: E402
from domain.values import Money  # noqa: E402
from pix.model import Devolucao, DevolucaoStatus, Pix  # noqa: E402
from tests.integration.saga_harness import (  # noqa: E402
    WEBHOOK_SECRET,
    SagaHarness,
    WebhookAnswer,
    call_webhook,
    webhook_body,
)

pytest_plugins = ["tests.integration.saga_harness"]

UNAUTHENTICATED = WebhookAnswer(401, {"error": "unauthenticated"})
PRICE = "64990.90"


@pytest.fixture
def harness(saga_settings: SagaHarness) -> SagaHarness:
    return saga_settings


@pytest.fixture
def order(harness: SagaHarness) -> Order:
    """An order in AWAITING_PAYMENT (vehicle reserved, payment pending), written directly."""
    buyer: Client = harness.register_buyer("Paula Pagadora")
    return harness.write_awaiting_payment(buyer, harness.create_vehicle(PRICE))


def code_of(order: Order) -> str:
    assert order.payment is not None
    return order.payment.code


def end_to_end_id() -> str:
    return f"E99999999{datetime.now(UTC):%Y%m%d%H%M}" + secrets.token_hex(6)[:11]


def pix_for(order: Order, amount: str = PRICE, **fields: Any) -> Pix:
    """A Pix paying the order's charge, as the PSP would post it."""
    return Pix(
        end_to_end_id=fields.pop("end_to_end_id", None) or end_to_end_id(),
        valor=Money.parse(amount),
        horario=datetime.now(UTC),
        txid=code_of(order),
        **fields,
    )


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


def test_a_pix_paying_the_charge_is_accepted_and_emits_payment_confirmed(harness: SagaHarness, order: Order) -> None:
    pix = pix_for(order)

    answer = call_webhook(webhook_body(pix))

    assert answer == WebhookAnswer(200, {"received": 1, "newPayments": 1, "refundsChanged": 0})
    [event] = harness.outbox(order.id)
    assert event.event_type is EventType.PAYMENT_CONFIRMED
    assert dict(event.payload) == {
        "paymentCode": code_of(order),
        "amount": PRICE,
        "providerEventId": pix.end_to_end_id,
    }
    assert (event.order_id, event.correlation_id) == (order.id, order.correlation_id)
    assert payment_item(harness, order)["status"] == PaymentStatus.PAID.value
    # The webhook only emits the event: the saga moves the order
    assert harness.order(order.id).status is OrderStatus.AWAITING_PAYMENT


def test_the_same_pix_again_changes_nothing(harness: SagaHarness, order: Order) -> None:
    body = webhook_body(pix_for(order))
    assert call_webhook(body).body == {"received": 1, "newPayments": 1, "refundsChanged": 0}

    # The PSP retries its call
    again = call_webhook(body)

    assert again == WebhookAnswer(200, {"received": 1, "newPayments": 0, "refundsChanged": 0})
    assert [event.event_type for event in harness.outbox(order.id)] == [EventType.PAYMENT_CONFIRMED]


def test_a_batch_applies_each_pix_once_and_its_replays_are_harmless(harness: SagaHarness, order: Order) -> None:
    # Two Pix for the same charge (the customer paid twice) and one that pays no charge of ours, in one call
    first, second = pix_for(order), pix_for(order)
    stranger = Pix(end_to_end_id=end_to_end_id(), valor=Money.parse("10.00"), horario=datetime.now(UTC))

    answer = call_webhook(webhook_body(first, stranger, second, first))

    assert answer == WebhookAnswer(200, {"received": 4, "newPayments": 2, "refundsChanged": 0})
    confirmed = harness.outbox(order.id, EventType.PAYMENT_CONFIRMED)
    assert sorted(event.payload["providerEventId"] for event in confirmed) == sorted(
        [first.end_to_end_id, second.end_to_end_id]
    )


def test_a_refund_settled_at_the_psp_is_recorded_on_the_order_once(harness: SagaHarness, order: Order) -> None:
    paid = pix_for(order)
    assert call_webhook(webhook_body(paid)).status == 200
    refund = Devolucao(
        id="D" + "a" * 32,
        rtr_id=f"D99999999{datetime.now(UTC):%Y%m%d%H%M}" + "b" * 11,
        valor=Money.parse(PRICE),
        status=DevolucaoStatus.DEVOLVIDO,
        solicitacao=datetime.now(UTC),
        liquidacao=datetime.now(UTC),
    )
    settled = Pix(
        end_to_end_id=paid.end_to_end_id, valor=paid.valor, horario=paid.horario, txid=paid.txid, devolucoes=(refund,)
    )

    assert call_webhook(webhook_body(settled)).body == {"received": 1, "newPayments": 0, "refundsChanged": 1}
    assert call_webhook(webhook_body(settled)).body == {"received": 1, "newPayments": 0, "refundsChanged": 0}

    stored = harness.order(order.id)
    assert stored.payment is not None
    assert [(r.id, r.status) for r in stored.payment.refunds] == [(refund.id, RefundStatus.REFUNDED)]


def test_a_pix_of_a_charge_no_order_issued_is_accepted_and_changes_nothing(harness: SagaHarness, order: Order) -> None:
    unknown = Pix(
        end_to_end_id=end_to_end_id(), valor=Money.parse(PRICE), horario=datetime.now(UTC), txid="VP" + "0" * 32
    )

    assert call_webhook(webhook_body(unknown)) == WebhookAnswer(
        200, {"received": 1, "newPayments": 0, "refundsChanged": 0}
    )
    assert_nothing_recorded(harness, order)


def test_an_empty_list_is_accepted(harness: SagaHarness, order: Order) -> None:
    assert call_webhook({"pix": []}) == WebhookAnswer(200, {"received": 0, "newPayments": 0, "refundsChanged": 0})
    assert_nothing_recorded(harness, order)


# --- unauthenticated calls -----------------------------------------------------------------------------------------


def test_a_call_with_another_secret_is_refused(harness: SagaHarness, order: Order) -> None:
    assert call_webhook(webhook_body(pix_for(order)), secret="not-" + WEBHOOK_SECRET) == UNAUTHENTICATED
    assert_nothing_recorded(harness, order)


def test_a_call_without_the_secret_header_is_refused(harness: SagaHarness, order: Order) -> None:
    assert call_webhook(webhook_body(pix_for(order)), secret=None) == UNAUTHENTICATED
    assert_nothing_recorded(harness, order)


def test_an_unauthenticated_malformed_call_is_refused_before_it_is_read(harness: SagaHarness, order: Order) -> None:
    assert call_webhook("{not json", secret="") == UNAUTHENTICATED
    assert_nothing_recorded(harness, order)


# --- authenticated, but not acceptable -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    ['{"pix": [', "[" * 1000 + "]" * 1000, '{"pix": [{"valor": NaN}]}'],
    ids=["truncated", "nested-1000-deep", "nan"],
)
def test_a_body_that_is_not_json_is_a_bad_request_naming_it(harness: SagaHarness, order: Order, body: str) -> None:
    answer = call_webhook(body)

    assert answer.status == 400
    assert answer.body["field"] == "body"
    assert_nothing_recorded(harness, order)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ("null", "body"),
        ('"text"', "body"),
        ("{}", "pix"),
        ('{"pix": {}}', "pix"),
    ],
    ids=["null", "text", "no-pix", "pix-not-a-list"],
)
def test_a_json_body_that_is_not_a_notification_is_a_bad_request(
    harness: SagaHarness, order: Order, body: str, field: str
) -> None:
    answer = call_webhook(body)

    assert answer.status == 400
    assert answer.body["field"] == field
    assert_nothing_recorded(harness, order)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"endToEndId": ""}, "pix[0].endToEndId"),
        ({"endToEndId": "E123"}, "pix[0].endToEndId"),
        ({"valor": "-5.00"}, "pix[0].valor"),
        ({"valor": "1.001"}, "pix[0].valor"),
        ({"valor": "abc"}, "pix[0].valor"),
        ({"horario": "yesterday"}, "pix[0].horario"),
        ({"txid": "not a txid!"}, "pix[0].txid"),
    ],
    ids=["empty-e2eid", "short-e2eid", "negative", "sub-cent", "letters", "bad-time", "bad-txid"],
)
def test_a_pix_missing_what_is_needed_is_a_bad_request_naming_the_field_and_nothing_of_the_batch_applies(
    harness: SagaHarness, order: Order, change: dict[str, Any], field: str
) -> None:
    broken = {**pix_for(order).to_json(), **change}

    answer = call_webhook({"pix": [broken, pix_for(order).to_json()]})

    assert answer.status == 400
    assert answer.body["field"] == field
    assert_nothing_recorded(harness, order)
