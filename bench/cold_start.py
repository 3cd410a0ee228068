"""Cold start of every Lambda handler module: a fresh process importing the handler's module and answering one
realistic first event, against a fresh process that only imports the libraries that answer needs. Each handler and
its baseline are measured in the same run, alternating (every handler's pair, run after run), as a ratio of medians.

The first events, each built before its process starts and read from stdin before the clock starts (Lambda hands
the runtime its event; the handler's own import and first answer are what is timed):

- graphql_api.handler: an HTTP API POST /graphql, an anonymous 20-vehicle page (the README's figure, as before);
- sagas.webhook: an HTTP API POST /webhooks/pix, with the deployment's secret, a Pix paying an order awaiting it;
- sagas.consumers (validate-client): an SQS batch of one OrderPlaced, received from the step's queue after the
  events topic delivered it (raw delivery, its message attributes), the order's client registered;
- sagas.relay: a stream record of an outbox item's INSERT (OrderPlaced): published on the events topic;
- sagas.expiry: EventBridge's Scheduled Event: the sweep's Query of the payments due (none are, as most minutes);
- sagas.intake (files): an SQS batch of one S3 notification (the emulator's own), a one-order file of seed 002's
  format: read, reviewed, reported, its order queued on the FIFO queue;
- realtime.handlers (connect): a WebSocket $connect offering graphql-transport-ws: the connection stored, its
  connection_init deadline queued (the schema built, as every realtime handler does on its first event);
- realtime.fanout: a stream record of an order's MODIFY (RESERVED -> AWAITING_PAYMENT) no client subscribes to:
  the services and schema built, the topic's subscribers queried (none).

Every event acts on data of its own (one order, file or connection per process), prepared beforehand on the local
emulator (bench/support.py's platform, the saga's event sources run only to bring the webhook's orders to
AWAITING_PAYMENT and stopped before the first measurement), so no process finds another's work done.

Run: `make bench` (or `.venv/bin/python -m bench.cold_start`).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from bench.support import PAGE_QUERY, emulated_platform, seed_vehicles, summary
from tests.conftest import free_port

# The API functions (a customer waits for them) get as many runs as the README's GraphQL figure always had; the
# event-driven ones fewer, to keep the whole bench within a few minutes on 2 cores.
API_RUNS = 9
EVENT_RUNS = 5
TIMEOUT_SECONDS = 60
POLL_SECONDS = 0.05

# Both processes read their event and make their context the same way, before the clock starts.
_PREAMBLE = """
import json, sys, time
from local_stack.lambda_events import lambda_context
event = json.load(sys.stdin)
context = lambda_context("cold-start")
started = time.perf_counter()
"""

HANDLER_PROCESS = (
    _PREAMBLE
    + """
from {module} import {attribute} as handler
imported = time.perf_counter()
response = handler(event, context)
answered = time.perf_counter()
print(json.dumps({{
    "import_ms": (imported - started) * 1000, "first_response_ms": (answered - started) * 1000, "response": response
}}, default=str))
"""
)

BARE_IMPORTS_PROCESS = (
    _PREAMBLE
    + """
{imports}
print(json.dumps({{"import_ms": (time.perf_counter() - started) * 1000}}))
"""
)

# The libraries each kind of handler needs to answer its first event, imported bare: (import, what it is).
LOGGER = ("from aws_lambda_powertools import Logger", "Powertools Logger")
BATCH = ("from aws_lambda_powertools.utilities.batch import BatchProcessor", "Powertools batch")
RESOLVER = ("from aws_lambda_powertools.event_handler import APIGatewayHttpResolver", "Powertools event handler")
BOTO = ("import boto3, pynamodb.models", "boto3, pynamodb")
GRAPHQL_LIBRARIES = (("import mangum, pynamodb.models, strawberry", "strawberry, mangum, pynamodb"), LOGGER)
WEBHOOK_LIBRARIES = (BOTO, RESOLVER, LOGGER)
SAGA_BATCH_LIBRARIES = (BOTO, BATCH, LOGGER)
EXPIRY_LIBRARIES = (BOTO, LOGGER)
REALTIME_LIBRARIES = (("import boto3, pynamodb.models, strawberry", "strawberry, boto3, pynamodb"), LOGGER)
FANOUT_LIBRARIES = (REALTIME_LIBRARIES[0], BATCH, LOGGER)


@dataclass
class Handler:
    """One handler module's cold start: what it is given first, what it must answer, and its bare libraries."""

    module: str
    attribute: str
    first_event: str
    libraries: tuple[tuple[str, str], ...]
    runs: int
    event: Callable[[int], dict[str, Any]]
    check: Callable[[Any], None]
    environment: dict[str, str] = field(default_factory=dict)
    handler_runs: list[dict[str, Any]] = field(default_factory=list)
    bare_runs: list[dict[str, Any]] = field(default_factory=list)

    @property
    def name(self) -> str:
        return f"{self.module}.{self.attribute}"

    @property
    def bare_names(self) -> str:
        return ", ".join(label for _, label in self.libraries)

    @property
    def bare_imports(self) -> str:
        return "\n".join(code for code, _ in self.libraries)


def run(code: str, environment: dict[str, str], event: dict[str, Any]) -> dict[str, Any]:
    completed = subprocess.run(  # noqa: S603 - our own interpreter and code
        [sys.executable, "-c", code],
        check=False,
        input=json.dumps(event),
        env=environment,
        capture_output=True,
        text=True,
    )
    if completed.returncode != 0:
        raise RuntimeError(f"a cold start process failed:\n{completed.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(completed.stdout.strip().splitlines()[-1])
    return result


# -- the first events --------------------------------------------------------------------------------------------


def _wait(what: str, read: Callable[[str], Any], key: str) -> Any:
    """What `read(key)` answers once it is not None."""
    deadline = time.monotonic() + TIMEOUT_SECONDS
    while (value := read(key)) is None:
        if time.monotonic() > deadline:
            raise TimeoutError(f"still waiting for {what}")
        time.sleep(POLL_SECONDS)
    return value


def stream_record(stream_arn: str, name: str, new: dict[str, Any], old: dict[str, Any] | None = None) -> dict[str, Any]:
    """A DynamoDB stream record as Lambda delivers it (NEW_AND_OLD_IMAGES), for an item read with GetItem/Scan."""
    change: dict[str, Any] = {
        "ApproximateCreationDateTime": float(int(time.time())),
        "Keys": {"PK": new["PK"], "SK": new["SK"]},
        "NewImage": new,
        "SequenceNumber": f"{time.time_ns():021d}",
        "SizeBytes": len(json.dumps(new)),
        "StreamViewType": "NEW_AND_OLD_IMAGES",
    }
    if old is not None:
        change["OldImage"] = old
    return {
        "eventID": uuid.uuid4().hex,
        "eventName": name,
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": "us-east-1",
        "dynamodb": change,
        "eventSourceARN": stream_arn,
    }


def connect_event(connection_id: str) -> dict[str, Any]:
    """API Gateway's $connect event for a browser offering graphql-transport-ws (as local_stack/ws_gateway.py)."""
    now = time.time()
    headers = {
        "host": "ws.localhost",
        "sec-websocket-protocol": "graphql-transport-ws",
        "sec-websocket-version": "13",
        "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==",
        "user-agent": "Mozilla/5.0",
        "x-forwarded-for": "127.0.0.1",
        "x-forwarded-port": "443",
        "x-forwarded-proto": "https",
    }
    return {
        "headers": headers,
        "multiValueHeaders": {name: [value] for name, value in headers.items()},
        "requestContext": {
            "routeKey": "$connect",
            "eventType": "CONNECT",
            "extendedRequestId": uuid.uuid4().hex[:16],
            "requestTime": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
            "messageDirection": "IN",
            "stage": "local",
            "connectedAt": int(now * 1000),
            "requestTimeEpoch": int(now * 1000),
            "identity": {"sourceIp": "127.0.0.1", "userAgent": "Mozilla/5.0"},
            "requestId": uuid.uuid4().hex[:16],
            "domainName": "ws.localhost",
            "connectionId": connection_id,
            "apiId": "local",
        },
        "isBase64Encoded": False,
    }


def _unused(_event: dict[str, Any], _context: Any) -> None:
    raise AssertionError("never polled")


def _ok_batch(response: Any) -> None:
    assert response == {"batchItemFailures": []}, response


def _ok_graphql(response: Any) -> None:
    assert response["statusCode"] == 200, response
    assert len(json.loads(response["body"])["data"]["vehicles"]["edges"]) == 20, response


def _ok_webhook(response: Any) -> None:
    assert response["statusCode"] == 200, response
    assert json.loads(response["body"]) == {"received": 1, "newPayments": 1, "refundsChanged": 0}, response


def _ok_connect(response: Any) -> None:
    assert response["statusCode"] == 200, response


def _ok_expiry(response: Any) -> None:
    assert response == {"expired": 0, "stockHoldsExpired": 0}, response


def handlers(stack: Any) -> list[Handler]:  # noqa: PLR0915 - every handler's data, prepared in one place
    """The handlers with their first events, and every order, file and message those events act on."""
    import boto3

    from bench.intake import order_document
    from bench.saga import register_clients
    from composition.aws import api_services
    from local_stack.event_sources import SqsEventSource
    from local_stack.lambda_events import http_api_event
    from local_stack.platform import saga_event_sources, scheduled_event
    from pix.webhook import WEBHOOK_SECRET_HEADER
    from platform_spec.messaging import INTAKE_FILES_QUEUE
    from platform_spec.storage import INTAKE_BUCKET
    from runtime.settings import Settings, get_settings
    from sagas.adapters import SnsEventPublisher

    get_settings.cache_clear()
    settings = Settings.from_env(stack.environment)
    services = api_services(settings)
    orders_needed = API_RUNS + EVENT_RUNS
    vehicles = seed_vehicles(stack.environment, 40 + orders_needed)
    clients = register_clients(services, orders_needed)
    session = boto3.session.Session()
    dynamodb, s3, sqs = session.client("dynamodb"), session.client("s3"), session.client("sqs")
    stream_arn = dynamodb.describe_table(TableName=settings.table_name)["Table"]["LatestStreamArn"]

    def payment(order_id: str) -> Any:
        """The order's payment once it awaits it; None before."""
        order = services.orders.get_order(order_id)
        return order.payment if order is not None and order.status.value == "AWAITING_PAYMENT" else None

    def place(n: int) -> str:
        order = services.purchase.place_vehicle_order(
            client_id=clients[n],
            vehicle_id=vehicles[40 + n],
            idempotency_key=str(uuid.uuid4()),
            order_id=str(uuid.uuid4()),
            correlation_id=str(uuid.uuid4()),
        )
        return order.id

    # The webhook's orders, taken to AWAITING_PAYMENT by the saga's own handlers (then the pollers stop).
    with saga_event_sources(stack.provisioned, expiry_interval=3600):
        awaiting = [place(n) for n in range(API_RUNS)]
        payments = [_wait(f"order {order_id} to await its payment", payment, order_id) for order_id in awaiting]

    # The consumer's and the relay's: orders placed with no relay running, each with its OrderPlaced in the outbox.
    placed = [place(API_RUNS + n) for n in range(EVENT_RUNS)]
    outbox = {
        item["order_id"]["S"]: item
        for item in dynamodb.scan(
            TableName=settings.table_name,
            FilterExpression="begins_with(PK, :outbox) AND event_type = :placed",
            ExpressionAttributeValues={":outbox": {"S": "OUTBOX#"}, ":placed": {"S": "OrderPlaced"}},
        )["Items"]
    }
    publisher = SnsEventPublisher(settings.saga.events_topic_arn, session.client("sns"))
    for order_id in placed:
        item = outbox[order_id]
        publisher.publish(item["event_type"]["S"], item["body"]["S"], order_id)
    # Event sources only to format the received messages as Lambda does (lambda_record); they never poll here.
    validate_queue = SqsEventSource(
        "validate-client", stack.provisioned.queue_urls["validate-client"], _unused, sqs_client=sqs
    )
    validate_queue.prepare()
    deliveries = _receive(sqs, validate_queue.queue_url, placed)

    # The intake's: one-order files dropped in the bucket, their notifications taken from the files queue.
    catalog = services.catalog
    catalog.create_product(sku="PRD-1001", description="Smartphone XYZ", unit_price=Decimal(2500), initial_stock=20)
    catalog.create_product(sku="PRD-2002", description="Fone Bluetooth", unit_price=Decimal(150), initial_stock=40)
    tag = uuid.uuid4().hex[:6].upper()
    for n in range(EVENT_RUNS):
        document = order_document(f"ORD-{tag}-{n}", n)
        s3.put_object(Bucket=INTAKE_BUCKET, Key=f"incoming/cold-{tag}-{n}.json", Body=json.dumps([document]).encode())
    files_url = stack.provisioned.queue_urls[INTAKE_FILES_QUEUE.name]
    files_queue = SqsEventSource(INTAKE_FILES_QUEUE.name, files_url, _unused, sqs_client=sqs)
    files_queue.prepare()
    notifications = _receive(sqs, files_queue.queue_url, [f"cold-{tag}-{n}.json" for n in range(EVENT_RUNS)])

    def webhook_event(n: int) -> dict[str, Any]:
        pix = stack.psp.pay(txid=payments[n].code, notify=False)
        body = json.dumps({"pix": [pix.to_json()]})
        return http_api_event("POST", "/webhooks/pix", body, {WEBHOOK_SECRET_HEADER: settings.pix.webhook_secret})

    def fanout_event(n: int) -> dict[str, Any]:
        new = dynamodb.get_item(
            TableName=settings.table_name, Key={"PK": {"S": f"ORDER#{awaiting[n]}"}, "SK": {"S": "ORDER"}}
        )["Item"]
        return {"Records": [stream_record(stream_arn, "MODIFY", new, {**new, "status": {"S": "RESERVED"}})]}

    return [
        Handler(
            "graphql_api.handler",
            "handler",
            "HTTP API POST /graphql: anonymous 20-vehicle page",
            GRAPHQL_LIBRARIES,
            API_RUNS,
            lambda _n: http_api_event("POST", "/graphql", {"query": PAGE_QUERY}),
            _ok_graphql,
        ),
        Handler(
            "sagas.webhook",
            "handler",
            "HTTP API POST /webhooks/pix: one Pix paying its charge",
            WEBHOOK_LIBRARIES,
            API_RUNS,
            webhook_event,
            _ok_webhook,
        ),
        Handler(
            "sagas.consumers",
            "validate_client",
            "SQS batch of one OrderPlaced (validate-client step)",
            SAGA_BATCH_LIBRARIES,
            EVENT_RUNS,
            lambda n: {"Records": [validate_queue.lambda_record(deliveries[n])]},
            _ok_batch,
        ),
        Handler(
            "sagas.relay",
            "handler",
            "stream INSERT of an outbox OrderPlaced: published to SNS",
            SAGA_BATCH_LIBRARIES,
            EVENT_RUNS,
            lambda n: {"Records": [stream_record(stream_arn, "INSERT", outbox[placed[n]])]},
            _ok_batch,
        ),
        Handler(
            "sagas.expiry",
            "handler",
            "EventBridge Scheduled Event: sweep, no payment due",
            EXPIRY_LIBRARIES,
            EVENT_RUNS,
            lambda _n: scheduled_event("payment-expiry"),
            _ok_expiry,
        ),
        Handler(
            "sagas.intake",
            "files",
            "SQS batch of one S3 notification: a one-order file",
            SAGA_BATCH_LIBRARIES,
            EVENT_RUNS,
            lambda n: {"Records": [files_queue.lambda_record(notifications[n])]},
            _ok_batch,
        ),
        Handler(
            "realtime.handlers",
            "connect",
            "WebSocket $connect offering graphql-transport-ws",
            REALTIME_LIBRARIES,
            EVENT_RUNS,
            lambda _n: connect_event(f"{uuid.uuid4().hex[:14]}="),
            _ok_connect,
        ),
        Handler(
            "realtime.fanout",
            "handler",
            "stream MODIFY of an order's status, no subscriber",
            FANOUT_LIBRARIES,
            EVENT_RUNS,
            fanout_event,
            _ok_batch,
            # What the CDK app gives the fan-out alone (functions.attach_websocket); no post is made here.
            {"WS_MANAGEMENT_URL": f"{stack.endpoint}/local"},
        ),
    ]


def _receive(sqs: Any, queue_url: str, naming: list[str]) -> list[dict[str, Any]]:
    """The messages naming each of `naming` (an order id, a file's key), received from the queue as Lambda's poller
    receives them, in that order; any other message is left alone."""
    found: dict[str, dict[str, Any]] = {}
    deadline = time.monotonic() + TIMEOUT_SECONDS
    while len(found) < len(naming):
        if time.monotonic() > deadline:
            raise TimeoutError(f"{len(found)} of {len(naming)} messages arrived in {queue_url}")
        response = sqs.receive_message(
            QueueUrl=queue_url,
            MaxNumberOfMessages=10,
            WaitTimeSeconds=1,
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
            VisibilityTimeout=3600,
        )
        for message in response.get("Messages", []):
            found |= {name: message for name in naming if name in message["Body"]}
    return [found[name] for name in naming]


def main() -> None:
    started = time.monotonic()
    load = os.getloadavg()[0]
    with emulated_platform(free_port()) as stack:
        cases = handlers(stack)
        prepared = time.monotonic() - started
        base = {**os.environ, **stack.environment, "PYTHONPATH": os.pathsep.join([".", "graphql"])}
        for index in range(max(case.runs for case in cases)):
            for case in cases:
                if index >= case.runs:
                    continue
                environment = base | case.environment
                code = HANDLER_PROCESS.format(module=case.module, attribute=case.attribute)
                result = run(code, environment, case.event(index))
                case.check(result.pop("response"))
                case.handler_runs.append(result)
                bare = BARE_IMPORTS_PROCESS.format(imports=case.bare_imports)
                case.bare_runs.append(run(bare, environment, {}))
    report(cases, prepared, time.monotonic() - started, load)


def report(cases: list[Handler], prepared: float, elapsed: float, load: float) -> None:
    print("Lambda cold start per handler module (fresh python process per run, AWS on the local emulator)")
    print("  import + first response of a realistic first event, against the bare imports of the libraries it needs")
    header = f"  {'handler':<34} {'runs':>4} {'import':>8} {'+ first response':>17} {'p95':>8} {'bare':>8} {'ratio':>6}"
    print(header)
    for case in cases:
        handler_import = summary([r["import_ms"] for r in case.handler_runs])
        first = summary([r["first_response_ms"] for r in case.handler_runs])
        bare = summary([r["import_ms"] for r in case.bare_runs])
        ratio = first["median_ms"] / bare["median_ms"]
        print(
            f"  {case.name:<34} {case.runs:>4} {handler_import['median_ms']:6.0f}ms {first['median_ms']:15.0f}ms "
            f"{first['p95_ms']:6.0f}ms {bare['median_ms']:6.0f}ms {ratio:5.2f}x"
        )
    print("  (medians in ms; p95 of import + first response; ratio = median import + first response / median bare)")
    print("  first events; bare imports:")
    for case in cases:
        print(f"    {case.name:<34} {case.first_event}; {case.bare_names}")
    print(
        f"  runs: {API_RUNS} each for the two HTTP APIs, {EVENT_RUNS} each for the event-driven handlers (fewer, to"
        " keep the bench short); each handler and its bare imports alternate, run after run, all handlers interleaved"
    )
    print(
        f"  python {sys.version.split()[0]}, {os.cpu_count()} cores, load average {load:.1f} at the start and"
        f" {os.getloadavg()[0]:.1f} at the end; {elapsed:.0f} s in all, {prepared:.0f} s of it preparing the data"
    )


if __name__ == "__main__":
    main()
