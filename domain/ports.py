"""What the domain needs from the outside world, as interfaces. DynamoDB and in-memory stores implement them."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Protocol

from domain.clients import Client
from domain.order_status import VehicleStatus
from domain.orders import Order
from domain.pages import Page
from domain.products import Product
from domain.values import Cpf
from domain.vehicles import Vehicle


class Clock(Protocol):
    def now(self) -> datetime: ...


class VehicleStore(Protocol):
    def get(self, vehicle_id: str) -> Vehicle | None: ...

    def get_many(self, vehicle_ids: Iterable[str]) -> Mapping[str, Vehicle]: ...

    def add(self, vehicle: Vehicle) -> Vehicle:
        """Store a new vehicle; returns it with its stored version."""
        ...

    def save(self, vehicle: Vehicle) -> Vehicle:
        """Store an edit if the stored version is still `vehicle.version`, else raise StaleVersion."""
        ...

    def list_by_status(self, status: VehicleStatus, first: int, after: str | None) -> Page[Vehicle]: ...


class ClientStore(Protocol):
    def get(self, client_id: str) -> Client | None: ...

    def get_many(self, client_ids: Iterable[str]) -> Mapping[str, Client]: ...

    def find_by_cpf(self, cpf: Cpf) -> Client | None: ...

    def register(self, client: Client) -> None:
        """Store a new client, claiming its email and CPF in the same transaction (Conflict when taken)."""
        ...


class ProductStore(Protocol):
    def get(self, sku: str) -> Product | None: ...

    def get_many(self, skus: Iterable[str]) -> Mapping[str, Product]: ...

    def add(self, product: Product) -> Product: ...

    def save(self, product: Product) -> Product:
        """Store a change if the stored version is still `product.version`, else raise StaleVersion."""
        ...

    def list(self, first: int, after: str | None) -> Page[Product]: ...


class OrderReader(Protocol):
    def get_order(self, order_id: str) -> Order | None: ...

    def get_orders(self, order_ids: Iterable[str]) -> Mapping[str, Order]: ...

    def existing_order_ids(self, order_ids: Iterable[str]) -> set[str]:
        """Which of these orders exist: their keys alone are read."""
        ...

    def list_orders(self, client_id: str | None, first: int, after: str | None) -> Page[Order]:
        """A client's orders, or every order when `client_id` is None; newest first."""
        ...
