"""Abuse through input: role escalation, someone else's data, and requests the HTTP edge must refuse.

Only what the other API tests leave out: createVehicle by a customer or anonymously, adjustStock by a customer,
registerClient with another's email, one customer's order(id)/cancelOrder on another's, the malformed bodies of
test_http_endpoint.py are covered there.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx
import pytest

from graphql_api.app import create_app
from graphql_api.wiring import Services
from runtime.settings import Settings
from tests.api.conftest import CUSTOMER2, GraphQLClient, Saga, register_customer

CREATE_VEHICLE = "mutation($i: CreateVehicleInput!) { createVehicle(input: $i) { id } }"
UPDATE_VEHICLE = "mutation($id: ID!, $i: UpdateVehicleInput!) { updateVehicle(id: $id, input: $i) { id price } }"
CREATE_PRODUCT = "mutation($i: CreateProductInput!) { createProduct(input: $i) { id } }"
ADJUST = "mutation($id: ID!, $delta: Int!) { adjustStock(productId: $id, delta: $delta) { stockOnHand } }"
REGISTER = "mutation($i: RegisterClientInput!) { registerClient(input: $i) { id email } }"
PLACE = "mutation($i: PlaceOrderInput!) { placeOrder(input: $i) { id } }"
VEHICLE = "query($id: ID!) { vehicle(id: $id) { brand model year color price status } }"
PRODUCT = "query($id: ID!) { product(id: $id) { description unitPrice stockOnHand stockReserved } }"
ORDERS = "{ orders { edges { node { id } } } }"
ADDRESS = {
    "street": "Rua XV de Novembro",
    "number": "10",
    "neighborhood": "Centro",
    "city": "Curitiba",
    "state": "PR",
    "zipCode": "80020-310",
}


def codes(result: dict[str, Any]) -> list[str]:
    return [error["extensions"]["code"] for error in result["errors"]]


def vehicle_id(client: GraphQLClient) -> str:
    vehicle = {"brand": "BYD", "model": "Dolphin", "year": 2025, "color": "Azul", "price": "149800.00"}
    result = client.execute(CREATE_VEHICLE, {"i": vehicle}, token="admin-token")
    assert result["errors"] == [], result
    created: str = result["data"]["createVehicle"]["id"]
    return created


def product_id(client: GraphQLClient) -> str:
    product = {"sku": "PRD-7001", "description": "Tapete", "unitPrice": "199.90", "initialStock": 4}
    result = client.execute(CREATE_PRODUCT, {"i": product}, token="admin-token")
    assert result["errors"] == [], result
    created: str = result["data"]["createProduct"]["id"]
    return created


# --- role escalation: staff mutations called by a customer or nobody -------------------------------------------


@pytest.mark.parametrize(("token", "code"), [("customer-token", "FORBIDDEN"), (None, "UNAUTHENTICATED")])
def test_a_non_admin_cannot_edit_a_vehicle(client: GraphQLClient, token: str | None, code: str) -> None:
    vehicle = vehicle_id(client)
    before = client.execute(VEHICLE, {"id": vehicle})

    result = client.execute(UPDATE_VEHICLE, {"id": vehicle, "i": {"price": "1.00", "brand": "Mine"}}, token=token)

    assert codes(result) == [code]
    assert result["data"] is None
    assert client.execute(VEHICLE, {"id": vehicle}) == before


@pytest.mark.parametrize(("token", "code"), [("customer-token", "FORBIDDEN"), (None, "UNAUTHENTICATED")])
def test_a_non_admin_cannot_create_a_product(client: GraphQLClient, token: str | None, code: str) -> None:
    product = {"sku": "PRD-6666", "description": "Brinde", "unitPrice": "0.01", "initialStock": 999}

    result = client.execute(CREATE_PRODUCT, {"i": product}, token=token)

    assert codes(result) == [code]
    assert client.execute(PRODUCT, {"id": "PRD-6666"}, token="admin-token")["data"] == {"product": None}


def test_an_anonymous_caller_cannot_adjust_stock(client: GraphQLClient) -> None:
    product = product_id(client)
    before = client.execute(PRODUCT, {"id": product}, token="admin-token")

    result = client.execute(ADJUST, {"id": product, "delta": 100})

    assert codes(result) == ["UNAUTHENTICATED"]
    assert client.execute(PRODUCT, {"id": product}, token="admin-token") == before


def test_a_customer_cannot_take_stock_away_either(client: GraphQLClient) -> None:
    # A negative delta (emptying the shelf so that others' orders wait) is as much staff-only as a delivery
    product = product_id(client)
    before = client.execute(PRODUCT, {"id": product}, token="admin-token")

    result = client.execute(ADJUST, {"id": product, "delta": -4}, token="customer-token")

    assert codes(result) == ["FORBIDDEN"]
    assert client.execute(PRODUCT, {"id": product}, token="admin-token") == before


@pytest.mark.parametrize(
    "extra",
    [{"role": "admin"}, {"groups": ["admin"]}, {"isAdmin": True}, {"id": "admin-sub"}, {"userId": "admin-sub"}],
    ids=["role", "groups", "isAdmin", "id", "userId"],
)
def test_registration_input_has_no_way_to_name_a_role_or_another_user(
    client: GraphQLClient, extra: dict[str, Any]
) -> None:
    registration = {"name": "Mariana Alves", "cpf": "529.982.247-25", "phone": "21912345678", "address": ADDRESS}

    result = client.execute(REGISTER, {"i": registration | extra}, token="customer-token")

    assert codes(result) == ["VALIDATION"]
    assert result["data"] is None
    assert client.execute("{ me { id } }", token="customer-token")["data"] == {"me": None}
    assert client.execute("{ me { id } }", token="admin-token")["data"] == {"me": None}


def test_a_registered_customer_is_still_not_staff(client: GraphQLClient) -> None:
    registration = {"name": "Mariana Alves", "cpf": "529.982.247-25", "phone": "21912345678", "address": ADDRESS}
    registered = client.execute(REGISTER, {"i": registration}, token="customer-token")
    assert registered["data"]["registerClient"] == {"id": "customer-sub", "email": "customer@example.com"}

    vehicle = {"brand": "BYD", "model": "Dolphin", "year": 2025, "color": "Azul", "price": "149800.00"}
    assert codes(client.execute(CREATE_VEHICLE, {"i": vehicle}, token="customer-token")) == ["FORBIDDEN"]


def test_a_customer_cannot_register_with_the_admins_email(client: GraphQLClient) -> None:
    registration = {
        "name": "Mariana Alves",
        "cpf": "529.982.247-25",
        "phone": "21912345678",
        "address": ADDRESS,
        "email": "Admin@Example.com",
    }

    result = client.execute(REGISTER, {"i": registration}, token="customer-token")

    assert result["errors"][0]["extensions"] == {"code": "VALIDATION", "field": "email"}
    assert client.execute("{ me { id } }", token="customer-token")["data"] == {"me": None}


# --- someone else's order ---------------------------------------------------------------------------------------


def test_a_customer_sees_neither_another_customers_order_nor_its_invoice_payment_or_history(
    client: GraphQLClient, services: Services, saga: Saga
) -> None:
    register_customer(services)
    register_customer(services, CUSTOMER2, cpf="111.444.777-35")
    placed = client.execute(
        PLACE, {"i": {"vehicleId": vehicle_id(client), "idempotencyKey": str(uuid.uuid4())}}, token="customer-token"
    )
    order = placed["data"]["placeOrder"]["id"]
    saga.run()
    saga.pay(order)
    deep = "query($id: ID!) { order(id: $id) { id payment { code } invoice { number url } history { status } } }"

    theirs = client.execute(deep, {"id": order}, token="customer2-token")
    listed = client.execute(ORDERS, token="customer2-token")
    mine = client.execute(deep, {"id": order}, token="customer-token")

    assert theirs == {"data": {"order": None}, "errors": []}
    assert listed == {"data": {"orders": {"edges": []}}, "errors": []}
    assert mine["data"]["order"]["invoice"]["number"]


def test_an_idempotency_key_of_another_customer_does_not_return_their_order(
    client: GraphQLClient, services: Services
) -> None:
    register_customer(services)
    register_customer(services, CUSTOMER2, cpf="111.444.777-35")
    vehicle = vehicle_id(client)
    key = str(uuid.uuid4())
    mine = client.execute(PLACE, {"i": {"vehicleId": vehicle, "idempotencyKey": key}}, token="customer-token")
    assert mine["errors"] == [], mine

    theirs = client.execute(PLACE, {"i": {"vehicleId": vehicle, "idempotencyKey": key}}, token="customer2-token")

    # A new order of theirs (which the saga will find the vehicle taken for), never mine handed back
    assert theirs["errors"] == [], theirs
    assert theirs["data"]["placeOrder"]["id"] != mine["data"]["placeOrder"]["id"]


# --- the HTTP edge on AWS ---------------------------------------------------------------------------------------


def request(
    settings: Settings, services: Services, method: str, path: str = "/graphql", **kwargs: Any
) -> httpx.Response:
    async def send() -> httpx.Response:
        transport = httpx.ASGITransport(app=create_app(settings, services))
        async with httpx.AsyncClient(transport=transport, base_url="http://api") as client:
            return await client.request(method, path, **kwargs)

    return asyncio.run(send())


def test_a_get_on_aws_is_refused_and_a_mutation_in_its_url_is_not_run(settings: Settings, services: Services) -> None:
    # A GET carrying a mutation (as a cross-site link or <img> could) must never run it
    mutation = (
        'mutation { createVehicle(input: {brand: "X", model: "Y", year: 2024, color: "Z", price: "1.00"}) { id } }'
    )

    response = request(settings, services, "GET", params={"query": mutation}, headers={"authorization": "admin-token"})

    assert response.status_code == 405
    assert response.headers["allow"] == "POST"
    assert response.json()["errors"][0]["extensions"]["code"] == "VALIDATION"
    listed = request(settings, services, "POST", json={"query": "{ vehicles { edges { cursor } } }"})
    assert listed.json() == {"data": {"vehicles": {"edges": []}}}


@pytest.mark.parametrize("method", ["PUT", "PATCH", "DELETE"])
def test_other_methods_are_refused_with_405(settings: Settings, services: Services, method: str) -> None:
    response = request(settings, services, method, json={"query": "{ __typename }"})

    assert response.status_code == 405
    assert response.json()["errors"][0]["extensions"]["code"] == "VALIDATION"


def test_a_subscription_over_http_is_refused(settings: Settings, services: Services) -> None:
    response = request(
        settings,
        services,
        "POST",
        json={"query": "subscription { vehicleAvailabilityChanged { id } }"},
        headers={"authorization": "Bearer customer-token"},
    )

    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"]["code"] == "VALIDATION"


@pytest.mark.parametrize(
    "body",
    [b"\xff\xfe\x00{", b"", b"[]", b"[{}]", b'[{"query": "{ __typename }"}, {"query": "{ __typename }"}]', b"null"],
    ids=["not-utf8", "empty", "empty-batch", "batch-of-empty", "batch-of-two", "null"],
)
def test_a_body_that_is_not_one_request_object_is_refused_naming_the_body(
    settings: Settings, services: Services, body: bytes
) -> None:
    response = request(settings, services, "POST", content=body, headers={"content-type": "application/json"})

    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"] == {"code": "VALIDATION", "field": "body"}


def test_a_declared_length_over_the_limit_is_refused_before_the_body_is_read(
    settings: Settings, services: Services
) -> None:
    declared = str(settings.limits.max_body_bytes + 1)

    response = request(
        settings,
        services,
        "POST",
        content=b'{"query": "{ __typename }"}',
        headers={"content-type": "application/json", "content-length": declared},
    )

    assert response.status_code == 413
    assert response.json()["errors"][0]["extensions"] == {"code": "VALIDATION", "field": "body"}


# --- bugs found by the abuse suite (each asserts the right behaviour; xfail until fixed) -------------------------


def test_stock_cannot_be_driven_past_what_the_api_can_show(client: GraphQLClient) -> None:
    product = {"sku": "PRD-8001", "description": "Parafuso", "unitPrice": "0.10", "initialStock": 1_000_000}
    assert client.execute(CREATE_PRODUCT, {"i": product}, token="admin-token")["errors"] == []
    # A thousand deliveries of a million units each, every one within the per-adjustment limit (the product's cap
    # is a billion; before it, stock could pass 2**31 - 1 and the product list failed for everyone)
    for _ in range(999):
        delivered = client.execute(ADJUST, {"id": "PRD-8001", "delta": 1_000_000}, token="admin-token")
        assert delivered["errors"] == [], delivered

    # The next delivery would pass the cap
    one_more = client.execute(ADJUST, {"id": "PRD-8001", "delta": 1_000_000}, token="admin-token")
    listing = client.execute("{ products { edges { node { id stockOnHand } } } }", token="customer-token")

    assert codes(one_more) == ["VALIDATION"], one_more
    assert one_more["errors"][0]["extensions"]["field"] == "delta"
    assert listing["errors"] == [], listing


# The Decimal scalar is the domain's reader of amounts now, and raises an error graphql-core places on the literal.
@pytest.mark.parametrize("price", ["abc", ""])
def test_an_inline_price_that_is_not_a_number_names_the_field(client: GraphQLClient, price: str) -> None:
    mutation = (
        'mutation { createVehicle(input: {brand: "BYD", model: "Dolphin", year: 2025, color: "Azul", '
        f'price: "{price}"}}) {{ id }} }}'
    )

    result = client.execute(mutation, token="admin-token")

    assert result["errors"][0]["extensions"] == {"code": "VALIDATION", "field": "price"}
