"""Orders of product items through the saga: stock reserved in one transaction or the order left waiting for it,
waiting orders resumed when stock arrives, invoices numbered and confirmed by committing the stock, and the
ERROR_STOCK compensation. Over memory stores, events delivered by hand (tests/unit/saga_fakes.py)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from domain.catalog import Catalog
from domain.errors import Conflict, Forbidden, NotFound, ValidationFailed
from domain.events import EventType as E
from domain.order_status import CancellationReason, InvoiceStatus
from domain.order_status import OrderStatus as S
from domain.orders import ItemStatus, PaymentStatus
from domain.products import Product
from domain.purchase import Change, StockChanged, StockMove, StockMoveKind
from domain.values import Money
from tests.unit.factories import make_product
from tests.unit.saga_fakes import ANA, BRUNO, Saga

PHONE = "PRD-1001"
HEADSET = "PRD-2002"


def _saga(phone_stock: int = 10, headset_stock: int = 10) -> Saga:
    return Saga.build(
        vehicles=[],
        products=[
            make_product(sku=PHONE, description="Smartphone XYZ", unit_price="2500.00", stock_on_hand=phone_stock),
            make_product(
                sku=HEADSET, description="Fone de Ouvido Bluetooth", unit_price="150.00", stock_on_hand=headset_stock
            ),
        ],
    )


def _stock(saga: Saga, sku: str) -> tuple[int, int, int]:
    product = saga.product(sku)
    return product.stock_on_hand, product.stock_reserved, product.stock_available


def _set_stock(saga: Saga, sku: str, *, on_hand: int, reserved: int) -> Product:
    """What a write outside the application (a hand-edited table, a bad migration) could leave behind."""
    product = saga.product(sku)
    return saga.products.save(replace(product, stock_on_hand=on_hand, stock_reserved=reserved))


def _catalog(saga: Saga) -> Catalog:
    return Catalog(vehicles=saga.vehicles, products=saga.products, clock=saga.clock, new_id=lambda: "unused")


# --- placing -------------------------------------------------------------------------------------------------------


def test_a_product_order_is_placed_at_catalogue_prices_with_its_items() -> None:
    saga = _saga()
    order = saga.place_products([(PHONE, 1), (HEADSET.lower(), 2)])
    assert order.status is S.PLACED
    assert [(i.ref_id, i.quantity, str(i.unit_price), i.status) for i in order.items] == [
        (PHONE, 1, "2500.00", None),
        (HEADSET, 2, "150.00", None),
    ]
    assert order.total == Money.parse("2800.00")
    placed = saga.one(E.ORDER_PLACED)
    assert placed.payload["items"] == [
        {"ref": PHONE, "kind": "PRODUCT", "quantity": 1},
        {"ref": HEADSET, "kind": "PRODUCT", "quantity": 2},
    ]
    assert "vehicleId" not in placed.payload


@pytest.mark.parametrize(
    ("lines", "field"),
    [
        ([], "items"),
        ([(PHONE, 0)], "items[0].quantity"),
        ([(PHONE, -1)], "items[0].quantity"),
        ([(PHONE, 1), (HEADSET, 100_001)], "items[1].quantity"),
        ([(PHONE, 1), ("prd-1001", 1)], "items[1].productId"),
        ([("not a sku!", 1)], "items[0].productId"),
        ([(f"PRD-{n}", 1) for n in range(41)], "items"),
    ],
)
def test_bad_lines_are_refused_naming_the_field_and_nothing_is_written(
    lines: list[tuple[str, int]], field: str
) -> None:
    saga = _saga()
    with pytest.raises(ValidationFailed) as refused:
        saga.place_products(lines)
    assert refused.value.field == field
    assert saga.store.outbox == []


def test_an_unknown_product_is_not_found_naming_its_line() -> None:
    saga = _saga()
    with pytest.raises(NotFound) as refused:
        saga.place_products([(PHONE, 1), ("PRD-9999", 1)])
    assert refused.value.field == "items[1].productId"
    assert saga.store.outbox == []


def test_only_clients_order_products() -> None:
    saga = _saga()
    with pytest.raises(Forbidden):
        saga.place_products([(PHONE, 1)], client_id="someone-unregistered")


def test_the_same_key_returns_the_same_order_and_another_cart_under_it_is_a_conflict() -> None:
    saga = _saga()
    first = saga.place_products([(PHONE, 1)])
    again = saga.place_products([(PHONE, 1)], order_id="order-2")
    assert again.id == first.id
    with pytest.raises(Conflict) as refused:
        saga.place_products([(PHONE, 2)], order_id="order-3")
    assert refused.value.field == "idempotencyKey"
    assert len(saga.written_types()) == 1


# --- reserving -----------------------------------------------------------------------------------------------------


def test_every_item_in_stock_is_reserved_in_one_change_and_the_order_goes_on_to_payment() -> None:
    saga = _saga()
    saga.place_products([(PHONE, 1), (HEADSET, 2)])
    saga.run()
    order = saga.order()
    assert order.status is S.AWAITING_PAYMENT
    assert [item.status for item in order.items] == [ItemStatus.RESERVED, ItemStatus.RESERVED]
    assert _stock(saga, PHONE) == (10, 1, 9)
    assert _stock(saga, HEADSET) == (10, 2, 8)
    assert order.payment is not None
    assert order.payment.amount == Money.parse("2800.00")


def test_a_short_item_leaves_the_order_pending_with_each_item_marked_and_staff_alerted() -> None:
    saga = _saga(headset_stock=1)
    saga.place_products([(PHONE, 1), (HEADSET, 2)])
    saga.run()
    order = saga.order()
    assert order.status is S.PENDING_STOCK
    assert [(item.ref_id, item.status) for item in order.items] == [
        (PHONE, ItemStatus.RESERVED),
        (HEADSET, ItemStatus.PENDING),
    ]
    # What is there is held for the order; what is short is not touched.
    assert _stock(saga, PHONE) == (10, 1, 9)
    assert _stock(saga, HEADSET) == (1, 0, 1)
    assert saga.one(E.STOCK_PENDING).payload["pendingItems"] == [{"productId": HEADSET, "quantity": 2, "available": 1}]
    assert saga.store.waiting_orders(HEADSET, 10) == ["order-1"]
    [(subject, alert)] = saga.alerts.published
    assert subject == "Pedido order-1 aguardando estoque"
    assert alert["pendingItems"] == [{"productId": HEADSET, "quantity": 2, "available": 1}]
    assert saga.mailer.sent == []  # not the end of the order: the customer hears when it ends


def test_stock_arriving_resumes_waiting_orders_oldest_first() -> None:
    # Given three orders waiting for headsets, placed in this order, and none in stock
    saga = _saga(headset_stock=0)
    saga.place_products([(HEADSET, 2)], order_id="order-1", key="key-order-1")
    saga.clock.advance()
    saga.place_products([(HEADSET, 2)], order_id="order-2", client_id=BRUNO, key="key-order-2")
    saga.clock.advance()
    saga.place_products([(HEADSET, 1)], order_id="order-3", key="key-order-3")
    saga.run()
    assert {saga.order(o).status for o in ("order-1", "order-2", "order-3")} == {S.PENDING_STOCK}
    assert saga.store.waiting_orders(HEADSET, 10) == ["order-1", "order-2", "order-3"]
    # When three headsets arrive
    _catalog(saga).adjust_stock(HEADSET, 3)
    resumed = saga.purchase.resume_pending(HEADSET)
    saga.run()
    # Then the oldest order takes two, the next cannot have two of the one left, the youngest takes the last
    assert resumed == 2
    assert saga.order("order-1").status is S.AWAITING_PAYMENT
    assert saga.order("order-2").status is S.PENDING_STOCK
    assert saga.order("order-3").status is S.AWAITING_PAYMENT
    assert _stock(saga, HEADSET) == (3, 3, 0)
    assert saga.store.waiting_orders(HEADSET, 10) == ["order-2"]
    # And more stock later finishes the last one
    _catalog(saga).adjust_stock(HEADSET, 5)
    assert saga.purchase.resume_pending(HEADSET) == 1
    assert _stock(saga, HEADSET) == (8, 5, 3)
    assert saga.store.waiting_orders(HEADSET, 10) == []


def test_an_order_waiting_for_two_products_moves_on_only_when_both_are_there() -> None:
    saga = _saga(phone_stock=0, headset_stock=0)
    saga.place_products([(PHONE, 1), (HEADSET, 1)])
    saga.run()
    _catalog(saga).adjust_stock(PHONE, 1)
    saga.purchase.resume_pending(PHONE)
    order = saga.order()
    assert order.status is S.PENDING_STOCK
    assert [item.status for item in order.items] == [ItemStatus.RESERVED, ItemStatus.PENDING]
    assert order.history[-1].detail == f"reserved 1 x {PHONE}; still waiting"
    _catalog(saga).adjust_stock(HEADSET, 1)
    saga.purchase.resume_pending(HEADSET)
    saga.run()
    assert saga.order().status is S.AWAITING_PAYMENT


def test_nothing_arriving_changes_nothing() -> None:
    saga = _saga(headset_stock=0)
    saga.place_products([(HEADSET, 1)])
    saga.run()
    version = saga.order().version
    assert saga.purchase.resume_pending(HEADSET) == 0
    assert saga.order().version == version


def test_orders_for_the_last_units_never_oversell() -> None:
    # Given five headsets and four clients' orders of two each
    saga = _saga(headset_stock=5)
    for n in range(1, 5):
        saga.place_products(
            [(HEADSET, 2)], order_id=f"order-{n}", client_id=ANA if n % 2 else BRUNO, key=f"key-{n:04d}"
        )
    saga.run()
    statuses = [saga.order(f"order-{n}").status for n in range(1, 5)]
    # Then two are reserved, the others wait, and the stock is never below zero
    assert statuses.count(S.AWAITING_PAYMENT) == 2
    assert statuses.count(S.PENDING_STOCK) == 2
    assert _stock(saga, HEADSET) == (5, 4, 1)


def test_a_reservation_that_loses_the_race_for_the_last_units_reads_again_and_waits() -> None:
    # Given two headsets, and another order taking both between this order's read and its write
    saga = _saga(headset_stock=2)
    saga.place_products([(HEADSET, 2)], order_id="order-1", key="key-order-1")
    saga.place_products([(HEADSET, 2)], order_id="order-2", client_id=BRUNO, key="key-order-2")
    saga.deliver(saga.take(E.ORDER_PLACED, "order-1"))
    saga.deliver(saga.take(E.ORDER_PLACED, "order-2"))

    def rival_reserves() -> None:
        saga.deliver(saga.take(E.CLIENT_VALIDATED, "order-2"))

    saga.store.before_apply(
        lambda change: change.order is not None and change.order.id == "order-1" and bool(change.stock),
        rival_reserves,
    )
    saga.deliver(saga.take(E.CLIENT_VALIDATED, "order-1"))
    # Then the rival holds both, and this order, deciding again on fresh stock, waits instead of overselling
    assert saga.order("order-2").status is S.RESERVED
    assert saga.order("order-1").status is S.PENDING_STOCK
    assert _stock(saga, HEADSET) == (2, 2, 0)


def test_an_order_does_not_start_waiting_for_stock_that_arrived_meanwhile() -> None:
    # Given no headsets, and a delivery landing between the reservation's read and its write
    saga = _saga(headset_stock=0)
    saga.place_products([(HEADSET, 1)])
    saga.deliver(saga.take(E.ORDER_PLACED))
    saga.store.before_apply(
        lambda change: any(move.kind is StockMoveKind.SHORT for move in change.stock),
        lambda: _catalog(saga).adjust_stock(HEADSET, 1),
    )
    saga.deliver(saga.take(E.CLIENT_VALIDATED))
    # Then the order, reading again, reserves what arrived: no order waits for stock that is on the shelf
    assert saga.order().status is S.RESERVED
    assert saga.store.waiting_orders(HEADSET, 10) == []


# --- paying, invoicing, completing ---------------------------------------------------------------------------------


def test_payment_issues_a_numbered_invoice_and_committing_the_stock_confirms_it() -> None:
    saga = _saga()
    saga.place_products([(PHONE, 1), (HEADSET, 2)])
    saga.run()
    assert saga.pay()
    saga.run()
    order = saga.order()
    assert order.status is S.COMPLETED
    assert order.invoice is not None
    assert order.invoice.status is InvoiceStatus.CONFIRMED
    assert order.invoice.number == "000000001"
    assert order.payment is not None
    assert order.payment.status is PaymentStatus.PAID
    # The goods left: on hand and reserved both down
    assert _stock(saga, PHONE) == (9, 0, 9)
    assert _stock(saga, HEADSET) == (8, 0, 8)
    assert saga.written_types()[-3:] == ["PaymentConfirmed", "InvoiceIssued", "SaleCompleted"]
    document = saga.archive.documents["invoices/order-1/NF-000000001.html"]
    for text in ("Smartphone XYZ", "Fone de Ouvido Bluetooth", "R$ 2.500,00", "R$ 300,00", "R$ 2.800,00"):
        assert text in document
    [email] = saga.mailer.sent
    assert "Nota fiscal nº 000000001" in email.body


def test_invoice_numbers_follow_each_other_across_orders() -> None:
    saga = _saga()
    for n in (1, 2, 3):
        saga.place_products([(PHONE, 1)], order_id=f"order-{n}", key=f"key-order-{n}")
        saga.run()
        assert saga.pay(f"order-{n}", provider_event_id=f"evt-{n}")
        saga.run()
    numbers = [saga.order(f"order-{n}").invoice for n in (1, 2, 3)]
    assert [invoice.number for invoice in numbers if invoice is not None] == ["000000001", "000000002", "000000003"]


def test_an_invoice_that_loses_its_number_to_another_takes_the_next() -> None:
    saga = _saga()
    for n in (1, 2):
        saga.place_products([(PHONE, 1)], order_id=f"order-{n}", key=f"key-order-{n}")
    saga.run()
    for n in (1, 2):
        assert saga.pay(f"order-{n}", provider_event_id=f"evt-{n}")
    first = saga.take(E.PAYMENT_CONFIRMED, "order-1")
    second = saga.take(E.PAYMENT_CONFIRMED, "order-2")
    saga.store.before_apply(
        lambda change: change.invoice_number is not None and change.order is not None and change.order.id == "order-1",
        lambda: saga.deliver(second),
    )
    saga.deliver(first)
    invoices = {invoice.number for o in ("order-1", "order-2") if (invoice := saga.order(o).invoice) is not None}
    assert invoices == {"000000001", "000000002"}
    assert saga.store.last_invoice_number() == 2


def test_every_event_delivered_twice_completes_once_with_one_invoice_and_one_email() -> None:
    saga = _saga()
    saga.place_products([(PHONE, 1), (HEADSET, 2)])
    saga.run(times=2)
    assert saga.pay()
    saga.run(times=2)
    assert saga.order().status is S.COMPLETED
    assert _stock(saga, PHONE) == (9, 0, 9)
    assert _stock(saga, HEADSET) == (8, 0, 8)
    assert saga.store.last_invoice_number() == 1
    assert len(saga.mailer.sent) == 1
    saga.replay_all()
    assert _stock(saga, HEADSET) == (8, 0, 8)
    assert len(saga.mailer.sent) == 1


def test_stock_that_cannot_be_committed_fails_the_invoice_cancels_the_order_and_owes_the_money() -> None:
    # Given a paid order whose reserved headsets vanished from the shelf behind the application's back
    saga = _saga()
    saga.place_products([(PHONE, 1), (HEADSET, 2)])
    saga.run()
    _set_stock(saga, HEADSET, on_hand=0, reserved=2)
    assert saga.pay()
    saga.run()
    # Then the invoice is ERROR_STOCK, the order cancelled as out of stock, the payment owed back
    order = saga.order()
    assert order.invoice is not None
    assert order.invoice.status is InvoiceStatus.ERROR_STOCK
    assert order.status is S.CANCELLED
    assert order.cancellation_reason is CancellationReason.OUT_OF_STOCK
    assert order.refund_owed == Money.parse("2800.00")
    # And what was reserved went back: nothing was sold, nothing is held
    assert _stock(saga, PHONE) == (10, 0, 10)
    assert _stock(saga, HEADSET) == (0, 0, 0)
    assert [item.status for item in order.items] == [ItemStatus.RELEASED, ItemStatus.RELEASED]
    # ...and the refund step gives the money back at once (the fake provider settles it): RefundCompleted
    assert saga.written_types()[-5:] == [
        "InvoiceIssued",
        "InvoiceFailed",
        "OrderCancelled",
        "RefundOwed",
        "RefundCompleted",
    ]
    # And the customer hears of the cancellation once, with the refund in the same email; then that it is done
    email, done = saga.mailer.sent
    assert email.subject == "Pedido order-1 cancelado"
    assert "R$ 2800.00, será devolvido" in email.body
    assert done.subject == "Pedido order-1: valor devolvido"
    assert "Devolvemos R$ 2800.00 por Pix" in done.body


def test_a_vehicle_that_cannot_be_committed_fails_the_invoice_and_frees_nothing_it_does_not_hold() -> None:
    saga = Saga.build()
    saga.place()
    saga.run()
    vehicle = saga.vehicle()
    # The reservation was lost behind the application's back
    saga.vehicles.save(replace(vehicle, reserved_by="someone-else"))
    assert saga.pay()
    saga.run()
    order = saga.order()
    assert order.invoice is not None
    assert order.invoice.status is InvoiceStatus.ERROR_STOCK
    assert order.status is S.CANCELLED
    assert order.cancellation_reason is CancellationReason.VEHICLE_UNAVAILABLE
    assert order.refund_owed == order.total
    assert saga.vehicle().reserved_by == "someone-else"


# --- cancelling ----------------------------------------------------------------------------------------------------


def test_cancelling_a_waiting_order_gives_back_what_it_held_and_its_place_in_line() -> None:
    saga = _saga(headset_stock=0)
    saga.place_products([(PHONE, 3), (HEADSET, 1)])
    saga.run()
    assert _stock(saga, PHONE) == (10, 3, 7)
    saga.purchase.cancel_by_customer("order-1", requested_by=ANA, is_admin=False)
    saga.run()
    order = saga.order()
    assert order.status is S.CANCELLED
    assert [item.status for item in order.items] == [ItemStatus.RELEASED, ItemStatus.RELEASED]
    assert _stock(saga, PHONE) == (10, 0, 10)
    assert saga.store.waiting_orders(HEADSET, 10) == []
    # Delivered again, the compensation gives back nothing twice
    saga.replay_all()
    assert _stock(saga, PHONE) == (10, 0, 10)


def test_an_expired_payment_releases_the_reserved_stock() -> None:
    saga = _saga()
    saga.place_products([(HEADSET, 4)])
    saga.run()
    order = saga.order()
    assert order.payment is not None
    saga.clock.advance(order.payment.expires_at - saga.clock.now())
    assert saga.purchase.expire_due_payments() == 1
    saga.run()
    assert saga.order().status is S.CANCELLED
    assert _stock(saga, HEADSET) == (10, 0, 10)


def test_a_compensation_applied_once_even_when_the_store_refuses_a_stale_write() -> None:
    saga = _saga()
    saga.place_products([(HEADSET, 4)])
    saga.run()
    saga.purchase.cancel_by_customer("order-1", requested_by=ANA, is_admin=False)
    cancellation = saga.take(E.CANCELLATION_REQUESTED)
    saga.deliver(cancellation)
    saga.deliver(cancellation)
    assert _stock(saga, HEADSET) == (10, 0, 10)
    assert saga.written_types().count("OrderCancelled") == 1


def test_the_store_refuses_a_reservation_beyond_what_is_available() -> None:
    saga = _saga(headset_stock=1)
    saga.place_products([(HEADSET, 2)])
    order = saga.order()
    reserved = replace(order, items=tuple(replace(item, status=ItemStatus.RESERVED) for item in order.items))
    with pytest.raises(StockChanged):
        saga.store.apply(Change(order=reserved, stock=(StockMove(HEADSET, 2, StockMoveKind.RESERVE),)))
    assert _stock(saga, HEADSET) == (1, 0, 1)
