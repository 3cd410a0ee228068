"""The GraphQL schema over in-memory stores, executed the way Strawberry's own tests do: schema.execute."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest
import strawberry

from domain.errors import Unauthenticated
from graphql_api.context import RequestContext
from graphql_api.schema import build_schema
from graphql_api.wiring import Services, memory_services
from runtime.auth import Principal, Role
from runtime.settings import Settings

ADMIN = Principal(subject="admin-sub", email="admin@example.com", roles=frozenset({Role.ADMIN}))
CUSTOMER = Principal(subject="customer-sub", email="customer@example.com", roles=frozenset({Role.CUSTOMER}))
CUSTOMER2 = Principal(subject="customer2-sub", email="customer2@example.com", roles=frozenset({Role.CUSTOMER}))
TOKENS = {"admin-token": ADMIN, "customer-token": CUSTOMER, "customer2-token": CUSTOMER2}


class FixedClock:
    def __init__(self) -> None:
        self.current = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)

    def now(self) -> datetime:
        return self.current


class FakeVerifier:
    """Tokens are names here; the real verifier is tested against Cognito in the integration suite."""

    def verify_authorization(self, header: str | None) -> Principal | None:
        if header is None:
            return None
        token = header.removeprefix("Bearer ")
        if token not in TOKENS:
            raise Unauthenticated("the token is not valid")
        return TOKENS[token]


@dataclass
class GraphQLClient:
    schema: strawberry.Schema
    services: Services
    calls: dict[str, int] = field(default_factory=dict)

    def execute(
        self, query: str, variables: dict[str, Any] | None = None, *, token: str | None = None
    ) -> dict[str, Any]:
        context = RequestContext(
            request_id="test-request",
            services=self.services,
            authorization=None if token is None else f"Bearer {token}",
        )
        result = asyncio.run(self.schema.execute(query, variable_values=variables, context_value=context))
        return {
            "data": result.data,
            "errors": [error.formatted for error in result.errors or []],
        }


@pytest.fixture
def settings() -> Settings:
    return Settings.from_env({"APP_ENV": "aws", "CURSOR_SECRET": "api-tests"})


@pytest.fixture
def services(settings: Settings) -> Services:
    return memory_services(settings, clock=FixedClock(), verifier=FakeVerifier())


@pytest.fixture
def client(settings: Settings, services: Services) -> GraphQLClient:
    return GraphQLClient(schema=build_schema(settings), services=services)
