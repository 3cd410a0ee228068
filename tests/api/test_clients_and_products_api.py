"""Client registration, `me`, and products with their stock, through GraphQL."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.conftest import GraphQLClient

REGISTER = """
mutation Register($input: RegisterClientInput!) {
  registerClient(input: $input) { id name cpf email phone address { city state zipCode } }
}
"""
ME = "{ me { id name cpf email } }"
CREATE_PRODUCT = """
mutation Create($input: CreateProductInput!) {
  createProduct(input: $input) { id sku unitPrice stockOnHand stockReserved stockAvailable }
}
"""
ADJUST = """
mutation Adjust($id: ID!, $delta: Int!) { adjustStock(productId: $id, delta: $delta) { id stockOnHand stockAvailable } }
"""


def registration(**overrides: Any) -> dict[str, Any]:
    address = {
        "street": "Avenida das Américas",
        "number": "5000",
        "neighborhood": "Barra da Tijuca",
        "city": "Rio de Janeiro",
        "state": "RJ",
        "zipCode": "22640-102",
    } | overrides.pop("address", {})
    return {
        "name": "Mariana Alves",
        "cpf": "529.982.247-25",
        "phone": "+55 21 91234-5678",
        "address": address,
    } | overrides


def error_of(result: dict[str, Any]) -> dict[str, Any]:
    assert result["errors"], result
    error: dict[str, Any] = result["errors"][0]
    return error


def test_a_signed_in_user_registers_and_sees_themself_as_a_client(client: GraphQLClient) -> None:
    assert client.execute(ME, token="customer-token")["data"] == {"me": None}

    registered = client.execute(REGISTER, {"input": registration()}, token="customer-token")

    assert registered["errors"] == []
    assert registered["data"]["registerClient"] == {
        "id": "customer-sub",
        "name": "Mariana Alves",
        "cpf": "529.982.247-25",
        "email": "customer@example.com",
        "phone": "+5521912345678",
        "address": {"city": "Rio de Janeiro", "state": "RJ", "zipCode": "22640-102"},
    }
    assert client.execute(ME, token="customer-token")["data"]["me"]["id"] == "customer-sub"


def test_registering_needs_a_signed_in_user(client: GraphQLClient) -> None:
    assert error_of(client.execute(REGISTER, {"input": registration()}))["extensions"]["code"] == "UNAUTHENTICATED"
    assert error_of(client.execute(ME))["extensions"]["code"] == "UNAUTHENTICATED"


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"cpf": "529.982.247-26"}, "cpf"),
        ({"cpf": "111.111.111-11"}, "cpf"),
        ({"name": " "}, "name"),
        ({"phone": "123"}, "phone"),
        ({"email": "someone.else@example.com"}, "email"),
        ({"address": {"zipCode": "0000"}}, "address.zipCode"),
        ({"address": {"state": "XX"}}, "address.state"),
    ],
)
def test_bad_registration_names_the_field_and_registers_nobody(
    client: GraphQLClient, overrides: dict[str, Any], field: str
) -> None:
    error = error_of(client.execute(REGISTER, {"input": registration(**overrides)}, token="customer-token"))

    assert error["extensions"] == {"code": "VALIDATION", "field": field}
    assert client.execute(ME, token="customer-token")["data"] == {"me": None}


def test_a_cpf_already_registered_is_a_conflict(client: GraphQLClient) -> None:
    client.execute(REGISTER, {"input": registration()}, token="customer-token")

    error = error_of(client.execute(REGISTER, {"input": registration()}, token="customer2-token"))

    assert error["extensions"] == {"code": "CONFLICT", "field": "cpf"}
    assert client.execute(ME, token="customer2-token")["data"] == {"me": None}


def test_registering_twice_is_a_conflict(client: GraphQLClient) -> None:
    client.execute(REGISTER, {"input": registration()}, token="customer-token")
    error = error_of(client.execute(REGISTER, {"input": registration(cpf="111.444.777-35")}, token="customer-token"))
    assert error["extensions"]["code"] == "CONFLICT"


def create_product(client: GraphQLClient, **overrides: Any) -> dict[str, Any]:
    product_input = {"sku": "prd-1001", "description": "Smartphone XYZ", "unitPrice": "2500.00", "initialStock": 5}
    result = client.execute(CREATE_PRODUCT, {"input": product_input | overrides}, token="admin-token")
    assert result["errors"] == [], result
    product: dict[str, Any] = result["data"]["createProduct"]
    return product


def test_admin_creates_a_product_and_adjusts_its_stock(client: GraphQLClient) -> None:
    product = create_product(client)
    assert product == {
        "id": "PRD-1001",
        "sku": "PRD-1001",
        "unitPrice": "2500.00",
        "stockOnHand": 5,
        "stockReserved": 0,
        "stockAvailable": 5,
    }

    delivered = client.execute(ADJUST, {"id": "PRD-1001", "delta": 10}, token="admin-token")
    lost = client.execute(ADJUST, {"id": "PRD-1001", "delta": -3}, token="admin-token")

    assert delivered["data"]["adjustStock"]["stockOnHand"] == 15
    assert lost["data"]["adjustStock"] == {"id": "PRD-1001", "stockOnHand": 12, "stockAvailable": 12}


def test_stock_never_goes_negative(client: GraphQLClient) -> None:
    create_product(client, initialStock=2)

    error = error_of(client.execute(ADJUST, {"id": "PRD-1001", "delta": -3}, token="admin-token"))

    assert error["extensions"] == {"code": "VALIDATION", "field": "delta"}
    products = client.execute("{ products { edges { node { stockOnHand } } } }", token="customer-token")
    assert products["data"]["products"]["edges"] == [{"node": {"stockOnHand": 2}}]


def test_a_duplicate_sku_is_a_conflict(client: GraphQLClient) -> None:
    create_product(client)
    result = client.execute(
        CREATE_PRODUCT,
        {"input": {"sku": "PRD-1001", "description": "Outro", "unitPrice": "1.00"}},
        token="admin-token",
    )
    assert error_of(result)["extensions"] == {"code": "CONFLICT", "field": "sku"}


def test_adjusting_an_unknown_product_is_not_found(client: GraphQLClient) -> None:
    error = error_of(client.execute(ADJUST, {"id": "PRD-9999", "delta": 1}, token="admin-token"))
    assert error["extensions"]["code"] == "NOT_FOUND"


def test_customers_see_products_but_cannot_change_them(client: GraphQLClient) -> None:
    create_product(client)

    listed = client.execute("{ products { edges { node { id } } } }", token="customer-token")
    refused = client.execute(ADJUST, {"id": "PRD-1001", "delta": 1}, token="customer-token")
    anonymous = client.execute("{ products { edges { node { id } } } }")

    assert listed["data"]["products"]["edges"] == [{"node": {"id": "PRD-1001"}}]
    assert error_of(refused)["extensions"]["code"] == "FORBIDDEN"
    assert error_of(anonymous)["extensions"]["code"] == "UNAUTHENTICATED"


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"sku": "no spaces allowed"}, "sku"),
        ({"unitPrice": "-5"}, "unitPrice"),
        ({"unitPrice": "1.001"}, "unitPrice"),
        ({"initialStock": -1}, "initialStock"),
        ({"description": ""}, "description"),
    ],
)
def test_bad_product_input_names_the_field(client: GraphQLClient, overrides: dict[str, Any], field: str) -> None:
    product_input = {"sku": "PRD-1", "description": "x", "unitPrice": "1.00"} | overrides
    error = error_of(client.execute(CREATE_PRODUCT, {"input": product_input}, token="admin-token"))
    assert error["extensions"] == {"code": "VALIDATION", "field": field}
