"""Per-request context: who is calling, the services, and the request's DataLoaders."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import strawberry
from graphql import DocumentNode
from strawberry.dataloader import DataLoader

from domain.clients import Client
from domain.errors import DomainError, Unauthenticated
from domain.products import Product
from domain.vehicles import Vehicle
from graphql_api.wiring import Services
from runtime.principal import Principal


@dataclass
class Loaders:
    """Batch item-by-item reads of one request into one BatchGetItem per kind."""

    vehicles: DataLoader[str, Vehicle | None]
    products: DataLoader[str, Product | None]
    clients: DataLoader[str, Client | None]

    @classmethod
    def for_request(cls, services: Services) -> Loaders:
        async def load_vehicles(ids: list[str]) -> list[Vehicle | None]:
            found = services.vehicles.get_many(ids)
            return [found.get(vehicle_id) for vehicle_id in ids]

        async def load_products(skus: list[str]) -> list[Product | None]:
            found = services.products.get_many(skus)
            return [found.get(sku) for sku in skus]

        async def load_clients(client_ids: list[str]) -> list[Client | None]:
            found = services.clients.get_many(client_ids)
            return [found.get(client_id) for client_id in client_ids]

        return cls(
            vehicles=DataLoader(load_fn=load_vehicles),
            products=DataLoader(load_fn=load_products),
            clients=DataLoader(load_fn=load_clients),
        )


class NothingPushed(LookupError):
    """A subscription field read outside a push: subscriptions are served over the WebSocket only."""


@dataclass
class RequestContext:
    request_id: str
    services: Services
    authorization: str | None
    # The request names one of the web app's trusted documents: parsed once per process, never validated again.
    trusted_document: DocumentNode | None = field(default=None, init=False)
    _principal: Principal | None = field(default=None, init=False)
    _auth_error: DomainError | None = field(default=None, init=False)
    _verified: bool = field(default=False, init=False)

    @cached_property
    def loaders(self) -> Loaders:
        """Made on first use: most requests never load item by item."""
        return Loaders.for_request(self.services)

    def pushed(self, kind: str, key: str | None) -> Any:
        """The state a subscription pushes: only a push (over the WebSocket) has any."""
        raise NothingPushed(f"{kind} {key or ''}: subscriptions are served over the WebSocket")

    def viewer(self) -> Principal | None:
        """The caller, verified once per request. A token that is present but invalid is always an error."""
        if not self._verified:
            self._verified = True
            try:
                self._principal = self.services.verifier.verify_authorization(self.authorization)
            except Unauthenticated as error:
                self._auth_error = error
        if self._auth_error is not None:
            raise self._auth_error
        return self._principal

    def caller(self) -> Principal:
        """The signed-in caller, for the rules (graphql_api.permissions) and the resolvers behind them: read
        without a signed-in caller, it refuses rather than answering anonymously."""
        principal = self.viewer()
        if principal is None:
            raise Unauthenticated("sign in first: send 'Authorization: Bearer <token>'")
        return principal


@dataclass
class PushContext(RequestContext):
    """The context of a push: the subscriber's verified principal and the new state being pushed to them."""

    principal: Principal | None = None
    # ("order", order id) -> the order; ("invoice", order id) -> the order whose invoice changed;
    # ("vehicle", None) -> the vehicle that changed.
    state: dict[tuple[str, str | None], object] = field(default_factory=dict)

    def viewer(self) -> Principal | None:
        return self.principal

    def pushed(self, kind: str, key: str | None) -> Any:
        try:
            return self.state[(kind, key)]
        except KeyError as error:
            raise NothingPushed(f"no {kind} {key or ''} in this push") from error


# What every resolver and rule of the schema is given: the request (or push) context, no root value.
Info = strawberry.Info[RequestContext, None]
