"""Domain events: what happened to an order, published on the events topic and consumed by the saga's steps.

Each event type has one schema (the payload fields and their types, and a version) that producer and consumer
share: `DomainEvent.from_json` refuses anything else, so a malformed message fails loudly instead of being
half-understood.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from types import MappingProxyType
from typing import Any

SCHEMA_VERSION = 1


class EventType(StrEnum):
    ORDER_PLACED = "OrderPlaced"
    CLIENT_VALIDATED = "ClientValidated"
    ORDER_REJECTED = "OrderRejected"
    INVENTORY_RESERVED = "InventoryReserved"
    STOCK_PENDING = "StockPending"
    RESERVATION_FAILED = "ReservationFailed"
    PAYMENT_REQUESTED = "PaymentRequested"
    PAYMENT_CONFIRMED = "PaymentConfirmed"
    PAYMENT_FAILED = "PaymentFailed"
    PAYMENT_EXPIRED = "PaymentExpired"
    CANCELLATION_REQUESTED = "CancellationRequested"
    SALE_COMPLETED = "SaleCompleted"
    INVOICE_ISSUED = "InvoiceIssued"
    INVOICE_FAILED = "InvoiceFailed"
    ORDER_CANCELLED = "OrderCancelled"
    # Money arrived for an order that was already cancelled: the dealership owes it back.
    REFUND_OWED = "RefundOwed"


# The payload of each event type: field name -> type. Money travels as a string ("189900.00"), times as ISO 8601.
PAYLOAD_SCHEMAS: Mapping[EventType, Mapping[str, type]] = MappingProxyType(
    {
        # Every order's items travel as [{"ref", "kind", "quantity"}]; a vehicle order's also as vehicleId.
        EventType.ORDER_PLACED: {"clientId": str, "total": str, "items": list},
        EventType.CLIENT_VALIDATED: {"clientId": str},
        EventType.ORDER_REJECTED: {"reason": str, "detail": str},
        EventType.INVENTORY_RESERVED: {"items": list},
        EventType.STOCK_PENDING: {"pendingItems": list},
        # reason: the CancellationReason the compensation applies (VEHICLE_UNAVAILABLE, OUT_OF_STOCK).
        EventType.RESERVATION_FAILED: {"reason": str, "detail": str},
        EventType.PAYMENT_REQUESTED: {"paymentCode": str, "amount": str, "expiresAt": str},
        EventType.PAYMENT_CONFIRMED: {"paymentCode": str, "amount": str, "providerEventId": str},
        EventType.PAYMENT_FAILED: {"paymentCode": str, "providerEventId": str, "detail": str},
        EventType.PAYMENT_EXPIRED: {"paymentCode": str},
        EventType.CANCELLATION_REQUESTED: {"requestedBy": str},
        EventType.SALE_COMPLETED: {"clientId": str, "amount": str, "invoiceNumber": str, "items": list},
        EventType.INVOICE_ISSUED: {"invoiceNumber": str, "amount": str},
        EventType.INVOICE_FAILED: {"invoiceNumber": str, "reason": str, "detail": str},
        EventType.ORDER_CANCELLED: {"reason": str},
        EventType.REFUND_OWED: {"paymentCode": str, "amount": str},
    }
)


class InvalidEvent(ValueError):
    """A message that is not a domain event of a known type and schema. It must fail, never be skipped."""


@dataclass(frozen=True, slots=True)
class DomainEvent:
    event_type: EventType
    order_id: str
    correlation_id: str
    occurred_at: datetime
    payload: Mapping[str, Any]
    event_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    schema_version: int = SCHEMA_VERSION

    def __post_init__(self) -> None:
        _check_payload(self.event_type, self.payload)

    def to_json(self) -> str:
        return json.dumps(
            {
                "eventId": self.event_id,
                "eventType": self.event_type.value,
                "schemaVersion": self.schema_version,
                "orderId": self.order_id,
                "correlationId": self.correlation_id,
                "occurredAt": self.occurred_at.isoformat(),
                "payload": dict(self.payload),
            },
            separators=(",", ":"),
        )

    @classmethod
    def from_json(cls, text: str) -> DomainEvent:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as error:
            raise InvalidEvent(f"not JSON: {error}") from error
        if not isinstance(data, dict):
            raise InvalidEvent("an event is a JSON object")
        try:
            event_type = EventType(data["eventType"])
        except (KeyError, ValueError) as error:
            raise InvalidEvent(f"unknown event type {data.get('eventType')!r}") from error
        version = data.get("schemaVersion")
        if type(version) is not int or version != SCHEMA_VERSION:
            raise InvalidEvent(f"{event_type} schema version {version!r} is not {SCHEMA_VERSION}")
        payload = data.get("payload")
        if not isinstance(payload, dict):
            raise InvalidEvent(f"{event_type} payload must be an object")
        try:
            return cls(
                event_type=event_type,
                order_id=_text(data, "orderId"),
                correlation_id=_text(data, "correlationId"),
                occurred_at=datetime.fromisoformat(_text(data, "occurredAt")),
                payload=payload,
                event_id=_text(data, "eventId"),
            )
        except (TypeError, ValueError) as error:
            raise InvalidEvent(f"{event_type}: {error}") from error


def _text(data: Mapping[str, Any], name: str) -> str:
    value = data.get(name)
    if not isinstance(value, str) or not value:
        raise InvalidEvent(f"{name} is missing")
    return value


def _check_payload(event_type: EventType, payload: object) -> None:
    if not isinstance(payload, Mapping):
        raise InvalidEvent(f"{event_type} payload must be an object")
    for name, kind in PAYLOAD_SCHEMAS[event_type].items():
        if not isinstance(payload.get(name), kind):
            raise InvalidEvent(f"{event_type} payload needs {name} ({kind.__name__})")
