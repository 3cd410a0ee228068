"""placeOrder for products (or a vehicle, never both), through GraphQL over the memory services."""

from __future__ import annotations

from typing import Any

import pytest

from graphql_api.wiring import Services
from tests.api.conftest import CUSTOMER2, GraphQLClient, Saga, register_customer

PLACE = """
mutation Place($input: PlaceOrderInput!) {
  placeOrder(input: $input) {
    id status total
    items { kind productId description quantity unitPrice total status }
    invoice { number status url }
  }
}
"""
ORDER = "query($id: ID!) { order(id: $id) { status items { productId status } invoice { number status url } } }"
KEY = "5f0c2a1e-product-order"


@pytest.fixture
def catalogue(services: Services) -> None:
    register_customer(services)
    services.catalog.create_product(
        sku="PRD-1001", description="Tapete de borracha", unit_price="49.90", initial_stock=5
    )
    services.catalog.create_product(sku="PRD-1002", description="Engate", unit_price="120.00", initial_stock=1)


def place(client: GraphQLClient, user: str = "customer", **given: Any) -> dict[str, Any]:
    return client.execute(PLACE, {"input": {"idempotencyKey": KEY} | given}, token=f"{user}-token")


def error_of(result: dict[str, Any]) -> dict[str, Any]:
    assert result["data"] is None, result
    error: dict[str, Any] = result["errors"][0]
    return error


@pytest.mark.usefixtures("catalogue")
def test_a_product_order_is_placed_with_its_items_at_the_catalogues_prices(client: GraphQLClient) -> None:
    result = place(client, items=[{"productId": "PRD-1001", "quantity": 2}, {"productId": "prd-1002", "quantity": 1}])

    assert result["errors"] == []
    order = result["data"]["placeOrder"]
    assert order["status"] == "PLACED"
    assert order["total"] == "219.80"
    assert order["invoice"] is None
    assert order["items"] == [
        {
            "kind": "PRODUCT",
            "productId": "PRD-1001",
            "description": "Tapete de borracha",
            "quantity": 2,
            "unitPrice": "49.90",
            "total": "99.80",
            "status": None,
        },
        {
            "kind": "PRODUCT",
            "productId": "PRD-1002",
            "description": "Engate",
            "quantity": 1,
            "unitPrice": "120.00",
            "total": "120.00",
            "status": None,
        },
    ]


@pytest.mark.usefixtures("catalogue")
def test_the_same_idempotency_key_returns_the_same_order(client: GraphQLClient) -> None:
    items = [{"productId": "PRD-1001", "quantity": 2}]

    first = place(client, items=items)["data"]["placeOrder"]
    again = place(client, items=items)["data"]["placeOrder"]

    assert again == first
    orders = client.execute("{ orders { edges { node { id } } } }", token="customer-token")["data"]["orders"]
    assert [edge["node"]["id"] for edge in orders["edges"]] == [first["id"]]


@pytest.mark.usefixtures("catalogue")
def test_the_same_key_for_other_items_is_a_conflict(client: GraphQLClient) -> None:
    place(client, items=[{"productId": "PRD-1001", "quantity": 2}])

    error = error_of(place(client, items=[{"productId": "PRD-1001", "quantity": 3}]))

    assert error["extensions"] == {"code": "CONFLICT", "field": "idempotencyKey"}


@pytest.mark.usefixtures("catalogue")
def test_the_saga_reserves_each_item(client: GraphQLClient, saga: Saga) -> None:
    placed = place(client, items=[{"productId": "PRD-1001", "quantity": 2}])["data"]["placeOrder"]

    saga.run()

    order = client.execute(ORDER, {"id": placed["id"]}, token="customer-token")["data"]["order"]
    assert order["status"] == "AWAITING_PAYMENT"
    assert order["items"] == [{"productId": "PRD-1001", "status": "RESERVED"}]
    assert order["invoice"] is None


@pytest.mark.usefixtures("catalogue")
@pytest.mark.parametrize(
    ("given", "field", "fragment"),
    [
        ({}, "vehicleId", "give vehicleId to buy a vehicle, or items"),
        ({"vehicleId": None, "items": None}, "vehicleId", "give vehicleId to buy a vehicle, or items"),
        (
            {"vehicleId": "some-vehicle", "items": [{"productId": "PRD-1001", "quantity": 1}]},
            "vehicleId",
            "only one of vehicleId and items",
        ),
        ({"items": []}, "items", "at least one item"),
        ({"items": [{"productId": "PRD-1001", "quantity": 0}]}, "items[0].quantity", "at least 1"),
        (
            {"items": [{"productId": "PRD-1001", "quantity": 1}, {"productId": "prd-1001", "quantity": 2}]},
            "items[1].productId",
            "listed twice",
        ),
        ({"items": [{"productId": "not a sku!", "quantity": 1}]}, "items[0].productId", "may contain only"),
    ],
)
def test_bad_input_names_the_field_and_places_nothing(
    client: GraphQLClient, given: dict[str, Any], field: str, fragment: str
) -> None:
    error = error_of(place(client, **given))

    assert error["extensions"] == {"code": "VALIDATION", "field": field}
    assert fragment in error["message"]
    assert client.execute("{ orders { edges { node { id } } } }", token="customer-token")["data"]["orders"] == {
        "edges": []
    }


@pytest.mark.usefixtures("catalogue")
def test_an_unknown_product_is_not_found_and_named(client: GraphQLClient) -> None:
    items = [{"productId": "PRD-1001", "quantity": 1}, {"productId": "PRD-9999", "quantity": 1}]

    error = error_of(place(client, items=items))

    assert error["extensions"] == {"code": "NOT_FOUND", "field": "items[1].productId"}


@pytest.mark.usefixtures("catalogue")
def test_only_a_registered_client_orders(client: GraphQLClient) -> None:
    error = error_of(place(client, user="customer2", items=[{"productId": "PRD-1001", "quantity": 1}]))

    assert error["extensions"]["code"] == "FORBIDDEN"
    assert "registerClient" in error["message"]


def test_ordering_needs_a_signed_in_user(client: GraphQLClient) -> None:
    result = client.execute(PLACE, {"input": {"idempotencyKey": KEY, "items": [{"productId": "PRD-1", "quantity": 1}]}})

    assert error_of(result)["extensions"]["code"] == "UNAUTHENTICATED"


@pytest.mark.usefixtures("catalogue")
def test_a_vehicle_is_still_bought_by_its_id(client: GraphQLClient, services: Services) -> None:
    vehicle = services.catalog.create_vehicle(brand="BYD", model="Dolphin", year=2025, color="Azul", price="149800")
    register_customer(services, CUSTOMER2, cpf="111.444.777-35")

    result = place(client, user="customer2", vehicleId=vehicle.id)

    order = result["data"]["placeOrder"]
    assert (order["status"], order["total"]) == ("PLACED", "149800.00")
    assert [(item["kind"], item["productId"]) for item in order["items"]] == [("VEHICLE", None)]
