"""The purchase saga's rules: what each step does with an order, given the event that reached it.

Every step reads, decides, and hands one `Change` to the store, which applies it atomically (order, vehicle,
payment, outbox events and the consumer's processed marker in one transaction) or not at all. A step re-run by a
redelivered message finds either its marker (the change was made) or the order in a state that no longer calls for
the step: nothing happens twice. A step that crashed before its commit changed nothing and simply runs again.

The package is split along those lines: `change` (what a step asks the store to apply), `errors` (why the store
refused), `ports` (what the saga needs from outside), `config`, `rules` (shared by commands and steps), `commands`
(the API's entry points and the sweeps) and `steps` (one per queue). `Purchase` is both, over one `dependencies`.
"""

from __future__ import annotations

from domain.purchase.change import (
    Change,
    IdempotencyClaim,
    PaymentRecord,
    Sale,
    StockMove,
    StockMoveKind,
    VehicleClaim,
    Wait,
)
from domain.purchase.commands import PurchaseCommands
from domain.purchase.config import DEFAULT_PENDING_STOCK_TTL, INVOICE_NUMBER_DIGITS, RESUME_BATCH, SagaConfig
from domain.purchase.errors import (
    AlreadyApplied,
    InvoiceNumberTaken,
    KeyReused,
    PaymentChanged,
    StockChanged,
    VehicleUnavailable,
)
from domain.purchase.ports import (
    Charge,
    InvoiceArchive,
    InvoiceRenderer,
    Payer,
    PaymentProvider,
    PaymentReceived,
    PaymentRefused,
    PurchaseStore,
    RefundOutcome,
    RefundReceipt,
)
from domain.purchase.rules import FAILURE_REASONS, MAX_REFUND_ATTEMPTS
from domain.purchase.steps import SagaSteps


class Purchase(PurchaseCommands, SagaSteps):
    """The saga's API commands and steps over one store, clock, payment provider, invoice archive and renderer."""


__all__ = [
    "DEFAULT_PENDING_STOCK_TTL",
    "FAILURE_REASONS",
    "INVOICE_NUMBER_DIGITS",
    "MAX_REFUND_ATTEMPTS",
    "RESUME_BATCH",
    "AlreadyApplied",
    "Change",
    "Charge",
    "IdempotencyClaim",
    "InvoiceArchive",
    "InvoiceNumberTaken",
    "InvoiceRenderer",
    "KeyReused",
    "Payer",
    "PaymentChanged",
    "PaymentProvider",
    "PaymentReceived",
    "PaymentRecord",
    "PaymentRefused",
    "Purchase",
    "PurchaseCommands",
    "PurchaseStore",
    "RefundOutcome",
    "RefundReceipt",
    "SagaConfig",
    "SagaSteps",
    "Sale",
    "StockChanged",
    "StockMove",
    "StockMoveKind",
    "VehicleClaim",
    "VehicleUnavailable",
    "Wait",
]
