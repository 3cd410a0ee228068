"""Domain events: what happened to an order, published on the events topic and consumed by the saga's steps.

Each event type has one schema (the payload fields and their types, and a version) that producer and consumer
share: `DomainEvent.from_json` refuses anything else, so a malformed message fails loudly instead of being
half-understood.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from dataclasses import MISSING, dataclass, field, fields
from datetime import datetime
from enum import StrEnum
from types import MappingProxyType
from typing import Any, ClassVar, Self, TypeVar, get_origin, get_type_hints

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
    # A refund of money the order did not keep reached the payer (the PSP says DEVOLVIDO).
    REFUND_COMPLETED = "RefundCompleted"


# --- the payload of each event type: one frozen dataclass, serialized in one place (`to_wire`, `from_wire`) ---------
# Money travels as a string ("189900.00"), times as ISO 8601, items as [{"ref", "kind", "quantity"}]. Field names are
# the wire's in snake_case; an optional field left None is left out of the JSON.


@dataclass(frozen=True, slots=True)
class EventPayload:
    event_type: ClassVar[EventType]

    def to_wire(self) -> dict[str, Any]:
        wire = {_camel(item.name): getattr(self, item.name) for item in fields(self)}
        return {name: value for name, value in wire.items() if value is not None}

    @classmethod
    def from_wire(cls, payload: Mapping[str, Any]) -> Self:
        """The typed payload of a checked event (`DomainEvent` checks the schema when it is built)."""
        return cls(**{item.name: payload.get(_camel(item.name)) for item in fields(cls)})


@dataclass(frozen=True, slots=True)
class OrderPlaced(EventPayload):
    event_type = EventType.ORDER_PLACED
    client_id: str
    total: str
    items: list[dict[str, Any]]
    # A vehicle order's vehicle, also among its items.
    vehicle_id: str | None = None


@dataclass(frozen=True, slots=True)
class ClientValidated(EventPayload):
    event_type = EventType.CLIENT_VALIDATED
    client_id: str


@dataclass(frozen=True, slots=True)
class OrderRejected(EventPayload):
    event_type = EventType.ORDER_REJECTED
    reason: str
    detail: str


@dataclass(frozen=True, slots=True)
class InventoryReserved(EventPayload):
    event_type = EventType.INVENTORY_RESERVED
    items: list[dict[str, Any]]


@dataclass(frozen=True, slots=True)
class StockPending(EventPayload):
    event_type = EventType.STOCK_PENDING
    # [{"productId", "quantity", "available"}]
    pending_items: list[dict[str, Any]]


@dataclass(frozen=True, slots=True)
class ReservationFailed(EventPayload):
    event_type = EventType.RESERVATION_FAILED
    # The CancellationReason the compensation applies (VEHICLE_UNAVAILABLE, OUT_OF_STOCK).
    reason: str
    detail: str


@dataclass(frozen=True, slots=True)
class PaymentRequested(EventPayload):
    event_type = EventType.PAYMENT_REQUESTED
    payment_code: str
    amount: str
    expires_at: str


@dataclass(frozen=True, slots=True)
class PaymentConfirmed(EventPayload):
    event_type = EventType.PAYMENT_CONFIRMED
    payment_code: str
    amount: str
    provider_event_id: str


@dataclass(frozen=True, slots=True)
class PaymentFailed(EventPayload):
    """A payment that could not pay its order (a Pix of the wrong amount): for the books and the history. The step
    that found it cancelled the order and owed the money back in the same commit."""

    event_type = EventType.PAYMENT_FAILED
    payment_code: str
    provider_event_id: str
    detail: str


@dataclass(frozen=True, slots=True)
class PaymentExpired(EventPayload):
    event_type = EventType.PAYMENT_EXPIRED
    payment_code: str


@dataclass(frozen=True, slots=True)
class CancellationRequested(EventPayload):
    event_type = EventType.CANCELLATION_REQUESTED
    requested_by: str


@dataclass(frozen=True, slots=True)
class SaleCompleted(EventPayload):
    event_type = EventType.SALE_COMPLETED
    client_id: str
    amount: str
    invoice_number: str
    items: list[dict[str, Any]]
    vehicle_id: str | None = None


@dataclass(frozen=True, slots=True)
class InvoiceIssued(EventPayload):
    event_type = EventType.INVOICE_ISSUED
    invoice_number: str
    amount: str


@dataclass(frozen=True, slots=True)
class InvoiceFailed(EventPayload):
    event_type = EventType.INVOICE_FAILED
    invoice_number: str
    # The CancellationReason the compensation applies.
    reason: str
    detail: str


@dataclass(frozen=True, slots=True)
class OrderCancelled(EventPayload):
    event_type = EventType.ORDER_CANCELLED
    reason: str
    detail: str | None = None
    # What was paid and is refunded, when the cancellation's email tells the customer so.
    refund: str | None = None


@dataclass(frozen=True, slots=True)
class RefundOwed(EventPayload):
    event_type = EventType.REFUND_OWED
    payment_code: str
    amount: str
    # The payment whose money is owed back (a Pix's endToEndId): what its refund names.
    end_to_end_id: str
    # The event whose email already tells the customer (OrderCancelled), if one does.
    told_with: str | None = None
    # Which attempt at the refund this is, from the second on (the one before ended NAO_REALIZADO); absent: the first.
    attempt: int | None = None


@dataclass(frozen=True, slots=True)
class RefundCompleted(EventPayload):
    event_type = EventType.REFUND_COMPLETED
    payment_code: str
    refund_id: str
    amount: str
    # The Pix refunded (its endToEndId).
    end_to_end_id: str


PAYLOAD_TYPES: Mapping[EventType, type[EventPayload]] = MappingProxyType(
    {
        kind.event_type: kind
        for kind in (
            OrderPlaced,
            ClientValidated,
            OrderRejected,
            InventoryReserved,
            StockPending,
            ReservationFailed,
            PaymentRequested,
            PaymentConfirmed,
            PaymentFailed,
            PaymentExpired,
            CancellationRequested,
            SaleCompleted,
            InvoiceIssued,
            InvoiceFailed,
            OrderCancelled,
            RefundOwed,
            RefundCompleted,
        )
    }
)


def _camel(name: str) -> str:
    first, *rest = name.split("_")
    return first + "".join(word.capitalize() for word in rest)


def _required_fields(kind: type[EventPayload]) -> Mapping[str, type]:
    hints = get_type_hints(kind)
    return {
        _camel(item.name): get_origin(hints[item.name]) or hints[item.name]
        for item in fields(kind)
        if item.default is MISSING
    }


# The fields every event of a type must carry, and their JSON types: what `DomainEvent` checks.
PAYLOAD_SCHEMAS: Mapping[EventType, Mapping[str, type]] = MappingProxyType(
    {event_type: _required_fields(kind) for event_type, kind in PAYLOAD_TYPES.items()}
)

P = TypeVar("P", bound=EventPayload)


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

    @classmethod
    def of(cls, payload: EventPayload, *, order_id: str, correlation_id: str, occurred_at: datetime) -> DomainEvent:
        return cls(
            event_type=payload.event_type,
            order_id=order_id,
            correlation_id=correlation_id,
            occurred_at=occurred_at,
            payload=payload.to_wire(),
        )

    def payload_as(self, kind: type[P]) -> P:
        """The payload as its event type's dataclass; asking for another type's is a programming error."""
        if kind.event_type is not self.event_type:
            raise InvalidEvent(f"{self.event_type} does not carry a {kind.__name__}")
        return kind.from_wire(self.payload)

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
