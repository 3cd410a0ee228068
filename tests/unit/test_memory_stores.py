"""In-memory stores: the ordering, paging, versioning and uniqueness that the DynamoDB stores guarantee."""

from __future__ import annotations

from dataclasses import replace

import pytest

from domain.errors import Conflict, StaleVersion, ValidationFailed
from domain.order_status import VehicleStatus
from domain.pages import Page
from domain.products import Product
from domain.vehicles import Vehicle
from persistence.memory import MemoryProductStore, MemoryVehicleStore
from tests.unit.factories import cursor_codec, make_product, make_vehicle

AVAILABLE = VehicleStatus.AVAILABLE

# Inserted in no particular order; ids and prices chosen so that text order and numeric order disagree.
_STOCK: list[tuple[str, str, VehicleStatus]] = [
    ("v-07", "100000.00", AVAILABLE),
    ("v-03", "9.99", AVAILABLE),
    ("v-10", "50000.00", AVAILABLE),
    ("v-02", "50000.00", AVAILABLE),
    ("v-05", "10.00", AVAILABLE),
    ("v-01", "999999999.99", AVAILABLE),
    ("v-11", "50000.00", VehicleStatus.RESERVED),
    ("v-12", "1.00", VehicleStatus.SOLD),
    ("v-04", "50000.00", AVAILABLE),
    ("v-08", "75000.50", AVAILABLE),
]
# Cheapest first, ties by id.
_EXPECTED_AVAILABLE = ["v-03", "v-05", "v-02", "v-04", "v-10", "v-08", "v-07", "v-01"]


@pytest.fixture
def vehicles() -> MemoryVehicleStore:
    store = MemoryVehicleStore(cursor_codec())
    for vehicle_id, price, status in _STOCK:
        store.add(make_vehicle(vehicle_id=vehicle_id, price=price, status=status))
    return store


@pytest.fixture
def products() -> MemoryProductStore:
    store = MemoryProductStore(cursor_codec())
    for sku in ["PRD-30", "PRD-1001", "AB-1", "PRD-200", "ZZ", "PRD-1000"]:
        store.add(make_product(sku=sku))
    return store


def _ids(page: Page[Vehicle]) -> list[str]:
    return [vehicle.id for vehicle in page.items]


def _all_vehicle_pages(store: MemoryVehicleStore, status: VehicleStatus, first: int) -> list[Page[Vehicle]]:
    pages = [store.list_by_status(status, first, None)]
    while pages[-1].has_next_page:
        assert len(pages) <= 20, "pagination does not terminate"
        pages.append(store.list_by_status(status, first, pages[-1].end_cursor))
    return pages


def _all_product_pages(store: MemoryProductStore, first: int) -> list[Page[Product]]:
    pages = [store.list(first, None)]
    while pages[-1].has_next_page:
        assert len(pages) <= 20, "pagination does not terminate"
        pages.append(store.list(first, pages[-1].end_cursor))
    return pages


# --- vehicle listing ---------------------------------------------------------------------------------------


def test_vehicles_are_listed_cheapest_first_with_ties_broken_by_id(vehicles: MemoryVehicleStore) -> None:
    # Given vehicles of several prices, four of them at 50000.00, in three statuses
    # When the available ones are listed in one page
    page = vehicles.list_by_status(AVAILABLE, 100, None)
    # Then they come cheapest first, numerically (9.99 before 10.00), the equal prices by id, and nothing else
    assert _ids(page) == _EXPECTED_AVAILABLE
    assert all(vehicle.status is AVAILABLE for vehicle in page.items)
    assert page.has_next_page is False
    assert len(page.cursors) == len(page.items)
    assert len(set(page.cursors)) == len(page.cursors)


def test_other_statuses_are_listed_separately(vehicles: MemoryVehicleStore) -> None:
    assert _ids(vehicles.list_by_status(VehicleStatus.RESERVED, 10, None)) == ["v-11"]
    assert _ids(vehicles.list_by_status(VehicleStatus.SOLD, 10, None)) == ["v-12"]


@pytest.mark.parametrize(
    ("first", "has_next_page"),
    [(1, True), (7, True), (8, False), (9, False), (100, False)],
)
def test_has_next_page_is_exact(vehicles: MemoryVehicleStore, first: int, has_next_page: bool) -> None:
    # Given 8 available vehicles
    # When a first page of `first` is read
    page = vehicles.list_by_status(AVAILABLE, first, None)
    # Then the page says whether there is more, even when the page ends exactly at the last vehicle
    assert _ids(page) == _EXPECTED_AVAILABLE[:first]
    assert page.has_next_page is has_next_page


@pytest.mark.parametrize("first", [1, 2, 3, 4, 7, 8])
def test_cursors_chain_through_every_page(vehicles: MemoryVehicleStore, first: int) -> None:
    # Given pages of `first` vehicles, each read after the previous page's end cursor
    pages = _all_vehicle_pages(vehicles, AVAILABLE, first)
    # Then together they hold every available vehicle once, in order, in full pages but the last
    assert [vid for page in pages for vid in _ids(page)] == _EXPECTED_AVAILABLE
    assert len(pages) == -(-len(_EXPECTED_AVAILABLE) // first)
    assert all(len(page.items) == first for page in pages[:-1])
    assert [page.has_next_page for page in pages] == [True] * (len(pages) - 1) + [False]


def test_any_items_cursor_resumes_right_after_it(vehicles: MemoryVehicleStore) -> None:
    page = vehicles.list_by_status(AVAILABLE, 100, None)
    for index, cursor in enumerate(page.cursors):
        rest = vehicles.list_by_status(AVAILABLE, 100, cursor)
        assert _ids(rest) == _EXPECTED_AVAILABLE[index + 1 :]
        assert rest.has_next_page is False


def test_cursor_of_the_last_vehicle_gives_an_empty_last_page(vehicles: MemoryVehicleStore) -> None:
    last = vehicles.list_by_status(AVAILABLE, 100, None).end_cursor
    page = vehicles.list_by_status(AVAILABLE, 5, last)
    assert page == Page(items=[], cursors=[], has_next_page=False)
    assert page.end_cursor is None


def test_empty_store_lists_an_empty_page() -> None:
    page = MemoryVehicleStore(cursor_codec()).list_by_status(AVAILABLE, 10, None)
    assert page == Page(items=[], cursors=[], has_next_page=False)
    assert page.end_cursor is None


def test_paging_continues_by_position_when_the_list_changes_between_pages(vehicles: MemoryVehicleStore) -> None:
    # Given a first page of three vehicles
    first_page = vehicles.list_by_status(AVAILABLE, 3, None)
    assert _ids(first_page) == ["v-03", "v-05", "v-02"]
    # When a cheaper vehicle arrives and the third one is reserved before the next page is read
    vehicles.add(make_vehicle(vehicle_id="v-00", price="5.00"))
    reserved = vehicles.get("v-02")
    assert reserved is not None
    vehicles.save(replace(reserved, status=VehicleStatus.RESERVED))
    next_page = vehicles.list_by_status(AVAILABLE, 3, first_page.end_cursor)
    # Then the next page starts right after the cursor's position: nothing repeated, nothing skipped
    assert _ids(next_page) == ["v-04", "v-10", "v-08"]


def test_cursor_of_one_status_is_refused_for_another(vehicles: MemoryVehicleStore) -> None:
    cursor = vehicles.list_by_status(AVAILABLE, 2, None).end_cursor
    assert cursor is not None
    with pytest.raises(ValidationFailed) as caught:
        vehicles.list_by_status(VehicleStatus.SOLD, 2, cursor)
    assert caught.value.field == "after"
    assert caught.value.code == "VALIDATION"


def test_cursor_of_another_store_secret_is_refused(vehicles: MemoryVehicleStore) -> None:
    other = MemoryVehicleStore(cursor_codec(b"another-secret"))
    other.add(make_vehicle(vehicle_id="v-01"))
    cursor = other.list_by_status(AVAILABLE, 1, None).end_cursor
    assert cursor is not None
    with pytest.raises(ValidationFailed) as caught:
        vehicles.list_by_status(AVAILABLE, 2, cursor)
    assert caught.value.field == "after"
    assert caught.value.code == "VALIDATION"


def test_product_cursor_is_refused_for_vehicles(vehicles: MemoryVehicleStore, products: MemoryProductStore) -> None:
    cursor = products.list(1, None).end_cursor
    assert cursor is not None
    with pytest.raises(ValidationFailed) as caught:
        vehicles.list_by_status(AVAILABLE, 2, cursor)
    assert caught.value.field == "after"
    assert caught.value.code == "VALIDATION"


# --- product listing ---------------------------------------------------------------------------------------


_EXPECTED_SKUS = ["AB-1", "PRD-1000", "PRD-1001", "PRD-200", "PRD-30", "ZZ"]


def test_products_are_listed_by_sku(products: MemoryProductStore) -> None:
    page = products.list(100, None)
    assert [p.sku for p in page.items] == _EXPECTED_SKUS
    assert page.has_next_page is False


@pytest.mark.parametrize("first", [1, 2, 4, 5, 6])
def test_product_cursors_chain_through_every_page(products: MemoryProductStore, first: int) -> None:
    pages = _all_product_pages(products, first)
    assert [p.sku for page in pages for p in page.items] == _EXPECTED_SKUS
    assert [page.has_next_page for page in pages] == [True] * (len(pages) - 1) + [False]
    assert products.list(first, None).has_next_page is (first < len(_EXPECTED_SKUS))


def test_vehicle_cursor_is_refused_for_products(vehicles: MemoryVehicleStore, products: MemoryProductStore) -> None:
    cursor = vehicles.list_by_status(AVAILABLE, 1, None).end_cursor
    assert cursor is not None
    with pytest.raises(ValidationFailed) as caught:
        products.list(2, cursor)
    assert caught.value.field == "after"


# --- versions and uniqueness -------------------------------------------------------------------------------


def test_added_vehicle_gets_version_one_and_each_save_the_next() -> None:
    store = MemoryVehicleStore(cursor_codec())
    added = store.add(make_vehicle())
    assert added.version == 1
    saved = store.save(replace(added, color="Preto"))
    assert saved.version == 2
    assert store.get(added.id) == saved


def test_adding_an_existing_vehicle_is_a_conflict(vehicles: MemoryVehicleStore) -> None:
    before = vehicles.get("v-01")
    with pytest.raises(Conflict) as caught:
        vehicles.add(make_vehicle(vehicle_id="v-01", price="1.00"))
    assert caught.value.code == "CONFLICT"
    assert vehicles.get("v-01") == before


def test_saving_from_a_stale_read_is_refused(vehicles: MemoryVehicleStore) -> None:
    # Given two readers of the same vehicle
    read_a = vehicles.get("v-01")
    read_b = vehicles.get("v-01")
    assert read_a is not None
    assert read_b is not None
    # When both save an edit, the first wins
    winner = vehicles.save(replace(read_a, color="Preto"))
    with pytest.raises(StaleVersion) as caught:
        vehicles.save(replace(read_b, color="Branco"))
    # Then the second is a conflict and the first edit stands
    assert caught.value.code == "CONFLICT"
    assert vehicles.get("v-01") == winner


def test_saving_an_unknown_vehicle_is_stale() -> None:
    with pytest.raises(StaleVersion):
        MemoryVehicleStore(cursor_codec()).save(make_vehicle(version=1))


def test_get_many_returns_only_the_vehicles_that_exist(vehicles: MemoryVehicleStore) -> None:
    found = vehicles.get_many(["v-01", "nope", "v-03", "v-01"])
    assert set(found) == {"v-01", "v-03"}
    assert found["v-03"] == vehicles.get("v-03")


def test_products_are_versioned_like_vehicles(products: MemoryProductStore) -> None:
    stored = products.get("PRD-1001")
    assert stored is not None
    assert stored.version == 1
    saved = products.save(replace(stored, stock_on_hand=3))
    assert saved.version == 2
    with pytest.raises(StaleVersion):
        products.save(replace(stored, stock_on_hand=4))
    assert products.get("PRD-1001") == saved
    with pytest.raises(Conflict) as caught:
        products.add(make_product(sku="PRD-1001"))
    assert caught.value.field == "sku"
    assert set(products.get_many(["PRD-1001", "NOPE"])) == {"PRD-1001"}
