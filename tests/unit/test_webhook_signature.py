"""The payment provider's webhook signature: HMAC-SHA256 over "<timestamp>.<body>", with a timestamp tolerance."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from runtime.webhook_signature import DEFAULT_TOLERANCE_SECONDS, HEADER, InvalidSignature, sign, verify

SECRET = b"whsec-unit-test"
NOW = 1_750_000_000
BODY = b'{"id":"evt-1","type":"payment.confirmed","data":{"code":"PAY-ABC","amount":"189900.00"}}'


def test_the_header_is_named_and_shaped_as_providers_send_it() -> None:
    header = sign(SECRET, NOW, BODY)
    digest = hmac.new(SECRET, f"{NOW}.".encode() + BODY, hashlib.sha256).hexdigest()
    assert header == f"t={NOW},v1={digest}"
    assert HEADER == "x-payment-signature"


def test_a_signed_call_verifies_and_gives_its_timestamp() -> None:
    assert verify(SECRET, sign(SECRET, NOW, BODY), BODY, now=NOW) == NOW


@pytest.mark.parametrize("age", [0, 1, DEFAULT_TOLERANCE_SECONDS, -DEFAULT_TOLERANCE_SECONDS])
def test_a_call_within_the_tolerance_verifies(age: int) -> None:
    assert verify(SECRET, sign(SECRET, NOW - age, BODY), BODY, now=NOW) == NOW - age


def test_the_tolerance_can_be_chosen() -> None:
    header = sign(SECRET, NOW - 60, BODY)
    assert verify(SECRET, header, BODY, now=NOW, tolerance=60) == NOW - 60
    with pytest.raises(InvalidSignature):
        verify(SECRET, header, BODY, now=NOW, tolerance=59)


def test_an_empty_body_can_be_signed() -> None:
    assert verify(SECRET, sign(SECRET, NOW, b""), b"", now=NOW) == NOW


def test_parts_in_another_order_and_extra_parts_are_accepted() -> None:
    digest = sign(SECRET, NOW, BODY).split("v1=")[1]
    assert verify(SECRET, f"v0=legacy,v1={digest},t={NOW}", BODY, now=NOW) == NOW


def test_a_call_signed_with_another_secret_is_refused() -> None:
    with pytest.raises(InvalidSignature, match="does not match"):
        verify(SECRET, sign(b"someone-else", NOW, BODY), BODY, now=NOW)


@pytest.mark.parametrize(
    "body",
    [
        BODY.replace(b"189900.00", b"1.00"),
        BODY.replace(b"payment.confirmed", b"payment.failed"),
        BODY + b" ",
        BODY[:-1],
        b"",
    ],
)
def test_a_tampered_body_is_refused(body: bytes) -> None:
    with pytest.raises(InvalidSignature, match="does not match"):
        verify(SECRET, sign(SECRET, NOW, BODY), body, now=NOW)


def test_a_replayed_signature_with_a_fresh_timestamp_is_refused() -> None:
    # An old call's digest cannot be reused under a new timestamp: the timestamp is signed too.
    old_digest = sign(SECRET, NOW - 3600, BODY).split("v1=")[1]
    with pytest.raises(InvalidSignature, match="does not match"):
        verify(SECRET, f"t={NOW},v1={old_digest}", BODY, now=NOW)


def test_a_call_signed_too_long_ago_is_refused() -> None:
    with pytest.raises(InvalidSignature, match="too old"):
        verify(SECRET, sign(SECRET, NOW - DEFAULT_TOLERANCE_SECONDS - 1, BODY), BODY, now=NOW)


def test_a_call_signed_in_the_future_is_refused() -> None:
    with pytest.raises(InvalidSignature, match="future"):
        verify(SECRET, sign(SECRET, NOW + DEFAULT_TOLERANCE_SECONDS + 1, BODY), BODY, now=NOW)


@pytest.mark.parametrize(
    "header",
    [
        "garbage",
        "t=,v1=abc",
        f"t=soon,v1={'0' * 64}",
        f"t={NOW}.5,v1={'0' * 64}",
        f"v1={'0' * 64}",
        f"t={NOW}",
        f"t={NOW};v1={'0' * 64}",
        f"T={NOW},V1={'0' * 64}",
    ],
)
def test_a_malformed_header_is_refused(header: str) -> None:
    with pytest.raises(InvalidSignature, match="malformed"):
        verify(SECRET, header, BODY, now=NOW)


@pytest.mark.parametrize("header", [None, ""])
def test_a_missing_header_is_refused(header: str | None) -> None:
    with pytest.raises(InvalidSignature, match="missing"):
        verify(SECRET, header, BODY, now=NOW)


@pytest.mark.parametrize("digest", ["", "0" * 64, "zz", "ABC"])
def test_a_wrong_digest_is_refused(digest: str) -> None:
    with pytest.raises(InvalidSignature, match="does not match"):
        verify(SECRET, f"t={NOW},v1={digest}", BODY, now=NOW)


def test_an_upper_case_digest_is_refused() -> None:
    header = sign(SECRET, NOW, BODY)
    with pytest.raises(InvalidSignature):
        verify(SECRET, header.replace(header.split("v1=")[1], header.split("v1=")[1].upper()), BODY, now=NOW)


def test_a_non_ascii_digest_is_refused_as_a_bad_signature() -> None:
    with pytest.raises(InvalidSignature):
        verify(SECRET, f"t={NOW},v1=ção", BODY, now=NOW)


def test_an_absurd_timestamp_is_refused_as_a_bad_signature() -> None:
    with pytest.raises(InvalidSignature):
        verify(SECRET, f"t={'9' * 400},v1={'0' * 64}", BODY, now=float(NOW))
