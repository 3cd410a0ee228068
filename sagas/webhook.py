"""POST /webhooks/payments: the payment provider says a payment code was paid or failed.

Signed (HMAC over timestamp and body, shared secret), replay-safe (timestamp tolerance, and one effect per provider
event id), and it only emits PaymentConfirmed or PaymentFailed: the saga decides what that means for the order.

Body: {"id": "<provider event id>", "type": "payment.confirmed" | "payment.failed",
       "data": {"code": "PAY-...", "amount": "189900.00", "reason": "..."}}
"""

from __future__ import annotations

import json
import time
from decimal import Decimal
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types

from domain.errors import NotFound, ValidationFailed
from domain.values import Money
from runtime import untrusted_json
from runtime.logs import service_logger
from runtime.settings import SettingsError
from runtime.telemetry import lambda_entry
from runtime.webhook_signature import HEADER, InvalidSignature, verify
from sagas.wiring import SagaServices, saga_services

logger = service_logger("payment-webhook")
app = APIGatewayHttpResolver()
_TYPES = {"payment.confirmed": True, "payment.failed": False}


def _json(status: int, body: dict[str, Any]) -> Response[str]:
    return Response(status_code=status, content_type=content_types.APPLICATION_JSON, body=json.dumps(body))


def _notification(payload: object) -> tuple[str, str, bool, Money, str]:
    if not isinstance(payload, dict) or not isinstance(payload.get("data"), dict):
        raise ValidationFailed("body", "expected {id, type, data: {code, amount}}")
    data = payload["data"]
    provider_event_id, kind, code = payload.get("id"), payload.get("type"), data.get("code")
    if not isinstance(provider_event_id, str) or not provider_event_id:
        raise ValidationFailed("id", "the provider's event id is required")
    if kind not in _TYPES:
        raise ValidationFailed("type", "type must be payment.confirmed or payment.failed")
    if not isinstance(code, str) or not code:
        raise ValidationFailed("data.code", "the payment code is required")
    amount = data.get("amount")
    if isinstance(amount, bool) or not isinstance(amount, str | int | Decimal):
        raise ValidationFailed("data.amount", "the amount paid is required, as a number or a string")
    paid = Money.parse(amount, field="data.amount", allow_zero=True)
    return provider_event_id, code, _TYPES[kind], paid, str(data.get("reason") or "")


@app.post("/webhooks/payments")
def payment_webhook() -> Response[str]:
    event = app.current_event
    return receive(saga_services(), (event.decoded_body or "").encode(), event.headers.get(HEADER))


def receive(services: SagaServices, body: bytes, signature: str | None) -> Response[str]:
    """One provider call, over these services: checked, then handed to the saga."""
    secret = services.settings.saga.webhook_secret
    if not secret:
        raise SettingsError("PAYMENT_WEBHOOK_SECRET is not set: no provider call can be trusted")
    try:
        verify(secret, signature, body, now=time.time())
    except InvalidSignature as error:
        logger.warning("refused a webhook call: %s", error)
        return _json(401, {"error": "invalid signature"})
    try:
        # Amounts as exact decimals: a float would turn 189900.10 into 189900.1000000000058...
        notification = untrusted_json.loads(body or b"null", parse_float=Decimal)
        provider_event_id, code, paid, amount, reason = _notification(notification)
        new = services.purchase.receive_payment_notification(
            provider_event_id=provider_event_id, code=code, paid=paid, amount=amount, detail=reason
        )
    except untrusted_json.UnacceptableJson as error:
        return _json(400, {"error": str(error), "field": "body"})
    except ValidationFailed as error:
        return _json(400, {"error": error.message, "field": error.field})
    except NotFound:
        return _json(404, {"error": f"unknown payment code {code}"})
    logger.info("payment %s %s", code, "confirmed" if paid else "failed", extra={"duplicate": not new})
    return _json(200, {"received": True, "duplicate": not new})


@lambda_entry(logger)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return app.resolve(event, context)
