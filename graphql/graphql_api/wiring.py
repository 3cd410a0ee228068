"""Builds what the resolvers use, from the settings: DynamoDB stores on AWS and in the local stack."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Protocol

from domain.catalog import Catalog
from domain.ports import ClientStore, Clock, OrderReader, ProductStore, VehicleStore
from domain.purchase import Purchase
from runtime.auth import TokenVerifier
from runtime.clock import SystemClock
from runtime.principal import Principal
from runtime.settings import Settings


class Verifier(Protocol):
    def verify_authorization(self, header: str | None) -> Principal | None: ...


class InvoiceLinks(Protocol):
    def link(self, key: str) -> str:
        """A short-lived link to the invoice document stored under `key`."""
        ...


@dataclass(frozen=True, slots=True)
class Services:
    vehicles: VehicleStore
    products: ProductStore
    clients: ClientStore
    orders: OrderReader
    purchase: Purchase
    invoices: InvoiceLinks
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
    from persistence.models import TableItem, bind
    from persistence.purchases import DynamoPurchaseStore
    from persistence.repositories import DynamoClientStore, DynamoProductStore, DynamoVehicleStore
    from runtime.invoices import S3InvoiceArchive
    from runtime.payment_provider import purchase_saga

    bind(settings.table_name, settings.region, settings.endpoint_url)
    cursors = CursorCodec(settings.cursor_secret)
    invoices = S3InvoiceArchive(settings.orders.invoices_bucket, settings.orders.invoice_link_seconds)
    connection = Connection(region=settings.region, host=settings.endpoint_url)
    purchases = DynamoPurchaseStore(connection, cursors)
    clock = SystemClock()
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
        clients=DynamoClientStore(connection),
        orders=purchases,
        purchase=purchase_saga(purchases, settings, clock, invoices),
        invoices=invoices,
        clock=clock,
        verifier=verifier,
        health_checks={"dynamodb": check_table, "cognito": check_user_pool},
    )


def memory_services(settings: Settings, *, clock: Clock, verifier: Verifier) -> Services:
    """The same services over in-memory stores: for tests of the API and for benchmarks without DynamoDB."""
    from persistence.cursors import CursorCodec
    from persistence.memory import MemoryClientStore, MemoryProductStore, MemoryPurchaseStore, MemoryVehicleStore
    from runtime.invoices import MemoryInvoiceArchive
    from runtime.payment_provider import purchase_saga

    codec = CursorCodec(settings.cursor_secret)
    vehicles = MemoryVehicleStore(codec)
    clients = MemoryClientStore()
    products = MemoryProductStore(codec)
    purchases = MemoryPurchaseStore(vehicles, clients, codec, products)
    invoices = MemoryInvoiceArchive()
    return Services(
        vehicles=vehicles,
        products=products,
        clients=clients,
        orders=purchases,
        purchase=purchase_saga(purchases, settings, clock, invoices),
        invoices=invoices,
        clock=clock,
        verifier=verifier,
        health_checks={},
    )
