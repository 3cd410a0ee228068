"""The Lambda entry point: the same ASGI app behind Mangum, driven with API Gateway HTTP API (v2) events."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from graphql_api.wiring import Services
from local_stack.lambda_events import http_api_event, lambda_context
from runtime.settings import Settings
from tests.integration.conftest import Handler


def call(handler: Handler, event: dict[str, Any]) -> tuple[int, dict[str, str], Any]:
    response = handler(event, lambda_context("graphql-api"))
    body = response["body"]
    return response["statusCode"], response["headers"], json.loads(body) if body else None


def test_an_anonymous_visitor_lists_vehicles_through_the_lambda(handler: Handler, services: Services) -> None:
    services.catalog.create_vehicle(brand="Fiat", model="Mobi", year=2022, color="Branco", price="54990.00")

    status, headers, body = call(
        handler,
        http_api_event(
            "POST",
            "/graphql",
            {"query": "{ vehicles { edges { node { brand price } } } }"},
            request_id="gateway-request-42",
        ),
    )

    assert status == 200
    assert body == {"data": {"vehicles": {"edges": [{"node": {"brand": "Fiat", "price": "54990.00"}}]}}}
    assert headers["x-request-id"] == "gateway-request-42"


def test_an_admin_creates_a_vehicle_with_a_cognito_token(handler: Handler, token_for: Callable[[str], str]) -> None:
    mutation = {
        "query": "mutation($i: CreateVehicleInput!) { createVehicle(input: $i) { brand status } }",
        "variables": {"i": {"brand": "BYD", "model": "Dolphin", "year": 2025, "color": "Azul", "price": "149800.00"}},
    }
    admin = {"authorization": f"Bearer {token_for('admin@example.com')}"}
    customer = {"authorization": f"Bearer {token_for('customer@example.com')}"}

    _, _, created = call(handler, http_api_event("POST", "/graphql", mutation, admin))
    _, _, refused = call(handler, http_api_event("POST", "/graphql", mutation, customer))

    assert created == {"data": {"createVehicle": {"brand": "BYD", "status": "AVAILABLE"}}}
    assert refused["errors"][0]["extensions"] == {"code": "FORBIDDEN"}


def test_a_body_over_the_limit_is_refused_before_it_is_parsed(handler: Handler, settings: Settings) -> None:
    query = {"query": "{ vehicles { edges { cursor } } }", "padding": "x" * settings.limits.max_body_bytes}

    status, _, body = call(handler, http_api_event("POST", "/graphql", query))

    assert status == 413
    assert body["errors"][0]["extensions"] == {"code": "VALIDATION", "field": "body"}


def test_health_reports_each_backing_service(handler: Handler) -> None:
    status, _, body = call(handler, http_api_event("GET", "/health"))

    assert status == 200
    assert body["status"] == "ok"
    assert set(body["services"]) == {"dynamodb", "cognito"}
    assert all(service["status"] == "ok" for service in body["services"].values())


def test_graphiql_is_not_served_on_aws(handler: Handler) -> None:
    response = handler(
        http_api_event("GET", "/graphql", headers={"accept": "text/html"}),
        lambda_context("graphql-api"),
    )
    assert response["statusCode"] == 405
    assert response["headers"]["allow"] == "POST"
    assert "graphiql" not in response["body"].lower()
