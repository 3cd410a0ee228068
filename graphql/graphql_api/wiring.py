"""Builds what the resolvers use, from the settings: DynamoDB stores on AWS and in the local stack."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Protocol

from domain.catalog import Catalog
from domain.ports import ClientStore, Clock, ProductStore, VehicleStore
from runtime.auth import Principal, TokenVerifier
from runtime.clock import SystemClock
from runtime.settings import Settings


class Verifier(Protocol):
    def verify_authorization(self, header: str | None) -> Principal | None: ...


@dataclass(frozen=True, slots=True)
class Services:
    vehicles: VehicleStore
    products: ProductStore
    clients: ClientStore
    clock: Clock
    verifier: Verifier
    # Each check raises when its backing service is unreachable; /health runs them all.
    health_checks: Mapping[str, Callable[[], None]]

    @property
    def catalog(self) -> Catalog:
        return Catalog(vehicles=self.vehicles, products=self.products, clock=self.clock, new_id=new_id)


def new_id() -> str:
    return str(uuid.uuid4())


def dynamo_services(settings: Settings) -> Services:
    # Imported here so that a process which never touches DynamoDB does not pay for PynamoDB at import time.
    from pynamodb.connection import Connection

    from persistence.cursors import CursorCodec
    from persistence.models import TableItem
    from persistence.repositories import DynamoClientStore, DynamoProductStore, DynamoVehicleStore

    cursors = CursorCodec(settings.cursor_secret)
    verifier = TokenVerifier(
        issuer=settings.cognito_issuer,
        client_id=settings.cognito_client_id,
        jwks_url=settings.cognito_jwks_url,
    )

    def check_table() -> None:
        TableItem.describe_table()

    def check_user_pool() -> None:
        verifier.fetch_keys()

    return Services(
        vehicles=DynamoVehicleStore(cursors),
        products=DynamoProductStore(cursors),
        clients=DynamoClientStore(Connection(region=settings.region, host=settings.endpoint_url)),
        clock=SystemClock(),
        verifier=verifier,
        health_checks={"dynamodb": check_table, "cognito": check_user_pool},
    )
