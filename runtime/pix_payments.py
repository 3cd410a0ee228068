"""The domain's payment provider over a PSP's API Pix, and what a received Pix means to the domain.

`PixPaymentProvider` creates the order's immediate charge (`PUT /cob/{txid}`, the txid derived from the order, so a
retried step finds the charge it created), removes it when the order stops waiting for it, and refunds received Pix
(`PUT /pix/{e2eid}/devolucao/{id}`, the id derived from the Pix and the attempt). A refusal (4xx) to create a charge
is the domain's PaymentRefused; the PSP being unavailable (PixUnavailable) propagates, so the step's queue retries.

`pix_notices` reads a Pix, as the webhook or the reconciliation's listing gives it, into the domain's notices; the
webhook handler and the reconciliation job apply them with `apply_pix`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from domain.errors import NotFound
from domain.orders import RefundStatus
from domain.purchase import Charge, Payer, PaymentReceived, PaymentRefused, Purchase, RefundOutcome, RefundReceipt
from domain.values import Money
from pix.api import PixApiClient, PixRefused
from pix.model import CobRequest, CobStatus, Devedor, DevolucaoStatus, Pix
from pix.txid import refund_id, txid_for_order

_NOT_FOUND = 404
_REFUND_STATUSES = {
    DevolucaoStatus.EM_PROCESSAMENTO: RefundStatus.PENDING,
    DevolucaoStatus.DEVOLVIDO: RefundStatus.REFUNDED,
    DevolucaoStatus.NAO_REALIZADO: RefundStatus.FAILED,
}


class PixPaymentProvider:
    """The dealership's charges and refunds at its PSP, under its Pix key (`chave`).

    `charge_ttl` is how long a charge may be paid: a fixed figure (the saga's payment deadline), because the PSP
    counts `calendario.expiracao` from the moment it creates the charge and refuses a `PUT` retried with another
    body. A charge asked for again, at another moment, must say exactly what it said the first time."""

    def __init__(self, client: PixApiClient, *, chave: str, charge_ttl: timedelta) -> None:
        if charge_ttl < timedelta(seconds=1):
            raise ValueError("a charge must be payable for at least a second")
        self._client = client
        self._chave = chave
        self._expiracao = int(charge_ttl.total_seconds())

    def create_charge(
        self,
        *,
        order_id: str,
        amount: Money,
        expires_at: datetime,  # noqa: ARG002 - the PSP's own deadline (creation + expiracao) is the charge's
        payer: Payer,
        description: str,
    ) -> Charge:
        request = CobRequest(
            expiracao=self._expiracao,
            valor=amount,
            chave=self._chave,
            devedor=Devedor(nome=payer.name, cpf=payer.cpf),
            solicitacao_pagador=description,
        )
        try:
            cob = self._client.put_cob(txid_for_order(order_id), request)
        except PixRefused as refused:
            raise PaymentRefused(refused.detail or refused.title) from refused
        return Charge(code=cob.txid, expires_at=cob.expires_at, br_code=cob.pix_copia_e_cola, location=cob.location)

    def remove_charge(self, code: str) -> None:
        try:
            self._client.patch_cob_removed(code)
        except PixRefused as refused:
            if refused.status == _NOT_FOUND:
                return  # never created: nothing can pay it
            # Refused because it is no longer open: paid (its Pix is a late payment, owed back) or removed already.
            if self._client.get_cob(code).status is CobStatus.ATIVA:
                raise

    def refund(self, *, payment_code: str, end_to_end_id: str, amount: Money, attempt: int) -> RefundReceipt:
        del payment_code  # the PSP names a refund by the Pix it gives back, not by the charge
        devolucao = self._client.put_devolucao(end_to_end_id, refund_id(end_to_end_id, attempt), amount)
        return RefundReceipt(
            id=devolucao.id, status=_REFUND_STATUSES[devolucao.status], completed_at=devolucao.liquidacao
        )


@dataclass(frozen=True, slots=True)
class PixNotices:
    """What one received Pix tells the domain: the payment (None for a Pix that paid no charge: a transfer to the
    key) and the word on each of its refunds."""

    payment: PaymentReceived | None
    refunds: tuple[RefundOutcome, ...] = ()


def pix_notices(pix: Pix) -> PixNotices:
    """The domain's notices of a Pix, as the webhook posts it or the PSP lists it. Pure: the same Pix always gives
    the same notices, and applying them twice changes nothing (each payment is keyed by its endToEndId, each refund
    by its id)."""
    if pix.txid is None:
        return PixNotices(payment=None)
    payment = PaymentReceived(code=pix.txid, end_to_end_id=pix.end_to_end_id, amount=pix.valor, paid_at=pix.horario)
    refunds = tuple(
        RefundOutcome(
            code=pix.txid,
            end_to_end_id=pix.end_to_end_id,
            refund_id=devolucao.id,
            amount=devolucao.valor,
            status=_REFUND_STATUSES[devolucao.status],
            requested_at=devolucao.solicitacao,
            completed_at=devolucao.liquidacao,
        )
        for devolucao in pix.devolucoes
    )
    return PixNotices(payment=payment, refunds=refunds)


@dataclass(frozen=True, slots=True)
class AppliedPix:
    """What applying one Pix did: whether its payment was new, how many refunds changed, or that it paid no charge
    of this platform's (no txid, or one no order issued)."""

    new_payment: bool = False
    refunds_changed: int = 0
    ours: bool = True


@dataclass(frozen=True, slots=True)
class AppliedBatch:
    """What applying a list of Pix did (the webhook's call, or the reconciliation's window)."""

    received: int
    new_payments: int
    refunds_changed: int
    not_ours: int


def not_yet_known(purchase: Purchase, listed: Sequence[Pix]) -> list[Pix]:
    """The listed Pix that may tell the saga something: a Pix whose payment it received already and that tells of
    no refund has nothing new to say. One batched read finds those, so a reconciliation that lists its whole window
    at every run (most of it applied already) costs a read per hundred Pix, not three per Pix."""
    known = purchase.payments_received(pix.end_to_end_id for pix in listed if pix.txid is not None)
    return [pix for pix in listed if pix.end_to_end_id not in known or pix.devolucoes]


def apply_received(purchase: Purchase, received: Sequence[Pix]) -> AppliedBatch:
    """Apply each Pix, in the order given (the webhook's call, or what the reconciliation found new)."""
    new_payments = refunds_changed = not_ours = 0
    for pix in received:
        applied = apply_pix(purchase, pix)
        new_payments += applied.new_payment
        refunds_changed += applied.refunds_changed
        not_ours += not applied.ours
    return AppliedBatch(len(received), new_payments, refunds_changed, not_ours)


def apply_pix(purchase: Purchase, pix: Pix) -> AppliedPix:
    """Apply one received Pix to the saga, the payment first (a refund can only follow it). Idempotent."""
    notices = pix_notices(pix)
    if notices.payment is None:
        return AppliedPix(ours=False)
    try:
        new_payment = purchase.receive_payment(notices.payment)
    except NotFound:
        return AppliedPix(ours=False)
    changed = sum(1 for outcome in notices.refunds if purchase.record_refund_outcome(outcome))
    return AppliedPix(new_payment=new_payment, refunds_changed=changed)
