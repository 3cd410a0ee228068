"""Vehicles the dealership sells: registration, edits and the rules that guard them."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal

from domain.errors import Conflict
from domain.order_status import VehicleStatus
from domain.values import ModelYear, Money, required_text


@dataclass(frozen=True, slots=True)
class Vehicle:
    id: str
    brand: str
    model: str
    year: int
    color: str
    price: Money
    status: VehicleStatus
    version: int
    created_at: datetime
    updated_at: datetime
    # The order holding the reservation, while the vehicle is RESERVED: only that order may sell or release it.
    reserved_by: str | None = None


@dataclass(frozen=True, slots=True)
class VehicleChanges:
    """An admin's edit: only the fields given change. Status is never edited by hand; the saga owns it."""

    brand: str | None = None
    model: str | None = None
    year: int | None = None
    color: str | None = None
    price: Decimal | str | None = None


def register_vehicle(
    *, vehicle_id: str, brand: str, model: str, year: int, color: str, price: Decimal | str, now: datetime
) -> Vehicle:
    return Vehicle(
        id=vehicle_id,
        brand=required_text(brand, field="brand", max_length=60),
        model=required_text(model, field="model", max_length=80),
        year=ModelYear.parse(year, current_year=now.year).value,
        color=required_text(color, field="color", max_length=40),
        price=Money.parse(price, field="price"),
        status=VehicleStatus.AVAILABLE,
        version=0,
        created_at=now,
        updated_at=now,
    )


def edit_vehicle(vehicle: Vehicle, changes: VehicleChanges, *, now: datetime) -> Vehicle:
    """Apply an edit. A sold vehicle is history; a reserved one keeps the price its buyer was quoted."""
    if vehicle.status is VehicleStatus.SOLD:
        raise Conflict(f"vehicle {vehicle.id} is sold and can no longer be edited")
    price = vehicle.price if changes.price is None else Money.parse(changes.price, field="price")
    if vehicle.status is VehicleStatus.RESERVED and price != vehicle.price:
        raise Conflict(f"vehicle {vehicle.id} is reserved by an order; its price cannot change", field="price")
    return replace(
        vehicle,
        brand=vehicle.brand if changes.brand is None else required_text(changes.brand, field="brand", max_length=60),
        model=vehicle.model if changes.model is None else required_text(changes.model, field="model", max_length=80),
        year=vehicle.year if changes.year is None else ModelYear.parse(changes.year, current_year=now.year).value,
        color=vehicle.color if changes.color is None else required_text(changes.color, field="color", max_length=40),
        price=price,
        updated_at=now,
    )
