"""What the client is told and what the sales feed hears: the texts, and exactly once per event despite retries."""

from __future__ import annotations

from datetime import timedelta

import pytest

from domain.events import (
    PAYLOAD_TYPES,
    DomainEvent,
    EventType,
    OrderCancelled,
    RefundCompleted,
    RefundOwed,
    SaleCompleted,
)
from domain.notifications import LEASE_SECONDS, Claim, NotificationInProgress, compose, sale_notice
from domain.order_status import CancellationReason
from domain.orders import Order, place_vehicle_order
from domain.purchase import Change
from tests.unit.factories import NOW, make_vehicle
from tests.unit.saga_fakes import ANA, PRICE, MailerDown, Saga, ana, sample_payload

E = EventType

_REASONS_PT = {
    CancellationReason.CLIENT_INVALID: "o cadastro do comprador não foi encontrado",
    CancellationReason.VEHICLE_UNAVAILABLE: "o veículo não está mais disponível",
    CancellationReason.OUT_OF_STOCK: "um dos produtos está sem estoque",
    CancellationReason.PAYMENT_EXPIRED: "o prazo de pagamento expirou",
    CancellationReason.PAYMENT_FAILED: "o pagamento não foi aprovado",
    CancellationReason.CUSTOMER_CANCELLED: "você cancelou o pedido",
    CancellationReason.STOCK_HOLD_EXPIRED: "o prazo de espera pelo estoque de um dos produtos terminou",
    CancellationReason.PAYMENT_REFUSED: "não foi possível gerar a cobrança Pix",
}


def _order() -> Order:
    order, _ = place_vehicle_order(
        order_id="order-1",
        client_id=ANA,
        vehicle=make_vehicle(vehicle_id="vehicle-1", price=PRICE),
        idempotency_key="key-0001-aaaa",
        correlation_id="corr-1",
        now=NOW,
    )
    return order


def _completed_sale(saga: Saga) -> DomainEvent:
    """A sale completed in `saga`, its SaleCompleted not yet delivered."""
    saga.place()
    saga.run(hold=[E.SALE_COMPLETED])
    saga.pay()
    saga.run(hold=[E.SALE_COMPLETED])
    return saga.take(E.SALE_COMPLETED)


def _cancelled(saga: Saga) -> DomainEvent:
    saga.place()
    saga.purchase.cancel_by_customer("order-1", requested_by=ANA, is_admin=False)
    saga.run(hold=[E.ORDER_CANCELLED])
    return saga.take(E.ORDER_CANCELLED)


# --- texts ----------------------------------------------------------------------------------------------------


def test_every_cancellation_reason_has_words() -> None:
    assert set(_REASONS_PT) == set(CancellationReason)


@pytest.mark.parametrize(("reason", "words"), list(_REASONS_PT.items()))
def test_a_cancellation_email_names_the_reason_in_portuguese(reason: CancellationReason, words: str) -> None:
    order = _order()
    event = order.event(OrderCancelled(reason=reason.value), NOW)
    email = compose(event, order, ana(NOW))
    assert email is not None
    assert email.to == "ana@example.com"
    assert email.subject == "Pedido order-1 cancelado"
    assert email.body == (
        "Olá, Ana!\n\n"
        f"O seu pedido (Toyota Corolla 2025 Prata) foi cancelado: {words}.\n"
        "Nenhum valor foi cobrado por este pedido."
    )
    assert reason.value not in email.body


def test_an_unknown_reason_is_shown_as_it_came() -> None:
    order = _order()
    email = compose(order.event(OrderCancelled(reason="DEALER_CLOSED"), NOW), order, ana(NOW))
    assert email is not None
    assert "foi cancelado: DEALER_CLOSED." in email.body


_SALE = SaleCompleted(client_id=ANA, vehicle_id="vehicle-1", amount=PRICE, invoice_number="000000001", items=[])


def test_the_purchase_email_confirms_the_amount_and_items() -> None:
    order = _order()
    event = order.event(_SALE, NOW)
    email = compose(event, order, ana(NOW))
    assert email is not None
    assert email.to == "ana@example.com"
    assert email.subject == "Compra confirmada: pedido order-1"
    assert email.body.startswith("Olá, Ana!\n\n")
    assert "Recebemos o seu pagamento de R$ 189900.00 e a compra está concluída." in email.body
    assert "Itens: Toyota Corolla 2025 Prata." in email.body


def test_the_refund_email_says_how_much_comes_back() -> None:
    order = _order()
    owed = RefundOwed(payment_code="PAY-1", amount="1234.50", end_to_end_id="E-1")
    email = compose(order.event(owed, NOW), order, ana(NOW))
    assert email is not None
    assert email.subject == "Reembolso do pedido order-1"
    assert "Recebemos um pagamento de R$ 1234.50 de que o pedido não precisava" in email.body
    assert "devolver o valor integral em até 5 dias úteis" in email.body


def test_a_refund_asked_again_after_the_psp_refused_it_tells_the_customer_nothing_new() -> None:
    order = _order()
    again = RefundOwed(payment_code="PAY-1", amount="1234.50", end_to_end_id="E-1", attempt=2)
    assert compose(order.event(again, NOW), order, ana(NOW)) is None


def test_a_completed_refund_tells_the_client_the_money_is_back() -> None:
    order = _order()
    completed = RefundCompleted(
        payment_code="VP" + "0" * 32, refund_id="D" + "1" * 32, amount="1234.50", end_to_end_id="E" + "2" * 31
    )
    email = compose(order.event(completed, NOW), order, ana(NOW))
    assert email is not None
    assert email.to == "ana@example.com"
    assert email.subject == "Pedido order-1: valor devolvido"
    assert "Devolvemos R$ 1234.50 por Pix" in email.body
    assert "D" + "1" * 32 in email.body


@pytest.mark.parametrize(
    "event_type",
    sorted(set(EventType) - {E.SALE_COMPLETED, E.ORDER_CANCELLED, E.REFUND_OWED, E.REFUND_COMPLETED}, key=str),
)
def test_other_events_send_no_email(event_type: EventType) -> None:
    order = _order()
    payload = PAYLOAD_TYPES[event_type].from_wire(sample_payload(event_type))
    assert compose(order.event(payload, NOW), order, ana(NOW)) is None


def test_the_sales_notice_says_what_was_sold_to_whom_for_how_much() -> None:
    order = _order()
    event = order.event(_SALE, NOW)
    assert sale_notice(event, order) == {
        "type": "SaleCompleted",
        "orderId": "order-1",
        "clientId": ANA,
        "vehicleId": "vehicle-1",
        "amount": PRICE,
        "soldAt": NOW.isoformat(),
        "eventId": event.event_id,
    }


# --- once, and only once -----------------------------------------------------------------------------------------


def test_a_completed_sale_sends_one_email_and_one_notice_however_often_it_is_delivered() -> None:
    saga = Saga.build()
    event = _completed_sale(saga)
    saga.deliver(event, times=3)
    [email] = saga.mailer.sent
    assert email.subject == "Compra confirmada: pedido order-1"
    [notice] = saga.feed.notices
    assert notice["eventId"] == event.event_id
    assert notice["orderId"] == "order-1"
    assert notice["clientId"] == ANA


def test_a_cancellation_is_emailed_and_not_put_on_the_sales_feed() -> None:
    saga = Saga.build()
    event = _cancelled(saga)
    saga.deliver(event, times=2)
    [email] = saga.mailer.sent
    assert "você cancelou o pedido" in email.body
    assert saga.feed.notices == []


def test_a_delivery_in_progress_elsewhere_is_retried_later() -> None:
    # Given another delivery of the same event that holds the email's lease
    saga = Saga.build()
    event = _completed_sale(saga)
    key = f"notify:{event.event_id}:email"
    assert saga.ledger.claim(key, LEASE_SECONDS) is Claim.CLAIMED
    # When this delivery comes
    with pytest.raises(NotificationInProgress):
        saga.deliver(event)
    # Then it sends nothing (the message returns to the queue)
    assert saga.mailer.sent == []
    assert saga.feed.notices == []
    # And while the lease holds, a retry is still refused
    saga.clock.advance(timedelta(seconds=LEASE_SECONDS))
    with pytest.raises(NotificationInProgress):
        saga.deliver(event)
    # When the holder died and its lease ran out, the retry sends, once
    saga.clock.advance(timedelta(seconds=1))
    saga.deliver(event, times=2)
    assert len(saga.mailer.sent) == 1
    assert len(saga.feed.notices) == 1


def test_a_delivery_that_finds_the_email_sent_by_the_other_does_nothing() -> None:
    saga = Saga.build()
    event = _completed_sale(saga)
    for kind in ("email", "sales-feed"):
        key = f"notify:{event.event_id}:{kind}"
        saga.ledger.claim(key, LEASE_SECONDS)
        saga.ledger.mark_sent(key)
    saga.deliver(event)
    assert saga.mailer.sent == []
    assert saga.feed.notices == []


def test_a_failing_mailer_releases_the_lease_so_a_retry_sends() -> None:
    # Given a mailer that fails once
    saga = Saga.build()
    event = _cancelled(saga)
    saga.mailer.failures = 1
    # When the cancellation is delivered, the send fails and the failure reaches the queue
    with pytest.raises(MailerDown):
        saga.deliver(event)
    assert saga.mailer.sent == []
    # Then the retry, at once (no lease left behind), sends it, and later ones do not
    saga.deliver(event, times=2)
    [email] = saga.mailer.sent
    assert email.subject == "Pedido order-1 cancelado"


def test_a_failing_sales_feed_is_retried_without_sending_the_email_again() -> None:
    saga = Saga.build()
    event = _completed_sale(saga)
    saga.feed.failures = 1
    with pytest.raises(MailerDown):
        saga.deliver(event)
    assert len(saga.mailer.sent) == 1
    assert saga.feed.notices == []
    saga.deliver(event)
    assert len(saga.mailer.sent) == 1
    assert len(saga.feed.notices) == 1


def test_nobody_is_told_about_an_order_that_is_not_stored() -> None:
    saga = Saga.build()
    stray = _order().event(OrderCancelled(reason="PAYMENT_FAILED"), NOW)
    saga.notifications.notify(stray, "notify")
    assert saga.mailer.sent == []
    assert saga.ledger.entries == {}


def test_nobody_is_told_when_the_buyer_is_not_a_client() -> None:
    saga = Saga.build(clients=[])
    order, placed = place_vehicle_order(
        order_id="order-1",
        client_id="client-ghost",
        vehicle=saga.vehicle(),
        idempotency_key="key-0001-aaaa",
        correlation_id="corr-1",
        now=NOW,
    )
    saga.store.apply(Change(order=order, new_order=True, events=(placed,)))
    saga.run()
    assert saga.order().cancellation_reason is CancellationReason.CLIENT_INVALID
    assert saga.mailer.sent == []
    assert saga.ledger.entries == {}
