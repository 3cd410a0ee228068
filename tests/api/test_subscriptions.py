"""Subscriptions against the API's schema: checked when they start, rendered for each change pushed."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from graphql_api.context import PushContext
from graphql_api.limits import document_policy
from graphql_api.schema import build_schema
from graphql_api.wiring import Services
from realtime.subscriptions import Plan, Refused, plan, render, variables_key
from runtime.connection_state import SubscribeRequest
from runtime.settings import Settings
from tests.api.conftest import CUSTOMER, Saga, register_customer
from tests.api.generated_documents import doubling

ORDER_SUBSCRIPTION = "subscription($id: ID!) { orderStatusChanged(orderId: $id) { id status total } }"


def request(query: str, variables: dict[str, Any] | None = None, operation_name: str | None = None) -> SubscribeRequest:
    return SubscribeRequest(id="1", query=query, variables=variables, operation_name=operation_name)


def planned(settings: Settings, subscribe: SubscribeRequest) -> Plan:
    return plan(build_schema(settings), subscribe, document_policy(settings))


def test_an_order_subscription_listens_to_that_order(settings: Settings) -> None:
    subscription = planned(settings, request(ORDER_SUBSCRIPTION, {"id": "order-7"}))

    assert (subscription.field, subscription.topic, subscription.order_id) == (
        "orderStatusChanged",
        "order:order-7",
        "order-7",
    )


def test_an_invoice_subscription_listens_to_that_orders_invoice(settings: Settings) -> None:
    query = "subscription($id: ID!) { invoiceStatusChanged(orderId: $id) { status } }"

    subscription = planned(settings, request(query, {"id": "order-7"}))

    assert (subscription.topic, subscription.order_id) == ("invoice:order-7", "order-7")


def test_vehicle_availability_listens_to_every_vehicle(settings: Settings) -> None:
    subscription = planned(settings, request("subscription { vehicleAvailabilityChanged { id status } }"))
    assert (subscription.topic, subscription.order_id) == ("vehicles", None)


@pytest.mark.parametrize(
    ("query", "variables", "fragment"),
    [
        ("subscription { nope }", None, "Cannot query field"),
        ("subscription {", None, "Syntax Error"),
        ("{ vehicles { edges { cursor } } }", None, "served over HTTP"),
        (ORDER_SUBSCRIPTION, {"id": None}, "$id"),
        (ORDER_SUBSCRIPTION, None, "$id"),
        (
            "subscription { a: vehicleAvailabilityChanged { id } b: vehicleAvailabilityChanged { id } }",
            None,
            "only one top level field",
        ),
        # The HTTP API's limits apply when the subscription starts, not at each push.
        (doubling(21, "subscription { vehicleAvailabilityChanged { ...F%d } }"), None, "fields with its fragments"),
        (
            "subscription { vehicleAvailabilityChanged { " + " ".join(f"a{n}: id" for n in range(600)) + " } }",
            None,
            "600 aliases found",
        ),
        ("subscription { vehicleAvailabilityChanged { " + "id " * 2100 + "} }", None, "more than 2000 tokens"),
    ],
)
def test_a_subscription_that_cannot_run_is_refused_with_its_errors(
    settings: Settings, query: str, variables: dict[str, Any] | None, fragment: str
) -> None:
    with pytest.raises(Refused) as refused:
        planned(settings, request(query, variables))

    assert fragment.lower() in " ".join(error["message"] for error in refused.value.errors).lower()
    assert all(error["extensions"]["code"] == "VALIDATION" for error in refused.value.errors)


def test_a_push_renders_exactly_the_selection_asked_for(settings: Settings, services: Services) -> None:
    vehicle = services.catalog.create_vehicle(brand="BYD", model="Dolphin", year=2025, color="Azul", price="149800")
    context = PushContext(
        request_id="push", services=services, authorization=None, principal=CUSTOMER, state={("vehicle", None): vehicle}
    )
    query = "subscription { vehicleAvailabilityChanged { id brand status } }"

    payload = asyncio.run(render(build_schema(settings), request(query), context))

    assert payload == {
        "data": {"vehicleAvailabilityChanged": {"id": vehicle.id, "brand": "BYD", "status": "AVAILABLE"}}
    }


def test_an_invoice_push_renders_the_orders_invoice(settings: Settings, services: Services, saga: Saga) -> None:
    register_customer(services)
    services.catalog.create_product(sku="PRD-1001", description="Tapete", unit_price="49.90", initial_stock=5)
    placed = services.purchase.place_product_order(
        client_id=CUSTOMER.subject,
        lines=[("PRD-1001", 1)],
        idempotency_key="push-invoice-0001",
        order_id="order-7",
        correlation_id="push",
    )
    saga.run()
    order = saga.pay(placed.id)
    assert order.invoice is not None
    assert order.invoice.document_key is not None
    context = PushContext(
        request_id="push",
        services=services,
        authorization=None,
        principal=CUSTOMER,
        state={("invoice", order.id): order},
    )
    query = "subscription($id: ID!) { invoiceStatusChanged(orderId: $id) { number status url } }"

    payload = asyncio.run(render(build_schema(settings), request(query, {"id": order.id}), context))

    assert payload == {
        "data": {
            "invoiceStatusChanged": {
                "number": order.invoice.number,
                "status": "CONFIRMED",
                "url": services.invoices.link(order.invoice.document_key),
            }
        }
    }


def test_subscribers_asking_the_same_thing_share_a_rendering() -> None:
    first = SubscribeRequest(id="1", query=ORDER_SUBSCRIPTION, variables={"id": "o"}, operation_name=None)
    second = SubscribeRequest(id="9", query=ORDER_SUBSCRIPTION, variables={"id": "o"}, operation_name=None)
    other = SubscribeRequest(id="1", query=ORDER_SUBSCRIPTION, variables={"id": "p"}, operation_name=None)

    assert variables_key(first) == variables_key(second) != variables_key(other)
