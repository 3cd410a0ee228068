"""In-memory stores with the DynamoDB stores' behaviour (ordering, cursors, versions, uniqueness).

For tests of everything above the stores, and for benchmarks that must leave DynamoDB out of the figure.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
from datetime import datetime
from typing import Generic, TypeVar

from domain.clients import Client
from domain.errors import Conflict, StaleVersion, ValidationFailed
from domain.events import DomainEvent
from domain.order_status import VehicleStatus
from domain.orders import Order, PaymentStatus
from domain.pages import Page
from domain.products import Product
from domain.purchase import (
    AlreadyApplied,
    Change,
    InvoiceNumberTaken,
    KeyReused,
    PaymentChanged,
    PaymentRecord,
    Sale,
    StockChanged,
    StockMove,
    StockMoveKind,
    VehicleUnavailable,
)
from domain.values import Cpf
from domain.vehicles import Vehicle
from persistence import keys
from persistence.cursors import CursorCodec

T = TypeVar("T")
Versioned = TypeVar("Versioned", Vehicle, Product)


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


class _MemoryEntities(Generic[Versioned]):
    """get, get_many, add and save of one kind of versioned entity, by its id: the vehicles and the products."""

    def __init__(self, kind: str, identify: Callable[[Versioned], str], taken: Callable[[str], Conflict]) -> None:
        self._kind = kind
        self._identify: Callable[[Versioned], str] = identify
        self._taken = taken
        self._entities: dict[str, Versioned] = {}
        self._lock = threading.Lock()

    def get(self, entity_id: str) -> Versioned | None:
        return self._entities.get(entity_id)

    def get_many(self, entity_ids: Iterable[str]) -> Mapping[str, Versioned]:
        return {each: self._entities[each] for each in entity_ids if each in self._entities}

    def add(self, entity: Versioned) -> Versioned:
        entity_id = self._identify(entity)
        with self._lock:
            if entity_id in self._entities:
                raise self._taken(entity_id)
            stored = replace(entity, version=1)
            self._entities[entity_id] = stored
            return stored

    def save(self, entity: Versioned) -> Versioned:
        entity_id = self._identify(entity)
        with self._lock:
            current = self._entities.get(entity_id)
            if current is None or current.version != entity.version:
                raise StaleVersion(self._kind, entity_id)
            stored = replace(entity, version=entity.version + 1)
            self._entities[entity_id] = stored
            return stored


class MemoryVehicleStore(_MemoryEntities[Vehicle]):
    def __init__(self, codec: CursorCodec) -> None:
        super().__init__(
            "vehicle", lambda vehicle: vehicle.id, lambda taken: Conflict(f"vehicle {taken} already exists")
        )
        self._codec = codec

    def list_by_status(self, status: VehicleStatus, first: int, after: str | None) -> Page[Vehicle]:
        matching = [v for v in self._entities.values() if v.status is status]
        return _page(
            matching,
            lambda v: keys.vehicle_list_sort(v.price.cents, v.id),
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

    def get_many(self, client_ids: Iterable[str]) -> Mapping[str, Client]:
        return {cid: self._clients[cid] for cid in client_ids if cid in self._clients}

    def find_by_cpf(self, cpf: Cpf) -> Client | None:
        return next((client for client in self._clients.values() if client.cpf == cpf), None)

    def register(self, client: Client) -> None:
        with self._lock:
            if client.id in self._clients:
                raise Conflict("you are already registered as a client")
            if any(c.email == client.email for c in self._clients.values()):
                raise Conflict("a client with this email is already registered", field="email")
            if any(c.cpf == client.cpf for c in self._clients.values()):
                raise Conflict("a client with this CPF is already registered", field="cpf")
            self._clients[client.id] = client


class MemoryProductStore(_MemoryEntities[Product]):
    def __init__(self, codec: CursorCodec) -> None:
        super().__init__(
            "product",
            lambda product: product.sku,
            lambda taken: Conflict(f"a product with SKU {taken} already exists", field="sku"),
        )
        self._codec = codec

    def list(self, first: int, after: str | None) -> Page[Product]:
        products = list(self._entities.values())
        return _page(products, lambda p: p.sku, scope="products", codec=self._codec, first=first, after=after)


class MemoryPurchaseStore:
    """The purchase saga's store in memory: the same all-or-nothing changes and refusals as DynamoDB's."""

    def __init__(
        self,
        vehicles: MemoryVehicleStore,
        clients: MemoryClientStore,
        codec: CursorCodec,
        products: MemoryProductStore | None = None,
    ) -> None:
        self._vehicles = vehicles
        self._clients = clients
        self._products = products or MemoryProductStore(codec)
        self._waiting: dict[str, dict[tuple[datetime, str], str]] = {}
        self._last_invoice = 0
        self._codec = codec
        self._orders: dict[str, Order] = {}
        self._payments: dict[str, PaymentRecord] = {}
        self._markers: dict[str, tuple[str, str]] = {}
        self.sales: dict[str, Sale] = {}
        self.outbox: list[DomainEvent] = []
        self._lock = threading.RLock()

    def get_order(self, order_id: str) -> Order | None:
        return self._orders.get(order_id)

    def get_orders(self, order_ids: Iterable[str]) -> Mapping[str, Order]:
        return {oid: self._orders[oid] for oid in order_ids if oid in self._orders}

    def existing_order_ids(self, order_ids: Iterable[str]) -> set[str]:
        return {oid for oid in order_ids if oid in self._orders}

    def received(self, end_to_end_ids: Iterable[str]) -> set[str]:
        return {end_to_end_id for end_to_end_id in end_to_end_ids if end_to_end_id in self._markers}

    def list_orders(self, client_id: str | None, first: int, after: str | None) -> Page[Order]:
        orders = [o for o in self._orders.values() if client_id is None or o.client_id == client_id]
        # Newest first: the sort key is inverted time, so the shared paging stays ascending.
        return _page(
            orders,
            lambda o: f"{9e12 - o.placed_at.timestamp():017.6f}#{o.id}",
            scope=f"orders:{client_id}" if client_id else "orders",
            codec=self._codec,
            first=first,
            after=after,
        )

    def get_client(self, client_id: str) -> Client | None:
        return self._clients.get(client_id)

    def get_vehicle(self, vehicle_id: str) -> Vehicle | None:
        return self._vehicles.get(vehicle_id)

    def get_products(self, skus: Iterable[str]) -> Mapping[str, Product]:
        return self._products.get_many(skus)

    def waiting_orders(self, sku: str, limit: int) -> list[str]:
        line = self._waiting.get(sku, {})
        return [line[key] for key in sorted(line)][:limit]

    def last_invoice_number(self) -> int:
        return self._last_invoice

    def get_payment(self, code: str) -> PaymentRecord | None:
        return self._payments.get(code)

    def find_idempotency(self, scope: str, key: str) -> tuple[str, str] | None:
        return self._markers.get(f"{scope}#{key}")

    def holds_due(self, waiting_since: datetime, limit: int) -> list[str]:
        due = sorted(
            (since, order_id) for line in self._waiting.values() for since, order_id in line if since < waiting_since
        )
        return list(dict.fromkeys(order_id for _, order_id in due))[:limit]

    def payments_due(self, now: datetime, limit: int) -> list[PaymentRecord]:
        due = [
            record
            for record in self._payments.values()
            if record.payment.status is PaymentStatus.PENDING and record.payment.expires_at <= now
        ]
        return sorted(due, key=lambda record: record.payment.expires_at)[:limit]

    def apply(self, change: Change) -> None:
        with self._lock:
            self._check(change)
            self._write(change)

    def _check(self, change: Change) -> None:
        order = change.order
        if order is not None:
            stored = self._orders.get(order.id)
            if (stored is not None) if change.new_order else (stored is None or stored.version != order.version):
                raise StaleVersion("order", order.id)
        if change.payment is not None:
            stored_payment = self._payments.get(change.payment.payment.code)
            expected = change.payment.expected_status
            if (
                (stored_payment is not None)
                if expected is None
                else (stored_payment is None or stored_payment.payment.status is not expected)
            ):
                raise PaymentChanged("the payment is no longer pending")
        for marker in (change.consumed, change.receipt):
            if marker is not None and marker in self._markers:
                raise AlreadyApplied
        claim = change.idempotency
        if claim is not None and (found := self._markers.get(f"{claim.scope}#{claim.key}")) is not None:
            raise KeyReused(fingerprint=found[0], order_id=found[1])
        if change.vehicle is not None:
            vehicle = self._vehicles.get(change.vehicle.vehicle_id)
            claimed = change.vehicle
            if (
                vehicle is None
                or vehicle.status is not claimed.expected
                or vehicle.reserved_by != claimed.expected_holder
            ):
                raise VehicleUnavailable(f"vehicle {claimed.vehicle_id} is not {claimed.expected.value}")
        if change.invoice_number is not None and change.invoice_number != self._last_invoice + 1:
            raise InvoiceNumberTaken("another invoice took this number")
        for move in change.stock:
            product = self._products.get(move.sku)
            if product is None or not _stock_allows(product, move):
                raise StockChanged(move.sku)

    def _write(self, change: Change) -> None:
        if change.order is not None:
            self._orders[change.order.id] = replace(change.order, version=change.order.version + 1)
        if change.payment is not None:
            self._payments[change.payment.payment.code] = replace(
                change.payment, expected_status=change.payment.payment.status
            )
        for marker in (change.consumed, change.receipt):
            if marker is not None:
                self._markers[marker] = ("", "")
        if change.idempotency is not None:
            claim = change.idempotency
            self._markers[f"{claim.scope}#{claim.key}"] = (claim.fingerprint, claim.order_id)
        if change.vehicle is not None:
            claimed = change.vehicle
            vehicle = self._vehicles.get(claimed.vehicle_id)
            assert vehicle is not None  # checked above, under the same lock
            self._vehicles.save(replace(vehicle, status=claimed.new, reserved_by=claimed.new_holder))
        if change.sale is not None:
            self.sales[change.sale.order_id] = change.sale
        if change.invoice_number is not None:
            self._last_invoice = change.invoice_number
        for move in change.stock:
            if move.kind is not StockMoveKind.SHORT:
                product = self._products.get(move.sku)
                assert product is not None  # checked above, under the same lock
                self._products.save(_moved(product, move))
        for wait in change.waits_added:
            self._waiting.setdefault(wait.sku, {})[(wait.since, wait.order_id)] = wait.order_id
        for wait in change.waits_removed:
            self._waiting.get(wait.sku, {}).pop((wait.since, wait.order_id), None)
        self.outbox.extend(change.events)


def _stock_allows(product: Product, move: StockMove) -> bool:
    if move.kind is StockMoveKind.RESERVE:
        return product.stock_available >= move.quantity
    if move.kind is StockMoveKind.RELEASE:
        return product.stock_reserved >= move.quantity
    if move.kind is StockMoveKind.COMMIT:
        return product.stock_reserved >= move.quantity and product.stock_on_hand >= move.quantity
    return product.stock_available < move.quantity


def _moved(product: Product, move: StockMove) -> Product:
    quantity = move.quantity
    if move.kind is StockMoveKind.RESERVE:
        return replace(product, stock_reserved=product.stock_reserved + quantity)
    if move.kind is StockMoveKind.RELEASE:
        return replace(product, stock_reserved=product.stock_reserved - quantity)
    return replace(
        product, stock_reserved=product.stock_reserved - quantity, stock_on_hand=product.stock_on_hand - quantity
    )
