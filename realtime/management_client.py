"""API Gateway's @connections API, lean: the two calls the realtime functions make, signed with SigV4 and sent on
pooled HTTP connections.

A fan-out's cost is its posts, and botocore spends about 1 ms of CPU on each (parameter validation, endpoint rules,
event hooks, the request's model-driven serialization, signing, parsing); botocore's own signer on urllib3 still
spends half that. A post here is a pre-split URL, one SigV4 signature (the day's signing key derived once) and a
request on a kept-alive connection: about a quarter of botocore's cost (`bench/realtime.py` prints both). The
credentials still come from botocore's chain (the Lambda role's, refreshed as they expire), and failures surface as
the same botocore exceptions, so `ManagementApi` judges them as it judged the SDK's.
"""

from __future__ import annotations

import hashlib
import hmac
import threading
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, urlsplit

import urllib3
from botocore.credentials import Credentials, ReadOnlyCredentials
from botocore.exceptions import (
    ClientError,
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    ReadTimeoutError,
)

SERVICE = "execute-api"
_ALGORITHM = "AWS4-HMAC-SHA256"


class SigV4Signer:
    """Signature Version 4 for one service in one region, over requests with no query string."""

    def __init__(self, credentials: Credentials, region: str, service: str = SERVICE) -> None:
        self._credentials = credentials
        self._region = region
        self._service = service
        self._lock = threading.Lock()
        self._key: tuple[str, str, bytes] | None = None  # (day, access key, signing key)

    def headers(self, method: str, host: str, path: str, body: bytes, now: datetime | None = None) -> dict[str, str]:
        """The headers that sign this request (`path` already URI-encoded, as it goes on the wire)."""
        moment = now or datetime.now(UTC)
        stamp = moment.strftime("%Y%m%dT%H%M%SZ")
        day = stamp[:8]
        frozen = self._credentials.get_frozen_credentials()
        payload_hash = hashlib.sha256(body).hexdigest()
        headers = {"host": host, "x-amz-date": stamp}
        if frozen.token:
            headers["x-amz-security-token"] = frozen.token
        signed = ";".join(sorted(headers))
        canonical_headers = "".join(f"{name}:{headers[name]}\n" for name in sorted(headers))
        # The path is encoded once more in the canonical request: every service but S3 signs it that way.
        canonical = "\n".join((method, quote(path, safe="/~"), "", canonical_headers, signed, payload_hash))
        scope = f"{day}/{self._region}/{self._service}/aws4_request"
        to_sign = "\n".join((_ALGORITHM, stamp, scope, hashlib.sha256(canonical.encode()).hexdigest()))
        signature = hmac.new(self._signing_key(day, frozen), to_sign.encode(), hashlib.sha256).hexdigest()
        headers["authorization"] = (
            f"{_ALGORITHM} Credential={frozen.access_key}/{scope}, SignedHeaders={signed}, Signature={signature}"
        )
        return headers

    def _signing_key(self, day: str, frozen: ReadOnlyCredentials) -> bytes:
        with self._lock:
            if self._key is not None and self._key[:2] == (day, frozen.access_key):
                return self._key[2]
            key = _hmac(f"AWS4{frozen.secret_key}".encode(), day)
            for part in (self._region, self._service, "aws4_request"):
                key = _hmac(key, part)
            self._key = (day, str(frozen.access_key), key)
            return key


def _hmac(key: bytes, message: str) -> bytes:
    return hmac.new(key, message.encode(), hashlib.sha256).digest()


class ManagementClient:
    """`post_to_connection` and `delete_connection`, shaped as boto3's `apigatewaymanagementapi` client's, on one
    pool of at most `pool_size` kept-alive connections. Never retries: the caller decides what is worth another
    try."""

    def __init__(
        self,
        endpoint: str,
        credentials: Credentials,
        region: str,
        *,
        pool_size: int,
        connect_timeout: float,
        read_timeout: float,
    ) -> None:
        parts = urlsplit(endpoint)
        self._endpoint = endpoint
        self._host = parts.netloc
        # The stage, if the endpoint names one: `https://{api}.execute-api.{region}.amazonaws.com/{stage}`.
        self._prefix = parts.path.rstrip("/")
        self._signer = SigV4Signer(credentials, region)
        self._pool = urllib3.connection_from_url(
            endpoint,
            maxsize=pool_size,
            block=False,
            timeout=urllib3.Timeout(connect=connect_timeout, read=read_timeout),
            retries=False,
        )

    def post_to_connection(self, *, ConnectionId: str, Data: bytes) -> dict[str, Any]:  # noqa: N803 - boto3's names
        return self._call("PostToConnection", "POST", ConnectionId, Data)

    def delete_connection(self, *, ConnectionId: str) -> dict[str, Any]:  # noqa: N803 - boto3's names
        return self._call("DeleteConnection", "DELETE", ConnectionId, b"")

    def _call(self, operation: str, method: str, connection_id: str, body: bytes) -> dict[str, Any]:
        path = f"{self._prefix}/@connections/{quote(connection_id, safe='')}"
        headers = self._signer.headers(method, self._host, path, body)
        if body:
            headers["content-type"] = "application/json"
        try:
            response = self._pool.urlopen(method, path, body=body or None, headers=headers, redirect=False)
        except urllib3.exceptions.ConnectTimeoutError as error:
            raise ConnectTimeoutError(endpoint_url=self._endpoint, error=error) from error
        except urllib3.exceptions.ReadTimeoutError as error:
            raise ReadTimeoutError(endpoint_url=self._endpoint, error=error) from error
        except urllib3.exceptions.NewConnectionError as error:
            raise EndpointConnectionError(endpoint_url=self._endpoint, error=error) from error
        except (urllib3.exceptions.ProtocolError, urllib3.exceptions.HTTPError) as error:
            # The connection closed under the request (a kept-alive one the server had let go, usually).
            raise ConnectionClosedError(endpoint_url=self._endpoint, error=error) from error
        if response.status < 300:
            return {"ResponseMetadata": {"HTTPStatusCode": response.status}}
        # API Gateway names the error in a header (`GoneException`, or `...:http://internal.amazon.com/...`).
        code = (response.headers.get("x-amzn-errortype") or "").split(":")[0]
        error_response: Any = {
            "Error": {"Code": code, "Message": response.data.decode(errors="replace")[:200]},
            "ResponseMetadata": {"HTTPStatusCode": response.status},
        }
        raise ClientError(error_response, operation)
