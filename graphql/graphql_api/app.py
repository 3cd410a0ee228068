"""The ASGI app: /graphql, /health, with request ids, a body size limit and access logs.

uvicorn serves it locally; Mangum serves the very same app on Lambda (see handler.py).
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Mapping
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from graphql_api.http import GraphQLOverHTTP, json_error, send_json
from graphql_api.schema import build_schema
from graphql_api.trusted_documents import TrustedDocuments
from graphql_api.wiring import Services
from runtime import cors
from runtime.settings import Settings

access_log = logging.getLogger("vehicle_platform.http")


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
        error = json_error(f"request body is larger than {self.max_body_bytes} bytes", field="body")
        await send_json(send, 413, error)


class LocalCors:
    """CORS as API Gateway's HTTP API answers it for the CDK app's settings (runtime/cors.py): a preflight from the
    allowed origin asking for allowed methods and headers gets them, anything else gets no CORS headers at all
    (the browser then refuses), and responses to the allowed origin say so. On AWS the gateway does this itself
    and ignores what the function says, so only the local stack wraps the API with it."""

    def __init__(self, app: ASGIApp, *, origin: str) -> None:
        self.app = app
        self.origin = origin

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {name.decode("latin-1"): value.decode("latin-1") for name, value in scope["headers"]}
        allowed = headers.get("origin") == self.origin
        if scope["method"] == "OPTIONS" and "access-control-request-method" in headers:
            await self._preflight(send, headers, allowed=allowed)
            return

        async def send_with_cors(message: Message) -> None:
            if message["type"] == "http.response.start" and allowed:
                message.setdefault("headers", []).extend(
                    [
                        (b"access-control-allow-origin", self.origin.encode()),
                        (b"access-control-expose-headers", ",".join(cors.EXPOSE_HEADERS).encode()),
                        (b"vary", b"origin"),
                    ]
                )
            await send(message)

        await self.app(scope, receive, send_with_cors)

    async def _preflight(self, send: Send, headers: Mapping[str, str], *, allowed: bool) -> None:
        method = headers["access-control-request-method"].upper()
        asked = {name.strip().lower() for name in headers.get("access-control-request-headers", "").split(",")}
        answer: list[tuple[bytes, bytes]] = []
        if allowed and method in cors.ALLOW_METHODS and asked - {""} <= set(cors.ALLOW_HEADERS):
            answer = [
                (b"access-control-allow-origin", self.origin.encode()),
                (b"access-control-allow-methods", ",".join(cors.ALLOW_METHODS).encode()),
                (b"access-control-allow-headers", ",".join(cors.ALLOW_HEADERS).encode()),
                (b"access-control-max-age", str(cors.MAX_AGE_SECONDS).encode()),
                (b"vary", b"origin"),
            ]
        await send({"type": "http.response.start", "status": 204, "headers": answer})
        await send({"type": "http.response.body", "body": b""})


class HealthCheck:
    """GET /health: each backing service checked, with its latency; 503 when any is down."""

    def __init__(self, services: Services) -> None:
        self._checks = services.health_checks

    async def __call__(self, _scope: Scope, _receive: Receive, send: Send) -> None:
        report: dict[str, dict[str, Any]] = {}
        for name, check in self._checks.items():
            started = time.perf_counter()
            try:
                check()
            except Exception as error:  # noqa: BLE001 - a health check reports every failure, it never raises
                report[name] = {"status": "down", "error": f"{type(error).__name__}: {error}"}
            else:
                report[name] = {"status": "ok", "latencyMs": round((time.perf_counter() - started) * 1000, 1)}
        healthy = all(entry["status"] == "ok" for entry in report.values())
        await send_json(send, 200 if healthy else 503, {"status": "ok" if healthy else "degraded", "services": report})


class Router:
    """Exact paths to apps; anything else is a JSON 404. Three routes need no routing framework."""

    def __init__(self, routes: Mapping[str, ASGIApp]) -> None:
        self._routes = routes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        app = self._routes.get(scope["path"].rstrip("/") or "/")
        if app is None:
            await send_json(send, 404, json_error(f"no route {scope['path']}", code="NOT_FOUND"))
            return
        await app(scope, receive, send)


def create_app(
    settings: Settings,
    services: Services,
    extra_routes: Mapping[str, ASGIApp] | None = None,
    trusted: TrustedDocuments | None = None,
) -> RequestGuard | LocalCors:
    """The API. `extra_routes` mounts other functions of the same HTTP API (locally: the payment webhook);
    `trusted` replaces the web app's manifest (benchmarks and tests)."""
    router = Router(
        {
            "/graphql": GraphQLOverHTTP(build_schema(settings), settings, services, trusted),
            "/health": HealthCheck(services),
            **(extra_routes or {}),
        }
    )
    guarded = RequestGuard(router, max_body_bytes=settings.limits.max_body_bytes)
    return LocalCors(guarded, origin=settings.spa_origin) if settings.local_mode else guarded
