"""In-memory stores with the DynamoDB stores' behaviour (ordering, cursors, versions, uniqueness).

For tests of everything above the stores, and for benchmarks that must leave DynamoDB out of the figure.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
from typing import TypeVar

from domain.clients import Client
from domain.errors import Conflict, StaleVersion, ValidationFailed
from domain.order_status import VehicleStatus
from domain.pages import Page
from domain.products import Product
from domain.vehicles import Vehicle
from persistence.cursors import CursorCodec

T = TypeVar("T")


def _page(
    items: list[T],
    sort_key: Callable[[T], str],
    *,
    scope: str,
    codec: CursorCodec,
    first: int,
    after: str | None,
) -> Page[T]:
    ordered = sorted(items, key=sort_key)
    if after is not None:
        position = codec.decode(scope, after).get("position")
        if not isinstance(position, str):
            raise ValidationFailed("after", "cursor is not valid for this list")
        ordered = [item for item in ordered if sort_key(item) > position]
    page = ordered[:first]
    return Page(
        items=page,
        cursors=[codec.encode(scope, {"position": sort_key(item)}) for item in page],
        has_next_page=len(ordered) > first,
    )


class MemoryVehicleStore:
    def __init__(self, codec: CursorCodec) -> None:
        self._codec = codec
        self._vehicles: dict[str, Vehicle] = {}
        self._lock = threading.Lock()

    def get(self, vehicle_id: str) -> Vehicle | None:
        return self._vehicles.get(vehicle_id)

    def get_many(self, vehicle_ids: Iterable[str]) -> Mapping[str, Vehicle]:
        return {vid: self._vehicles[vid] for vid in vehicle_ids if vid in self._vehicles}

    def add(self, vehicle: Vehicle) -> Vehicle:
        with self._lock:
            if vehicle.id in self._vehicles:
                raise Conflict(f"vehicle {vehicle.id} already exists")
            stored = replace(vehicle, version=1)
            self._vehicles[vehicle.id] = stored
            return stored

    def save(self, vehicle: Vehicle) -> Vehicle:
        with self._lock:
            current = self._vehicles.get(vehicle.id)
            if current is None or current.version != vehicle.version:
                raise StaleVersion("vehicle", vehicle.id)
            stored = replace(vehicle, version=vehicle.version + 1)
            self._vehicles[vehicle.id] = stored
            return stored

    def list_by_status(self, status: VehicleStatus, first: int, after: str | None) -> Page[Vehicle]:
        matching = [v for v in self._vehicles.values() if v.status is status]
        return _page(
            matching,
            lambda v: f"{v.price.cents:015d}#{v.id}",
            scope=f"vehicles:{status.value}",
            codec=self._codec,
            first=first,
            after=after,
        )


class MemoryClientStore:
    def __init__(self) -> None:
        self._clients: dict[str, Client] = {}
        self._lock = threading.Lock()

    def get(self, client_id: str) -> Client | None:
        return self._clients.get(client_id)

    def register(self, client: Client) -> None:
        with self._lock:
            if client.id in self._clients:
                raise Conflict("you are already registered as a client")
            if any(c.email == client.email for c in self._clients.values()):
                raise Conflict("a client with this email is already registered", field="email")
            if any(c.cpf == client.cpf for c in self._clients.values()):
                raise Conflict("a client with this CPF is already registered", field="cpf")
            self._clients[client.id] = client


class MemoryProductStore:
    def __init__(self, codec: CursorCodec) -> None:
        self._codec = codec
        self._products: dict[str, Product] = {}
        self._lock = threading.Lock()

    def get(self, sku: str) -> Product | None:
        return self._products.get(sku)

    def get_many(self, skus: Iterable[str]) -> Mapping[str, Product]:
        return {sku: self._products[sku] for sku in skus if sku in self._products}

    def add(self, product: Product) -> Product:
        with self._lock:
            if product.sku in self._products:
                raise Conflict(f"a product with SKU {product.sku} already exists", field="sku")
            stored = replace(product, version=1)
            self._products[product.sku] = stored
            return stored

    def save(self, product: Product) -> Product:
        with self._lock:
            current = self._products.get(product.sku)
            if current is None or current.version != product.version:
                raise StaleVersion("product", product.sku)
            stored = replace(product, version=product.version + 1)
            self._products[product.sku] = stored
            return stored

    def list(self, first: int, after: str | None) -> Page[Product]:
        products = list(self._products.values())
        return _page(products, lambda p: p.sku, scope="products", codec=self._codec, first=first, after=after)
