"""Signatures of the payment provider's webhook calls: HMAC-SHA256 over "<timestamp>.<body>".

The header reads `t=<unix seconds>,v1=<hex digest>`, as Stripe-style providers send it. The timestamp is signed
too, so an old call cannot be replayed with a fresh timestamp, and calls older than the tolerance are refused.
"""

from __future__ import annotations

import hashlib
import hmac

HEADER = "x-payment-signature"
DEFAULT_TOLERANCE_SECONDS = 300
# Unix seconds have 10 digits until the year 2286; anything much longer is not a timestamp.
_MAX_TIMESTAMP_DIGITS = 12


class InvalidSignature(Exception):
    """The call was not signed with our secret, or was signed too long ago."""


def sign(secret: bytes, timestamp: int, body: bytes) -> str:
    digest = hmac.new(secret, f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def verify(
    secret: bytes, header: str | None, body: bytes, *, now: float, tolerance: int = DEFAULT_TOLERANCE_SECONDS
) -> int:
    """The signed timestamp, if `header` signs `body` with `secret` within the tolerance; else InvalidSignature."""
    if not header:
        raise InvalidSignature("the signature header is missing")
    parts = dict(part.split("=", 1) for part in header.split(",") if "=" in part)
    try:
        if len(parts["t"]) > _MAX_TIMESTAMP_DIGITS:
            raise ValueError("not a timestamp")
        timestamp = int(parts["t"])
        signature = parts["v1"].encode("ascii")
    except (KeyError, ValueError, UnicodeEncodeError) as error:
        raise InvalidSignature("the signature header is malformed") from error
    if abs(now - timestamp) > tolerance:
        raise InvalidSignature("the signature is too old (or from the future)")
    expected = sign(secret, timestamp, body).split("v1=", 1)[1].encode("ascii")
    if not hmac.compare_digest(expected, signature):
        raise InvalidSignature("the signature does not match")
    return timestamp
