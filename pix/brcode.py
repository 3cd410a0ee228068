"""The BR Code of a Pix charge ("pixCopiaECola"): the EMV merchant-presented payload a bank app reads.

An EMV payload is a flat run of TLV fields: a 2-digit ID, a 2-digit length (in characters) and the value; fields 26
(the merchant account) and 62 (additional data) nest TLV fields of their own. A Pix payload carries the GUI
`br.gov.bcb.pix` in 26-00 and either the receiver's key (26-01, a static code) or the charge's location URL without
its scheme (26-25, a dynamic code, whose amount and txid the payer's bank fetches from that URL: 62-05 is then "***").
Field 63 ends the payload: a CRC16/CCITT-FALSE over everything before its value, in 4 upper-case hex digits.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from decimal import Decimal

from domain.errors import ValidationFailed
from domain.values import Money

PIX_GUI = "br.gov.bcb.pix"
# A dynamic code leaves the txid to the location's payload; "***" is how the manual spells "none here".
DYNAMIC_TXID = "***"

_PAYLOAD_FORMAT = "00"
_POINT_OF_INITIATION = "01"
_MERCHANT_ACCOUNT = "26"
_MERCHANT_CATEGORY = "52"
_CURRENCY = "53"
_AMOUNT = "54"
_COUNTRY = "58"
_MERCHANT_NAME = "59"
_MERCHANT_CITY = "60"
_ADDITIONAL_DATA = "62"
_CRC = "63"
_GUI = "00"
_KEY = "01"
_LOCATION = "25"
_REFERENCE_LABEL = "05"

_BRL = "986"
# "12": a code meant to be paid once (a charge); "11" would be a reusable one.
_SINGLE_USE = "12"
_MAX_NAME = 25
_MAX_CITY = 15
_MAX_LOCATION = 77
_CRC_FIELD_PREFIX = _CRC + "04"
_CRC_HEX = re.compile(r"[0-9A-F]{4}")
_EMV_AMOUNT = re.compile(r"[0-9]{1,10}(?:\.[0-9]{1,2})?")
_TXID = re.compile(r"[a-zA-Z0-9]{1,25}|\*\*\*")


def crc16_ccitt_false(data: str) -> str:
    """CRC-16/CCITT-FALSE (polynomial 0x1021, initial 0xFFFF, no reflection, no final XOR) of the UTF-8 bytes."""
    crc = 0xFFFF
    for byte in data.encode("utf-8"):
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else crc << 1
            crc &= 0xFFFF
    return f"{crc:04X}"


def _field(field_id: str, value: str) -> str:
    if not value:
        raise ValueError(f"EMV field {field_id} must not be empty")
    if len(value) > 99:
        raise ValueError(f"EMV field {field_id} is {len(value)} characters long, over the format's 99")
    return f"{field_id}{len(value):02d}{value}"


def _emv_text(text: str, *, limit: int, what: str) -> str:
    """`text` as the EMV fields hold it: printable ASCII (accents dropped, "São" -> "Sao"), cut to the limit."""
    unaccented = unicodedata.normalize("NFKD", text)
    ascii_text = "".join(char for char in unaccented if " " <= char <= "~").strip()
    if not ascii_text:
        raise ValueError(f"the {what} has no printable ASCII character")
    return ascii_text[:limit]


@dataclass(frozen=True, slots=True)
class BrCode:
    """What a Pix BR Code says. A dynamic code has a `location` (a URL without its scheme) and no `key`; a static
    one has a `key`. `amount` is None when the payer types it."""

    merchant_name: str
    merchant_city: str
    location: str | None = None
    key: str | None = None
    amount: Money | None = None
    txid: str = DYNAMIC_TXID

    @property
    def is_dynamic(self) -> bool:
        return self.location is not None


def dynamic_brcode(location: str, *, merchant_name: str, merchant_city: str, amount: Money | None) -> str:
    """The BR Code of a charge served at `location` (with or without "https://", which the code leaves out)."""
    bare_location = location.removeprefix("https://")
    if len(bare_location) > _MAX_LOCATION:
        raise ValueError(f"the location is {len(bare_location)} characters long, over the API's {_MAX_LOCATION}")
    account = _field(_GUI, PIX_GUI) + _field(_LOCATION, bare_location)
    payload = (
        _field(_PAYLOAD_FORMAT, "01")
        + _field(_POINT_OF_INITIATION, _SINGLE_USE)
        + _field(_MERCHANT_ACCOUNT, account)
        + _field(_MERCHANT_CATEGORY, "0000")
        + _field(_CURRENCY, _BRL)
        + (_field(_AMOUNT, str(amount)) if amount is not None else "")
        + _field(_COUNTRY, "BR")
        + _field(_MERCHANT_NAME, _emv_text(merchant_name, limit=_MAX_NAME, what="merchant name"))
        + _field(_MERCHANT_CITY, _emv_text(merchant_city, limit=_MAX_CITY, what="merchant city"))
        + _field(_ADDITIONAL_DATA, _field(_REFERENCE_LABEL, DYNAMIC_TXID))
        + _CRC_FIELD_PREFIX
    )
    return payload + crc16_ccitt_false(payload)


def _fields(text: str, *, where: str) -> dict[str, str]:
    """The TLV fields of `text`, by ID; a repeated ID, a bad length or a truncated field is refused."""
    fields: dict[str, str] = {}
    position = 0
    while position < len(text):
        header = text[position : position + 4]
        if len(header) < 4 or not header.isdigit() or not header.isascii():
            raise ValidationFailed("brCode", f"the BR Code has a malformed field header at {where}{position}")
        field_id, length = header[:2], int(header[2:])
        value = text[position + 4 : position + 4 + length]
        if len(value) != length:
            raise ValidationFailed("brCode", f"the BR Code's field {where}{field_id} is truncated")
        if field_id in fields:
            raise ValidationFailed("brCode", f"the BR Code repeats field {where}{field_id}")
        fields[field_id] = value
        position += 4 + length
    return fields


def _required(fields: dict[str, str], field_id: str, *, where: str = "") -> str:
    if field_id not in fields:
        raise ValidationFailed("brCode", f"the BR Code has no field {where}{field_id}")
    return fields[field_id]


def decode_brcode(text: str) -> BrCode:
    """The Pix BR Code `text` (as copied and pasted: surrounding blanks are ignored), its CRC verified."""
    code = text.strip()
    if len(code) < 8 or code[-8:-4] != _CRC_FIELD_PREFIX:
        raise ValidationFailed("brCode", "the BR Code does not end with its CRC field (6304 and 4 hex digits)")
    if not _CRC_HEX.fullmatch(code[-4:].upper()):
        raise ValidationFailed("brCode", "the BR Code's CRC is not 4 hex digits")
    if crc16_ccitt_false(code[:-4]) != code[-4:].upper():
        raise ValidationFailed("brCode", "the BR Code's CRC does not match its content: it was altered or cut")
    fields = _fields(code, where="")
    if _required(fields, _PAYLOAD_FORMAT) != "01":
        raise ValidationFailed("brCode", "the BR Code's payload format is not 01")
    if _required(fields, _CURRENCY) != _BRL:
        raise ValidationFailed("brCode", "the BR Code is not in reais (currency 986)")
    if _required(fields, _COUNTRY) != "BR":
        raise ValidationFailed("brCode", "the BR Code's country is not BR")
    account = _fields(_required(fields, _MERCHANT_ACCOUNT), where="26-")
    if _required(account, _GUI, where="26-").lower() != PIX_GUI:
        raise ValidationFailed("brCode", f"the BR Code is not a Pix code (26-00 is not {PIX_GUI})")
    location, key = account.get(_LOCATION), account.get(_KEY)
    if (location is None) == (key is None):
        raise ValidationFailed("brCode", "a Pix BR Code has either a key (26-01) or a location (26-25), not both")
    amount = None
    if _AMOUNT in fields:
        if not _EMV_AMOUNT.fullmatch(fields[_AMOUNT]):
            raise ValidationFailed("brCode", "the BR Code's amount (54) is not a decimal number")
        amount = Money.parse(Decimal(fields[_AMOUNT]).quantize(Decimal("0.01")), field="brCode.amount")
    additional = _fields(_required(fields, _ADDITIONAL_DATA), where="62-")
    txid = _required(additional, _REFERENCE_LABEL, where="62-")
    if not _TXID.fullmatch(txid):
        raise ValidationFailed("brCode", "the BR Code's txid (62-05) is neither *** nor 1 to 25 letters and digits")
    return BrCode(
        merchant_name=_required(fields, _MERCHANT_NAME),
        merchant_city=_required(fields, _MERCHANT_CITY),
        location=location,
        key=key,
        amount=amount,
        txid=txid,
    )
