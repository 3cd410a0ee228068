"""The local API Gateway WebSocket emulation, over real sockets: a `websockets` client on one side, Lambda handlers
that talk back through a real boto3 `apigatewaymanagementapi` client on the other.

Every test runs under both of uvicorn's WebSocket implementations the gateway may be served with.
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
import socket
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
import uvicorn
from botocore.config import Config
from botocore.exceptions import ClientError
from websockets.client import ClientProtocol
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus
from websockets.frames import Frame, Opcode
from websockets.protocol import State
from websockets.sync.client import ClientConnection, connect
from websockets.typing import Subprotocol
from websockets.uri import parse_uri

from local_stack.ws_gateway import GatewayServer, WebSocketGateway
from tests.conftest import free_port

pytestmark = [
    # uvicorn's "websockets" implementation is deprecated, and built on websockets' deprecated legacy API.
    pytest.mark.filterwarnings("ignore:The `websockets` implementation is deprecated"),
    pytest.mark.filterwarnings("ignore:websockets.legacy is deprecated"),
    pytest.mark.filterwarnings("ignore:websockets.server.WebSocketServerProtocol is deprecated"),
    pytest.mark.filterwarnings("ignore:remove second argument of ws_handler"),
]

WAIT = 5.0
CONNECTION_ID = re.compile(r"^[A-Za-z0-9+/]{15}=$")
CONTEXT_KEYS = {
    "routeKey",
    "eventType",
    "extendedRequestId",
    "requestTime",
    "messageDirection",
    "stage",
    "connectedAt",
    "requestTimeEpoch",
    "identity",
    "requestId",
    "domainName",
    "connectionId",
    "apiId",
}


class Lambdas:
    """The three handlers: they record every event, and do what the test sets (refuse, fail, echo, be slow)."""

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []
        self.changed = threading.Condition()
        self.connect_response: dict[str, Any] | None = {"statusCode": 200}
        self.connect_fails = False
        self.on_connect: Callable[[dict[str, Any]], None] | None = None
        self.on_message: Callable[[dict[str, Any]], None] | None = None
        self.management: Any = None
        self.active = 0
        self.most_active = 0

    def _record(self, event: dict[str, Any]) -> None:
        with self.changed:
            self.events.append(event)
            self.changed.notify_all()

    def connect(self, event: dict[str, Any], context: Any) -> dict[str, Any] | None:
        self._record(event)
        if self.on_connect is not None:
            self.on_connect(event)
        if self.connect_fails:
            raise RuntimeError("the connect handler failed")
        return self.connect_response

    def default(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        with self.changed:
            self.active += 1
            self.most_active = max(self.most_active, self.active)
        try:
            if self.on_message is not None:
                self.on_message(event)
        finally:
            with self.changed:
                self.active -= 1
            self._record(event)
        # Without a route response, API Gateway sends nothing of this to the client.
        return {"statusCode": 200, "body": "route response"}

    def disconnect(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        self._record(event)
        return {"statusCode": 200}

    def echo(self, event: dict[str, Any]) -> None:
        connection_id = event["requestContext"]["connectionId"]
        self.management.post_to_connection(ConnectionId=connection_id, Data=event["body"].encode())

    def of(self, route: str) -> list[dict[str, Any]]:
        with self.changed:
            return [event for event in self.events if event["requestContext"]["routeKey"] == route]

    def wait_for(self, route: str, count: int = 1) -> list[dict[str, Any]]:
        with self.changed:
            if not self.changed.wait_for(lambda: len(self.of(route)) >= count, WAIT):
                raise AssertionError(f"{count} {route} event(s) expected; got {self.events}")
        return self.of(route)


def management_client(endpoint_url: str) -> Any:
    return boto3.session.Session().client(
        "apigatewaymanagementapi",
        endpoint_url=endpoint_url,
        region_name="us-east-1",
        aws_access_key_id="x",
        aws_secret_access_key="x",
    )


Start = Callable[..., GatewayServer]


@pytest.fixture(params=["websockets-sansio", "websockets"])
def start(request: pytest.FixtureRequest) -> Iterator[Start]:
    """Start a gateway on a free port for these handlers; every one started is stopped after the test."""
    servers: list[GatewayServer] = []

    def start_gateway(lambdas: Lambdas, **options: Any) -> GatewayServer:
        gateway = WebSocketGateway(lambdas.connect, lambdas.default, lambdas.disconnect, **options)
        server = GatewayServer(gateway, port=free_port(), ws=request.param)
        server.start()
        servers.append(server)
        lambdas.management = management_client(server.endpoint_url)
        return server

    yield start_gateway
    for server in servers:
        server.stop()


@pytest.fixture
def lambdas() -> Lambdas:
    return Lambdas()


@pytest.fixture
def server(start: Start, lambdas: Lambdas) -> GatewayServer:
    return start(lambdas)


def open_client(server: GatewayServer, path: str = "", **options: Any) -> ClientConnection:
    client: ClientConnection = connect(server.websocket_url + path, open_timeout=WAIT, close_timeout=WAIT, **options)
    return client


def close_code(client: ClientConnection) -> int:
    """Wait for the server to close the connection; the code it sent."""
    with pytest.raises(ConnectionClosed) as closed:
        client.recv(timeout=WAIT)
    assert closed.value.rcvd is not None
    return closed.value.rcvd.code


def error_code(error: ClientError) -> str:
    return str(error.response["Error"]["Code"])


# The handshake


def test_the_subprotocol_the_connect_handler_returns_is_selected(server: GatewayServer, lambdas: Lambdas) -> None:
    lambdas.connect_response = {"statusCode": 200, "headers": {"Sec-WebSocket-Protocol": "graphql-transport-ws"}}
    with open_client(server, subprotocols=["graphql-transport-ws"]) as client:
        assert client.subprotocol == "graphql-transport-ws"
    event = lambdas.wait_for("$connect")[0]
    assert event["headers"]["sec-websocket-protocol"] == "graphql-transport-ws"


def test_no_subprotocol_is_selected_unless_the_connect_handler_returns_it(
    server: GatewayServer, lambdas: Lambdas
) -> None:
    lambdas.connect_response = {"statusCode": 200}
    with open_client(server, subprotocols=["graphql-transport-ws"]) as client:
        assert client.subprotocol is None
    # A subprotocol the client did not offer is passed on as API Gateway does: the client fails the handshake.
    lambdas.connect_response = {"statusCode": 200, "headers": {"sec-websocket-protocol": "other"}}
    with pytest.raises(InvalidHandshake, match="unsupported subprotocol"):
        open_client(server, subprotocols=["graphql-transport-ws"])


@pytest.mark.parametrize(
    ("response", "fails", "status"),
    [({"statusCode": 401, "body": "Unauthorized"}, False, 401), ({"statusCode": 200}, True, 500)],
    ids=["non-2xx", "handler-raises"],
)
def test_a_refusing_connect_handler_fails_the_handshake(
    server: GatewayServer, lambdas: Lambdas, response: dict[str, Any], fails: bool, status: int
) -> None:
    lambdas.connect_response, lambdas.connect_fails = response, fails
    with pytest.raises(InvalidStatus) as refused:
        open_client(server)
    assert refused.value.response.status_code == status
    # Only an accepted connection gets a `$disconnect`: the next, accepted one is the first to have one.
    lambdas.connect_response, lambdas.connect_fails = {"statusCode": 200}, False
    with open_client(server):
        pass
    disconnects = lambdas.wait_for("$disconnect")
    accepted = lambdas.of("$connect")[-1]["requestContext"]["connectionId"]
    assert [event["requestContext"]["connectionId"] for event in disconnects] == [accepted]


def test_a_connect_handler_that_returns_nothing_accepts(server: GatewayServer, lambdas: Lambdas) -> None:
    lambdas.connect_response = None
    with open_client(server) as client:
        client.send("still here")
    assert lambdas.wait_for("$default")[0]["body"] == "still here"


def test_the_upgrade_is_served_at_the_root_and_at_the_stage(server: GatewayServer, lambdas: Lambdas) -> None:
    with open_client(server, "/local"):
        pass
    with pytest.raises(InvalidStatus) as refused:
        open_client(server, "/elsewhere")
    assert refused.value.response.status_code == 403
    assert len(lambdas.of("$connect")) == 1


# The events


def test_connect_default_and_disconnect_events_have_api_gateways_shape(server: GatewayServer, lambdas: Lambdas) -> None:
    with open_client(server, "/?token=abc&tag=1&tag=2", additional_headers={"X-Custom": "yes"}) as client:
        client.send("hello")
        lambdas.wait_for("$default")
        client.close(code=1000, reason="bye")
    connect_event = lambdas.wait_for("$connect")[0]
    message = lambdas.wait_for("$default")[0]
    disconnect = lambdas.wait_for("$disconnect")[0]

    assert set(connect_event) == {
        "headers",
        "multiValueHeaders",
        "queryStringParameters",
        "multiValueQueryStringParameters",
        "requestContext",
        "isBase64Encoded",
    }
    assert connect_event["headers"]["x-custom"] == "yes"
    assert connect_event["headers"]["host"] == f"127.0.0.1:{server.port}"
    assert connect_event["multiValueHeaders"]["x-custom"] == ["yes"]
    assert connect_event["queryStringParameters"] == {"token": "abc", "tag": "2"}
    assert connect_event["multiValueQueryStringParameters"] == {"token": ["abc"], "tag": ["1", "2"]}
    assert connect_event["isBase64Encoded"] is False
    context = connect_event["requestContext"]
    assert set(context) == CONTEXT_KEYS
    assert context["routeKey"] == "$connect"
    assert context["eventType"] == "CONNECT"
    assert context["messageDirection"] == "IN"
    assert (context["stage"], context["apiId"]) == ("local", "local")
    assert context["domainName"] == f"127.0.0.1:{server.port}"
    assert context["identity"]["sourceIp"] == "127.0.0.1"
    assert context["identity"]["userAgent"].startswith("Python/")
    assert re.fullmatch(r"\d\d/[A-Z][a-z]{2}/\d{4}:\d\d:\d\d:\d\d \+0000", context["requestTime"])
    assert abs(context["connectedAt"] - time.time() * 1000) < 60_000
    assert CONNECTION_ID.match(context["connectionId"])
    connection_id = context["connectionId"]

    assert set(message) == {"requestContext", "body", "isBase64Encoded"}
    assert message["body"] == "hello"
    assert message["isBase64Encoded"] is False
    assert set(message["requestContext"]) == CONTEXT_KEYS | {"messageId"}
    assert message["requestContext"]["routeKey"] == "$default"
    assert message["requestContext"]["eventType"] == "MESSAGE"
    assert message["requestContext"]["connectionId"] == connection_id
    assert message["requestContext"]["connectedAt"] == context["connectedAt"]
    assert message["requestContext"]["requestTimeEpoch"] >= context["connectedAt"]
    assert message["requestContext"]["requestId"] != context["requestId"]

    assert set(disconnect) == {"headers", "multiValueHeaders", "requestContext", "isBase64Encoded"}
    assert set(disconnect["requestContext"]) == CONTEXT_KEYS | {"disconnectStatusCode", "disconnectReason"}
    assert disconnect["requestContext"]["routeKey"] == "$disconnect"
    assert disconnect["requestContext"]["eventType"] == "DISCONNECT"
    assert disconnect["requestContext"]["connectionId"] == connection_id
    assert disconnect["requestContext"]["disconnectStatusCode"] == 1000
    assert disconnect["requestContext"]["disconnectReason"] == "bye"


def test_connection_ids_are_unique(server: GatewayServer, lambdas: Lambdas) -> None:
    for _ in range(5):
        with open_client(server):
            pass
    ids = {event["requestContext"]["connectionId"] for event in lambdas.wait_for("$disconnect", 5)}
    assert len(ids) == 5


# The management API


def test_the_handler_talks_back_through_post_to_connection_only(server: GatewayServer, lambdas: Lambdas) -> None:
    lambdas.on_message = lambdas.echo
    with open_client(server) as client:
        for text in ("one", "two", "olá ✓"):
            client.send(text)
            # The handler's return value is never sent: the next frame is the next echo.
            assert client.recv(timeout=WAIT) == text


def test_the_management_api_answers_under_the_stage_prefix_too(server: GatewayServer, lambdas: Lambdas) -> None:
    staged = management_client(f"{server.endpoint_url}/local")
    with open_client(server) as client:
        connection_id = lambdas.wait_for("$connect")[0]["requestContext"]["connectionId"]
        staged.post_to_connection(ConnectionId=connection_id, Data=b'{"type": "next"}')
        assert json.loads(client.recv(timeout=WAIT)) == {"type": "next"}
        assert staged.get_connection(ConnectionId=connection_id)["Identity"]["SourceIp"] == "127.0.0.1"
    wrong_stage = management_client(f"{server.endpoint_url}/prod")
    with pytest.raises(ClientError) as refused:
        wrong_stage.get_connection(ConnectionId=connection_id)
    assert error_code(refused.value) == "ForbiddenException"


def test_get_connection_describes_the_connection(server: GatewayServer, lambdas: Lambdas) -> None:
    with open_client(server) as client:
        connection_id = lambdas.wait_for("$connect")[0]["requestContext"]["connectionId"]
        client.send("activity")
        lambdas.wait_for("$default")
        info = lambdas.management.get_connection(ConnectionId=connection_id)
    assert info["Identity"]["SourceIp"] == "127.0.0.1"
    assert info["Identity"]["UserAgent"].startswith("Python/")
    connected_at = info["ConnectedAt"].timestamp()
    assert abs(connected_at - time.time()) < 60
    assert info["LastActiveAt"].timestamp() >= connected_at


def test_delete_connection_closes_the_socket_and_disconnect_runs_once(server: GatewayServer, lambdas: Lambdas) -> None:
    with open_client(server) as client:
        connection_id = lambdas.wait_for("$connect")[0]["requestContext"]["connectionId"]
        lambdas.management.delete_connection(ConnectionId=connection_id)
        assert close_code(client) == 1000
    disconnect = lambdas.wait_for("$disconnect")[0]["requestContext"]
    assert (disconnect["disconnectStatusCode"], disconnect["connectionId"]) == (1000, connection_id)
    management = lambdas.management
    for call in (management.get_connection, management.delete_connection):
        with pytest.raises(management.exceptions.GoneException):
            call(ConnectionId=connection_id)
    server.stop()  # waits for everything the gateway was doing
    assert len(lambdas.of("$disconnect")) == 1


def test_posting_to_a_closed_or_unknown_connection_raises_gone(server: GatewayServer, lambdas: Lambdas) -> None:
    with open_client(server):
        connection_id = lambdas.wait_for("$connect")[0]["requestContext"]["connectionId"]
    lambdas.wait_for("$disconnect")
    management = lambdas.management
    for unknown in (connection_id, "AAAAAAAAAAAAAAA=", "a/b+c="):
        with pytest.raises(management.exceptions.GoneException) as gone:
            management.post_to_connection(ConnectionId=unknown, Data=b"anyone?")
        assert gone.value.response["ResponseMetadata"]["HTTPStatusCode"] == 410


def test_a_connection_cannot_be_posted_to_from_its_own_connect_handler(server: GatewayServer, lambdas: Lambdas) -> None:
    outcomes: list[str] = []

    def greet(event: dict[str, Any]) -> None:
        try:
            lambdas.management.post_to_connection(ConnectionId=event["requestContext"]["connectionId"], Data=b"hi")
            outcomes.append("sent")
        except ClientError as error:
            outcomes.append(error_code(error))

    lambdas.on_connect = greet
    with open_client(server):
        pass
    assert outcomes == ["GoneException"]


# The ends of a connection


def test_the_idle_timeout_closes_the_connection(start: Start, lambdas: Lambdas) -> None:
    server = start(lambdas, idle_timeout=0.5)
    with open_client(server) as client:
        # Messages keep it open past the timeout...
        for index in range(6):
            client.send(f"keep-alive {index}")
            time.sleep(0.1)
        assert lambdas.wait_for("$default", 6)
        assert lambdas.of("$disconnect") == []
        # ... silence ends it.
        assert close_code(client) == 1001
    disconnect = lambdas.wait_for("$disconnect")[0]["requestContext"]
    assert (disconnect["disconnectStatusCode"], disconnect["disconnectReason"]) == (1001, "Going away")


def test_the_maximum_duration_closes_even_a_busy_connection(start: Start, lambdas: Lambdas) -> None:
    server = start(lambdas, idle_timeout=10, max_duration=0.5)
    started = time.monotonic()

    def keep_busy(client: ClientConnection) -> None:
        while time.monotonic() - started < WAIT:
            client.send("busy")
            time.sleep(0.05)

    with open_client(server) as client:
        with pytest.raises(ConnectionClosed) as closed:
            keep_busy(client)
        assert closed.value.rcvd is not None
        assert closed.value.rcvd.code == 1001
    assert lambdas.wait_for("$disconnect")[0]["requestContext"]["disconnectStatusCode"] == 1001


def test_an_oversized_message_closes_the_connection(start: Start, lambdas: Lambdas) -> None:
    server = start(lambdas, max_message_bytes=1024)
    with open_client(server) as client:
        client.send("é" * 512)  # 1024 bytes: the limit is in bytes, and this is at it
        lambdas.wait_for("$default")
        client.send("a" * 1025)
        assert close_code(client) == 1009
    assert lambdas.wait_for("$disconnect")[0]["requestContext"]["disconnectStatusCode"] == 1009
    assert len(lambdas.of("$default")) == 1


def test_a_binary_frame_closes_the_connection(server: GatewayServer, lambdas: Lambdas) -> None:
    with open_client(server) as client:
        client.send(b"\x00\x01")
        assert close_code(client) == 1003
    assert lambdas.wait_for("$disconnect")[0]["requestContext"]["disconnectStatusCode"] == 1003
    assert lambdas.of("$default") == []


def test_stopping_the_server_closes_connections_as_api_gateway_does(server: GatewayServer, lambdas: Lambdas) -> None:
    with open_client(server) as client:
        lambdas.wait_for("$connect")
        server.stop()
        assert close_code(client) == 1001
    assert lambdas.wait_for("$disconnect")[0]["requestContext"]["disconnectStatusCode"] == 1001


def test_a_client_that_closes_without_a_status_gets_1005(server: GatewayServer, lambdas: Lambdas) -> None:
    with open_client(server) as client:
        lambdas.wait_for("$connect")
        # An empty close frame; `close()` always sends a code.
        with client.send_context():
            client.protocol.send_close()
    disconnect = lambdas.wait_for("$disconnect")[0]["requestContext"]
    assert disconnect["disconnectStatusCode"] == 1005
    assert disconnect["disconnectReason"] == "Client-side close frame status not set"


def test_a_client_that_vanishes_gets_its_disconnect_too(server: GatewayServer, lambdas: Lambdas) -> None:
    with open_client(server) as client:
        lambdas.wait_for("$connect")
        client.socket.shutdown(socket.SHUT_RDWR)  # no close frame: the network went away
    disconnect = lambdas.wait_for("$disconnect")[0]["requestContext"]
    assert disconnect["disconnectStatusCode"] in {1005, 1006}
    server.stop()
    assert len(lambdas.of("$disconnect")) == 1


# Invocations


def test_a_connections_messages_reach_the_handler_in_order_even_when_it_is_slow(
    server: GatewayServer, lambdas: Lambdas
) -> None:
    lambdas.on_message = lambda _: time.sleep(0.02)
    with open_client(server) as client:
        for index in range(10):
            client.send(str(index))
        bodies = [event["body"] for event in lambdas.wait_for("$default", 10)]
        assert lambdas.of("$disconnect") == []
    assert bodies == [str(index) for index in range(10)]
    assert lambdas.most_active == 1


def test_messages_received_before_the_close_are_still_handled_before_disconnect(
    server: GatewayServer, lambdas: Lambdas
) -> None:
    lambdas.on_message = lambda _: time.sleep(0.05)
    with open_client(server) as client:
        for index in range(3):
            client.send(str(index))
    lambdas.wait_for("$disconnect")
    assert [event["requestContext"]["routeKey"] for event in lambdas.events] == [
        "$connect",
        "$default",
        "$default",
        "$default",
        "$disconnect",
    ]


def test_a_failing_default_handler_makes_the_client_receive_an_internal_server_error(
    server: GatewayServer, lambdas: Lambdas
) -> None:
    def fail(event: dict[str, Any]) -> None:
        raise RuntimeError("boom")

    lambdas.on_message = fail
    with open_client(server) as client:
        client.send("anything")
        error = json.loads(client.recv(timeout=WAIT))
        connection_id = lambdas.of("$connect")[0]["requestContext"]["connectionId"]
        assert error == {
            "message": "Internal server error",
            "connectionId": connection_id,
            "requestId": lambdas.wait_for("$default")[0]["requestContext"]["requestId"],
        }
        # The connection stays open.
        lambdas.on_message = lambdas.echo
        client.send("again")
        assert client.recv(timeout=WAIT) == "again"


def test_one_log_line_per_connect_and_disconnect(
    server: GatewayServer, lambdas: Lambdas, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="vehicle_platform.ws")
    with open_client(server):
        pass
    connection_id = lambdas.wait_for("$disconnect")[0]["requestContext"]["connectionId"]
    server.stop()
    lines = [record.getMessage() for record in caplog.records if record.name == "vehicle_platform.ws"]
    assert len(lines) == 2
    assert lines[0].startswith(f"{connection_id} $connect 200")
    assert lines[1].startswith(f"{connection_id} $disconnect 1000")


# A client that does not read


class SilentClient:
    """A WebSocket client on a bare socket, speaking through websockets' sans-I/O protocol: it reads only when told to,
    through a small receive buffer, so it can stop reading altogether (a stalled tab, or an attacker). Nothing reads
    its socket behind its back, pongs included, as the library's own clients' background readers would."""

    def __init__(
        self, url: str, *, receive_buffer: int = 4096, subprotocols: tuple[str, ...] = (), timeout: float = WAIT
    ) -> None:
        uri = parse_uri(url)
        offered = [Subprotocol(name) for name in subprotocols] or None
        self.protocol = ClientProtocol(uri, subprotocols=offered, max_size=None)
        self.socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        # Before connecting, so that the window it advertises is small from the start.
        self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
        self.socket.settimeout(timeout)
        self.socket.connect((uri.host, uri.port))
        self.frames: list[Frame] = []
        self.protocol.send_request(self.protocol.connect())
        self._flush()
        while self.protocol.state is State.CONNECTING:
            if not self._read():
                break
        if self.protocol.handshake_exc is not None:
            raise self.protocol.handshake_exc
        assert self.protocol.state is State.OPEN

    @property
    def subprotocol(self) -> str | None:
        return self.protocol.subprotocol

    def send(self, text: str) -> None:
        self.protocol.send_text(text.encode())
        self._flush()

    def recv(self, timeout: float = WAIT) -> str:
        """The next text message."""
        self.socket.settimeout(timeout)
        while True:
            for index, frame in enumerate(self.frames):
                if frame.opcode is Opcode.TEXT:
                    del self.frames[: index + 1]
                    return bytes(frame.data).decode()
            if not self._read():
                raise ConnectionError("the connection closed")

    def flood_pings(self, count: int, size: int = 125) -> int:
        """Send up to `count` pings of `size` bytes (125 is a control frame's most) without reading anything; the
        number sent before the server dropped the connection."""
        payload = b"p" * size
        sent = 0
        try:
            while sent < count:
                batch = min(200, count - sent)
                for _ in range(batch):
                    self.protocol.send_ping(payload)
                self._flush()
                sent += batch
        except OSError:  # reset or broken pipe: the server dropped the connection
            pass
        return sent

    def closed(self, timeout: float = WAIT) -> bool:
        """Whether the server ends the connection within `timeout`; what it sent meanwhile is read and dropped."""
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            self.socket.settimeout(left)
            try:
                if not self._read():
                    return True
            except TimeoutError:
                return False
            except OSError:  # reset: the server aborted it
                return True
            self.frames.clear()
        return False

    def close(self) -> None:
        self.socket.close()

    def __enter__(self) -> SilentClient:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def _read(self) -> bool:
        """Read once; False at the end of the connection (EOF, or a close frame)."""
        data = self.socket.recv(65536)
        if data:
            self.protocol.receive_data(data)
        else:
            self.protocol.receive_eof()
        for event in self.protocol.events_received():
            if isinstance(event, Frame):
                self.frames.append(event)
        with contextlib.suppress(OSError):
            self._flush()  # pongs, and the echo of a close frame
        return bool(data) and self.protocol.state is not State.CLOSED and self.protocol.close_rcvd is None

    def _flush(self) -> None:
        data = b"".join(self.protocol.data_to_send())
        if data:
            self.socket.sendall(data)


def prompt_client(endpoint_url: str) -> Any:
    """A management API client that waits 5 s at most and never retries: a post that waits on a client fails."""
    config = Config(connect_timeout=WAIT, read_timeout=WAIT, retries={"total_max_attempts": 1})
    return boto3.session.Session().client(
        "apigatewaymanagementapi",
        endpoint_url=endpoint_url,
        region_name="us-east-1",
        aws_access_key_id="x",
        aws_secret_access_key="x",
        config=config,
    )


def disconnect_of(lambdas: Lambdas, connection_id: str) -> dict[str, Any]:
    with lambdas.changed:
        found = lambdas.changed.wait_for(
            lambda: any(
                event["requestContext"]["connectionId"] == connection_id for event in lambdas.of("$disconnect")
            ),
            WAIT,
        )
    assert found, f"no $disconnect for {connection_id}: {lambdas.events}"
    events = [event for event in lambdas.of("$disconnect") if event["requestContext"]["connectionId"] == connection_id]
    assert len(events) == 1, events
    context: dict[str, Any] = events[0]["requestContext"]
    return context


# More pings than the kernel's socket buffers and the gateway's send buffer hold in pongs (125 bytes each: 12 MB).
PING_FLOOD = 100_000


def test_posts_to_a_client_that_does_not_read_never_wait_and_it_is_disconnected(
    start: Start, lambdas: Lambdas, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="vehicle_platform.ws")
    server = start(lambdas, max_message_bytes=64 * 1024, send_buffer_bytes=128 * 1024)
    management = prompt_client(server.endpoint_url)
    chunk = b"x" * 64 * 1024
    with SilentClient(server.websocket_url) as silent, open_client(server) as reader:
        silent_id, reader_id = (event["requestContext"]["connectionId"] for event in lambdas.wait_for("$connect", 2))
        slowest, posted, gone = 0.0, 0, False
        while not gone and posted < 400:  # 25 MB at most; the kernel's buffers take a few MB of it
            started = time.monotonic()
            try:
                management.post_to_connection(ConnectionId=silent_id, Data=chunk)
                posted += 1
            except management.exceptions.GoneException:
                gone = True
            slowest = max(slowest, time.monotonic() - started)
            if posted % 10 == 0:  # the other client is served as ever meanwhile
                management.post_to_connection(ConnectionId=reader_id, Data=b"and you?")
                assert reader.recv(timeout=WAIT) == "and you?"
        assert gone, f"{posted} posts of 64 KB to a client that reads nothing, and it is still connected"
        assert slowest < 1.0, slowest
        assert silent.closed()
        management.post_to_connection(ConnectionId=reader_id, Data=b"still here")
        assert reader.recv(timeout=WAIT) == "still here"
    disconnect = disconnect_of(lambdas, silent_id)
    assert (disconnect["disconnectStatusCode"], disconnect["disconnectReason"]) == (
        1006,
        "Connection closed abnormally",
    )
    assert f"{silent_id} $disconnect 1006 Connection closed abnormally: not reading: over 131072 bytes" in caplog.text


def test_a_ping_flood_from_a_client_that_does_not_read_disconnects_it_and_no_one_else_waits(
    server: GatewayServer, lambdas: Lambdas
) -> None:
    lambdas.on_message = lambdas.echo
    with open_client(server) as reader, SilentClient(server.websocket_url) as silent:
        reader_id, silent_id = (event["requestContext"]["connectionId"] for event in lambdas.wait_for("$connect", 2))
        flooded: list[int] = []
        flood = threading.Thread(target=lambda: flooded.append(silent.flood_pings(PING_FLOOD)))
        flood.start()
        round_trips: list[float] = []
        while flood.is_alive() or not round_trips:
            started = time.monotonic()
            reader.send("echo")
            assert reader.recv(timeout=WAIT) == "echo"
            round_trips.append(time.monotonic() - started)
        flood.join()
        assert flooded[0] < PING_FLOOD, "the gateway answered every ping of a client that reads none of it"
        assert silent.closed()
        assert max(round_trips) < 2.0, round_trips
        assert lambdas.management.get_connection(ConnectionId=reader_id)["Identity"]["SourceIp"] == "127.0.0.1"
    assert disconnect_of(lambdas, silent_id)["disconnectStatusCode"] == 1006


def test_a_client_that_reads_takes_a_burst_of_the_largest_messages(server: GatewayServer, lambdas: Lambdas) -> None:
    largest = "y" * 128 * 1024
    with open_client(server, max_size=None) as reader:
        connection_id = lambdas.wait_for("$connect")[0]["requestContext"]["connectionId"]
        for _ in range(8):  # what the send buffer holds, whatever the kernel takes
            lambdas.management.post_to_connection(ConnectionId=connection_id, Data=largest.encode())
        for _ in range(8):
            assert reader.recv(timeout=WAIT) == largest
    assert disconnect_of(lambdas, connection_id)["disconnectStatusCode"] == 1000


def test_served_without_a_bounded_send_buffer_a_post_waits_on_a_client_for_the_send_timeout_at_most(
    lambdas: Lambdas, caplog: pytest.LogCaptureFixture
) -> None:
    # uvicorn's own protocol: its sends wait for as long as the client does not read, and nothing bounds its pongs.
    gateway = WebSocketGateway(lambdas.connect, lambdas.default, lambdas.disconnect, send_timeout=0.5)
    port = free_port()
    config = uvicorn.Config(
        gateway, host="127.0.0.1", port=port, ws="websockets-sansio", lifespan="off", log_config=None
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        while not server.started:
            time.sleep(0.01)
        management = prompt_client(f"http://127.0.0.1:{port}")
        with SilentClient(f"ws://127.0.0.1:{port}") as silent:
            silent_id = lambdas.wait_for("$connect")[0]["requestContext"]["connectionId"]
            assert silent.flood_pings(PING_FLOOD) == PING_FLOOD  # all answered: the pongs pile up in the server
            started = time.monotonic()
            with pytest.raises(management.exceptions.GoneException):
                management.post_to_connection(ConnectionId=silent_id, Data=b"anyone?")
            assert time.monotonic() - started < 0.5 + 1.0
            assert disconnect_of(lambdas, silent_id)["disconnectStatusCode"] == 1006
    finally:
        server.should_exit = True
        thread.join(WAIT)
    assert "this server does not bound the connections' send buffers" in caplog.text


def test_the_send_buffer_must_hold_a_message_and_the_server_must_bound_it(lambdas: Lambdas) -> None:
    with pytest.raises(ValueError, match="cannot hold"):
        WebSocketGateway(
            lambdas.connect, lambdas.default, lambdas.disconnect, max_message_bytes=2048, send_buffer_bytes=1024
        )
    gateway = WebSocketGateway(lambdas.connect, lambdas.default, lambdas.disconnect)
    with pytest.raises(ValueError, match="bound the send buffers"):
        GatewayServer(gateway, port=free_port(), ws="wsproto")


def test_stopping_the_server_does_not_wait_for_a_client_that_does_not_read(start: Start, lambdas: Lambdas) -> None:
    # A buffer large enough that what is posted stays in it, short of disconnecting the client.
    server = start(lambdas, send_buffer_bytes=16 * 1024 * 1024)
    with SilentClient(server.websocket_url) as silent:
        connection_id = lambdas.wait_for("$connect")[0]["requestContext"]["connectionId"]
        for _ in range(48):  # 6 MB: more than the kernel's buffers take
            lambdas.management.post_to_connection(ConnectionId=connection_id, Data=b"z" * 128 * 1024)
        assert connection_id in server.gateway.connection_ids
        started = time.monotonic()
        server.stop(timeout=2 * WAIT)
        assert time.monotonic() - started < WAIT  # a graceful close would wait for the client to read it all
        assert silent.closed()
    assert disconnect_of(lambdas, connection_id)["disconnectStatusCode"] == 1001
