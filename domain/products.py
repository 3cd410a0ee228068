"""Products sold by the unit, with the stock on hand and the part of it reserved by orders in flight."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal

from domain.errors import ValidationFailed
from domain.values import Money, required_text

# Seed 002's identifiers look like PRD-1001: upper-case letters, digits and dashes.
_SKU = re.compile(r"[A-Z0-9][A-Z0-9-]{1,39}")
# One adjustment moves at most this much: a typo of a few zeros should not flood the stock.
MAX_STOCK_ADJUSTMENT = 1_000_000
# What one product's stock may add up to: the API shows it as a GraphQL Int (32 bits), with room to spare.
MAX_STOCK_ON_HAND = 1_000_000_000


@dataclass(frozen=True, slots=True)
class Product:
    sku: str
    description: str
    unit_price: Money
    stock_on_hand: int
    stock_reserved: int
    version: int
    created_at: datetime
    updated_at: datetime

    @property
    def stock_available(self) -> int:
        return self.stock_on_hand - self.stock_reserved


def parse_sku(raw: str, *, field: str = "sku") -> str:
    sku = raw.strip().upper()
    if not _SKU.fullmatch(sku):
        raise ValidationFailed(field, "sku must be 2-40 letters, digits or dashes, like PRD-1001")
    return sku


def create_product(
    *, sku: str, description: str, unit_price: Decimal | str, initial_stock: int, now: datetime
) -> Product:
    if isinstance(initial_stock, bool) or not isinstance(initial_stock, int):
        raise ValidationFailed("initialStock", "initial stock must be a whole number")
    if initial_stock < 0:
        raise ValidationFailed("initialStock", "initial stock cannot be negative")
    if initial_stock > MAX_STOCK_ADJUSTMENT:
        raise ValidationFailed("initialStock", f"initial stock is at most {MAX_STOCK_ADJUSTMENT}")
    return Product(
        sku=parse_sku(sku),
        description=required_text(description, field="description", max_length=200),
        unit_price=Money.parse(unit_price, field="unitPrice"),
        stock_on_hand=initial_stock,
        stock_reserved=0,
        version=0,
        created_at=now,
        updated_at=now,
    )


def adjust_stock(product: Product, delta: int, *, now: datetime) -> Product:
    """Add (delivery) or remove (loss, count correction) stock; what orders hold can never be taken away."""
    if isinstance(delta, bool) or not isinstance(delta, int):
        raise ValidationFailed("delta", "delta must be a whole number")
    if delta == 0:
        raise ValidationFailed("delta", "delta must not be zero")
    if abs(delta) > MAX_STOCK_ADJUSTMENT:
        raise ValidationFailed("delta", f"one adjustment moves at most {MAX_STOCK_ADJUSTMENT} units")
    on_hand = product.stock_on_hand + delta
    if on_hand > MAX_STOCK_ON_HAND:
        raise ValidationFailed(
            "delta", f"stock would rise to {on_hand}, over the {MAX_STOCK_ON_HAND} one product may hold"
        )
    if on_hand < product.stock_reserved:
        raise ValidationFailed(
            "delta",
            f"stock would fall to {on_hand}, below the {product.stock_reserved} units reserved by orders",
        )
    return replace(product, stock_on_hand=on_hand, updated_at=now)
