"""One key per purpose, derived from the deployment's one root secret with HKDF-SHA256 (RFC 5869).

A key that signs pagination cursors never also keys anything else: learning or rotating one purpose's key says
nothing about another's, and a value signed for one purpose is never valid for another.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

_HASH = hashlib.sha256
_HASH_BYTES = _HASH().digest_size
KEY_BYTES = 32
# Each purpose's `info`: changing one changes that purpose's key (cursors void), nothing else.
CURSORS = b"vehicle-platform/pagination-cursors/v1"


def hkdf_sha256(root: bytes, info: bytes, length: int = KEY_BYTES, salt: bytes = b"") -> bytes:
    """RFC 5869: extract a pseudorandom key from `root` (salted; an empty salt is HashLen zero bytes), then expand
    it into `length` bytes bound to `info`."""
    if not 0 < length <= 255 * _HASH_BYTES:
        raise ValueError(f"HKDF-SHA256 gives 1 to {255 * _HASH_BYTES} bytes, not {length}")
    pseudorandom_key = hmac.new(salt or bytes(_HASH_BYTES), root, _HASH).digest()
    output, block = b"", b""
    for counter in range(1, -(-length // _HASH_BYTES) + 1):
        block = hmac.new(pseudorandom_key, block + info + bytes([counter]), _HASH).digest()
        output += block
    return output[:length]


@dataclass(frozen=True, slots=True)
class Secrets:
    """The keys this deployment uses, one per purpose."""

    cursors: bytes

    @classmethod
    def derive(cls, root: bytes) -> Secrets:
        return cls(cursors=hkdf_sha256(root, CURSORS))
