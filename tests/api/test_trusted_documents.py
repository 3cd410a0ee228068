"""Trusted documents: the web app's operations served by id, and, where configured, nothing else."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from graphql_api.http import GraphQLOverHTTP
from graphql_api.limits import document_policy
from graphql_api.schema import build_schema
from graphql_api.trusted_documents import MANIFEST, TrustedDocuments, document_id
from graphql_api.wiring import Services
from runtime.settings import Settings

WEB_MANIFEST = Path(__file__).parents[2] / "web" / "src" / "gql" / "persisted-documents.json"
PAGE = "query Page { vehicles(first: 2) { edges { cursor } } }"
# Deeper than GRAPHQL_MAX_DEPTH=1 allows: refused as text, served by id (a trusted document is not validated again).
TIGHT = {"CURSOR_SECRET": "x", "GRAPHQL_MAX_DEPTH": "1"}


def post(
    settings: Settings,
    services: Services,
    body: dict[str, Any],
    *,
    trusted: TrustedDocuments | None = None,
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    app = GraphQLOverHTTP(
        build_schema(settings), settings, services, trusted or TrustedDocuments({document_id(PAGE): PAGE})
    )

    async def send() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://api") as client:
            return await client.post("/graphql", json=body, headers=headers or {})

    return asyncio.run(send())


def only_trusted(**extra: str) -> Settings:
    return Settings.from_env({"CURSOR_SECRET": "x", "TRUSTED_DOCUMENTS_ONLY": "1", **extra})


def test_the_api_holds_the_manifest_the_web_app_was_built_with() -> None:
    assert json.loads(MANIFEST.read_text()) == json.loads(WEB_MANIFEST.read_text()), (
        "graphql/graphql_api/trusted_documents.json differs from web's manifest: run `npm run codegen` in web/"
    )
    assert len(TrustedDocuments.load()) > 0


@pytest.mark.parametrize("text", list(json.loads(MANIFEST.read_text()).values()))
def test_every_trusted_document_passes_the_apis_own_rules(text: str) -> None:
    # Served without validation: so each must pass it, limits included, with the schema it is served against.
    settings = Settings.from_env({"APP_ENV": "aws", "CURSOR_SECRET": "x"})
    document_policy(settings).check(build_schema(settings)._schema, text)


def test_a_manifest_whose_text_is_not_its_hash_is_refused() -> None:
    with pytest.raises(ValueError, match="does not hold the text"):
        TrustedDocuments({document_id(PAGE): PAGE + " "})


@pytest.mark.parametrize(
    "body",
    [
        {"documentId": document_id(PAGE)},
        {"extensions": {"persistedQuery": {"version": 1, "sha256Hash": document_id(PAGE).removeprefix("sha256:")}}},
    ],
    ids=["documentId", "apq-hash"],
)
def test_a_document_is_run_by_its_id_without_being_validated_again(services: Services, body: dict[str, Any]) -> None:
    tight = Settings.from_env(TIGHT)

    assert post(tight, services, body).json() == {"data": {"vehicles": {"edges": []}}}
    as_text = post(tight, services, {"query": PAGE}).json()
    assert "exceeds maximum operation depth" in as_text["errors"][0]["message"]


def test_an_unknown_id_alone_asks_for_the_text_as_apq_clients_expect(services: Services) -> None:
    response = post(Settings.from_env({"CURSOR_SECRET": "x"}), services, {"documentId": "sha256:" + "0" * 64})

    assert response.status_code == 400
    assert response.json()["errors"][0] == {
        "message": "PersistedQueryNotFound",
        "extensions": {"code": "PERSISTED_QUERY_NOT_FOUND"},
    }


def test_an_unknown_id_with_its_text_runs_the_text(services: Services) -> None:
    body = {"query": "{ __typename }", "extensions": {"persistedQuery": {"version": 1, "sha256Hash": "0" * 64}}}
    assert post(Settings.from_env({"CURSOR_SECRET": "x"}), services, body).json() == {"data": {"__typename": "Query"}}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"documentId": "md5:abc"}, "documentId"),
        ({"documentId": 7}, "documentId"),
        ({"extensions": {"persistedQuery": {"sha256Hash": "xyz"}}}, "extensions.persistedQuery.sha256Hash"),
        ({"query": "{ __typename }", "extensions": "yes"}, "extensions"),
    ],
)
def test_a_malformed_id_names_its_field(services: Services, body: dict[str, Any], field: str) -> None:
    response = post(Settings.from_env({"CURSOR_SECRET": "x"}), services, body)
    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"] == {"code": "VALIDATION", "field": field}


def test_where_only_trusted_documents_are_served_other_text_is_refused(services: Services) -> None:
    response = post(only_trusted(), services, {"query": "{ __typename }"})

    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"] == {"code": "TRUSTED_DOCUMENTS_ONLY"}


def test_where_only_trusted_documents_are_served_their_exact_text_is_too(services: Services) -> None:
    assert post(only_trusted(), services, {"query": PAGE}).json() == {"data": {"vehicles": {"edges": []}}}


def test_staff_may_send_any_document_for_the_api_explorer(services: Services) -> None:
    answer = post(
        only_trusted(), services, {"query": "{ __typename }"}, headers={"authorization": "Bearer admin-token"}
    )
    assert answer.json() == {"data": {"__typename": "Query"}}


@pytest.mark.parametrize("token", ["customer-token", "forged"])
def test_customers_and_bad_tokens_may_not(services: Services, token: str) -> None:
    answer = post(only_trusted(), services, {"query": "{ __typename }"}, headers={"authorization": f"Bearer {token}"})
    assert answer.json()["errors"][0]["extensions"]["code"] == "TRUSTED_DOCUMENTS_ONLY"
