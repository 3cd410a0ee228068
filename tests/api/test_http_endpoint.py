"""The HTTP edge of the API: what a client gets for requests that never reach a resolver."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import httpx
import pytest

from graphql_api.app import create_app
from graphql_api.wiring import Services
from runtime.settings import Settings

# 40 levels of lists: valid JSON, deeper than anything the API reads.
DEEP: object = []
for _ in range(40):
    DEEP = [DEEP]


def request(
    settings: Settings, services: Services, method: str, path: str = "/graphql", **kwargs: Any
) -> httpx.Response:
    async def send() -> httpx.Response:
        transport = httpx.ASGITransport(app=create_app(settings, services))
        async with httpx.AsyncClient(transport=transport, base_url="http://api") as client:
            return await client.request(method, path, **kwargs)

    return asyncio.run(send())


def post(settings: Settings, services: Services, path: str = "/graphql", **kwargs: Any) -> httpx.Response:
    return request(settings, services, "POST", path, **kwargs)


def test_a_query_is_answered_with_json(settings: Settings, services: Services) -> None:
    response = post(settings, services, json={"query": "{ vehicles { edges { cursor } } }"})

    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {"data": {"vehicles": {"edges": []}}}
    assert response.headers["x-request-id"]


def test_the_request_id_the_client_sent_is_kept(settings: Settings, services: Services) -> None:
    response = post(settings, services, json={"query": "{ __typename }"}, headers={"x-request-id": "spa-123"})
    assert response.headers["x-request-id"] == "spa-123"


@pytest.mark.parametrize(
    ("kwargs", "status", "field"),
    [
        ({"content": b"{not json", "headers": {"content-type": "application/json"}}, 400, "body"),
        ({"json": ["a", "list"]}, 400, "body"),
        ({"json": {"variables": {}}}, 400, "query"),
        ({"json": {"query": "{ __typename }", "variables": [1]}}, 400, "variables"),
        ({"json": {"query": "{ __typename }", "operationName": 7}}, 400, "operationName"),
        ({"json": {"query": "query A { __typename }", "operationName": "B"}}, 400, "operationName"),
        # Deeper than json.loads can recurse (a RecursionError once escaped as a 500), or deep enough to reach
        # the variables' coercion, which recurses too.
        ({"content": b"[" * 1000 + b"]" * 1000, "headers": {"content-type": "application/json"}}, 400, "body"),
        ({"json": {"query": "{ __typename }", "variables": {"v": DEEP}}}, 400, "body"),
        (
            {"content": b'{"query": "{ __typename }", "x": NaN}', "headers": {"content-type": "application/json"}},
            400,
            "body",
        ),
        ({"content": b"\xff\xfe{}", "headers": {"content-type": "application/json"}}, 400, "body"),
    ],
    ids=[
        "not-json",
        "a-list",
        "no-query",
        "list-variables",
        "numeric-operation",
        "unknown-operation",
        "nested-1000-deep",
        "deep-variables",
        "nan",
        "not-utf8",
    ],
)
def test_a_malformed_request_names_what_is_wrong(
    settings: Settings,
    services: Services,
    *,
    caplog: pytest.LogCaptureFixture,
    kwargs: dict[str, Any],
    status: int,
    field: str,
) -> None:
    with caplog.at_level(logging.WARNING):
        response = post(settings, services, **kwargs)

    assert response.status_code == status
    assert response.json()["errors"][0]["extensions"] == {"code": "VALIDATION", "field": field}
    assert not [record for record in caplog.records if record.levelno >= logging.ERROR]


def test_a_body_that_is_not_json_is_unsupported(settings: Settings, services: Services) -> None:
    response = post(settings, services, content=b"query { __typename }", headers={"content-type": "text/plain"})
    assert response.status_code == 415


def test_an_oversized_body_is_refused_with_413(settings: Settings, services: Services) -> None:
    response = post(settings, services, json={"query": "{ __typename }", "pad": "x" * 70_000})
    assert response.status_code == 413
    assert response.json()["errors"][0]["extensions"] == {"code": "VALIDATION", "field": "body"}


def test_an_unknown_path_is_not_found(settings: Settings, services: Services) -> None:
    response = post(settings, services, path="/nope", json={})
    assert response.status_code == 404
    assert response.json()["errors"][0]["extensions"]["code"] == "NOT_FOUND"


def test_several_operations_without_an_operation_name_run_none(settings: Settings, services: Services) -> None:
    document = 'query Read { __typename } mutation Write { adjustStock(productId: "PRD-1001", delta: 1) { id } }'

    response = post(settings, services, json={"query": document})

    assert "data" not in response.json()  # refused before execution: the GraphQL spec leaves data out
    assert response.json()["errors"][0]["extensions"] == {"code": "VALIDATION", "field": "operationName"}


def test_the_named_operation_of_several_is_the_one_run(settings: Settings, services: Services) -> None:
    document = "query Read { __typename } query Other { vehicles { edges { cursor } } }"
    response = post(settings, services, json={"query": document, "operationName": "Read"})
    assert response.json() == {"data": {"__typename": "Query"}}


@pytest.mark.parametrize(
    "headers",
    [
        [("authorization", "Bearer customer-token"), ("authorization", "Bearer admin-token")],
        # How API Gateway hands repeated headers to the function: joined with a comma.
        [("authorization", "Bearer customer-token,Bearer admin-token")],
    ],
    ids=["two-headers", "joined-by-the-gateway"],
)
def test_two_credentials_are_refused_as_unauthenticated(
    settings: Settings, services: Services, headers: list[tuple[str, str]]
) -> None:
    response = post(settings, services, json={"query": "{ me { name } }"}, headers=headers)

    assert response.status_code == 401
    assert response.json()["errors"][0]["extensions"] == {"code": "UNAUTHENTICATED"}


@pytest.mark.parametrize("app_env", ["aws", "local"])
def test_a_get_query_is_refused_as_the_wrong_method(services: Services, app_env: str) -> None:
    settings = Settings.from_env({"APP_ENV": app_env, "CURSOR_SECRET": "x"})

    response = request(settings, services, "GET", params={"query": "{ me { name } }"})

    assert response.status_code == 405
    assert response.headers["allow"] == "POST"
    assert response.json()["errors"][0]["extensions"] == {"code": "VALIDATION"}


def test_a_browser_opening_the_endpoint_locally_is_sent_to_the_bundled_explorer(services: Services) -> None:
    local = Settings.from_env({"APP_ENV": "local", "SPA_ORIGIN": "http://127.0.0.1:5173"})

    response = request(local, services, "GET", headers={"accept": "text/html"})

    assert response.status_code == 200
    assert 'url=http://127.0.0.1:5173/admin/explorador"' in response.text
    # Nothing is loaded from elsewhere (Strawberry's page took GraphiQL from a CDN).
    assert "<script" not in response.text


GRAPHQL_RESPONSE = "application/graphql-response+json"


def test_a_client_accepting_graphql_response_json_learns_a_refusal_from_the_status(
    settings: Settings, services: Services
) -> None:
    response = post(settings, services, json={"query": "{ nope }"}, headers={"accept": GRAPHQL_RESPONSE})

    assert response.status_code == 400
    assert response.headers["content-type"] == GRAPHQL_RESPONSE
    assert "data" not in response.json()
    assert response.json()["errors"][0]["extensions"]["code"] == "VALIDATION"


def test_a_client_accepting_graphql_response_json_gets_200_once_execution_began(
    settings: Settings, services: Services
) -> None:
    # A resolver's error (here: who is asking) is part of the response, not a refusal of the request.
    response = post(settings, services, json={"query": "{ me { name } }"}, headers={"accept": GRAPHQL_RESPONSE})

    assert response.status_code == 200
    assert response.headers["content-type"] == GRAPHQL_RESPONSE
    assert response.json()["errors"][0]["path"] == ["me"]


def test_a_client_that_only_knows_application_json_gets_200_and_no_data_for_a_refusal(
    settings: Settings, services: Services
) -> None:
    response = post(settings, services, json={"query": "{ nope }"}, headers={"accept": "application/json"})

    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert "data" not in response.json()
