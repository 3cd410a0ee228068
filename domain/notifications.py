"""What the client is told, and the dealership's sales feed: one email per event that ends or changes an order.

Sending an email cannot share a transaction with DynamoDB, so a ledger entry is claimed before sending (with a
lease, in case the sender dies) and marked sent after: a redelivered event finds it sent and sends nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Protocol

from domain.clients import Client
from domain.events import (
    DomainEvent,
    EventType,
    OrderCancelled,
    RefundCompleted,
    RefundOwed,
    SaleCompleted,
    StockPending,
)
from domain.orders import Order
from domain.purchase import PurchaseStore

# Longer than any send takes; shorter than the queue's visibility timeout, so a retry can take over.
LEASE_SECONDS = 20

_REASONS_PT = {
    "CLIENT_INVALID": "o cadastro do comprador não foi encontrado",
    "VEHICLE_UNAVAILABLE": "o veículo não está mais disponível",
    "OUT_OF_STOCK": "um dos produtos está sem estoque",
    "PAYMENT_EXPIRED": "o prazo de pagamento expirou",
    "PAYMENT_FAILED": "o pagamento não foi aprovado",
    "CUSTOMER_CANCELLED": "você cancelou o pedido",
    "STOCK_HOLD_EXPIRED": "o prazo de espera pelo estoque de um dos produtos terminou",
    "PAYMENT_REFUSED": "não foi possível gerar a cobrança Pix",
}


# Why money an order received is owed back, by the order's status when the money came.
_REFUND_CAUSES_PT = {
    "CANCELLED": "o pedido já estava cancelado ou o valor não era o combinado",
    "COMPLETED": "o pedido já estava pago",
    "PAID": "o pedido já estava pago",
}


@dataclass(frozen=True, slots=True)
class Email:
    to: str
    subject: str
    body: str


class Claim(StrEnum):
    CLAIMED = "CLAIMED"  # ours to send now
    SENT = "SENT"  # done before: nothing to do
    BUSY = "BUSY"  # another delivery is sending it right now: try again later


class Mailer(Protocol):
    def send(self, email: Email) -> None: ...


class SalesFeed(Protocol):
    def publish(self, notice: dict[str, Any]) -> None: ...


class StaffAlerts(Protocol):
    """The pending-stock topic: the staff who restock are told which orders wait for what."""

    def publish(self, subject: str, message: dict[str, Any]) -> None: ...


class NotificationLedger(Protocol):
    def claim(self, key: str, lease_seconds: int) -> Claim: ...

    def mark_sent(self, key: str) -> None: ...

    def release(self, key: str) -> None: ...


class NotificationInProgress(Exception):
    """Another delivery of this event holds the lease: the message is retried after its visibility timeout."""


def compose(event: DomainEvent, order: Order, client: Client) -> Email | None:
    greeting = f"Olá, {client.name.split()[0]}!"
    items = "; ".join(item.description for item in order.items)
    if event.event_type is EventType.SALE_COMPLETED:
        invoice_number = event.payload_as(SaleCompleted).invoice_number
        return Email(
            to=client.email.value,
            subject=f"Compra confirmada: pedido {order.id}",
            body=f"{greeting}\n\nRecebemos o seu pagamento de R$ {order.total} e a compra está concluída.\n"
            f"Itens: {items}.\nNota fiscal nº {invoice_number}: disponível no seu pedido.\n\n"
            "Obrigado pela preferência!",
        )
    if event.event_type is EventType.ORDER_CANCELLED:
        cancelled = event.payload_as(OrderCancelled)
        reason = _REASONS_PT.get(cancelled.reason, cancelled.reason)
        refund = cancelled.refund
        money = (
            f"O valor pago, R$ {refund}, será devolvido integralmente em até 5 dias úteis."
            if refund is not None
            else "Nenhum valor foi cobrado por este pedido."
        )
        return Email(
            to=client.email.value,
            subject=f"Pedido {order.id} cancelado",
            body=f"{greeting}\n\nO seu pedido ({items}) foi cancelado: {reason}.\n{money}",
        )
    if event.event_type is EventType.REFUND_OWED:
        owed = event.payload_as(RefundOwed)
        if owed.told_with == EventType.ORDER_CANCELLED.value or owed.attempt is not None:
            return None  # the cancellation's email says it already, or the first attempt's did
        return Email(
            to=client.email.value,
            subject=f"Reembolso do pedido {order.id}",
            body=f"{greeting}\n\nRecebemos um pagamento de R$ {owed.amount} de que o pedido não "
            f"precisava ({_REFUND_CAUSES_PT.get(order.status.value, 'pedido cancelado')}). Vamos devolver o valor "
            "integral em até 5 dias úteis.",
        )
    if event.event_type is EventType.REFUND_COMPLETED:
        completed = event.payload_as(RefundCompleted)
        return Email(
            to=client.email.value,
            subject=f"Pedido {order.id}: valor devolvido",
            body=f"{greeting}\n\nDevolvemos R$ {completed.amount} por Pix à conta de onde o pagamento veio "
            f"(identificador da devolução: {completed.refund_id}). O valor já deve aparecer no seu extrato.",
        )
    return None


def pending_stock_alert(event: DomainEvent, order: Order) -> tuple[str, dict[str, Any]]:
    """What the pending-stock topic carries (seed 002): the order and each item it waits for."""
    waiting = [
        {"productId": entry["productId"], "quantity": entry["quantity"], "available": entry.get("available")}
        for entry in event.payload_as(StockPending).pending_items
    ]
    subject = f"Pedido {order.id} aguardando estoque"
    return subject, {
        "type": "StockPending",
        "orderId": order.id,
        "clientId": order.client_id,
        "placedAt": order.placed_at.isoformat(),
        "pendingItems": waiting,
        "eventId": event.event_id,
    }


def sale_notice(event: DomainEvent, order: Order) -> dict[str, Any]:
    """The message on the sales-notifications queue (seed 000): what was sold, to whom, for how much."""
    return {
        "type": "SaleCompleted",
        "orderId": order.id,
        "clientId": order.client_id,
        "vehicleId": event.payload_as(SaleCompleted).vehicle_id,
        "amount": str(order.total),
        "soldAt": event.occurred_at.isoformat(),
        "eventId": event.event_id,
    }


class Notifications:
    def __init__(
        self, store: PurchaseStore, ledger: NotificationLedger, mailer: Mailer, feed: SalesFeed, alerts: StaffAlerts
    ) -> None:
        self._store = store
        self._ledger = ledger
        self._mailer = mailer
        self._feed = feed
        self._alerts = alerts

    def notify(self, event: DomainEvent, consumer: str) -> None:
        order = self._store.get_order(event.order_id)
        client = None if order is None else self._store.get_client(order.client_id)
        if order is None or client is None:
            return  # nobody to tell: an order rejected because its buyer is not a client
        email = compose(event, order, client)
        if email is not None:
            self._once(f"{consumer}:{event.event_id}:email", lambda: self._mailer.send(email))
        if event.event_type is EventType.SALE_COMPLETED:
            notice = sale_notice(event, order)
            self._once(f"{consumer}:{event.event_id}:sales-feed", lambda: self._feed.publish(notice))
        if event.event_type is EventType.STOCK_PENDING:
            subject, alert = pending_stock_alert(event, order)
            self._once(f"{consumer}:{event.event_id}:pending-stock", lambda: self._alerts.publish(subject, alert))

    def _once(self, key: str, send: Callable[[], None]) -> None:
        claim = self._ledger.claim(key, LEASE_SECONDS)
        if claim is Claim.SENT:
            return
        if claim is Claim.BUSY:
            raise NotificationInProgress(key)
        try:
            send()
        except BaseException:
            self._ledger.release(key)
            raise
        self._ledger.mark_sent(key)
