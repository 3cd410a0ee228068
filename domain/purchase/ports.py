"""What the saga needs from the world around it: the store, the payment provider, the invoice archive."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Protocol

from domain.clients import Client
from domain.invoice_document import InvoiceContent
from domain.orders import Order
from domain.products import Product
from domain.purchase.change import Change, PaymentRecord
from domain.values import Money
from domain.vehicles import Vehicle


class PurchaseStore(Protocol):
    def get_order(self, order_id: str) -> Order | None: ...

    def get_client(self, client_id: str) -> Client | None: ...

    def get_vehicle(self, vehicle_id: str) -> Vehicle | None: ...

    def get_products(self, skus: Iterable[str]) -> Mapping[str, Product]: ...

    def waiting_orders(self, sku: str, limit: int) -> list[str]:
        """Ids of the orders waiting for this product's stock, oldest first."""
        ...

    def last_invoice_number(self) -> int:
        """The number of the last invoice issued; 0 before the first."""
        ...

    def get_payment(self, code: str) -> PaymentRecord | None: ...

    def find_idempotency(self, scope: str, key: str) -> tuple[str, str] | None:
        """(fingerprint, order id) of the request that first used this key, if one did."""
        ...

    def payments_due(self, now: datetime, limit: int) -> list[PaymentRecord]:
        """Pending payments whose expiry has passed, oldest first."""
        ...

    def holds_due(self, waiting_since: datetime, limit: int) -> list[str]:
        """Ids of orders in a stock line since before `waiting_since`, oldest first, each once (a sparse index of
        the lines, never a scan)."""
        ...

    def apply(self, change: Change) -> None:
        """All of the change or none of it.

        Raises StaleVersion (order), VehicleUnavailable, StockChanged, PaymentChanged, InvoiceNumberTaken,
        AlreadyApplied (marker or receipt) or KeyReused (idempotency key), naming the first condition that failed.
        """
        ...


class PaymentProvider(Protocol):
    def create_charge(self, *, idempotency_key: str, amount: Money, expires_at: datetime) -> str:
        """A payment code for the client to pay. The same key always gives the same code (no double charge)."""
        ...


class InvoiceArchive(Protocol):
    def store(self, key: str, document: str) -> None:
        """Keep the invoice's document under `key`; storing the same document again changes nothing."""
        ...


class InvoiceRenderer(Protocol):
    def render(self, invoice: InvoiceContent) -> str:
        """The invoice as a document to archive; the same content always gives the same bytes (a retried step
        rewrites the same document)."""
        ...
