"""Integration fixtures: moto in server mode (its own process, over real HTTP) with every resource created."""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest

from composition.aws import api_services
from graphql_api.wiring import Services
from local_stack.config import DEMO_PASSWORD
from local_stack.emulator import Emulator
from local_stack.pix_psp import LocalPsp, PspServer, PspSettings
from local_stack.resources import Provisioned, provision
from local_stack.users import LocalUserPool
from runtime.settings import Settings, get_settings
from tests.conftest import EMULATOR_PORT


@pytest.fixture(scope="session")
def emulator() -> Iterator[str]:
    with Emulator("127.0.0.1", EMULATOR_PORT) as running:
        yield running.endpoint


@pytest.fixture(scope="session")
def provisioned(emulator: str) -> Provisioned:
    return provision(emulator, os.environ["AWS_REGION"], os.environ["TABLE_NAME"])


@pytest.fixture(scope="session")
def local_psp() -> Iterator[LocalPsp]:
    """The local PSP, on a port of its own, as the saga's API Pix (its settings point there for the session). It
    calls no webhook: the tests call the webhook handler themselves (tests/integration/saga_harness.py)."""
    with PspServer(LocalPsp(PspSettings(refund_settle_seconds=0.05)), port=0) as server:
        os.environ["PIX_API_URL"] = server.api_url
        os.environ["PIX_TOKEN_URL"] = server.token_url
        get_settings.cache_clear()
        yield server.psp


@pytest.fixture(scope="session")
def settings(emulator: str, provisioned: Provisioned, local_psp: LocalPsp) -> Settings:
    return Settings.from_env({**os.environ, **provisioned.function_environment(emulator)})


def _empty_table(table_name: str) -> None:
    # A test-only scan: every test starts from an empty table, without recreating the emulator's resources.
    table = boto3.resource("dynamodb").Table(table_name)
    with table.batch_writer() as batch:
        for page in table.meta.client.get_paginator("scan").paginate(
            TableName=table_name, ProjectionExpression="PK, SK"
        ):
            for key in page["Items"]:
                batch.delete_item(Key=key)


@pytest.fixture
def services(settings: Settings) -> Iterator[Services]:
    yield api_services(settings)
    _empty_table(settings.table_name)


@pytest.fixture(scope="session")
def demo_users(emulator: str, provisioned: Provisioned) -> dict[str, str]:
    """The three demo users in the pool; maps each email to its Cognito subject."""
    from local_stack.demo_data import seed_users

    return seed_users(boto3.client("cognito-idp"), provisioned.user_pool_id, DEMO_PASSWORD)


@pytest.fixture(scope="session")
def token_for(emulator: str, demo_users: dict[str, str]) -> Callable[[str], str]:
    tokens: dict[str, str] = {}

    def issue(email: str) -> str:
        if email not in tokens:
            tokens[email] = LocalUserPool(emulator, os.environ["AWS_REGION"]).token(email)
        return tokens[email]

    return issue


# The GraphQL Lambda's entry point: an API Gateway HTTP API event and a context in, the proxy response out.
Handler = Callable[[dict[str, Any], Any], dict[str, Any]]


@pytest.fixture
def handler(settings: Settings, services: Services, monkeypatch: pytest.MonkeyPatch) -> Iterator[Handler]:
    """`graphql_api.handler.handler` as Lambda loads it in AWS mode (real token verification) against the emulator."""
    monkeypatch.setenv("COGNITO_USER_POOL_ID", settings.cognito_user_pool_id)
    monkeypatch.setenv("COGNITO_CLIENT_ID", settings.cognito_client_id)
    monkeypatch.setenv("COGNITO_JWKS_URL", settings.cognito_jwks_url)
    monkeypatch.setenv("APP_ENV", "aws")
    get_settings.cache_clear()
    module = importlib.reload(importlib.import_module("graphql_api.handler"))
    yield module.handler
    get_settings.cache_clear()
