"""Value objects for the data a dealership takes from people: documents, contacts, money, addresses.

`parse` is the way in for untrusted input: it normalizes, validates and raises `ValidationFailed` naming the
field. The constructors trust their argument and exist for values already in canonical form (read back from
storage, or produced by arithmetic on values that were parsed).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from functools import total_ordering
from typing import Self

from domain.errors import ValidationFailed

CURRENCY = "BRL"

# The 26 states and the Federal District.
BRAZILIAN_STATES: frozenset[str] = frozenset(
    {
        "AC", "AL", "AP", "AM", "BA", "CE", "DF", "ES", "GO", "MA", "MT", "MS", "MG", "PA",
        "PB", "PR", "PE", "PI", "RJ", "RN", "RS", "RO", "RR", "SC", "SP", "SE", "TO",
    }
)  # fmt: skip

# `\d` would also match Arabic-Indic and other Unicode digits, which `int()` happily converts: every digit
# class in this module is spelled [0-9] so that only ASCII digits reach the check-digit arithmetic.
_CPF_CHARS = re.compile(r"[0-9.\-]+")
_CNPJ_CHARS = re.compile(r"[0-9A-Za-z./\-]+")
_CNPJ_CANONICAL = re.compile(r"[0-9A-Z]{12}[0-9]{2}")
_CEP = re.compile(r"([0-9]{5})-?([0-9]{3})")
_PHONE = re.compile(r"(?:\+55)?([0-9]{10,11})")
_EMAIL_LOCAL = re.compile(r"[a-z0-9!#$%&'*+/=?^_`{|}~\-]+(?:\.[a-z0-9!#$%&'*+/=?^_`{|}~\-]+)*")
_DOMAIN_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9\-]{0,61}[a-z0-9])?")

_CNPJ_DV1_WEIGHTS = (5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2)
_CNPJ_DV2_WEIGHTS = (6, *_CNPJ_DV1_WEIGHTS)

_CENT = Decimal("0.01")
# `[0-9]`, never `\d`: see above. The decimals are counted after the match, to name that fault precisely.
_DECIMAL_TEXT = re.compile(r"-?[0-9]+(?:\.(?P<decimals>[0-9]+))?")
_NOT_FINITE = re.compile(r"[-+]?(?:s?nan|inf|infinity)", re.IGNORECASE)
_MAX_MONEY = Decimal("999999999.99")
_MAX_QUANTITY = 10_000
# Benz's Patent-Motorwagen: nothing older is a car anyone could list.
_FIRST_MODEL_YEAR = 1886


def _mod11_digit(values: list[int], weights: tuple[int, ...]) -> int:
    remainder = sum(v * w for v, w in zip(values, weights, strict=True)) % 11
    return 0 if remainder < 2 else 11 - remainder


def _stripped_text(raw: object, field: str) -> str:
    if not isinstance(raw, str):
        # Callers are typed, but GraphQL scalars and JSON payloads can still hand over anything.
        raise ValidationFailed(field, f"{field} must be text")
    return raw.strip()


def required_text(raw: str | None, *, field: str, max_length: int = 200) -> str:
    """The stripped text, refusing blanks, overlong input and control characters (newlines included)."""
    if raw is None:
        raise ValidationFailed(field, f"{field} is required")
    text = _stripped_text(raw, field)
    if not text:
        raise ValidationFailed(field, f"{field} is required")
    if len(text) > max_length:
        raise ValidationFailed(field, f"{field} must be at most {max_length} characters")
    # Cs as well: a lone surrogate cannot be encoded to UTF-8 and would fail later, in storage.
    if any(unicodedata.category(char) in {"Cc", "Cs"} for char in text):
        raise ValidationFailed(field, f"{field} contains control characters")
    return text


def _optional_text(raw: str | None, *, field: str, max_length: int) -> str | None:
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    return required_text(raw, field=field, max_length=max_length)


def _cpf_check_digits(first_nine: str) -> str:
    values = [int(d) for d in first_nine]
    dv1 = _mod11_digit(values, (10, 9, 8, 7, 6, 5, 4, 3, 2))
    dv2 = _mod11_digit([*values, dv1], (11, 10, 9, 8, 7, 6, 5, 4, 3, 2))
    return f"{dv1}{dv2}"


@dataclass(frozen=True, slots=True)
class Cpf:
    """Individual taxpayer number: 11 digits, the last two being mod-11 check digits."""

    value: str

    @classmethod
    def parse(cls, raw: str, *, field: str = "cpf") -> Self:
        text = _stripped_text(raw, field)
        if not _CPF_CHARS.fullmatch(text):
            raise ValidationFailed(field, "CPF may contain only digits, dots and a dash")
        digits = text.replace(".", "").replace("-", "")
        if len(digits) != 11:
            raise ValidationFailed(field, "CPF must have 11 digits")
        # Repeated digits pass the mod-11 check, yet no such CPF is ever issued.
        if len(set(digits)) == 1:
            raise ValidationFailed(field, "CPF is not valid")
        if digits[9:] != _cpf_check_digits(digits[:9]):
            raise ValidationFailed(field, "CPF is not valid")
        return cls(digits)

    @classmethod
    def complete(cls, first_nine: str) -> Self:
        """The CPF whose first nine digits these are (demo data, tests): the check digits computed."""
        return cls.parse(first_nine + _cpf_check_digits(first_nine))

    def __str__(self) -> str:
        v = self.value
        return f"{v[:3]}.{v[3:6]}.{v[6:9]}-{v[9:]}"


@dataclass(frozen=True, slots=True)
class Cnpj:
    """Company taxpayer number, in both the numeric and the alphanumeric form (IN RFB 2.229/2024).

    Characters are valued `ord(char) - 48`, which keeps every numeric CNPJ's check digits unchanged.
    """

    value: str

    @classmethod
    def parse(cls, raw: str, *, field: str = "cnpj") -> Self:
        text = _stripped_text(raw, field)
        if not _CNPJ_CHARS.fullmatch(text):
            raise ValidationFailed(field, "CNPJ may contain only letters, digits, dots, a slash and a dash")
        # Upper-cased only once known to be ASCII: a dotless i upper-cases to "I" and would pass as a letter.
        chars = text.upper().replace(".", "").replace("/", "").replace("-", "")
        if len(chars) != 14:
            raise ValidationFailed(field, "CNPJ must have 14 characters")
        if not _CNPJ_CANONICAL.fullmatch(chars):
            raise ValidationFailed(field, "CNPJ check digits must be numeric")
        if len(set(chars)) == 1:
            raise ValidationFailed(field, "CNPJ is not valid")
        values = [ord(c) - 48 for c in chars]
        dv1 = _mod11_digit(values[:12], _CNPJ_DV1_WEIGHTS)
        dv2 = _mod11_digit([*values[:12], dv1], _CNPJ_DV2_WEIGHTS)
        if values[12:] != [dv1, dv2]:
            raise ValidationFailed(field, "CNPJ is not valid")
        return cls(chars)

    def __str__(self) -> str:
        v = self.value
        return f"{v[:2]}.{v[2:5]}.{v[5:8]}/{v[8:12]}-{v[12:]}"


@dataclass(frozen=True, slots=True)
class Cep:
    """Postal code: 8 digits."""

    value: str

    @classmethod
    def parse(cls, raw: str, *, field: str = "zipCode") -> Self:
        match = _CEP.fullmatch(_stripped_text(raw, field))
        if match is None:
            raise ValidationFailed(field, "CEP must have 8 digits, e.g. 22640-102")
        digits = match.group(1) + match.group(2)
        if digits == "00000000":
            raise ValidationFailed(field, "CEP is not valid")
        return cls(digits)

    def __str__(self) -> str:
        return f"{self.value[:5]}-{self.value[5:]}"


@dataclass(frozen=True, slots=True)
class Email:
    """A lower-cased address, so that uniqueness holds whatever case people type."""

    value: str

    @classmethod
    def parse(cls, raw: str, *, field: str = "email") -> Self:
        text = _stripped_text(raw, field)
        if not text:
            raise ValidationFailed(field, f"{field} is required")
        # Before lower-casing: the Kelvin sign lower-cases to an ASCII "k" and would alias another address.
        # Quoted local parts and internationalized (SMTPUTF8) addresses are valid in theory and undeliverable
        # through most providers: they are refused rather than stored and bounced later.
        if not text.isascii():
            raise ValidationFailed(field, "email is not a valid address")
        text = text.lower()
        if len(text) > 254:
            raise ValidationFailed(field, "email must be at most 254 characters")
        if text.count("@") != 1:
            raise ValidationFailed(field, "email must contain exactly one @")
        local, domain = text.split("@")
        if not local:
            raise ValidationFailed(field, "email is missing the part before @")
        if len(local) > 64:
            raise ValidationFailed(field, "email part before @ must be at most 64 characters")
        if not _EMAIL_LOCAL.fullmatch(local):
            raise ValidationFailed(field, "email is not a valid address")
        labels = domain.split(".")
        if len(labels) < 2 or not all(_DOMAIN_LABEL.fullmatch(label) for label in labels):
            raise ValidationFailed(field, "email domain is not valid")
        return cls(text)

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True, slots=True)
class Phone:
    """A Brazilian phone number stored as E.164 (+55, area code, number)."""

    value: str

    @classmethod
    def parse(cls, raw: str, *, field: str = "phone") -> Self:
        compact = re.sub(r"[\s()\-]", "", _stripped_text(raw, field))
        match = _PHONE.fullmatch(compact)
        if match is None:
            raise ValidationFailed(field, "phone must have area code and number, e.g. (21) 91234-5678")
        national = match.group(1)
        # Area codes run 11-99 and none ends in 0; a leading 0 is the long-distance prefix, not part of it.
        if national[0] == "0" or national[1] == "0":
            raise ValidationFailed(field, "phone area code is not valid")
        if len(national) == 11 and national[2] != "9":
            raise ValidationFailed(field, "mobile numbers must start with 9 after the area code")
        return cls(f"+55{national}")

    def __str__(self) -> str:
        national = self.value[3:]
        area, number = national[:2], national[2:]
        return f"+55 ({area}) {number[:-4]}-{number[-4:]}"


def parse_decimal(raw: object, *, field: str) -> Decimal:
    """The one reader of untrusted amounts: the GraphQL `Decimal` scalar, `Money.parse` and the batch files' and
    webhook's amounts all come through here.

    Accepted: ASCII digits, an optional point and at most two decimals (a leading minus is read, for `Money` to
    refuse with its own message). Nothing else: `Decimal()` alone would take "1_000", " 5 ", "1E+3" and any
    Unicode digit ("١٢٣"), and store them as numbers nobody typed. A `Decimal` or an int is judged by how it is
    written (`str`), so a JSON number such as 2.5e3 or 10.500 is refused like the same text would be.
    """
    if isinstance(raw, float):
        # A float has already lost the cents (0.1 + 0.2 != 0.3): refuse it instead of guessing.
        raise ValidationFailed(field, f"{field} must be exact: pass a string or Decimal, not a float")
    if isinstance(raw, bool) or not isinstance(raw, Decimal | int | str):
        raise ValidationFailed(field, f"{field} must be a number")
    text = str(raw)
    match = _DECIMAL_TEXT.fullmatch(text)
    if match is None:
        if _NOT_FINITE.fullmatch(text):
            raise ValidationFailed(field, f"{field} must be a finite number")
        raise ValidationFailed(
            field, f"{field} must be a number: digits with an optional point and at most two decimals, e.g. 189900.00"
        )
    if len(match.group("decimals") or "") > 2:
        raise ValidationFailed(field, f"{field} has more than two decimal places")
    return Decimal(text)


@total_ordering
@dataclass(frozen=True, slots=True)
class Money:
    """An exact amount in BRL with two decimal places."""

    amount: Decimal

    @classmethod
    def parse(cls, raw: Decimal | int | str, *, field: str = "price", allow_zero: bool = False) -> Self:
        amount = parse_decimal(raw, field=field)
        if amount < 0:
            raise ValidationFailed(field, f"{field} must not be negative")
        if amount == 0:
            if not allow_zero:
                raise ValidationFailed(field, f"{field} must be greater than zero")
            # Drops the sign of "-0", which would otherwise display as "-0.00".
            amount = Decimal(0)
        if amount > _MAX_MONEY:
            raise ValidationFailed(field, f"{field} must be at most {_MAX_MONEY}")
        return cls(amount.quantize(_CENT))

    @classmethod
    def zero(cls) -> Self:
        return cls(Decimal("0.00"))

    @property
    def cents(self) -> int:
        return int(self.amount * 100)

    # The ceiling in `parse` bounds what a person may type for one price; totals (price x quantity, sums)
    # may legitimately exceed it, so arithmetic does not apply it.
    def __add__(self, other: Money) -> Money:
        if not isinstance(other, Money):
            return NotImplemented
        return Money((self.amount + other.amount).quantize(_CENT))

    def __mul__(self, quantity: int) -> Money:
        if isinstance(quantity, bool) or not isinstance(quantity, int):
            return NotImplemented
        if quantity < 0:
            raise ValueError("money can only be multiplied by a quantity of zero or more")
        return Money((self.amount * quantity).quantize(_CENT))

    __rmul__ = __mul__

    def __lt__(self, other: Money) -> bool:
        if not isinstance(other, Money):
            return NotImplemented
        return self.amount < other.amount

    def __str__(self) -> str:
        return f"{self.amount:.2f}"


@dataclass(frozen=True, slots=True)
class ModelYear:
    """The model year of a vehicle, as printed on its registration."""

    value: int

    @classmethod
    def parse(cls, raw: int, *, field: str = "year", current_year: int | None = None) -> Self:
        # bool is an int subclass: `True` would otherwise be year 1.
        if isinstance(raw, bool) or not isinstance(raw, int):
            raise ValidationFailed(field, f"{field} must be a whole number")
        # Brazilian dealers sell next year's model from around mid-year, never the one after.
        latest = (current_year if current_year is not None else datetime.now(UTC).year) + 1
        if not _FIRST_MODEL_YEAR <= raw <= latest:
            raise ValidationFailed(field, f"{field} must be between {_FIRST_MODEL_YEAR} and {latest}")
        return cls(raw)

    def __str__(self) -> str:
        return str(self.value)


@dataclass(frozen=True, slots=True)
class Quantity:
    """How many units of one item an order asks for."""

    value: int

    @classmethod
    def parse(cls, raw: int, *, field: str = "quantity") -> Self:
        if isinstance(raw, bool) or not isinstance(raw, int):
            raise ValidationFailed(field, f"{field} must be a whole number")
        if raw < 1:
            raise ValidationFailed(field, f"{field} must be at least 1")
        if raw > _MAX_QUANTITY:
            raise ValidationFailed(field, f"{field} must be at most {_MAX_QUANTITY}")
        return cls(raw)

    def __str__(self) -> str:
        return str(self.value)


@dataclass(frozen=True, slots=True)
class Address:
    """A Brazilian street address."""

    street: str
    number: str
    complement: str | None
    neighborhood: str
    city: str
    state: str
    zip_code: Cep

    @classmethod
    def parse(  # noqa: PLR0917 - positional like the form it mirrors; callers already rely on the order
        cls,
        street: str,
        number: str,
        complement: str | None,
        neighborhood: str,
        city: str,
        state: str,
        zip_code: str,
        *,
        field: str = "address",
    ) -> Self:
        # Checked in the order the form shows them, so the first error reported is the topmost one.
        street_text = required_text(street, field=f"{field}.street")
        # Text, not a number: "S/N" (no number) and "120A" are ordinary.
        number_text = required_text(number, field=f"{field}.number", max_length=20)
        complement_text = _optional_text(complement, field=f"{field}.complement", max_length=100)
        neighborhood_text = required_text(neighborhood, field=f"{field}.neighborhood", max_length=100)
        city_text = required_text(city, field=f"{field}.city", max_length=100)
        state_code = required_text(state, field=f"{field}.state").upper()
        if state_code not in BRAZILIAN_STATES:
            raise ValidationFailed(f"{field}.state", "state must be a Brazilian state code, e.g. SP")
        cep = Cep.parse(zip_code, field=f"{field}.zipCode")
        return cls(street_text, number_text, complement_text, neighborhood_text, city_text, state_code, cep)

    def __str__(self) -> str:
        first_line = f"{self.street}, {self.number}"
        if self.complement:
            first_line += f", {self.complement}"
        return f"{first_line} - {self.neighborhood}, {self.city} - {self.state}, {self.zip_code}"


@dataclass(frozen=True, slots=True)
class AddressFields:
    """An address as a form, a file or a store gives it: its texts, not yet checked. The one place an address is
    spelled out field by field on its way in and out of the domain."""

    street: str
    number: str
    neighborhood: str
    city: str
    state: str
    zip_code: str
    complement: str | None = None

    @classmethod
    def of(cls, address: Address) -> Self:
        return cls(
            street=address.street,
            number=address.number,
            complement=address.complement,
            neighborhood=address.neighborhood,
            city=address.city,
            state=address.state,
            zip_code=str(address.zip_code),
        )

    def parse(self, *, field: str = "address") -> Address:
        return Address.parse(
            self.street,
            self.number,
            self.complement,
            self.neighborhood,
            self.city,
            self.state,
            self.zip_code,
            field=field,
        )

    def as_dict(self) -> dict[str, str | None]:
        """The fields by name, in the order a form shows them."""
        return {
            "street": self.street,
            "number": self.number,
            "complement": self.complement,
            "neighborhood": self.neighborhood,
            "city": self.city,
            "state": self.state,
            "zip_code": self.zip_code,
        }
