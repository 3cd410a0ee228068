"""BR Codes: the platform's dynamic codes and the Banco Central's own example decode, with their CRC checked."""

from __future__ import annotations

import pytest

from domain.errors import ValidationFailed
from domain.values import Money
from pix.brcode import DYNAMIC_TXID, PIX_GUI, crc16_ccitt_false, decode_brcode, dynamic_brcode

# The static example of the Banco Central's "Manual de Padrões para Iniciação do Pix" (a key, no amount).
MANUAL_EXAMPLE = (
    "00020126580014br.gov.bcb.pix0136123e4567-e12b-12d1-a456-4266554400005204000053039865802BR"
    "5913Fulano de Tal6008BRASILIA62070503***63041D3D"
)


def test_crc16_ccitt_false_check_value() -> None:
    # The catalogued check value of CRC-16/CCITT-FALSE over "123456789".
    assert crc16_ccitt_false("123456789") == "29B1"


def test_the_manuals_example_decodes_with_its_crc() -> None:
    code = decode_brcode(MANUAL_EXAMPLE)

    assert code.key == "123e4567-e12b-12d1-a456-426655440000"
    assert code.location is None
    assert not code.is_dynamic
    assert code.amount is None
    assert code.merchant_name == "Fulano de Tal"
    assert code.merchant_city == "BRASILIA"
    assert code.txid == DYNAMIC_TXID


def test_a_dynamic_code_round_trips() -> None:
    text = dynamic_brcode(
        "https://pix.example.com/qr/v2/9d36b84fc70b478fb95c12729b90ca25",
        merchant_name="Concessionária Exemplo",
        merchant_city="São Paulo",
        amount=Money.parse("189900.50"),
    )

    assert text.startswith("000201010212")
    assert f"0014{PIX_GUI}" in text
    assert "5409189900.50" in text
    assert "62070503***" in text
    code = decode_brcode(f"  {text}\n")
    assert code.is_dynamic
    assert code.location == "pix.example.com/qr/v2/9d36b84fc70b478fb95c12729b90ca25"
    assert code.key is None
    assert code.amount == Money.parse("189900.50")
    assert code.merchant_name == "Concessionaria Exemplo"
    assert code.merchant_city == "Sao Paulo"
    assert code.txid == DYNAMIC_TXID


def test_long_names_are_cut_to_the_fields_limits() -> None:
    text = dynamic_brcode("pix.example.com/qr/1", merchant_name="N" * 40, merchant_city="C" * 40, amount=None)

    code = decode_brcode(text)
    assert code.merchant_name == "N" * 25
    assert code.merchant_city == "C" * 15
    assert code.amount is None


def test_an_altered_code_fails_its_crc() -> None:
    altered = MANUAL_EXAMPLE.replace("Fulano", "Beltra")

    with pytest.raises(ValidationFailed, match="CRC does not match"):
        decode_brcode(altered)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "does not end with its CRC field"),
        (MANUAL_EXAMPLE[:-1], "does not end with its CRC field"),
        (MANUAL_EXAMPLE[:-4] + "ZZZZ", "not 4 hex digits"),
    ],
)
def test_a_code_without_a_valid_crc_field_is_refused(text: str, message: str) -> None:
    with pytest.raises(ValidationFailed, match=message):
        decode_brcode(text)


def _with_crc(payload: str) -> str:
    body = payload + "6304"
    return body + crc16_ccitt_false(body)


def test_a_code_of_another_arrangement_is_refused() -> None:
    text = _with_crc("0002012630" + "0014br.gov.bcb.xyz" + "0108abcdefgh" + "5303986" + "5802BR5901N6001C62070503***")

    with pytest.raises(ValidationFailed, match=r"not a Pix code"):
        decode_brcode(text)


def test_a_truncated_field_is_refused_even_with_a_valid_crc() -> None:
    with pytest.raises(ValidationFailed, match="truncated"):
        decode_brcode(_with_crc("000201269900"))


def test_a_code_with_both_key_and_location_is_refused() -> None:
    account = "0014br.gov.bcb.pix" + "0103abc" + "2503x.y"
    text = _with_crc(f"00020126{len(account):02d}{account}5303986" + "5802BR5901N6001C62070503***")

    with pytest.raises(ValidationFailed, match="either a key"):
        decode_brcode(text)


def test_a_location_too_long_for_the_api_is_refused_when_building() -> None:
    with pytest.raises(ValueError, match="over the API's 77"):
        dynamic_brcode("x" * 78, merchant_name="N", merchant_city="C", amount=None)
