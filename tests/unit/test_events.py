"""Domain events on the wire: each type round-trips through JSON, and anything else is refused as InvalidEvent."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from domain.events import (
    PAYLOAD_SCHEMAS,
    PAYLOAD_TYPES,
    SCHEMA_VERSION,
    DomainEvent,
    EventType,
    InvalidEvent,
    PaymentConfirmed,
    RefundOwed,
)
from tests.unit.saga_fakes import sample_payload

AT = datetime(2025, 6, 15, 12, 0, 30, 123456, tzinfo=UTC)
_DROP = object()  # a field left out of the wire form


def _event(event_type: EventType = EventType.PAYMENT_CONFIRMED, **payload: Any) -> DomainEvent:
    return DomainEvent(
        event_type=event_type,
        order_id="order-1",
        correlation_id="corr-1",
        occurred_at=AT,
        payload={**sample_payload(event_type), **payload},
    )


def _wire(**changes: Any) -> str:
    data = json.loads(_event(amount="189900.00").to_json())
    for name, value in changes.items():
        if value is _DROP:
            del data[name]
        else:
            data[name] = value
    return json.dumps(data)


def test_every_event_type_has_a_payload_schema() -> None:
    assert set(PAYLOAD_SCHEMAS) == set(EventType)


@pytest.mark.parametrize("event_type", list(EventType))
def test_every_event_type_round_trips_through_json(event_type: EventType) -> None:
    # Given an event of the type, with a payload that fits its schema
    event = _event(event_type)
    # When it is written to JSON and read back
    back = DomainEvent.from_json(event.to_json())
    # Then it is the same event, id and time included
    assert back == event
    assert back.event_id == event.event_id
    assert back.occurred_at == AT
    assert back.schema_version == SCHEMA_VERSION


def test_the_wire_form_names_every_field() -> None:
    event = _event(EventType.PAYMENT_EXPIRED, paymentCode="PAY-ABC")
    assert json.loads(event.to_json()) == {
        "eventId": event.event_id,
        "eventType": "PaymentExpired",
        "schemaVersion": 1,
        "orderId": "order-1",
        "correlationId": "corr-1",
        "occurredAt": "2025-06-15T12:00:30.123456+00:00",
        "payload": {"paymentCode": "PAY-ABC"},
    }


def test_a_time_in_another_offset_keeps_its_instant() -> None:
    brasilia = timezone(timedelta(hours=-3))
    event = DomainEvent(EventType.PAYMENT_EXPIRED, "o", "c", AT.astimezone(brasilia), {"paymentCode": "P"})
    assert DomainEvent.from_json(event.to_json()).occurred_at == AT


def test_every_event_gets_its_own_id() -> None:
    assert len({_event().event_id for _ in range(50)}) == 50


def test_extra_payload_fields_are_carried_along() -> None:
    event = _event(EventType.ORDER_CANCELLED, reason="PAYMENT_FAILED", note="kept")
    assert DomainEvent.from_json(event.to_json()).payload["note"] == "kept"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{not json", "not JSON"),
        ("", "not JSON"),
        ("[1, 2]", "an event is a JSON object"),
        ('"OrderPlaced"', "an event is a JSON object"),
        ("null", "an event is a JSON object"),
        ("42", "an event is a JSON object"),
    ],
)
def test_what_is_not_a_json_object_is_refused(text: str, message: str) -> None:
    with pytest.raises(InvalidEvent, match=message):
        DomainEvent.from_json(text)


@pytest.mark.parametrize("event_type", ["OrderShipped", "orderplaced", "", None, 3])
def test_an_unknown_event_type_is_refused(event_type: object) -> None:
    with pytest.raises(InvalidEvent, match="unknown event type"):
        DomainEvent.from_json(_wire(eventType=event_type))


def test_a_missing_event_type_is_refused() -> None:
    with pytest.raises(InvalidEvent, match="unknown event type"):
        DomainEvent.from_json(_wire(eventType=_DROP))


@pytest.mark.parametrize("version", [0, 2, "1", None, _DROP])
def test_another_schema_version_is_refused(version: object) -> None:
    with pytest.raises(InvalidEvent, match="schema version"):
        DomainEvent.from_json(_wire(schemaVersion=version))


def test_a_boolean_schema_version_is_refused() -> None:
    with pytest.raises(InvalidEvent, match="schema version"):
        DomainEvent.from_json(_wire(schemaVersion=True))


@pytest.mark.parametrize("field", ["paymentCode", "amount", "providerEventId"])
def test_a_missing_payload_field_is_refused(field: str) -> None:
    payload = sample_payload(EventType.PAYMENT_CONFIRMED)
    del payload[field]
    with pytest.raises(InvalidEvent, match=f"needs {field}"):
        DomainEvent.from_json(_wire(payload=payload))


@pytest.mark.parametrize(
    ("field", "value"),
    [("amount", 189900), ("amount", 189900.0), ("amount", None), ("paymentCode", ["PAY"]), ("providerEventId", {})],
)
def test_a_payload_field_of_the_wrong_type_is_refused(field: str, value: object) -> None:
    payload = {**sample_payload(EventType.PAYMENT_CONFIRMED), field: value}
    with pytest.raises(InvalidEvent, match=f"needs {field} \\(str\\)"):
        DomainEvent.from_json(_wire(payload=payload))


def test_a_list_payload_field_must_be_a_list() -> None:
    text = json.dumps({**json.loads(_event(EventType.STOCK_PENDING).to_json()), "payload": {"pendingItems": "PRD"}})
    with pytest.raises(InvalidEvent, match="needs pendingItems"):
        DomainEvent.from_json(text)


@pytest.mark.parametrize("payload", [None, [], "text", _DROP])
def test_a_payload_that_is_not_an_object_is_refused(payload: object) -> None:
    with pytest.raises(InvalidEvent, match="payload must be an object"):
        DomainEvent.from_json(_wire(payload=payload))


@pytest.mark.parametrize("field", ["eventId", "orderId", "correlationId", "occurredAt"])
@pytest.mark.parametrize("value", [_DROP, "", 7])
def test_a_missing_envelope_field_is_refused(field: str, value: object) -> None:
    with pytest.raises(InvalidEvent, match=f"{field} is missing"):
        DomainEvent.from_json(_wire(**{field: value}))


def test_a_time_that_is_not_iso_8601_is_refused() -> None:
    with pytest.raises(InvalidEvent, match="PaymentConfirmed"):
        DomainEvent.from_json(_wire(occurredAt="15/06/2025 12:00"))


def test_an_event_built_with_a_bad_payload_is_refused_at_once() -> None:
    with pytest.raises(InvalidEvent, match="needs clientId"):
        DomainEvent(EventType.CLIENT_VALIDATED, "order-1", "corr-1", AT, {"client": "x"})
    with pytest.raises(InvalidEvent, match="payload must be an object"):
        DomainEvent(EventType.CLIENT_VALIDATED, "order-1", "corr-1", AT, ["clientId"])  # type: ignore[arg-type]


def test_invalid_event_is_a_value_error() -> None:
    # Consumers fail such a message (never skip it): it ends in the dead-letter queue.
    assert issubclass(InvalidEvent, ValueError)


# --- typed payloads ------------------------------------------------------------------------------------------------


def test_every_event_type_has_one_payload_dataclass_that_its_schema_is_read_from() -> None:
    assert set(PAYLOAD_TYPES) == set(EventType)
    assert all(kind.event_type is event_type for event_type, kind in PAYLOAD_TYPES.items())


@pytest.mark.parametrize("event_type", list(EventType))
def test_a_typed_payload_reads_back_from_its_wire_form(event_type: EventType) -> None:
    event = _event(event_type)
    typed = event.payload_as(PAYLOAD_TYPES[event_type])
    assert typed.to_wire() == event.payload


def test_a_typed_payload_goes_on_the_wire_in_camel_case_and_leaves_out_what_it_lacks() -> None:
    owed = RefundOwed(payment_code="PAY-1", amount="10.00", end_to_end_id="E-1")
    event = DomainEvent.of(owed, order_id="order-1", correlation_id="corr-1", occurred_at=AT)
    assert json.loads(event.to_json())["payload"] == {"paymentCode": "PAY-1", "amount": "10.00", "endToEndId": "E-1"}
    told = RefundOwed(payment_code="PAY-1", amount="10.00", end_to_end_id="E-1", told_with="OrderCancelled", attempt=2)
    assert told.to_wire() == {
        "paymentCode": "PAY-1",
        "amount": "10.00",
        "endToEndId": "E-1",
        "toldWith": "OrderCancelled",
        "attempt": 2,
    }
    assert DomainEvent.from_json(event.to_json()).payload_as(RefundOwed) == owed


def test_asking_an_event_for_another_types_payload_is_refused() -> None:
    with pytest.raises(InvalidEvent, match="does not carry a PaymentConfirmed"):
        _event(EventType.PAYMENT_EXPIRED).payload_as(PaymentConfirmed)
