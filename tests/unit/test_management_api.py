"""The @connections poster (`realtime.handlers.ManagementApi`) never waits long on a post nor tries one blindly again:
410 Gone forgets the client, 429 gets one short backoff and one more try, a timeout or an error drops that message
only. Without AWS: a fake client for the decisions, a local HTTP server for botocore's own timeouts and retries.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from botocore.exceptions import (
    ClientError,
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    ReadTimeoutError,
)

from realtime.handlers import READ_TIMEOUT_SECONDS, Delivery, ManagementApi

CONNECTION = "AAAAAAAAAAAAAAA="
MESSAGE = {"type": "next", "id": "1", "payload": {"data": {}}}


def client_error(status: int, code: str) -> ClientError:
    response: Any = {"Error": {"Code": code, "Message": code}, "ResponseMetadata": {"HTTPStatusCode": status}}
    return ClientError(response, "PostToConnection")


class FakeClient:
    """Answers each call with the next outcome: None for 200, or the exception to raise."""

    def __init__(self, *outcomes: Exception | None) -> None:
        self.outcomes = list(outcomes)
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def _answer(self, operation: str, arguments: dict[str, Any]) -> dict[str, Any]:
        self.calls.append((operation, arguments))
        outcome = self.outcomes.pop(0) if self.outcomes else None
        if outcome is not None:
            raise outcome
        return {}

    def post_to_connection(self, **arguments: Any) -> dict[str, Any]:
        return self._answer("post", arguments)

    def delete_connection(self, **arguments: Any) -> dict[str, Any]:
        return self._answer("delete", arguments)


def api(client: FakeClient, backoff: float = 0.01) -> ManagementApi:
    return ManagementApi("http://unused", client=client, throttle_backoff=backoff)


def test_a_post_is_delivered_once() -> None:
    client = FakeClient(None)
    assert api(client).deliver(CONNECTION, MESSAGE) is Delivery.DELIVERED
    assert client.calls == [("post", {"ConnectionId": CONNECTION, "Data": json.dumps(MESSAGE).encode()})]


def test_gone_is_the_only_answer_that_forgets_the_client() -> None:
    client = FakeClient(client_error(410, "GoneException"))
    assert api(client).deliver(CONNECTION, MESSAGE) is Delivery.GONE
    assert len(client.calls) == 1
    assert api(FakeClient(client_error(410, "GoneException"))).post(CONNECTION, MESSAGE) is False
    # Dropped is not gone: the connection is kept.
    assert api(FakeClient(ReadTimeoutError(endpoint_url="http://x"))).post(CONNECTION, MESSAGE) is True


@pytest.mark.parametrize(
    "throttle",
    [
        client_error(429, "LimitExceededException"),
        client_error(429, "TooManyRequestsException"),
        client_error(400, "ThrottlingException"),
        client_error(429, ""),
    ],
    ids=["LimitExceeded", "TooManyRequests", "Throttling", "bare-429"],
)
def test_a_throttled_post_is_tried_once_more_after_a_short_backoff(throttle: ClientError) -> None:
    client = FakeClient(throttle, None)
    started = time.monotonic()
    assert api(client, backoff=0.1).deliver(CONNECTION, MESSAGE) is Delivery.DELIVERED
    waited = time.monotonic() - started
    assert len(client.calls) == 2
    assert 0.05 <= waited < 1.0, waited  # the backoff, with its jitter (0.5x to 1.5x)


def test_a_post_throttled_twice_is_given_up_and_logged(caplog: pytest.LogCaptureFixture) -> None:
    client = FakeClient(client_error(429, "LimitExceededException"), client_error(429, "LimitExceededException"))
    assert api(client).deliver(CONNECTION, MESSAGE) is Delivery.DROPPED
    assert len(client.calls) == 2
    assert f"post {CONNECTION}: throttled (LimitExceededException); given up" in caplog.text


def test_a_post_whose_pooled_connection_was_closed_is_tried_once_more_at_once() -> None:
    # The server closed an idle keep-alive connection as the post went out on it: the post never reached it.
    closed = ConnectionClosedError(endpoint_url="http://x")
    client = FakeClient(closed, None)
    assert api(client, backoff=5).deliver(CONNECTION, MESSAGE) is Delivery.DELIVERED
    assert len(client.calls) == 2
    client = FakeClient(closed, closed, None)
    assert api(client).deliver(CONNECTION, MESSAGE) is Delivery.DROPPED
    assert len(client.calls) == 2
    # One more try in all, whatever made it: never a throttle's backoff and then a reconnection too.
    client = FakeClient(client_error(429, "LimitExceededException"), closed, None)
    assert api(client).deliver(CONNECTION, MESSAGE) is Delivery.DROPPED
    assert len(client.calls) == 2


@pytest.mark.parametrize(
    "failure",
    [
        ReadTimeoutError(endpoint_url="http://x"),
        ConnectTimeoutError(endpoint_url="http://x"),
        EndpointConnectionError(endpoint_url="http://x"),
        client_error(500, "InternalServerErrorException"),
        client_error(403, "ForbiddenException"),
        client_error(413, "PayloadTooLargeException"),
    ],
    ids=["read-timeout", "connect-timeout", "connection-refused", "500", "403", "413"],
)
def test_a_post_that_times_out_or_fails_is_dropped_without_a_retry(
    failure: Exception, caplog: pytest.LogCaptureFixture
) -> None:
    client = FakeClient(failure, None)
    assert api(client).deliver(CONNECTION, MESSAGE) is Delivery.DROPPED
    assert len(client.calls) == 1  # a timed-out post may have been delivered: a retry could send it twice
    assert f"post {CONNECTION}: " in caplog.text


def test_deleting_a_gone_or_stuck_connection_does_not_raise(caplog: pytest.LogCaptureFixture) -> None:
    client = FakeClient(client_error(410, "GoneException"), ReadTimeoutError(endpoint_url="http://x"))
    api(client).delete(CONNECTION)
    api(client).delete(CONNECTION)
    assert [operation for operation, _ in client.calls] == ["delete", "delete"]
    assert f"delete {CONNECTION}: " in caplog.text


# The real botocore client, against a local HTTP server playing API Gateway


Answer = Callable[[BaseHTTPRequestHandler], None]


def answer(status: int, error_type: str = "") -> Answer:
    def respond(request: BaseHTTPRequestHandler) -> None:
        body = b"" if status == 200 else json.dumps({"message": error_type}).encode()
        request.send_response(status)
        request.send_header("content-length", str(len(body)))
        if error_type:
            request.send_header("x-amzn-errortype", error_type)
        request.end_headers()
        request.wfile.write(body)

    return respond


def hang(request: BaseHTTPRequestHandler) -> None:
    time.sleep(READ_TIMEOUT_SECONDS + 3)  # a stuck post: no answer before the client gives up


class Gateway:
    """An HTTP server answering the requests it gets, in order, as `answers` say; it counts them."""

    def __init__(self) -> None:
        self.answers: list[Answer] = []
        self.requests: list[str] = []
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("content-length", 0)))
                gateway.requests.append(self.path)
                (gateway.answers.pop(0) if gateway.answers else answer(200))(self)

            def log_message(self, *_: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def gateway(monkeypatch: pytest.MonkeyPatch) -> Iterator[Gateway]:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "x")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "x")
    server = Gateway()
    yield server
    server.close()


def test_the_real_client_gives_up_a_stuck_post_after_its_read_timeout_and_does_not_retry_it(
    gateway: Gateway,
) -> None:
    gateway.answers = [hang]
    started = time.monotonic()
    delivery = ManagementApi(gateway.url).deliver(CONNECTION, MESSAGE)
    waited = time.monotonic() - started
    assert delivery is Delivery.DROPPED
    assert READ_TIMEOUT_SECONDS <= waited < READ_TIMEOUT_SECONDS + 1.5, waited  # boto's default: 60 s, 5 attempts
    assert len(gateway.requests) == 1


def test_the_real_client_leaves_throttling_to_the_poster(gateway: Gateway) -> None:
    throttled = answer(429, "LimitExceededException")
    gateway.answers = [throttled, answer(200)]
    assert ManagementApi(gateway.url).deliver(CONNECTION, MESSAGE) is Delivery.DELIVERED
    assert len(gateway.requests) == 2
    gateway.answers = [throttled, throttled, throttled]
    assert ManagementApi(gateway.url).deliver(CONNECTION, MESSAGE) is Delivery.DROPPED
    assert len(gateway.requests) == 4  # botocore's standard mode would have tried each 3 times
    gateway.answers = [answer(410, "GoneException")]
    assert ManagementApi(gateway.url).deliver(CONNECTION, MESSAGE) is Delivery.GONE
    assert gateway.requests[-1] == f"/@connections/{CONNECTION.replace('=', '%3D')}"
