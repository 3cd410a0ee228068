"""The purchase saga on the local stack: how long its steps take, how many sales it completes per second, and
what AWS requests (and money) a completed sale costs.

Everything runs as `make dev` runs it: moto in server mode in its own process, the table's stream and every step's
queue polled by the local event sources that stand in for Lambda's, the same handlers. Orders are placed through
the API's use case (`Purchase.place_vehicle_order`, what `placeOrder` calls) and paid through the webhook's Lambda
handler with a signed event, as the provider would.

- Latencies are read from each order's own history (the time each step committed), so watching the order does not
  slow it down: placeOrder -> AWAITING_PAYMENT, and webhook call -> COMPLETED.
- Throughput: CONCURRENT buyers of different vehicles at once, each paying as soon as asked to.
- Requests: counted by the emulator for COUNTED sales, by caller and service (GET /_local/requests).
- A lost webhook: LOST orders paid at the PSP with no webhook call, their payments spread over one period of the
  reconciliation's schedule (every RECONCILE_SECONDS, as `make dev` runs it); the time from the payment to the
  order COMPLETED, which the reconciliation alone can bring.

Run: `make bench` (or `.venv/bin/python -m bench.saga`).
"""

from __future__ import annotations

import json
import os
import time
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from bench.support import emulated_platform, seed_vehicles, summary
from tests.conftest import free_port

SEQUENTIAL = 20
CONCURRENT = 20
COUNTED = 10
LOST = 10
# The reconciliation's period and lag as `make dev` runs it (PIX_RECONCILE_SECONDS' and
# PIX_RECONCILE_LAG_SECONDS' local defaults).
RECONCILE_SECONDS = 5.0
RECONCILE_LAG_SECONDS = 2
POLL_SECONDS = 0.02
TIMEOUT_SECONDS = 60

# On-demand prices, us-east-1, late 2026 (arm64 Lambda). SES (0.10 USD per 1000 emails) is left aside.
PRICES_PER_MILLION = {
    "api-gateway-http-request": 1.00,
    "lambda-request": 0.20,
    "dynamodb-write-unit": 0.625,
    "dynamodb-read-unit": 0.125,
    "sns-publish": 0.50,
    "sqs-request": 0.40,
    "s3-put": 5.00,
    "s3-get": 0.40,
}
LAMBDA_GB_SECOND = 0.0000133334
# Write capacity units as the emulator measured them (1 per KB per item, twice in a transaction); reads: items of
# under 4 KB, strongly consistent (1 unit each).
WRITES = {"PutItem.units": 1, "UpdateItem.units": 1, "DeleteItem.units": 1, "TransactWriteItems.units": 1}
READS = {"GetItem": 1, "Query": 1, "BatchGetItem": 1}


@dataclass
class Sale:
    order_id: str
    placed_ms: float  # placeOrder -> AWAITING_PAYMENT
    paid_ms: float  # webhook -> COMPLETED
    # The time the two calls from outside took in this process: placing the order, and the webhook's handler.
    place_seconds: float = 0.0
    webhook_seconds: float = 0.0


def _requests(endpoint: str, method: str = "GET") -> dict[str, Any]:
    request = urllib.request.Request(f"{endpoint}/_local/requests", method=method)  # noqa: S310 - loopback
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
        counts: dict[str, Any] = json.loads(response.read())
        return counts


def _settle(endpoint: str) -> None:
    """Wait until the emulator serves nothing new for a while: the previous sales' emails are all sent."""
    previous = None
    while (current := _requests(endpoint).get("application")) != previous:
        previous = current
        time.sleep(1.0)


def _since(history: list[Any], start: datetime, event: str) -> float:
    moment: datetime = next(entry.at for entry in history if entry.event == event)
    return (moment - start).total_seconds() * 1000


class Buyer:
    def __init__(self, services: Any, webhook: Any, webhook_secret: str, table: str, psp: Any) -> None:
        import boto3
        from botocore.config import Config

        self.services = services
        self.webhook = webhook
        self.webhook_secret = webhook_secret
        self.table = table
        self.psp = psp
        # Watching the orders is the benchmark's doing: its requests are counted apart from the platform's.
        self.dynamodb = boto3.client("dynamodb", config=Config(user_agent_extra="caller/bench"))

    def read_order(self, order_id: str) -> Any:
        from persistence.models import OrderItem
        from persistence.purchases import order_from_item

        item = self.dynamodb.get_item(
            TableName=self.table, Key={"PK": {"S": f"ORDER#{order_id}"}, "SK": {"S": "ORDER"}}, ConsistentRead=True
        )["Item"]
        return order_from_item(OrderItem.from_raw_data(item))

    def wait_for(self, order_id: str, statuses: set[str]) -> Any:
        deadline = time.monotonic() + TIMEOUT_SECONDS
        while True:
            order = self.read_order(order_id)
            if order.status.value in statuses:
                return order
            if time.monotonic() > deadline:
                raise TimeoutError(f"order {order_id} stuck in {order.status}")
            time.sleep(POLL_SECONDS)

    def buy(self, client_id: str, vehicle_id: str, *, webhook: bool = True, delay: float = 0.0) -> Sale:
        """Place an order and pay it (`delay` seconds after it awaits payment) through the webhook, or, without
        `webhook`, at the PSP alone, as when its call is lost."""
        from local_stack.lambda_events import http_api_event, lambda_context
        from pix.webhook import WEBHOOK_SECRET_HEADER

        started = datetime.now(UTC)
        placing = time.perf_counter()
        order = self.services.purchase.place_vehicle_order(
            client_id=client_id,
            vehicle_id=vehicle_id,
            idempotency_key=str(uuid.uuid4()),
            order_id=str(uuid.uuid4()),
            correlation_id=str(uuid.uuid4()),
        )
        place_seconds = time.perf_counter() - placing
        awaiting = self.wait_for(order.id, {"AWAITING_PAYMENT", "CANCELLED"})
        time.sleep(delay)
        paying = datetime.now(UTC)
        # The customer's bank pays at the PSP, which then calls the webhook (here, the handler, as API Gateway would).
        pix = self.psp.pay(txid=awaiting.payment.code, notify=False)
        webhook_seconds = time.perf_counter()
        if webhook:
            body = json.dumps({"pix": [pix.to_json()]})
            headers = {WEBHOOK_SECRET_HEADER: self.webhook_secret}
            response = self.webhook(http_api_event("POST", "/webhooks/pix", body, headers), lambda_context("webhook"))
            assert response["statusCode"] == 200, response
        webhook_seconds = time.perf_counter() - webhook_seconds
        completed = self.wait_for(order.id, {"COMPLETED", "CANCELLED"})
        assert completed.status.value == "COMPLETED", completed
        history = list(completed.history)
        return Sale(
            order.id,
            _since(history, started, "PaymentRequested"),
            _since(history, paying, "SaleCompleted"),
            place_seconds,
            webhook_seconds if webhook else 0.0,
        )


def register_clients(services: Any, count: int) -> list[str]:
    from domain.clients import AddressInput
    from domain.registration import RegistrationInput, register
    from domain.values import Cpf

    clients = []
    for n in range(count):
        subject = f"bench-client-{n}"
        register(
            services.clients,
            services.clock,
            user_id=subject,
            user_email=f"bench{n}@example.com",
            data=RegistrationInput(
                name=f"Cliente {n}",
                cpf=Cpf.complete(f"{100000000 + n * 7919:09d}").value,
                phone="+55 11 98765-4321",
                address=AddressInput("Rua A", "1", "Centro", "São Paulo", "SP", "01001-000"),
            ),
        )
        clients.append(subject)
    return clients


def cost_per_million_sales(
    per_sale: dict[str, dict[str, float]], lambda_requests: float, gb_seconds: float
) -> dict[str, float]:
    """Each AWS service's share, from the requests one sale makes and the GB-seconds its functions run."""
    dynamodb = per_sale.get("dynamodb", {})
    writes = sum(dynamodb.get(op, 0) * units for op, units in WRITES.items())
    reads = sum(dynamodb.get(op, 0) * units for op, units in READS.items())
    sns = sum(per_sale.get("sns", {}).values())
    sqs = sum(per_sale.get("sqs", {}).values())
    s3 = per_sale.get("s3", {})
    return {
        "API Gateway (placeOrder, webhook)": 2 * PRICES_PER_MILLION["api-gateway-http-request"],
        "Lambda requests": lambda_requests * PRICES_PER_MILLION["lambda-request"],
        "Lambda duration": gb_seconds * LAMBDA_GB_SECOND * 1_000_000,
        "DynamoDB writes": writes * PRICES_PER_MILLION["dynamodb-write-unit"],
        "DynamoDB reads": reads * PRICES_PER_MILLION["dynamodb-read-unit"],
        "SNS publishes": sns * PRICES_PER_MILLION["sns-publish"],
        "SQS requests": sqs * PRICES_PER_MILLION["sqs-request"],
        "S3 (the invoice document)": s3.get("PutObject", 0) * PRICES_PER_MILLION["s3-put"]
        + s3.get("GetObject", 0) * PRICES_PER_MILLION["s3-get"],
    }


def main() -> None:  # noqa: PLR0915 - a report, read top to bottom
    with emulated_platform(free_port()) as stack:
        stack.environment["PIX_RECONCILE_LAG_SECONDS"] = str(RECONCILE_LAG_SECONDS)
        os.environ["PIX_RECONCILE_LAG_SECONDS"] = str(RECONCILE_LAG_SECONDS)
        from composition.aws import api_services
        from local_stack.platform import Schedule, Timed, handler_seconds_by_source, saga_event_sources
        from platform_spec.functions import GRAPHQL_API, MEMORY_MB, PIX_WEBHOOK
        from runtime.settings import Settings, get_settings
        from sagas import reconcile, webhook

        get_settings.cache_clear()
        settings = Settings.from_env(stack.environment)
        services = api_services(settings)
        total = SEQUENTIAL + CONCURRENT + COUNTED + LOST
        vehicles = seed_vehicles(stack.environment, total)
        clients = register_clients(services, total)
        buyer = Buyer(services, webhook.handler, settings.pix.webhook_secret, settings.table_name, stack.psp)
        sources = saga_event_sources(stack.provisioned, expiry_interval=60)
        with sources:
            buyer.buy(clients[0], vehicles[0])  # warm every handler once

            sequential = [buyer.buy(clients[n], vehicles[n]) for n in range(1, SEQUENTIAL)]

            started = time.perf_counter()
            burst_range = slice(SEQUENTIAL, SEQUENTIAL + CONCURRENT)
            with ThreadPoolExecutor(CONCURRENT) as pool:
                burst = list(pool.map(buyer.buy, clients[burst_range], vehicles[burst_range]))
            elapsed = time.perf_counter() - started

            _settle(stack.endpoint)
            _requests(stack.endpoint, "DELETE")
            before = {source.name: (source.batches, source.records) for source in sources.sources}
            seconds_before = handler_seconds_by_source(sources)
            counted = range(SEQUENTIAL + CONCURRENT, SEQUENTIAL + CONCURRENT + COUNTED)
            counted_sales = [buyer.buy(clients[n], vehicles[n]) for n in counted]
            _settle(stack.endpoint)
            counts = _requests(stack.endpoint)
            invocations = sum(source.batches - before[source.name][0] for source in sources.sources)
            delivered = sum(
                source.records - before[source.name][1]
                for source in sources.sources
                if source.name not in {"outbox-relay", "payment-expiry"}
            )
            seconds = handler_seconds_by_source(sources)
            for name, before_seconds in seconds_before.items():
                seconds[name] -= before_seconds

            # Started only now, so that its reads stay out of the counted sales' requests.
            sources.add(Schedule("pix-reconciliation", Timed(reconcile.handler), RECONCILE_SECONDS))
            lost_range = range(counted.stop, total)
            spread = [RECONCILE_SECONDS * n / LOST for n in range(LOST)]
            with ThreadPoolExecutor(LOST) as pool:
                lost = list(
                    pool.map(
                        lambda n, delay: buyer.buy(clients[n], vehicles[n], webhook=False, delay=delay),
                        lost_range,
                        spread,
                    )
                )

    placed = summary([sale.placed_ms for sale in sequential])
    paid = summary([sale.paid_ms for sale in sequential])
    print("Purchase saga on the local stack (moto server + local event sources, one machine, 2 cores)")
    print(f"  placeOrder -> AWAITING_PAYMENT   median {placed['median_ms']:7.1f} ms   p95 {placed['p95_ms']:7.1f} ms")
    print(f"  payment -> COMPLETED             median {paid['median_ms']:7.1f} ms   p95 {paid['p95_ms']:7.1f} ms")
    print(f"    ({len(sequential)} sales one after another, read from each order's history)")
    recovered = summary([sale.paid_ms for sale in lost])
    lag = settings.pix.reconcile_lag_seconds
    median, p95 = recovered["median_ms"], recovered["p95_ms"]
    print(f"  webhook lost -> COMPLETED        median {median:7.1f} ms   p95 {p95:7.1f} ms")
    print(
        f"    ({LOST} payments spread over one period: reconciliation every {RECONCILE_SECONDS:.0f} s, "
        f"{lag} s lag; bound: period + lag + the saga)"
    )
    rate = len(burst) / elapsed
    print(f"  throughput: {len(burst)} concurrent buyers completed in {elapsed:.2f} s = {rate:.1f} sales/s")

    per_sale = {
        service: {operation: n / COUNTED for operation, n in operations.items()}
        for service, operations in counts.get("application", {}).items()
    }
    print(f"  AWS requests per completed sale, made by the platform's code (mean of {COUNTED} sales):")
    for service, operations in sorted(per_sale.items()):
        detail = ", ".join(f"{operation} {n:.1f}" for operation, n in sorted(operations.items()))
        print(f"    {service:<16} {sum(n for op, n in operations.items() if '.' not in op):5.1f}   ({detail})")
    lambda_requests = 2 + invocations / COUNTED
    messages = delivered / COUNTED
    steps = lambda_requests - 2
    print(f"    Lambda invocations {lambda_requests:.1f} (placeOrder and webhook 2, relay and saga steps {steps:.1f})")
    print(f"    SQS messages delivered to saga steps {messages:.1f}: Lambda's pollers receive and delete each")
    # Lambda's pollers: at worst one receive and one delete per message (batching only lowers it).
    per_sale["sqs"] = {**per_sale.get("sqs", {}), "ReceiveMessage+DeleteMessage": 2 * messages}
    # Each function's time at the memory the CDK app gives it (platform_spec/functions.py); placeOrder and the
    # webhook ran in this process, timed around their calls.
    seconds[GRAPHQL_API] = sum(sale.place_seconds for sale in counted_sales)
    seconds[PIX_WEBHOOK] = sum(sale.webhook_seconds for sale in counted_sales)
    lambda_seconds = sum(seconds.values()) / COUNTED
    gb_seconds = sum(spent * MEMORY_MB[name] / 1024 for name, spent in seconds.items()) / COUNTED
    costs = cost_per_million_sales(per_sale, lambda_requests, gb_seconds)
    memory = f"{1024 * gb_seconds / lambda_seconds:.0f} MB" if lambda_seconds else "-"
    print(
        f"  cost per million sales, on-demand USD (Lambda arm64, {lambda_seconds:.2f} s per sale at each function's"
        f" memory, {memory} on average):"
    )
    for item, usd in costs.items():
        print(f"    {item:<40} {usd:8.2f}")
    print(f"    {'total (SES aside)':<40} {sum(costs.values()):8.2f}")


if __name__ == "__main__":
    main()
