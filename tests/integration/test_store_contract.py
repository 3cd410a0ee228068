"""The vehicle and product stores' one contract, held by both adapters: the in-memory stores (persistence/memory.py)
and the DynamoDB stores against moto over HTTP (persistence/repositories.py). Ordering, paging, cursors, versions and
uniqueness, each stated once and checked twice; what only the DynamoDB stores can show (the table's items, one
request per batch, registration races) is in test_dynamo_stores.py.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from decimal import Decimal
from typing import TypeVar

import pytest

from domain.catalog import Catalog
from domain.errors import Conflict, StaleVersion, ValidationFailed
from domain.order_status import VehicleStatus
from domain.pages import Page
from domain.ports import ProductStore, VehicleStore
from domain.products import Product, adjust_stock
from domain.vehicles import Vehicle, VehicleChanges, edit_vehicle
from graphql_api.wiring import new_id
from persistence.memory import MemoryProductStore, MemoryVehicleStore
from persistence.repositories import DynamoProductStore, DynamoVehicleStore
from runtime.clock import SystemClock
from tests.unit.factories import cursor_codec, make_product, make_vehicle

AVAILABLE = VehicleStatus.AVAILABLE
T = TypeVar("T")


@dataclass(frozen=True)
class Stores:
    """One adapter's vehicle and product stores, empty, their cursors signed with the factories' secret."""

    vehicles: VehicleStore
    products: ProductStore
    # A vehicle store of the same adapter whose cursors are signed with another secret.
    signed_with: Callable[[bytes], VehicleStore]

    @property
    def catalog(self) -> Catalog:
        return Catalog(vehicles=self.vehicles, products=self.products, clock=SystemClock(), new_id=new_id)


def _memory() -> Stores:
    return Stores(
        MemoryVehicleStore(cursor_codec()),
        MemoryProductStore(cursor_codec()),
        lambda secret: MemoryVehicleStore(cursor_codec(secret)),
    )


def _dynamo() -> Stores:
    return Stores(
        DynamoVehicleStore(cursor_codec()),
        DynamoProductStore(cursor_codec()),
        lambda secret: DynamoVehicleStore(cursor_codec(secret)),
    )


@pytest.fixture(params=["memory", "dynamo"])
def stores(request: pytest.FixtureRequest) -> Iterator[Stores]:
    if request.param == "memory":
        yield _memory()
        return
    # The integration services bind the models to the emulator's table, and empty it after the test.
    request.getfixturevalue("services")
    yield _dynamo()


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
def vehicles(stores: Stores) -> VehicleStore:
    store = stores.vehicles
    for vehicle_id, price, status in _STOCK:
        store.add(make_vehicle(vehicle_id=vehicle_id, price=price, status=status))
    return store


@pytest.fixture
def products(stores: Stores) -> ProductStore:
    store = stores.products
    for sku in ["PRD-30", "PRD-1001", "AB-1", "PRD-200", "ZZ", "PRD-1000"]:
        store.add(make_product(sku=sku))
    return store


def _ids(page: Page[Vehicle]) -> list[str]:
    return [vehicle.id for vehicle in page.items]


def _all_vehicle_pages(store: VehicleStore, status: VehicleStatus, first: int) -> list[Page[Vehicle]]:
    pages = [store.list_by_status(status, first, None)]
    while pages[-1].has_next_page:
        assert len(pages) <= 20, "pagination does not terminate"
        pages.append(store.list_by_status(status, first, pages[-1].end_cursor))
    return pages


def _all_product_pages(store: ProductStore, first: int) -> list[Page[Product]]:
    pages = [store.list(first, None)]
    while pages[-1].has_next_page:
        assert len(pages) <= 20, "pagination does not terminate"
        pages.append(store.list(first, pages[-1].end_cursor))
    return pages


# --- vehicle listing ---------------------------------------------------------------------------------------


def test_vehicles_are_listed_cheapest_first_with_ties_broken_by_id(vehicles: VehicleStore) -> None:
    # Given vehicles of several prices, four of them at 50000.00, in three statuses
    # When the available ones are listed in one page
    page = vehicles.list_by_status(AVAILABLE, 100, None)
    # Then they come cheapest first, numerically (9.99 before 10.00), the equal prices by id, and nothing else
    assert _ids(page) == _EXPECTED_AVAILABLE
    assert all(vehicle.status is AVAILABLE for vehicle in page.items)
    assert page.has_next_page is False
    assert len(page.cursors) == len(page.items)
    assert len(set(page.cursors)) == len(page.cursors)


def test_other_statuses_are_listed_separately(vehicles: VehicleStore) -> None:
    assert _ids(vehicles.list_by_status(VehicleStatus.RESERVED, 10, None)) == ["v-11"]
    assert _ids(vehicles.list_by_status(VehicleStatus.SOLD, 10, None)) == ["v-12"]


@pytest.mark.parametrize(
    ("first", "has_next_page"),
    [(1, True), (7, True), (8, False), (9, False), (100, False)],
)
def test_has_next_page_is_exact(vehicles: VehicleStore, first: int, has_next_page: bool) -> None:
    # Given 8 available vehicles
    # When a first page of `first` is read
    page = vehicles.list_by_status(AVAILABLE, first, None)
    # Then the page says whether there is more, even when the page ends exactly at the last vehicle
    assert _ids(page) == _EXPECTED_AVAILABLE[:first]
    assert page.has_next_page is has_next_page


@pytest.mark.parametrize("first", [1, 2, 3, 4, 7, 8])
def test_cursors_chain_through_every_page(vehicles: VehicleStore, first: int) -> None:
    # Given pages of `first` vehicles, each read after the previous page's end cursor
    pages = _all_vehicle_pages(vehicles, AVAILABLE, first)
    # Then together they hold every available vehicle once, in order, in full pages but the last
    assert [vid for page in pages for vid in _ids(page)] == _EXPECTED_AVAILABLE
    assert len(pages) == -(-len(_EXPECTED_AVAILABLE) // first)
    assert all(len(page.items) == first for page in pages[:-1])
    assert [page.has_next_page for page in pages] == [True] * (len(pages) - 1) + [False]


def test_any_items_cursor_resumes_right_after_it(vehicles: VehicleStore) -> None:
    page = vehicles.list_by_status(AVAILABLE, 100, None)
    for index, cursor in enumerate(page.cursors):
        rest = vehicles.list_by_status(AVAILABLE, 100, cursor)
        assert _ids(rest) == _EXPECTED_AVAILABLE[index + 1 :]
        assert rest.has_next_page is False


def test_cursor_of_the_last_vehicle_gives_an_empty_last_page(vehicles: VehicleStore) -> None:
    last = vehicles.list_by_status(AVAILABLE, 100, None).end_cursor
    page = vehicles.list_by_status(AVAILABLE, 5, last)
    assert page == Page(items=[], cursors=[], has_next_page=False)
    assert page.end_cursor is None


def test_empty_store_lists_an_empty_page(stores: Stores) -> None:
    page = stores.vehicles.list_by_status(AVAILABLE, 10, None)
    assert page == Page(items=[], cursors=[], has_next_page=False)
    assert page.end_cursor is None


def test_paging_continues_by_position_when_the_list_changes_between_pages(vehicles: VehicleStore) -> None:
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


def test_cursor_of_one_status_is_refused_for_another(vehicles: VehicleStore) -> None:
    cursor = vehicles.list_by_status(AVAILABLE, 2, None).end_cursor
    assert cursor is not None
    with pytest.raises(ValidationFailed) as caught:
        vehicles.list_by_status(VehicleStatus.SOLD, 2, cursor)
    assert caught.value.field == "after"
    assert caught.value.code == "VALIDATION"


def test_cursor_of_another_store_secret_is_refused(stores: Stores, vehicles: VehicleStore) -> None:
    other = stores.signed_with(b"another-secret")
    # Not one of the listed ids: the DynamoDB stores share one table, the in-memory ones do not.
    other.add(make_vehicle(vehicle_id="v-99"))
    cursor = other.list_by_status(AVAILABLE, 1, None).end_cursor
    assert cursor is not None
    with pytest.raises(ValidationFailed) as caught:
        vehicles.list_by_status(AVAILABLE, 2, cursor)
    assert caught.value.field == "after"
    assert caught.value.code == "VALIDATION"


def test_product_cursor_is_refused_for_vehicles(vehicles: VehicleStore, products: ProductStore) -> None:
    cursor = products.list(1, None).end_cursor
    assert cursor is not None
    with pytest.raises(ValidationFailed) as caught:
        vehicles.list_by_status(AVAILABLE, 2, cursor)
    assert caught.value.field == "after"
    assert caught.value.code == "VALIDATION"


# --- product listing ---------------------------------------------------------------------------------------


_EXPECTED_SKUS = ["AB-1", "PRD-1000", "PRD-1001", "PRD-200", "PRD-30", "ZZ"]


def test_products_are_listed_by_sku(products: ProductStore) -> None:
    page = products.list(100, None)
    assert [p.sku for p in page.items] == _EXPECTED_SKUS
    assert page.has_next_page is False


@pytest.mark.parametrize("first", [1, 2, 4, 5, 6])
def test_product_cursors_chain_through_every_page(products: ProductStore, first: int) -> None:
    pages = _all_product_pages(products, first)
    assert [p.sku for page in pages for p in page.items] == _EXPECTED_SKUS
    assert [page.has_next_page for page in pages] == [True] * (len(pages) - 1) + [False]
    assert products.list(first, None).has_next_page is (first < len(_EXPECTED_SKUS))


def test_vehicle_cursor_is_refused_for_products(vehicles: VehicleStore, products: ProductStore) -> None:
    cursor = vehicles.list_by_status(AVAILABLE, 1, None).end_cursor
    assert cursor is not None
    with pytest.raises(ValidationFailed) as caught:
        products.list(2, cursor)
    assert caught.value.field == "after"


# --- versions and uniqueness -------------------------------------------------------------------------------


def test_added_vehicle_gets_version_one_and_each_save_the_next(stores: Stores) -> None:
    store = stores.vehicles
    added = store.add(make_vehicle())
    assert added.version == 1
    saved = store.save(replace(added, color="Preto"))
    assert saved.version == 2
    assert store.get(added.id) == saved


def test_adding_an_existing_vehicle_is_a_conflict(vehicles: VehicleStore) -> None:
    before = vehicles.get("v-01")
    with pytest.raises(Conflict) as caught:
        vehicles.add(make_vehicle(vehicle_id="v-01", price="1.00"))
    assert caught.value.code == "CONFLICT"
    assert vehicles.get("v-01") == before


def test_saving_from_a_stale_read_is_refused(vehicles: VehicleStore) -> None:
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


def test_saving_an_unknown_vehicle_is_stale(stores: Stores) -> None:
    with pytest.raises(StaleVersion):
        stores.vehicles.save(make_vehicle(version=1))


def test_get_many_returns_only_the_vehicles_that_exist(vehicles: VehicleStore) -> None:
    found = vehicles.get_many(["v-01", "nope", "v-03", "v-01"])
    assert set(found) == {"v-01", "v-03"}
    assert found["v-03"] == vehicles.get("v-03")


def test_products_are_versioned_like_vehicles(products: ProductStore) -> None:
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


def add_vehicle(catalog: Catalog, price: str, *, brand: str = "Fiat", model: str = "Mobi") -> Vehicle:
    return catalog.create_vehicle(brand=brand, model=model, year=2022, color="Branco", price=Decimal(price))


def run_at_once(calls: list[Callable[[], T]]) -> list[T | BaseException]:
    """Run every call in its own thread, released together by a barrier; returns each result or error."""
    barrier = threading.Barrier(len(calls))

    def run(call: Callable[[], T]) -> T | BaseException:
        barrier.wait()
        try:
            return call()
        except Exception as error:  # noqa: BLE001 - the test inspects whatever each call raised
            return error

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(run, calls))


def cursor_with_flipped_char(cursor: str, part: str) -> str:
    """The cursor with one character of its body or its signature changed (mid-string, so no padding bits)."""
    body, _, signature = cursor.partition(".")
    target = body if part == "body" else signature
    index = len(target) // 2
    flipped = target[:index] + ("A" if target[index] != "A" else "B") + target[index + 1 :]
    return f"{flipped}.{signature}" if part == "body" else f"{body}.{flipped}"


def mark_sold(stores: Stores, vehicle: Vehicle) -> Vehicle:
    return stores.vehicles.save(replace(vehicle, status=VehicleStatus.SOLD))


def list_all(stores: Stores, status: VehicleStatus, *, first: int) -> Iterator[tuple[list[Vehicle], bool]]:
    """Follow endCursor page by page, as a client of the API does, yielding each page's items and hasNextPage."""
    after: str | None = None
    while True:
        page = stores.vehicles.list_by_status(status, first, after)
        yield page.items, page.has_next_page
        if not page.has_next_page:
            return
        after = page.end_cursor


# --- the catalog over each adapter: listing, cursors, batch reads, versions -------------------------------------


def test_available_vehicles_are_listed_cheapest_first_across_pages(stores: Stores) -> None:
    # Given seven available vehicles, three of them at the same price
    prices = ["80000.00", "45000.00", "45000.00", "120000.50", "45000.00", "99999.99", "60000.00"]
    created = [add_vehicle(stores.catalog, price) for price in prices]

    # When a client pages through them three at a time, following endCursor
    pages = list(list_all(stores, VehicleStatus.AVAILABLE, first=3))

    # Then it sees pages of 3, 3 and 1, every vehicle exactly once, cheapest first (ties in id order)
    assert [len(items) for items, _ in pages] == [3, 3, 1]
    assert [has_next for _, has_next in pages] == [True, True, False]
    seen = [vehicle for items, _ in pages for vehicle in items]
    assert [v.id for v in seen] == [v.id for v in sorted(created, key=lambda v: (v.price.amount, v.id))]
    assert len({v.id for v in seen}) == len(created)
    amounts = [v.price.amount for v in seen]
    assert amounts == sorted(amounts)
    assert Decimal("120000.50") in amounts
    # And what is listed is what was stored, field for field
    assert {v.id: v for v in seen} == {v.id: v for v in created}


def test_sold_and_available_vehicles_are_listed_separately(stores: Stores) -> None:
    # Given four vehicles, two of which were sold
    first, second, third, fourth = (
        add_vehicle(stores.catalog, price) for price in ("50000.00", "60000.00", "70000.00", "80000.00")
    )
    sold = [mark_sold(stores, second), mark_sold(stores, fourth)]

    # When each list is read
    available = stores.vehicles.list_by_status(VehicleStatus.AVAILABLE, 10, None)
    sold_page = stores.vehicles.list_by_status(VehicleStatus.SOLD, 10, None)
    reserved = stores.vehicles.list_by_status(VehicleStatus.RESERVED, 10, None)

    # Then each vehicle shows up only in the list of its status
    assert [v.id for v in available.items] == [first.id, third.id]
    assert [v.id for v in sold_page.items] == [v.id for v in sold]
    assert all(v.status is VehicleStatus.SOLD for v in sold_page.items)
    assert reserved.items == []
    assert not reserved.has_next_page
    assert reserved.end_cursor is None


def test_has_next_page_is_false_when_the_count_is_a_multiple_of_the_page_size(stores: Stores) -> None:
    # Given exactly two pages' worth of vehicles
    for price in ("10000.00", "20000.00", "30000.00", "40000.00", "50000.00", "60000.00"):
        add_vehicle(stores.catalog, price)

    # When the client reads page one and then page two
    page_one = stores.vehicles.list_by_status(VehicleStatus.AVAILABLE, 3, None)
    page_two = stores.vehicles.list_by_status(VehicleStatus.AVAILABLE, 3, page_one.end_cursor)

    # Then page one promises more, and the full second page says it is the last one
    assert page_one.has_next_page
    assert len(page_two.items) == 3
    assert not page_two.has_next_page
    # And following the last cursor anyway gives an empty last page rather than an error
    beyond = stores.vehicles.list_by_status(VehicleStatus.AVAILABLE, 3, page_two.end_cursor)
    assert beyond.items == []
    assert not beyond.has_next_page


def test_a_cursor_of_the_sold_list_is_refused_on_the_available_list(stores: Stores) -> None:
    # Given sold and available vehicles, and a cursor taken from the sold list
    for price in ("10000.00", "20000.00"):
        mark_sold(stores, add_vehicle(stores.catalog, price))
    add_vehicle(stores.catalog, "30000.00")
    sold_cursor = stores.vehicles.list_by_status(VehicleStatus.SOLD, 1, None).end_cursor
    assert sold_cursor is not None

    # When it is handed to the available list
    with pytest.raises(ValidationFailed) as refused:
        stores.vehicles.list_by_status(VehicleStatus.AVAILABLE, 1, sold_cursor)

    # Then it is refused, naming the `after` argument
    assert refused.value.field == "after"
    assert refused.value.code == "VALIDATION"
    # While it still works on the list it came from
    assert len(stores.vehicles.list_by_status(VehicleStatus.SOLD, 1, sold_cursor).items) == 1


@pytest.mark.parametrize("part", ["body", "signature"])
def test_a_tampered_cursor_is_refused(stores: Stores, part: str) -> None:
    # Given a genuine cursor with one character changed
    for price in ("10000.00", "20000.00"):
        add_vehicle(stores.catalog, price)
    cursor = stores.vehicles.list_by_status(VehicleStatus.AVAILABLE, 1, None).end_cursor
    assert cursor is not None
    tampered = cursor_with_flipped_char(cursor, part)
    assert tampered != cursor

    # When it is used to page, then it is refused, naming `after`
    with pytest.raises(ValidationFailed) as refused:
        stores.vehicles.list_by_status(VehicleStatus.AVAILABLE, 1, tampered)
    assert refused.value.field == "after"


@pytest.mark.parametrize("garbage", ["not-a-cursor", "", ".", "e30.e30", "%%%.###"])
def test_a_made_up_cursor_is_refused(stores: Stores, garbage: str) -> None:
    with pytest.raises(ValidationFailed) as refused:
        stores.vehicles.list_by_status(VehicleStatus.AVAILABLE, 1, garbage)
    assert refused.value.field == "after"


def test_get_many_of_nothing_known_is_empty(stores: Stores) -> None:
    assert stores.vehicles.get_many(["ghost-1", "ghost-2"]) == {}
    assert stores.products.get_many(["PRD-0000"]) == {}


def test_get_many_of_no_ids_is_empty(stores: Stores) -> None:
    add_vehicle(stores.catalog, "10000.00")
    assert stores.vehicles.get_many([]) == {}
    assert stores.products.get_many([]) == {}


def test_products_get_many_returns_only_existing_skus(stores: Stores) -> None:
    kept = stores.catalog.create_product(sku="PRD-1001", description="Tapete", unit_price="10.00", initial_stock=3)
    assert stores.products.get_many(["PRD-1001", "PRD-9999"]) == {"PRD-1001": kept}


def test_the_second_of_two_concurrent_vehicle_edits_is_refused_as_stale(stores: Stores) -> None:
    # Given two admins who read the same vehicle
    vehicle = add_vehicle(stores.catalog, "50000.00")
    assert vehicle.version == 1
    first_copy = stores.vehicles.get(vehicle.id)
    second_copy = stores.vehicles.get(vehicle.id)
    assert first_copy is not None
    assert second_copy is not None
    now = datetime.now(UTC)

    # When the first saves a new colour
    saved = stores.vehicles.save(edit_vehicle(first_copy, VehicleChanges(color="Azul"), now=now))

    # Then it is stored with the next version
    assert saved.version == 2
    assert saved.color == "Azul"

    # And when the second saves from its stale copy, it is refused as a conflict
    with pytest.raises(StaleVersion) as refused:
        stores.vehicles.save(edit_vehicle(second_copy, VehicleChanges(price="1.00"), now=now))
    assert isinstance(refused.value, Conflict)
    assert refused.value.code == "CONFLICT"
    # And the first edit is what stays
    assert stores.vehicles.get(vehicle.id) == saved


def test_the_second_of_two_concurrent_product_edits_is_refused_as_stale(stores: Stores) -> None:
    # Given two readers of the same product
    product = stores.catalog.create_product(sku="PRD-1001", description="Tapete", unit_price="10.00", initial_stock=5)
    assert product.version == 1
    first_copy = stores.products.get("PRD-1001")
    second_copy = stores.products.get("PRD-1001")
    assert first_copy is not None
    assert second_copy is not None
    now = datetime.now(UTC)

    # When the first adds stock
    saved = stores.products.save(adjust_stock(first_copy, 3, now=now))
    assert saved.version == 2
    assert saved.stock_on_hand == 8

    # Then the second, saving from its stale copy, is refused and the first change stays
    with pytest.raises(StaleVersion) as refused:
        stores.products.save(adjust_stock(second_copy, -1, now=now))
    assert refused.value.code == "CONFLICT"
    assert stores.products.get("PRD-1001") == saved


def test_saving_a_vehicle_that_was_never_stored_is_refused(stores: Stores) -> None:
    # Given a vehicle read once, then imagined under another id that was never stored
    vehicle = add_vehicle(stores.catalog, "50000.00")
    ghost = replace(vehicle, id="never-stored")

    # When it is saved, then nothing is created behind the catalog's back
    with pytest.raises(StaleVersion):
        stores.vehicles.save(ghost)
    assert stores.vehicles.get("never-stored") is None


def test_a_sold_vehicle_cannot_be_edited_and_stays_as_it_was(stores: Stores) -> None:
    # Given a sold vehicle
    sold = mark_sold(stores, add_vehicle(stores.catalog, "50000.00"))

    # When an admin tries to change its price
    with pytest.raises(Conflict) as refused:
        stores.catalog.update_vehicle(sold.id, VehicleChanges(price="1.00", color="Azul"))

    # Then the edit is refused and the stored vehicle is unchanged
    assert "sold" in refused.value.message
    assert stores.vehicles.get(sold.id) == sold


def test_catalog_edit_of_an_available_vehicle_is_stored(stores: Stores) -> None:
    vehicle = add_vehicle(stores.catalog, "50000.00")
    edited = stores.catalog.update_vehicle(vehicle.id, VehicleChanges(price="45000.00"))
    assert edited.version == vehicle.version + 1
    assert stores.vehicles.get(vehicle.id) == edited
    # The list index follows the new price
    listed = stores.vehicles.list_by_status(VehicleStatus.AVAILABLE, 10, None).items
    assert [v.price.amount for v in listed] == [Decimal("45000.00")]


def test_a_duplicate_sku_is_refused_and_the_first_product_stays(stores: Stores) -> None:
    # Given a product
    original = stores.catalog.create_product(sku="PRD-1001", description="Tapete", unit_price="10.00", initial_stock=5)

    # When another product is created with the same SKU (typed in lower case)
    with pytest.raises(Conflict) as refused:
        stores.catalog.create_product(sku="prd-1001", description="Outro", unit_price="99.00", initial_stock=1)

    # Then the SKU is named as taken and the first product is unchanged
    assert refused.value.field == "sku"
    assert stores.products.get("PRD-1001") == original


def test_stock_cannot_be_adjusted_below_what_orders_reserved(stores: Stores) -> None:
    # Given 10 units on hand, 4 of them reserved by orders
    created = stores.catalog.create_product(sku="PRD-1001", description="Tapete", unit_price="10.00", initial_stock=10)
    reserved = stores.products.save(replace(created, stock_reserved=4))

    # When an admin removes 7 units
    with pytest.raises(ValidationFailed) as refused:
        stores.catalog.adjust_stock("PRD-1001", -7)

    # Then it is refused on `delta` and the stock is as it was
    assert refused.value.field == "delta"
    assert stores.products.get("PRD-1001") == reserved
    # While removing down to the reservation is allowed
    assert stores.catalog.adjust_stock("PRD-1001", -6).stock_on_hand == 4


def test_products_are_listed_in_sku_order_and_refuse_a_vehicle_cursor(stores: Stores) -> None:
    # Given three products and some vehicles in the same table
    for sku in ("PRD-3003", "PRD-1001", "PRD-2002"):
        stores.catalog.create_product(sku=sku, description="Peça", unit_price="10.00", initial_stock=1)
    for price in ("10000.00", "20000.00"):
        add_vehicle(stores.catalog, price)

    # When the products are paged two at a time
    page_one = stores.products.list(2, None)
    page_two = stores.products.list(2, page_one.end_cursor)

    # Then they come in SKU order, without vehicles
    assert [p.sku for p in page_one.items] == ["PRD-1001", "PRD-2002"]
    assert page_one.has_next_page
    assert [p.sku for p in page_two.items] == ["PRD-3003"]
    assert not page_two.has_next_page
    # And a cursor of the vehicle list does not page through products
    vehicle_cursor = stores.vehicles.list_by_status(VehicleStatus.AVAILABLE, 1, None).end_cursor
    assert vehicle_cursor is not None
    with pytest.raises(ValidationFailed) as refused:
        stores.products.list(2, vehicle_cursor)
    assert refused.value.field == "after"


def test_concurrent_stock_deliveries_lose_no_update(stores: Stores) -> None:
    # Given a product with 5 units
    initial = stores.catalog.create_product(sku="PRD-1001", description="Tapete", unit_price="10.00", initial_stock=5)

    # When ten deliveries of one unit are recorded at the same moment
    outcomes = run_at_once([lambda: stores.catalog.adjust_stock("PRD-1001", 1) for _ in range(10)])

    # Then a delivery either lands or is refused as stale after its retries, nothing else
    errors = [outcome for outcome in outcomes if isinstance(outcome, BaseException)]
    assert all(isinstance(error, StaleVersion) for error in errors), errors
    successes = len(outcomes) - len(errors)
    assert successes >= 1
    # And every delivery that was accepted is counted: no update is lost
    final = stores.products.get("PRD-1001")
    assert final is not None
    assert final.stock_on_hand == initial.stock_on_hand + successes
    assert final.version == initial.version + successes
    landed = sorted(outcome.stock_on_hand for outcome in outcomes if not isinstance(outcome, BaseException))
    assert landed == list(range(initial.stock_on_hand + 1, initial.stock_on_hand + successes + 1))
