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
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable
from types import TracebackType
from typing import Any

from local_stack.child_process import start_child, stop_child

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


# A client that names itself in its user agent (`caller/<name>`) is counted apart from the application: the local
# event sources (whose polling Lambda does on AWS) and the benchmarks that watch a saga run.
_CALLER = re.compile(r"caller/([\w-]+)")
EVENT_SOURCE_AGENT = "caller/event-source"
_CREDENTIAL_SCOPE = re.compile(r"Credential=[^/]+/[^/]+/[^/]+/([^/]+)/aws4_request")
_ACTION = re.compile(rb"(?:^|&)Action=([A-Za-z]+)")
_S3_OPERATIONS = {"PUT": "PutObject", "GET": "GetObject", "HEAD": "HeadObject", "DELETE": "DeleteObject"}


def _value_bytes(value: dict[str, Any]) -> int:
    """A DynamoDB attribute value's size as DynamoDB bills it (roughly, for numbers)."""
    kind, content = next(iter(value.items()))
    if kind == "S":
        return len(content.encode())
    if kind == "N":
        return len(content.lstrip("-").replace(".", "")) // 2 + 2
    if kind == "M":
        return 3 + sum(len(name.encode()) + _value_bytes(inner) for name, inner in content.items())
    if kind == "L":
        return 3 + sum(1 + _value_bytes(inner) for inner in content)
    return 1 if kind in {"BOOL", "NULL"} else len(json.dumps(content))


def _item_kilobytes(item: dict[str, Any]) -> int:
    size = sum(len(name.encode()) + _value_bytes(value) for name, value in item.items())
    return max(1, -(-size // 1024))


def _write_units(operation: str, body: bytes) -> dict[str, int]:
    """The write capacity units a request is billed: 1 per KB written, twice that inside a transaction.

    An update's or a delete's item is not in the request: counted as 1 KB.
    """
    if operation == "PutItem":
        return {"PutItem.units": _item_kilobytes(json.loads(body).get("Item", {}))}
    if operation in {"UpdateItem", "DeleteItem"}:
        return {f"{operation}.units": 1}
    if operation != "TransactWriteItems":
        return {}
    entries = json.loads(body or b"{}").get("TransactItems", [])
    units = sum(2 * (_item_kilobytes(entry["Put"]["Item"]) if "Put" in entry else 1) for entry in entries)
    return {"TransactWriteItems.items": len(entries), "TransactWriteItems.units": units}


class RequestCounter:
    """Counts the AWS requests the emulator serves, by caller, service and operation: what a sale costs.

    `GET /_local/requests` reads the counts, `DELETE /_local/requests` starts again. Requests by the local event
    sources (Lambda's pollers on AWS) and other named callers are counted apart from the application's own.
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
        if service == "s3":
            # S3's REST API names its operation by method; the platform's requests are all on objects.
            operation = _S3_OPERATIONS.get(environ.get("REQUEST_METHOD", ""), "?")
        named = _CALLER.search(environ.get("HTTP_USER_AGENT", ""))
        caller = named.group(1) if named else "application"
        with self._lock:
            operations = self._counts.setdefault(caller, {}).setdefault(service, {})
            operations[operation] = operations.get(operation, 0) + 1
            for name, units in _write_units(operation, body).items():
                operations[name] = operations.get(name, 0) + units

    def _report(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        with self._lock:
            if environ.get("REQUEST_METHOD") == "DELETE":
                self._counts = {}
            body = json.dumps(self._counts).encode()
        start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
        return [body]


def _stored(table: Any, hash_value: Any, range_value: Any) -> Any:
    if range_value is None:
        return table.items.get(hash_value)
    return table.items.get(hash_value, {}).get(range_value)


def _restore(table: Any, hash_value: Any, range_value: Any, item: Any) -> None:
    if range_value is None:
        if item is None:
            table.items.pop(hash_value, None)
        else:
            table.items[hash_value] = item
        return
    by_range = table.items.setdefault(hash_value, {})
    if item is None:
        by_range.pop(range_value, None)
        if not by_range:
            del table.items[hash_value]
    else:
        by_range[range_value] = item


def transactions_like_dynamodb() -> None:
    """Patch moto's TransactWriteItems to roll back only what it touched, and to leave the stream as it was.

    moto makes a deep copy of every table a transaction touches and puts the copy back when it is cancelled. The
    copy costs time in proportion to the table (the local saga slowed down as orders piled up), and it replaces
    the stream shard too: readers kept the old shard, which held records of the rolled-back writes and never
    received another one (the local saga stopped at the first refused registration). Real DynamoDB writes no
    stream record for a cancelled transaction, and its stream goes on.
    """
    import copy
    import types

    from moto.dynamodb import models as dynamodb_models
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.models.dynamo_type import DynamoType
    from moto.dynamodb.models.table import Table

    original = DynamoDBBackend.transact_write_items
    if getattr(original, "like_dynamodb", False):
        return
    # Tables are no longer copied (their items are, below); everything else moto copies as before.
    dynamodb_models.copy = types.SimpleNamespace(  # type: ignore[attr-defined,assignment]
        copy=copy.copy,
        deepcopy=lambda value, memo=None: value if isinstance(value, Table) else copy.deepcopy(value, memo),
    )

    def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
        snapshots = []
        for entry in transact_items:
            operation = next(iter(entry.values()))
            table = self.tables.get(operation.get("TableName"))
            key = operation.get("Key") or operation.get("Item") or {}
            if table is None or table.hash_key_attr not in key:
                continue
            hash_value = DynamoType(key[table.hash_key_attr])
            range_value = DynamoType(key[table.range_key_attr]) if table.range_key_attr in key else None
            snapshots.append((table, hash_value, range_value, copy.deepcopy(_stored(table, hash_value, range_value))))
        stream_lengths = {
            table.name: (table.stream_shard, len(table.stream_shard.items))
            for table, *_ in snapshots
            if table.stream_shard is not None
        }
        try:
            original(self, transact_items)
        except Exception:
            for table, hash_value, range_value, item in reversed(snapshots):
                _restore(table, hash_value, range_value, item)
            for shard, length in stream_lengths.values():
                del shard.items[length:]
            raise

    transact_write_items.like_dynamodb = True  # type: ignore[attr-defined]
    DynamoDBBackend.transact_write_items = transact_write_items  # type: ignore[method-assign]


def serve(host: str, port: int) -> None:
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
    from werkzeug.serving import make_server

    transactions_like_dynamodb()
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
        self._process = start_child(
            "local_stack.emulator",
            ["--host", self.host, "--port", str(self.port)],
            serving=lambda: is_up(self.endpoint),
            what=f"AWS emulator on {self.endpoint}",
            startup_timeout=self._startup_timeout,
        )
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.stop()

    def stop(self) -> None:
        stop_child(self._process, grace_seconds=10)


def main() -> None:
    parser = argparse.ArgumentParser(description="moto in server mode, DynamoDB requests serialized")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=4566)
    parser.add_argument("--parent", type=int, help="exit when this process is gone (the local stack that started us)")
    arguments = parser.parse_args()
    if arguments.parent:
        threading.Thread(target=exit_with_parent, args=(arguments.parent,), daemon=True).start()
    with contextlib.suppress(KeyboardInterrupt):
        serve(arguments.host, arguments.port)


def exit_with_parent(parent: int) -> None:
    # In a session of its own, a child process outlives a closed terminal: it must not outlive the stack that owns it.
    while os.getppid() == parent:
        time.sleep(1)
    os._exit(0)


if __name__ == "__main__":
    main()
