"""moto in server mode, in its own process, as the AWS of the laptop.

Run as `python -m local_stack.emulator --port 4566`; `Emulator` starts and stops that process for the CLI and tests.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import logging
import os
import re
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable
from types import TracebackType
from typing import Any

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class SerializedDynamoDB:
    """Runs DynamoDB requests one at a time.

    moto's DynamoDB backend is not thread-safe: racing conditional transactions can both win, where real DynamoDB
    is atomic. Serializing only DynamoDB keeps SQS long polls concurrent, and keeps our concurrency tests about
    our code rather than the emulator's races.
    """

    def __init__(self, app: WSGIApp) -> None:
        self._app = app
        self._lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if not environ.get("HTTP_X_AMZ_TARGET", "").startswith("DynamoDB"):
            return self._app(environ, start_response)
        with self._lock:
            # Drain the response inside the lock: moto builds it lazily.
            return list(self._app(environ, start_response))


# The user agent marker of the local event sources' clients: their polling is Lambda's doing, not the app's.
EVENT_SOURCE_AGENT = "local-event-source"
_CREDENTIAL_SCOPE = re.compile(r"Credential=[^/]+/[^/]+/[^/]+/([^/]+)/aws4_request")
_ACTION = re.compile(rb"(?:^|&)Action=([A-Za-z]+)")


class RequestCounter:
    """Counts the AWS requests the emulator serves, by caller, service and operation: what a sale costs.

    `GET /_local/requests` reads the counts, `DELETE /_local/requests` starts again. Requests by the local event
    sources (Lambda's pollers on AWS) are counted apart from the application's own.
    """

    PATH = "/_local/requests"

    def __init__(self, app: WSGIApp) -> None:
        self._app = app
        self._lock = threading.Lock()
        self._counts: dict[str, dict[str, dict[str, int]]] = {}

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("PATH_INFO") == self.PATH:
            return self._report(environ, start_response)
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        environ["wsgi.input"] = io.BytesIO(body)
        self._count(environ, body)
        return self._app(environ, start_response)

    def _count(self, environ: dict[str, Any], body: bytes) -> None:
        scope = _CREDENTIAL_SCOPE.search(environ.get("HTTP_AUTHORIZATION", ""))
        if scope is None:
            return
        target = environ.get("HTTP_X_AMZ_TARGET", "")
        service = "dynamodbstreams" if target.startswith("DynamoDBStreams") else scope.group(1)
        action = _ACTION.search(body)
        operation = target.rsplit(".", 1)[-1] if target else (action.group(1).decode() if action else "?")
        caller = "event-source" if EVENT_SOURCE_AGENT in environ.get("HTTP_USER_AGENT", "") else "application"
        with self._lock:
            operations = self._counts.setdefault(caller, {}).setdefault(service, {})
            operations[operation] = operations.get(operation, 0) + 1
            if operation == "TransactWriteItems":
                # Each item of a transaction is billed as two writes: count the items.
                items = len(json.loads(body or b"{}").get("TransactItems", []))
                operations["TransactWriteItems.items"] = operations.get("TransactWriteItems.items", 0) + items

    def _report(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        with self._lock:
            if environ.get("REQUEST_METHOD") == "DELETE":
                self._counts = {}
            body = json.dumps(self._counts).encode()
        start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
        return [body]


def keep_streams_across_cancelled_transactions() -> None:
    """Patch moto so that a cancelled TransactWriteItems leaves the table's stream as it was.

    moto rolls a cancelled transaction back by putting back a deep copy of each table, stream shard included. The
    shard that stream readers hold then never grows again (the local saga stopped at the first refused
    transaction), and it keeps records of writes that were rolled back. Real DynamoDB writes no stream record
    for a cancelled transaction and its stream goes on.
    """
    from moto.dynamodb.models import DynamoDBBackend

    original = DynamoDBBackend.transact_write_items
    if getattr(original, "keeps_streams", False):
        return

    def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
        shards = {
            name: (table.stream_shard, len(table.stream_shard.items))
            for name, table in self.tables.items()
            if table.stream_shard is not None
        }
        try:
            original(self, transact_items)
        except Exception:
            for name, (shard, length) in shards.items():
                del shard.items[length:]
                restored = self.tables.get(name)
                if restored is not None:
                    restored.stream_shard = shard
                    shard.table = restored
            raise

    transact_write_items.keeps_streams = True  # type: ignore[attr-defined]
    DynamoDBBackend.transact_write_items = transact_write_items  # type: ignore[method-assign]


def serve(host: str, port: int) -> None:
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
    from werkzeug.serving import make_server

    keep_streams_across_cancelled_transactions()
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    app = RequestCounter(SerializedDynamoDB(DomainDispatcherApplication(create_backend_app)))
    server = make_server(host, port, app, threaded=True, request_handler=MotoRequestHandler)
    server.serve_forever()


def is_up(endpoint: str) -> bool:
    try:
        with urllib.request.urlopen(f"{endpoint}/moto-api/", timeout=1):  # noqa: S310 - loopback URL we built
            return True
    except (urllib.error.URLError, OSError):
        return False


class Emulator:
    """The emulator process: started on enter, stopped (and waited for) on exit."""

    def __init__(self, host: str, port: int, *, startup_timeout: float = 30.0) -> None:
        self.host = host
        self.port = port
        self.endpoint = f"http://{host}:{port}"
        self._startup_timeout = startup_timeout
        self._process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Emulator:
        if is_up(self.endpoint):
            raise RuntimeError(f"something already answers on {self.endpoint}; stop it or set AWS_EMULATOR_PORT")
        self._process = subprocess.Popen(  # noqa: S603 - our own module, with arguments we built
            [sys.executable, "-m", "local_stack.emulator", "--host", self.host, "--port", str(self.port)],
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        deadline = time.monotonic() + self._startup_timeout
        while not is_up(self.endpoint):
            if self._process.poll() is not None:
                raise RuntimeError(f"the AWS emulator exited with code {self._process.returncode}")
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"the AWS emulator did not answer on {self.endpoint} in time")
            time.sleep(0.1)
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.stop()

    def stop(self) -> None:
        if self._process is None or self._process.poll() is not None:
            return
        self._process.terminate()
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description="moto in server mode, DynamoDB requests serialized")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=4566)
    arguments = parser.parse_args()
    with contextlib.suppress(KeyboardInterrupt):
        serve(arguments.host, arguments.port)


if __name__ == "__main__":
    main()
