"""The HTTP edge of the API: what a client gets for requests that never reach a resolver."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from graphql_api.app import create_app
from graphql_api.wiring import Services
from runtime.settings import Settings


def post(settings: Settings, services: Services, path: str = "/graphql", **kwargs: Any) -> httpx.Response:
    async def send() -> httpx.Response:
        transport = httpx.ASGITransport(app=create_app(settings, services))
        async with httpx.AsyncClient(transport=transport, base_url="http://api") as client:
            return await client.post(path, **kwargs)

    return asyncio.run(send())


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
    ],
)
def test_a_malformed_request_names_what_is_wrong(
    settings: Settings, services: Services, kwargs: dict[str, Any], status: int, field: str
) -> None:
    response = post(settings, services, **kwargs)

    assert response.status_code == status
    assert response.json()["errors"][0]["extensions"] == {"code": "VALIDATION", "field": field}


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
