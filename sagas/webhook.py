"""POST /webhooks/pix: the PSP tells of Pix received and refunds settled, in the API Pix's shape.

The PSP calls `{webhookUrl}/pix` with `{"pix": [...]}` (pix/webhook.py reads it). The call must carry the
deployment's secret header (401 and nothing changed otherwise); each Pix is applied through the same idempotent
path as the reconciliation (runtime/pix_payments.apply_received): a batch, or a replay, is harmless. The webhook only
records what the PSP says: the saga decides what it means for the order.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types

from domain.errors import ValidationFailed
from pix.webhook import has_valid_secret, parse_webhook_body
from runtime.logs import service_logger
from runtime.pix_payments import apply_received
from runtime.telemetry import lambda_entry
from sagas.wiring import SagaServices, saga_services

logger = service_logger("pix-webhook")
app = APIGatewayHttpResolver()


def _json(status: int, body: dict[str, Any]) -> Response[str]:
    return Response(status_code=status, content_type=content_types.APPLICATION_JSON, body=json.dumps(body))


@app.post("/webhooks/pix")
def pix_webhook() -> Response[str]:
    event = app.current_event
    return receive(saga_services(), (event.decoded_body or "").encode(), event.headers)


def receive(services: SagaServices, body: bytes, headers: Mapping[str, str]) -> Response[str]:
    """One PSP call, over these services: authenticated, read whole, then each Pix applied in the order sent."""
    if not has_valid_secret(headers, services.settings.pix.webhook_secret):
        logger.warning("refused a Pix webhook call without the deployment's secret")
        return _json(401, {"error": "unauthenticated"})
    try:
        received = parse_webhook_body(body)
    except ValidationFailed as error:
        return _json(400, {"error": error.message, "field": error.field})
    applied = apply_received(services.purchase, received)
    logger.info(
        "applied %d Pix",
        applied.received,
        extra={
            "new_payments": applied.new_payments,
            "refunds_changed": applied.refunds_changed,
            "not_ours": applied.not_ours,
        },
    )
    answer = {
        "received": applied.received,
        "newPayments": applied.new_payments,
        "refundsChanged": applied.refunds_changed,
    }
    return _json(200, answer)


@lambda_entry(logger)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return app.resolve(event, context)
