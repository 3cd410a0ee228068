"""Batch order files through the running platform on the emulator: a file dropped in the intake bucket reaches the
file handler through the bucket's notification, its report is written next to it, its good orders go through the
FIFO queue into the saga, and each bad one is published on the order-errors topic."""

from __future__ import annotations

import json
import random
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import boto3
import pytest

pytest_plugins = ["tests.integration.saga_harness"]

from domain.batch_orders import batch_client_id, report_key  # noqa: E402
from domain.order_status import OrderStatus  # noqa: E402
from domain.orders import Order  # noqa: E402
from domain.values import Cpf  # noqa: E402
from local_stack.operations import staff_notifications  # noqa: E402
from platform_spec.messaging import INTAKE_FILES_QUEUE, INTAKE_ORDERS_QUEUE  # noqa: E402
from platform_spec.storage import INTAKE_BUCKET  # noqa: E402
from sagas.intake_adapters import intake_services  # noqa: E402
from tests.integration.saga_harness import SagaHarness, Timeout, make_cpf, wait_until  # noqa: E402
from tests.unit.test_batch_orders import seed_002_order  # noqa: E402

UNDER_WAY = {OrderStatus.RESERVED, OrderStatus.AWAITING_PAYMENT}
REPORT_TIMEOUT = 30.0
# The seed's example, verbatim: its CPF's check digits are wrong.
SEED_CPF = "123.456.789-00"


@dataclass
class Intake:
    """The intake bucket and topic as the staff see them, over the running saga."""

    saga: SagaHarness
    s3: Any

    def stock(self, phones: int = 10, headsets: int = 20) -> None:
        catalog = self.saga.services.catalog
        catalog.create_product(
            sku="PRD-1001", description="Smartphone XYZ", unit_price=Decimal("2500.00"), initial_stock=phones
        )
        catalog.create_product(
            sku="PRD-2002", description="Fone de Ouvido Bluetooth", unit_price=Decimal("150.00"), initial_stock=headsets
        )

    def drop(self, content: bytes | str | Any, name: str = "pedidos.json", *, key: str | None = None) -> str:
        """Upload a file (bytes or text as they are, anything else as JSON); returns its key."""
        if not isinstance(content, bytes | str):
            content = json.dumps(content, ensure_ascii=False)
        key = key or f"incoming/{uuid.uuid4().hex[:8]}-{name}"
        self.s3.put_object(Bucket=INTAKE_BUCKET, Key=key, Body=content)
        return key

    def report(self, key: str, *, timeout: float = REPORT_TIMEOUT) -> dict[str, Any]:
        """The file's report, once written."""

        def written() -> dict[str, Any] | None:
            try:
                response = self.s3.get_object(Bucket=INTAKE_BUCKET, Key=report_key(key))
            except self.s3.exceptions.NoSuchKey:
                return None
            assert response["ContentType"] == "application/json"
            report: dict[str, Any] = json.loads(response["Body"].read())
            return report

        found: dict[str, Any] = wait_until(written, f"the report of {key}", timeout)
        return found

    def notices(self, key: str, count: int, timeout: float = 10.0) -> list[dict[str, Any]]:
        """The messages about file `key` on the order-errors topic, once there are `count` of them."""

        def published() -> list[dict[str, Any]] | None:
            about = [
                {**notice, "body": json.loads(notice["body"])}
                for notice in staff_notifications(self.saga.local_config)
                if notice["topic"] == "order-errors" and json.loads(notice["body"])["file"] == key
            ]
            return about if len(about) >= count else None

        found: list[dict[str, Any]] = wait_until(published, f"{count} notice(s) about {key}", timeout)
        return found

    def under_way(self, order_id: str, timeout: float = 30.0) -> Order:
        return self.saga.wait_for(order_id, lambda order: order.status in UNDER_WAY, timeout, "to be under way")

    def drain(self) -> None:
        for spec in (INTAKE_FILES_QUEUE, INTAKE_ORDERS_QUEUE):
            for name in (spec.queue_name, spec.dlq_name):
                url = self.saga.sqs.get_queue_url(QueueName=name)["QueueUrl"]
                while batch := self.saga.sqs.receive_message(
                    QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=30
                ).get("Messages", []):
                    entries = [{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(batch)]
                    self.saga.sqs.delete_message_batch(QueueUrl=url, Entries=entries)


@pytest.fixture
def intake(saga: SagaHarness) -> Iterator[Intake]:
    """The saga running with the intake's pollers; the intake's services rebuilt from this test's settings."""
    intake_services.reset()
    s3 = boto3.session.Session().client("s3", endpoint_url=saga.emulator, region_name=saga.settings.region)
    helper = Intake(saga, s3)
    helper.drain()
    try:
        yield helper
    finally:
        helper.drain()
        intake_services.reset()


def order_id() -> str:
    return f"ORD-{uuid.uuid4().hex[:12].upper()}"


def test_seed_002s_example_with_valid_documents_becomes_an_order_the_saga_takes_on(intake: Intake) -> None:
    # Given the seed's products in stock, and its example order (one object) with a valid CPF and CNPJ
    intake.stock()
    order = seed_002_order(order_id())
    # When the file is dropped
    key = intake.drop(order)
    report = intake.report(key)
    # Then the report accepts it, and the saga reserves its stock
    assert report == {"file": key, "accepted": [order["order_id"]], "rejected": [], "fileError": None}
    placed = intake.under_way(order["order_id"])
    assert placed.client_id == batch_client_id(Cpf.parse(order["customer"]["cpf"]))
    assert placed.correlation_id == f"batch:{order['order_id']}"
    assert str(placed.total) == "2800.00"
    client = intake.saga.services.clients.get(placed.client_id)
    assert client is not None
    assert (client.name, client.email.value) == ("Mariana Alves", "mariana.alves@example.com")


def test_seed_002s_example_as_written_is_rejected_for_its_cpf_in_the_report_and_on_the_topic(intake: Intake) -> None:
    intake.stock()
    order = seed_002_order(order_id(), cpf=SEED_CPF)
    order["company"]["cnpj"] = "11.222.333/0001-81"

    key = intake.drop([order])
    report = intake.report(key)
    [notice] = intake.notices(key, 1)

    assert report["accepted"] == []
    [rejected] = report["rejected"]
    assert rejected["orderId"] == order["order_id"]
    assert rejected["errors"] == [{"field": "customer.cpf", "code": "VALIDATION", "message": "CPF is not valid"}]
    assert notice["subject"] == f"Pedido rejeitado: {order['order_id']}"
    assert notice["body"]["errors"] == rejected["errors"]
    assert intake.saga.services.orders.get_order(order["order_id"]) is None


def test_a_file_of_a_hundred_orders_ten_of_them_bad_yields_ninety_orders_and_ten_errors(intake: Intake) -> None:
    # Given stock for exactly ninety orders (one phone and two headsets each)
    intake.stock(phones=90, headsets=180)
    rng = random.Random(2)
    # ...and thirty-three customers with three or four orders each, every tenth order bad (in one of two ways)
    customers = [(make_cpf(rng), f"cliente{n}-{uuid.uuid4().hex[:6]}@example.com") for n in range(33)]
    orders = []
    for n in range(100):
        cpf, email = customers[n % 33]
        order = seed_002_order(order_id(), cpf=cpf, email=email)
        if n % 20 == 5:
            order["customer"]["cpf"] = SEED_CPF
        elif n % 20 == 15:
            order["items"][1]["quantity"] = 0
        orders.append(order)
    bad = {n for n in range(100) if n % 10 == 5}

    key = intake.drop(orders)
    report = intake.report(key)
    notices = intake.notices(key, 10)
    good = [order["order_id"] for n, order in enumerate(orders) if n not in bad]
    placed = [intake.under_way(order_id, timeout=90) for order_id in good]

    assert report["accepted"] == good
    assert [rejected["index"] for rejected in report["rejected"]] == sorted(bad)
    assert {rejected["errors"][0]["field"] for rejected in report["rejected"]} == {
        "customer.cpf",
        "items[1].quantity",
    }
    assert sorted(notice["body"]["index"] for notice in notices) == sorted(bad)
    assert len({order.client_id for order in placed}) == 33
    phones = intake.saga.services.products.get("PRD-1001")
    assert phones is not None
    assert (phones.stock_reserved, phones.stock_available) == (90, 0)


def test_a_file_that_is_not_json_is_reported_whole(intake: Intake) -> None:
    key = intake.drop(b"order_id;cpf\nORD-1;529.982.247-25\n", "pedidos.csv.json")

    report = intake.report(key)
    [notice] = intake.notices(key, 1)

    assert report["accepted"] == report["rejected"] == []
    assert report["fileError"].startswith("file is not valid JSON")
    assert notice["subject"] == f"Arquivo de pedidos rejeitado: {key}"
    assert notice["body"] == {"type": "BatchFileRejected", "file": key, "error": report["fileError"]}


def test_dropping_the_same_file_twice_places_each_order_once(intake: Intake) -> None:
    intake.stock()
    orders = [seed_002_order(order_id()), seed_002_order(order_id(), cpf=make_cpf(), email="joao@example.com")]
    first_key = intake.drop(orders)
    assert len(intake.report(first_key)["accepted"]) == 2
    for order in orders:
        intake.under_way(order["order_id"])

    second_key = intake.drop(orders)
    second = intake.report(second_key)
    intake.notices(second_key, 2)

    assert second["accepted"] == []
    assert [
        (rejected["orderId"], [(error["field"], error["code"]) for error in rejected["errors"]])
        for rejected in second["rejected"]
    ] == [(order["order_id"], [("order_id", "CONFLICT")]) for order in orders]
    listed = intake.saga.services.orders.list_orders(None, 20, None).items
    assert sorted(order.id for order in listed) == sorted(order["order_id"] for order in orders)


def test_a_notification_delivered_twice_keeps_the_files_first_verdict(intake: Intake) -> None:
    # Given a file read once, its order placed
    intake.stock()
    order = seed_002_order(order_id())
    key = intake.drop([order])
    first = intake.report(key)
    intake.under_way(order["order_id"])
    # When SQS delivers the bucket's notification for that upload once more
    delivered = intake.saga.delivered(INTAKE_FILES_QUEUE.name)
    notification = {
        "Records": [
            {
                "eventVersion": "2.1",
                "eventSource": "aws:s3",
                "eventName": "ObjectCreated:Put",
                "s3": {"bucket": {"name": INTAKE_BUCKET}, "object": {"key": key}},
            }
        ]
    }
    intake.saga.send_to_queue(INTAKE_FILES_QUEUE.name, json.dumps(notification))
    wait_until(
        lambda: (
            intake.saga.delivered(INTAKE_FILES_QUEUE.name) > delivered
            and intake.saga.queue_depth(INTAKE_FILES_QUEUE.name) == 0
        ),
        "the notification's second delivery to be handled",
    )
    again = intake.report(key)
    # Then the file is read again: the order it accepted is not reported as a conflict with itself, nor placed twice
    versions = intake.s3.list_object_versions(Bucket=INTAKE_BUCKET, Prefix=report_key(key))["Versions"]
    assert len(versions) == 2
    assert again == first
    assert [event.event_type.value for event in intake.saga.outbox(order["order_id"])].count("OrderPlaced") == 1


def test_reports_and_the_buckets_test_event_are_passed_over(intake: Intake) -> None:
    intake.saga.send_to_queue(
        INTAKE_FILES_QUEUE.name, json.dumps({"Service": "Amazon S3", "Event": "s3:TestEvent", "Bucket": INTAKE_BUCKET})
    )
    key = intake.drop([seed_002_order(order_id())])
    intake.report(key)

    with pytest.raises(Timeout):
        intake.report(report_key(key), timeout=2)
    assert intake.saga.failures() == 0
