"""API Gateway WebSocket APIs, locally: an ASGI app that calls the same Lambda handlers with the same events.

On AWS a WebSocket API with Lambda proxy integrations on `$connect`, `$default` and `$disconnect` owns the sockets;
the functions see events and talk back through the `@connections` management API. This app plays API Gateway's
part on one uvicorn server: WebSocket upgrades on `/` (or `/<stage>`), and the management API, as boto3's
`apigatewaymanagementapi` client calls it, on `/@connections/{id}` (or `/<stage>/@connections/{id}`).

    gateway = WebSocketGateway(connect.handler, default.handler, disconnect.handler)
    with GatewayServer(gateway, port=8001) as server:  # a background thread; or `server.run()` in the foreground
        boto3.client("apigatewaymanagementapi", endpoint_url=server.endpoint_url)  # talk back to the clients

What a client and a handler observe, as on AWS:
- `$connect` runs while the upgrade waits. A 2xx `statusCode` (or no response at all) accepts the connection, with
  the subprotocol the response's `Sec-WebSocket-Protocol` header names, and none otherwise (a browser that offered
  one then fails the connection; the `websockets` client does not). Any other status refuses the upgrade with that
  HTTP status and the response's body; a handler that raises refuses it with 500 `{"message": "Internal server
  error"}`. Posting to a connection from its own `$connect` handler answers 410: it is not established yet.
- `$default` gets each text message, one invocation at a time per connection, in order. Its return value is not
  sent (no route response). A handler that raises makes API Gateway send the client
  `{"message": "Internal server error", "connectionId": ..., "requestId": ...}`; the connection stays open.
- A binary frame closes the connection with 1003, a message over `max_message_bytes` with 1009. API Gateway closes
  with its own codes only: 1000 after `DeleteConnection`, 1001 ("Going away") at the idle timeout, at the maximum
  connection duration and when the server stops.
- `$disconnect` runs exactly once per accepted connection, after the socket closed (a post to it answers 410 from
  then on) and after the `$default` invocations of messages received before the close.
- A post never waits on its client: it joins the connection's send buffer and the management API answers at once.
  The buffer is bounded (`send_buffer_bytes`, 1 MiB, on top of what the operating system's socket buffers hold):
  a client that lets more pile up by not reading, what it is sent or the pongs to its own pings alike, is
  disconnected (1006, no close frame: it would not read one), and posts to it answer 410 from then on.

Where the local gateway differs, knowingly: header names arrive lower-cased (ASGI lower-cases them; AWS passes the
client's spelling, so handlers should look headers up case-insensitively); `domainName` is the `Host` the client
connected to, port included, so `http://{domainName}/{stage}` reaches the local management API; requests to the
management API are not signed or checked; AWS's 32 KB frame limit is not enforced (only the 128 KB message limit);
AWS does not document how much API Gateway holds for a client that does not read, so the 1 MiB bound is ours.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import functools
import http
import json
import logging
import math
import secrets
import socket
import subprocess
import threading
import time
import uuid
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, ClassVar, cast
from urllib.parse import parse_qsl, unquote

import anyio
import uvicorn
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol

from local_stack.child_process import start_child, stop_child
from local_stack.lambda_events import lambda_context

log = logging.getLogger("vehicle_platform.ws")

# A Lambda handler, synchronous as on Lambda: (event, context) -> response.
Handler = Callable[[dict[str, Any], Any], dict[str, Any] | None]

# ASGI's shapes; its messages are plain dicts.
Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

# The close codes API Gateway sends (RFC 6455 section 7.4.1); it never sends application codes (4000-4999).
NORMAL_CLOSURE = 1000
GOING_AWAY = 1001
UNSUPPORTED_DATA = 1003
NO_STATUS = 1005
ABNORMAL_CLOSURE = 1006
MESSAGE_TOO_BIG = 1009

# The `disconnectReason` API Gateway writes for closes that carry no reason of the client's. The first two are as
# AWS logs them; the others are ours, in the same spirit.
_REASONS = {
    NORMAL_CLOSURE: "Connection Closed Normally",
    GOING_AWAY: "Going away",
    UNSUPPORTED_DATA: "Binary frames are not supported",
    NO_STATUS: "Client-side close frame status not set",
    ABNORMAL_CLOSURE: "Connection closed abnormally",
    MESSAGE_TOO_BIG: "Message too big",
}

# What API Gateway answers when an integration fails.
_INTERNAL_ERROR = "Internal server error"

# uvicorn's own limit on a message; the gateway's limit (AWS's 128 KB) is checked by the app, which closes as
# API Gateway does. uvicorn's must only be above it.
_UVICORN_MAX_MESSAGE = 16 * 1024 * 1024

# How long stopping the server waits for the connections it closes to run their `$disconnect`.
_SHUTDOWN_GRACE_SECONDS = 5.0

# What a connection may have waiting to be sent, beyond the socket's own buffer in the kernel: 8 messages of the
# largest size. A client that lets more pile up is disconnected.
DEFAULT_SEND_BUFFER_BYTES = 1024 * 1024

# The ASGI scope extension under which the gateway's WebSocket protocols hand the app a connection's `SendBuffer`.
SEND_BUFFER_EXTENSION = "vehicle_platform.send_buffer"

# The uvicorn WebSocket implementations the gateway can be served with (each bounded by its own subclass below).
WS_IMPLEMENTATIONS = ("websockets-sansio", "websockets")


def _aws_id() -> str:
    """An identifier shaped as API Gateway's connection and request ids: 16 characters of base64, the last "="."""
    return base64.b64encode(secrets.token_bytes(11)).decode("ascii")


def _request_time(epoch: float) -> str:
    return time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(epoch))


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class SendBuffer:
    """A connection's bounded send buffer: what the server's socket transport holds that the kernel did not take yet.

    Every write goes in without waiting, the frames the app sends and the pongs the protocol answers a client's pings
    with alike; when the buffer passes `limit` bytes the client is not keeping up, and the connection is aborted
    (no close frame: the client would not read it). The gateway's protocols offer it to the app in the scope's
    extensions: `{SEND_BUFFER_EXTENSION: {"buffer": <SendBuffer>}}`.
    """

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.overflowed = False
        self._transport: asyncio.Transport | None = None

    def attach(self, transport: asyncio.Transport) -> None:
        # The transport calls the protocol's `pause_writing` past the high-water mark: that is `overflow` here.
        transport.set_write_buffer_limits(high=self.limit)
        self._transport = transport

    def overflow(self) -> None:
        if self.overflowed:
            return
        self.overflowed = True
        self.abort()

    def abort(self) -> None:
        """Drop the connection at once, and what it had waiting."""
        if self._transport is not None:
            self._transport.abort()


@dataclass
class _Connection:
    connection_id: str
    source_ip: str
    user_agent: str | None
    domain_name: str
    connected_at: float  # epoch seconds
    send: Send
    last_active_at: float = 0.0  # epoch seconds; a message either way
    last_message: float = field(default_factory=time.monotonic)  # the client's, for the idle timeout
    started: float = field(default_factory=time.monotonic)
    messages: int = 0
    # How it ended: the close code, the `disconnectReason`, what happened, and whether the gateway closes the socket.
    ended: tuple[int, str, str, bool] | None = None
    watch: anyio.CancelScope | None = None
    send_lock: anyio.Lock = field(default_factory=anyio.Lock)
    send_buffer: SendBuffer | None = None  # None when the server does not bound it (see `WebSocketGateway._send`)

    def identity(self) -> dict[str, str]:
        identity = {"sourceIp": self.source_ip}
        if self.user_agent is not None:
            identity["userAgent"] = self.user_agent
        return identity


class WebSocketGateway:
    """The ASGI app: WebSocket connections invoke the handlers; HTTP requests are the `@connections` API."""

    def __init__(
        self,
        connect: Handler,
        default: Handler,
        disconnect: Handler,
        *,
        stage: str = "local",
        api_id: str = "local",
        idle_timeout: float = 600,
        max_duration: float = 7200,
        max_message_bytes: int = 128 * 1024,
        send_buffer_bytes: int = DEFAULT_SEND_BUFFER_BYTES,
        send_timeout: float = 1.0,
    ) -> None:
        if send_buffer_bytes < max_message_bytes:
            raise ValueError(f"a {send_buffer_bytes}-byte send buffer cannot hold a {max_message_bytes}-byte message")
        self.connect_handler = connect
        self.default_handler = default
        self.disconnect_handler = disconnect
        self.stage = stage
        self.api_id = api_id
        self.idle_timeout = idle_timeout
        self.max_duration = max_duration
        self.max_message_bytes = max_message_bytes
        # Applied by the server's WebSocket protocol (`GatewayServer` serves the gateway with ones that bound it).
        self.send_buffer_bytes = send_buffer_bytes
        # Served without that bound, how long a send may wait on a client before it is disconnected instead.
        self.send_timeout = send_timeout
        self._unbounded_warned = False
        # Only the event loop's thread touches this: the ASGI tasks and the management API all run on it.
        self._connections: dict[str, _Connection] = {}
        self._running: set[str] = set()  # accepted and not yet through `$disconnect`
        self._all_done: asyncio.Event | None = None
        self._closing = False

    @property
    def connection_ids(self) -> list[str]:
        """The connections open now (a post to any of them is delivered)."""
        return list(self._connections)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            await self._websocket(scope, receive, send)
        elif scope["type"] == "http":
            await self._management(scope, receive, send)
        elif scope["type"] == "lifespan":
            await self._lifespan(receive, send)

    async def close_all(self, timeout: float = _SHUTDOWN_GRACE_SECONDS) -> None:
        """Close every connection as API Gateway does when it goes away (1001), and wait for their `$disconnect`.

        Upgrades that arrive from now on are refused with 503. `GatewayServer` calls this when the server stops,
        before uvicorn closes what is left with its own 1012.
        """
        self._closing = True
        for connection in list(self._connections.values()):
            self._end(connection, GOING_AWAY, _REASONS[GOING_AWAY], "server stopping", server_side=True)
        if self._running:
            self._all_done = asyncio.Event()
            with anyio.move_on_after(timeout):
                await self._all_done.wait()

    # The WebSocket side

    async def _websocket(self, scope: Scope, receive: Receive, send: Send) -> None:
        message = await receive()
        if message["type"] != "websocket.connect":
            return
        path = scope.get("path", "/").rstrip("/")
        if path not in ("", f"/{self.stage}"):
            log.info("refused an upgrade to %s: the API is at / and /%s", scope.get("path"), self.stage)
            await self._deny(scope, send, 403, json.dumps({"message": "Forbidden"}), "application/json")
            return
        if self._closing:
            await self._deny(scope, send, 503, json.dumps({"message": "Service Unavailable"}), "application/json")
            return

        connection_id = _aws_id()
        while connection_id in self._connections or connection_id in self._running:
            connection_id = _aws_id()
        event = self._connect_event(scope, connection_id)
        context = event["requestContext"]
        try:
            response = await anyio.to_thread.run_sync(self.connect_handler, event, lambda_context("$connect"))
        except Exception:
            log.exception("%s $connect: the handler raised; refusing the upgrade with 500", connection_id)
            await self._deny(scope, send, 500, json.dumps({"message": _INTERNAL_ERROR}), "application/json")
            return
        status, subprotocol, body = self._connect_outcome(connection_id, response)
        if not 200 <= status < 300:
            log.info("%s $connect %d: refused (%s)", connection_id, status, context["identity"]["sourceIp"])
            await self._deny(scope, send, status, body, "text/plain; charset=utf-8")
            return

        try:
            await send({"type": "websocket.accept", "subprotocol": subprotocol})
        except OSError:  # what ASGI servers raise on a send to a client that is gone
            # The client gave up while `$connect` ran: the connection never opened, so no `$disconnect` either.
            log.info("%s $connect %d: the client left before the connection opened", connection_id, status)
            return
        connection = _Connection(
            connection_id=connection_id,
            source_ip=context["identity"]["sourceIp"],
            user_agent=context["identity"].get("userAgent"),
            domain_name=context["domainName"],
            connected_at=context["connectedAt"] / 1000,
            last_active_at=context["connectedAt"] / 1000,
            send=send,
            send_buffer=self._send_buffer(scope),
        )
        self._connections[connection_id] = connection
        self._running.add(connection_id)
        if self._closing:  # the server began stopping while `$connect` ran
            self._end(connection, GOING_AWAY, _REASONS[GOING_AWAY], "server stopping", server_side=True)
        log.info(
            "%s $connect %d: connected from %s%s",
            connection_id,
            status,
            connection.source_ip,
            f", subprotocol {subprotocol}" if subprotocol else "",
        )
        try:
            await self._serve(connection, receive)
        finally:
            # Shielded: a cancelled server task must not skip `$disconnect` (nor run it twice: this is the one call).
            with anyio.CancelScope(shield=True):
                await self._disconnected(connection)

    def _send_buffer(self, scope: Scope) -> SendBuffer | None:
        send_buffer = ((scope.get("extensions") or {}).get(SEND_BUFFER_EXTENSION) or {}).get("buffer")
        if isinstance(send_buffer, SendBuffer):
            return send_buffer
        if not self._unbounded_warned:
            self._unbounded_warned = True
            log.warning(
                "this server does not bound the connections' send buffers: a client that does not read is"
                " disconnected only once a send to it has waited %.1f s (serve the gateway with GatewayServer)",
                self.send_timeout,
            )
        return None

    def _connect_outcome(self, connection_id: str, response: object) -> tuple[int, str | None, str]:
        """The status, the subprotocol and the body a `$connect` response stands for.

        No response, or one without `statusCode`, accepts the connection: only a failed invocation or a non-2xx
        status refuses it.
        """
        if not isinstance(response, dict):
            if response is not None:
                log.warning("%s $connect: the handler returned %r, not a dict; accepting", connection_id, response)
            return 200, None, ""
        try:
            status = int(response.get("statusCode", 200))
            http.HTTPStatus(status)
        except (TypeError, ValueError):
            log.error("%s $connect: statusCode %r is not an HTTP status", connection_id, response.get("statusCode"))
            return 502, None, json.dumps({"message": _INTERNAL_ERROR})
        subprotocol = None
        for headers in (response.get("headers"), response.get("multiValueHeaders")):
            for name, value in (headers or {}).items():
                if name.lower() == "sec-websocket-protocol" and value:
                    subprotocol = str(value[0] if isinstance(value, list) else value)
        body = response.get("body") or ""
        if response.get("isBase64Encoded"):
            body = base64.b64decode(body).decode("utf-8", "replace")
        return status, subprotocol, str(body)

    async def _deny(self, scope: Scope, send: Send, status: int, body: str, content_type: str) -> None:
        if "websocket.http.response" not in scope.get("extensions", {}):
            # A server without the denial-response extension can only refuse with 403.
            await send({"type": "websocket.close", "code": 1008})
            return
        payload = body.encode()
        await send(
            {
                "type": "websocket.http.response.start",
                "status": status,
                "headers": [
                    (b"content-type", content_type.encode()),
                    (b"content-length", str(len(payload)).encode()),
                    (b"x-amzn-requestid", str(uuid.uuid4()).encode()),
                ],
            }
        )
        await send({"type": "websocket.http.response.body", "body": payload})

    async def _serve(self, connection: _Connection, receive: Receive) -> None:
        """Read messages and watch the clock until the connection ends; invoke `$default` for each message."""
        received, to_dispatch = anyio.create_memory_object_stream[dict[str, Any]](math.inf)
        async with anyio.create_task_group() as dispatch:
            dispatch.start_soon(self._dispatch, connection, to_dispatch)
            async with received:
                async with anyio.create_task_group() as watch:
                    connection.watch = watch.cancel_scope
                    if connection.ended is not None:  # closed while accepting (the server stopping)
                        watch.cancel_scope.cancel()
                    watch.start_soon(self._read, connection, receive, received)
                    watch.start_soon(self._expire, connection)
                if connection.ended is not None and connection.ended[3]:
                    await self._close_socket(connection, connection.ended[0], connection.ended[1])
            # Closing `received` ends the dispatcher once it has handled the messages already received.

    async def _read(
        self, connection: _Connection, receive: Receive, received: MemoryObjectSendStream[dict[str, Any]]
    ) -> None:
        while True:
            try:
                message = await receive()
            except Exception:
                # uvicorn raises when the transport is gone; that is an abnormal closure.
                log.debug("%s: receive failed", connection.connection_id, exc_info=True)
                if not self._overflowed(connection):
                    self._end(connection, ABNORMAL_CLOSURE, _REASONS[ABNORMAL_CLOSURE], "connection lost")
                return
            if message["type"] == "websocket.disconnect":
                if self._overflowed(connection):  # the pongs to its pings did it
                    return
                code = int(message.get("code") or NO_STATUS)
                reason = message.get("reason") or _REASONS.get(code, "")
                self._end(connection, code, reason, "closed by the client")
                return
            if message["type"] != "websocket.receive":
                continue
            connection.last_message = time.monotonic()
            connection.last_active_at = time.time()
            text = message.get("text")
            if text is None:
                self._end(connection, UNSUPPORTED_DATA, _REASONS[UNSUPPORTED_DATA], "binary frame", server_side=True)
                return
            if len(text.encode()) > self.max_message_bytes:
                self._end(connection, MESSAGE_TOO_BIG, _REASONS[MESSAGE_TOO_BIG], "message too big", server_side=True)
                return
            connection.messages += 1
            received.send_nowait(self._message_event(connection, text))

    async def _expire(self, connection: _Connection) -> None:
        while True:
            now = time.monotonic()
            idle_at = connection.last_message + self.idle_timeout
            ends_at = connection.started + self.max_duration
            if now >= ends_at:
                self._end(connection, GOING_AWAY, _REASONS[GOING_AWAY], "maximum duration", server_side=True)
                return
            if now >= idle_at:
                self._end(connection, GOING_AWAY, _REASONS[GOING_AWAY], "idle timeout", server_side=True)
                return
            await anyio.sleep(min(idle_at, ends_at) - now)

    async def _dispatch(self, connection: _Connection, to_dispatch: MemoryObjectReceiveStream[dict[str, Any]]) -> None:
        # One invocation at a time: a connection's messages reach the handler in the order they were received.
        async with to_dispatch:
            async for event in to_dispatch:
                try:
                    await anyio.to_thread.run_sync(self.default_handler, event, lambda_context("$default"))
                except Exception:
                    request_id = event["requestContext"]["requestId"]
                    log.exception("%s $default: the handler raised (request %s)", connection.connection_id, request_id)
                    error = {"message": _INTERNAL_ERROR, "connectionId": connection.connection_id}
                    await self._send(connection, json.dumps(error | {"requestId": request_id}).encode())

    def _end(self, connection: _Connection, code: int, reason: str, cause: str, *, server_side: bool = False) -> None:
        """Record how the connection ends (the first cause wins) and stop reading; from now on posts answer 410."""
        if connection.ended is not None:
            return
        connection.ended = (code, reason, cause, server_side)
        self._connections.pop(connection.connection_id, None)
        if connection.watch is not None:
            connection.watch.cancel()

    async def _close_socket(self, connection: _Connection, code: int, reason: str) -> None:
        with anyio.move_on_after(self.send_timeout) as waited:
            async with connection.send_lock:
                with contextlib.suppress(Exception):  # the client may be gone already
                    await connection.send({"type": "websocket.close", "code": code, "reason": reason})
        if waited.cancelled_caught and connection.send_buffer is not None:
            connection.send_buffer.abort()

    async def _send(self, connection: _Connection, data: bytes) -> bool:
        """Send one frame: text when it is UTF-8 (a text frame must be), binary otherwise. False when gone.

        Never waits on the client: the frame joins the connection's bounded send buffer, and a client that lets it
        overflow is disconnected. Served without that bound (by a server other than `GatewayServer`), a send that
        waits over `send_timeout` disconnects the client instead.
        """
        try:
            text = data.decode()
        except UnicodeDecodeError:
            frame: Message = {"type": "websocket.send", "bytes": data}
        else:
            frame = {"type": "websocket.send", "text": text}
        with anyio.move_on_after(self.send_timeout):
            async with connection.send_lock:
                if connection.ended is not None or self._overflowed(connection):
                    return False
                try:
                    await connection.send(frame)
                except Exception:
                    log.debug("%s: sending failed", connection.connection_id, exc_info=True)
                    if not self._overflowed(connection):  # else this frame was one too many, and aborted it
                        self._end(connection, ABNORMAL_CLOSURE, _REASONS[ABNORMAL_CLOSURE], "connection lost")
                    return False
                if self._overflowed(connection):  # this frame was one too many
                    return False
            connection.last_active_at = time.time()
            return True
        cause = f"not reading: a send waited over {self.send_timeout:g} s"
        self._end(connection, ABNORMAL_CLOSURE, _REASONS[ABNORMAL_CLOSURE], cause)
        if connection.send_buffer is not None:
            connection.send_buffer.abort()
        return False

    def _overflowed(self, connection: _Connection) -> bool:
        """Whether the client let its send buffer overflow (the connection is aborted then, and ends here)."""
        send_buffer = connection.send_buffer
        if send_buffer is None or not send_buffer.overflowed:
            return False
        cause = f"not reading: over {send_buffer.limit} bytes waited to be sent"
        self._end(connection, ABNORMAL_CLOSURE, _REASONS[ABNORMAL_CLOSURE], cause)
        return True

    async def _disconnected(self, connection: _Connection) -> None:
        if connection.ended is None:  # the server task was cancelled
            self._end(connection, ABNORMAL_CLOSURE, _REASONS[ABNORMAL_CLOSURE], "server task cancelled")
        assert connection.ended is not None
        code, reason, cause, _ = connection.ended
        event = self._disconnect_event(connection, code, reason)
        try:
            await anyio.to_thread.run_sync(self.disconnect_handler, event, lambda_context("$disconnect"))
            outcome = "ok"
        except Exception:
            log.exception("%s $disconnect: the handler raised", connection.connection_id)
            outcome = "handler failed"
        finally:
            self._running.discard(connection.connection_id)
            if not self._running and self._all_done is not None:
                self._all_done.set()
        log.info(
            "%s $disconnect %d %s: %s after %.1f s, %d message(s); %s",
            connection.connection_id,
            code,
            reason,
            cause,
            time.monotonic() - connection.started,
            connection.messages,
            outcome,
        )

    # The events, as API Gateway builds them

    def _request_context(
        self,
        route_key: str,
        event_type: str,
        connection_id: str,
        connected_at: int,
        identity: dict[str, str],
        *,
        domain_name: str,
    ) -> dict[str, Any]:
        now = time.time()
        return {
            "routeKey": route_key,
            "eventType": event_type,
            "extendedRequestId": _aws_id(),
            "requestTime": _request_time(now),
            "messageDirection": "IN",
            "stage": self.stage,
            "connectedAt": connected_at,
            "requestTimeEpoch": int(now * 1000),
            "identity": dict(identity),
            "requestId": _aws_id(),
            "domainName": domain_name,
            "connectionId": connection_id,
            "apiId": self.api_id,
        }

    def _connect_event(self, scope: Scope, connection_id: str) -> dict[str, Any]:
        multi: dict[str, list[str]] = {}
        for raw_name, raw_value in scope.get("headers", []):
            multi.setdefault(raw_name.decode("latin-1").lower(), []).append(raw_value.decode("latin-1"))
        client = scope.get("client")
        source_ip = client[0] if client else "127.0.0.1"
        server = scope.get("server")
        # API Gateway adds these before the integration sees the request.
        multi.setdefault("x-forwarded-for", [source_ip])
        multi.setdefault("x-forwarded-port", [str(server[1]) if server and server[1] else "80"])
        multi.setdefault("x-forwarded-proto", ["http"])
        multi.setdefault("x-amzn-trace-id", [f"Root=1-{int(time.time()):08x}-{secrets.token_hex(12)}"])
        headers = {name: values[-1] for name, values in multi.items()}
        identity = {"sourceIp": source_ip}
        if "user-agent" in headers:
            identity["userAgent"] = headers["user-agent"]
        context = self._request_context(
            "$connect",
            "CONNECT",
            connection_id,
            int(time.time() * 1000),
            identity,
            domain_name=headers.get("host", "localhost"),
        )
        event: dict[str, Any] = {"headers": headers, "multiValueHeaders": multi}
        # As on AWS, the query string keys are there only when the URL has a query string.
        pairs = parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True)
        if pairs:
            multi_query: dict[str, list[str]] = {}
            for key, value in pairs:
                multi_query.setdefault(key, []).append(value)
            event["queryStringParameters"] = {key: values[-1] for key, values in multi_query.items()}
            event["multiValueQueryStringParameters"] = multi_query
        event |= {"requestContext": context, "isBase64Encoded": False}
        return event

    def _message_event(self, connection: _Connection, body: str) -> dict[str, Any]:
        context = self._request_context(
            "$default",
            "MESSAGE",
            connection.connection_id,
            int(connection.connected_at * 1000),
            connection.identity(),
            domain_name=connection.domain_name,
        )
        context["messageId"] = _aws_id()
        return {"requestContext": context, "body": body, "isBase64Encoded": False}

    def _disconnect_event(self, connection: _Connection, code: int, reason: str) -> dict[str, Any]:
        context = self._request_context(
            "$disconnect",
            "DISCONNECT",
            connection.connection_id,
            int(connection.connected_at * 1000),
            connection.identity(),
            domain_name=connection.domain_name,
        )
        context["disconnectStatusCode"] = code
        context["disconnectReason"] = reason
        # The headers API Gateway sends with `$disconnect`: not the client's, these.
        headers = {"host": connection.domain_name, "x-api-key": "", "x-forwarded-for": "", "x-restapi": ""}
        return {
            "headers": headers,
            "multiValueHeaders": {name: [value] for name, value in headers.items()},
            "requestContext": context,
            "isBase64Encoded": False,
        }

    # The management API

    async def _management(self, scope: Scope, receive: Receive, send: Send) -> None:
        body = await self._read_body(receive)
        method = scope["method"]
        raw_path: bytes = scope.get("raw_path") or scope["path"].encode()
        # From the raw path: botocore percent-encodes the id, whose base64 may hold "/" or "+".
        segments = [unquote(segment) for segment in raw_path.decode("latin-1").split("?")[0].split("/")[1:]]
        if len(segments) == 3 and segments[0] == self.stage:
            segments = segments[1:]
        if len(segments) != 2 or segments[0] != "@connections" or method not in ("GET", "POST", "DELETE"):
            message = (
                f"Forbidden: no {method} {scope['path']} here; the management API is /@connections/{{connectionId}}"
                f" (GET, POST, DELETE), optionally after /{self.stage}"
            )
            await self._respond(send, 403, {"message": message}, error="ForbiddenException")
            return
        connection = self._connections.get(segments[1])
        gone = {"message": f"Connection {segments[1]} is gone: it closed, or never connected"}
        if connection is None:
            await self._respond(send, 410, gone, error="GoneException")
            return
        if method == "GET":
            # On the wire the members are lower camel case; boto3 renames them ConnectedAt, Identity.SourceIp...
            info = {
                "connectedAt": _iso(connection.connected_at),
                "identity": connection.identity(),
                "lastActiveAt": _iso(connection.last_active_at),
            }
            await self._respond(send, 200, info)
        elif method == "DELETE":
            self._end(connection, NORMAL_CLOSURE, _REASONS[NORMAL_CLOSURE], "deleted", server_side=True)
            await self._respond(send, 204, None)
        elif len(body) > self.max_message_bytes:
            await self._respond(send, 413, {"message": "Message too long"}, error="PayloadTooLargeException")
        elif await self._send(connection, body):
            await self._respond(send, 200, None)
        else:
            await self._respond(send, 410, gone, error="GoneException")

    async def _read_body(self, receive: Receive) -> bytes:
        chunks = []
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                break
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        return b"".join(chunks)

    async def _respond(self, send: Send, status: int, body: dict[str, Any] | None, *, error: str = "") -> None:
        payload = b"" if body is None else json.dumps(body).encode()
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(payload)).encode()),
            (b"x-amzn-requestid", str(uuid.uuid4()).encode()),
        ]
        if error:
            # botocore takes the error code from this header; the body gives the message.
            headers.append((b"x-amzn-errortype", error.encode()))
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": payload})

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return


class _Server(uvicorn.Server):
    """uvicorn's server, closing the gateway's connections as API Gateway would (1001) before its own shutdown."""

    def __init__(self, config: uvicorn.Config, gateway: WebSocketGateway) -> None:
        super().__init__(config)
        self.gateway = gateway

    async def shutdown(self, sockets: list[Any] | None = None) -> None:
        await self.gateway.close_all()
        await super().shutdown(sockets)


class _BoundedSansIOProtocol(WebSocketsSansIOProtocol):
    """uvicorn's websockets-sansio protocol with a bounded send buffer (`SendBuffer`) instead of flow control.

    uvicorn's own makes every `send` of the app wait while the transport's buffer is over its high-water mark, that
    is for as long as the client does not read, and writes pongs to the buffer without any bound.
    """

    send_buffer_bytes: ClassVar[int] = DEFAULT_SEND_BUFFER_BYTES

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.send_buffer = SendBuffer(self.send_buffer_bytes)

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        self.send_buffer.attach(cast(asyncio.Transport, transport))

    def pause_writing(self) -> None:
        self.send_buffer.overflow()  # writing is never paused: the buffer is bounded instead

    def resume_writing(self) -> None:
        pass

    def handle_ping(self) -> None:
        if self.transport.is_closing():  # aborted, with more pings from the same read still to answer
            self.conn.data_to_send()
            return
        super().handle_ping()

    # uvicorn closes the transport gracefully, which waits until the client has read what is left: forever for one
    # that does not read (and the server's shutdown waits for it). Where it gives up on the client, these drop it.

    async def send(self, message: Any) -> None:
        await super().send(message)
        if message["type"] == "websocket.close" and self.close_timer is not None:
            # No close frame back within the close timeout: uvicorn would close, and wait.
            self.close_timer.cancel()
            self.close_timer = self.loop.call_later(self.close_timeout, self._drop_unread)

    def keepalive_timeout(self) -> None:
        timed_out = not (self.close_sent or self.transport.is_closing())  # else uvicorn does nothing
        super().keepalive_timeout()
        if timed_out:
            self._drop_unread()

    def shutdown(self) -> None:
        super().shutdown()
        self._drop_unread()

    def _drop_unread(self) -> None:
        """Close the transport, and drop what the client left unread if there is any."""
        if self.transport.get_write_buffer_size():
            self.transport.abort()
        else:
            self.transport.close()

    async def run_asgi(self) -> None:
        self.scope.setdefault("extensions", {})[SEND_BUFFER_EXTENSION] = {"buffer": self.send_buffer}
        await super().run_asgi()


@functools.cache
def _bounded_legacy_protocol() -> type[asyncio.Protocol]:
    """uvicorn's "websockets" protocol (on websockets' legacy API) with a bounded send buffer: imported only when
    asked for, since importing it warns of its deprecation. Its own flow control makes the app's `send`, and the
    pong to each ping, wait for as long as the client does not read."""
    from uvicorn.protocols.websockets.websockets_impl import WebSocketProtocol

    class _BoundedLegacyProtocol(WebSocketProtocol):
        send_buffer_bytes: ClassVar[int] = DEFAULT_SEND_BUFFER_BYTES

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.send_buffer = SendBuffer(self.send_buffer_bytes)

        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            super().connection_made(cast(asyncio.Transport, transport))  # sets websockets' limits, which these replace
            self.send_buffer.attach(cast(asyncio.Transport, transport))

        def pause_writing(self) -> None:
            self.send_buffer.overflow()

        def resume_writing(self) -> None:
            pass

        async def run_asgi(self) -> None:
            self.scope.setdefault("extensions", {})[SEND_BUFFER_EXTENSION] = {"buffer": self.send_buffer}
            await super().run_asgi()

    return _BoundedLegacyProtocol


def _bounded_protocol(ws: str, send_buffer_bytes: int) -> type[asyncio.Protocol]:
    """The uvicorn WebSocket protocol named `ws`, bounding each connection's send buffer to `send_buffer_bytes`."""
    base: type[asyncio.Protocol]
    if ws == "websockets-sansio":
        base = _BoundedSansIOProtocol
    elif ws == "websockets":
        base = _bounded_legacy_protocol()
    else:
        raise ValueError(f"ws must be one of {', '.join(WS_IMPLEMENTATIONS)}: only those bound the send buffers")
    return type(base.__name__, (base,), {"send_buffer_bytes": send_buffer_bytes})


class GatewayServer:
    """Serves a gateway with uvicorn: `run()` in the foreground (Ctrl-C stops it), `await serve()` in a running
    event loop, or as a context manager that runs it in a background thread and stops it on exit.

    `ws` picks uvicorn's WebSocket implementation. "websockets-sansio" by default: uvicorn 0.54 deprecates its
    "websockets" one (built on websockets' legacy API), which works too. Either is served through a subclass that
    bounds each connection's send buffer to the gateway's `send_buffer_bytes` (see `SendBuffer`).
    """

    def __init__(
        self,
        gateway: WebSocketGateway,
        host: str = "127.0.0.1",
        port: int = 8001,
        *,
        ws: str = "websockets-sansio",
        **uvicorn_options: Any,
    ) -> None:
        self.gateway = gateway
        self.host = host
        self.port = port
        options: dict[str, Any] = {
            "lifespan": "off",
            "access_log": False,
            "log_config": None,
            "ws_max_size": max(_UVICORN_MAX_MESSAGE, 2 * gateway.max_message_bytes),
        }
        options.update(uvicorn_options)
        protocol = _bounded_protocol(ws, gateway.send_buffer_bytes)
        self.server = _Server(uvicorn.Config(gateway, host=host, port=port, ws=protocol, **options), gateway)
        self._thread: threading.Thread | None = None

    @property
    def websocket_url(self) -> str:
        """Where clients connect (`ws://host:port`; `/<stage>` after it works too)."""
        return f"ws://{self.host}:{self.port}"

    @property
    def endpoint_url(self) -> str:
        """The `endpoint_url` of an `apigatewaymanagementapi` client (`/<stage>` after it works too)."""
        return f"http://{self.host}:{self.port}"

    async def serve(self) -> None:
        await self.server.serve()

    def run(self) -> None:
        self.server.run()

    def start(self, timeout: float = 10.0) -> None:
        """Serve from a daemon thread; returns once the server listens."""
        if self._thread is not None:
            raise RuntimeError("the gateway server is already running")
        self._thread = threading.Thread(target=self.server.run, name=f"ws-gateway:{self.port}", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self.server.started:
            if not self._thread.is_alive():
                self._thread = None
                raise RuntimeError(f"the gateway server did not start on {self.host}:{self.port}; see the log")
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"the gateway server did not start on {self.host}:{self.port} in {timeout} s")
            time.sleep(0.01)

    def stop(self, timeout: float = 10.0) -> None:
        """Close every connection (each gets its `$disconnect`), stop the server and wait for its thread."""
        if self._thread is None:
            return
        self.server.should_exit = True
        self._thread.join(timeout)
        if self._thread.is_alive():
            log.warning("the gateway server on port %d did not stop within %.1f s", self.port, timeout)
        self._thread = None

    def __enter__(self) -> GatewayServer:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.stop()


async def serve(gateway: WebSocketGateway, host: str = "127.0.0.1", port: int = 8001, **options: Any) -> None:
    """Serve a gateway in the running event loop until the server is told to exit (or Ctrl-C in the main thread)."""
    await GatewayServer(gateway, host, port, **options).serve()


def _listening(host: str, port: int) -> bool:
    with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=0.5):
        return True
    return False


class GatewayProcess:
    """The realtime handlers' gateway in a process of its own, as API Gateway is apart from the functions: its
    sockets, the `$default` invocations and the `@connections` posts it answers no longer share one interpreter
    (and its lock) with the fan-out and the delivery pollers that post to it. The process gets this one's
    environment, so the handlers read the same settings; it is started on enter (returning once it listens) and
    stopped on exit, closing its connections as API Gateway does (each gets its `$disconnect`)."""

    def __init__(
        self,
        host: str,
        port: int,
        *,
        idle_timeout: float = 600,
        max_duration: float = 7200,
        log_level: str = "INFO",
        startup_timeout: float = 30.0,
    ) -> None:
        self.host = host
        self.port = port
        self._arguments = [
            *("--idle-timeout", str(idle_timeout), "--max-duration", str(max_duration)),
            *("--log-level", log_level),
        ]
        self._startup_timeout = startup_timeout
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def websocket_url(self) -> str:
        return f"ws://{self.host}:{self.port}"

    @property
    def endpoint_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def pid(self) -> int | None:
        return None if self._process is None else self._process.pid

    def __enter__(self) -> GatewayProcess:
        if _listening(self.host, self.port):
            raise RuntimeError(f"something already listens on {self.host}:{self.port}; stop it or set WS_PORT")
        # Stopped before the AWS emulator (the dev process stops it first), which still serves its `$disconnect`s.
        self._process = start_child(
            "local_stack.ws_gateway",
            ["--host", self.host, "--port", str(self.port), *self._arguments],
            serving=lambda: _listening(self.host, self.port),
            what=f"WebSocket gateway on {self.host}:{self.port}",
            startup_timeout=self._startup_timeout,
        )
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.stop()

    def stop(self) -> None:
        """SIGTERM: uvicorn closes every connection (each runs its `$disconnect`) and exits."""
        stop_child(self._process, grace_seconds=_SHUTDOWN_GRACE_SECONDS + 5)


def main() -> None:
    """The gateway process: the realtime handlers behind a local API Gateway WebSocket API."""
    from local_stack.cli import configure_logging
    from local_stack.emulator import exit_with_parent

    parser = argparse.ArgumentParser(description="the local API Gateway WebSocket API, serving realtime/handlers.py")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8001)
    parser.add_argument("--idle-timeout", type=float, default=600)
    parser.add_argument("--max-duration", type=float, default=7200)
    parser.add_argument("--log-level", default="INFO", help="the least level logged (a benchmark wants WARNING)")
    parser.add_argument("--parent", type=int, help="exit when this process is gone (the local stack that started us)")
    arguments = parser.parse_args()
    configure_logging()
    for name in ("", "urllib3"):
        logger = logging.getLogger(name)
        logger.setLevel(max(logger.getEffectiveLevel(), logging.getLevelName(arguments.log_level)))
    if arguments.parent:
        threading.Thread(target=exit_with_parent, args=(arguments.parent,), daemon=True).start()
    from realtime import handlers

    gateway = WebSocketGateway(
        handlers.connect,
        handlers.default,
        handlers.disconnect,
        idle_timeout=arguments.idle_timeout,
        max_duration=arguments.max_duration,
    )
    with contextlib.suppress(KeyboardInterrupt):
        GatewayServer(gateway, arguments.host, arguments.port).run()


if __name__ == "__main__":
    main()
