"""The DynamoDB stores against moto over HTTP: paging, cursors, optimistic locking, uniqueness and races."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from decimal import Decimal
from typing import Any
from unittest.mock import patch

import boto3
import pytest
from mypy_boto3_dynamodb import DynamoDBClient
from pynamodb.connection import Connection

from domain.clients import AddressInput, Client
from domain.errors import Conflict
from domain.order_status import VehicleStatus
from domain.registration import RegistrationInput, register
from domain.values import Cpf, Email
from graphql_api.wiring import Services
from persistence import schema
from runtime.settings import Settings
from tests.integration.test_store_contract import add_vehicle, run_at_once

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


# --- vehicles: listing by status ------------------------------------------------------------------------------


def test_vehicle_list_holds_only_vehicles_of_that_status_in_a_shared_table(
    services: Services, settings: Settings, dynamodb: DynamoDBClient
) -> None:
    # Given a table that also holds a client (with its unique markers) and products
    cheap = add_vehicle(services.catalog, "30000.00")
    dear = add_vehicle(services.catalog, "90000.00")
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


# --- vehicles: batch reads ----------------------------------------------------------------------------------


def test_get_many_returns_only_the_vehicles_that_exist_in_one_batch_request(services: Services) -> None:
    # Given three stored vehicles
    one, two, three = (add_vehicle(services.catalog, price) for price in ("10000.00", "20000.00", "30000.00"))
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


# --- optimistic locking -------------------------------------------------------------------------------------


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
