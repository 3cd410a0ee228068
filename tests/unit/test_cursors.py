"""Pagination cursors: opaque, bound to one list, and refused as a validation error whenever they were altered."""

from __future__ import annotations

import base64
import json
import re

import pytest

from domain.errors import ValidationFailed
from persistence.cursors import CursorCodec
from tests.unit.factories import cursor_codec, sign_cursor

SCOPE = "vehicles:AVAILABLE"
KEY = {"pk": "VEHICLE#vehicle-1", "sk": "VEHICLE", "gsi1pk": "VEHICLES#AVAILABLE", "gsi1sk": "0189900#vehicle-1"}
MESSAGE = "cursor is not valid for this list"


@pytest.fixture
def codec() -> CursorCodec:
    return cursor_codec()


@pytest.fixture
def cursor(codec: CursorCodec) -> str:
    return codec.encode(SCOPE, KEY)


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _flip(char: str) -> str:
    return "B" if char == "A" else "A"


def _assert_refused(codec: CursorCodec, cursor: str, *, scope: str = SCOPE, field: str = "after") -> None:
    with pytest.raises(ValidationFailed) as caught:
        codec.decode(scope, cursor, field=field)
    assert caught.value.field == field
    assert caught.value.code == "VALIDATION"
    assert caught.value.message == MESSAGE


def test_cursor_round_trips_the_key(codec: CursorCodec, cursor: str) -> None:
    # Given a cursor encoded for one list
    # When it is decoded for the same list
    # Then the key comes back unchanged
    assert codec.decode(SCOPE, cursor) == KEY


def test_cursor_decodes_with_another_codec_sharing_the_secret(cursor: str) -> None:
    # Every Lambda instance builds its own codec from the same secret.
    assert cursor_codec().decode(SCOPE, cursor) == KEY


def test_cursor_is_url_safe_and_unpadded(cursor: str) -> None:
    assert re.fullmatch(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+", cursor)


def test_cursor_is_deterministic_whatever_the_key_order(codec: CursorCodec) -> None:
    reordered = dict(reversed(list(KEY.items())))
    assert codec.encode(SCOPE, reordered) == codec.encode(SCOPE, KEY)


def test_cursor_round_trips_unicode_and_separators(codec: CursorCodec) -> None:
    key = {"position": "000000000018990#véhicule.1/=+"}
    assert codec.decode("products", codec.encode("products", key)) == key


def test_empty_key_round_trips(codec: CursorCodec) -> None:
    assert codec.decode(SCOPE, codec.encode(SCOPE, {})) == {}


@pytest.mark.parametrize("other_scope", ["vehicles:SOLD", "products", "", "vehicles:available"])
def test_cursor_of_another_list_is_refused(codec: CursorCodec, cursor: str, other_scope: str) -> None:
    # Given a genuine cursor of the available vehicles, when it is used to page through another list
    # Then it is refused
    _assert_refused(codec, cursor, scope=other_scope)


def test_cursor_signed_with_another_secret_is_refused(cursor: str) -> None:
    _assert_refused(CursorCodec(b"another-secret"), cursor)


def test_edited_key_with_the_original_signature_is_refused(codec: CursorCodec, cursor: str) -> None:
    # Given a cursor whose body is decoded, edited to point elsewhere and re-encoded, keeping the signature
    body, signature = cursor.split(".")
    payload = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    payload["k"]["gsi1sk"] = "0000001#vehicle-0"
    forged = f"{_b64(json.dumps(payload, separators=(',', ':'), sort_keys=True).encode())}.{signature}"
    # When it is decoded, then it is refused
    _assert_refused(codec, forged)


def test_cursor_moved_to_another_scope_with_the_original_signature_is_refused(codec: CursorCodec, cursor: str) -> None:
    body, signature = cursor.split(".")
    payload = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    payload["s"] = "vehicles:SOLD"
    forged = f"{_b64(json.dumps(payload, separators=(',', ':'), sort_keys=True).encode())}.{signature}"
    _assert_refused(codec, forged, scope="vehicles:SOLD")


@pytest.mark.parametrize("position", [0, 5, 17])
def test_cursor_with_a_tampered_body_character_is_refused(codec: CursorCodec, cursor: str, position: int) -> None:
    body, signature = cursor.split(".")
    tampered = body[:position] + _flip(body[position]) + body[position + 1 :]
    _assert_refused(codec, f"{tampered}.{signature}")


@pytest.mark.parametrize("position", [0, 7, 15])
def test_cursor_with_a_tampered_signature_is_refused(codec: CursorCodec, cursor: str, position: int) -> None:
    body, signature = cursor.split(".")
    tampered = signature[:position] + _flip(signature[position]) + signature[position + 1 :]
    _assert_refused(codec, f"{body}.{tampered}")


def test_every_truncation_of_a_cursor_is_refused(codec: CursorCodec, cursor: str) -> None:
    # Given every proper prefix of a genuine cursor (copy-paste accidents)
    for length in range(len(cursor)):
        # When it is decoded, then it is refused
        _assert_refused(codec, cursor[:length])


def test_cursor_without_its_signature_is_refused(codec: CursorCodec, cursor: str) -> None:
    body, _ = cursor.split(".")
    _assert_refused(codec, body)
    _assert_refused(codec, f"{body}.")


def test_cursor_with_a_second_signature_appended_is_refused(codec: CursorCodec, cursor: str) -> None:
    _, signature = cursor.split(".")
    _assert_refused(codec, f"{cursor}.{signature}")


@pytest.mark.parametrize(
    "garbage",
    ["", ".", "..", "not a cursor", "%%%.%%%", "A", "A.A", "abc.def", "é.é", "😀.😀", "eyJzIjoi.fQ", "====.===="],
)
def test_cursor_that_is_not_base64_of_a_signed_payload_is_refused(codec: CursorCodec, garbage: str) -> None:
    _assert_refused(codec, garbage)


@pytest.mark.parametrize(
    "payload",
    [
        b"[1,2]",
        b'"vehicles:AVAILABLE"',
        b"null",
        b"42",
        b"true",
        b'{"s":"vehicles:AVAILABLE"}',
        b'{"s":"vehicles:AVAILABLE","k":"pk"}',
        b'{"s":"vehicles:AVAILABLE","k":["pk"]}',
        b'{"s":"vehicles:AVAILABLE","k":null}',
        b'{"k":{"pk":"x"}}',
        b"{not json",
        b"",
        b"\xff\xfe\x00",
    ],
)
def test_signed_payload_that_is_not_a_scoped_key_object_is_refused(codec: CursorCodec, payload: bytes) -> None:
    # Given a cursor correctly signed with the codec's secret over a payload of the wrong shape
    # When it is decoded, then it is refused rather than crashing
    _assert_refused(codec, sign_cursor(payload))


def test_hand_signed_cursor_of_the_right_shape_is_accepted(codec: CursorCodec) -> None:
    # Proves that sign_cursor signs as the codec does, so the refusals above are about the shape alone.
    payload = json.dumps({"s": SCOPE, "k": KEY}).encode()
    assert codec.decode(SCOPE, sign_cursor(payload)) == KEY


@pytest.mark.parametrize("field", ["afterCursor", "vehicles.after"])
def test_refusal_names_the_field_given_by_the_caller(codec: CursorCodec, cursor: str, field: str) -> None:
    # Scope mismatch, tampering and garbage all name the caller's field
    _assert_refused(codec, cursor, scope="products", field=field)
    _assert_refused(codec, cursor[:-3], field=field)
    _assert_refused(codec, "", field=field)
    _assert_refused(codec, sign_cursor(b"[]"), field=field)
