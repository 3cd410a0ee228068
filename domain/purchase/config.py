"""How a deployment runs the saga: who sells, how long a payment and a stock hold may wait, and the fixed figures."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from domain.invoice_document import Seller

DEFAULT_PENDING_STOCK_TTL = timedelta(hours=72)
# Invoice numbers are nine digits, as a nota fiscal's are.
INVOICE_NUMBER_DIGITS = 9
# The restock step looks at this many waiting orders of a product per stock arrival, oldest first.
RESUME_BATCH = 100


@dataclass(frozen=True, slots=True)
class SagaConfig:
    seller: Seller
    payment_ttl: timedelta = timedelta(minutes=30)
    # How long an order may wait for stock (PENDING_STOCK), holding what it reserved, before it is cancelled.
    pending_stock_ttl: timedelta = DEFAULT_PENDING_STOCK_TTL
