"""Batch order files into the saga: each file reported once, its good orders placed under the right client, the
staff told about the rest; a file read twice (a redelivered notification) places nothing twice."""

from __future__ import annotations

import copy
import json
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import pytest

from domain.batch_orders import (
    MAX_FILE_BYTES,
    BatchIntake,
    BatchOrders,
    DroppedFile,
    StaffNotice,
    batch_client_id,
    is_report,
    rejection_notices,
    report_key,
)
from domain.clients import Client, register_client
from domain.intake import BatchReport, IntakeOrder, validate_order
from domain.order_status import CancellationReason, OrderStatus
from domain.values import Cpf, Money
from persistence.memory import MemoryClientStore
from sagas.adapters import sns_subject
from sagas.intake_adapters import batches
from tests.unit.factories import CPF_ANA, CPF_BRUNO, address_input, make_product
from tests.unit.saga_fakes import ANA, Saga, ana
from tests.unit.test_intake import VALID_SEED_TEXT

MARIANA_EMAIL = "mariana.alves@example.com"
# Seed 002's example order, with a CPF and a CNPJ whose check digits are right (the seed's are placeholders).
SEED_002_ORDER: dict[str, Any] = json.loads(VALID_SEED_TEXT)


def seed_002_order(
    order_id: str = "ORD-20231001-0001", *, cpf: str = CPF_ANA, email: str = MARIANA_EMAIL, first_name: str = "Mariana"
) -> dict[str, Any]:
    """Seed 002's example order (one smartphone, two headphones: R$ 2800.00) under another id and customer."""
    order = copy.deepcopy(SEED_002_ORDER)
    order["order_id"] = order_id
    order["customer"] |= {"cpf": cpf, "email": email, "first_name": first_name}
    return order


def intake_order(document: dict[str, Any]) -> IntakeOrder:
    order = validate_order(json.loads(json.dumps(document)))
    assert isinstance(order, IntakeOrder), order
    return order


def seed_products() -> list[Any]:
    return [
        make_product(sku="PRD-1001", description="Smartphone XYZ", unit_price="2500.00", stock_on_hand=10),
        make_product(sku="PRD-2002", description="Fone de Ouvido Bluetooth", unit_price="150.00", stock_on_hand=10),
    ]


def mariana_elsewhere(now: datetime) -> Client:
    """Another person (Bruno's CPF) already registered with the email the file gives Mariana."""
    return register_client(
        client_id="client-other",
        name="Bruno Lima",
        cpf=CPF_BRUNO,
        email=MARIANA_EMAIL,
        phone="(11) 98765-4321",
        address=address_input(),
        now=now,
    )


def batch_orders(saga: Saga) -> BatchOrders:
    return BatchOrders(clients=saga.clients, purchase=saga.purchase, clock=saga.clock)


# --- placing one order ---------------------------------------------------------------------------------------------


def test_a_customer_the_platform_does_not_know_is_registered_from_the_order_and_buys() -> None:
    saga = Saga.build(clients=(), products=seed_products())

    placed = batch_orders(saga).place(intake_order(seed_002_order()))

    client = saga.clients.get(batch_client_id(Cpf.parse(CPF_ANA)))
    assert client is not None
    assert (client.id, client.name, client.email.value) == ("batch-52998224725", "Mariana Alves", MARIANA_EMAIL)
    assert client.address.city == "Rio de Janeiro"
    assert placed.id == "ORD-20231001-0001"
    assert placed.client_id == client.id
    assert placed.status is OrderStatus.PLACED
    assert placed.correlation_id == "batch:ORD-20231001-0001"
    assert [(item.ref_id, item.quantity, item.unit_price) for item in placed.items] == [
        ("PRD-1001", 1, Money.parse("2500.00")),
        ("PRD-2002", 2, Money.parse("150.00")),
    ]
    assert placed.total == Money.parse("2800.00")


def test_the_saga_takes_a_batch_order_on_like_any_product_order() -> None:
    saga = Saga.build(clients=(), products=seed_products())

    batch_orders(saga).place(intake_order(seed_002_order()))
    saga.run()

    order = saga.order("ORD-20231001-0001")
    assert order.status in {OrderStatus.RESERVED, OrderStatus.AWAITING_PAYMENT}
    assert saga.product("PRD-1001").stock_reserved == 1
    assert saga.product("PRD-2002").stock_reserved == 2


def test_a_registered_client_buys_under_their_own_id_whatever_the_file_calls_them() -> None:
    saga = Saga.build(clients=(ana,), products=seed_products())

    placed = batch_orders(saga).place(intake_order(seed_002_order(email="outro.email@example.com")))

    assert placed.client_id == ANA
    assert saga.clients.get(batch_client_id(Cpf.parse(CPF_ANA))) is None


def test_a_customer_whose_email_another_client_holds_is_not_registered_and_the_saga_rejects_the_order() -> None:
    saga = Saga.build(clients=(mariana_elsewhere,), products=seed_products())

    placed = batch_orders(saga).place(intake_order(seed_002_order()))
    saga.run()

    assert placed.client_id == "batch-52998224725"
    assert saga.clients.get(placed.client_id) is None
    cancelled = saga.order(placed.id)
    assert cancelled.status is OrderStatus.CANCELLED
    assert cancelled.cancellation_reason is CancellationReason.CLIENT_INVALID


class LateClients(MemoryClientStore):
    """Finds nobody by CPF the first time it is asked, as if the customer registered just after that read."""

    def __init__(self) -> None:
        super().__init__()
        self.asked = 0

    def find_by_cpf(self, cpf: Cpf) -> Client | None:
        self.asked += 1
        return None if self.asked == 1 else super().find_by_cpf(cpf)


def test_a_customer_registered_between_the_lookup_and_the_registration_buys_under_their_own_id() -> None:
    saga = Saga.build(clients=(), products=seed_products())
    clients = LateClients()
    clients.register(ana(saga.clock.now()))

    placed = BatchOrders(clients=clients, purchase=saga.purchase, clock=saga.clock).place(
        intake_order(seed_002_order())
    )

    assert placed.client_id == ANA
    assert clients.asked == 2


def test_an_order_delivered_twice_is_placed_once() -> None:
    saga = Saga.build(clients=(), products=seed_products())
    order = intake_order(seed_002_order())

    first = batch_orders(saga).place(order)
    second = batch_orders(saga).place(IntakeOrder.from_json(order.to_json()))

    assert second == saga.order(first.id)
    assert (second.client_id, second.items) == (first.client_id, first.items)
    assert saga.written_types(first.id) == ["OrderPlaced"]


def test_two_orders_of_one_new_customer_share_the_client_registered_for_the_first() -> None:
    saga = Saga.build(clients=(), products=seed_products())

    first = batch_orders(saga).place(intake_order(seed_002_order("ORD-A")))
    second = batch_orders(saga).place(intake_order(seed_002_order("ORD-B")))

    assert first.client_id == second.client_id == "batch-52998224725"


# --- one dropped file ------------------------------------------------------------------------------------------------


@dataclass
class FakeFiles:
    """The bucket's reports, as S3BatchFiles keeps them: one per key, naming the upload it reports on."""

    log: list[str]
    reports: dict[str, tuple[str, BatchReport]] = field(default_factory=dict)

    def accepted_before(self, file: DroppedFile) -> Collection[str]:
        version, report = self.reports.get(report_key(file.key), ("", None))
        return [order.order_id for order in report.accepted] if report and version == file.version else []

    def write_report(self, file: DroppedFile, report: BatchReport) -> None:
        self.log.append("report")
        self.reports[report_key(file.key)] = (file.version, report)


@dataclass
class FakeQueue:
    log: list[str]
    sent: list[IntakeOrder] = field(default_factory=list)

    def send(self, orders: Sequence[IntakeOrder]) -> None:
        self.log.append("queue")
        self.sent.extend(orders)


@dataclass
class FakeTopic:
    log: list[str]
    published: list[StaffNotice] = field(default_factory=list)

    def publish(self, notices: Sequence[StaffNotice]) -> None:
        self.log.append("staff")
        self.published.extend(notices)


@dataclass
class Intake:
    saga: Saga
    files: FakeFiles
    queue: FakeQueue
    staff: FakeTopic
    log: list[str]

    @classmethod
    def build(cls) -> Intake:
        saga = Saga.build(clients=(), products=seed_products())
        log: list[str] = []
        return cls(saga, FakeFiles(log), FakeQueue(log), FakeTopic(log), log)

    def take(self, content: bytes | None, *, version: str = "v1", key: str = "incoming/pedidos.json") -> BatchReport:
        intake = BatchIntake(
            files=self.files, queue=self.queue, staff=self.staff, products=self.saga.products, orders=self.saga.store
        )
        size = MAX_FILE_BYTES + 1 if content is None else len(content)
        return intake.take(DroppedFile(bucket="intake", key=key, version=version, size=size, content=content))

    def place_queued(self) -> None:
        for order in self.queue.sent:
            batch_orders(self.saga).place(order)


def file_of(*orders: dict[str, Any]) -> bytes:
    return json.dumps(list(orders), ensure_ascii=False).encode()


def test_a_file_is_reported_then_its_good_orders_queued_then_the_staff_told_of_each_bad_one() -> None:
    intake = Intake.build()
    bad = seed_002_order("ORD-BAD", cpf="123.456.789-00")

    report = intake.take(file_of(seed_002_order("ORD-GOOD"), bad))

    assert intake.log == ["report", "queue", "staff"]
    assert intake.files.reports["incoming/pedidos.json.report.json"] == ("v1", report)
    assert [order.order_id for order in intake.queue.sent] == ["ORD-GOOD"]
    [notice] = intake.staff.published
    assert notice.subject == "Pedido rejeitado: ORD-BAD"
    assert notice.message == {
        "type": "BatchOrderRejected",
        "file": "incoming/pedidos.json",
        "index": 1,
        "orderId": "ORD-BAD",
        "errors": [{"field": "customer.cpf", "code": "VALIDATION", "message": "CPF is not valid"}],
    }


def test_reading_the_same_upload_again_reaches_the_same_verdict_and_places_nothing_twice() -> None:
    intake = Intake.build()
    content = file_of(seed_002_order("ORD-1"), seed_002_order("ORD-2"))
    first = intake.take(content)
    intake.place_queued()

    again = intake.take(content)
    intake.place_queued()

    assert again == first
    assert [order.order_id for order in again.accepted] == ["ORD-1", "ORD-2"]
    assert sorted(order.id for order in intake.saga.store.list_orders(None, 10, None).items) == ["ORD-1", "ORD-2"]
    assert intake.saga.written_types("ORD-1") == ["OrderPlaced"]


def test_dropping_the_same_file_again_rejects_each_order_it_placed_as_a_conflict() -> None:
    intake = Intake.build()
    content = file_of(seed_002_order("ORD-1"))
    intake.take(content, version="v1")
    intake.place_queued()

    again = intake.take(content, version="v2")

    assert again.accepted == ()
    [rejected] = again.rejected
    assert [(error.field, error.code) for error in rejected.errors] == [("order_id", "CONFLICT")]
    assert [notice.subject for notice in intake.staff.published] == ["Pedido rejeitado: ORD-1"]


def test_a_file_that_is_not_json_is_reported_whole_in_one_notice() -> None:
    intake = Intake.build()

    report = intake.take(b"order_id;cpf\nORD-1;529.982.247-25\n", key="incoming/pedidos.csv.json")

    assert report.file_error is not None
    assert report.file_error.startswith("file is not valid JSON")
    assert intake.queue.sent == []
    [notice] = intake.staff.published
    assert notice.subject == "Arquivo de pedidos rejeitado: incoming/pedidos.csv.json"
    assert notice.message == {
        "type": "BatchFileRejected",
        "file": "incoming/pedidos.csv.json",
        "error": report.file_error,
    }


def test_a_file_too_big_to_read_is_rejected_whole_unread() -> None:
    intake = Intake.build()

    report = intake.take(None)

    assert (
        report.file_error == f"file is {MAX_FILE_BYTES + 1} bytes; at most 10 MB are read (split it into smaller files)"
    )
    assert len(intake.staff.published) == 1


def test_a_rejected_order_without_an_id_is_named_by_its_place_in_the_file() -> None:
    document = seed_002_order()
    del document["order_id"]
    intake = Intake.build()

    report = intake.take(file_of(seed_002_order("ORD-1"), document), key="incoming/x.json")

    assert [notice.subject for notice in rejection_notices(report)] == [
        "Pedido rejeitado: pedido [1] de incoming/x.json"
    ]


@pytest.mark.parametrize(
    ("key", "report"),
    [("incoming/a.json", False), ("incoming/a.json.report.json", True), ("incoming/a.report.json.bak", False)],
)
def test_reports_are_told_apart_from_the_files_they_report_on(key: str, report: bool) -> None:
    assert is_report(key) is report
    assert is_report(report_key(key))


# --- the adapters' batching ------------------------------------------------------------------------------------------


def test_entries_go_out_ten_at_a_time_and_never_over_256_kib_a_request() -> None:
    assert [len(batch) for batch in batches(list(range(23)), lambda _: 1)] == [10, 10, 3]
    sizes = [100 * 1024, 100 * 1024, 100 * 1024, 10]
    assert list(batches(sizes, lambda size: size)) == [sizes[:2], sizes[2:]]


def test_a_subject_is_made_printable_ascii_and_short_enough_for_sns() -> None:
    subject = sns_subject("Pedido rejeitado: ORDÉM\n" + "x" * 200)

    assert subject.startswith("Pedido rejeitado: ORD?M?xxx")
    assert len(subject) == 99
