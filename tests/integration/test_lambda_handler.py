"""The Lambda entry point: the same ASGI app behind Mangum, driven with API Gateway HTTP API (v2) events."""

from __future__ import annotations

import importlib
import json
import os
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from graphql_api.wiring import Services
from runtime.settings import Settings, get_settings

Handler = Callable[[dict[str, Any], Any], dict[str, Any]]


class LambdaContext:
    function_name = "graphql-api"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:graphql-api"
    aws_request_id = "lambda-request-1"


def http_api_event(
    method: str, path: str, body: dict[str, Any] | str | None = None, headers: dict[str, str] | None = None
) -> dict[str, Any]:
    raw = body if isinstance(body, str) or body is None else json.dumps(body)
    return {
        "version": "2.0",
        "routeKey": f"{method} {path}",
        "rawPath": path,
        "rawQueryString": "",
        "headers": {"content-type": "application/json", "host": "api.example.com", **(headers or {})},
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "api",
            "domainName": "api.example.com",
            "http": {
                "method": method,
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": "203.0.113.9",
                "userAgent": "t",
            },
            "requestId": "gateway-request-42",
            "routeKey": f"{method} {path}",
            "stage": "$default",
            "time": "23/Nov/2026:12:00:00 +0000",
            "timeEpoch": 1795435200000,
        },
        "body": raw,
        "isBase64Encoded": False,
    }


@pytest.fixture
def handler(settings: Settings, services: Services, monkeypatch: pytest.MonkeyPatch) -> Iterator[Handler]:
    monkeypatch.setenv("COGNITO_USER_POOL_ID", settings.cognito_user_pool_id)
    monkeypatch.setenv("COGNITO_CLIENT_ID", settings.cognito_client_id)
    monkeypatch.setenv("COGNITO_JWKS_URL", settings.cognito_jwks_url)
    monkeypatch.setenv("APP_ENV", "aws")
    get_settings.cache_clear()
    module = importlib.import_module("graphql_api.handler")
    module = importlib.reload(module)
    yield module.handler
    get_settings.cache_clear()
    assert os.environ["APP_ENV"] == "aws"


def call(handler: Handler, event: dict[str, Any]) -> tuple[int, dict[str, str], Any]:
    response = handler(event, LambdaContext())
    body = response["body"]
    return response["statusCode"], response["headers"], json.loads(body) if body else None


def test_an_anonymous_visitor_lists_vehicles_through_the_lambda(handler: Handler, services: Services) -> None:
    services.catalog.create_vehicle(brand="Fiat", model="Mobi", year=2022, color="Branco", price="54990.00")

    status, headers, body = call(
        handler, http_api_event("POST", "/graphql", {"query": "{ vehicles { edges { node { brand price } } } }"})
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
    response = handler(http_api_event("GET", "/graphql", headers={"accept": "text/html"}), LambdaContext())
    assert response["statusCode"] == 405
    assert response["headers"]["allow"] == "POST"
    assert "graphiql" not in response["body"].lower()
