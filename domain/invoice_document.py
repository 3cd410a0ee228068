"""The nota fiscal of a sale: what it says (who sold, who bought, what, for how much, when) and where it is kept.

The domain decides the invoice's content; an `InvoiceRenderer` (a port of the saga) draws it as a document. The
document is rewritten whenever the step that issues it is retried, so the content must never depend on the clock or
on chance, and a renderer must give the same bytes for the same content.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from domain.clients import Client
from domain.orders import Order
from domain.values import Cnpj, Money


@dataclass(frozen=True, slots=True)
class Seller:
    """The dealership that issues the invoice (the emitente)."""

    name: str
    cnpj: Cnpj
    address: str  # one line


def invoice_document_key(order_id: str, number: str) -> str:
    """Where the invoice's page is stored: one per order and number, so a retry overwrites rather than duplicates."""
    return f"invoices/{order_id}/NF-{number}.html"


@dataclass(frozen=True, slots=True)
class InvoiceLine:
    code: str
    description: str
    quantity: int
    unit_price: Money
    total: Money


@dataclass(frozen=True, slots=True)
class InvoiceContent:
    """Everything an invoice says, in the order's own terms: a renderer only formats it."""

    number: str
    issued_at: datetime
    seller: Seller
    buyer: Client
    order_id: str
    ordered_at: datetime
    lines: tuple[InvoiceLine, ...]
    total: Money


def invoice_content(*, number: str, issued_at: datetime, seller: Seller, buyer: Client, order: Order) -> InvoiceContent:
    """The invoice of `order`: one line per item, at the prices the order was placed at."""
    return InvoiceContent(
        number=number,
        issued_at=issued_at,
        seller=seller,
        buyer=buyer,
        order_id=order.id,
        ordered_at=order.placed_at,
        lines=tuple(
            InvoiceLine(item.ref_id, item.description, item.quantity, item.unit_price, item.total)
            for item in order.items
        ),
        total=order.total,
    )
