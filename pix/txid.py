"""Deterministic identifiers for the API Pix: a retried saga step names the same charge and the same refund.

`PUT /cob/{txid}` and `PUT /pix/{e2eid}/devolucao/{id}` are idempotent by the identifier the caller chooses, so
deriving it from what the step is about (the order; the Pix and which refund of it) makes a redelivered message find
the charge or refund it already created instead of making a second one.
"""

from __future__ import annotations

import hashlib
import re

TXID = re.compile(r"[a-zA-Z0-9]{26,35}")
# A received Pix may name a txid of 1 to 35 characters: a static code's, or one another system chose.
RECEIVED_TXID = re.compile(r"[a-zA-Z0-9]{1,35}")
REFUND_ID = re.compile(r"[a-zA-Z0-9]{1,35}")
END_TO_END_ID = re.compile(r"[a-zA-Z0-9]{32}")

# "VP" (vehicle platform) + 32 hex digits: 34 characters, inside the API's 26 to 35.
_TXID_PREFIX = "VP"
# "D" (devolução) + 32 hex digits: 33 characters, inside the API's 1 to 35.
_REFUND_PREFIX = "D"
_HEX_DIGITS = 32


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:_HEX_DIGITS]


def txid_for_order(order_id: str) -> str:
    """The txid of the order's charge: 128 bits of SHA-256 of the order id, so distinct orders never collide."""
    if not order_id:
        raise ValueError("an order id is required to derive a txid")
    return _TXID_PREFIX + _digest(f"order:{order_id}")


def refund_id(end_to_end_id: str, attempt: int) -> str:
    """The id of the `attempt`-th refund (1, 2, ...) of the Pix `end_to_end_id`. A retry of the same refund passes
    the same attempt; a new refund after one that ended NAO_REALIZADO passes the next."""
    if not END_TO_END_ID.fullmatch(end_to_end_id):
        raise ValueError("an endToEndId is 32 letters and digits")
    if isinstance(attempt, bool) or attempt < 1:
        raise ValueError("a refund attempt is counted from 1")
    return _REFUND_PREFIX + _digest(f"refund:{end_to_end_id}:{attempt}")
