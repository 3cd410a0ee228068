"""Vehicles: registration validates every field, and edits respect what the vehicle's status allows."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

import pytest

from domain.errors import Conflict, ValidationFailed
from domain.order_status import VehicleStatus
from domain.values import Money
from domain.vehicles import Vehicle, VehicleChanges, edit_vehicle, register_vehicle
from tests.unit.factories import NOW, make_vehicle

LATER = NOW + timedelta(hours=2)

# --- register_vehicle --------------------------------------------------------------------------------------


def test_register_vehicle_is_available_at_version_zero_with_an_exact_price() -> None:
    # Given valid input, with stray spaces around the text
    # When the vehicle is registered
    vehicle = register_vehicle(
        vehicle_id="vehicle-1",
        brand="  Toyota ",
        model=" Corolla XEi",
        year=2025,
        color="Prata ",
        price="189900.00",
        now=NOW,
    )
    # Then it is available, unversioned, stamped with the clock and priced exactly
    assert vehicle == Vehicle(
        id="vehicle-1",
        brand="Toyota",
        model="Corolla XEi",
        year=2025,
        color="Prata",
        price=Money(Decimal("189900.00")),
        status=VehicleStatus.AVAILABLE,
        version=0,
        created_at=NOW,
        updated_at=NOW,
    )
    assert vehicle.status is VehicleStatus.AVAILABLE
    assert str(vehicle.price.amount) == "189900.00"
    assert vehicle.price.amount.as_tuple().exponent == -2


@pytest.mark.parametrize("price", ["189900", "189900.0", Decimal("189900.00"), 189900])
def test_register_vehicle_normalizes_the_price_to_cents(price: Decimal | str) -> None:
    # Given the same price written in several exact ways
    # When the vehicle is registered
    vehicle = make_vehicle(price=price)
    # Then the stored amount is the same two-decimal Decimal
    assert str(vehicle.price.amount) == "189900.00"


@pytest.mark.parametrize("year", [1886, 2025, 2026])
def test_register_vehicle_accepts_years_from_the_first_car_to_next_years_model(year: int) -> None:
    # Given a year between 1886 and the clock's year plus one
    # When the vehicle is registered
    vehicle = make_vehicle(year=year)
    # Then the year is kept
    assert vehicle.year == year


@pytest.mark.parametrize("field", ["brand", "model", "color"])
@pytest.mark.parametrize("blank", ["", "   ", "\t\n"])
def test_register_vehicle_refuses_blank_text_naming_the_field(field: str, blank: str) -> None:
    # Given one text field left blank
    arguments = {"brand": "Toyota", "model": "Corolla", "color": "Prata", field: blank}
    # When the vehicle is registered
    with pytest.raises(ValidationFailed) as caught:
        register_vehicle(
            vehicle_id="vehicle-1",
            brand=arguments["brand"],
            model=arguments["model"],
            year=2025,
            color=arguments["color"],
            price="189900.00",
            now=NOW,
        )
    # Then the error names that field
    assert caught.value.field == field
    assert caught.value.code == "VALIDATION"
    assert caught.value.message == f"{field} is required"


@pytest.mark.parametrize(("field", "limit"), [("brand", 60), ("model", 80), ("color", 40)])
def test_register_vehicle_refuses_overlong_text_naming_the_field(field: str, limit: int) -> None:
    # Given one text field one character over its limit
    arguments = {"brand": "Toyota", "model": "Corolla", "color": "Prata", field: "x" * (limit + 1)}
    # When the vehicle is registered
    with pytest.raises(ValidationFailed) as caught:
        make_vehicle(brand=arguments["brand"], model=arguments["model"], color=arguments["color"])
    # Then the error names that field
    assert caught.value.field == field
    assert caught.value.code == "VALIDATION"


@pytest.mark.parametrize("year", [1700, 1885, 2027, 2100])
def test_register_vehicle_refuses_a_year_out_of_range(year: int) -> None:
    # Given a year before the first car or two or more years ahead of the clock (2025)
    # When the vehicle is registered
    with pytest.raises(ValidationFailed) as caught:
        make_vehicle(year=year)
    # Then the error names the year and gives the range, judged by the clock's year
    assert caught.value.field == "year"
    assert caught.value.code == "VALIDATION"
    assert caught.value.message == "year must be between 1886 and 2026"


@pytest.mark.parametrize(
    ("price", "message"),
    [
        ("-1.00", "price must not be negative"),
        (Decimal("-0.01"), "price must not be negative"),
        ("0", "price must be greater than zero"),
        ("0.00", "price must be greater than zero"),
        ("189900.001", "price has more than two decimal places"),
        ("10.999", "price has more than two decimal places"),
        (189900.0, "price must be exact: pass a string or Decimal, not a float"),
        ("abc", "price must be a number: digits with an optional point and at most two decimals, e.g. 189900.00"),
        ("NaN", "price must be a finite number"),
    ],
)
def test_register_vehicle_refuses_a_bad_price(price: Decimal | str, message: str) -> None:
    # Given a negative, zero, over-precise, inexact or non-numeric price
    # When the vehicle is registered
    with pytest.raises(ValidationFailed) as caught:
        make_vehicle(price=price)
    # Then the error names the price
    assert caught.value.field == "price"
    assert caught.value.code == "VALIDATION"
    assert caught.value.message == message


# --- edit_vehicle ------------------------------------------------------------------------------------------


def test_edit_changes_only_the_given_fields_and_updated_at() -> None:
    # Given a stored vehicle
    vehicle = make_vehicle(version=3)
    # When only the color is edited, later
    edited = edit_vehicle(vehicle, VehicleChanges(color="  Preto "), now=LATER)
    # Then the color and updated_at change and nothing else (the store, not the edit, bumps the version)
    assert edited == replace(vehicle, color="Preto", updated_at=LATER)
    assert edited.created_at == NOW
    assert edited.version == 3


def test_edit_with_every_field_changes_them_all() -> None:
    # Given an available vehicle
    vehicle = make_vehicle()
    # When every editable field is given
    edited = edit_vehicle(
        vehicle,
        VehicleChanges(brand="Honda", model="Civic", year=2026, color="Azul", price="150000.5"),
        now=LATER,
    )
    # Then all of them change, the price is exact, and status and version stay
    assert edited == replace(
        vehicle,
        brand="Honda",
        model="Civic",
        year=2026,
        color="Azul",
        price=Money(Decimal("150000.50")),
        updated_at=LATER,
    )
    assert edited.status is VehicleStatus.AVAILABLE


def test_empty_edit_only_touches_updated_at() -> None:
    vehicle = make_vehicle()
    edited = edit_vehicle(vehicle, VehicleChanges(), now=LATER)
    assert edited == replace(vehicle, updated_at=LATER)


def test_edit_year_is_judged_by_the_edit_clock() -> None:
    # Given a vehicle registered in 2025, edited in 2026
    vehicle = make_vehicle()
    next_year = NOW.replace(year=2026)
    # When the year is set to 2027 (next year's model by then)
    edited = edit_vehicle(vehicle, VehicleChanges(year=2027), now=next_year)
    # Then it is accepted
    assert edited.year == 2027


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        (VehicleChanges(brand="  "), "brand"),
        (VehicleChanges(model=""), "model"),
        (VehicleChanges(color="\t"), "color"),
        (VehicleChanges(year=1700), "year"),
        (VehicleChanges(year=2027), "year"),
        (VehicleChanges(price="-5"), "price"),
        (VehicleChanges(price="0"), "price"),
        (VehicleChanges(price="1.234"), "price"),
    ],
)
def test_edit_refuses_bad_values_naming_the_field(changes: VehicleChanges, field: str) -> None:
    # Given an available vehicle
    vehicle = make_vehicle()
    # When an edit carries a bad value
    with pytest.raises(ValidationFailed) as caught:
        edit_vehicle(vehicle, changes, now=LATER)
    # Then the error names the field
    assert caught.value.field == field
    assert caught.value.code == "VALIDATION"


@pytest.mark.parametrize(
    "changes",
    [VehicleChanges(), VehicleChanges(color="Preto"), VehicleChanges(price="1000.00"), VehicleChanges(brand="  ")],
)
def test_sold_vehicle_cannot_be_edited(changes: VehicleChanges) -> None:
    # Given a sold vehicle
    vehicle = make_vehicle(status=VehicleStatus.SOLD)
    # When any edit is attempted, even an empty or an invalid one
    with pytest.raises(Conflict) as caught:
        edit_vehicle(vehicle, changes, now=LATER)
    # Then it is refused as a conflict with the vehicle's state, not blamed on a field
    assert caught.value.code == "CONFLICT"
    assert caught.value.field is None
    assert caught.value.message == "vehicle vehicle-1 is sold and can no longer be edited"


def test_reserved_vehicle_accepts_edits_that_leave_the_price_alone() -> None:
    # Given a vehicle reserved by an order
    vehicle = make_vehicle(status=VehicleStatus.RESERVED)
    # When its color and model are edited
    edited = edit_vehicle(vehicle, VehicleChanges(model="Corolla Cross", color="Branco"), now=LATER)
    # Then the edit goes through and it stays reserved at the quoted price
    assert edited == replace(vehicle, model="Corolla Cross", color="Branco", updated_at=LATER)
    assert edited.status is VehicleStatus.RESERVED


@pytest.mark.parametrize("price", ["189900.01", "100000.00", "189899.99"])
def test_reserved_vehicle_refuses_a_price_change(price: str) -> None:
    # Given a vehicle reserved at 189900.00
    vehicle = make_vehicle(status=VehicleStatus.RESERVED)
    # When the price is changed, alone or along with other fields
    with pytest.raises(Conflict) as caught:
        edit_vehicle(vehicle, VehicleChanges(color="Branco", price=price), now=LATER)
    # Then it is refused, naming the price
    assert caught.value.code == "CONFLICT"
    assert caught.value.field == "price"
    assert caught.value.message == "vehicle vehicle-1 is reserved by an order; its price cannot change"


@pytest.mark.parametrize("price", ["189900.00", "189900", "189900.0", Decimal("189900.0"), 189900])
def test_reserved_vehicle_accepts_the_same_price_however_written(price: Decimal | str) -> None:
    # Given a vehicle reserved at 189900.00
    vehicle = make_vehicle(status=VehicleStatus.RESERVED)
    # When the edit restates the same price
    edited = edit_vehicle(vehicle, VehicleChanges(color="Branco", price=price), now=LATER)
    # Then the edit goes through with the price unchanged
    assert edited.price == vehicle.price
    assert str(edited.price.amount) == "189900.00"
    assert edited.color == "Branco"


def test_reserved_vehicle_refuses_an_invalid_price_as_validation() -> None:
    # Given a reserved vehicle, when the edit carries a malformed price
    vehicle = make_vehicle(status=VehicleStatus.RESERVED)
    with pytest.raises(ValidationFailed) as caught:
        edit_vehicle(vehicle, VehicleChanges(price="-1"), now=LATER)
    # Then the input is refused before the reservation rule is considered
    assert caught.value.field == "price"
    assert caught.value.code == "VALIDATION"
