"""A simulated payment provider behind the domain's PaymentProvider port (the saga is assembled in composition/)."""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import datetime

from domain.orders import RefundStatus
from domain.purchase import Charge, Payer, RefundReceipt
from domain.values import Money


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
        order_id: str,
        amount: Money,
        expires_at: datetime,  # a real provider enforces it; here the saga's expiry sweep does
        payer: Payer,  # noqa: ARG002 - a real provider addresses the charge to the payer
        description: str,  # noqa: ARG002 - and shows it to the payer
    ) -> Charge:
        # Order and amount only: a retried step asks at another moment, and must still get the same code.
        digest = hmac.new(self._secret, f"order:{order_id}|{amount}".encode(), hashlib.sha256).digest()
        return Charge(code="PAY-" + base64.b32encode(digest).decode()[:12], expires_at=expires_at)

    def remove_charge(self, code: str) -> None:
        """Nothing to remove: a simulated code is paid only through the webhook, which the saga's records guard."""

    def refund(self, *, payment_code: str, end_to_end_id: str, amount: Money, attempt: int) -> RefundReceipt:
        """Refunded at once, under an id naming the payment and the attempt."""
        del payment_code, amount
        return RefundReceipt(id=f"{end_to_end_id}-{attempt}", status=RefundStatus.REFUNDED)
