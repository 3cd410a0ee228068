"""The purchase saga, driven by hand: each event taken from the outbox and handed to the step that consumes it.

What is checked is what a customer, the dealership or the SPA would see: the order's status, its cancellation
reason and history, the vehicle's status, the events written and their payloads, the emails and the sales feed.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from domain.errors import Conflict, Forbidden, InvalidTransition, NotFound, StaleVersion, ValidationFailed
from domain.events import DomainEvent, EventType, InvalidEvent, PaymentExpired
from domain.invoice_document import InvoiceContent
from domain.order_status import CancellationReason, InvoiceStatus, OrderStatus, VehicleStatus
from domain.orders import Order, PaymentStatus, place_vehicle_order
from domain.purchase import Change, PaymentReceived, VehicleClaim
from domain.retries import OPTIMISTIC_ATTEMPTS
from domain.values import Money
from tests.unit.factories import NOW, SELLER, make_vehicle
from tests.unit.saga_fakes import ADMIN, ANA, BRUNO, KEY, PAYMENT_TTL, PRICE, VEHICLE, Saga, awaiting_payment
from tests.unit.saga_paths import HAPPY_PATH_EVENTS, HAPPY_PATH_HISTORY

E = EventType
S = OrderStatus


def _outcome(order: Order) -> tuple[object, ...]:
    """What the customer sees of an order (the saga's own markers and the version aside)."""
    return order.status, order.cancellation_reason, order.history, order.payment, order.refund_owed


class Crash(RuntimeError):
    """A Lambda dying between two commits of a step."""


def _completed(saga: Saga) -> Order:
    awaiting_payment(saga)
    assert saga.pay()
    saga.run()
    order = saga.order()
    assert order.status is S.COMPLETED
    return order


def _crash_before_the_sale(saga: Saga) -> None:
    def crash() -> None:
        raise Crash("killed between PAID and the sale")

    saga.store.before_apply(lambda change: change.sale is not None, crash)


# --- placing an order ---------------------------------------------------------------------------------------------


def test_placing_an_order_answers_placed_and_writes_order_placed() -> None:
    # Given a registered client and a vehicle for sale
    saga = Saga.build()
    # When the client places an order for it
    order = saga.place()
    # Then the order is PLACED at the vehicle's price, with one history entry
    assert order.id == "order-1"
    assert order.status is S.PLACED
    assert order.client_id == ANA
    assert order.vehicle_id == VEHICLE
    assert order.total == Money.parse(PRICE)
    assert [item.description for item in order.items] == ["Toyota Corolla 2025 Prata"]
    assert order.cancellation_reason is None
    assert order.payment is None
    assert saga.history() == [("OrderPlaced", "PLACED")]
    # And it is stored, with its OrderPlaced event and nothing else
    assert saga.order().status is S.PLACED
    [event] = saga.store.outbox
    assert event.event_type is E.ORDER_PLACED
    assert event.order_id == "order-1"
    assert event.correlation_id == "corr-order-1"
    assert event.occurred_at == NOW
    assert dict(event.payload) == {
        "clientId": ANA,
        "vehicleId": VEHICLE,
        "total": PRICE,
        "items": [{"ref": VEHICLE, "kind": "VEHICLE", "quantity": 1}],
    }
    # And the vehicle is still for sale until the saga reserves it
    assert saga.vehicle().status is VehicleStatus.AVAILABLE


def test_an_unregistered_buyer_is_forbidden_and_nothing_is_written() -> None:
    saga = Saga.build()
    with pytest.raises(Forbidden) as caught:
        saga.place(client_id="someone-unregistered")
    assert caught.value.code == "FORBIDDEN"
    assert "registerClient" in caught.value.message
    assert saga.store.get_order("order-1") is None
    assert saga.store.outbox == []


def test_an_unknown_vehicle_is_not_found() -> None:
    saga = Saga.build()
    with pytest.raises(NotFound) as caught:
        saga.place(vehicle_id="vehicle-404")
    assert caught.value.code == "NOT_FOUND"
    assert (caught.value.entity, caught.value.entity_id) == ("vehicle", "vehicle-404")
    assert saga.store.outbox == []


def test_a_sold_vehicle_is_refused_naming_vehicle_id() -> None:
    saga = Saga.build(vehicles=[make_vehicle(vehicle_id=VEHICLE, status=VehicleStatus.SOLD)])
    with pytest.raises(Conflict) as caught:
        saga.place()
    assert caught.value.field == "vehicleId"
    assert caught.value.code == "CONFLICT"
    assert saga.store.get_order("order-1") is None
    assert saga.store.outbox == []


def test_the_same_key_for_the_same_vehicle_returns_the_first_order_without_a_second_event() -> None:
    # Given an order placed with a key
    saga = Saga.build()
    placed = saga.place(order_id="order-1", key=KEY)
    # When the client retries the same request (the API mints a new order id for the retry)
    again = saga.place(order_id="order-2", key=KEY)
    # Then the first order comes back, and nothing new is written
    assert again == saga.order("order-1")
    assert again.id == placed.id == "order-1"
    assert saga.store.get_order("order-2") is None
    assert [event.event_type for event in saga.store.outbox] == [E.ORDER_PLACED]


def test_the_same_key_returns_the_order_as_it_is_now() -> None:
    # Given an order that the saga has moved on to awaiting payment
    saga = Saga.build()
    awaiting_payment(saga)
    written = len(saga.store.outbox)
    # When the client retries the request that placed it
    again = saga.place(order_id="order-2")
    # Then it sees the order in its current state
    assert again.id == "order-1"
    assert again.status is S.AWAITING_PAYMENT
    assert len(saga.store.outbox) == written


def test_the_same_key_for_another_vehicle_is_a_conflict_on_idempotency_key() -> None:
    saga = Saga.build(vehicles=[make_vehicle(vehicle_id=VEHICLE), make_vehicle(vehicle_id="vehicle-2")])
    saga.place(order_id="order-1", key=KEY)
    with pytest.raises(Conflict) as caught:
        saga.place(order_id="order-2", vehicle_id="vehicle-2", key=KEY)
    assert caught.value.field == "idempotencyKey"
    assert saga.store.get_order("order-2") is None
    assert len(saga.store.outbox) == 1


def test_keys_are_per_client() -> None:
    # Given Ana's order under a key
    saga = Saga.build()
    saga.place(order_id="order-1", client_id=ANA, key=KEY)
    # When Bruno happens to use the same key
    order = saga.place(order_id="order-2", client_id=BRUNO, key=KEY)
    # Then he gets his own order
    assert order.id == "order-2"
    assert order.client_id == BRUNO
    assert [event.order_id for event in saga.store.outbox] == ["order-1", "order-2"]


@pytest.mark.parametrize("key", ["", "short", "x" * 101, "has space 123", "chave/barra", "chave-é-123"])
def test_a_malformed_key_is_refused_naming_idempotency_key(key: str) -> None:
    saga = Saga.build()
    with pytest.raises(ValidationFailed) as caught:
        saga.place(key=key)
    assert caught.value.field == "idempotencyKey"
    assert saga.store.outbox == []


def test_a_key_with_surrounding_spaces_is_the_same_key() -> None:
    saga = Saga.build()
    saga.place(order_id="order-1", key=KEY)
    assert saga.place(order_id="order-2", key=f"  {KEY} ").id == "order-1"


def test_retrying_the_request_after_the_sale_returns_the_completed_order() -> None:
    # Given an order that bought the vehicle (now SOLD)
    saga = Saga.build()
    _completed(saga)
    # When the client's app retries the original placeOrder (same key, same vehicle)
    again = saga.place(order_id="order-2")
    # Then it gets its order back, as for any other retry
    assert again.id == "order-1"
    assert again.status is S.COMPLETED


# --- the happy path -----------------------------------------------------------------------------------------------


def test_the_happy_path_step_by_step() -> None:
    saga = Saga.build()
    saga.place()

    # OrderPlaced -> the client is validated; the order stays PLACED
    saga.deliver(saga.take(E.ORDER_PLACED))
    assert saga.order().status is S.PLACED
    assert saga.order().history[-1].detail == "client Ana Souza"
    assert dict(saga.one(E.CLIENT_VALIDATED).payload) == {"clientId": ANA}

    # ClientValidated -> the vehicle is reserved for this order
    saga.deliver(saga.take(E.CLIENT_VALIDATED))
    assert saga.order().status is S.RESERVED
    assert saga.vehicle().status is VehicleStatus.RESERVED
    assert saga.vehicle().reserved_by == "order-1"
    assert dict(saga.one(E.INVENTORY_RESERVED).payload) == {
        "items": [{"ref": VEHICLE, "kind": "VEHICLE", "quantity": 1}]
    }

    # InventoryReserved -> a payment code with the amount and an expiry
    saga.deliver(saga.take(E.INVENTORY_RESERVED))
    order = saga.order()
    assert order.status is S.AWAITING_PAYMENT
    assert order.payment is not None
    assert order.payment.code == "TXorder1".ljust(26, "Z")  # the provider's code for the order
    assert order.payment.br_code is not None
    assert order.payment.amount == Money.parse(PRICE)
    assert order.payment.expires_at == NOW + PAYMENT_TTL
    assert order.payment.status is PaymentStatus.PENDING
    assert dict(saga.one(E.PAYMENT_REQUESTED).payload) == {
        "paymentCode": order.payment.code,
        "amount": PRICE,
        "expiresAt": (NOW + PAYMENT_TTL).isoformat(),
    }
    record = saga.store.get_payment(order.payment.code)
    assert record is not None
    assert record.order_id == "order-1"
    assert record.payment.status is PaymentStatus.PENDING

    # The provider calls the webhook: the payment is confirmed, the order waits for the saga
    saga.clock.advance(timedelta(minutes=5))
    assert saga.pay(provider_event_id="provider-evt-1") is True
    assert saga.order().status is S.AWAITING_PAYMENT
    assert dict(saga.one(E.PAYMENT_CONFIRMED).payload) == {
        "paymentCode": order.payment.code,
        "amount": PRICE,
        "providerEventId": "provider-evt-1",
    }

    # PaymentConfirmed -> PAID with invoice 1 issued, then COMPLETED with the vehicle sold and the invoice confirmed
    saga.deliver(saga.take(E.PAYMENT_CONFIRMED))
    order = saga.order()
    assert order.status is S.COMPLETED
    assert order.invoice is not None
    assert (order.invoice.number, order.invoice.status) == ("000000001", InvoiceStatus.CONFIRMED)
    assert order.invoice.document_key == "invoices/order-1/NF-000000001.html"
    document = saga.archive.documents[order.invoice.document_key]
    assert "529.982.247-25" in document
    assert "11.222.333/0001-81" in document
    assert "R$ 189.900,00" in document
    assert order.payment is not None
    assert order.payment.status is PaymentStatus.PAID
    assert order.refund_owed is None
    assert saga.vehicle().status is VehicleStatus.SOLD
    assert saga.vehicle().reserved_by is None
    [sale] = saga.store.sales.values()
    assert (sale.order_id, sale.vehicle_id, sale.client_id) == ("order-1", VEHICLE, ANA)
    assert sale.amount == Money.parse(PRICE)
    assert sale.sold_at == NOW + timedelta(minutes=5)
    assert saga.history() == HAPPY_PATH_HISTORY
    assert saga.written_types() == HAPPY_PATH_EVENTS
    assert dict(saga.one(E.SALE_COMPLETED).payload) == {
        "clientId": ANA,
        "vehicleId": VEHICLE,
        "amount": PRICE,
        "invoiceNumber": "000000001",
        "items": [{"ref": VEHICLE, "kind": "VEHICLE", "quantity": 1}],
    }

    # SaleCompleted -> one email to the client and one notice on the sales feed
    saga.run()
    [email] = saga.mailer.sent
    assert email.to == "ana@example.com"
    assert email.subject == "Compra confirmada: pedido order-1"
    assert "R$ 189900.00" in email.body
    [notice] = saga.feed.notices
    assert notice["orderId"] == "order-1"
    assert notice["vehicleId"] == VEHICLE
    assert notice["amount"] == PRICE


def test_every_event_delivered_twice_ends_the_same_with_one_email() -> None:
    # Given the same purchase run once and, elsewhere, with every message delivered twice in a row
    once, twice = Saga.build(), Saga.build()
    _completed(once)
    once.run()
    twice.place()
    twice.run(times=2)
    assert twice.pay()
    twice.run(times=2)
    # Then the outcome is the same
    assert twice.order().status is S.COMPLETED
    assert twice.history() == once.history() == HAPPY_PATH_HISTORY
    assert twice.written_types() == once.written_types() == HAPPY_PATH_EVENTS
    assert twice.order().version == once.order().version
    assert twice.vehicle().status is VehicleStatus.SOLD
    assert len(twice.store.sales) == 1
    assert len(twice.mailer.sent) == 1
    assert len(twice.feed.notices) == 1


def test_every_step_re_run_after_its_change_changes_nothing() -> None:
    # Given a completed, notified purchase
    saga = Saga.build()
    _completed(saga)
    saga.run()
    before = saga.order()
    # When every event ever written is delivered once more
    saga.replay_all()
    # Then nothing moved and nobody was told twice
    assert saga.order() == before
    assert saga.written_types() == HAPPY_PATH_EVENTS
    assert len(saga.store.sales) == 1
    assert len(saga.mailer.sent) == 1
    assert len(saga.feed.notices) == 1


def test_a_crash_between_paid_and_the_sale_is_completed_by_the_redelivery() -> None:
    # Given an order awaiting payment, paid, and a complete-sale run that dies after writing PAID
    saga = Saga.build()
    awaiting_payment(saga)
    saga.pay()
    confirmed = saga.take(E.PAYMENT_CONFIRMED)
    _crash_before_the_sale(saga)
    with pytest.raises(Crash):
        saga.deliver(confirmed)
    assert saga.order().status is S.PAID
    assert saga.vehicle().status is VehicleStatus.RESERVED
    assert saga.store.sales == {}
    # When the message is delivered again
    saga.deliver(confirmed)
    saga.run()
    # Then the sale completes once
    assert saga.order().status is S.COMPLETED
    assert saga.history() == HAPPY_PATH_HISTORY
    assert saga.vehicle().status is VehicleStatus.SOLD
    assert len(saga.store.sales) == 1
    assert len(saga.mailer.sent) == 1


def test_a_payment_of_the_wrong_amount_cancels_the_order_and_owes_the_money_back() -> None:
    # Given an order awaiting 189900.00, and the provider saying 100.00 was paid
    saga = Saga.build()
    charged = awaiting_payment(saga)
    assert charged.payment is not None
    saga.pay(amount="100.00")
    # When the saga runs, each message twice
    saga.run(times=2)
    # Then nothing is sold: the payment failed, the order is cancelled, the 100.00 owed back
    assert dict(saga.one(E.PAYMENT_FAILED).payload) == {
        "paymentCode": charged.payment.code,
        "providerEventId": "provider-evt-1",
        "detail": "paid 100.00, expected 189900.00",
    }
    order = saga.order()
    assert order.status is S.CANCELLED
    assert order.cancellation_reason is CancellationReason.PAYMENT_FAILED
    assert "o pagamento não foi aprovado" in saga.mailer.sent[0].body
    assert saga.feed.notices == []
    assert order.refund_owed == Money.parse("100.00")
    assert saga.vehicle().status is VehicleStatus.AVAILABLE
    assert saga.store.sales == {}
    # the cancellation, the refund owed, then the refund done (the refund step ran; the fake provider settles at once)
    assert [email.subject for email in saga.mailer.sent] == [
        "Pedido order-1 cancelado",
        "Reembolso do pedido order-1",
        "Pedido order-1: valor devolvido",
    ]


# --- the client is not valid ------------------------------------------------------------------------------------


def test_an_order_whose_buyer_is_not_a_client_is_cancelled_client_invalid() -> None:
    # Given an order written for a buyer who is no registered client (placed where the check was bypassed)
    saga = Saga.build()
    order, event = place_vehicle_order(
        order_id="order-1",
        client_id="client-ghost",
        vehicle=saga.vehicle(),
        idempotency_key=KEY,
        correlation_id="corr-order-1",
        now=saga.clock.now(),
    )
    saga.store.apply(Change(order=order, new_order=True, events=(event,)))
    # When the saga runs, each message delivered twice
    saga.run(times=2)
    # Then the order is rejected and cancelled, and the vehicle was never touched
    order = saga.order()
    assert order.status is S.CANCELLED
    assert order.cancellation_reason is CancellationReason.CLIENT_INVALID
    assert saga.history() == [
        ("OrderPlaced", "PLACED"),
        ("OrderRejected", "PLACED"),
        ("OrderCancelled", "CANCELLED"),
    ]
    assert saga.written_types() == ["OrderPlaced", "OrderRejected", "OrderCancelled"]
    assert dict(saga.one(E.ORDER_REJECTED).payload) == {
        "reason": "CLIENT_INVALID",
        "detail": "the buyer is not a registered client",
    }
    assert dict(saga.one(E.ORDER_CANCELLED).payload) == {"reason": "CLIENT_INVALID"}
    assert saga.vehicle().status is VehicleStatus.AVAILABLE
    # And there is nobody to email
    assert saga.mailer.sent == []


# --- two buyers, one vehicle ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("newest_first", "winner", "loser"), [(False, ANA, BRUNO), (True, BRUNO, ANA)])
def test_two_orders_for_one_vehicle_end_with_one_sale(newest_first: bool, winner: str, loser: str) -> None:
    # Given Ana's order and then Bruno's, for the same vehicle
    saga = Saga.build()
    saga.place(order_id=f"order-{ANA}", client_id=ANA)
    saga.place(order_id=f"order-{BRUNO}", client_id=BRUNO)
    # When the saga runs (messages taken oldest first, or newest first)
    saga.run(newest_first=newest_first)
    # Then one order holds the vehicle and the other is cancelled, without releasing it
    won, lost = saga.order(f"order-{winner}"), saga.order(f"order-{loser}")
    assert won.status is S.AWAITING_PAYMENT
    assert lost.status is S.CANCELLED
    assert lost.cancellation_reason is CancellationReason.VEHICLE_UNAVAILABLE
    assert saga.vehicle().status is VehicleStatus.RESERVED
    assert saga.vehicle().reserved_by == won.id
    assert saga.written_types(lost.id) == ["OrderPlaced", "ClientValidated", "ReservationFailed", "OrderCancelled"]
    assert dict(saga.one(E.RESERVATION_FAILED, lost.id).payload) == {
        "reason": "VEHICLE_UNAVAILABLE",
        "detail": f"vehicle {VEHICLE} is not available",
    }
    # When the winner pays
    saga.pay(won.id)
    saga.run()
    # Then exactly one sale, to the winner; the loser was told why
    assert saga.order(won.id).status is S.COMPLETED
    assert saga.order(lost.id).status is S.CANCELLED
    assert saga.vehicle().status is VehicleStatus.SOLD
    assert [sale.order_id for sale in saga.store.sales.values()] == [won.id]
    emails = {email.to: email for email in saga.mailer.sent}
    assert len(saga.mailer.sent) == 2
    assert emails[f"{winner.removeprefix('client-')}@example.com"].subject == f"Compra confirmada: pedido {won.id}"
    lost_email = emails[f"{loser.removeprefix('client-')}@example.com"]
    assert lost_email.subject == f"Pedido {lost.id} cancelado"
    assert "o veículo não está mais disponível" in lost_email.body


def test_a_buyer_who_reserves_between_the_others_read_and_write_wins() -> None:
    # Given two validated orders for one vehicle, both about to reserve it
    saga = Saga.build()
    saga.place(order_id="order-1", client_id=ANA)
    saga.place(order_id="order-2", client_id=BRUNO)
    saga.deliver(saga.take(E.ORDER_PLACED, "order-1"))
    saga.deliver(saga.take(E.ORDER_PLACED, "order-2"))
    first, second = saga.take(E.CLIENT_VALIDATED, "order-1"), saga.take(E.CLIENT_VALIDATED, "order-2")
    # When order-2's reservation lands after order-1 read the vehicle AVAILABLE, before order-1 writes
    saga.store.before_apply(
        lambda change: change.vehicle is not None and change.order is not None and change.order.id == "order-1",
        lambda: saga.deliver(second),
    )
    saga.deliver(first)
    saga.run()
    # Then order-2 holds it, order-1 is cancelled, and order-1's compensation leaves order-2's reservation alone
    assert saga.order("order-2").status is S.AWAITING_PAYMENT
    assert saga.order("order-1").status is S.CANCELLED
    assert saga.order("order-1").cancellation_reason is CancellationReason.VEHICLE_UNAVAILABLE
    assert saga.vehicle().status is VehicleStatus.RESERVED
    assert saga.vehicle().reserved_by == "order-2"


def test_an_order_for_a_reserved_vehicle_is_accepted_then_cancelled_by_the_saga() -> None:
    saga = Saga.build()
    awaiting_payment(saga, "order-1")
    # The vehicle is RESERVED, not SOLD: the order is accepted, its reservation may yet be released
    assert saga.place(order_id="order-2", client_id=BRUNO).status is S.PLACED
    saga.run()
    assert saga.order("order-2").cancellation_reason is CancellationReason.VEHICLE_UNAVAILABLE
    assert saga.vehicle().reserved_by == "order-1"


# --- expiry -------------------------------------------------------------------------------------------------------


def test_an_unpaid_order_expires_and_frees_the_vehicle() -> None:
    # Given an order awaiting payment
    saga = Saga.build()
    order = awaiting_payment(saga)
    assert order.payment is not None
    # When the sweep runs one second before the expiry: nothing is due
    saga.clock.advance(PAYMENT_TTL - timedelta(seconds=1))
    assert saga.purchase.expire_due_payments() == 0
    assert saga.order().payment == order.payment
    # When it runs past the expiry
    saga.clock.advance(timedelta(seconds=2))
    assert saga.purchase.expire_due_payments() == 1
    # Then the payment is expired and PaymentExpired is written
    expired = saga.order()
    assert expired.payment is not None
    assert expired.payment.status is PaymentStatus.EXPIRED
    assert saga.history()[-1] == ("PaymentExpired", "AWAITING_PAYMENT")
    assert dict(saga.one(E.PAYMENT_EXPIRED).payload) == {"paymentCode": order.payment.code}
    # And a second sweep finds nothing more
    assert saga.purchase.expire_due_payments() == 0
    # When the saga runs
    saga.run(times=2)
    # Then the order is cancelled for it and the vehicle released
    assert saga.order().status is S.CANCELLED
    assert saga.order().cancellation_reason is CancellationReason.PAYMENT_EXPIRED
    assert saga.written_types()[-2:] == ["PaymentExpired", "OrderCancelled"]
    assert saga.vehicle().status is VehicleStatus.AVAILABLE
    assert saga.vehicle().reserved_by is None
    [email] = saga.mailer.sent
    assert "o prazo de pagamento expirou" in email.body


def test_only_payments_past_their_expiry_are_expired() -> None:
    # Given two orders awaiting payment, the second requested 20 minutes after the first
    saga = Saga.build(vehicles=[make_vehicle(vehicle_id=VEHICLE), make_vehicle(vehicle_id="vehicle-2")])
    awaiting_payment(saga, "order-1")
    saga.clock.advance(timedelta(minutes=20))
    awaiting_payment(saga, "order-2", client_id=BRUNO, vehicle_id="vehicle-2")
    # When the sweep runs after the first one's expiry, before the second's
    saga.clock.advance(timedelta(minutes=15))
    assert saga.purchase.expire_due_payments() == 1
    saga.run()
    # Then only the first is expired
    assert saga.order("order-1").cancellation_reason is CancellationReason.PAYMENT_EXPIRED
    second = saga.order("order-2")
    assert second.status is S.AWAITING_PAYMENT
    assert second.payment is not None
    assert second.payment.status is PaymentStatus.PENDING
    assert saga.vehicle("vehicle-2").reserved_by == "order-2"


def test_a_paid_payment_is_not_expired() -> None:
    saga = Saga.build()
    awaiting_payment(saga)
    saga.pay()
    saga.clock.advance(PAYMENT_TTL * 2)
    assert saga.purchase.expire_due_payments() == 0
    saga.run()
    assert saga.order().status is S.COMPLETED


def test_cancelled_orders_do_not_stop_the_sweep_from_expiring_others() -> None:
    # Given 100 orders cancelled by their customers while awaiting payment
    vehicles = [make_vehicle(vehicle_id=f"vehicle-{n}") for n in range(101)]
    saga = Saga.build(vehicles=vehicles)
    for n in range(100):
        awaiting_payment(saga, f"order-{n}", vehicle_id=f"vehicle-{n}", key=f"key-{n:04d}-aaaa")
        saga.purchase.cancel_by_customer(f"order-{n}", requested_by=ANA, is_admin=False)
    saga.run()
    # And one more order, awaiting payment, requested a minute later
    saga.clock.advance(timedelta(minutes=1))
    awaiting_payment(saga, "order-late", client_id=BRUNO, vehicle_id="vehicle-100")
    # When the sweep runs every minute for a while after every expiry
    saga.clock.advance(PAYMENT_TTL * 2)
    expired = 0
    for _ in range(5):
        expired += saga.purchase.expire_due_payments()
        saga.clock.advance(timedelta(minutes=1))
    # Then the last order's payment has been expired
    assert expired == 1
    assert [event.order_id for event in saga.store.outbox if event.event_type is E.PAYMENT_EXPIRED] == ["order-late"]


# --- payment after the order ended ------------------------------------------------------------------------------


def _expired_and_cancelled(saga: Saga) -> None:
    awaiting_payment(saga)
    saga.clock.advance(PAYMENT_TTL + timedelta(seconds=1))
    assert saga.purchase.expire_due_payments() == 1
    saga.run()
    assert saga.order().cancellation_reason is CancellationReason.PAYMENT_EXPIRED


def _assert_one_refund(saga: Saga, reason: CancellationReason, paid_by: str) -> None:
    order = saga.order()
    assert order.status is S.CANCELLED
    assert order.cancellation_reason is reason
    assert order.refund_owed == Money.parse(PRICE)
    assert order.payment is not None
    assert order.payment.status is PaymentStatus.REFUND_OWED
    assert order.payment.received == Money.parse(PRICE)
    assert [event for event, _ in saga.history()].count("RefundOwed") == 1
    refund = saga.one(E.REFUND_OWED)
    # naming the payment to give back
    assert dict(refund.payload) == {"paymentCode": order.payment.code, "amount": PRICE, "endToEndId": paid_by}
    assert saga.vehicle().status is VehicleStatus.AVAILABLE
    assert saga.store.sales == {}
    refunds = [email for email in saga.mailer.sent if email.subject.startswith("Reembolso")]
    assert len(refunds) == 1
    assert refunds[0].to == "ana@example.com"
    assert refunds[0].subject == "Reembolso do pedido order-1"
    assert "R$ 189900.00" in refunds[0].body
    assert saga.feed.notices == []


def test_a_payment_after_expiry_leaves_the_order_cancelled_and_owes_a_refund() -> None:
    # Given an order cancelled because its payment expired
    saga = Saga.build()
    _expired_and_cancelled(saga)
    # When the money arrives after all, the provider telling it twice, and the saga runs each message twice
    assert saga.pay(provider_event_id="provider-evt-9") is True
    assert saga.pay(provider_event_id="provider-evt-9") is False
    saga.run(times=2)
    # Then the order stays cancelled, a refund is owed once, and the client is told once
    _assert_one_refund(saga, CancellationReason.PAYMENT_EXPIRED, paid_by="provider-evt-9")
    assert len(saga.mailer.sent) == 3  # the cancellation, the refund owed, then the refund done


def test_a_payment_between_the_expiry_and_its_compensation_owes_a_refund() -> None:
    # Given a payment expired by the sweep, whose PaymentExpired has not reached the saga yet
    saga = Saga.build()
    awaiting_payment(saga)
    saga.clock.advance(PAYMENT_TTL + timedelta(seconds=1))
    assert saga.purchase.expire_due_payments() == 1
    # When the money arrives and is handled first
    saga.pay()
    saga.deliver(saga.take(E.PAYMENT_CONFIRMED))
    saga.run()
    # Then the order is cancelled as expired, the vehicle released, and the money owed back
    _assert_one_refund(saga, CancellationReason.PAYMENT_EXPIRED, paid_by="provider-evt-1")


def test_a_payment_confirmed_twice_between_the_expiry_and_its_compensation_owes_one_refund() -> None:
    # Given a payment expired by the sweep, whose PaymentExpired has not reached the saga yet
    saga = Saga.build()
    awaiting_payment(saga)
    saga.clock.advance(PAYMENT_TTL + timedelta(seconds=1))
    assert saga.purchase.expire_due_payments() == 1
    # When the late payment's PaymentConfirmed is delivered twice before PaymentExpired
    saga.pay()
    saga.deliver(saga.take(E.PAYMENT_CONFIRMED), times=2)
    saga.run()
    # Then the outcome is the same as with one delivery
    _assert_one_refund(saga, CancellationReason.PAYMENT_EXPIRED, paid_by="provider-evt-1")


# --- the customer cancels -----------------------------------------------------------------------------------------

_STAGES = {
    # stage: events delivered before the customer cancels, and the status and vehicle status it leaves
    "placed": ([], S.PLACED, VehicleStatus.AVAILABLE),
    "client validated": ([E.ORDER_PLACED], S.PLACED, VehicleStatus.AVAILABLE),
    "reserved": ([E.ORDER_PLACED, E.CLIENT_VALIDATED], S.RESERVED, VehicleStatus.RESERVED),
    "awaiting payment": (
        [E.ORDER_PLACED, E.CLIENT_VALIDATED, E.INVENTORY_RESERVED],
        S.AWAITING_PAYMENT,
        VehicleStatus.RESERVED,
    ),
}


@pytest.mark.parametrize("stage", list(_STAGES))
def test_the_customer_cancels_at_each_stage_before_payment(stage: str) -> None:
    # Given an order at a stage before payment, the next message still in flight
    delivered, status, vehicle_status = _STAGES[stage]
    saga = Saga.build()
    saga.place()
    for event_type in delivered:
        saga.deliver(saga.take(event_type))
    assert saga.order().status is status
    assert saga.vehicle().status is vehicle_status
    history_before = saga.history()
    # When the customer cancels
    cancelled = saga.purchase.cancel_by_customer("order-1", requested_by=ANA, is_admin=False)
    # Then the answer is the cancelled order, as stored
    assert cancelled == saga.order()
    assert cancelled.status is S.CANCELLED
    assert cancelled.cancellation_reason is CancellationReason.CUSTOMER_CANCELLED
    assert saga.history() == [*history_before, ("OrderCancelled", "CANCELLED")]
    assert dict(saga.one(E.CANCELLATION_REQUESTED).payload) == {"requestedBy": ANA}
    # When the saga runs what was in flight and the compensation, each twice
    saga.run(times=2)
    # Then the vehicle is for sale again, the order stays cancelled, and the client is told once
    assert saga.vehicle().status is VehicleStatus.AVAILABLE
    assert saga.vehicle().reserved_by is None
    assert _outcome(saga.order()) == _outcome(cancelled)
    assert saga.written_types()[-2:] == ["CancellationRequested", "OrderCancelled"]
    assert dict(saga.one(E.ORDER_CANCELLED).payload) == {"reason": "CUSTOMER_CANCELLED"}
    [email] = saga.mailer.sent
    assert email.subject == "Pedido order-1 cancelado"
    assert "você cancelou o pedido" in email.body


def test_staff_may_cancel_a_customers_order() -> None:
    saga = Saga.build()
    awaiting_payment(saga)
    cancelled = saga.purchase.cancel_by_customer("order-1", requested_by=ADMIN, is_admin=True)
    assert cancelled.status is S.CANCELLED
    assert cancelled.cancellation_reason is CancellationReason.CUSTOMER_CANCELLED
    assert dict(saga.one(E.CANCELLATION_REQUESTED).payload) == {"requestedBy": ADMIN}
    saga.run()
    assert saga.vehicle().status is VehicleStatus.AVAILABLE


def test_someone_elses_order_is_not_found() -> None:
    saga = Saga.build()
    awaiting_payment(saga)
    before = saga.order()
    with pytest.raises(NotFound) as caught:
        saga.purchase.cancel_by_customer("order-1", requested_by=BRUNO, is_admin=False)
    assert (caught.value.entity, caught.value.entity_id) == ("order", "order-1")
    with pytest.raises(NotFound):
        saga.purchase.cancel_by_customer("order-404", requested_by=ADMIN, is_admin=True)
    assert saga.order() == before
    assert E.CANCELLATION_REQUESTED.value not in saga.written_types()


def test_cancelling_twice_returns_the_cancelled_order() -> None:
    saga = Saga.build()
    awaiting_payment(saga)
    first = saga.purchase.cancel_by_customer("order-1", requested_by=ANA, is_admin=False)
    saga.run()
    second = saga.purchase.cancel_by_customer("order-1", requested_by=ANA, is_admin=False)
    assert second == saga.order()
    assert _outcome(second) == _outcome(first)
    assert saga.written_types().count("CancellationRequested") == 1
    assert saga.written_types().count("OrderCancelled") == 1


def test_an_order_cancelled_by_the_saga_is_returned_as_it_is() -> None:
    saga = Saga.build()
    awaiting_payment(saga)
    saga.pay(amount="1.00")
    saga.run()
    answer = saga.purchase.cancel_by_customer("order-1", requested_by=ANA, is_admin=False)
    assert answer.cancellation_reason is CancellationReason.PAYMENT_FAILED
    assert E.CANCELLATION_REQUESTED.value not in saga.written_types()


def test_a_paid_order_can_no_longer_be_cancelled() -> None:
    # Given an order whose payment was taken (PAID, the sale not yet recorded)
    saga = Saga.build()
    awaiting_payment(saga)
    saga.pay()
    confirmed = saga.take(E.PAYMENT_CONFIRMED)
    _crash_before_the_sale(saga)
    with pytest.raises(Crash):
        saga.deliver(confirmed)
    assert saga.order().status is S.PAID
    # When the customer tries to cancel
    with pytest.raises(Conflict) as caught:
        saga.purchase.cancel_by_customer("order-1", requested_by=ANA, is_admin=False)
    # Then it is refused, and the sale goes through
    assert caught.value.code == "CONFLICT"
    assert "PAID" in caught.value.message
    saga.deliver(confirmed)
    assert saga.order().status is S.COMPLETED


def test_a_completed_order_can_no_longer_be_cancelled_even_by_staff() -> None:
    saga = Saga.build()
    _completed(saga)
    with pytest.raises(Conflict):
        saga.purchase.cancel_by_customer("order-1", requested_by=ADMIN, is_admin=True)
    assert saga.order().status is S.COMPLETED
    assert saga.vehicle().status is VehicleStatus.SOLD


# --- the customer cancels while the payment arrives ----------------------------------------------------------------


def test_a_cancel_after_the_money_arrived_is_refused_and_the_sale_completes() -> None:
    # Given an order awaiting payment; the money arrives and its message waits in the queue
    saga = Saga.build()
    awaiting_payment(saga)
    saga.pay()
    # When the customer cancels before the saga has handled the payment
    with pytest.raises(Conflict, match="already been received"):
        saga.purchase.cancel_by_customer("order-1", requested_by=ANA, is_admin=False)
    saga.run()
    # Then the payment, recorded first, wins: no refund to owe
    assert saga.order().status is S.COMPLETED
    assert saga.vehicle().status is VehicleStatus.SOLD


def test_money_arriving_after_the_cancel_is_owed_back() -> None:
    # Given an order the customer cancelled while its payment was pending
    saga = Saga.build()
    awaiting_payment(saga)
    saga.purchase.cancel_by_customer("order-1", requested_by=ANA, is_admin=False)
    saga.run()
    # When the provider says the (cancelled) code was paid after all
    saga.pay()
    saga.run(times=2)
    # Then the cancellation stands and the money is owed back, once
    _assert_one_refund(saga, CancellationReason.CUSTOMER_CANCELLED, paid_by="provider-evt-1")


def test_payment_confirmed_first_then_cancel_is_a_conflict() -> None:
    saga = Saga.build()
    awaiting_payment(saga)
    saga.pay()
    saga.run()
    with pytest.raises(Conflict):
        saga.purchase.cancel_by_customer("order-1", requested_by=ANA, is_admin=False)
    assert saga.order().status is S.COMPLETED
    assert saga.vehicle().status is VehicleStatus.SOLD
    assert E.CANCELLATION_REQUESTED.value not in saga.written_types()


def test_payment_landing_between_the_cancels_read_and_write_wins() -> None:
    # Given an order awaiting payment, paid, with its PaymentConfirmed about to be handled
    saga = Saga.build()
    awaiting_payment(saga)
    saga.pay()
    confirmed = saga.take(E.PAYMENT_CONFIRMED)
    # When the sale completes after the cancellation read the order, before it writes
    saga.store.before_apply(
        lambda change: any(event.event_type is E.CANCELLATION_REQUESTED for event in change.events),
        lambda: saga.deliver(confirmed),
    )
    # Then the cancellation, deciding again on the new state, is refused
    with pytest.raises(Conflict) as caught:
        saga.purchase.cancel_by_customer("order-1", requested_by=ANA, is_admin=False)
    assert "COMPLETED" in caught.value.message
    assert saga.order().status is S.COMPLETED
    assert saga.vehicle().status is VehicleStatus.SOLD
    assert E.CANCELLATION_REQUESTED.value not in saga.written_types()


def test_a_cancel_that_keeps_losing_to_other_writers_gives_up_after_the_retry_budget() -> None:
    # Given an order awaiting payment, and writers that move it between every read and write of the cancellation
    saga = Saga.build()
    awaiting_payment(saga)
    attempts: list[Change] = []

    def always_stale(change: Change) -> None:
        attempts.append(change)
        raise StaleVersion("order", "order-1")

    saga.store.apply = always_stale  # type: ignore[method-assign]
    # When the customer cancels
    with pytest.raises(StaleVersion):
        saga.purchase.cancel_by_customer("order-1", requested_by=ANA, is_admin=False)
    # Then it decides again a bounded number of times, like every other optimistic write, and reports the loss
    assert len(attempts) == OPTIMISTIC_ATTEMPTS


def test_a_cancel_landing_between_the_payments_read_and_write_is_refused() -> None:
    # Given an order awaiting payment, paid, with its PaymentConfirmed about to be handled
    saga = Saga.build()
    awaiting_payment(saga)
    saga.pay()
    confirmed = saga.take(E.PAYMENT_CONFIRMED)
    refusals: list[Conflict] = []

    def cancel() -> None:
        try:
            saga.purchase.cancel_by_customer("order-1", requested_by=ANA, is_admin=False)
        except Conflict as refused:
            refusals.append(refused)

    # When the customer's cancellation lands after complete-sale read the order, before it writes PAID
    saga.store.before_apply(lambda change: change.order is not None and change.order.status is S.PAID, cancel)
    saga.deliver(confirmed)
    saga.run()
    # Then the payment, recorded by the webhook before the cancel, decides: the sale completes
    assert len(refusals) == 1
    assert saga.order().status is S.COMPLETED
    assert saga.vehicle().status is VehicleStatus.SOLD


# --- the webhook's notification -----------------------------------------------------------------------------------


def test_an_unknown_payment_code_is_not_found() -> None:
    saga = Saga.build()
    awaiting_payment(saga)
    with pytest.raises(NotFound) as caught:
        saga.purchase.receive_payment(
            PaymentReceived(
                code="PAY-UNKNOWN", end_to_end_id="E-1", amount=Money.parse(PRICE), paid_at=saga.clock.now()
            )
        )
    assert (caught.value.entity, caught.value.entity_id) == ("payment", "PAY-UNKNOWN")
    assert E.PAYMENT_CONFIRMED.value not in saga.written_types()


def test_the_same_provider_event_twice_has_one_effect() -> None:
    saga = Saga.build()
    awaiting_payment(saga)
    assert saga.pay(provider_event_id="provider-evt-1") is True
    assert saga.pay(provider_event_id="provider-evt-1") is False
    assert saga.written_types().count(E.PAYMENT_CONFIRMED.value) == 1
    payment = saga.order().payment
    assert payment is not None
    record = saga.store.get_payment(payment.code)
    assert record is not None
    assert record.payment.status is PaymentStatus.PAID


def test_a_late_expiry_for_a_completed_order_changes_nothing() -> None:
    saga = Saga.build()
    _completed(saga)
    expired = saga.order().event(PaymentExpired(payment_code="PAY-X"), saga.clock.now())
    saga.deliver(expired)
    assert saga.order().status is S.COMPLETED
    assert saga.vehicle().status is VehicleStatus.SOLD


# --- messages that are not the saga's ----------------------------------------------------------------------------


def test_compensate_refuses_an_event_that_is_no_failure() -> None:
    saga = Saga.build()
    saga.place()
    event = saga.take(E.ORDER_PLACED)
    with pytest.raises(InvalidEvent, match="not a failure"):
        saga.purchase.compensate(event, "compensate")
    assert saga.order().status is S.PLACED


def test_a_step_refuses_an_event_for_an_unknown_order() -> None:
    saga = Saga.build()
    stray = DomainEvent(
        event_type=E.ORDER_PLACED,
        order_id="order-404",
        correlation_id="corr",
        occurred_at=NOW,
        payload={"clientId": ANA, "vehicleId": VEHICLE, "total": PRICE, "items": []},
    )
    with pytest.raises(InvalidEvent, match="unknown order"):
        saga.purchase.validate_client(stray, "validate-client")


# --- the vehicle's moves follow its state machine --------------------------------------------------------------


@pytest.mark.parametrize(
    ("expected", "new"),
    [
        (VehicleStatus.SOLD, VehicleStatus.AVAILABLE),
        (VehicleStatus.AVAILABLE, VehicleStatus.SOLD),
        (VehicleStatus.SOLD, VehicleStatus.RESERVED),
    ],
)
def test_a_vehicle_move_the_transition_table_forbids_is_refused_where_it_is_made(
    expected: VehicleStatus, new: VehicleStatus
) -> None:
    with pytest.raises(InvalidTransition) as caught:
        VehicleClaim(VEHICLE, expected, new, "order-1", None)
    assert caught.value.message == f"vehicle cannot go from {expected.value} to {new.value}"


# --- the invoice: the domain decides what it says, a renderer draws it ------------------------------------------


class _PlainTextInvoices:
    def __init__(self) -> None:
        self.drawn: list[InvoiceContent] = []

    def render(self, invoice: InvoiceContent) -> str:
        self.drawn.append(invoice)
        return f"NF {invoice.number}: {invoice.buyer.name} owes {invoice.total}"


def test_the_sale_archives_what_the_invoice_renderer_draws_from_the_content_the_domain_decided() -> None:
    # Given a saga whose invoices are drawn by another renderer
    saga = Saga.build()
    renderer = _PlainTextInvoices()
    saga.purchase.renderer = renderer
    # When a sale completes
    order = _completed(saga)
    # Then the renderer was given the sale's content, and its drawing is the stored document
    [content] = renderer.drawn
    assert (content.number, content.order_id, content.seller, content.total) == (
        "000000001",
        "order-1",
        SELLER,
        Money.parse(PRICE),
    )
    assert [(line.code, line.quantity, line.total) for line in content.lines] == [(VEHICLE, 1, Money.parse(PRICE))]
    assert order.invoice is not None
    assert order.invoice.document_key is not None
    assert saga.archive.documents[order.invoice.document_key] == "NF 000000001: Ana Souza owes 189900.00"
