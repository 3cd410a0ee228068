"""Every root field declares who may read it (graphql_api.permissions): none is open by omission.

The rules sit on the root fields of Query, Mutation and Subscription. Object types' fields carry none: the only way
to reach one is through a root field, whose rule has already run (an order's client, a vehicle bought).
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from graphql import GraphQLObjectType
from strawberry.permission import BasePermission, PermissionExtension
from strawberry.types.base import get_object_definition

from graphql_api.context import PushContext
from graphql_api.permissions import (
    AccessRule,
    Admin,
    InvoiceOwnerOrAdmin,
    OnlyOwnOrders,
    OrderOwnerOrAdmin,
    Public,
    SignedIn,
)
from graphql_api.schema import Query
from graphql_api.wiring import Services
from realtime.subscriptions import render
from runtime.connection_state import SubscribeRequest
from runtime.principal import Principal
from tests.api.conftest import ADMIN, CUSTOMER, CUSTOMER2, GraphQLClient, Saga, register_customer

# The contract's access rules, one line per root field: a change here is a change of who may do what.
RULES: dict[str, type[AccessRule]] = {
    "Query.vehicles": Public,
    "Query.vehicle": Public,
    "Query.me": SignedIn,
    "Query.products": SignedIn,
    "Query.product": SignedIn,
    "Query.order": SignedIn,
    "Query.orders": SignedIn,
    "Mutation.createVehicle": Admin,
    "Mutation.updateVehicle": Admin,
    "Mutation.registerClient": SignedIn,
    "Mutation.placeOrder": SignedIn,
    "Mutation.cancelOrder": SignedIn,
    "Mutation.createProduct": Admin,
    "Mutation.adjustStock": Admin,
    "Mutation.blockUser": Admin,
    "Mutation.removeFromStaff": Admin,
    "Subscription.orderStatusChanged": OrderOwnerOrAdmin,
    "Subscription.invoiceStatusChanged": InvoiceOwnerOrAdmin,
    "Subscription.vehicleAvailabilityChanged": SignedIn,
}


def _declared_rules(client: GraphQLClient) -> dict[str, list[BasePermission]]:
    """`Type.field` of every root field the schema serves -> the permissions declared on it."""
    schema = client.schema._schema
    declared: dict[str, list[BasePermission]] = {}
    for root in (schema.query_type, schema.mutation_type, schema.subscription_type):
        assert root is not None
        for name in root.fields:
            field = client.schema.get_field_for_type(name, root.name)
            assert field is not None
            declared[f"{root.name}.{name}"] = [
                permission
                for extension in field.extensions
                if isinstance(extension, PermissionExtension)
                for permission in extension.permissions
            ]
    return declared


def test_every_root_field_declares_exactly_one_access_rule(client: GraphQLClient) -> None:
    declared = _declared_rules(client)

    unruled = {name: permissions for name, permissions in declared.items() if len(permissions) != 1}
    assert unruled == {}, "each root field needs one rule from graphql_api.permissions (Public for an open one)"
    foreign = {name for name, permissions in declared.items() if not isinstance(permissions[0], AccessRule)}
    assert foreign == set()


def test_the_rules_are_the_contracts(client: GraphQLClient) -> None:
    declared = {
        name: [type(permission) for permission in permissions] for name, permissions in _declared_rules(client).items()
    }

    assert declared == {name: [rule] for name, rule in RULES.items()}


def test_one_order_hides_anyone_elses_order() -> None:
    order = get_object_definition(Query, strict=True).get_field("order")
    assert order is not None
    assert any(isinstance(extension, OnlyOwnOrders) for extension in order.extensions)


def test_object_types_fields_carry_no_rule_of_their_own(client: GraphQLClient) -> None:
    # Reached only through a root field, whose rule has run; a rule here would run once per item of every page.
    schema = client.schema._schema
    roots = {schema.query_type, schema.mutation_type, schema.subscription_type}
    objects = [
        type_
        for name, type_ in schema.type_map.items()
        if isinstance(type_, GraphQLObjectType) and type_ not in roots and not name.startswith("__")
    ]
    ruled = {
        f"{object_type.name}.{name}"
        for object_type in objects
        for name in object_type.fields
        if (field := client.schema.get_field_for_type(name, object_type.name)) is not None
        and any(isinstance(extension, PermissionExtension) for extension in field.extensions)
    }

    assert {object_type.name for object_type in objects} >= {"Order", "Client", "Vehicle", "Product", "Invoice"}
    assert ruled == set()


ORDER_SUBSCRIPTION = "subscription($id: ID!) { orderStatusChanged(orderId: $id) { id status } }"


def _place(services: Services, saga: Saga) -> str:
    register_customer(services)
    services.catalog.create_product(sku="PRD-1001", description="Tapete", unit_price="49.90", initial_stock=5)
    placed = services.purchase.place_product_order(
        client_id=CUSTOMER.subject,
        lines=[("PRD-1001", 1)],
        idempotency_key="rules-order-0001",
        order_id="order-7",
        correlation_id="rules",
    )
    saga.run()
    return placed.id


def _push(client: GraphQLClient, principal: Principal | None, order_id: str) -> Any:
    order = client.services.orders.get_order(order_id)
    context = PushContext(
        request_id="push",
        services=client.services,
        authorization=None,
        principal=principal,
        state={("order", order_id): order},
    )
    request = SubscribeRequest(id="1", query=ORDER_SUBSCRIPTION, variables={"id": order_id}, operation_name=None)
    return asyncio.run(render(client.schema, request, context))


@pytest.mark.parametrize("principal", [CUSTOMER, ADMIN], ids=["owner", "staff"])
def test_a_push_of_an_order_renders_for_its_owner_and_staff(
    client: GraphQLClient, saga: Saga, principal: Principal
) -> None:
    order_id = _place(client.services, saga)

    assert _push(client, principal, order_id)["data"]["orderStatusChanged"]["id"] == order_id


def test_a_push_of_someone_elses_order_is_refused_as_if_it_did_not_exist(client: GraphQLClient, saga: Saga) -> None:
    # The realtime gateway never subscribes nor pushes to them; the schema refuses on its own all the same.
    order_id = _place(client.services, saga)

    payload = _push(client, CUSTOMER2, order_id)

    assert payload["data"] is None
    assert [(error["message"], error["extensions"]["code"]) for error in payload["errors"]] == [
        (f"order {order_id!r} does not exist", "NOT_FOUND")
    ]


def test_a_push_without_a_subscriber_is_refused(client: GraphQLClient, saga: Saga) -> None:
    order_id = _place(client.services, saga)

    payload = _push(client, None, order_id)

    assert payload["data"] is None
    assert [error["extensions"]["code"] for error in payload["errors"]] == ["UNAUTHENTICATED"]
