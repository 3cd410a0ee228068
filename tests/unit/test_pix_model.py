"""The API Pix documents read from and written back to the spec's JSON, faults named by their path."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from domain.errors import ValidationFailed
from domain.values import Money
from pix.model import (
    Cob,
    CobRequest,
    CobStatus,
    Devedor,
    Devolucao,
    DevolucaoStatus,
    Pix,
    parse_horario,
    parse_valor,
    render_horario,
)

TXID = "VP14d18a25871d390693e33cf482ccbdfd"
E2E = "E12345678202009091221abcdef12345"


def cob_json(**changes: Any) -> dict[str, Any]:
    document: dict[str, Any] = {
        "calendario": {"criacao": "2020-09-09T20:15:00.358Z", "expiracao": 3600},
        "txid": TXID,
        "revisao": 0,
        "status": "ATIVA",
        "valor": {"original": "567.89"},
        "chave": "a1f4102e-a446-4a57-bcce-6fa48899c1d1",
        "devedor": {"cpf": "12345678909", "nome": "Francisco da Silva"},
        "location": "pix.example.com/qr/9d36b84fc70b478fb95c12729b90ca25",
        "pixCopiaECola": "000201...",
        "solicitacaoPagador": "Pedido 42",
    }
    document.update(changes)
    return document


def pix_json(**changes: Any) -> dict[str, Any]:
    document: dict[str, Any] = {
        "endToEndId": E2E,
        "txid": TXID,
        "valor": "110.00",
        "horario": "2020-09-10T13:03:33.902Z",
        "infoPagador": "0123456789",
        "devolucoes": [
            {
                "id": "000AAA111",
                "rtrId": "D12345678202009091000abcde123456",
                "valor": "11.00",
                "horario": {"solicitacao": "2020-09-10T13:03:33.902Z"},
                "status": "EM_PROCESSAMENTO",
            }
        ],
    }
    document.update(changes)
    return document


def test_a_charge_is_read_and_written_back_unchanged() -> None:
    cob = Cob.from_json(cob_json())

    assert cob.txid == TXID
    assert cob.status is CobStatus.ATIVA
    assert cob.valor == Money.parse("567.89")
    assert cob.criacao == datetime(2020, 9, 9, 20, 15, 0, 358000, tzinfo=UTC)
    assert cob.expires_at == datetime(2020, 9, 9, 21, 15, 0, 358000, tzinfo=UTC)
    assert cob.devedor == Devedor(nome="Francisco da Silva", cpf="12345678909")
    assert cob.pix == ()
    assert cob.to_json() == cob_json()


def test_a_concluded_charge_lists_its_pix() -> None:
    cob = Cob.from_json(cob_json(status="CONCLUIDA", pix=[pix_json()]))

    assert cob.status is CobStatus.CONCLUIDA
    assert cob.pix[0].end_to_end_id == E2E


def test_a_pix_with_its_refunds_round_trips() -> None:
    pix = Pix.from_json(pix_json())

    assert pix.valor == Money.parse("110.00")
    assert pix.txid == TXID
    refund = pix.devolucoes[0]
    assert refund.status is DevolucaoStatus.EM_PROCESSAMENTO
    assert not refund.status.is_final
    assert refund.liquidacao is None
    assert pix.to_json() == pix_json()


def test_a_settled_refund_keeps_its_settlement_time_and_reason() -> None:
    document = {
        "id": "D1",
        "rtrId": "D12345678202009091000abcde123456",
        "valor": "11.00",
        "horario": {"solicitacao": "2020-09-10T13:03:33.902Z", "liquidacao": "2020-09-10T13:03:34.000Z"},
        "status": "NAO_REALIZADO",
        "motivo": "Conta do pagador encerrada",
    }

    refund = Devolucao.from_json(document)

    assert refund.status is DevolucaoStatus.NAO_REALIZADO
    assert refund.status.is_final
    assert refund.motivo == "Conta do pagador encerrada"
    assert refund.to_json() == document


def test_a_charge_request_round_trips_with_a_company_as_devedor() -> None:
    request = CobRequest(
        expiracao=900,
        valor=Money.parse("10"),
        chave="chave@example.com",
        devedor=Devedor(nome="Empresa", cnpj="12345678000195"),
        solicitacao_pagador="Pedido 7",
    )

    assert request.to_json() == {
        "calendario": {"expiracao": 900},
        "valor": {"original": "10.00"},
        "chave": "chave@example.com",
        "devedor": {"cnpj": "12345678000195", "nome": "Empresa"},
        "solicitacaoPagador": "Pedido 7",
    }
    assert CobRequest.from_json(request.to_json()) == request


def test_a_charge_request_without_expiracao_gets_the_specs_default() -> None:
    request = CobRequest.from_json({"calendario": {}, "valor": {"original": "1.00"}, "chave": "k"})

    assert request.expiracao == 86400


@pytest.mark.parametrize(
    ("raw", "path"),
    [
        (123.45, "valor"),
        ("123.4", "valor"),
        ("123,45", "valor"),
        ("123.456", "valor"),
        ("-1.00", "valor"),
        ("0.00", "valor"),
        ("12345678901.00", "valor"),
    ],
)
def test_a_valor_is_the_specs_string_with_two_decimals(raw: object, path: str) -> None:
    with pytest.raises(ValidationFailed) as raised:
        parse_valor(raw, path)
    assert raised.value.field == path


def test_a_zero_valor_is_read_when_allowed() -> None:
    assert parse_valor("0.00", "valor", allow_zero=True) == Money.zero()


@pytest.mark.parametrize(
    ("document", "field"),
    [
        (cob_json(status="PAGA"), "cob.status"),
        (cob_json(txid="short"), "cob.txid"),
        (cob_json(txid=TXID + "-"), "cob.txid"),
        (cob_json(revisao="0"), "cob.revisao"),
        (cob_json(calendario={"criacao": "2020-09-09T20:15:00"}), "cob.calendario.expiracao"),
        (cob_json(calendario={"criacao": "2020-09-09T20:15:00", "expiracao": 60}), "cob.calendario.criacao"),
        (cob_json(valor={"original": "1"}), "cob.valor.original"),
        (cob_json(devedor={"nome": "X"}), "cob.devedor"),
        (cob_json(devedor={"cpf": "123", "nome": "X"}), "cob.devedor.cpf"),
        (cob_json(pix=[pix_json(endToEndId="E1")]), "cob.pix[0].endToEndId"),
        (cob_json(chave=None), "cob.chave"),
    ],
)
def test_a_malformed_charge_is_refused_naming_the_field(document: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationFailed) as raised:
        Cob.from_json(document)
    assert raised.value.field == field


def test_a_naive_time_is_refused_and_times_are_written_in_utc() -> None:
    with pytest.raises(ValidationFailed, match="time zone"):
        parse_horario("2020-09-10T13:03:33", "horario")
    moment = parse_horario("2020-09-10T10:03:33.9-03:00", "horario")
    assert render_horario(moment) == "2020-09-10T13:03:33.900Z"
