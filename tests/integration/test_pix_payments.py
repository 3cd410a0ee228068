"""The domain's payment provider over the API Pix, against the local PSP on a free port: charges created once per
order whatever the retry, refused with a reason the customer can read, removed, refunded once per attempt; and the
saga paid by a Pix the PSP received, applied through the same notices the webhook and the reconciliation use."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from domain.order_status import CancellationReason, OrderStatus
from domain.orders import RefundStatus
from domain.purchase import Payer, PaymentRefused
from domain.values import Money
from local_stack.pix_psp import LocalPsp, PspServer, PspSettings
from pix.api import PixApiClient, PixCredentials, PixUnavailable
from pix.brcode import decode_brcode
from pix.model import CobStatus, DevolucaoStatus
from pix.txid import txid_for_order
from runtime.pix_payments import PixPaymentProvider, apply_pix, pix_notices
from tests.unit.saga_fakes import PAYMENT_TTL, Saga, awaiting_payment

SETTINGS = PspSettings(refund_settle_seconds=0.05)
TTL = timedelta(minutes=30)
PAYER = Payer(name="Ana Souza", cpf="12345678909")
AMOUNT = Money.parse("189900.00")


@pytest.fixture(scope="module")
def server() -> Iterator[PspServer]:
    with PspServer(LocalPsp(SETTINGS), port=0) as running:
        yield running


@pytest.fixture
def psp(server: PspServer) -> Iterator[LocalPsp]:
    server.psp.set_faults(unavailable_calls=0, refunds_fail=False, revoke_tokens=False)
    yield server.psp
    server.psp.set_faults(unavailable_calls=0, refunds_fail=False, revoke_tokens=False)


def _provider(server: PspServer, *, chave: str = SETTINGS.chave, ttl: timedelta = TTL) -> PixPaymentProvider:
    client = PixApiClient(server.api_url, server.token_url, PixCredentials(SETTINGS.client_id, SETTINGS.client_secret))
    return PixPaymentProvider(client, chave=chave, charge_ttl=ttl)


def _order_id() -> str:
    return f"order-{time.monotonic_ns()}"


def _settled(psp: LocalPsp, end_to_end_id: str, refund_id: str) -> DevolucaoStatus:
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        status = psp.get_devolucao(end_to_end_id, refund_id).status
        if status.is_final:
            return status
        time.sleep(0.02)
    raise AssertionError("the refund did not settle")


# --- charges ------------------------------------------------------------------------------------------------------


def test_a_charge_is_created_once_per_order_with_its_br_code_whatever_moment_it_is_asked_at(
    server: PspServer, psp: LocalPsp
) -> None:
    provider = _provider(server)
    order_id = _order_id()
    asked = datetime.now(UTC)

    first = provider.create_charge(
        order_id=order_id, amount=AMOUNT, expires_at=asked + TTL, payer=PAYER, description=f"Pedido {order_id}"
    )
    # A retried step asks a minute later, with another deadline of its own.
    again = provider.create_charge(
        order_id=order_id,
        amount=AMOUNT,
        expires_at=asked + TTL + timedelta(minutes=1),
        payer=PAYER,
        description=f"Pedido {order_id}",
    )

    assert again == first
    assert first.code == txid_for_order(order_id)
    cob = psp.get_cob(first.code)
    assert (cob.status, cob.valor, cob.expiracao) == (CobStatus.ATIVA, AMOUNT, int(TTL.total_seconds()))
    assert cob.devedor is not None
    assert (cob.devedor.nome, cob.devedor.cpf) == (PAYER.name, PAYER.cpf)
    assert cob.solicitacao_pagador == f"Pedido {order_id}"
    # The PSP's deadline, as the wire carries it (to the millisecond).
    assert timedelta(0) <= cob.expires_at - first.expires_at < timedelta(milliseconds=1)
    assert first.br_code is not None
    assert first.location is not None
    decoded = decode_brcode(first.br_code)
    assert decoded.location == first.location
    assert len([charge for charge in psp.charges() if charge.txid == first.code]) == 1


def test_a_charge_the_psp_refuses_is_a_payment_refused_with_its_reason(server: PspServer, psp: LocalPsp) -> None:
    provider = _provider(server, chave="someone-else@example.com")
    order_id = _order_id()

    with pytest.raises(PaymentRefused) as refused:
        provider.create_charge(
            order_id=order_id, amount=AMOUNT, expires_at=datetime.now(UTC) + TTL, payer=PAYER, description="Pedido"
        )

    assert refused.value.reason == "A chave não pertence ao usuário recebedor."


def test_a_psp_unavailable_at_charge_time_propagates_for_the_queue_to_retry(server: PspServer, psp: LocalPsp) -> None:
    provider = _provider(server)
    order_id = _order_id()
    psp.set_faults(unavailable_calls=1, refunds_fail=None, revoke_tokens=False)

    with pytest.raises(PixUnavailable):
        provider.create_charge(
            order_id=order_id, amount=AMOUNT, expires_at=datetime.now(UTC) + TTL, payer=PAYER, description="Pedido"
        )
    charge = provider.create_charge(
        order_id=order_id, amount=AMOUNT, expires_at=datetime.now(UTC) + TTL, payer=PAYER, description="Pedido"
    )

    assert psp.get_cob(charge.code).status is CobStatus.ATIVA


# --- removal ------------------------------------------------------------------------------------------------------


def test_a_removed_charge_cannot_be_paid_and_removing_it_again_is_fine(server: PspServer, psp: LocalPsp) -> None:
    provider = _provider(server)
    charge = provider.create_charge(
        order_id=_order_id(), amount=AMOUNT, expires_at=datetime.now(UTC) + TTL, payer=PAYER, description="Pedido"
    )

    provider.remove_charge(charge.code)
    provider.remove_charge(charge.code)

    assert psp.get_cob(charge.code).status is CobStatus.REMOVIDA_PELO_USUARIO_RECEBEDOR


def test_removing_a_paid_charge_leaves_it_paid(server: PspServer, psp: LocalPsp) -> None:
    provider = _provider(server)
    charge = provider.create_charge(
        order_id=_order_id(), amount=AMOUNT, expires_at=datetime.now(UTC) + TTL, payer=PAYER, description="Pedido"
    )
    psp.pay(txid=charge.code, notify=False)

    provider.remove_charge(charge.code)

    assert psp.get_cob(charge.code).status is CobStatus.CONCLUIDA


def test_removing_a_charge_never_created_is_fine(server: PspServer, psp: LocalPsp) -> None:
    _provider(server).remove_charge(txid_for_order(_order_id()))


# --- refunds ------------------------------------------------------------------------------------------------------


def test_a_refund_asked_twice_is_one_refund_and_settles(server: PspServer, psp: LocalPsp) -> None:
    provider = _provider(server)
    charge = provider.create_charge(
        order_id=_order_id(), amount=AMOUNT, expires_at=datetime.now(UTC) + TTL, payer=PAYER, description="Pedido"
    )
    pix = psp.pay(txid=charge.code, notify=False)

    first = provider.refund(payment_code=charge.code, end_to_end_id=pix.end_to_end_id, amount=AMOUNT, attempt=1)
    again = provider.refund(payment_code=charge.code, end_to_end_id=pix.end_to_end_id, amount=AMOUNT, attempt=1)

    assert first.id == again.id
    assert first.status is RefundStatus.PENDING
    assert len(psp.get_pix(pix.end_to_end_id).devolucoes) == 1
    assert _settled(psp, pix.end_to_end_id, first.id) is DevolucaoStatus.DEVOLVIDO
    settled = provider.refund(payment_code=charge.code, end_to_end_id=pix.end_to_end_id, amount=AMOUNT, attempt=1)
    assert settled.status is RefundStatus.REFUNDED
    assert settled.completed_at is not None


def test_a_failed_refund_is_followed_by_a_new_attempt(server: PspServer, psp: LocalPsp) -> None:
    provider = _provider(server)
    charge = provider.create_charge(
        order_id=_order_id(), amount=AMOUNT, expires_at=datetime.now(UTC) + TTL, payer=PAYER, description="Pedido"
    )
    pix = psp.pay(txid=charge.code, notify=False)
    psp.set_faults(unavailable_calls=None, refunds_fail=True, revoke_tokens=False)
    failed = provider.refund(payment_code=charge.code, end_to_end_id=pix.end_to_end_id, amount=AMOUNT, attempt=1)
    assert _settled(psp, pix.end_to_end_id, failed.id) is DevolucaoStatus.NAO_REALIZADO
    psp.set_faults(unavailable_calls=None, refunds_fail=False, revoke_tokens=False)

    retried = provider.refund(payment_code=charge.code, end_to_end_id=pix.end_to_end_id, amount=AMOUNT, attempt=2)

    assert retried.id != failed.id
    assert _settled(psp, pix.end_to_end_id, retried.id) is DevolucaoStatus.DEVOLVIDO
    outcomes = {outcome.refund_id: outcome.status for outcome in pix_notices(psp.get_pix(pix.end_to_end_id)).refunds}
    assert outcomes == {failed.id: RefundStatus.FAILED, retried.id: RefundStatus.REFUNDED}


# --- the saga over the PSP -----------------------------------------------------------------------------------------


def test_a_pix_paid_at_the_psp_completes_the_order_once_and_a_late_one_is_refunded(
    server: PspServer, psp: LocalPsp
) -> None:
    provider = _provider(server, ttl=PAYMENT_TTL)
    saga = Saga.build(payments=provider)
    order = awaiting_payment(saga)
    assert order.payment is not None
    assert order.payment.code == txid_for_order("order-1")
    assert order.payment.br_code is not None

    # The payer's bank pays by the copy-and-paste code; the webhook (or the reconciliation) reports it twice.
    paid = psp.pay(brcode=order.payment.br_code, notify=False)
    assert apply_pix(saga.purchase, paid).new_payment is True
    assert apply_pix(saga.purchase, paid).new_payment is False
    saga.run(times=2)
    assert saga.order().status is OrderStatus.COMPLETED

    # A second Pix for the same charge (a bank racing the conclusion) is owed back and refunded through the PSP.
    twice = psp.pay(txid=order.payment.code, even_if_inactive=True, notify=False)
    apply_pix(saga.purchase, twice)
    saga.run()
    refund = saga.purchase.refund_owed(order_id="order-1", end_to_end_id=twice.end_to_end_id, amount=twice.valor)
    _settled(psp, twice.end_to_end_id, refund.id)
    applied = apply_pix(saga.purchase, psp.get_pix(twice.end_to_end_id))
    assert (applied.new_payment, applied.refunds_changed) == (False, 1)
    final = saga.order()
    assert final.status is OrderStatus.COMPLETED
    assert final.payment is not None
    assert [(r.id, r.status) for r in final.payment.refunds] == [(refund.id, RefundStatus.REFUNDED)]


def test_a_customer_cancel_removes_the_charge_at_the_psp(server: PspServer, psp: LocalPsp) -> None:
    saga = Saga.build(payments=_provider(server, ttl=PAYMENT_TTL))
    awaiting_payment(saga, order_id="order-cancel")

    saga.purchase.cancel_by_customer("order-cancel", requested_by="client-ana", is_admin=False)

    assert psp.get_cob(txid_for_order("order-cancel")).status is CobStatus.REMOVIDA_PELO_USUARIO_RECEBEDOR
    assert saga.order("order-cancel").cancellation_reason is CancellationReason.CUSTOMER_CANCELLED


def test_a_pix_of_no_charge_of_ours_is_left_alone(server: PspServer, psp: LocalPsp) -> None:
    saga = Saga.build(payments=_provider(server))
    provider = _provider(server)
    stranger = provider.create_charge(
        order_id=_order_id(), amount=AMOUNT, expires_at=datetime.now(UTC) + TTL, payer=PAYER, description="Pedido"
    )
    pix = psp.pay(txid=stranger.code, notify=False)

    assert apply_pix(saga.purchase, pix).ours is False
