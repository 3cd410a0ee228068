"""Opaque, signed pagination cursors: a client can hand them back but cannot forge or edit them."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json

from domain.errors import ValidationFailed

_SIGNATURE_BYTES = 16


def _b64encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _b64decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class CursorCodec:
    """Encodes a DynamoDB start key for one list (the scope), signed with HMAC-SHA256."""

    def __init__(self, secret: bytes) -> None:
        self._secret = secret

    def _sign(self, payload: bytes) -> bytes:
        return hmac.new(self._secret, payload, hashlib.sha256).digest()[:_SIGNATURE_BYTES]

    def encode(self, scope: str, key: dict[str, str]) -> str:
        payload = json.dumps({"s": scope, "k": key}, separators=(",", ":"), sort_keys=True).encode()
        return f"{_b64encode(payload)}.{_b64encode(self._sign(payload))}"

    def decode(self, scope: str, cursor: str, *, field: str = "after") -> dict[str, str]:
        invalid = ValidationFailed(field, "cursor is not valid for this list")
        body, _, signature = cursor.partition(".")
        try:
            payload = _b64decode(body)
            if not hmac.compare_digest(_b64decode(signature), self._sign(payload)):
                raise invalid
            decoded = json.loads(payload)
        except (binascii.Error, ValueError, UnicodeDecodeError) as error:
            raise invalid from error
        # A valid cursor of another list (say, sold vehicles) must not page through this one.
        if not isinstance(decoded, dict) or decoded.get("s") != scope or not isinstance(decoded.get("k"), dict):
            raise invalid
        key: dict[str, str] = decoded["k"]
        return key
