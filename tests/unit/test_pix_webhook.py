"""The API Pix webhook: a body read strictly, and the per-deployment secret checked."""

from __future__ import annotations

import json

import pytest

from domain.errors import ValidationFailed
from domain.values import Money
from pix.model import DevolucaoStatus
from pix.webhook import MAX_PIX_PER_CALL, WEBHOOK_SECRET_HEADER, has_valid_secret, parse_webhook_body

TXID = "VP14d18a25871d390693e33cf482ccbdfd"


def pix(n: int, **changes: object) -> dict[str, object]:
    document: dict[str, object] = {
        "endToEndId": f"E{n:031d}",
        "txid": TXID,
        "valor": "100.00",
        "horario": "2020-09-10T13:03:33.902Z",
    }
    document.update(changes)
    return document


def test_a_batch_is_read_in_order() -> None:
    refunded = pix(
        2,
        devolucoes=[
            {
                "id": "D1",
                "rtrId": "D" + "0" * 31,
                "valor": "100.00",
                "horario": {"solicitacao": "2020-09-10T13:04:00.000Z", "liquidacao": "2020-09-10T13:04:01.000Z"},
                "status": "DEVOLVIDO",
            }
        ],
    )

    received = parse_webhook_body(json.dumps({"pix": [pix(1), refunded]}).encode())

    assert [p.end_to_end_id for p in received] == ["E" + "0" * 30 + "1", "E" + "0" * 30 + "2"]
    assert received[0].valor == Money.parse("100.00")
    assert received[1].devolucoes[0].status is DevolucaoStatus.DEVOLVIDO


def test_an_empty_batch_is_valid() -> None:
    assert parse_webhook_body('{"pix": []}') == ()


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        (b"\xff", "body", "not UTF-8"),
        (b"{", "body", "not valid JSON"),
        (b"[]", "body", "must be an object"),
        (b"{}", "pix", "no pix array"),
        (b'{"pix": {}}', "pix", "must be an array"),
        (b'{"pix": [1]}', "pix[0]", "must be an object"),
        (json.dumps({"pix": [pix(1), pix(2, valor=100.0)]}).encode(), "pix[1].valor", "must be a string"),
        (json.dumps({"pix": [pix(1, horario=None)]}).encode(), "pix[0].horario", "is required"),
        (json.dumps({"pix": [pix(1, txid="a-b")]}).encode(), "pix[0].txid", "does not match"),
        (b'{"pix": [{"valor": NaN}]}', "body", "NaN is not JSON"),
        (b'{"pix": ' + b"[" * 100 + b"]" * 100 + b"}", "body", "deeper than"),
    ],
)
def test_a_malformed_body_is_refused_naming_the_fault(body: bytes, field: str, message: str) -> None:
    with pytest.raises(ValidationFailed, match=message) as raised:
        parse_webhook_body(body)
    assert raised.value.field == field


def test_an_oversized_batch_is_refused() -> None:
    body = json.dumps({"pix": [pix(n) for n in range(MAX_PIX_PER_CALL + 1)]})

    with pytest.raises(ValidationFailed, match="over"):
        parse_webhook_body(body)


def test_the_secret_header_is_matched_whatever_its_case() -> None:
    assert has_valid_secret({WEBHOOK_SECRET_HEADER: "s3cret"}, "s3cret")
    assert has_valid_secret({"x-pix-webhook-secret": "s3cret"}, "s3cret")


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({}, "s3cret"),
        ({WEBHOOK_SECRET_HEADER: "wrong"}, "s3cret"),
        ({WEBHOOK_SECRET_HEADER: "s3cre"}, "s3cret"),
        ({WEBHOOK_SECRET_HEADER: ""}, ""),
        ({"Authorization": "s3cret"}, "s3cret"),
    ],
)
def test_a_call_without_the_secret_is_not_authenticated(headers: dict[str, str], expected: str) -> None:
    assert not has_valid_secret(headers, expected)
