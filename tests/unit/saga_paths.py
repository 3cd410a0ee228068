"""The paths a sale takes through the saga, written once for every test that checks one (unit, integration, fault
suite): the events of the happy path in order, and the order's status after each."""

from __future__ import annotations

HAPPY_PATH_HISTORY: list[tuple[str, str]] = [
    ("OrderPlaced", "PLACED"),
    ("ClientValidated", "PLACED"),
    ("InventoryReserved", "RESERVED"),
    ("PaymentRequested", "AWAITING_PAYMENT"),
    ("PaymentConfirmed", "PAID"),
    ("InvoiceIssued", "PAID"),
    ("SaleCompleted", "COMPLETED"),
]
HAPPY_PATH_EVENTS: list[str] = [event for event, _ in HAPPY_PATH_HISTORY]
