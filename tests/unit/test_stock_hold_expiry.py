"""A waiting order's hold on stock ends (PENDING_STOCK_TTL_HOURS, 72 by default).

Found from outside: an order for 8 units on hand plus 1 out of stock sat PENDING_STOCK holding the 8 units from
every other buyer for as long as the missing unit did not come. Now the expiry sweep cancels it past its hold
(STOCK_HOLD_EXPIRED), its units go back and on to the next in line (the restock flow), and the customer is told."""

from __future__ import annotations

from datetime import timedelta

from domain.catalog import Catalog
from domain.order_status import CancellationReason
from domain.order_status import OrderStatus as S
from domain.orders import ItemStatus
from domain.purchase import DEFAULT_PENDING_STOCK_TTL, Change
from tests.unit.factories import make_product
from tests.unit.saga_fakes import BRUNO, Saga

PHONE = "PRD-1001"
HEADSET = "PRD-2002"
HOLD = DEFAULT_PENDING_STOCK_TTL


def _saga() -> Saga:
    return Saga.build(
        vehicles=[],
        products=[
            make_product(sku=PHONE, description="Smartphone XYZ", unit_price="2500.00", stock_on_hand=8),
            make_product(sku=HEADSET, description="Fone de Ouvido Bluetooth", unit_price="150.00", stock_on_hand=0),
        ],
    )


def _available(saga: Saga, sku: str) -> int:
    return saga.product(sku).stock_available


def _holding_eight_phones(saga: Saga) -> None:
    """order-1: the 8 phones on hand (reserved) and a headset there is none of; order-2, an hour later, 2 phones."""
    saga.place_products([(PHONE, 8), (HEADSET, 1)], order_id="order-1", key="key-order-1")
    saga.run()
    saga.clock.advance(timedelta(hours=1))
    saga.place_products([(PHONE, 2)], order_id="order-2", client_id=BRUNO, key="key-order-2")
    saga.run()
    assert saga.order("order-1").status is S.PENDING_STOCK
    assert [item.status for item in saga.order("order-1").items] == [ItemStatus.RESERVED, ItemStatus.PENDING]
    assert saga.order("order-2").status is S.PENDING_STOCK
    assert _available(saga, PHONE) == 0


def _is_hold_expiry(change: Change) -> bool:
    return change.order is not None and change.order.cancellation_reason is CancellationReason.STOCK_HOLD_EXPIRED


def _catalog(saga: Saga) -> Catalog:
    return Catalog(vehicles=saga.vehicles, products=saga.products, clock=saga.clock, new_id=lambda: "unused")


def test_a_hold_past_its_time_is_cancelled_and_its_units_go_to_the_next_in_line() -> None:
    saga = _saga()
    _holding_eight_phones(saga)
    saga.clock.advance(HOLD - timedelta(hours=1) + timedelta(seconds=1))

    assert saga.purchase.expire_stock_holds() == 1
    saga.run()

    order = saga.order("order-1")
    assert order.status is S.CANCELLED
    assert order.cancellation_reason is CancellationReason.STOCK_HOLD_EXPIRED
    assert [item.status for item in order.items] == [ItemStatus.RELEASED, ItemStatus.RELEASED]
    assert order.history[-1].detail == f"waited for 1 x {HEADSET} longer than 72 hours"
    assert saga.store.waiting_orders(HEADSET, 10) == []
    assert _available(saga, PHONE) == 8
    # The restock flow (the stream sees PHONE's available stock rise) hands them to the next in line.
    assert saga.purchase.resume_pending(PHONE) == 1
    saga.run()
    assert saga.order("order-2").status is S.AWAITING_PAYMENT
    assert _available(saga, PHONE) == 6
    # The customer is told, once, why.
    [email] = [email for email in saga.mailer.sent if "order-1" in email.subject]
    assert email.subject == "Pedido order-1 cancelado"
    assert "o prazo de espera pelo estoque de um dos produtos terminou" in email.body


def test_a_hold_within_its_time_is_left_alone() -> None:
    saga = _saga()
    _holding_eight_phones(saga)
    saga.clock.advance(HOLD - timedelta(hours=2))

    assert saga.purchase.expire_stock_holds() == 0
    assert saga.order("order-1").status is S.PENDING_STOCK


def test_the_hold_is_configurable() -> None:
    saga = _saga()
    _holding_eight_phones(saga)

    assert saga.purchase.expire_stock_holds(ttl=timedelta(hours=2)) == 0
    saga.clock.advance(timedelta(hours=1, seconds=1))
    # order-1 has waited 2 hours and a second, order-2 one hour and a second.
    assert saga.purchase.expire_stock_holds(ttl=timedelta(hours=2)) == 1
    assert saga.order("order-2").status is S.PENDING_STOCK


def test_a_second_sweep_and_redelivery_change_nothing() -> None:
    saga = _saga()
    _holding_eight_phones(saga)
    saga.clock.advance(HOLD + timedelta(hours=1))
    assert saga.purchase.expire_stock_holds() == 2

    assert saga.purchase.expire_stock_holds() == 0
    saga.run(times=2)

    assert _available(saga, PHONE) == 8
    cancelled = [email for email in saga.mailer.sent if email.subject.endswith("cancelado")]
    assert sorted(email.subject for email in cancelled) == ["Pedido order-1 cancelado", "Pedido order-2 cancelado"]


def test_a_restock_that_completes_the_order_first_wins() -> None:
    saga = _saga()
    _holding_eight_phones(saga)
    saga.clock.advance(HOLD + timedelta(hours=1))

    def headset_arrives() -> None:
        _catalog(saga).adjust_stock(HEADSET, 1)
        saga.purchase.resume_pending(HEADSET)

    # The headset arrives between the sweep's read of order-1 and its write.
    saga.store.before_apply(lambda change: _is_hold_expiry(change) and change.order.id == "order-1", headset_arrives)  # type: ignore[union-attr]
    saga.purchase.expire_stock_holds()
    saga.run()

    order = saga.order("order-1")
    assert order.status is S.AWAITING_PAYMENT
    assert [item.status for item in order.items] == [ItemStatus.RESERVED, ItemStatus.RESERVED]
    assert saga.product(PHONE).stock_reserved == 8
    assert saga.product(HEADSET).stock_reserved == 1
    assert not any(email.subject == "Pedido order-1 cancelado" for email in saga.mailer.sent)


def test_an_expiry_that_lands_first_wins_over_the_restock() -> None:
    saga = _saga()
    _holding_eight_phones(saga)
    saga.clock.advance(HOLD + timedelta(seconds=1))
    _catalog(saga).adjust_stock(HEADSET, 1)

    # The sweep cancels order-1 between the restock's read of it and its write.
    def reserves_order_1(change: Change) -> bool:
        return change.order is not None and change.order.id == "order-1" and change.order.status is S.RESERVED

    saga.store.before_apply(reserves_order_1, saga.purchase.expire_stock_holds)
    saga.purchase.resume_pending(HEADSET)
    saga.run()

    order = saga.order("order-1")
    assert order.status is S.CANCELLED
    assert order.cancellation_reason is CancellationReason.STOCK_HOLD_EXPIRED
    # Nothing is held by the cancelled order: the headset is still there, the phones back on the shelf.
    assert saga.product(HEADSET).stock_reserved == 0
    assert _available(saga, HEADSET) == 1
    assert saga.product(PHONE).stock_reserved == 0


def test_an_order_awaiting_payment_is_not_a_stock_hold() -> None:
    saga = _saga()
    saga.place_products([(PHONE, 1)], order_id="order-1", key="key-order-1")
    saga.run()
    assert saga.order("order-1").status is S.AWAITING_PAYMENT

    saga.clock.advance(HOLD * 2)

    assert saga.purchase.expire_stock_holds() == 0
