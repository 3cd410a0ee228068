"""An HTTP API Lambda handler served as an ASGI app: the local server builds the same payload format 2.0 event
API Gateway would, so the webhook runs through the very handler that runs on AWS."""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any

import anyio
from starlette.types import Receive, Scope, Send

from graphql_api.http import read_body
from local_stack.lambda_events import http_api_event, lambda_context

LambdaHandler = Callable[[dict[str, Any], Any], dict[str, Any]]


class LambdaRoute:
    def __init__(self, handler: LambdaHandler, function_name: str) -> None:
        self._handler = handler
        self._function_name = function_name

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        body = await read_body(receive)
        headers = {name.decode("latin-1").lower(): value.decode("latin-1") for name, value in scope["headers"]}
        event = http_api_event(scope["method"], scope["path"], body.decode(), headers)
        # The handler is synchronous, as on Lambda: run it off the event loop so the API keeps answering.
        response = await anyio.to_thread.run_sync(self._handler, event, lambda_context(self._function_name))
        answer = response.get("body") or ""
        payload = base64.b64decode(answer) if response.get("isBase64Encoded") else answer.encode()
        response_headers = [(k.lower().encode(), str(v).encode()) for k, v in (response.get("headers") or {}).items()]
        await send({"type": "http.response.start", "status": response["statusCode"], "headers": response_headers})
        await send({"type": "http.response.body", "body": payload})
