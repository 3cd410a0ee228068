"""The saga over a Pix provider: the charge names its payer and order and keeps its BR Code, a refused charge
cancels the order, cancel and expiry remove the charge, a received Pix is applied once per endToEndId, and the money
owed back is refunded through the provider, each attempt recorded once with its outcome."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from domain.errors import NotFound
from domain.events import EventType, OrderCancelled, RefundOwed
from domain.order_status import CancellationReason, VehicleStatus
from domain.order_status import OrderStatus as S
from domain.orders import PaymentStatus, Refund, RefundStatus
from domain.purchase import Payer, RefundOutcome
from domain.values import Money
from pix.model import Devolucao, DevolucaoStatus, Pix
from runtime.pix_payments import AppliedBatch, AppliedPix, apply_pix, apply_received, not_yet_known
from tests.unit.factories import CPF_ANA, NOW
from tests.unit.saga_fakes import ANA, PAYMENT_TTL, PRICE, RecordingPaymentProvider, Saga, awaiting_payment

E = EventType


def _saga(provider: RecordingPaymentProvider | None = None) -> tuple[Saga, RecordingPaymentProvider]:
    payments = RecordingPaymentProvider() if provider is None else provider
    return Saga.build(payments=payments), payments


def _owed_after_cancel(saga: Saga, end_to_end_id: str = "E-LATE") -> None:
    """The customer cancels, then a Pix for the cancelled charge arrives anyway: its money is owed back."""
    awaiting_payment(saga)
    saga.purchase.cancel_by_customer("order-1", requested_by=ANA, is_admin=False)
    saga.run()
    assert saga.pay(provider_event_id=end_to_end_id)
    # The refund step is left to each test, which asks for the refund itself.
    saga.run(hold={E.REFUND_OWED})


# --- the charge ---------------------------------------------------------------------------------------------------


def test_the_charge_names_the_client_and_the_order_and_its_br_code_is_kept() -> None:
    saga, payments = _saga()
    awaiting_payment(saga)
    payment = saga.order().payment
    assert payment is not None
    charge, payer, description = payments.charges[payment.code]
    assert payer == Payer(name="Ana Souza", cpf=CPF_ANA.replace(".", "").replace("-", ""))
    assert description == "Pedido order-1"
    assert (payment.br_code, payment.location, payment.expires_at) == (
        charge.br_code,
        charge.location,
        charge.expires_at,
    )
    assert payment.expires_at == NOW + PAYMENT_TTL
    assert payment.refunds == ()


def test_a_refused_charge_cancels_the_order_with_its_reason_and_releases_the_vehicle_once() -> None:
    saga, _ = _saga(RecordingPaymentProvider(refusing="the Pix key is not the receiver's"))
    saga.place()
    saga.run(times=2)
    order = saga.order()
    assert order.status is S.CANCELLED
    assert order.cancellation_reason is CancellationReason.PAYMENT_REFUSED
    assert order.payment is None
    assert order.history[-1].detail == "the payment could not be created: the Pix key is not the receiver's"
    assert saga.vehicle().status is VehicleStatus.AVAILABLE
    cancelled = saga.one(E.ORDER_CANCELLED).payload_as(OrderCancelled)
    assert cancelled.reason == CancellationReason.PAYMENT_REFUSED.value
    assert len(saga.mailer.sent) == 1


# --- closing a pending charge -------------------------------------------------------------------------------------


def test_a_customer_cancel_removes_the_charge_at_the_provider() -> None:
    saga, payments = _saga()
    order = awaiting_payment(saga)
    saga.purchase.cancel_by_customer("order-1", requested_by=ANA, is_admin=False)
    assert order.payment is not None
    assert payments.removed == [order.payment.code]


def test_the_expiry_sweep_removes_the_charge_at_the_provider() -> None:
    saga, payments = _saga()
    order = awaiting_payment(saga)
    saga.clock.advance(PAYMENT_TTL + timedelta(seconds=1))
    assert saga.purchase.expire_due_payments() == 1
    assert order.payment is not None
    assert payments.removed == [order.payment.code]


def test_a_provider_unreachable_at_expiry_leaves_the_payment_due_for_the_next_sweep() -> None:
    class Unreachable(RecordingPaymentProvider):
        def remove_charge(self, code: str) -> None:
            raise ConnectionError("the PSP is down")

    saga, _ = _saga(Unreachable())
    awaiting_payment(saga)
    saga.clock.advance(PAYMENT_TTL + timedelta(seconds=1))
    with pytest.raises(ConnectionError):
        saga.purchase.expire_due_payments()
    order = saga.order()
    assert order.status is S.AWAITING_PAYMENT
    assert order.payment is not None
    assert order.payment.status is PaymentStatus.PENDING


def test_a_customer_cancel_while_the_provider_is_unreachable_changes_nothing() -> None:
    class Unreachable(RecordingPaymentProvider):
        def remove_charge(self, code: str) -> None:
            raise ConnectionError("the PSP is down")

    saga, _ = _saga(Unreachable())
    awaiting_payment(saga)
    with pytest.raises(ConnectionError):
        saga.purchase.cancel_by_customer("order-1", requested_by=ANA, is_admin=False)
    order = saga.order()
    assert order.status is S.AWAITING_PAYMENT
    assert order.payment is not None
    assert order.payment.status is PaymentStatus.PENDING
    assert saga.store.get_payment(order.payment.code) is not None


# --- a Pix received -----------------------------------------------------------------------------------------------


def test_a_pix_is_applied_once_per_end_to_end_id_and_completes_the_sale() -> None:
    saga, _ = _saga()
    awaiting_payment(saga)
    assert saga.pay(provider_event_id="E-1") is True
    assert saga.pay(provider_event_id="E-1") is False
    saga.run(times=2)
    order = saga.order()
    assert order.status is S.COMPLETED
    assert order.payment is not None
    assert order.payment.paid_by == "E-1"


def test_a_late_pix_is_owed_back_naming_its_end_to_end_id() -> None:
    saga, _ = _saga()
    _owed_after_cancel(saga)
    owed = saga.one(E.REFUND_OWED).payload_as(RefundOwed)
    assert (owed.end_to_end_id, owed.amount) == ("E-LATE", PRICE)
    assert saga.order().refund_owed == Money.parse(PRICE)


# --- refunds --------------------------------------------------------------------------------------------------------


def test_money_owed_back_is_refunded_once_however_often_the_refund_is_asked_for() -> None:
    saga, payments = _saga()
    _owed_after_cancel(saga)
    amount = Money.parse(PRICE)
    first = saga.purchase.refund_owed(order_id="order-1", end_to_end_id="E-LATE", amount=amount)
    again = saga.purchase.refund_owed(order_id="order-1", end_to_end_id="E-LATE", amount=amount)
    assert first.status is RefundStatus.REFUNDED
    assert again == first
    assert len(payments.refund_calls) == 1
    order = saga.order()
    assert order.payment is not None
    assert order.payment.refunds == (first,)
    assert order.payment.status is PaymentStatus.REFUND_OWED  # what the order owed stays on record


def test_a_pending_refund_asked_again_is_the_same_attempt_and_its_outcome_is_recorded_once() -> None:
    saga, payments = _saga(RecordingPaymentProvider(refund_answers=[RefundStatus.PENDING]))
    _owed_after_cancel(saga)
    amount = Money.parse(PRICE)
    pending = saga.purchase.refund_owed(order_id="order-1", end_to_end_id="E-LATE", amount=amount)
    saga.purchase.refund_owed(order_id="order-1", end_to_end_id="E-LATE", amount=amount)
    assert [call[3] for call in payments.refund_calls] == [1, 1]
    assert pending.status is RefundStatus.PENDING
    order = saga.order()
    assert order.payment is not None
    outcome = RefundOutcome(
        code=order.payment.code,
        end_to_end_id="E-LATE",
        refund_id=pending.id,
        amount=amount,
        status=RefundStatus.REFUNDED,
        requested_at=pending.requested_at,
        completed_at=NOW + timedelta(minutes=1),
    )
    assert saga.purchase.record_refund_outcome(outcome) is True
    assert saga.purchase.record_refund_outcome(outcome) is False
    # A late word of another outcome does not change a final one.
    assert saga.purchase.record_refund_outcome(replace(outcome, status=RefundStatus.FAILED)) is False
    order = saga.order()
    assert order.payment is not None
    (refund,) = order.payment.refunds
    assert (refund.status, refund.completed_at) == (RefundStatus.REFUNDED, NOW + timedelta(minutes=1))


def test_a_refund_the_psp_did_not_make_is_asked_again_as_the_next_attempt_by_the_saga() -> None:
    # Given money owed back, and a PSP whose first refund ends NAO_REALIZADO
    saga, payments = _saga(RecordingPaymentProvider(refund_answers=[RefundStatus.FAILED]))
    _owed_after_cancel(saga)
    # When the refund step runs (each message twice)
    saga.run(times=2)
    # Then the failed attempt owes the next one, which the step asks for, once: the money is back
    retries = [event for event in saga.written() if event.event_type is E.REFUND_OWED]
    assert [event.payload_as(RefundOwed).attempt for event in retries] == [None, 2]
    assert [call[3] for call in payments.refund_calls] == [1, 2]
    order = saga.order()
    assert order.payment is not None
    assert [refund.status for refund in order.payment.refunds] == [RefundStatus.FAILED, RefundStatus.REFUNDED]
    assert len({refund.id for refund in order.payment.refunds}) == 2
    # And the customer heard of the refund owed once, and of the money back once
    subjects = [email.subject for email in saga.mailer.sent]
    assert subjects.count("Reembolso do pedido order-1") == 1
    assert subjects.count("Pedido order-1: valor devolvido") == 1


def test_a_refund_refused_at_every_attempt_stops_after_the_last_and_shows_each() -> None:
    saga, payments = _saga(RecordingPaymentProvider(refund_answers=[RefundStatus.FAILED] * 5))
    _owed_after_cancel(saga)
    saga.run(times=2)
    assert [call[3] for call in payments.refund_calls] == [1, 2, 3]
    order = saga.order()
    assert order.payment is not None
    assert [refund.status for refund in order.payment.refunds] == [RefundStatus.FAILED] * 3
    assert order.refund_owed == Money.parse(PRICE)  # still owed: for the staff to settle by hand


def test_an_attempt_that_ended_is_not_asked_again() -> None:
    saga, payments = _saga(RecordingPaymentProvider(refund_answers=[RefundStatus.FAILED]))
    _owed_after_cancel(saga)
    amount = Money.parse(PRICE)
    failed = saga.purchase.refund_owed(order_id="order-1", end_to_end_id="E-LATE", amount=amount)
    again = saga.purchase.refund_owed(order_id="order-1", end_to_end_id="E-LATE", amount=amount)
    assert (failed.status, again) == (RefundStatus.FAILED, failed)
    assert [call[3] for call in payments.refund_calls] == [1]
    second = saga.purchase.refund_owed(order_id="order-1", end_to_end_id="E-LATE", amount=amount, attempt=2)
    assert (second.status, [call[3] for call in payments.refund_calls]) == (RefundStatus.REFUNDED, [1, 2])
    # Once the money is back, no attempt is asked of the provider again
    assert saga.purchase.refund_owed(order_id="order-1", end_to_end_id="E-LATE", amount=amount, attempt=3) == second
    assert len(payments.refund_calls) == 2


def test_a_refund_the_order_never_recorded_is_recorded_as_the_provider_tells_it() -> None:
    saga, _ = _saga()
    _owed_after_cancel(saga)
    order = saga.order()
    assert order.payment is not None
    outcome = RefundOutcome(
        code=order.payment.code,
        end_to_end_id="E-LATE",
        refund_id="D-CRASHED",
        amount=Money.parse(PRICE),
        status=RefundStatus.REFUNDED,
        requested_at=NOW,
        completed_at=NOW,
    )
    assert saga.purchase.record_refund_outcome(outcome) is True
    order = saga.order()
    assert order.payment is not None
    assert order.payment.refunds == (
        Refund("D-CRASHED", "E-LATE", Money.parse(PRICE), RefundStatus.REFUNDED, NOW, NOW),
    )


def test_an_outcome_for_an_unknown_charge_is_not_found() -> None:
    saga, _ = _saga()
    outcome = RefundOutcome("TX-NONE", "E-1", "D-1", Money.parse(PRICE), RefundStatus.REFUNDED, NOW)
    with pytest.raises(NotFound):
        saga.purchase.record_refund_outcome(outcome)


def test_a_listed_pix_and_its_settled_refund_apply_once_through_the_seam() -> None:
    saga, _ = _saga(RecordingPaymentProvider(refund_answers=[RefundStatus.PENDING]))
    _owed_after_cancel(saga, end_to_end_id="E-LATE")
    order = saga.order()
    assert order.payment is not None
    pending = saga.purchase.refund_owed(order_id="order-1", end_to_end_id="E-LATE", amount=Money.parse(PRICE))
    settled = Devolucao(pending.id, "R" * 32, Money.parse(PRICE), DevolucaoStatus.DEVOLVIDO, NOW, NOW)
    pix = Pix("E-LATE", Money.parse(PRICE), NOW, txid=order.payment.code, devolucoes=(settled,))

    assert apply_pix(saga.purchase, pix) == AppliedPix(new_payment=False, refunds_changed=1)
    assert apply_pix(saga.purchase, pix) == AppliedPix(new_payment=False, refunds_changed=0)
    refunded = saga.order().payment
    assert refunded is not None
    assert [refund.status for refund in refunded.refunds] == [RefundStatus.REFUNDED]


def test_the_reconciliation_applies_only_the_listed_pix_that_say_something_new() -> None:
    # Given a Pix the saga received already (the customer's late payment, whose refund is in processing)
    saga, _ = _saga(RecordingPaymentProvider(refund_answers=[RefundStatus.PENDING]))
    _owed_after_cancel(saga, end_to_end_id="E-LATE")
    order = saga.order()
    assert order.payment is not None
    code = order.payment.code
    pending = saga.purchase.refund_owed(order_id="order-1", end_to_end_id="E-LATE", amount=Money.parse(PRICE))
    known = Pix("E-LATE", Money.parse(PRICE), NOW, txid=code)
    settled = Devolucao(pending.id, "R" * 32, Money.parse(PRICE), DevolucaoStatus.DEVOLVIDO, NOW, NOW)
    # When the reconciliation lists it twice (once with its refund settled), a second Pix of the charge and a
    # transfer to the key that paid no charge
    listed = [known, replace(known, devolucoes=(settled,)), Pix("E-AGAIN", Money.parse(PRICE), NOW, txid=code)]
    listed.append(Pix("E-GIFT", Money.parse("5.00"), NOW))
    # Then the Pix known and silent is left alone, the second payment is new, the refund's outcome recorded
    news = not_yet_known(saga.purchase, listed)
    assert news == listed[1:]
    applied = apply_received(saga.purchase, news)
    assert applied == AppliedBatch(received=3, new_payments=1, refunds_changed=1, not_ours=1)
    assert saga.purchase.payments_received(["E-LATE", "E-AGAIN", "E-GIFT"]) == {"E-LATE", "E-AGAIN"}
    assert not_yet_known(saga.purchase, listed) == [listed[1], listed[3]]
    # And a list applied whole again changes nothing
    again = apply_received(saga.purchase, listed)
    assert again == AppliedBatch(received=4, new_payments=0, refunds_changed=0, not_ours=1)
