"""Every Decimal argument is read strictly at the edge: what Decimal() would take ("1_000", "١٢٣", " 5 ") is
VALIDATION naming the field, and nothing is written."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.conftest import GraphQLClient

CREATE_VEHICLE = "mutation($input: CreateVehicleInput!) { createVehicle(input: $input) { id price } }"
CREATE_PRODUCT = "mutation($input: CreateProductInput!) { createProduct(input: $input) { id unitPrice } }"
LOOSE = ["1_000", "١٢٣", " 5 ", "1E+3", "10.500", ".5", "+5"]


def vehicle(price: Any) -> dict[str, Any]:
    return {"input": {"brand": "BYD", "model": "Dolphin", "year": 2025, "color": "Azul", "price": price}}


def nothing_listed(client: GraphQLClient) -> bool:
    listing = client.execute("{ vehicles { edges { node { id } } } }")
    return bool(listing["data"]["vehicles"]["edges"] == [])


@pytest.mark.parametrize("price", LOOSE)
def test_a_loose_price_in_a_variable_is_refused_naming_it(client: GraphQLClient, price: str) -> None:
    result = client.execute(CREATE_VEHICLE, vehicle(price), token="admin-token")

    assert result["data"] is None
    assert result["errors"][0]["extensions"] == {"code": "VALIDATION", "field": "price"}
    assert nothing_listed(client)


@pytest.mark.parametrize("price", LOOSE)
def test_a_loose_price_inline_is_refused_naming_it(client: GraphQLClient, price: str) -> None:
    mutation = (
        'mutation { createVehicle(input: {brand: "BYD", model: "Dolphin", year: 2025, color: "Azul", '
        f'price: "{price}"}}) {{ id }} }}'
    )
    result = client.execute(mutation, token="admin-token")

    assert result["errors"][0]["extensions"] == {"code": "VALIDATION", "field": "price"}
    assert nothing_listed(client)


def test_a_float_price_is_refused_as_inexact(client: GraphQLClient) -> None:
    result = client.execute(CREATE_VEHICLE, vehicle(149800.5), token="admin-token")

    assert result["errors"][0]["extensions"] == {"code": "VALIDATION", "field": "price"}
    assert "exact" in result["errors"][0]["message"]


@pytest.mark.parametrize("unit_price", ["1_000", "١٢٣", " 5 "])
def test_a_loose_unit_price_is_refused_naming_it(client: GraphQLClient, unit_price: str) -> None:
    product = {"sku": "PRD-7001", "description": "Tapete", "unitPrice": unit_price, "initialStock": 1}
    result = client.execute(CREATE_PRODUCT, {"input": product}, token="admin-token")

    assert result["errors"][0]["extensions"] == {"code": "VALIDATION", "field": "unitPrice"}


def test_a_loose_price_in_an_update_is_refused(client: GraphQLClient) -> None:
    created = client.execute(CREATE_VEHICLE, vehicle("149800.00"), token="admin-token")["data"]["createVehicle"]
    update = "mutation($id: ID!, $price: Decimal!) { updateVehicle(id: $id, input: {price: $price}) { price } }"

    result = client.execute(update, {"id": created["id"], "price": "1_000"}, token="admin-token")
    after = client.execute("query($id: ID!) { vehicle(id: $id) { price } }", {"id": created["id"]})

    assert result["errors"][0]["extensions"]["code"] == "VALIDATION"
    assert after["data"]["vehicle"]["price"] == "149800.00"


@pytest.mark.parametrize(
    ("price", "stored"), [("149800", "149800.00"), ("149800.5", "149800.50"), (149800, "149800.00")]
)
def test_plain_prices_are_still_taken(client: GraphQLClient, price: Any, stored: str) -> None:
    result = client.execute(CREATE_VEHICLE, vehicle(price), token="admin-token")

    assert result["errors"] == []
    assert result["data"]["createVehicle"]["price"] == stored
