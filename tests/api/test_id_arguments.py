"""Every id the API takes (arguments and input fields) is bounded and shaped before anything reads it: a 60 KB id
once went to the table, where DynamoDB would refuse the key (INTERNAL). VALIDATION names the argument instead.

The table of operations below must cover every ID in the schema: an id argument added later without a case here
fails `test_every_id_argument_of_the_schema_is_covered`."""

from __future__ import annotations

from typing import Any

import pytest
from graphql import GraphQLID, GraphQLInputObjectType, GraphQLList, GraphQLNonNull, GraphQLSchema, get_named_type

from domain.identifiers import MAX_ID_LENGTH
from tests.api.conftest import GraphQLClient, register_customer

HUGE = "v" * 60_000
BAD_IDS = [HUGE, "x" * (MAX_ID_LENGTH + 1), "", "a b", "VEHICLE#1", "ção", "id\n"]

# (root field, argument path as the error names it, document, variables builder, token)
Case = tuple[str, str, str, Any, str | None]
CASES: list[Case] = [
    ("Query.vehicle", "id", "query($v: ID!) { vehicle(id: $v) { id } }", lambda v: {"v": v}, None),
    ("Query.order", "id", "query($v: ID!) { order(id: $v) { id } }", lambda v: {"v": v}, "customer-token"),
    ("Query.product", "id", "query($v: ID!) { product(id: $v) { id } }", lambda v: {"v": v}, "customer-token"),
    (
        "Mutation.updateVehicle",
        "id",
        'mutation($v: ID!) { updateVehicle(id: $v, input: {color: "Azul"}) { id } }',
        lambda v: {"v": v},
        "admin-token",
    ),
    (
        "Mutation.cancelOrder",
        "id",
        "mutation($v: ID!) { cancelOrder(id: $v) { id } }",
        lambda v: {"v": v},
        "customer-token",
    ),
    (
        "Mutation.adjustStock",
        "productId",
        "mutation($v: ID!) { adjustStock(productId: $v, delta: 1) { id } }",
        lambda v: {"v": v},
        "admin-token",
    ),
    (
        "Mutation.placeOrder",
        "vehicleId",
        "mutation($i: PlaceOrderInput!) { placeOrder(input: $i) { id } }",
        lambda v: {"i": {"vehicleId": v, "idempotencyKey": "key-00000001"}},
        "customer-token",
    ),
    (
        "Mutation.placeOrder",
        "items[1].productId",
        "mutation($i: PlaceOrderInput!) { placeOrder(input: $i) { id } }",
        lambda v: {
            "i": {
                "items": [{"productId": "PRD-1001", "quantity": 1}, {"productId": v, "quantity": 1}],
                "idempotencyKey": "key-00000002",
            }
        },
        "customer-token",
    ),
]
# Subscriptions are served over the WebSocket; their arguments go through the same rule (`parse_id`) there. Over
# HTTP the schema still refuses them before anything else.
SUBSCRIPTIONS = ["Subscription.orderStatusChanged", "Subscription.invoiceStatusChanged"]


def _id_paths(schema: GraphQLSchema) -> set[str]:
    """`Type.field` of every root field that takes an ID, directly or inside an input (lists included)."""

    def takes_id(type_: Any, seen: frozenset[str] = frozenset()) -> bool:
        named = get_named_type(type_)
        if named is GraphQLID:
            return True
        if isinstance(named, GraphQLInputObjectType) and named.name not in seen:
            return any(takes_id(field.type, seen | {named.name}) for field in named.fields.values())
        return False

    found = set()
    for root in (schema.query_type, schema.mutation_type, schema.subscription_type):
        assert root is not None
        for name, field in root.fields.items():
            if any(takes_id(argument.type) for argument in field.args.values()):
                found.add(f"{root.name}.{name}")
    return found


def test_every_id_argument_of_the_schema_is_covered(client: GraphQLClient) -> None:
    covered = {case[0] for case in CASES} | set(SUBSCRIPTIONS)
    assert _id_paths(client.schema._schema) == covered


def test_the_contract_keeps_the_id_type(client: GraphQLClient) -> None:
    # The SPA generates its types from schema.graphql: ids stay `ID`, the rule is applied behind it.
    vehicle = client.schema._schema.query_type.fields["vehicle"]  # type: ignore[union-attr]
    assert isinstance(vehicle.args["id"].type, GraphQLNonNull)
    assert vehicle.args["id"].type.of_type is GraphQLID
    place = client.schema._schema.type_map["OrderItemInput"]
    assert isinstance(place, GraphQLInputObjectType)
    product_id = place.fields["productId"].type
    assert isinstance(product_id, GraphQLNonNull)
    assert product_id.of_type is GraphQLID
    assert not isinstance(product_id.of_type, GraphQLList)


@pytest.mark.parametrize("bad", BAD_IDS, ids=["60KB", "65-chars", "empty", "blank", "hash", "accents", "newline"])
@pytest.mark.parametrize("case", CASES, ids=[case[0] + ":" + case[1] for case in CASES])
def test_a_bad_id_is_refused_naming_the_argument(client: GraphQLClient, bad: str, case: Case) -> None:
    _, field, document, variables, token = case
    register_customer(client.services)

    result = client.execute(document, variables(bad), token=token)

    assert [error["extensions"] for error in result["errors"]] == [{"code": "VALIDATION", "field": field}], result


def test_an_inline_id_is_refused_naming_it(client: GraphQLClient) -> None:
    result = client.execute(f'{{ vehicle(id: "{HUGE}") {{ id }} }}')

    assert result["errors"][0]["extensions"] == {"code": "VALIDATION", "field": "id"}
    assert len(result["errors"][0]["message"]) < 200  # the id is not echoed back


def test_nothing_is_placed_with_a_bad_product_id(client: GraphQLClient) -> None:
    register_customer(client.services)
    order = (
        f'mutation {{ placeOrder(input: {{items: [{{productId: "{HUGE}", quantity: 1}}], '
        'idempotencyKey: "key-00000003"}) { id } }'
    )

    result = client.execute(order, token="customer-token")
    orders = client.execute("{ orders { edges { node { id } } } }", token="customer-token")

    assert result["errors"][0]["extensions"] == {"code": "VALIDATION", "field": "items[0].productId"}
    assert orders["data"]["orders"]["edges"] == []


@pytest.mark.parametrize("good", ["PRD-1001", "prd-1001", "ORD-20231001-0001", "0d7a0cd2-1c2b-4a8e-9f3e-0123456789ab"])
def test_ids_shaped_like_the_platforms_are_looked_up(client: GraphQLClient, good: str) -> None:
    result = client.execute("query($v: ID!) { vehicle(id: $v) { id } }", {"v": good})

    assert result == {"data": {"vehicle": None}, "errors": []}
