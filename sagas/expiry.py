"""The payment expiry sweep, run every minute by a schedule (EventBridge on AWS, a timer locally).

DynamoDB TTL can delete an item up to days late, so it cannot decide when a payment has expired: this sweep reads
the pending payments past their deadline from a sparse index and emits PaymentExpired for each; the saga's
compensation cancels the order and releases the vehicle.

The same schedule ends stock holds: an order waiting for stock (PENDING_STOCK) longer than PENDING_STOCK_TTL_HOURS
is read from the stock lines' sparse index and cancelled (STOCK_HOLD_EXPIRED), what it held released to the next in
line by the restock flow.

The schedule has a second target: the WebSocket connections' keep-alive sweep (`realtime/sweep.py`), run by the
realtime side's own function, which may talk to the clients.
"""

from __future__ import annotations

from typing import Any

from domain.purchase import Purchase
from runtime.logs import service_logger
from runtime.telemetry import lambda_entry
from sagas.wiring import saga_services

logger = service_logger("payment-expiry")


def sweep(purchase: Purchase) -> dict[str, int]:
    """One run of the schedule: the payments past their deadline, then the stock holds past theirs."""
    expired = purchase.expire_due_payments()
    if expired:
        logger.info("expired %d payments", expired)
    holds = purchase.expire_stock_holds()
    if holds:
        logger.info("ended %d stock holds", holds)
    return {"expired": expired, "stockHoldsExpired": holds}


@lambda_entry(logger)
def handler(_event: dict[str, Any], _context: Any) -> dict[str, int]:
    return sweep(saga_services().purchase)
