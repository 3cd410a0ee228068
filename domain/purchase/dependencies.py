"""What the saga's commands and steps share: the store, the clock, the providers and the configuration."""

from __future__ import annotations

from dataclasses import dataclass

from domain.ports import Clock
from domain.purchase.config import SagaConfig
from domain.purchase.ports import InvoiceArchive, InvoiceRenderer, PaymentProvider, PurchaseStore


@dataclass
class PurchaseDependencies:
    store: PurchaseStore
    clock: Clock
    payments: PaymentProvider
    archive: InvoiceArchive
    renderer: InvoiceRenderer
    config: SagaConfig
