"""The lean @connections client signs exactly as botocore does: the same request, the same Authorization."""

from __future__ import annotations

from datetime import UTC, datetime
from unittest import mock

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from realtime.management_client import SigV4Signer

MOMENT = datetime(2026, 12, 3, 10, 30, 15, tzinfo=UTC)
HOST = "abc123.execute-api.sa-east-1.amazonaws.com"


def botocore_signature(
    credentials: Credentials,
    method: str,
    path: str,
    body: bytes,
    *,
    region: str = "sa-east-1",
    moment: datetime = MOMENT,
) -> dict[str, str]:
    request = AWSRequest(method=method, url=f"https://{HOST}{path}", data=body)
    with mock.patch("botocore.auth.get_current_datetime", return_value=moment.replace(tzinfo=None)):
        SigV4Auth(credentials, "execute-api", region).add_auth(request)
    return {name.lower(): value for name, value in request.headers.items()}


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/prod/@connections/AbCdEfGhIjKlMnO%3D", b'{"type":"next","id":"1"}'),
        ("DELETE", "/prod/@connections/AbCdEfGhIjKlMnO%3D", b""),
        ("POST", "/@connections/L0SM9cOFvHcCIhw%3D", b"{}"),
    ],
)
@pytest.mark.parametrize("token", [None, "session-token"], ids=["long-term", "session"])
def test_a_request_is_signed_as_botocore_signs_it(method: str, path: str, body: bytes, token: str | None) -> None:
    credentials = Credentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", token)

    ours = SigV4Signer(credentials, "sa-east-1").headers(method, HOST, path, body, now=MOMENT)
    theirs = botocore_signature(credentials, method, path, body)

    assert ours["authorization"] == theirs["authorization"]
    assert ours["x-amz-date"] == theirs["x-amz-date"]
    assert ours.get("x-amz-security-token") == theirs.get("x-amz-security-token")


def test_the_signing_key_follows_the_day_and_the_credentials() -> None:
    first = Credentials("AKIDEXAMPLE", "secret-one")
    signer = SigV4Signer(first, "us-east-1")
    today = signer.headers("POST", HOST, "/@connections/x", b"", now=MOMENT)["authorization"]
    tomorrow = signer.headers("POST", HOST, "/@connections/x", b"", now=MOMENT.replace(day=4))["authorization"]
    assert today != tomorrow
    theirs = botocore_signature(first, "POST", "/@connections/x", b"", region="us-east-1", moment=MOMENT.replace(day=4))
    assert tomorrow == theirs["authorization"]
    # The Lambda role's credentials are refreshed in place: the next request signs with the new ones.
    first.access_key, first.secret_key = "AKIDROTATED", "secret-two"
    after = signer.headers("POST", HOST, "/@connections/x", b"", now=MOMENT)["authorization"]
    theirs = botocore_signature(first, "POST", "/@connections/x", b"", region="us-east-1")
    assert after == theirs["authorization"]
