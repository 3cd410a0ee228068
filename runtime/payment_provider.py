"""A simulated payment provider behind the domain's PaymentProvider port (the saga is assembled in composition/)."""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import datetime

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
        idempotency_key: str,
        amount: Money,
        expires_at: datetime,  # noqa: ARG002 - a real provider enforces it; here the saga's expiry sweep does
    ) -> str:
        # Key and amount only: a retried step asks at another moment, and must still get the same code.
        digest = hmac.new(self._secret, f"{idempotency_key}|{amount}".encode(), hashlib.sha256).digest()
        return "PAY-" + base64.b32encode(digest).decode()[:12]
