"""The Pix reconciliation (sagas/reconcile.py) against the local PSP and the emulator: a payment whose webhook call
was lost completes its order, and one the webhook applied already changes nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

pytest.register_assert_rewrite("tests.integration.saga_harness")

from domain.clients import Client  # noqa: E402
from domain.events import EventType  # noqa: E402
from domain.order_status import OrderStatus  # noqa: E402
from domain.orders import RefundStatus  # noqa: E402
from pix.model import DevolucaoStatus  # noqa: E402
from sagas.reconcile import reconcile  # noqa: E402
from sagas.wiring import saga_services  # noqa: E402
from tests.integration.saga_harness import SagaHarness, wait_until  # noqa: E402

pytest_plugins = ["tests.integration.saga_harness"]


def _after_the_lag(harness: SagaHarness) -> datetime:
    """A moment when the Pix just received are inside the reconciliation's window (its end is `lag` in the past)."""
    return datetime.now(UTC) + timedelta(seconds=harness.settings.pix.reconcile_lag_seconds + 1)


def test_a_payment_whose_webhook_was_lost_completes_the_order_through_the_reconciliation(saga: SagaHarness) -> None:
    # Given an order awaiting payment, paid at the PSP, and the PSP's webhook call lost
    buyer: Client = saga.register_buyer("Rita Reconciliada")
    order = saga.wait_for_status(saga.place_order(buyer, saga.create_vehicle()).id, OrderStatus.AWAITING_PAYMENT)
    pix = saga.pay_at_psp(order)

    # When the reconciliation runs
    first = reconcile(saga_services(), _after_the_lag(saga))

    # Then the order completes, its payment the Pix the PSP listed
    assert first["newPayments"] == 1
    done = saga.wait_for_status(order.id, OrderStatus.COMPLETED)
    assert done.payment is not None
    assert done.payment.paid_by == pix.end_to_end_id
    # ...and running it again, or the webhook's late call, changes nothing: the table knows the Pix's receipt
    assert saga_services().purchase.payments_received([pix.end_to_end_id, "E-NEVER-PAID"]) == {pix.end_to_end_id}
    assert reconcile(saga_services(), _after_the_lag(saga))["newPayments"] == 0
    assert saga.notify(pix).body == {"received": 1, "newPayments": 0, "refundsChanged": 0}
    saga.settle()
    assert len(saga.outbox(order.id, EventType.PAYMENT_CONFIRMED)) == 1


def test_a_pix_still_within_the_lag_is_left_to_the_webhook(saga: SagaHarness) -> None:
    buyer: Client = saga.register_buyer("Lia Recente")
    order = saga.wait_for_status(saga.place_order(buyer, saga.create_vehicle()).id, OrderStatus.AWAITING_PAYMENT)
    saga.pay_at_psp(order)

    ran = reconcile(saga_services(), datetime.now(UTC))

    assert ran["newPayments"] == 0
    assert saga.order(order.id).status is OrderStatus.AWAITING_PAYMENT


def test_a_late_payment_is_refunded_at_the_psp_and_the_customer_told_when_it_completes(saga: SagaHarness) -> None:
    # Given an order the customer cancelled, then paid anyway
    buyer: Client = saga.register_buyer("Tiago Tardio")
    order = saga.wait_for_status(saga.place_order(buyer, saga.create_vehicle()).id, OrderStatus.AWAITING_PAYMENT)
    saga.cancel(order)
    saga.wait_for_emails(order.id, 1)
    pix = saga.pay_at_psp(order)
    assert saga.notify(pix).status == 200

    # Then the refund step gives the money back at the PSP, once
    def settled_at_psp() -> list[str]:
        refunds = saga.psp.get_pix(pix.end_to_end_id).devolucoes
        return [refund.id for refund in refunds if refund.status is DevolucaoStatus.DEVOLVIDO]

    [refund_id] = wait_until(settled_at_psp, "the PSP to settle the refund")
    # ...and when the PSP's word comes (here by the reconciliation: no webhook), the order shows it and the customer
    # is told, once
    reconcile(saga_services(), _after_the_lag(saga))
    done = saga.wait_for(
        order.id,
        lambda o: o.payment is not None and any(r.status is RefundStatus.REFUNDED for r in o.payment.refunds),
        what="to show its refund completed",
    )
    assert done.payment is not None
    assert [(r.id, r.status) for r in done.payment.refunds] == [(refund_id, RefundStatus.REFUNDED)]
    saga.wait_for_emails(order.id, 3)
    reconcile(saga_services(), _after_the_lag(saga))
    saga.settle()
    subjects = sorted(email["subject"] for email in saga.emails(order.id))
    assert subjects == sorted(
        [f"Pedido {order.id} cancelado", f"Reembolso do pedido {order.id}", f"Pedido {order.id}: valor devolvido"]
    )
    assert len(saga.psp.get_pix(pix.end_to_end_id).devolucoes) == 1
