"""The ASGI app: /graphql (GraphiQL in local mode), /health, with request ids, a body size limit and access logs.

uvicorn serves it locally; Mangum serves the very same app on Lambda (see handler.py).
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from strawberry.asgi import GraphQL

from graphql_api.context import RequestContext
from graphql_api.schema import build_schema
from graphql_api.wiring import Services
from runtime.settings import Settings

access_log = logging.getLogger("vehicle_platform.http")


class GraphQLEndpoint(GraphQL[RequestContext, None]):
    def __init__(self, settings: Settings, services: Services) -> None:
        super().__init__(
            build_schema(settings),
            graphql_ide="graphiql" if settings.local_mode else None,
            allow_queries_via_get=False,
        )
        self._services = services

    async def get_context(self, request: Any, response: Any) -> RequestContext:  # noqa: ARG002 - Strawberry's signature
        return RequestContext(
            request_id=request.scope.get("state", {}).get("request_id") or str(uuid.uuid4()),
            services=self._services,
            authorization=request.headers.get("authorization"),
        )


def _request_id(scope: Scope) -> str:
    # On Lambda, API Gateway's request id ties our logs to its access logs; locally we make one.
    event: dict[str, Any] = scope.get("aws.event") or {}
    from_gateway: str | None = (event.get("requestContext") or {}).get("requestId")
    if from_gateway:
        return str(from_gateway)
    for name, value in scope.get("headers", []):
        if name == b"x-request-id" and value:
            return str(value.decode("latin-1")[:64])
    return str(uuid.uuid4())


class RequestGuard:
    """Request id, body size limit (declared or streamed) and one access log line per request."""

    def __init__(self, app: ASGIApp, *, max_body_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = _request_id(scope)
        scope.setdefault("state", {})["request_id"] = request_id
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message.setdefault("headers", []).append((b"x-request-id", request_id.encode()))
            await send(message)

        try:
            body = await self._read_body(scope, receive)
            if body is None:
                await self._too_large(send_with_id)
            else:
                await self.app(scope, self._replay(body, receive), send_with_id)
        finally:
            elapsed_ms = (time.perf_counter() - started) * 1000
            access_log.info(
                "%s %s %d %.1fms request_id=%s", scope["method"], scope["path"], status, elapsed_ms, request_id
            )

    async def _read_body(self, scope: Scope, receive: Receive) -> bytes | None:
        """The whole body, or None past the limit. Reading it first means the app never sees half a request."""
        if self._declared_length(scope) > self.max_body_bytes:
            return None
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                break
            chunk: bytes = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body_bytes:
                return None
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        return b"".join(chunks)

    @staticmethod
    def _replay(body: bytes, receive: Receive) -> Receive:
        delivered = False

        async def replay() -> Message:
            nonlocal delivered
            if delivered:
                return await receive()
            delivered = True
            return {"type": "http.request", "body": body, "more_body": False}

        return replay

    @staticmethod
    def _declared_length(scope: Scope) -> int:
        for name, value in scope.get("headers", []):
            if name == b"content-length":
                try:
                    return int(value)
                except ValueError:
                    return 0
        return 0

    async def _too_large(self, send: Send) -> None:
        body = json.dumps(
            {
                "errors": [
                    {
                        "message": f"request body is larger than {self.max_body_bytes} bytes",
                        "extensions": {"code": "VALIDATION", "field": "body"},
                    }
                ]
            }
        ).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


def _health_endpoint(services: Services) -> Any:
    async def health(_: Request) -> Response:
        report: dict[str, dict[str, Any]] = {}
        for name, check in services.health_checks.items():
            started = time.perf_counter()
            try:
                check()
            except Exception as error:  # noqa: BLE001 - a health check reports every failure, it never raises
                report[name] = {"status": "down", "error": f"{type(error).__name__}: {error}"}
            else:
                report[name] = {"status": "ok", "latencyMs": round((time.perf_counter() - started) * 1000, 1)}
        healthy = all(entry["status"] == "ok" for entry in report.values())
        return JSONResponse(
            {"status": "ok" if healthy else "degraded", "services": report},
            status_code=200 if healthy else 503,
        )

    return health


def create_app(settings: Settings, services: Services) -> RequestGuard:
    app = Starlette(
        routes=[
            Route("/graphql", GraphQLEndpoint(settings, services), methods=["GET", "POST"]),
            Route("/health", _health_endpoint(services), methods=["GET"]),
        ]
    )
    return RequestGuard(app, max_body_bytes=settings.limits.max_body_bytes)
