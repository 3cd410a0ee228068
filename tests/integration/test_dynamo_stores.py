"""The DynamoDB stores against moto over HTTP: paging, cursors, optimistic locking, uniqueness and races."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, TypeVar
from unittest.mock import patch

import boto3
import pytest
from mypy_boto3_dynamodb import DynamoDBClient
from pynamodb.connection import Connection

from domain.clients import AddressInput, Client
from domain.errors import Conflict, StaleVersion, ValidationFailed
from domain.order_status import VehicleStatus
from domain.products import adjust_stock
from domain.registration import RegistrationInput, register
from domain.values import Cpf, Email
from domain.vehicles import Vehicle, VehicleChanges, edit_vehicle
from graphql_api.wiring import Services
from persistence import schema
from runtime.settings import Settings

T = TypeVar("T")

CPF_MARIANA = "529.982.247-25"
CPF_JOAO = "111.444.777-35"
CPF_ANA = "390.533.447-05"

ADDRESS = AddressInput(
    street="Rua Augusta",
    number="1500",
    complement="Apto 42",
    neighborhood="Consolação",
    city="São Paulo",
    state="SP",
    zip_code="01304-001",
)


# --- helpers -------------------------------------------------------------------------------------------------


def make_cpf(first_nine: str) -> str:
    return Cpf.complete(first_nine).value


@pytest.fixture
def dynamodb(emulator: str) -> DynamoDBClient:
    return boto3.client("dynamodb", endpoint_url=emulator)


def table_keys(dynamodb: DynamoDBClient, table_name: str) -> set[str]:
    """Every partition key in the table (a test-only scan, to see exactly what was written)."""
    keys: set[str] = set()
    for page in dynamodb.get_paginator("scan").paginate(TableName=table_name, ProjectionExpression="PK"):
        keys.update(item[schema.PARTITION_KEY]["S"] for item in page["Items"])
    return keys


def add_vehicle(services: Services, price: str, *, brand: str = "Fiat", model: str = "Mobi") -> Vehicle:
    return services.catalog.create_vehicle(brand=brand, model=model, year=2022, color="Branco", price=Decimal(price))


def mark_sold(services: Services, vehicle: Vehicle) -> Vehicle:
    return services.vehicles.save(replace(vehicle, status=VehicleStatus.SOLD))


def list_all(services: Services, status: VehicleStatus, *, first: int) -> Iterator[tuple[list[Vehicle], bool]]:
    """Follow endCursor page by page, as a client of the API does, yielding each page's items and hasNextPage."""
    after: str | None = None
    while True:
        page = services.vehicles.list_by_status(status, first, after)
        yield page.items, page.has_next_page
        if not page.has_next_page:
            return
        after = page.end_cursor


def register_user(
    services: Services, *, user_id: str, email: str, cpf: str, name: str = "Ana Souza", address: AddressInput = ADDRESS
) -> Callable[[], Client]:
    def call() -> Client:
        return register(
            services.clients,
            services.clock,
            user_id=user_id,
            user_email=email,
            data=RegistrationInput(name=name, cpf=cpf, phone="(11) 98765-4321", address=address),
        )

    return call


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


# --- vehicles: listing by status ------------------------------------------------------------------------------


def test_available_vehicles_are_listed_cheapest_first_across_pages(services: Services) -> None:
    # Given seven available vehicles, three of them at the same price
    prices = ["80000.00", "45000.00", "45000.00", "120000.50", "45000.00", "99999.99", "60000.00"]
    created = [add_vehicle(services, price) for price in prices]

    # When a client pages through them three at a time, following endCursor
    pages = list(list_all(services, VehicleStatus.AVAILABLE, first=3))

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


def test_sold_and_available_vehicles_are_listed_separately(services: Services) -> None:
    # Given four vehicles, two of which were sold
    first, second, third, fourth = (
        add_vehicle(services, price) for price in ("50000.00", "60000.00", "70000.00", "80000.00")
    )
    sold = [mark_sold(services, second), mark_sold(services, fourth)]

    # When each list is read
    available = services.vehicles.list_by_status(VehicleStatus.AVAILABLE, 10, None)
    sold_page = services.vehicles.list_by_status(VehicleStatus.SOLD, 10, None)
    reserved = services.vehicles.list_by_status(VehicleStatus.RESERVED, 10, None)

    # Then each vehicle shows up only in the list of its status
    assert [v.id for v in available.items] == [first.id, third.id]
    assert [v.id for v in sold_page.items] == [v.id for v in sold]
    assert all(v.status is VehicleStatus.SOLD for v in sold_page.items)
    assert reserved.items == []
    assert not reserved.has_next_page
    assert reserved.end_cursor is None


def test_has_next_page_is_false_when_the_count_is_a_multiple_of_the_page_size(services: Services) -> None:
    # Given exactly two pages' worth of vehicles
    for price in ("10000.00", "20000.00", "30000.00", "40000.00", "50000.00", "60000.00"):
        add_vehicle(services, price)

    # When the client reads page one and then page two
    page_one = services.vehicles.list_by_status(VehicleStatus.AVAILABLE, 3, None)
    page_two = services.vehicles.list_by_status(VehicleStatus.AVAILABLE, 3, page_one.end_cursor)

    # Then page one promises more, and the full second page says it is the last one
    assert page_one.has_next_page
    assert len(page_two.items) == 3
    assert not page_two.has_next_page
    # And following the last cursor anyway gives an empty last page rather than an error
    beyond = services.vehicles.list_by_status(VehicleStatus.AVAILABLE, 3, page_two.end_cursor)
    assert beyond.items == []
    assert not beyond.has_next_page


def test_vehicle_list_holds_only_vehicles_of_that_status_in_a_shared_table(
    services: Services, settings: Settings, dynamodb: DynamoDBClient
) -> None:
    # Given a table that also holds a client (with its unique markers) and products
    cheap = add_vehicle(services, "30000.00")
    dear = add_vehicle(services, "90000.00")
    services.catalog.create_product(sku="PRD-1001", description="Tapete", unit_price=Decimal("1.00"), initial_stock=5)
    services.catalog.create_product(sku="PRD-2002", description="Câmera", unit_price=Decimal("2.00"), initial_stock=5)
    register_user(services, user_id="user-1", email="ana@example.com", cpf=CPF_ANA)()

    # When the available vehicles are listed
    page = services.vehicles.list_by_status(VehicleStatus.AVAILABLE, 10, None)

    # Then only the vehicles show up, cheapest first
    assert [v.id for v in page.items] == [cheap.id, dear.id]
    assert not page.has_next_page
    # And the list index holds exactly those vehicles, in that order, under their status
    indexed = dynamodb.query(
        TableName=settings.table_name,
        IndexName=schema.LIST_INDEX,
        KeyConditionExpression="GSI1PK = :status",
        ExpressionAttributeValues={":status": {"S": "VEHICLES#AVAILABLE"}},
    )["Items"]
    assert [item["id"]["S"] for item in indexed] == [cheap.id, dear.id]


# --- vehicles: cursors ------------------------------------------------------------------------------------------


def test_a_cursor_of_the_sold_list_is_refused_on_the_available_list(services: Services) -> None:
    # Given sold and available vehicles, and a cursor taken from the sold list
    for price in ("10000.00", "20000.00"):
        mark_sold(services, add_vehicle(services, price))
    add_vehicle(services, "30000.00")
    sold_cursor = services.vehicles.list_by_status(VehicleStatus.SOLD, 1, None).end_cursor
    assert sold_cursor is not None

    # When it is handed to the available list
    with pytest.raises(ValidationFailed) as refused:
        services.vehicles.list_by_status(VehicleStatus.AVAILABLE, 1, sold_cursor)

    # Then it is refused, naming the `after` argument
    assert refused.value.field == "after"
    assert refused.value.code == "VALIDATION"
    # While it still works on the list it came from
    assert len(services.vehicles.list_by_status(VehicleStatus.SOLD, 1, sold_cursor).items) == 1


@pytest.mark.parametrize("part", ["body", "signature"])
def test_a_tampered_cursor_is_refused(services: Services, part: str) -> None:
    # Given a genuine cursor with one character changed
    for price in ("10000.00", "20000.00"):
        add_vehicle(services, price)
    cursor = services.vehicles.list_by_status(VehicleStatus.AVAILABLE, 1, None).end_cursor
    assert cursor is not None
    tampered = cursor_with_flipped_char(cursor, part)
    assert tampered != cursor

    # When it is used to page, then it is refused, naming `after`
    with pytest.raises(ValidationFailed) as refused:
        services.vehicles.list_by_status(VehicleStatus.AVAILABLE, 1, tampered)
    assert refused.value.field == "after"


@pytest.mark.parametrize("garbage", ["not-a-cursor", "", ".", "e30.e30", "%%%.###"])
def test_a_made_up_cursor_is_refused(services: Services, garbage: str) -> None:
    with pytest.raises(ValidationFailed) as refused:
        services.vehicles.list_by_status(VehicleStatus.AVAILABLE, 1, garbage)
    assert refused.value.field == "after"


# --- vehicles: batch reads ----------------------------------------------------------------------------------


def test_get_many_returns_only_the_vehicles_that_exist_in_one_batch_request(services: Services) -> None:
    # Given three stored vehicles
    one, two, three = (add_vehicle(services, price) for price in ("10000.00", "20000.00", "30000.00"))
    requests: list[str] = []
    make_api_call = Connection._make_api_call

    def spy(connection: Connection, operation: str, kwargs: dict[str, Any]) -> dict[str, Any]:
        requests.append(operation)
        return make_api_call(connection, operation, kwargs)

    # When two of them, an unknown id and a repeated id are asked for
    with patch.object(Connection, "_make_api_call", autospec=True, side_effect=spy):
        found = services.vehicles.get_many([one.id, "no-such-vehicle", three.id, one.id])

    # Then exactly the two existing vehicles come back, from one BatchGetItem
    assert found == {one.id: one, three.id: three}
    assert two.id not in found
    assert requests == ["BatchGetItem"]


def test_get_many_of_nothing_known_is_empty(services: Services) -> None:
    assert services.vehicles.get_many(["ghost-1", "ghost-2"]) == {}
    assert services.products.get_many(["PRD-0000"]) == {}


def test_get_many_of_no_ids_is_empty(services: Services) -> None:
    add_vehicle(services, "10000.00")
    assert services.vehicles.get_many([]) == {}
    assert services.products.get_many([]) == {}


def test_products_get_many_returns_only_existing_skus(services: Services) -> None:
    kept = services.catalog.create_product(sku="PRD-1001", description="Tapete", unit_price="10.00", initial_stock=3)
    assert services.products.get_many(["PRD-1001", "PRD-9999"]) == {"PRD-1001": kept}


# --- optimistic locking -------------------------------------------------------------------------------------


def test_the_second_of_two_concurrent_vehicle_edits_is_refused_as_stale(services: Services) -> None:
    # Given two admins who read the same vehicle
    vehicle = add_vehicle(services, "50000.00")
    assert vehicle.version == 1
    first_copy = services.vehicles.get(vehicle.id)
    second_copy = services.vehicles.get(vehicle.id)
    assert first_copy is not None
    assert second_copy is not None
    now = datetime.now(UTC)

    # When the first saves a new colour
    saved = services.vehicles.save(edit_vehicle(first_copy, VehicleChanges(color="Azul"), now=now))

    # Then it is stored with the next version
    assert saved.version == 2
    assert saved.color == "Azul"

    # And when the second saves from its stale copy, it is refused as a conflict
    with pytest.raises(StaleVersion) as refused:
        services.vehicles.save(edit_vehicle(second_copy, VehicleChanges(price="1.00"), now=now))
    assert isinstance(refused.value, Conflict)
    assert refused.value.code == "CONFLICT"
    # And the first edit is what stays
    assert services.vehicles.get(vehicle.id) == saved


def test_the_second_of_two_concurrent_product_edits_is_refused_as_stale(services: Services) -> None:
    # Given two readers of the same product
    product = services.catalog.create_product(sku="PRD-1001", description="Tapete", unit_price="10.00", initial_stock=5)
    assert product.version == 1
    first_copy = services.products.get("PRD-1001")
    second_copy = services.products.get("PRD-1001")
    assert first_copy is not None
    assert second_copy is not None
    now = datetime.now(UTC)

    # When the first adds stock
    saved = services.products.save(adjust_stock(first_copy, 3, now=now))
    assert saved.version == 2
    assert saved.stock_on_hand == 8

    # Then the second, saving from its stale copy, is refused and the first change stays
    with pytest.raises(StaleVersion) as refused:
        services.products.save(adjust_stock(second_copy, -1, now=now))
    assert refused.value.code == "CONFLICT"
    assert services.products.get("PRD-1001") == saved


def test_saving_a_vehicle_that_was_never_stored_is_refused(services: Services) -> None:
    # Given a vehicle read once, then imagined under another id that was never stored
    vehicle = add_vehicle(services, "50000.00")
    ghost = replace(vehicle, id="never-stored")

    # When it is saved, then nothing is created behind the catalog's back
    with pytest.raises(StaleVersion):
        services.vehicles.save(ghost)
    assert services.vehicles.get("never-stored") is None


def test_a_sold_vehicle_cannot_be_edited_and_stays_as_it_was(services: Services) -> None:
    # Given a sold vehicle
    sold = mark_sold(services, add_vehicle(services, "50000.00"))

    # When an admin tries to change its price
    with pytest.raises(Conflict) as refused:
        services.catalog.update_vehicle(sold.id, VehicleChanges(price="1.00", color="Azul"))

    # Then the edit is refused and the stored vehicle is unchanged
    assert "sold" in refused.value.message
    assert services.vehicles.get(sold.id) == sold


def test_catalog_edit_of_an_available_vehicle_is_stored(services: Services) -> None:
    vehicle = add_vehicle(services, "50000.00")
    edited = services.catalog.update_vehicle(vehicle.id, VehicleChanges(price="45000.00"))
    assert edited.version == vehicle.version + 1
    assert services.vehicles.get(vehicle.id) == edited
    # The list index follows the new price
    listed = services.vehicles.list_by_status(VehicleStatus.AVAILABLE, 10, None).items
    assert [v.price.amount for v in listed] == [Decimal("45000.00")]


# --- client registration ------------------------------------------------------------------------------------


def test_a_registered_client_is_stored_with_its_email_and_cpf_claimed(
    services: Services, settings: Settings, dynamodb: DynamoDBClient
) -> None:
    # When a signed-in user registers
    client = register_user(services, user_id="user-1", email="Ana@Example.com", cpf=CPF_ANA)()

    # Then the client reads back as registered, and its email and CPF are claimed
    assert services.clients.get("user-1") == client
    assert table_keys(dynamodb, settings.table_name) == {
        "CLIENT#user-1",
        "CLIENT_EMAIL#ana@example.com",
        f"CLIENT_CPF#{Cpf.parse(CPF_ANA).value}",
    }


def test_a_client_without_an_address_complement_reads_back_without_one(services: Services) -> None:
    client = register_user(
        services, user_id="user-1", email="ana@example.com", cpf=CPF_ANA, address=replace(ADDRESS, complement=None)
    )()

    stored = services.clients.get("user-1")
    assert stored is not None

    assert stored == client
    assert stored.address.complement is None


def test_an_email_registered_by_another_user_is_refused_and_nothing_is_written(
    services: Services, settings: Settings, dynamodb: DynamoDBClient
) -> None:
    # Given a client registered with ana@example.com
    register_user(services, user_id="user-1", email="ana@example.com", cpf=CPF_ANA)()
    before = table_keys(dynamodb, settings.table_name)

    # When another user registers with that email (in another case) and a fresh CPF
    with pytest.raises(Conflict) as refused:
        register_user(services, user_id="user-2", email="ANA@example.com", cpf=CPF_JOAO)()

    # Then the email is named as taken, and neither the client nor its CPF claim was written
    assert refused.value.field == "email"
    assert refused.value.code == "CONFLICT"
    assert services.clients.get("user-2") is None
    assert table_keys(dynamodb, settings.table_name) == before


def test_a_cpf_registered_by_another_user_is_refused_and_nothing_is_written(
    services: Services, settings: Settings, dynamodb: DynamoDBClient
) -> None:
    # Given a client registered with a CPF
    register_user(services, user_id="user-1", email="ana@example.com", cpf=CPF_ANA)()
    before = table_keys(dynamodb, settings.table_name)

    # When another user registers with the same CPF written without punctuation
    with pytest.raises(Conflict) as refused:
        register_user(services, user_id="user-2", email="joao@example.com", cpf=Cpf.parse(CPF_ANA).value)()

    # Then the CPF is named as taken, and neither the client nor its email claim was written
    assert refused.value.field == "cpf"
    assert services.clients.get("user-2") is None
    assert table_keys(dynamodb, settings.table_name) == before


def test_registering_the_same_user_twice_is_refused_and_nothing_is_written(
    services: Services, settings: Settings, dynamodb: DynamoDBClient
) -> None:
    # Given a registered client
    first = register_user(services, user_id="user-1", email="ana@example.com", cpf=CPF_ANA)()
    before = table_keys(dynamodb, settings.table_name)

    # When the same user registers again, even with other details
    with pytest.raises(Conflict) as refused:
        register_user(services, user_id="user-1", email="ana@example.com", cpf=CPF_JOAO, name="Outra")()

    # Then it is refused as already registered, and the stored client is untouched
    assert refused.value.field is None
    assert "already registered" in refused.value.message
    assert services.clients.get("user-1") == first
    assert table_keys(dynamodb, settings.table_name) == before


def test_the_store_refuses_a_second_client_record_for_one_user_atomically(
    services: Services, settings: Settings, dynamodb: DynamoDBClient
) -> None:
    # Given a registered client (the domain's pre-check is bypassed: two requests can race past it)
    first = register_user(services, user_id="user-1", email="ana@example.com", cpf=CPF_ANA)()
    before = table_keys(dynamodb, settings.table_name)
    retry = replace(first, email=Email.parse("other@example.com"), cpf=Cpf.parse(CPF_MARIANA))

    # When the store is asked to register the same user with a new email and CPF
    with pytest.raises(Conflict) as refused:
        services.clients.register(retry)

    # Then the transaction is refused as a re-registration, claiming neither new value
    assert refused.value.field is None
    assert table_keys(dynamodb, settings.table_name) == before


def test_of_eight_users_racing_for_one_cpf_exactly_one_is_registered(
    services: Services, settings: Settings, dynamodb: DynamoDBClient
) -> None:
    # Given eight different users about to register with the same CPF at the same moment
    cpf = make_cpf("123456789")
    calls = [register_user(services, user_id=f"user-{n}", email=f"user{n}@example.com", cpf=cpf) for n in range(8)]

    # When they all register at once
    outcomes = run_at_once(calls)

    # Then exactly one succeeds, and each of the others is told the CPF is taken
    errors = [outcome for outcome in outcomes if isinstance(outcome, BaseException)]
    assert len(outcomes) - len(errors) == 1
    assert all(isinstance(error, Conflict) and error.field == "cpf" for error in errors), errors
    # And the table holds one client, one email claim and one CPF claim, owned by the winner
    winner = next(n for n, outcome in enumerate(outcomes) if not isinstance(outcome, BaseException))
    assert table_keys(dynamodb, settings.table_name) == {
        f"CLIENT#user-{winner}",
        f"CLIENT_EMAIL#user{winner}@example.com",
        f"CLIENT_CPF#{cpf}",
    }
    marker = dynamodb.get_item(
        TableName=settings.table_name,
        Key={"PK": {"S": f"CLIENT_CPF#{cpf}"}, "SK": {"S": "UNIQUE"}},
        ConsistentRead=True,
    )["Item"]
    assert marker["owner_id"]["S"] == f"user-{winner}"


def test_a_double_submitted_registration_stores_the_client_once(
    services: Services, settings: Settings, dynamodb: DynamoDBClient
) -> None:
    # Given one user whose registration form is submitted four times at once
    calls = [register_user(services, user_id="user-1", email="ana@example.com", cpf=CPF_ANA) for _ in range(4)]

    # When the submissions race
    outcomes = run_at_once(calls)

    # Then one registers the client and the others are told it is already registered
    errors = [outcome for outcome in outcomes if isinstance(outcome, BaseException)]
    assert len(errors) == 3
    assert all(isinstance(error, Conflict) and error.field is None for error in errors), errors
    assert table_keys(dynamodb, settings.table_name) == {
        "CLIENT#user-1",
        "CLIENT_EMAIL#ana@example.com",
        f"CLIENT_CPF#{Cpf.parse(CPF_ANA).value}",
    }


# --- products -----------------------------------------------------------------------------------------------


def test_a_duplicate_sku_is_refused_and_the_first_product_stays(services: Services) -> None:
    # Given a product
    original = services.catalog.create_product(
        sku="PRD-1001", description="Tapete", unit_price="10.00", initial_stock=5
    )

    # When another product is created with the same SKU (typed in lower case)
    with pytest.raises(Conflict) as refused:
        services.catalog.create_product(sku="prd-1001", description="Outro", unit_price="99.00", initial_stock=1)

    # Then the SKU is named as taken and the first product is unchanged
    assert refused.value.field == "sku"
    assert services.products.get("PRD-1001") == original


def test_stock_cannot_be_adjusted_below_what_orders_reserved(services: Services) -> None:
    # Given 10 units on hand, 4 of them reserved by orders
    created = services.catalog.create_product(
        sku="PRD-1001", description="Tapete", unit_price="10.00", initial_stock=10
    )
    reserved = services.products.save(replace(created, stock_reserved=4))

    # When an admin removes 7 units
    with pytest.raises(ValidationFailed) as refused:
        services.catalog.adjust_stock("PRD-1001", -7)

    # Then it is refused on `delta` and the stock is as it was
    assert refused.value.field == "delta"
    assert services.products.get("PRD-1001") == reserved
    # While removing down to the reservation is allowed
    assert services.catalog.adjust_stock("PRD-1001", -6).stock_on_hand == 4


def test_products_are_listed_in_sku_order_and_refuse_a_vehicle_cursor(services: Services) -> None:
    # Given three products and some vehicles in the same table
    for sku in ("PRD-3003", "PRD-1001", "PRD-2002"):
        services.catalog.create_product(sku=sku, description="Peça", unit_price="10.00", initial_stock=1)
    for price in ("10000.00", "20000.00"):
        add_vehicle(services, price)

    # When the products are paged two at a time
    page_one = services.products.list(2, None)
    page_two = services.products.list(2, page_one.end_cursor)

    # Then they come in SKU order, without vehicles
    assert [p.sku for p in page_one.items] == ["PRD-1001", "PRD-2002"]
    assert page_one.has_next_page
    assert [p.sku for p in page_two.items] == ["PRD-3003"]
    assert not page_two.has_next_page
    # And a cursor of the vehicle list does not page through products
    vehicle_cursor = services.vehicles.list_by_status(VehicleStatus.AVAILABLE, 1, None).end_cursor
    assert vehicle_cursor is not None
    with pytest.raises(ValidationFailed) as refused:
        services.products.list(2, vehicle_cursor)
    assert refused.value.field == "after"


def test_concurrent_stock_deliveries_lose_no_update(services: Services) -> None:
    # Given a product with 5 units
    initial = services.catalog.create_product(sku="PRD-1001", description="Tapete", unit_price="10.00", initial_stock=5)

    # When ten deliveries of one unit are recorded at the same moment
    outcomes = run_at_once([lambda: services.catalog.adjust_stock("PRD-1001", 1) for _ in range(10)])

    # Then a delivery either lands or is refused as stale after its retries, nothing else
    errors = [outcome for outcome in outcomes if isinstance(outcome, BaseException)]
    assert all(isinstance(error, StaleVersion) for error in errors), errors
    successes = len(outcomes) - len(errors)
    assert successes >= 1
    # And every delivery that was accepted is counted: no update is lost
    final = services.products.get("PRD-1001")
    assert final is not None
    assert final.stock_on_hand == initial.stock_on_hand + successes
    assert final.version == initial.version + successes
    landed = sorted(outcome.stock_on_hand for outcome in outcomes if not isinstance(outcome, BaseException))
    assert landed == list(range(initial.stock_on_hand + 1, initial.stock_on_hand + successes + 1))


def test_an_index_query_works_after_the_base_model_was_used(services: Services) -> None:
    # Regression: the health check's TableItem.describe_table() cached a connection on the base class that a
    # model used for the first time afterwards inherited, without its indexes; the payment expiry sweep then
    # failed with "Table ... has no index: GSI1".
    from pynamodb.attributes import UnicodeAttribute

    from persistence import schema
    from persistence.models import ListIndex, TableItem

    TableItem.describe_table()

    class FirstUsedLater(TableItem):
        gsi1pk = UnicodeAttribute(attr_name=schema.LIST_INDEX_PARTITION_KEY)
        gsi1sk = UnicodeAttribute(attr_name=schema.LIST_INDEX_SORT_KEY)
        by_list = ListIndex()

    assert list(FirstUsedLater.by_list.query("NOTHING-LISTED-HERE")) == []
