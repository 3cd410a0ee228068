"""Batch order files on the local stack: how many orders per second the intake validates, and how many per second
reach a stock reservation in the saga.

Everything runs as `make dev` runs it: moto in server mode in its own process, the intake bucket's notification
to the intake-files queue, the local event sources standing in for Lambda's (intake-files -> file handler,
intake-orders FIFO -> order handler, the table's stream -> outbox relay, each saga step's queue -> its consumer).

One warm-up file of one order first (every handler imported and its clients made), then one file of ORDERS orders
for CUSTOMERS customers (each order one phone and two headsets, stock for all of them):

- validation: the file handler's own time (read the file, review every order against the catalogue and the stored
  orders, write the report, queue the accepted orders), and the time from the upload to its report in the bucket;
- placing: the order handler's own time over all the orders (client found or registered, order written);
- reservation: from the upload to the last order's stock reservation, read from each order's history (the time
  the reserve step committed), so that watching the orders does not slow them down;
- for reference, the domain's review alone (domain.intake.review_batch over in-memory stores).

Run: `.venv/bin/python -m bench.intake`.
"""

from __future__ import annotations

import json
import time
import uuid
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from bench.support import emulated_platform
from tests.conftest import free_port

ORDERS = 200
CUSTOMERS = 50
POLL_SECONDS = 0.05
WATCH_SECONDS = 0.5
TIMEOUT_SECONDS = 180
REVIEW_RUNS = 5


def order_document(order_id: str, customer: int) -> dict[str, Any]:
    """Seed 002's example order, for customer number `customer` (a CPF and an email of their own)."""
    from domain.values import Cpf
    from tests.unit.test_batch_orders import seed_002_order

    cpf = Cpf.complete(f"{200000000 + customer * 7919:09d}")
    return seed_002_order(order_id, cpf=str(cpf), email=f"cliente{customer}@example.com")


def batch_file(count: int, tag: str) -> bytes:
    orders = [order_document(f"ORD-{tag}-{n:04d}", n % CUSTOMERS) for n in range(count)]
    return json.dumps(orders, ensure_ascii=False).encode()


def upload(s3: Any, bucket: str, key: str, content: bytes) -> float:
    """Drop the file; returns when it was dropped (time.time())."""
    started = time.time()
    s3.put_object(Bucket=bucket, Key=key, Body=content)
    return started


def wait_for_report(s3: Any, bucket: str, key: str) -> dict[str, Any]:
    from botocore.exceptions import ClientError

    from domain.batch_orders import report_key

    deadline = time.monotonic() + TIMEOUT_SECONDS
    while True:
        try:
            report: dict[str, Any] = json.loads(s3.get_object(Bucket=bucket, Key=report_key(key))["Body"].read())
        except ClientError:
            if time.monotonic() > deadline:
                raise TimeoutError(f"no report for {key}") from None
            time.sleep(POLL_SECONDS)
        else:
            return report


def wait_until_reserved(services: Any, order_ids: list[str]) -> list[Any]:
    """Every order once past its reservation (RESERVED, AWAITING_PAYMENT); fails on any other outcome."""
    under_way = {"RESERVED", "AWAITING_PAYMENT"}
    deadline = time.monotonic() + TIMEOUT_SECONDS
    while True:
        orders = services.orders.get_orders(order_ids)
        if len(orders) == len(order_ids) and all(order.status.value in under_way for order in orders.values()):
            return list(orders.values())
        stuck = [order for order in orders.values() if order.status.value in {"CANCELLED", "PENDING_STOCK"}]
        if stuck:
            raise AssertionError(f"{len(stuck)} order(s) did not get their stock, e.g. {stuck[0]}")
        if time.monotonic() > deadline:
            raise TimeoutError(f"{len(order_ids) - len(orders)} order(s) missing after {TIMEOUT_SECONDS} s")
        time.sleep(WATCH_SECONDS)


def reserved_at(order: Any) -> datetime:
    moment: datetime = next(entry.at for entry in order.history if entry.event == "InventoryReserved")
    return moment


def review_alone(content: bytes) -> float:
    """Orders per second through domain.intake.review_batch alone, over in-memory stores (best of a few runs)."""
    from domain.batch_orders import StoredOrders
    from domain.intake import review_batch
    from persistence.memory import MemoryClientStore, MemoryProductStore, MemoryPurchaseStore, MemoryVehicleStore
    from runtime.clock import SystemClock
    from tests.unit.factories import cursor_codec, make_product

    codec = cursor_codec()
    products = MemoryProductStore(codec)
    now = SystemClock().now()
    products.add(make_product(sku="PRD-1001", unit_price="2500.00", now=now))
    products.add(make_product(sku="PRD-2002", unit_price="150.00", now=now))
    orders = MemoryPurchaseStore(MemoryVehicleStore(codec), MemoryClientStore(), codec, products)
    best = float("inf")
    for _ in range(REVIEW_RUNS):
        started = time.perf_counter()
        report = review_batch("bench.json", content, products=products, orders=StoredOrders(orders))
        best = min(best, time.perf_counter() - started)
        assert len(report.accepted) == ORDERS, report.rejected[:1]
    return ORDERS / best


def main() -> None:
    with emulated_platform(free_port()) as stack:
        import boto3

        from composition.aws import api_services
        from local_stack.platform import Timed, saga_event_sources
        from platform_spec.storage import INTAKE_BUCKET
        from runtime.settings import Settings, get_settings

        get_settings.cache_clear()
        services = api_services(Settings.from_env(stack.environment))
        catalog = services.catalog
        catalog.create_product(
            sku="PRD-1001", description="Smartphone XYZ", unit_price=Decimal("2500.00"), initial_stock=ORDERS + 1
        )
        catalog.create_product(
            sku="PRD-2002",
            description="Fone de Ouvido Bluetooth",
            unit_price=Decimal("150.00"),
            initial_stock=2 * (ORDERS + 1),
        )
        s3 = boto3.session.Session().client("s3")
        tag = uuid.uuid4().hex[:6].upper()
        content = batch_file(ORDERS, tag)
        sources = saga_event_sources(stack.provisioned, expiry_interval=60)
        with sources:
            warm_key = f"incoming/warm-{tag}.json"
            upload(s3, INTAKE_BUCKET, warm_key, json.dumps(order_document(f"ORD-{tag}-WARM", CUSTOMERS)).encode())
            wait_for_report(s3, INTAKE_BUCKET, warm_key)
            wait_until_reserved(services, [f"ORD-{tag}-WARM"])

            timed = {source.name: source.handler for source in sources.sources if isinstance(source.handler, Timed)}
            files_before, orders_before = timed["intake-files"].seconds, timed["intake-orders"].seconds
            key = f"incoming/bench-{tag}.json"
            dropped = upload(s3, INTAKE_BUCKET, key, content)
            report = wait_for_report(s3, INTAKE_BUCKET, key)
            reported = time.time()
            reserved = wait_until_reserved(services, report["accepted"])
            # Read once every order is placed: the file handler writes the report before it queues the orders.
            files_seconds = timed["intake-files"].seconds - files_before
            orders_seconds = timed["intake-orders"].seconds - orders_before

    assert len(report["accepted"]) == ORDERS, report["rejected"][:1]
    last = max(reserved_at(order) for order in reserved)
    to_report = reported - dropped
    to_reserved = (last - datetime.fromtimestamp(dropped, UTC)).total_seconds()
    print("Batch intake on the local stack (moto server + local event sources, one machine, 2 cores)")
    print(
        f"  one file of {ORDERS} orders ({len(content) / 1024:.0f} KB, {CUSTOMERS} customers, "
        "each order 1 phone + 2 headsets, all in stock)"
    )
    print(
        f"  validation, file handler's own time: {files_seconds * 1000:7.0f} ms = {ORDERS / files_seconds:6.0f} "
        "orders/s (read, review, report; then queue, while the first orders are being placed)"
    )
    print(
        f"  validation, upload -> report:        {to_report * 1000:7.0f} ms = {ORDERS / to_report:6.0f} orders/s "
        "(S3 notification, SQS, handler; report polled every 50 ms)"
    )
    print(
        f"  placing, order handler's own time:   {orders_seconds * 1000:7.0f} ms = {ORDERS / orders_seconds:6.0f} "
        f"orders/s ({CUSTOMERS} clients registered, {ORDERS} orders written)"
    )
    print(
        f"  reservation, upload -> last order reserved: {to_reserved:5.1f} s = {ORDERS / to_reserved:6.1f} orders/s "
        "(the reserve step's commit time, from each order's history)"
    )
    print(f"  for reference, domain review alone (in memory): {review_alone(content):6.0f} orders/s")


if __name__ == "__main__":
    main()
