"""Lambda invocation payloads as AWS builds them, for invoking the same handlers locally, in tests and benches."""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass, field
from typing import Any


@dataclass
class LocalLambdaContext:
    """The attributes of Lambda's context object that Mangum and Powertools read."""

    function_name: str = "local"
    memory_limit_in_mb: int = 1024
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:us-east-1:000000000000:function:{self.function_name}"

    def get_remaining_time_in_millis(self) -> int:
        return 30_000


def lambda_context(function_name: str = "local") -> Any:
    """A context to pass to a handler. Typed Any: Mangum and Powertools each declare their own context type."""
    return LocalLambdaContext(function_name=function_name)


def http_api_event(
    method: str,
    path: str,
    body: dict[str, Any] | str | None = None,
    headers: dict[str, str] | None = None,
    *,
    request_id: str | None = None,
) -> dict[str, Any]:
    """An API Gateway HTTP API event, payload format 2.0."""
    now = time.time()
    return {
        "version": "2.0",
        "routeKey": f"{method} {path}",
        "rawPath": path,
        "rawQueryString": "",
        "headers": {"content-type": "application/json", "host": "localhost", **(headers or {})},
        "requestContext": {
            "accountId": "000000000000",
            "apiId": "local",
            "domainName": "localhost",
            "http": {
                "method": method,
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": "127.0.0.1",
                "userAgent": "local",
            },
            "requestId": request_id or str(uuid.uuid4()),
            "routeKey": f"{method} {path}",
            "stage": "$default",
            "time": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
            "timeEpoch": int(now * 1000),
        },
        "body": body if isinstance(body, str) or body is None else json.dumps(body),
        "isBase64Encoded": False,
    }
