"""The purchase saga end to end, in-process against moto in server mode: the outbox relay on the table's stream,
every step's queue poller and the expiry schedule running as the local stack runs them.

Each test waits on deadlines for what it expects, never on fixed sleeps.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from functools import partial
from typing import TypeVar

import pytest

pytest.register_assert_rewrite("tests.integration.saga_harness")

from domain.clients import Client  # noqa: E402
from domain.errors import Conflict  # noqa: E402
from domain.events import EventType  # noqa: E402
from domain.order_status import CancellationReason, OrderStatus, VehicleStatus  # noqa: E402
from domain.orders import Order, PaymentStatus  # noqa: E402
from domain.values import Money  # noqa: E402
from domain.vehicles import Vehicle  # noqa: E402
from pix.brcode import decode_brcode  # noqa: E402
from pix.txid import TXID  # noqa: E402
from platform_spec.email import SES_SENDER  # noqa: E402
from sagas.wiring import saga_services  # noqa: E402
from tests.integration.saga_harness import SagaHarness, saga_config  # noqa: E402
from tests.unit.saga_paths import HAPPY_PATH_EVENTS  # noqa: E402

pytest_plugins = ["tests.integration.saga_harness"]

T = TypeVar("T")

CUSTOMER = "customer@example.com"
CUSTOMER2 = "customer2@example.com"


@pytest.fixture
def customer(saga: SagaHarness, demo_users: dict[str, str]) -> Client:
    return saga.register_demo_client(CUSTOMER, demo_users[CUSTOMER])


@pytest.fixture
def vehicle(saga: SagaHarness) -> Vehicle:
    return saga.create_vehicle("89900.00")


def awaiting_payment(saga: SagaHarness, client: Client, vehicle: Vehicle) -> Order:
    placed = saga.place_order(client, vehicle)
    assert placed.status is OrderStatus.PLACED
    return saga.wait_for_status(placed.id, OrderStatus.AWAITING_PAYMENT)


def history(order: Order) -> list[str]:
    return [entry.event for entry in order.history]


def run_at_once(calls: list[Callable[[], T]]) -> list[T]:
    """Every call in its own thread, released together by a barrier."""
    barrier = threading.Barrier(len(calls))

    def run(call: Callable[[], T]) -> T:
        barrier.wait()
        return call()

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(run, calls))


# --- the happy path ------------------------------------------------------------------------------------------------


def test_a_paid_order_completes_the_sale_and_tells_the_client_and_the_sales_team(
    saga: SagaHarness, customer: Client, vehicle: Vehicle
) -> None:
    # Given an order that reached AWAITING_PAYMENT with a Pix charge (its txid, its BR Code) for the vehicle's price
    order = awaiting_payment(saga, customer, vehicle)
    assert order.payment is not None
    assert TXID.fullmatch(order.payment.code)
    assert order.payment.br_code is not None
    assert decode_brcode(order.payment.br_code).location == order.payment.location
    assert order.payment.amount == vehicle.price
    assert order.payment.status is PaymentStatus.PENDING
    assert saga.vehicle(vehicle.id).status is VehicleStatus.RESERVED

    # When the customer pays the charge and the PSP calls the webhook
    answer = saga.pay(order)
    assert (answer.status, answer.body) == (200, {"received": 1, "newPayments": 1, "refundsChanged": 0})

    # Then the order completes, with every step in its history in order, and the vehicle is sold
    done = saga.wait_for_status(order.id, OrderStatus.COMPLETED)
    assert history(done) == HAPPY_PATH_EVENTS
    assert done.payment is not None
    assert done.payment.status is PaymentStatus.PAID
    assert done.cancellation_reason is None
    sold = saga.vehicle(vehicle.id)
    assert sold.status is VehicleStatus.SOLD
    assert sold.reserved_by is None
    assert [(sale["order_id"], sale["vehicle_id"]) for sale in saga.sales()] == [(order.id, vehicle.id)]

    # And the client gets exactly one confirmation email, the sales team exactly one notice
    saga.wait_for_emails(order.id, 1)
    saga.settle()
    emails = saga.emails(order.id)
    assert len(emails) == 1
    assert emails[0]["to"] == [CUSTOMER]
    assert emails[0]["subject"] == f"Compra confirmada: pedido {order.id}"
    # (and SES itself recorded exactly that one, from the verified sender)
    assert saga.ses_sent() == 1
    [recorded] = saga.sent_by_ses(order.id)
    assert (recorded["to"], recorded["subject"]) == ([CUSTOMER], emails[0]["subject"])
    assert recorded["source"] == SES_SENDER
    notices = saga.sales_notices()
    assert len(notices) == 1
    assert notices[0]["type"] == "SaleCompleted"
    assert (notices[0]["orderId"], notices[0]["vehicleId"], notices[0]["clientId"]) == (
        order.id,
        vehicle.id,
        customer.id,
    )
    assert notices[0]["amount"] == str(vehicle.price)


# --- failures and compensations -----------------------------------------------------------------------------------


@saga_config(PIX_KEY="chave-de-outro-recebedor@example.com")
def test_a_charge_the_psp_refuses_cancels_the_order_releases_the_vehicle_and_says_why(
    saga: SagaHarness, customer: Client, vehicle: Vehicle
) -> None:
    # Given a PSP that refuses the charge (4xx: the key is not the dealership's)
    order = saga.place_order(customer, vehicle)

    # Then the order is cancelled with a reason the customer can read, and the vehicle is free again
    cancelled = saga.wait_for_status(order.id, OrderStatus.CANCELLED)
    assert cancelled.cancellation_reason is CancellationReason.PAYMENT_REFUSED
    released = saga.wait_for_vehicle(vehicle.id, VehicleStatus.AVAILABLE)
    assert released.reserved_by is None
    [email] = saga.wait_for_emails(order.id, 1)
    saga.settle()
    assert email["subject"] == f"Pedido {order.id} cancelado"
    assert "não foi possível gerar a cobrança Pix" in email["body"]
    assert len(saga.emails(order.id)) == 1
    assert saga.sales() == []
    assert saga.sales_notices() == []
    assert saga.dead_letters() == []


@saga_config(PAYMENT_TTL_SECONDS="2")
def test_an_unpaid_order_expires_and_releases_the_vehicle(
    saga: SagaHarness, customer: Client, vehicle: Vehicle
) -> None:
    # Given an order awaiting a payment due in two seconds
    order = awaiting_payment(saga, customer, vehicle)
    assert order.payment is not None
    assert order.payment.expires_at - order.placed_at < timedelta(seconds=10)

    # When nobody pays, the expiry schedule cancels it within a few seconds
    cancelled = saga.wait_for_status(order.id, OrderStatus.CANCELLED, timeout=15)
    assert cancelled.cancellation_reason is CancellationReason.PAYMENT_EXPIRED
    assert EventType.PAYMENT_EXPIRED.value in history(cancelled)
    assert cancelled.payment is not None
    assert cancelled.payment.status is PaymentStatus.EXPIRED

    # And the vehicle is for sale again; the client is told once
    saga.wait_for_vehicle(vehicle.id, VehicleStatus.AVAILABLE)
    [email] = saga.wait_for_emails(order.id, 1)
    assert "o prazo de pagamento expirou" in email["body"]


def test_a_customer_cancelling_right_after_placing_releases_the_vehicle(
    saga: SagaHarness, customer: Client, vehicle: Vehicle, demo_users: dict[str, str]
) -> None:
    # When the customer cancels as soon as the order is placed (racing the saga's first steps)
    placed = saga.place_order(customer, vehicle)
    cancelled = saga.cancel(placed)
    assert cancelled.status is OrderStatus.CANCELLED
    assert cancelled.cancellation_reason is CancellationReason.CUSTOMER_CANCELLED

    # Then, once the saga is done, the order stays cancelled for that reason and the vehicle is free
    saga.wait_for_emails(placed.id, 1)
    saga.settle()
    final = saga.order(placed.id)
    assert final.status is OrderStatus.CANCELLED
    assert final.cancellation_reason is CancellationReason.CUSTOMER_CANCELLED
    free = saga.vehicle(vehicle.id)
    assert (free.status, free.reserved_by) == (VehicleStatus.AVAILABLE, None)
    assert len(saga.emails(placed.id)) == 1

    # And another buyer can reserve it
    other = saga.register_demo_client(CUSTOMER2, demo_users[CUSTOMER2])
    awaiting_payment(saga, other, vehicle)


def test_a_customer_cancelling_while_payment_is_pending_releases_the_vehicle(
    saga: SagaHarness, customer: Client, vehicle: Vehicle
) -> None:
    order = awaiting_payment(saga, customer, vehicle)

    cancelled = saga.cancel(order)

    assert (cancelled.status, cancelled.cancellation_reason) == (
        OrderStatus.CANCELLED,
        CancellationReason.CUSTOMER_CANCELLED,
    )
    saga.wait_for_vehicle(vehicle.id, VehicleStatus.AVAILABLE)
    [email] = saga.wait_for_emails(order.id, 1)
    assert "você cancelou o pedido" in email["body"]
    stored = saga.order(order.id)
    assert stored.status is OrderStatus.CANCELLED
    assert history(stored)[-1] == EventType.ORDER_CANCELLED.value
    # Cancelling again returns the cancelled order unchanged
    again = saga.cancel(order)
    assert (again.status, again.version) == (OrderStatus.CANCELLED, stored.version)


def test_a_completed_order_cannot_be_cancelled(saga: SagaHarness, customer: Client, vehicle: Vehicle) -> None:
    order = awaiting_payment(saga, customer, vehicle)
    saga.pay(order)
    done = saga.wait_for_status(order.id, OrderStatus.COMPLETED)

    with pytest.raises(Conflict, match="can no longer be cancelled"):
        saga.cancel(done)

    after = saga.order(order.id)
    assert (after.status, after.version) == (OrderStatus.COMPLETED, done.version)
    assert saga.vehicle(vehicle.id).status is VehicleStatus.SOLD


def test_a_payment_after_cancellation_keeps_the_order_cancelled_and_records_a_refund(
    saga: SagaHarness, customer: Client, vehicle: Vehicle
) -> None:
    # Given an order the customer cancelled while its payment was pending, its compensation done
    order = awaiting_payment(saga, customer, vehicle)
    saga.cancel(order)
    saga.wait_for_emails(order.id, 1)
    saga.wait_for_vehicle(vehicle.id, VehicleStatus.AVAILABLE)

    # When the payment arrives anyway
    answer = saga.pay(order)
    assert answer.status == 200

    # Then the order stays cancelled, owes the amount back, and the client is told about the refund
    refunded = saga.wait_for(order.id, lambda o: o.refund_owed is not None, what="to owe a refund")
    assert refunded.status is OrderStatus.CANCELLED
    assert refunded.cancellation_reason is CancellationReason.CUSTOMER_CANCELLED
    assert refunded.refund_owed == vehicle.price
    assert EventType.REFUND_OWED.value in history(refunded)
    emails = saga.wait_for_emails(order.id, 2)
    saga.settle()
    subjects = sorted(email["subject"] for email in saga.emails(order.id))
    assert subjects == sorted([f"Pedido {order.id} cancelado", f"Reembolso do pedido {order.id}"])
    refund = next(email for email in emails if email["subject"].startswith("Reembolso"))
    assert "89900.00" in refund["body"]
    # Nothing was sold
    assert saga.vehicle(vehicle.id).status is VehicleStatus.AVAILABLE
    assert saga.sales() == []


def test_an_order_for_a_client_that_does_not_exist_is_cancelled_as_client_invalid(
    saga: SagaHarness, vehicle: Vehicle
) -> None:
    # Given an order written for a buyer who never registered (placeOrder refuses those: written to the store)
    order, _ = saga.write_order("nobody-registered-this-id", vehicle)

    cancelled = saga.wait_for_status(order.id, OrderStatus.CANCELLED)

    assert cancelled.cancellation_reason is CancellationReason.CLIENT_INVALID
    assert history(cancelled) == ["OrderPlaced", "OrderRejected", "OrderCancelled"]
    saga.settle()
    assert saga.vehicle(vehicle.id).status is VehicleStatus.AVAILABLE
    assert saga.emails(order.id) == []  # nobody to tell


# --- concurrency ------------------------------------------------------------------------------------------------


def test_twenty_buyers_of_one_vehicle_make_exactly_one_sale(saga: SagaHarness, vehicle: Vehicle) -> None:
    # Given twenty registered clients
    buyers = [saga.register_buyer(f"Comprador {number}") for number in range(20)]

    # When they all order the same vehicle at once
    placed = run_at_once([partial(saga.place_order, buyer, vehicle) for buyer in buyers])
    assert all(order.status is OrderStatus.PLACED for order in placed)
    assert len({order.id for order in placed}) == 20

    # Then exactly one order reaches AWAITING_PAYMENT; the others are cancelled
    def settled(order: Order) -> bool:
        return order.status in {OrderStatus.AWAITING_PAYMENT, OrderStatus.CANCELLED}

    orders = [saga.wait_for(order.id, settled, timeout=60, what="to be reserved or cancelled") for order in placed]
    winners = [order for order in orders if order.status is OrderStatus.AWAITING_PAYMENT]
    assert len(winners) == 1
    [winner] = winners

    # And paying it completes the one sale
    saga.pay(winner)
    saga.wait_for_status(winner.id, OrderStatus.COMPLETED)
    saga.settle()
    final = {order.id: saga.order(order.id) for order in placed}
    losers = [order for order in final.values() if order.id != winner.id]
    assert len(losers) == 19
    assert all(order.status is OrderStatus.CANCELLED for order in losers)
    assert all(order.cancellation_reason is CancellationReason.VEHICLE_UNAVAILABLE for order in losers)
    assert saga.vehicle(vehicle.id).status is VehicleStatus.SOLD
    assert [(sale["order_id"], sale["vehicle_id"]) for sale in saga.sales()] == [(winner.id, vehicle.id)]
    # Every buyer was told exactly once
    for order in placed:
        assert len(saga.emails(order.id)) == 1
    assert saga.ses_sent() == 20


# --- the expiry sweep and odd payments ---------------------------------------------------------------------------


def test_payments_of_cancelled_orders_do_not_starve_the_expiry_sweep(
    saga_settings: SagaHarness, demo_users: dict[str, str]
) -> None:
    # Given an order cancelled by its customer while its payment was pending (the older deadline)...
    harness = saga_settings
    customer = harness.register_demo_client(CUSTOMER, demo_users[CUSTOMER])
    first = harness.write_awaiting_payment(customer, harness.create_vehicle(), ttl=timedelta(seconds=-60))
    harness.cancel(first)
    # ...and a later order that nobody pays
    second = harness.write_awaiting_payment(customer, harness.create_vehicle(), ttl=timedelta(seconds=-30))

    # When the sweep runs with a page of one (the handler's page is 100: 100 such cancellations would do)
    purchase = saga_services().purchase
    for _ in range(2):
        purchase.expire_due_payments(limit=1)

    # Then the cancelled order's code is closed and the unpaid order's payment has expired
    cancelled = harness.order(first.id)
    assert cancelled.payment is not None
    assert cancelled.payment.status is PaymentStatus.CANCELLED
    expired = harness.order(second.id)
    assert expired.payment is not None
    assert expired.payment.status is PaymentStatus.EXPIRED
    assert EventType.PAYMENT_EXPIRED.value in history(expired)
    assert purchase.store.payments_due(harness.services.clock.now() + timedelta(days=1), 10) == []


def test_a_payment_of_the_wrong_amount_cancels_the_order_and_owes_the_money_back(
    saga: SagaHarness, customer: Client, vehicle: Vehicle
) -> None:
    # Given an order awaiting payment, paid one real short of its total
    order = awaiting_payment(saga, customer, vehicle)
    assert order.payment is not None
    short = order.payment.amount.amount - 1
    assert saga.pay(order, amount=Money.parse(short)).status == 200

    # Then the order is cancelled, what was paid is owed back, and the vehicle is free again
    cancelled = saga.wait_for_status(order.id, OrderStatus.CANCELLED)
    assert cancelled.cancellation_reason is CancellationReason.PAYMENT_FAILED
    assert cancelled.refund_owed is not None
    assert cancelled.refund_owed.amount == short
    saga.wait_for_vehicle(vehicle.id, VehicleStatus.AVAILABLE)
    saga.wait_for_emails(order.id, 2)
    saga.settle()
    subjects = sorted(email["subject"] for email in saga.emails(order.id))
    assert subjects == sorted([f"Pedido {order.id} cancelado", f"Reembolso do pedido {order.id}"])
    assert saga.sales() == []
