"""Vehicles through GraphQL: listing for everyone, editing for the dealership's staff."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from typing import Any

import pytest

from domain.order_status import VehicleStatus
from graphql_api.schema import build_schema
from graphql_api.wiring import Services
from runtime.settings import Settings
from tests.api.conftest import GraphQLClient

LIST = """
query List($status: VehicleStatus!, $first: Int, $after: String) {
  vehicles(status: $status, first: $first, after: $after) {
    edges { cursor node { id brand price status } }
    pageInfo { hasNextPage endCursor }
  }
}
"""
CREATE = """
mutation Create($input: CreateVehicleInput!) {
  createVehicle(input: $input) { id brand model year color price status }
}
"""
UPDATE = """
mutation Update($id: ID!, $input: UpdateVehicleInput!) {
  updateVehicle(id: $id, input: $input) { id brand color price status }
}
"""


def vehicle_input(**overrides: Any) -> dict[str, Any]:
    return {"brand": "Toyota", "model": "Corolla XEi", "year": 2022, "color": "Prata", "price": "139900.00"} | overrides


def create(client: GraphQLClient, **overrides: Any) -> dict[str, Any]:
    result = client.execute(CREATE, {"input": vehicle_input(**overrides)}, token="admin-token")
    assert result["errors"] == []
    vehicle: dict[str, Any] = result["data"]["createVehicle"]
    return vehicle


def error_of(result: dict[str, Any]) -> dict[str, Any]:
    assert result["errors"], result
    error: dict[str, Any] = result["errors"][0]
    return error


def test_anyone_lists_vehicles_for_sale_cheapest_first_page_by_page(client: GraphQLClient) -> None:
    for price in ["99990.00", "54990.00", "189900.00", "62500.00", "84500.00"]:
        create(client, price=price)

    seen: list[str] = []
    after = None
    while True:
        page = client.execute(LIST, {"status": "AVAILABLE", "first": 2, "after": after})["data"]["vehicles"]
        seen += [edge["node"]["price"] for edge in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]

    assert seen == ["54990.00", "62500.00", "84500.00", "99990.00", "189900.00"]


def test_sold_vehicles_are_listed_apart(client: GraphQLClient, services: Services) -> None:
    sold_id = create(client, price="48900.00")["id"]
    create(client, price="60000.00")
    vehicle = services.vehicles.get(sold_id)
    assert vehicle is not None
    services.vehicles.save(replace(vehicle, status=VehicleStatus.SOLD))

    sold = client.execute(LIST, {"status": "SOLD"})["data"]["vehicles"]["edges"]
    available = client.execute(LIST, {"status": "AVAILABLE"})["data"]["vehicles"]["edges"]

    assert [edge["node"]["id"] for edge in sold] == [sold_id]
    assert [edge["node"]["price"] for edge in available] == ["60000.00"]


@pytest.mark.parametrize("first", [0, -1, 101])
def test_page_size_out_of_range_is_refused(client: GraphQLClient, first: int) -> None:
    error = error_of(client.execute(LIST, {"status": "AVAILABLE", "first": first}))
    assert error["extensions"] == {"code": "VALIDATION", "field": "first"}


def test_the_largest_page_is_the_settings_limit(settings: Settings, services: Services) -> None:
    limits = replace(settings.limits, max_page_size=2)
    client = GraphQLClient(schema=build_schema(replace(settings, limits=limits)), services=services)
    for _ in range(3):
        create(client)

    largest = client.execute(LIST, {"status": "AVAILABLE", "first": 2})["data"]["vehicles"]["edges"]
    error = error_of(client.execute(LIST, {"status": "AVAILABLE", "first": 3}))

    assert len(largest) == 2
    assert (error["message"], error["extensions"]) == (
        "first must be between 1 and 2",
        {"code": "VALIDATION", "field": "first"},
    )


def test_a_tampered_cursor_is_refused(client: GraphQLClient) -> None:
    create(client)
    create(client)
    cursor = client.execute(LIST, {"status": "AVAILABLE", "first": 1})["data"]["vehicles"]["pageInfo"]["endCursor"]
    tampered = ("A" if cursor[0] != "A" else "B") + cursor[1:]

    error = error_of(client.execute(LIST, {"status": "AVAILABLE", "after": tampered}))

    assert error["extensions"] == {"code": "VALIDATION", "field": "after"}


def test_an_unknown_status_names_the_argument(client: GraphQLClient) -> None:
    error = error_of(client.execute("{ vehicles(status: FLYING) { edges { cursor } } }"))
    assert error["extensions"] == {"code": "VALIDATION", "field": "status"}


def test_admin_creates_a_vehicle_available_with_an_exact_price(client: GraphQLClient) -> None:
    vehicle = create(client, price="189900.5")

    assert vehicle["status"] == "AVAILABLE"
    assert vehicle["price"] == "189900.50"
    fetched = client.execute("query($id: ID!) { vehicle(id: $id) { id model } }", {"id": vehicle["id"]})
    assert fetched["data"]["vehicle"] == {"id": vehicle["id"], "model": "Corolla XEi"}


def test_a_customer_cannot_create_vehicles(client: GraphQLClient) -> None:
    error = error_of(client.execute(CREATE, {"input": vehicle_input()}, token="customer-token"))
    assert error["extensions"]["code"] == "FORBIDDEN"


def test_an_anonymous_caller_cannot_create_vehicles(client: GraphQLClient) -> None:
    error = error_of(client.execute(CREATE, {"input": vehicle_input()}))
    assert error["extensions"]["code"] == "UNAUTHENTICATED"


def test_an_invalid_token_is_refused_even_where_anonymous_callers_are_welcome(client: GraphQLClient) -> None:
    error = error_of(client.execute(LIST, {"status": "AVAILABLE"}, token="forged"))
    assert error["extensions"]["code"] == "UNAUTHENTICATED"


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"brand": "   "}, "brand"),
        ({"model": ""}, "model"),
        ({"color": ""}, "color"),
        ({"year": 1700}, "year"),
        ({"year": 2030}, "year"),
        ({"price": "-1.00"}, "price"),
        ({"price": "0"}, "price"),
        ({"price": "10.999"}, "price"),
        ({"price": "abc"}, "price"),
    ],
)
def test_bad_vehicle_input_names_the_field_and_writes_nothing(
    client: GraphQLClient, overrides: dict[str, Any], field: str
) -> None:
    error = error_of(client.execute(CREATE, {"input": vehicle_input(**overrides)}, token="admin-token"))

    assert error["extensions"]["code"] == "VALIDATION"
    assert error["extensions"]["field"] == field
    assert client.execute(LIST, {"status": "AVAILABLE"})["data"]["vehicles"]["edges"] == []


def test_admin_edits_only_the_fields_given(client: GraphQLClient) -> None:
    vehicle = create(client)

    result = client.execute(UPDATE, {"id": vehicle["id"], "input": {"color": "Preto"}}, token="admin-token")

    assert result["data"]["updateVehicle"] == {
        "id": vehicle["id"],
        "brand": "Toyota",
        "color": "Preto",
        "price": "139900.00",
        "status": "AVAILABLE",
    }


def test_a_sold_vehicle_cannot_be_edited(client: GraphQLClient, services: Services) -> None:
    vehicle_id = create(client)["id"]
    vehicle = services.vehicles.get(vehicle_id)
    assert vehicle is not None
    services.vehicles.save(replace(vehicle, status=VehicleStatus.SOLD))

    error = error_of(client.execute(UPDATE, {"id": vehicle_id, "input": {"price": "1.00"}}, token="admin-token"))

    assert error["extensions"]["code"] == "CONFLICT"
    stored = services.vehicles.get(vehicle_id)
    assert stored is not None
    assert stored.price.amount == Decimal("139900.00")


def test_editing_an_unknown_vehicle_is_not_found(client: GraphQLClient) -> None:
    error = error_of(client.execute(UPDATE, {"id": "nope", "input": {"color": "Preto"}}, token="admin-token"))
    assert error["extensions"]["code"] == "NOT_FOUND"


def test_an_unknown_vehicle_is_null(client: GraphQLClient) -> None:
    assert client.execute('{ vehicle(id: "nope") { id } }')["data"] == {"vehicle": None}


def test_vehicles_asked_for_one_by_one_are_fetched_in_one_batch(client: GraphQLClient, services: Services) -> None:
    ids = [create(client, price=f"{50000 + n}.00")["id"] for n in range(3)]
    batches: list[list[str]] = []
    real_get_many = services.vehicles.get_many

    def counting_get_many(vehicle_ids: Any) -> Any:
        batches.append(list(vehicle_ids))
        return real_get_many(vehicle_ids)

    object.__setattr__(services.vehicles, "get_many", counting_get_many)
    query = "{ " + " ".join(f'v{n}: vehicle(id: "{vid}") {{ id }}' for n, vid in enumerate(ids)) + " }"

    result = client.execute(query)

    assert [result["data"][f"v{n}"]["id"] for n in range(3)] == ids
    assert batches == [ids]
