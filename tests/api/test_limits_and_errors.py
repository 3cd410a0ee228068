"""What protects the API: query limits, no introspection or suggestions on AWS, masked unexpected errors."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from domain.order_status import VehicleStatus
from domain.pages import Page
from domain.vehicles import Vehicle
from graphql_api.schema import build_schema
from graphql_api.wiring import Services
from runtime.settings import Settings
from tests.api.conftest import GraphQLClient


def codes(result: dict[str, Any]) -> list[str]:
    return [error["extensions"]["code"] for error in result["errors"]]


def test_a_query_deeper_than_the_limit_is_refused(client: GraphQLClient) -> None:
    # The schema has no cycles yet, so depth is built with nested fragments... of the same short path;
    # __typename at the bottom of connection > edges > node gives depth 4, well under 10: allowed.
    allowed = client.execute("{ vehicles { edges { node { __typename } } } }")
    assert allowed["errors"] == []


def test_a_deep_query_is_refused(settings: Settings, services: Services) -> None:
    tight = GraphQLClient(
        schema=build_schema(Settings.from_env({"CURSOR_SECRET": "x", "GRAPHQL_MAX_DEPTH": "2"})), services=services
    )
    result = tight.execute("{ vehicles { edges { node { id } } } }")
    assert codes(result) == ["VALIDATION"]
    assert "exceeds maximum operation depth" in result["errors"][0]["message"]


def test_too_many_aliases_are_refused(client: GraphQLClient) -> None:
    query = "{ " + " ".join(f'a{n}: vehicle(id: "{n}") {{ id }}' for n in range(16)) + " }"
    result = client.execute(query)
    assert codes(result) == ["VALIDATION"]
    assert result["data"] is None


def test_aliases_hidden_in_fragments_count_too(client: GraphQLClient) -> None:
    fragment = "fragment Many on Query { " + " ".join(f'a{n}: vehicle(id: "{n}") {{ id }}' for n in range(16)) + " }"
    result = client.execute("{ ...Many } " + fragment)
    assert codes(result) == ["VALIDATION"]


def test_a_document_with_too_many_tokens_is_refused(client: GraphQLClient) -> None:
    query = "{ vehicles { edges { node { " + "id " * 2100 + "} } } }"
    result = client.execute(query)
    assert codes(result) == ["VALIDATION"]
    assert "token" in result["errors"][0]["message"].lower()


def test_introspection_is_off_on_aws(client: GraphQLClient) -> None:
    result = client.execute("{ __schema { types { name } } }")
    assert result["data"] is None
    assert set(codes(result)) == {"VALIDATION"}


def test_introspection_is_on_locally(services: Services) -> None:
    local = GraphQLClient(schema=build_schema(Settings.from_env({"APP_ENV": "local"})), services=services)
    result = local.execute("{ __schema { queryType { name } } }")
    assert result == {"data": {"__schema": {"queryType": {"name": "Query"}}}, "errors": []}


def test_field_suggestions_are_off_on_aws(client: GraphQLClient) -> None:
    result = client.execute("{ vehicles { edges { node { bran } } } }")
    assert codes(result) == ["VALIDATION"]
    assert "Did you mean" not in result["errors"][0]["message"]


class BrokenVehicles:
    def list_by_status(self, status: VehicleStatus, first: int, after: str | None) -> Page[Vehicle]:
        raise RuntimeError("connection reset by peer: secret-host-name:8000")


def test_an_unexpected_error_is_masked_and_logged_with_the_request_id(
    client: GraphQLClient, caplog: pytest.LogCaptureFixture
) -> None:
    object.__setattr__(client.services, "vehicles", BrokenVehicles())

    with caplog.at_level(logging.ERROR, logger="vehicle_platform.graphql"):
        result = client.execute("{ vehicles { edges { cursor } } }")

    assert result["errors"][0]["message"] == "Unexpected error."
    assert result["errors"][0]["extensions"] == {"code": "INTERNAL", "requestId": "test-request"}
    assert "secret-host-name" not in str(result)
    assert "test-request" in caplog.text
    assert "secret-host-name" in caplog.text


def test_a_variable_of_the_wrong_type_names_the_variable(client: GraphQLClient) -> None:
    result = client.execute("query($first: Int) { vehicles(first: $first) { edges { cursor } } }", {"first": "ten"})
    assert result["errors"][0]["extensions"] == {"code": "VALIDATION", "field": "first"}
