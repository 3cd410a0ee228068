"""What the saga needs from the world around it: the store, the payment provider, the invoice archive."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from domain.clients import Client
from domain.invoice_document import InvoiceContent
from domain.orders import Order, RefundStatus
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

    def received(self, end_to_end_ids: Iterable[str]) -> set[str]:
        """Which of these payments (by their end-to-end ids) were received already: their receipt is recorded."""
        ...

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


@dataclass(frozen=True, slots=True)
class Payer:
    """Who a charge is addressed to: the client, by name and CPF (11 digits)."""

    name: str
    cpf: str


@dataclass(frozen=True, slots=True)
class Charge:
    """A charge the provider holds for the client to pay. `code` names it (a Pix charge's txid); `br_code` is the
    copy-and-paste code a bank app reads (also drawn as a QR code) and `location` its address at the provider, when
    the provider has them; `expires_at` is when the provider stops accepting it."""

    code: str
    expires_at: datetime
    br_code: str | None = None
    location: str | None = None


@dataclass(frozen=True, slots=True)
class RefundReceipt:
    """What the provider says of a refund it was asked for: its id there, and how far it got."""

    id: str
    status: RefundStatus
    completed_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class PaymentReceived:
    """The provider received money for the charge `code`: one payment, named by its end-to-end id (a Pix's
    endToEndId), which is what makes a replayed notification change nothing."""

    code: str
    end_to_end_id: str
    amount: Money
    paid_at: datetime


@dataclass(frozen=True, slots=True)
class RefundOutcome:
    """The provider's word on a refund (`refund_id`) of the payment `end_to_end_id` received for the charge `code`."""

    code: str
    end_to_end_id: str
    refund_id: str
    amount: Money
    status: RefundStatus
    requested_at: datetime
    completed_at: datetime | None = None


class PaymentRefused(Exception):
    """The provider refused to create the charge (its considered answer: asking again gets the same). The saga
    cancels the order with `reason`, written for the customer to read."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class PaymentProvider(Protocol):
    """Errors other than PaymentRefused (the provider down, slow, refusing its token) propagate: the step that
    called is retried by its queue, and each call is idempotent by what it names."""

    def create_charge(
        self, *, order_id: str, amount: Money, expires_at: datetime, payer: Payer, description: str
    ) -> Charge:
        """The order's charge. The same order always gives the same charge (no double charge), however often it is
        asked for. Raises PaymentRefused when the provider will not create it."""
        ...

    def remove_charge(self, code: str) -> None:
        """The charge can no longer be paid (customer cancel, expiry). Removing a removed charge is fine; a charge
        already paid stays paid: its money arrives as a late payment, owed back."""
        ...

    def refund(self, *, payment_code: str, end_to_end_id: str, amount: Money, attempt: int) -> RefundReceipt:
        """Give back `amount` of the payment `end_to_end_id` received for the charge `payment_code`. The same
        attempt (1, 2, ...) asked again is the same refund, never a second one; after a FAILED one, the next attempt
        is a new refund."""
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
