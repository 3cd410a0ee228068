"""CORS on the local API, answered as API Gateway answers it for the CDK app's settings (runtime/cors.py)."""

from __future__ import annotations

import pytest

from graphql_api.wiring import Services
from runtime.settings import Settings
from tests.api.test_http_endpoint import request

SPA = "http://127.0.0.1:5173"
LOCAL = Settings.from_env({"APP_ENV": "local", "SPA_ORIGIN": SPA})


def preflight(
    services: Services, origin: str, method: str = "POST", headers: str = "authorization,content-type"
) -> dict[str, str]:
    response = request(
        LOCAL,
        services,
        "OPTIONS",
        headers={"origin": origin, "access-control-request-method": method, "access-control-request-headers": headers},
    )
    assert response.status_code == 204
    return {name: value for name, value in response.headers.items() if name.startswith("access-control-")}


def test_the_spas_preflight_is_allowed_what_it_sends(services: Services) -> None:
    assert preflight(services, SPA) == {
        "access-control-allow-origin": SPA,
        "access-control-allow-methods": "POST,GET,OPTIONS",
        "access-control-allow-headers": "authorization,content-type",
        "access-control-max-age": "3600",
    }


@pytest.mark.parametrize(
    ("origin", "method", "headers"),
    [
        ("http://evil.example", "POST", "content-type"),
        ("http://localhost:5173", "POST", "content-type"),  # another spelling of the origin is another origin
        (SPA, "DELETE", "content-type"),
        (SPA, "POST", "content-type,x-api-key"),
    ],
    ids=["other-origin", "localhost-spelling", "method", "header"],
)
def test_a_preflight_outside_the_rules_gets_no_cors_headers(
    services: Services, origin: str, method: str, headers: str
) -> None:
    assert preflight(services, origin, method, headers) == {}


def test_a_response_to_the_spa_says_it_may_read_it_and_the_request_id(services: Services) -> None:
    response = request(LOCAL, services, "POST", json={"query": "{ __typename }"}, headers={"origin": SPA})

    assert response.headers["access-control-allow-origin"] == SPA
    assert response.headers["access-control-expose-headers"] == "x-request-id"


def test_a_response_to_another_origin_does_not(services: Services) -> None:
    response = request(
        LOCAL, services, "POST", json={"query": "{ __typename }"}, headers={"origin": "http://evil.example"}
    )
    assert "access-control-allow-origin" not in response.headers


def test_on_aws_the_gateway_answers_cors_not_the_function(settings: Settings, services: Services) -> None:
    response = request(settings, services, "POST", json={"query": "{ __typename }"}, headers={"origin": SPA})
    assert "access-control-allow-origin" not in response.headers
