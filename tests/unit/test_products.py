"""Products: creation normalizes the SKU and validates the figures; stock moves but never below what orders hold."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

import pytest

from domain.errors import ValidationFailed
from domain.products import MAX_STOCK_ADJUSTMENT, MAX_STOCK_ON_HAND, Product, adjust_stock, create_product, parse_sku
from domain.values import Money
from tests.unit.factories import NOW, make_product

LATER = NOW + timedelta(minutes=5)

# --- create_product ----------------------------------------------------------------------------------------


def test_create_product_normalizes_the_sku_and_starts_with_nothing_reserved() -> None:
    # Given a lower-case SKU with stray spaces
    # When the product is created
    product = create_product(
        sku="  prd-1001 ", description=" Tapete de borracha ", unit_price="149.9", initial_stock=12, now=NOW
    )
    # Then the SKU is upper case, the price exact, and all the stock is available
    assert product == Product(
        sku="PRD-1001",
        description="Tapete de borracha",
        unit_price=Money(Decimal("149.90")),
        stock_on_hand=12,
        stock_reserved=0,
        version=0,
        created_at=NOW,
        updated_at=NOW,
    )
    assert str(product.unit_price.amount) == "149.90"
    assert product.stock_available == 12


@pytest.mark.parametrize("initial_stock", [0, 1, MAX_STOCK_ADJUSTMENT])
def test_create_product_accepts_initial_stock_from_zero_to_the_maximum(initial_stock: int) -> None:
    product = create_product(sku="PRD-1", description="Tapete", unit_price="1.00", initial_stock=initial_stock, now=NOW)
    assert product.stock_on_hand == initial_stock
    assert product.stock_available == initial_stock


@pytest.mark.parametrize("sku", ["AB", "PRD-1001", "0-9", "A" * 40, "ab-cd"])
def test_parse_sku_accepts_letters_digits_and_dashes(sku: str) -> None:
    assert parse_sku(sku) == sku.upper()


@pytest.mark.parametrize(
    "sku",
    ["", "   ", "P", "-PRD", "PRD_1001", "PRD 1001", "PRD.1001", "A" * 41, "PRÉ-1", "PRD-1001\n2"],
)
def test_create_product_refuses_a_bad_sku(sku: str) -> None:
    # Given a SKU that is empty, too short, too long, or has characters other than letters, digits and dashes
    # When the product is created
    with pytest.raises(ValidationFailed) as caught:
        create_product(sku=sku, description="Tapete", unit_price="149.90", initial_stock=1, now=NOW)
    # Then the error names the SKU
    assert caught.value.field == "sku"
    assert caught.value.code == "VALIDATION"


@pytest.mark.parametrize(
    ("initial_stock", "message"),
    [
        (-1, "initial stock cannot be negative"),
        (-1000, "initial stock cannot be negative"),
        (MAX_STOCK_ADJUSTMENT + 1, f"initial stock is at most {MAX_STOCK_ADJUSTMENT}"),
    ],
)
def test_create_product_refuses_bad_initial_stock(initial_stock: int, message: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        create_product(sku="PRD-1", description="Tapete", unit_price="1.00", initial_stock=initial_stock, now=NOW)
    assert caught.value.field == "initialStock"
    assert caught.value.code == "VALIDATION"
    assert caught.value.message == message


@pytest.mark.parametrize(
    ("unit_price", "message"),
    [
        ("-0.01", "unitPrice must not be negative"),
        ("0", "unitPrice must be greater than zero"),
        ("1.999", "unitPrice has more than two decimal places"),
        (1.5, "unitPrice must be exact: pass a string or Decimal, not a float"),
        ("", "unitPrice must be a number: digits with an optional point and at most two decimals, e.g. 189900.00"),
    ],
)
def test_create_product_refuses_a_bad_unit_price(unit_price: Decimal | str, message: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        create_product(sku="PRD-1", description="Tapete", unit_price=unit_price, initial_stock=1, now=NOW)
    assert caught.value.field == "unitPrice"
    assert caught.value.code == "VALIDATION"
    assert caught.value.message == message


@pytest.mark.parametrize("description", ["", "   ", "x" * 201])
def test_create_product_refuses_a_bad_description(description: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        create_product(sku="PRD-1", description=description, unit_price="1.00", initial_stock=1, now=NOW)
    assert caught.value.field == "description"
    assert caught.value.code == "VALIDATION"


# --- stock -------------------------------------------------------------------------------------------------


def test_stock_available_is_on_hand_minus_reserved() -> None:
    product = make_product(stock_on_hand=10, stock_reserved=4)
    assert product.stock_available == 6


@pytest.mark.parametrize(("delta", "on_hand"), [(5, 15), (1, 11), (-3, 7), (-10, 0)])
def test_adjust_stock_adds_or_removes_units(delta: int, on_hand: int) -> None:
    # Given a product with 10 units and nothing reserved
    product = make_product(stock_on_hand=10, version=4)
    # When the stock is adjusted
    adjusted = adjust_stock(product, delta, now=LATER)
    # Then only the units on hand and updated_at change
    assert adjusted == replace(product, stock_on_hand=on_hand, updated_at=LATER)
    assert adjusted.stock_available == on_hand


def test_adjust_stock_refuses_a_zero_delta() -> None:
    with pytest.raises(ValidationFailed) as caught:
        adjust_stock(make_product(), 0, now=LATER)
    assert caught.value.field == "delta"
    assert caught.value.code == "VALIDATION"
    assert caught.value.message == "delta must not be zero"


def test_adjust_stock_may_take_everything_not_reserved() -> None:
    # Given 10 units of which 4 are reserved by orders
    product = make_product(stock_on_hand=10, stock_reserved=4)
    # When the 6 free units are removed
    adjusted = adjust_stock(product, -6, now=LATER)
    # Then the reserved units remain on hand and none is available
    assert adjusted.stock_on_hand == 4
    assert adjusted.stock_reserved == 4
    assert adjusted.stock_available == 0


@pytest.mark.parametrize("delta", [-7, -10, -MAX_STOCK_ADJUSTMENT])
def test_adjust_stock_refuses_to_go_below_the_reserved_units(delta: int) -> None:
    # Given 10 units of which 4 are reserved by orders
    product = make_product(stock_on_hand=10, stock_reserved=4)
    # When more than the 6 free units are removed
    with pytest.raises(ValidationFailed) as caught:
        adjust_stock(product, delta, now=LATER)
    # Then it is refused, naming the delta
    assert caught.value.field == "delta"
    assert caught.value.code == "VALIDATION"
    assert caught.value.message == f"stock would fall to {10 + delta}, below the 4 units reserved by orders"


def test_adjust_stock_accepts_the_largest_single_adjustment() -> None:
    product = make_product(stock_on_hand=0)
    assert adjust_stock(product, MAX_STOCK_ADJUSTMENT, now=LATER).stock_on_hand == MAX_STOCK_ADJUSTMENT


@pytest.mark.parametrize("delta", [MAX_STOCK_ADJUSTMENT + 1, -(MAX_STOCK_ADJUSTMENT + 1), 10**12])
def test_adjust_stock_refuses_a_huge_delta(delta: int) -> None:
    # Given a product with plenty of stock
    product = make_product(stock_on_hand=5_000_000)
    # When one adjustment moves more than the maximum, either way
    with pytest.raises(ValidationFailed) as caught:
        adjust_stock(product, delta, now=LATER)
    # Then it is refused as a probable typo
    assert caught.value.field == "delta"
    assert caught.value.code == "VALIDATION"
    assert caught.value.message == f"one adjustment moves at most {MAX_STOCK_ADJUSTMENT} units"


def test_stock_cannot_rise_past_what_one_product_may_hold() -> None:
    product = make_product(stock_on_hand=MAX_STOCK_ON_HAND - 5)
    assert adjust_stock(product, 5, now=NOW).stock_on_hand == MAX_STOCK_ON_HAND
    with pytest.raises(ValidationFailed) as refused:
        adjust_stock(product, 6, now=NOW)
    assert refused.value.field == "delta"
