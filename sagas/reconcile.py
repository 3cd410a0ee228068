"""The Pix reconciliation, run every 5 minutes by a schedule (EventBridge on AWS, a timer locally).

A PSP's webhook is best effort: a call can be lost. This job lists the Pix the PSP received in the last window
(`GET /pix?inicio=...&fim=...`, every page) and applies each through the webhook's own idempotent path
(runtime/pix_payments.apply_received): a Pix the webhook applied already changes nothing, one it missed pays its order,
and a refund's outcome the webhook did not bring is recorded. The windows overlap, so a run that fails is covered by
the next; the window ends a little in the past, leaving what is in flight to the webhook.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from runtime.logs import service_logger
from runtime.pix_payments import apply_received, not_yet_known
from runtime.telemetry import lambda_entry
from sagas.wiring import SagaServices, saga_services

logger = service_logger("pix-reconciliation")


def reconcile(services: SagaServices, now: datetime) -> dict[str, int]:
    """One run: the Pix received from `window` to `lag` before `now`, each applied once."""
    pix = services.settings.pix
    fim = now - timedelta(seconds=pix.reconcile_lag_seconds)
    inicio = fim - timedelta(seconds=pix.reconcile_window_seconds)
    listed = services.received_pix.list_pix(inicio, fim)
    applied = apply_received(services.purchase, not_yet_known(services.purchase, listed))
    if applied.new_payments or applied.refunds_changed:
        # What the webhook missed: each is a lost (or late) call, worth seeing.
        logger.warning("recovered %d payments and %d refund outcomes", applied.new_payments, applied.refunds_changed)
    return {
        "listed": len(listed),
        "newPayments": applied.new_payments,
        "refundsChanged": applied.refunds_changed,
        "notOurs": applied.not_ours,
    }


@lambda_entry(logger)
def handler(_event: dict[str, Any], _context: Any) -> dict[str, int]:
    services = saga_services()
    return reconcile(services, services.purchase.clock.now())
