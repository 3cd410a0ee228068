"""The catalog's use cases over the in-memory stores: ids, clock, versions, and retries when another writer wins."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
from datetime import timedelta

import pytest

from domain.catalog import Catalog
from domain.errors import Conflict, NotFound, StaleVersion, ValidationFailed
from domain.order_status import VehicleStatus
from domain.pages import Page
from domain.products import Product
from domain.retries import OPTIMISTIC_ATTEMPTS
from domain.values import Money
from domain.vehicles import Vehicle, VehicleChanges
from persistence.memory import MemoryProductStore, MemoryVehicleStore
from tests.unit.factories import NOW, FixedClock, SequentialIds, cursor_codec, make_product, make_vehicle


class RacingVehicleStore:
    """A real in-memory store where another writer commits just before each of the next `races` saves.

    The other writer's change goes through the store itself, so the save that follows fails with StaleVersion
    exactly as it would when two requests race in DynamoDB.
    """

    def __init__(self, inner: MemoryVehicleStore, *, races: int, other_writer: Callable[[Vehicle], Vehicle]) -> None:
        self._inner = inner
        self._races = races
        self._other_writer = other_writer
        self.saves = 0

    def get(self, vehicle_id: str) -> Vehicle | None:
        return self._inner.get(vehicle_id)

    def get_many(self, vehicle_ids: Iterable[str]) -> Mapping[str, Vehicle]:
        return self._inner.get_many(vehicle_ids)

    def add(self, vehicle: Vehicle) -> Vehicle:
        return self._inner.add(vehicle)

    def save(self, vehicle: Vehicle) -> Vehicle:
        self.saves += 1
        if self._races > 0:
            self._races -= 1
            current = self._inner.get(vehicle.id)
            assert current is not None
            self._inner.save(self._other_writer(current))
        return self._inner.save(vehicle)

    def list_by_status(self, status: VehicleStatus, first: int, after: str | None) -> Page[Vehicle]:
        return self._inner.list_by_status(status, first, after)


class RacingProductStore:
    """The product counterpart of RacingVehicleStore."""

    def __init__(self, inner: MemoryProductStore, *, races: int, other_writer: Callable[[Product], Product]) -> None:
        self._inner = inner
        self._races = races
        self._other_writer = other_writer
        self.saves = 0

    def get(self, sku: str) -> Product | None:
        return self._inner.get(sku)

    def get_many(self, skus: Iterable[str]) -> Mapping[str, Product]:
        return self._inner.get_many(skus)

    def add(self, product: Product) -> Product:
        return self._inner.add(product)

    def save(self, product: Product) -> Product:
        self.saves += 1
        if self._races > 0:
            self._races -= 1
            current = self._inner.get(product.sku)
            assert current is not None
            self._inner.save(self._other_writer(current))
        return self._inner.save(product)

    def list(self, first: int, after: str | None) -> Page[Product]:
        return self._inner.list(first, after)


def _rename_model(vehicle: Vehicle) -> Vehicle:
    return replace(vehicle, model=f"{vehicle.model}+")


def _reserve(vehicle: Vehicle) -> Vehicle:
    return replace(vehicle, status=VehicleStatus.RESERVED)


def _reserve_two_units(product: Product) -> Product:
    return replace(product, stock_reserved=product.stock_reserved + 2)


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock()


@pytest.fixture
def vehicles() -> MemoryVehicleStore:
    return MemoryVehicleStore(cursor_codec())


@pytest.fixture
def products() -> MemoryProductStore:
    return MemoryProductStore(cursor_codec())


@pytest.fixture
def catalog(vehicles: MemoryVehicleStore, products: MemoryProductStore, clock: FixedClock) -> Catalog:
    return Catalog(vehicles=vehicles, products=products, clock=clock, new_id=SequentialIds("vehicle"))


# --- vehicles ----------------------------------------------------------------------------------------------


def test_create_vehicle_stores_it_under_a_new_id_at_version_one(catalog: Catalog, vehicles: MemoryVehicleStore) -> None:
    # Given an empty catalog
    # When two vehicles are created
    first = catalog.create_vehicle(brand="Toyota", model="Corolla", year=2025, color="Prata", price="189900.00")
    second = catalog.create_vehicle(brand="Honda", model="Civic", year=2026, color="Azul", price="150000")
    # Then each has the next id, is available, carries the store's first version, and is what the store holds
    assert first == make_vehicle(vehicle_id="vehicle-1", version=1)
    assert second.id == "vehicle-2"
    assert second.price == Money.parse("150000.00")
    assert vehicles.get("vehicle-1") == first
    assert vehicles.get("vehicle-2") == second


def test_create_vehicle_with_bad_input_stores_nothing(catalog: Catalog, vehicles: MemoryVehicleStore) -> None:
    with pytest.raises(ValidationFailed) as caught:
        catalog.create_vehicle(brand="Toyota", model="Corolla", year=2025, color="Prata", price="-1")
    assert caught.value.field == "price"
    assert caught.value.code == "VALIDATION"
    assert vehicles.list_by_status(VehicleStatus.AVAILABLE, 10, None).items == []


def test_update_vehicle_saves_the_edit_with_the_next_version(
    catalog: Catalog, vehicles: MemoryVehicleStore, clock: FixedClock
) -> None:
    # Given a vehicle created at NOW
    created = catalog.create_vehicle(brand="Toyota", model="Corolla", year=2025, color="Prata", price="189900.00")
    edited_at = clock.advance(timedelta(hours=1))
    # When its color is updated an hour later
    updated = catalog.update_vehicle(created.id, VehicleChanges(color="Preto"))
    # Then the stored vehicle has the new color, the next version and the new updated_at
    assert updated == replace(created, color="Preto", version=2, updated_at=edited_at)
    assert updated.created_at == NOW
    assert vehicles.get(created.id) == updated


def test_update_unknown_vehicle_is_not_found(catalog: Catalog) -> None:
    with pytest.raises(NotFound) as caught:
        catalog.update_vehicle("no-such-vehicle", VehicleChanges(color="Preto"))
    assert caught.value.code == "NOT_FOUND"
    assert caught.value.entity == "vehicle"
    assert caught.value.entity_id == "no-such-vehicle"
    assert caught.value.message == "vehicle 'no-such-vehicle' does not exist"


def test_update_sold_vehicle_is_a_conflict_and_changes_nothing(catalog: Catalog, vehicles: MemoryVehicleStore) -> None:
    sold = vehicles.add(make_vehicle(status=VehicleStatus.SOLD))
    with pytest.raises(Conflict) as caught:
        catalog.update_vehicle(sold.id, VehicleChanges(color="Preto"))
    assert caught.value.code == "CONFLICT"
    assert vehicles.get(sold.id) == sold


@pytest.mark.parametrize("races", range(1, OPTIMISTIC_ATTEMPTS))
def test_update_vehicle_reads_again_when_another_writer_wins(
    vehicles: MemoryVehicleStore, products: MemoryProductStore, clock: FixedClock, races: int
) -> None:
    # Given a stored vehicle, and another writer that commits just before each of our first saves
    stored = vehicles.add(make_vehicle())
    racing = RacingVehicleStore(vehicles, races=races, other_writer=_rename_model)
    catalog = Catalog(vehicles=racing, products=products, clock=clock, new_id=SequentialIds())
    # When an admin changes the color
    updated = catalog.update_vehicle(stored.id, VehicleChanges(color="Preto"))
    # Then the update succeeds on a fresh read: both changes survive and every write got its own version
    assert racing.saves == races + 1
    assert updated.color == "Preto"
    assert updated.model == "Corolla" + "+" * races
    assert updated.version == stored.version + races + 1
    assert vehicles.get(stored.id) == updated


def test_update_vehicle_gives_up_after_the_last_attempt(
    vehicles: MemoryVehicleStore, products: MemoryProductStore, clock: FixedClock
) -> None:
    # Given another writer that wins every one of our attempts
    stored = vehicles.add(make_vehicle())
    racing = RacingVehicleStore(vehicles, races=OPTIMISTIC_ATTEMPTS, other_writer=_rename_model)
    catalog = Catalog(vehicles=racing, products=products, clock=clock, new_id=SequentialIds())
    # When an admin changes the color
    with pytest.raises(StaleVersion) as caught:
        catalog.update_vehicle(stored.id, VehicleChanges(color="Preto"))
    # Then the StaleVersion of the last attempt reaches the caller, after exactly OPTIMISTIC_ATTEMPTS saves
    assert caught.value.code == "CONFLICT"
    assert racing.saves == OPTIMISTIC_ATTEMPTS
    # And only the other writer's changes are stored
    current = vehicles.get(stored.id)
    assert current is not None
    assert current.color == "Prata"
    assert current.model == "Corolla" + "+" * OPTIMISTIC_ATTEMPTS


def test_update_vehicle_retry_applies_the_rules_to_the_fresh_read(
    vehicles: MemoryVehicleStore, products: MemoryProductStore, clock: FixedClock
) -> None:
    # Given an available vehicle that the purchase saga reserves just before the admin's save
    stored = vehicles.add(make_vehicle())
    racing = RacingVehicleStore(vehicles, races=1, other_writer=_reserve)
    catalog = Catalog(vehicles=racing, products=products, clock=clock, new_id=SequentialIds())
    # When the admin changes the price
    with pytest.raises(Conflict) as caught:
        catalog.update_vehicle(stored.id, VehicleChanges(price="179900.00"))
    # Then the retry sees the reservation and refuses the price change; the buyer keeps the quoted price
    assert caught.value.field == "price"
    assert not isinstance(caught.value, StaleVersion)
    assert racing.saves == 1
    current = vehicles.get(stored.id)
    assert current is not None
    assert current.status is VehicleStatus.RESERVED
    assert current.price == stored.price


# --- products ----------------------------------------------------------------------------------------------


def test_create_product_stores_it_with_a_normalized_sku(catalog: Catalog, products: MemoryProductStore) -> None:
    created = catalog.create_product(sku="prd-1001", description="Tapete", unit_price="149.90", initial_stock=10)
    assert created.sku == "PRD-1001"
    assert created.version == 1
    assert created.stock_available == 10
    assert products.get("PRD-1001") == created


@pytest.mark.parametrize("sku", ["PRD-1001", "prd-1001", " Prd-1001 "])
def test_create_product_with_a_taken_sku_is_a_conflict(
    catalog: Catalog, products: MemoryProductStore, sku: str
) -> None:
    original = catalog.create_product(sku="PRD-1001", description="Tapete", unit_price="149.90", initial_stock=10)
    with pytest.raises(Conflict) as caught:
        catalog.create_product(sku=sku, description="Outro", unit_price="1.00", initial_stock=1)
    assert caught.value.code == "CONFLICT"
    assert caught.value.field == "sku"
    assert products.get("PRD-1001") == original


def test_adjust_stock_saves_the_new_stock_with_the_next_version(
    catalog: Catalog, products: MemoryProductStore, clock: FixedClock
) -> None:
    created = catalog.create_product(sku="PRD-1001", description="Tapete", unit_price="149.90", initial_stock=10)
    adjusted_at = clock.advance()
    adjusted = catalog.adjust_stock("PRD-1001", -4)
    assert adjusted == replace(created, stock_on_hand=6, version=2, updated_at=adjusted_at)
    assert products.get("PRD-1001") == adjusted


def test_adjust_stock_of_unknown_sku_is_not_found(catalog: Catalog) -> None:
    with pytest.raises(NotFound) as caught:
        catalog.adjust_stock("PRD-9999", 5)
    assert caught.value.code == "NOT_FOUND"
    assert caught.value.entity == "product"
    assert caught.value.entity_id == "PRD-9999"


def test_adjust_stock_reads_again_when_an_order_reserves_first(
    products: MemoryProductStore, vehicles: MemoryVehicleStore, clock: FixedClock
) -> None:
    # Given 10 units and an order that reserves 2 just before the admin's first save
    stored = products.add(make_product(stock_on_hand=10))
    racing = RacingProductStore(products, races=1, other_writer=_reserve_two_units)
    catalog = Catalog(vehicles=vehicles, products=racing, clock=clock, new_id=SequentialIds())
    # When 3 units are added
    adjusted = catalog.adjust_stock(stored.sku, 3)
    # Then the retry keeps the reservation and adds the units
    assert racing.saves == 2
    assert adjusted.stock_on_hand == 13
    assert adjusted.stock_reserved == 2
    assert adjusted.version == stored.version + 2
    assert products.get(stored.sku) == adjusted


def test_adjust_stock_retry_refuses_what_the_fresh_read_no_longer_allows(
    products: MemoryProductStore, vehicles: MemoryVehicleStore, clock: FixedClock
) -> None:
    # Given 10 free units, of which an order reserves 2 just before the admin's save
    stored = products.add(make_product(stock_on_hand=10))
    racing = RacingProductStore(products, races=1, other_writer=_reserve_two_units)
    catalog = Catalog(vehicles=vehicles, products=racing, clock=clock, new_id=SequentialIds())
    # When the admin removes all 10 units
    with pytest.raises(ValidationFailed) as caught:
        catalog.adjust_stock(stored.sku, -10)
    # Then the retry sees the reservation and refuses
    assert caught.value.field == "delta"
    assert caught.value.code == "VALIDATION"
    current = products.get(stored.sku)
    assert current is not None
    assert (current.stock_on_hand, current.stock_reserved) == (10, 2)


def test_adjust_stock_gives_up_after_the_last_attempt(
    products: MemoryProductStore, vehicles: MemoryVehicleStore, clock: FixedClock
) -> None:
    stored = products.add(make_product(stock_on_hand=100))
    racing = RacingProductStore(products, races=OPTIMISTIC_ATTEMPTS, other_writer=_reserve_two_units)
    catalog = Catalog(vehicles=vehicles, products=racing, clock=clock, new_id=SequentialIds())
    with pytest.raises(StaleVersion) as caught:
        catalog.adjust_stock(stored.sku, 5)
    assert caught.value.code == "CONFLICT"
    assert racing.saves == OPTIMISTIC_ATTEMPTS
    current = products.get(stored.sku)
    assert current is not None
    assert current.stock_on_hand == 100
    assert current.stock_reserved == 2 * OPTIMISTIC_ATTEMPTS
