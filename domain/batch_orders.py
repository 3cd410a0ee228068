"""Batch order files (seed 002): each file read once into a report, its good orders placed into the purchase saga,
the staff told about the rest.

`BatchIntake` takes one dropped file: reviews it (domain.intake), writes the report next to it, queues the accepted
orders and publishes one notice per rejected order. `BatchOrders` then places each queued order.

A file's order names its customer by CPF, not by a client id: the client registered with that CPF buys it, and a
customer the platform does not know yet is registered from the order's own details, under the id `batch-<CPF>`.
From there the order is an ordinary product order: the saga validates the client, reserves the stock, and so on.

A file notification can arrive more than once (SQS delivers at least once, and a failed attempt is retried). The
second reading of the same file must not turn the orders it accepted the first time into duplicates of themselves:
`StoredOrders` leaves those out of the "already exists" check, so the retry's verdict is the first one's.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from domain.clients import register_client
from domain.errors import Conflict
from domain.intake import BatchReport, IntakeCustomer, IntakeOrder, ProductCatalog, review_batch
from domain.orders import Order, ProductLine
from domain.ports import ClientStore, Clock, OrderReader
from domain.purchase import Purchase
from domain.values import AddressFields, Cpf

# Far above a thousand orders of seed 002's size (about 1.5 KB each), far below what a function's memory holds.
MAX_FILE_BYTES = 10 * 1024 * 1024
# The report lies next to its file, and ends in ".json" too: the reader of dropped files must pass over it.
REPORT_SUFFIX = ".report.json"


def report_key(key: str) -> str:
    return f"{key}{REPORT_SUFFIX}"


def is_report(key: str) -> bool:
    return key.endswith(REPORT_SUFFIX)


def batch_client_id(cpf: Cpf) -> str:
    """The id of a client registered from a batch file: stable, so that every file names the same client."""
    return f"batch-{cpf.value}"


@dataclass(frozen=True, slots=True)
class BatchOrders:
    clients: ClientStore
    purchase: Purchase
    clock: Clock

    def place(self, order: IntakeOrder) -> Order:
        """Place one accepted order as PLACED (the saga takes it on); a second delivery returns the first order."""
        return self.purchase.place_batch_order(
            order_id=order.order_id,
            client_id=self._buyer(order.customer),
            lines=[ProductLine(line.product_id, line.quantity) for line in order.lines],
            prices={line.product_id: line.unit_price for line in order.lines},
            correlation_id=f"batch:{order.order_id}",
        )

    def _buyer(self, customer: IntakeCustomer) -> str:
        # The CPF is the person: a known client buys under their own id, even if the file spells their name, email
        # or address differently (the registered details are theirs to change, not a file's).
        known = self.clients.find_by_cpf(customer.cpf)
        if known is not None:
            return known.id
        client_id = batch_client_id(customer.cpf)
        client = register_client(
            client_id=client_id,
            name=customer.name,
            cpf=customer.cpf.value,
            email=customer.email.value,
            phone=customer.phone.value,
            address=AddressFields.of(customer.address),
            now=self.clock.now(),
        )
        try:
            self.clients.register(client)
        except Conflict:
            # A concurrent registration of the same CPF (another order of this customer, or the customer signing
            # up) won: theirs is the client.
            raced = self.clients.find_by_cpf(customer.cpf)
            if raced is not None:
                return raced.id
            # The email belongs to another client, so this customer cannot be registered. The order is still
            # placed, under the id nobody holds: the saga's validate-client step then rejects it (CLIENT_INVALID)
            # and the order is there to see, with its reason, rather than lost here.
        return client_id


class StoredOrders:
    """The intake's view of the orders that exist (domain.intake.KnownOrders), over the order store.

    `accepted_before` are the orders an earlier reading of the same file accepted: they exist because of that
    reading, so they are not reported as conflicts when the file is read again.
    """

    def __init__(self, orders: OrderReader, accepted_before: Collection[str] = ()) -> None:
        self._orders = orders
        self._accepted_before = frozenset(accepted_before)

    def existing(self, order_ids: Iterable[str]) -> set[str]:
        wanted = [order_id for order_id in order_ids if order_id not in self._accepted_before]
        return self._orders.existing_order_ids(wanted) if wanted else set()


def oversized_file(file: str, size: int) -> BatchReport:
    """The report of a file too big to read: rejected whole, before a byte of it is loaded."""
    limit = MAX_FILE_BYTES // (1024 * 1024)
    error = f"file is {size} bytes; at most {limit} MB are read (split it into smaller files)"
    return BatchReport(file=file, accepted=(), rejected=(), file_error=error)


@dataclass(frozen=True, slots=True)
class StaffNotice:
    """One message for the staff who drop the files (by email, through the order-errors topic on AWS)."""

    subject: str
    message: dict[str, Any]


def rejection_notices(report: BatchReport) -> list[StaffNotice]:
    """One notice per rejected order, every fault in it, so that each can be fixed and sent again on its own; or
    one for the whole file when it could not be read as orders."""
    if report.file_error is not None:
        return [
            StaffNotice(
                subject=f"Arquivo de pedidos rejeitado: {report.file}",
                message={"type": "BatchFileRejected", "file": report.file, "error": report.file_error},
            )
        ]
    return [
        StaffNotice(
            subject=f"Pedido rejeitado: {rejected.order_id or f'pedido [{rejected.index}] de {report.file}'}",
            message={
                "type": "BatchOrderRejected",
                "file": report.file,
                "index": rejected.index,
                "orderId": rejected.order_id,
                "errors": [
                    {"field": error.field, "code": error.code, "message": error.message} for error in rejected.errors
                ],
            },
        )
        for rejected in report.rejected
    ]


# --- one dropped file ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DroppedFile:
    bucket: str
    key: str
    # Which upload of `key` this is: a file dropped again under the same name is another file.
    version: str
    size: int
    # None when the file is over MAX_FILE_BYTES, and so was not read.
    content: bytes | None


class BatchFiles(Protocol):
    def accepted_before(self, file: DroppedFile) -> Collection[str]:
        """The order ids the report of this same version of the file accepted, if an earlier reading wrote one."""
        ...

    def write_report(self, file: DroppedFile, report: BatchReport) -> None: ...


class OrderQueue(Protocol):
    def send(self, orders: Sequence[IntakeOrder]) -> None:
        """Queue the orders for BatchOrders, in order per customer; an order queued twice is placed once."""
        ...


class StaffTopic(Protocol):
    def publish(self, notices: Sequence[StaffNotice]) -> None: ...


@dataclass(frozen=True, slots=True)
class BatchIntake:
    files: BatchFiles
    queue: OrderQueue
    staff: StaffTopic
    products: ProductCatalog
    orders: OrderReader

    def take(self, file: DroppedFile) -> BatchReport:
        """Review the file, then write its report, queue its accepted orders and tell the staff about the rest.

        The report goes first: it is the record of what this reading accepted, so that a retry after a failure
        further on (or a second delivery of the notification) reaches the same verdict and queues the same orders
        again, which places nothing twice. A retry may publish a rejection notice twice; it never loses an order.
        """
        if file.content is None:
            report = oversized_file(file.key, file.size)
        else:
            known = StoredOrders(self.orders, self.files.accepted_before(file))
            report = review_batch(file.key, file.content, products=self.products, orders=known)
        self.files.write_report(file, report)
        self.queue.send(report.accepted)
        self.staff.publish(rejection_notices(report))
        return report
