"""The purchase saga's store on DynamoDB: every Change is one TransactWriteItems, all or nothing."""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from pynamodb.connection import Connection
from pynamodb.exceptions import TransactWriteError
from pynamodb.transactions import TransactWrite

from domain.clients import Client
from domain.errors import Conflict, StaleVersion
from domain.events import DomainEvent
from domain.order_status import CancellationReason, InvoiceStatus, OrderStatus, VehicleStatus
from domain.orders import (
    HistoryEntry,
    Invoice,
    ItemKind,
    ItemStatus,
    Order,
    OrderItem,
    Payment,
    PaymentStatus,
    Refund,
    RefundStatus,
)
from domain.pages import Page
from domain.products import Product
from domain.purchase import (
    AlreadyApplied,
    Change,
    InvoiceNumberTaken,
    KeyReused,
    PaymentChanged,
    PaymentRecord,
    StockChanged,
    StockMove,
    StockMoveKind,
    VehicleClaim,
    VehicleUnavailable,
    Wait,
)
from domain.values import Money
from domain.vehicles import Vehicle
from persistence import keys
from persistence.cursors import CursorCodec
from persistence.models import (
    CounterItem,
    MarkerItem,
    OutboxItem,
    PaymentItem,
    ProductItem,
    SaleItem,
    VehicleItem,
    WaitingItem,
)
from persistence.models import OrderItem as OrderModel
from persistence.repositories import (
    DynamoClientStore,
    DynamoProductStore,
    DynamoVehicleStore,
    cents,
    list_page,
    money,
)
from runtime.telemetry import current_trace_header

OUTBOX_RETENTION_SECONDS = 7 * 24 * 3600
# Longer than a message can live: 14 days in its queue, then up to 14 in its DLQ before a redrive.
MARKER_RETENTION_SECONDS = 35 * 24 * 3600
_CONDITION_FAILED = "ConditionalCheckFailed"


def _sort_time(moment: datetime) -> str:
    # One fixed format, in UTC, so that string order is time order in the indexes.
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def order_document(order: Order) -> str:
    return json.dumps(
        {
            "items": [
                {
                    "kind": item.kind.value,
                    "refId": item.ref_id,
                    "description": item.description,
                    "quantity": item.quantity,
                    "unitPrice": str(item.unit_price),
                    "status": None if item.status is None else item.status.value,
                }
                for item in order.items
            ],
            "history": [
                {"status": entry.status.value, "event": entry.event, "at": entry.at.isoformat(), "detail": entry.detail}
                for entry in order.history
            ],
            "payment": None
            if order.payment is None
            else {
                "code": order.payment.code,
                "amount": str(order.payment.amount),
                "expiresAt": order.payment.expires_at.isoformat(),
                "status": order.payment.status.value,
                "received": str(order.payment.received),
                "brCode": order.payment.br_code,
                "location": order.payment.location,
                "paidBy": order.payment.paid_by,
                "refunds": [_refund_document(refund) for refund in order.payment.refunds],
            },
            "idempotencyKey": order.idempotency_key,
            "correlationId": order.correlation_id,
            "placedAt": order.placed_at.isoformat(),
            "updatedAt": order.updated_at.isoformat(),
            "cancellationReason": None if order.cancellation_reason is None else order.cancellation_reason.value,
            "refundOwed": None if order.refund_owed is None else str(order.refund_owed),
            "invoice": None
            if order.invoice is None
            else {
                "number": order.invoice.number,
                "status": order.invoice.status.value,
                "issuedAt": order.invoice.issued_at.isoformat(),
                "documentKey": order.invoice.document_key,
                "detail": order.invoice.detail,
            },
            "applied": sorted(order.applied),
        },
        separators=(",", ":"),
    )


def order_from_item(item: OrderModel) -> Order:
    document: dict[str, Any] = json.loads(item.document)
    payment = document["payment"]
    invoice = document.get("invoice")
    return Order(
        id=item.id,
        client_id=item.client_id,
        items=tuple(
            OrderItem(
                kind=ItemKind(entry["kind"]),
                ref_id=entry["refId"],
                description=entry["description"],
                quantity=int(entry["quantity"]),
                unit_price=Money.parse(entry["unitPrice"], allow_zero=True),
                status=None if entry["status"] is None else ItemStatus(entry["status"]),
            )
            for entry in document["items"]
        ),
        status=OrderStatus(item.status),
        idempotency_key=document["idempotencyKey"],
        correlation_id=document["correlationId"],
        placed_at=datetime.fromisoformat(document["placedAt"]),
        updated_at=datetime.fromisoformat(document["updatedAt"]),
        history=tuple(
            HistoryEntry(
                status=OrderStatus(entry["status"]),
                event=entry["event"],
                at=datetime.fromisoformat(entry["at"]),
                detail=entry["detail"],
            )
            for entry in document["history"]
        ),
        version=int(item.version or 0),
        cancellation_reason=None
        if document["cancellationReason"] is None
        else CancellationReason(document["cancellationReason"]),
        payment=None
        if payment is None
        else Payment(
            code=payment["code"],
            amount=Money.parse(payment["amount"], allow_zero=True),
            expires_at=datetime.fromisoformat(payment["expiresAt"]),
            status=PaymentStatus(payment["status"]),
            received=_received(payment),
            # Absent from payments written before charges had them.
            br_code=payment.get("brCode"),
            location=payment.get("location"),
            paid_by=payment.get("paidBy"),
            refunds=tuple(_refund(refund) for refund in payment.get("refunds", [])),
        ),
        refund_owed=None if document["refundOwed"] is None else Money.parse(document["refundOwed"], allow_zero=True),
        invoice=None if invoice is None else _invoice(invoice),
        applied=frozenset(document.get("applied", [])),
    )


def _received(payment: dict[str, Any]) -> Money:
    if "received" in payment:
        return Money.parse(payment["received"], allow_zero=True)
    # Written before payments counted what arrived: a PAID one had received its amount.
    if payment["status"] == PaymentStatus.PAID.value:
        return Money.parse(payment["amount"], allow_zero=True)
    return Money.zero()


def _refund_document(refund: Refund) -> dict[str, Any]:
    return {
        "id": refund.id,
        "endToEndId": refund.end_to_end_id,
        "amount": str(refund.amount),
        "status": refund.status.value,
        "requestedAt": refund.requested_at.isoformat(),
        "completedAt": None if refund.completed_at is None else refund.completed_at.isoformat(),
    }


def _refund(document: dict[str, Any]) -> Refund:
    completed_at = document["completedAt"]
    return Refund(
        id=document["id"],
        end_to_end_id=document["endToEndId"],
        amount=Money.parse(document["amount"], allow_zero=True),
        status=RefundStatus(document["status"]),
        requested_at=datetime.fromisoformat(document["requestedAt"]),
        completed_at=None if completed_at is None else datetime.fromisoformat(completed_at),
    )


def _invoice(document: dict[str, Any]) -> Invoice:
    return Invoice(
        number=document["number"],
        status=InvoiceStatus(document["status"]),
        issued_at=datetime.fromisoformat(document["issuedAt"]),
        document_key=document["documentKey"],
        detail=document["detail"],
    )


def _order_model(order: Order) -> OrderModel:
    listed = f"{_sort_time(order.placed_at)}#{order.id}"
    model = OrderModel(
        *OrderModel.key(order.id),
        gsi1pk=OrderModel.client_partition(order.client_id),
        gsi1sk=listed,
        gsi2pk=OrderModel.ALL_ORDERS,
        gsi2sk=listed,
        id=order.id,
        client_id=order.client_id,
        status=order.status.value,
        document=order_document(order),
    )
    if order.version:
        model.version = order.version
    return model


def _payment_model(record: PaymentRecord) -> PaymentItem:
    payment = record.payment
    model = PaymentItem(
        *PaymentItem.key(payment.code),
        code=payment.code,
        order_id=record.order_id,
        amount_cents=cents(payment.amount),
        pay_by=payment.expires_at,
        status=payment.status.value,
    )
    if payment.status is PaymentStatus.PENDING:
        model.gsi1pk = PaymentItem.DUE_PARTITION
        model.gsi1sk = f"{_sort_time(payment.expires_at)}#{payment.code}"
    return model


def _payment_record(model: PaymentItem) -> PaymentRecord:
    payment = Payment(
        code=model.code,
        amount=money(model.amount_cents),
        expires_at=model.pay_by,
        status=PaymentStatus(model.status),
    )
    return PaymentRecord(order_id=model.order_id, payment=payment, expected_status=payment.status)


def _marker(key: keys.Key, *, order_id: str | None = None, detail: str | None = None) -> MarkerItem:
    return MarkerItem(
        *key,
        order_id=order_id,
        detail=detail,
        expires_at=int(time.time()) + MARKER_RETENTION_SECONDS,
    )


def outbox_item(event: DomainEvent) -> OutboxItem:
    return OutboxItem(
        *OutboxItem.key(event.event_id),
        event_id=event.event_id,
        event_type=event.event_type.value,
        order_id=event.order_id,
        body=event.to_json(),
        trace_header=current_trace_header(),
        expires_at=int(time.time()) + OUTBOX_RETENTION_SECONDS,
    )


class DynamoPurchaseStore:
    def __init__(self, connection: Connection, cursors: CursorCodec) -> None:
        self._connection = connection
        self._vehicles = DynamoVehicleStore(cursors)
        self._clients = DynamoClientStore(connection)
        self._products = DynamoProductStore(cursors)
        self._cursors = cursors

    def get_order(self, order_id: str) -> Order | None:
        try:
            return order_from_item(OrderModel.get(*OrderModel.key(order_id), consistent_read=True))
        except OrderModel.DoesNotExist:
            return None

    def get_orders(self, order_ids: Iterable[str]) -> Mapping[str, Order]:
        keys = [OrderModel.key(order_id) for order_id in dict.fromkeys(order_ids)]
        return {item.id: order_from_item(item) for item in OrderModel.batch_get(keys)}

    def existing_order_ids(self, order_ids: Iterable[str]) -> set[str]:
        keys = [OrderModel.key(order_id) for order_id in dict.fromkeys(order_ids)]
        found = OrderModel.batch_get(keys, attributes_to_get=["id"])
        return {item.id for item in found}

    def received(self, end_to_end_ids: Iterable[str]) -> set[str]:
        by_key = {keys.receipt(end_to_end_id): end_to_end_id for end_to_end_id in end_to_end_ids}
        found = MarkerItem.batch_get(list(by_key))
        return {by_key[(item.pk, item.sk)] for item in found}

    def list_orders(self, client_id: str | None, first: int, after: str | None) -> Page[Order]:
        """A client's orders, or (None) every order; newest first."""
        if client_id is None:
            return list_page(
                OrderModel.by_second_list,
                OrderModel.ALL_ORDERS,
                scope="orders",
                cursors=self._cursors,
                first=first,
                after=after,
                convert=order_from_item,
                newest_first=True,
            )
        return list_page(
            OrderModel.by_list,
            OrderModel.client_partition(client_id),
            scope=f"orders:{client_id}",
            cursors=self._cursors,
            first=first,
            after=after,
            convert=order_from_item,
            newest_first=True,
        )

    def get_client(self, client_id: str) -> Client | None:
        return self._clients.get(client_id)

    def get_vehicle(self, vehicle_id: str) -> Vehicle | None:
        return self._vehicles.get(vehicle_id)

    def get_products(self, skus: Iterable[str]) -> Mapping[str, Product]:
        return self._products.get_many(skus)

    def waiting_orders(self, sku: str, limit: int) -> list[str]:
        line = WaitingItem.query(WaitingItem.line(sku), limit=limit, consistent_read=True)
        return [item.order_id for item in line]

    def holds_due(self, waiting_since: datetime, limit: int) -> list[str]:
        due = WaitingItem.by_list.query(
            WaitingItem.HOLDS_PARTITION,
            WaitingItem.gsi1sk < _sort_time(waiting_since),
            # An order waiting for several products is in several lines: read a few more to find `limit` orders.
            limit=limit * 4,
        )
        order_ids: dict[str, None] = {}
        for item in due:
            order_ids.setdefault(item.order_id)
            if len(order_ids) == limit:
                break
        return list(order_ids)

    def last_invoice_number(self) -> int:
        try:
            return int(CounterItem.get(*CounterItem.key(keys.INVOICE_SEQUENCE), consistent_read=True).value)
        except CounterItem.DoesNotExist:
            return 0

    def get_payment(self, code: str) -> PaymentRecord | None:
        try:
            return _payment_record(PaymentItem.get(*PaymentItem.key(code), consistent_read=True))
        except PaymentItem.DoesNotExist:
            return None

    def find_idempotency(self, scope: str, key: str) -> tuple[str, str] | None:
        try:
            stored = MarkerItem.get(*keys.idempotency(scope, key), consistent_read=True)
        except MarkerItem.DoesNotExist:
            return None
        return stored.detail or "", stored.order_id or ""

    def payments_due(self, now: datetime, limit: int) -> list[PaymentRecord]:
        due = PaymentItem.by_list.query(
            PaymentItem.DUE_PARTITION, PaymentItem.gsi1sk <= f"{_sort_time(now)}~", limit=limit
        )
        return [_payment_record(model) for model in due]

    def apply(self, change: Change) -> None:
        # PynamoDB sends condition checks, then deletes, then puts, then updates; the cancellation reasons come
        # back in that order, so the labels are listed in it (tests/unit/test_transaction_order.py pins the order).
        checks = [(f"stock:{move.sku}", move) for move in change.stock if move.kind is StockMoveKind.SHORT]
        deletes = [("waiting", _waiting(wait)) for wait in change.waits_removed]
        puts = _puts(change)
        updates: list[tuple[str, Any, list[Any], Any]] = [
            _stock_update(move) for move in change.stock if move.kind is not StockMoveKind.SHORT
        ]
        if change.vehicle is not None:
            updates.insert(0, _vehicle_update(change.vehicle))
        labels = [str(entry[0]) for entry in (*checks, *deletes, *puts, *updates)]
        try:
            with TransactWrite(connection=self._connection) as transaction:
                for _, move in checks:
                    transaction.condition_check(
                        ProductItem, *ProductItem.key(move.sku), condition=ProductItem.stock_available < move.quantity
                    )
                for _, model in deletes:
                    transaction.delete(model)
                for _, model, condition in puts:
                    transaction.save(model, condition=condition)
                for _, item, actions, condition in updates:
                    # The conditions guard the change; the version is bumped, not checked, so that optimistic
                    # writers of the same item (staff editing it) read it again.
                    transaction.update(item, actions=actions, condition=condition, add_version_condition=False)
        except TransactWriteError as error:
            failed = [
                label
                for label, reason in zip(labels, error.cancellation_reasons or [], strict=False)
                if reason is not None and reason.code == _CONDITION_FAILED
            ]
            raise self._refusal(failed[0] if failed else None, change) from error

    def _refusal(self, label: str | None, change: Change) -> Exception:
        simple: dict[str | None, Exception] = {
            "vehicle": VehicleUnavailable(f"vehicle {change.vehicle.vehicle_id} is not {change.vehicle.expected.value}")
            if change.vehicle is not None
            else Conflict("vehicle"),
            "payment": PaymentChanged("the payment is no longer pending"),
            "applied": AlreadyApplied(),
            "invoice": InvoiceNumberTaken("another invoice took this number"),
        }
        if label == "order" and change.order is not None:
            return StaleVersion("order", change.order.id)
        if label in simple:
            return simple[label]
        if label is not None and label.startswith("stock:"):
            return StockChanged(label.removeprefix("stock:"))
        if label == "idempotency" and change.idempotency is not None:
            used = self.find_idempotency(change.idempotency.scope, change.idempotency.key)
            if used is not None:
                return KeyReused(*used)
        return Conflict(f"the change could not be applied ({label or 'transaction cancelled'})")


def _puts(change: Change) -> list[tuple[str, Any, Any]]:
    """Every item the change writes whole, with the condition it is written under."""
    puts: list[tuple[str, Any, Any]] = []
    condition: Any
    if change.order is not None:
        condition = OrderModel.pk.does_not_exist() if change.new_order else OrderModel.pk.exists()
        puts.append(("order", _order_model(change.order), condition))
    if change.payment is not None:
        expected = change.payment.expected_status
        condition = PaymentItem.pk.does_not_exist() if expected is None else PaymentItem.status == expected.value
        puts.append(("payment", _payment_model(change.payment), condition))
    if change.idempotency is not None:
        claim = change.idempotency
        marker = _marker(keys.idempotency(claim.scope, claim.key), order_id=claim.order_id, detail=claim.fingerprint)
        puts.append(("idempotency", marker, MarkerItem.pk.does_not_exist()))
    if change.consumed is not None:
        puts.append(("applied", _marker(keys.consumed(change.consumed)), MarkerItem.pk.does_not_exist()))
    if change.receipt is not None:
        puts.append(("applied", _marker(keys.receipt(change.receipt)), MarkerItem.pk.does_not_exist()))
    if change.sale is not None:
        sale = change.sale
        model = SaleItem(
            *SaleItem.key(sale.order_id),
            order_id=sale.order_id,
            vehicle_id=sale.vehicle_id,
            client_id=sale.client_id,
            amount_cents=cents(sale.amount),
            sold_at=sale.sold_at,
        )
        puts.append(("sale", model, SaleItem.pk.does_not_exist()))
    if change.invoice_number is not None:
        counter = CounterItem(*CounterItem.key(keys.INVOICE_SEQUENCE), value=change.invoice_number)
        previous = change.invoice_number - 1
        condition = CounterItem.pk.does_not_exist() if previous == 0 else CounterItem.value == previous
        puts.append(("invoice", counter, condition))
    puts.extend(("waiting", _waiting(wait), None) for wait in change.waits_added)
    puts.extend(("outbox", outbox_item(event), OutboxItem.pk.does_not_exist()) for event in change.events)
    return puts


def _waiting(wait: Wait) -> WaitingItem:
    since = _sort_time(wait.since)
    return WaitingItem(
        *WaitingItem.key(wait.sku, since, wait.order_id),
        order_id=wait.order_id,
        gsi1pk=WaitingItem.HOLDS_PARTITION,
        gsi1sk=f"{since}#{wait.order_id}#{wait.sku}",
    )


def _stock_update(move: StockMove) -> tuple[str, ProductItem, list[Any], Any]:
    product = ProductItem(*ProductItem.key(move.sku))
    # Any value: with add_version_condition off, PynamoDB only adds 1 to the stored version.
    product.version = 1
    quantity = move.quantity
    if move.kind is StockMoveKind.RESERVE:
        actions: list[Any] = [ProductItem.stock_reserved.add(quantity), ProductItem.stock_available.add(-quantity)]
        condition = ProductItem.stock_available >= quantity
    elif move.kind is StockMoveKind.RELEASE:
        actions = [ProductItem.stock_reserved.add(-quantity), ProductItem.stock_available.add(quantity)]
        condition = ProductItem.stock_reserved >= quantity
    else:
        actions = [ProductItem.stock_reserved.add(-quantity), ProductItem.stock_on_hand.add(-quantity)]
        condition = (ProductItem.stock_reserved >= quantity) & (ProductItem.stock_on_hand >= quantity)
    actions.append(ProductItem.updated_at.set(datetime.now(UTC)))
    return f"stock:{move.sku}", product, actions, condition


def _vehicle_update(claim: VehicleClaim) -> tuple[str, VehicleItem, list[Any], Any]:
    vehicle = VehicleItem(*VehicleItem.key(claim.vehicle_id))
    # Any value: with add_version_condition off, PynamoDB only adds 1 to the stored version.
    vehicle.version = 1
    actions: list[Any] = [
        VehicleItem.status.set(claim.new.value),
        VehicleItem.gsi1pk.set(VehicleItem.list_partition(claim.new.value)),
        VehicleItem.updated_at.set(datetime.now(UTC)),
        VehicleItem.reserved_by.set(claim.new_holder) if claim.new_holder else VehicleItem.reserved_by.remove(),
    ]
    condition = VehicleItem.status == claim.expected.value
    if claim.expected_holder is not None:
        condition &= VehicleItem.reserved_by == claim.expected_holder
    if claim.expected is VehicleStatus.AVAILABLE:
        condition &= VehicleItem.reserved_by.does_not_exist()
    return "vehicle", vehicle, actions, condition
