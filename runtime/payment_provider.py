"""The payment provider behind the domain's PaymentProvider port."""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import datetime, timedelta

from domain.invoice_document import Seller
from domain.ports import Clock
from domain.purchase import InvoiceArchive, Purchase, PurchaseStore, SagaConfig
from domain.values import Cnpj, Money
from runtime.invoice_html import HtmlInvoiceRenderer
from runtime.settings import Settings


class SimulatedPaymentProvider:
    """Stands in for the payment service provider (a Pix or boleto issuer): issues payment codes.

    Like a real provider it is idempotent on the caller's key: the same key always yields the same code, so a
    retried saga step never creates a second charge. A real provider's adapter implements the same port; its
    confirmations arrive through the signed webhook either way (`vehicle-platform pay` plays that part locally).
    """

    def __init__(self, secret: bytes) -> None:
        self._secret = secret

    def create_charge(
        self,
        *,
        idempotency_key: str,
        amount: Money,
        expires_at: datetime,  # noqa: ARG002 - a real provider enforces it; here the saga's expiry sweep does
    ) -> str:
        # Key and amount only: a retried step asks at another moment, and must still get the same code.
        digest = hmac.new(self._secret, f"{idempotency_key}|{amount}".encode(), hashlib.sha256).digest()
        return "PAY-" + base64.b32encode(digest).decode()[:12]


def purchase_saga(store: PurchaseStore, settings: Settings, clock: Clock, archive: InvoiceArchive) -> Purchase:
    """The purchase saga as this deployment runs it: its payment provider, its payment deadline, who sells."""
    orders = settings.orders
    seller = Seller(name=orders.seller_name, cnpj=Cnpj.parse(orders.seller_cnpj), address=orders.seller_address)
    return Purchase(
        store=store,
        clock=clock,
        payments=SimulatedPaymentProvider(settings.cursor_secret),
        archive=archive,
        renderer=HtmlInvoiceRenderer(),
        config=SagaConfig(seller=seller, payment_ttl=timedelta(seconds=settings.saga.payment_ttl_seconds)),
    )
