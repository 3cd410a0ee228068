"""Amounts from outside (prices, unit prices, batch files, the Decimal scalar) are read by one strict rule: ASCII
digits, an optional point and at most two decimals. `Decimal()` alone takes far more, and stored what nobody typed."""

from __future__ import annotations

from decimal import Decimal

import pytest

from domain.errors import ValidationFailed
from domain.values import Money, parse_decimal

LOOSE = [
    "1_000",  # Python's digit grouping: Decimal("1_000") == 1000
    "١٢٣",  # Arabic-Indic digits: Decimal("١٢٣") == 123
    "\uff11\uff12\uff13",  # fullwidth digits
    " 5 ",  # surrounding blanks
    "5\n",
    "+5",
    "1E+3",  # exponent notation
    "1e3",
    ".5",
    "5.",
    "0x10",
    "1,000.00",
    "189.900,00",
]


@pytest.mark.parametrize("raw", LOOSE)
def test_loosely_written_amounts_are_refused_naming_the_field(raw: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        Money.parse(raw, field="unitPrice")
    assert caught.value.field == "unitPrice"
    assert caught.value.code == "VALIDATION"


@pytest.mark.parametrize("raw", LOOSE)
def test_the_shared_reader_refuses_them_too(raw: str) -> None:
    with pytest.raises(ValidationFailed):
        parse_decimal(raw, field="amount")


@pytest.mark.parametrize(
    ("raw", "amount"),
    [("5", "5.00"), ("5.5", "5.50"), ("189900.00", "189900.00"), ("0001.10", "1.10"), (42, "42.00")],
)
def test_plain_digits_with_up_to_two_decimals_are_read_exactly(raw: str | int, amount: str) -> None:
    assert str(Money.parse(raw)) == amount


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("10.500", "price has more than two decimal places"),
        (Decimal("10.500"), "price has more than two decimal places"),
        (
            Decimal("2.5E+3"),
            "price must be a number: digits with an optional point and at most two decimals, e.g. 189900.00",
        ),
        (Decimal("NaN"), "price must be a finite number"),
    ],
)
def test_a_decimal_is_judged_by_how_it_is_written(raw: str | Decimal, message: str) -> None:
    # A Decimal keeps the form it was written in (a JSON number parsed with parse_float=Decimal): 10.500 in a batch
    # file is refused like the text "10.500".
    with pytest.raises(ValidationFailed) as caught:
        Money.parse(raw)
    assert caught.value.message == message
