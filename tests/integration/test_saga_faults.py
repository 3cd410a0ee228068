"""The purchase saga when delivery goes wrong: duplicated events, consumers crashing before and after their commit,
messages that are not events. Against moto in server mode, with the saga's handlers run in-process.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

import pytest
from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError

pytest.register_assert_rewrite("tests.integration.saga_harness")

from domain.clients import Client  # noqa: E402
from domain.events import DomainEvent, EventType  # noqa: E402
from domain.order_status import CancellationReason, OrderStatus, VehicleStatus  # noqa: E402
from domain.orders import Order  # noqa: E402
from domain.purchase import Change  # noqa: E402
from local_stack.event_sources import Handler  # noqa: E402
from local_stack.faults import InjectedFault, crashing_consumers  # noqa: E402
from local_stack.lambda_events import lambda_context  # noqa: E402
from platform_spec.messaging import SALES_NOTIFICATIONS_QUEUE  # noqa: E402
from sagas.consumers import HANDLERS  # noqa: E402
from sagas.wiring import saga_services  # noqa: E402
from tests.integration.saga_harness import SagaHarness, Timeout, event_json, saga_config, sqs_event, wait_until  # noqa: E402
from tests.unit.saga_paths import HAPPY_PATH_EVENTS  # noqa: E402

pytest_plugins = ["tests.integration.saga_harness"]

REFUSED_HISTORY = ["OrderPlaced", "ClientValidated", "InventoryReserved", "OrderCancelled"]


def history(order: Order) -> list[str]:
    return [entry.event for entry in order.history]


# --- at-least-once delivery, made visible ------------------------------------------------------------------------


@saga_config(DUPLICATE_DELIVERY="1")
def test_a_paid_order_with_every_event_delivered_twice_completes_once(saga: SagaHarness) -> None:
    # Given the relay publishing every event twice
    buyer, vehicle = saga.register_buyer("Ana Dupla"), saga.create_vehicle("75000.00")

    # When an order is placed and paid
    order = saga.wait_for_status(saga.place_order(buyer, vehicle).id, OrderStatus.AWAITING_PAYMENT)
    assert saga.pay(order).status == 200

    # Then it completes as one delivery would have, with no step recorded twice
    saga.wait_for_status(order.id, OrderStatus.COMPLETED)
    saga.wait_for_emails(order.id, 1)
    saga.settle()
    assert history(saga.order(order.id)) == HAPPY_PATH_EVENTS
    assert saga.vehicle(vehicle.id).status is VehicleStatus.SOLD
    assert [sale["order_id"] for sale in saga.sales()] == [order.id]
    # And the client got one email, the sales team one notice
    assert [email["to"] for email in saga.emails(order.id)] == [[buyer.email.value]]
    assert [notice["orderId"] for notice in saga.sales_notices()] == [order.id]
    assert saga.ses_sent() == 1
    # (the duplicates did arrive: OrderPlaced twice, SaleCompleted twice)
    assert saga.delivered("validate-client") == 2
    assert saga.delivered("notify") == 2


@saga_config(DUPLICATE_DELIVERY="1", PIX_KEY="chave-de-outro-recebedor@example.com")
def test_a_refused_charge_with_every_event_delivered_twice_cancels_once(saga: SagaHarness) -> None:
    # Given the relay publishing every event twice, and a PSP that refuses the charge (not the dealership's key)
    buyer, vehicle = saga.register_buyer("Bruno Dupla"), saga.create_vehicle("120000.00", model="Fiorino")

    # When an order asks for its charge
    order = saga.place_order(buyer, vehicle)

    # Then it is cancelled as one delivery would have, the vehicle released, the client told once
    cancelled = saga.wait_for_status(order.id, OrderStatus.CANCELLED)
    assert cancelled.cancellation_reason is CancellationReason.PAYMENT_REFUSED
    saga.wait_for_vehicle(vehicle.id, VehicleStatus.AVAILABLE)
    saga.wait_for_emails(order.id, 1)
    saga.settle()
    assert history(saga.order(order.id)) == REFUSED_HISTORY
    assert [email["to"] for email in saga.emails(order.id)] == [[buyer.email.value]]
    assert saga.ses_sent() == 1
    assert saga.sales() == []


def test_a_refused_transaction_publishes_nothing_and_the_relay_goes_on(saga: SagaHarness) -> None:
    """moto rolls a cancelled transaction back with a deep copy of the table: its stream records must not be
    published, and the relay must not be left reading an orphaned shard (local_stack/emulator.py sees to both)."""
    # Given a completed order
    buyer = saga.register_buyer("Diana Repetida")
    order = saga.wait_for_status(saga.place_order(buyer, saga.create_vehicle()).id, OrderStatus.AWAITING_PAYMENT)
    pix = saga.pay_at_psp(order)
    assert saga.notify(pix).body == {"received": 1, "newPayments": 1, "refundsChanged": 0}
    saga.wait_for_status(order.id, OrderStatus.COMPLETED)
    saga.settle()
    assert saga.delivered("complete-sale") == 1

    # When the PSP replays its call: the store refuses the transaction (the Pix's receipt exists)
    assert saga.notify(pix).body == {"received": 1, "newPayments": 0, "refundsChanged": 0}
    saga.settle()

    # Then no event of the refused transaction was published...
    assert len(saga.outbox(order.id, EventType.PAYMENT_CONFIRMED)) == 1
    assert saga.delivered("complete-sale") == 1
    # ...and the next order still goes through the saga
    other = saga.place_order(buyer, saga.create_vehicle())
    saga.wait_for_status(other.id, OrderStatus.AWAITING_PAYMENT, timeout=10)


# --- consumers crashing at random ----------------------------------------------------------------------------------


@saga_config(FAULT_INJECTION_RATE="0.3")
def test_orders_complete_despite_consumers_crashing_before_and_after_their_steps(saga: SagaHarness) -> None:
    # Given five buyers, each ordering a different vehicle, while every consumer crashes 30% of the time
    pairs = [
        (saga.register_buyer(f"Cliente {number}"), saga.create_vehicle(f"{60000 + number * 1000}.00"))
        for number in range(5)
    ]
    orders = {saga.place_order(buyer, vehicle).id: vehicle.id for buyer, vehicle in pairs}

    # When each is paid as soon as it awaits payment, and the dead letters are redriven as an operator would
    # (with two 30% rolls per delivery, about one delivery in eight fails three times and is dead-lettered)
    paid: set[str] = set()
    redriven = 0
    deadline = time.monotonic() + 120
    next_redrive = time.monotonic() + 1
    while True:
        current = {order_id: saga.order(order_id) for order_id in orders}
        for order in current.values():
            if order.status is OrderStatus.AWAITING_PAYMENT and order.id not in paid:
                assert saga.pay(order).status == 200
                paid.add(order.id)
        completed = all(order.status is OrderStatus.COMPLETED for order in current.values())
        if completed and all(saga.emails(order_id) for order_id in orders):
            break
        if time.monotonic() > next_redrive:
            redriven += saga.redrive()
            next_redrive = time.monotonic() + 1
        if time.monotonic() > deadline:
            states = {
                order_id: (o.status.value, history(o), len(saga.emails(order_id))) for order_id, o in current.items()
            }
            raise Timeout(f"orders did not all complete and notify: {states}")
        time.sleep(0.2)

    # Then every order completed once: each vehicle sold once, to its own order
    saga.settle()
    assert all(history(saga.order(order_id)) == HAPPY_PATH_EVENTS for order_id in orders)
    assert all(saga.vehicle(vehicle_id).status is VehicleStatus.SOLD for vehicle_id in orders.values())
    sales = saga.sales()
    assert sorted((sale["order_id"], sale["vehicle_id"]) for sale in sales) == sorted(orders.items())
    # And every client was told once, the sales team once per sale
    assert all(len(saga.emails(order_id)) == 1 for order_id in orders)
    assert saga.ses_sent() == 5
    notices = saga.sales_notices()
    assert sorted(notice["orderId"] for notice in notices) == sorted(orders)
    # (the faults did happen)
    assert saga.failures() > 0
    print(f"{saga.failures()} failed deliveries, {redriven} dead letters redriven")


# --- messages that are not events ---------------------------------------------------------------------------------


def test_messages_that_are_not_events_end_in_the_dead_letter_queue_and_can_be_redriven(saga: SagaHarness) -> None:
    # Given messages no consumer can handle, sent straight to a step's queue...
    poison = {
        "not JSON at all",
        event_json("InvoiceExploded", {}),
        # a real event type, but not one this queue takes
        event_json("SaleCompleted", {"clientId": "c", "vehicleId": "v", "amount": "1.00"}),
        # a well-formed OrderPlaced for an order that does not exist
        event_json("OrderPlaced", {"clientId": "c", "vehicleId": "v", "total": "1.00"}),
    }
    for body in poison:
        saga.send_to_queue("validate-client", body)
    # ...while a real order goes through the same queue
    buyer, vehicle = saga.register_buyer(), saga.create_vehicle()
    order = saga.place_order(buyer, vehicle)

    # Then after three receives each is in that queue's DLQ, and the real order is unaffected
    def validate_client_letters() -> list[str]:
        return [letter.body for letter in saga.dead_letters() if letter.queue == "validate-client"]

    wait_until(lambda: len(validate_client_letters()) == len(poison), "the poison to be dead-lettered", timeout=30)
    assert set(validate_client_letters()) == poison
    assert saga.wait_for_status(order.id, OrderStatus.AWAITING_PAYMENT).payment is not None
    assert [letter.queue for letter in saga.dead_letters() if letter.queue != "validate-client"] == []
    assert saga.queue_depth("validate-client") == 0

    # When they are redriven, they leave the DLQ for their queue, where the consumer gets them again (and fails
    # them again: back to the DLQ after three more receives, as before)
    received = saga.delivered("validate-client")
    assert saga.redrive("validate-client") == len(poison)
    assert validate_client_letters() == []
    wait_until(
        lambda: saga.delivered("validate-client") >= received + len(poison), "the redriven poison to be received"
    )


# --- a crash after a step's commit: the redelivery changes nothing ------------------------------------------------


class Crash:
    """Where the local stack's crashing consumers crash (local_stack/faults.py): once, at the point it is armed for."""

    def __init__(self) -> None:
        self.armed: str | None = None
        self.consumers = crashing_consumers(self)

    def __call__(self) -> str | None:
        where, self.armed = self.armed, None
        return where


def deliver(queue: str, event: DomainEvent, handlers: Mapping[str, Handler] = HANDLERS) -> Any:
    """Invoke the queue's consumer as Lambda would, with one SQS record carrying the event."""
    return handlers[queue](sqs_event(event.to_json(), queue=queue), lambda_context(queue))


def deliver_with_crashes(harness: SagaHarness, crash: Crash, queue: str, event: DomainEvent) -> None:
    """Deliver an event three times: crashing before the step (nothing written), crashing after its commit, and
    clean. The third delivery, like the second, must find the work done and write nothing, send nothing."""
    before = harness.table_snapshot()
    crash.armed = "before"
    with pytest.raises(BatchProcessingError):
        deliver(queue, event, crash.consumers)
    assert harness.table_snapshot() == before, f"{queue}: a crash before the step changed the table"

    crash.armed = "after"
    with pytest.raises(BatchProcessingError):
        deliver(queue, event, crash.consumers)
    committed = harness.table_snapshot()
    assert committed != before, f"{queue}: the step wrote nothing"
    emails, notices = len(harness.emails()), harness.queue_depth(SALES_NOTIFICATIONS_QUEUE.name)

    assert deliver(queue, event, crash.consumers) == {"batchItemFailures": []}
    assert harness.table_snapshot() == committed, f"{queue}: the redelivered event changed the table"
    assert len(harness.emails()) == emails, f"{queue}: the redelivered event sent another email"
    assert harness.queue_depth(SALES_NOTIFICATIONS_QUEUE.name) == notices


def next_event(harness: SagaHarness, order_id: str, event_type: EventType) -> DomainEvent:
    events = harness.outbox(order_id, event_type)
    assert len(events) == 1, f"expected one {event_type} in the outbox, found {len(events)}"
    return events[0]


@pytest.fixture
def crash(saga_settings: SagaHarness) -> Crash:
    return Crash()


@pytest.fixture
def buyer(saga_settings: SagaHarness) -> Client:
    return saga_settings.register_buyer("Carla Resiliente")


def test_each_step_crashing_after_its_commit_and_redelivered_changes_nothing_twice(
    saga_settings: SagaHarness, crash: Crash, buyer: Client
) -> None:
    harness = saga_settings  # no pollers: the test is the event source mapping
    vehicle = harness.create_vehicle("99000.00")
    order = harness.place_order(buyer, vehicle)

    steps = [
        ("validate-client", EventType.ORDER_PLACED),
        ("reserve-inventory", EventType.CLIENT_VALIDATED),
        ("request-payment", EventType.INVENTORY_RESERVED),
    ]
    for queue, event_type in steps:
        deliver_with_crashes(harness, crash, queue, next_event(harness, order.id, event_type))
    awaiting = harness.order(order.id)
    assert awaiting.status is OrderStatus.AWAITING_PAYMENT

    assert harness.pay(awaiting).status == 200
    deliver_with_crashes(harness, crash, "complete-sale", next_event(harness, order.id, EventType.PAYMENT_CONFIRMED))
    deliver_with_crashes(harness, crash, "notify", next_event(harness, order.id, EventType.SALE_COMPLETED))

    done = harness.order(order.id)
    assert done.status is OrderStatus.COMPLETED
    assert history(done) == HAPPY_PATH_EVENTS
    assert harness.vehicle(vehicle.id).status is VehicleStatus.SOLD
    assert [sale["order_id"] for sale in harness.sales()] == [order.id]
    assert len(harness.emails(order.id)) == 1
    assert [notice["orderId"] for notice in harness.sales_notices()] == [order.id]
    # One event of each kind in the outbox: no step emitted twice
    assert sorted(event.event_type.value for event in harness.outbox(order.id)) == sorted(HAPPY_PATH_EVENTS)


def test_compensation_crashing_after_its_commit_and_redelivered_changes_nothing_twice(
    saga_settings: SagaHarness, crash: Crash, buyer: Client
) -> None:
    harness = saga_settings
    vehicle = harness.create_vehicle()
    order = harness.write_awaiting_payment(buyer, vehicle)
    harness.cancel(order)

    cancellation = next_event(harness, order.id, EventType.CANCELLATION_REQUESTED)
    deliver_with_crashes(harness, crash, "compensate", cancellation)
    deliver_with_crashes(harness, crash, "notify", next_event(harness, order.id, EventType.ORDER_CANCELLED))

    cancelled = harness.order(order.id)
    assert (cancelled.status, cancelled.cancellation_reason) == (
        OrderStatus.CANCELLED,
        CancellationReason.CUSTOMER_CANCELLED,
    )
    assert harness.vehicle(vehicle.id).status is VehicleStatus.AVAILABLE
    assert len(harness.emails(order.id)) == 1


def test_a_crash_between_payment_and_sale_is_completed_by_the_redelivery(
    saga_settings: SagaHarness, buyer: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given an order awaiting payment, paid
    harness = saga_settings
    vehicle = harness.create_vehicle()
    order = harness.write_awaiting_payment(buyer, vehicle)
    assert harness.pay(order).status == 200
    confirmed = next_event(harness, order.id, EventType.PAYMENT_CONFIRMED)

    # When complete-sale dies after recording PAID, before recording the sale
    store = saga_services().store
    apply = store.apply
    crashed: list[Change] = []

    def crash_before_the_sale(change: Change) -> None:
        if change.sale is not None and not crashed:
            crashed.append(change)
            raise InjectedFault("the process died before the sale was written")
        apply(change)

    monkeypatch.setattr(store, "apply", crash_before_the_sale)
    with pytest.raises(BatchProcessingError):
        deliver("complete-sale", confirmed)
    assert crashed
    assert harness.order(order.id).status is OrderStatus.PAID
    assert harness.sales() == []

    # Then the redelivered PaymentConfirmed completes the sale, once
    assert deliver("complete-sale", confirmed) == {"batchItemFailures": []}
    assert deliver("complete-sale", confirmed) == {"batchItemFailures": []}
    done = harness.order(order.id)
    assert done.status is OrderStatus.COMPLETED
    assert history(done)[-3:] == ["PaymentConfirmed", "InvoiceIssued", "SaleCompleted"]
    assert harness.vehicle(vehicle.id).status is VehicleStatus.SOLD
    assert [sale["order_id"] for sale in harness.sales()] == [order.id]
    assert len(harness.outbox(order.id, EventType.SALE_COMPLETED)) == 1
