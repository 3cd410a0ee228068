"""The per-purpose keys: HKDF-SHA256 as RFC 5869 specifies it, and one key per purpose from one root."""

from __future__ import annotations

import pytest

from runtime.secrets import Secrets, hkdf_sha256
from runtime.settings import Settings


def test_hkdf_gives_the_rfc_5869_test_case_1_output() -> None:
    okm = hkdf_sha256(
        bytes.fromhex("0b" * 22),
        bytes.fromhex("f0f1f2f3f4f5f6f7f8f9"),
        42,
        salt=bytes.fromhex("000102030405060708090a0b0c"),
    )
    assert okm == bytes.fromhex("3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865")


def test_hkdf_gives_the_rfc_5869_test_case_3_output_without_salt_or_info() -> None:
    okm = hkdf_sha256(bytes.fromhex("0b" * 22), b"", 42)
    assert okm == bytes.fromhex("8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8")


def test_hkdf_refuses_a_length_it_cannot_give() -> None:
    with pytest.raises(ValueError, match="HKDF-SHA256"):
        hkdf_sha256(b"root", b"info", 255 * 32 + 1)


def test_the_cursors_key_is_derived_and_is_not_the_root() -> None:
    secrets = Secrets.derive(b"root")
    assert secrets.cursors != b"root"
    assert len(secrets.cursors) == 32
    assert Secrets.derive(b"root") == secrets
    assert Secrets.derive(b"another root").cursors != secrets.cursors


def test_the_settings_derive_the_keys_from_the_root_secret() -> None:
    settings = Settings.from_env({"CURSOR_SECRET": "root"})
    assert settings.secrets == Secrets.derive(b"root")
