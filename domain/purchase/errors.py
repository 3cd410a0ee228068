"""Why the store refused a change: each names the condition that failed, and the step decides what it means."""

from __future__ import annotations

from domain.errors import Conflict, StaleVersion


class VehicleUnavailable(Conflict):
    """The vehicle was not in the expected state when the change was applied (another buyer won)."""


class PaymentChanged(Conflict):
    """The payment record was no longer in the expected status (paid, failed or expired meanwhile)."""


class StockChanged(StaleVersion):
    """A product's stock was not what the change counted on: read it again and decide again."""

    def __init__(self, sku: str) -> None:
        super().__init__("product stock", sku)
        self.sku = sku


class InvoiceNumberTaken(Conflict):
    """Another invoice took the number first: take the next one."""


class AlreadyApplied(Exception):
    """The change's consumer marker or provider receipt exists: this event was applied before."""


class KeyReused(Conflict):
    """An idempotency key already used; `fingerprint` and `order_id` say for what."""

    def __init__(self, fingerprint: str, order_id: str) -> None:
        super().__init__("idempotencyKey was already used", field="idempotencyKey")
        self.fingerprint = fingerprint
        self.order_id = order_id
