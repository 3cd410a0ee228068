"""What the resolvers use. The composition root builds it: DynamoDB stores on AWS and in the local stack
(composition/aws.py), in-memory ones for tests (composition/memory.py)."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Protocol

from domain.access import AccessControl
from domain.catalog import Catalog
from domain.ports import ClientStore, Clock, OrderReader, ProductStore, VehicleStore
from domain.purchase import Purchase
from runtime.principal import Principal


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
    # Blocking users and taking staff rights away: the user pool, and the user's open connections.
    access: AccessControl
    # Each check raises when its backing service is unreachable; /health runs them all.
    health_checks: Mapping[str, Callable[[], None]]

    @property
    def catalog(self) -> Catalog:
        return Catalog(vehicles=self.vehicles, products=self.products, clock=self.clock, new_id=new_id)


def new_id() -> str:
    return str(uuid.uuid4())
