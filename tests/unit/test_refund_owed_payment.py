"""An order's payment says truthfully what arrived and what is owed back, on every path where money is owed back.

Found from outside: an order cancelled for underpayment (1.00 paid of 172,500.00) showed
`payment { status: PAID, amount: 172500.00 }`, as if the dealership had been paid in full."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from domain.events import EventType
from domain.order_status import CancellationReason
from domain.order_status import OrderStatus as S
from domain.orders import Order, PaymentStatus
from domain.values import Money
from tests.unit.saga_fakes import ANA, PAYMENT_TTL, PRICE, Saga, awaiting_payment

ZERO = Money.zero()


def _payment_of(order: Order) -> tuple[PaymentStatus, Money, Money, Money | None]:
    assert order.payment is not None
    return order.payment.status, order.payment.amount, order.payment.received, order.refund_owed


def test_an_underpaid_order_shows_what_arrived_and_that_it_is_owed_back() -> None:
    saga = Saga.build()
    awaiting_payment(saga)

    saga.pay(amount="1.00")
    saga.run(times=2)

    order = saga.order()
    assert order.cancellation_reason is CancellationReason.PAYMENT_FAILED
    assert _payment_of(order) == (
        PaymentStatus.REFUND_OWED,
        Money.parse(PRICE),
        Money.parse("1.00"),
        Money.parse("1.00"),
    )


def test_an_overpaid_order_shows_the_same() -> None:
    saga = Saga.build()
    awaiting_payment(saga)

    saga.pay(amount="999999.00")
    saga.run()

    order = saga.order()
    assert _payment_of(order) == (
        PaymentStatus.REFUND_OWED,
        Money.parse(PRICE),
        Money.parse("999999.00"),
        Money.parse("999999.00"),
    )


def test_money_after_the_customer_cancelled_is_owed_back() -> None:
    saga = Saga.build()
    awaiting_payment(saga)
    saga.purchase.cancel_by_customer("order-1", requested_by=ANA, is_admin=False)
    saga.run()

    saga.pay()
    saga.run()

    order = saga.order()
    assert order.status is S.CANCELLED
    assert _payment_of(order) == (PaymentStatus.REFUND_OWED, Money.parse(PRICE), Money.parse(PRICE), Money.parse(PRICE))


def test_money_after_the_payment_expired_is_owed_back() -> None:
    saga = Saga.build()
    awaiting_payment(saga)
    saga.clock.advance(PAYMENT_TTL + timedelta(seconds=1))
    assert saga.purchase.expire_due_payments() == 1
    saga.run()
    assert _payment_of(saga.order())[0] is PaymentStatus.EXPIRED

    saga.pay()
    saga.run()

    assert _payment_of(saga.order()) == (
        PaymentStatus.REFUND_OWED,
        Money.parse(PRICE),
        Money.parse(PRICE),
        Money.parse(PRICE),
    )


def test_money_between_the_expiry_and_its_compensation_is_owed_back() -> None:
    saga = Saga.build()
    awaiting_payment(saga)
    saga.clock.advance(PAYMENT_TTL + timedelta(seconds=1))
    assert saga.purchase.expire_due_payments() == 1
    saga.pay()
    saga.deliver(saga.take(EventType.PAYMENT_CONFIRMED))
    saga.run()

    order = saga.order()
    assert order.cancellation_reason is CancellationReason.PAYMENT_EXPIRED
    assert _payment_of(order) == (PaymentStatus.REFUND_OWED, Money.parse(PRICE), Money.parse(PRICE), Money.parse(PRICE))


def test_a_completed_order_paid_twice_stays_paid_and_owes_the_second_payment() -> None:
    saga = Saga.build()
    awaiting_payment(saga)
    assert saga.pay()
    saga.run()
    assert _payment_of(saga.order()) == (PaymentStatus.PAID, Money.parse(PRICE), Money.parse(PRICE), None)

    assert saga.pay(provider_event_id="provider-evt-2")
    saga.run(times=2)

    order = saga.order()
    assert order.status is S.COMPLETED
    assert _payment_of(order) == (
        PaymentStatus.PAID,
        Money.parse(PRICE),
        Money.parse(PRICE) * 2,
        Money.parse(PRICE),
    )


def test_a_paid_order_whose_goods_were_not_there_owes_back_what_it_received_once() -> None:
    saga = Saga.build()
    awaiting_payment(saga)
    # The reservation was lost behind the application's back: the sale cannot be committed.
    saga.vehicles.save(replace(saga.vehicle(), reserved_by="someone-else"))

    assert saga.pay()
    saga.run(times=2)

    order = saga.order()
    assert order.status is S.CANCELLED
    assert _payment_of(order) == (PaymentStatus.REFUND_OWED, Money.parse(PRICE), Money.parse(PRICE), Money.parse(PRICE))
