"""A received Pix, as the webhook posts it or the PSP lists it, read into the domain's notices: the payment it is
(keyed by its endToEndId) and the word on each of its refunds."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from domain.orders import RefundStatus
from domain.purchase import PaymentReceived, RefundOutcome
from domain.values import Money
from pix.model import Devolucao, DevolucaoStatus, Pix
from runtime.pix_payments import PixNotices, pix_notices

AT = datetime(2026, 12, 3, 10, 0, tzinfo=UTC)
E2E = "E99999999202612031000abcdefghijk"
TXID = "VP0123456789abcdef0123456789abcdef"
RTR = "D99999999202612031000abcdefghijk"
AMOUNT = Money.parse("189900.00")


def _devolucao(refund_id: str, status: DevolucaoStatus, settled: datetime | None = None) -> Devolucao:
    return Devolucao(refund_id, RTR, AMOUNT, status, solicitacao=AT, liquidacao=settled)


def test_a_pix_of_a_charge_is_a_payment_received_by_its_txid_and_end_to_end_id() -> None:
    pix = Pix(end_to_end_id=E2E, valor=AMOUNT, horario=AT, txid=TXID)

    assert pix_notices(pix) == PixNotices(payment=PaymentReceived(TXID, E2E, AMOUNT, AT))


def test_a_pix_without_a_txid_paid_no_charge() -> None:
    assert pix_notices(Pix(end_to_end_id=E2E, valor=AMOUNT, horario=AT)) == PixNotices(payment=None)


def test_each_refund_of_a_pix_is_an_outcome_in_the_domains_terms() -> None:
    settled = AT + timedelta(seconds=5)
    pix = Pix(
        end_to_end_id=E2E,
        valor=AMOUNT,
        horario=AT,
        txid=TXID,
        devolucoes=(
            _devolucao("D1", DevolucaoStatus.NAO_REALIZADO),
            _devolucao("D2", DevolucaoStatus.DEVOLVIDO, settled),
            _devolucao("D3", DevolucaoStatus.EM_PROCESSAMENTO),
        ),
    )

    notices = pix_notices(pix)

    assert notices.payment == PaymentReceived(TXID, E2E, AMOUNT, AT)
    assert notices.refunds == (
        RefundOutcome(TXID, E2E, "D1", AMOUNT, RefundStatus.FAILED, AT, None),
        RefundOutcome(TXID, E2E, "D2", AMOUNT, RefundStatus.REFUNDED, AT, settled),
        RefundOutcome(TXID, E2E, "D3", AMOUNT, RefundStatus.PENDING, AT, None),
    )


def test_the_same_pix_read_twice_gives_the_same_notices() -> None:
    pix = Pix.from_json({"endToEndId": E2E, "txid": TXID, "valor": "189900.00", "horario": "2026-12-03T10:00:00.000Z"})

    assert pix_notices(pix) == pix_notices(Pix.from_json(pix.to_json()))
