"""A waiting order's stock hold ends, through the running saga against the emulator: the sweep finds it in the stock
lines' sparse index (GSI1, STOCK_HOLDS), cancels it (STOCK_HOLD_EXPIRED) in one conditional transaction, the
table's stream hands its units to the next in line, and the customer gets the cancellation's email.

The sweep is called here with a hold that ends between the two orders' placing times, so that the test does not
depend on how fast this machine runs the saga; the schedule runs the same call with PENDING_STOCK_TTL_HOURS."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

pytest_plugins = ["tests.integration.saga_harness"]

from domain.order_status import CancellationReason, OrderStatus  # noqa: E402
from domain.orders import ItemStatus, Order  # noqa: E402
from domain.products import Product  # noqa: E402
from tests.integration.saga_harness import SagaHarness, new_key  # noqa: E402


def _product(saga: SagaHarness, stock: int) -> Product:
    return saga.services.catalog.create_product(
        sku=f"PRD-{uuid.uuid4().hex[:8].upper()}",
        description="Fone de Ouvido Bluetooth",
        unit_price=Decimal("150.00"),
        initial_stock=stock,
    )


def _place(saga: SagaHarness, lines: list[tuple[str, int]]) -> Order:
    client = saga.register_buyer()
    return saga.services.purchase.place_product_order(
        client_id=client.id, lines=lines, idempotency_key=new_key(), order_id=new_key(), correlation_id=new_key()
    )


def test_a_hold_past_its_time_is_cancelled_and_its_units_go_to_the_next_in_line(saga: SagaHarness) -> None:
    # Given 8 phones on hand held by an order that also waits for a headset there is none of
    phones, headsets = _product(saga, stock=8), _product(saga, stock=0)
    holder = _place(saga, [(phones.sku, 8), (headsets.sku, 1)])
    pending = saga.wait_for_status(holder.id, OrderStatus.PENDING_STOCK)
    assert [item.status for item in pending.items] == [ItemStatus.RESERVED, ItemStatus.PENDING]
    # And, a few seconds later, another buyer waiting for two of those phones
    time.sleep(3)
    next_in_line = _place(saga, [(phones.sku, 2)])
    saga.wait_for_status(next_in_line.id, OrderStatus.PENDING_STOCK)

    # When the holder's hold runs out (and not the next one's), the sweep cancels the holder for its own reason
    hold = datetime.now(UTC) - holder.placed_at - timedelta(seconds=1)
    assert saga.services.purchase.expire_stock_holds(ttl=hold) == 1
    cancelled = saga.wait_for_status(holder.id, OrderStatus.CANCELLED)
    assert cancelled.cancellation_reason is CancellationReason.STOCK_HOLD_EXPIRED
    assert [item.status for item in cancelled.items] == [ItemStatus.RELEASED, ItemStatus.RELEASED]
    # Then the phones go to the next in line, by the restock flow, and nothing is held by the cancelled order
    resumed = saga.wait_for_status(next_in_line.id, OrderStatus.AWAITING_PAYMENT)
    assert [item.status for item in resumed.items] == [ItemStatus.RESERVED]
    assert saga.services.products.get(phones.sku).stock_reserved == 2  # type: ignore[union-attr]
    assert saga.services.purchase.store.waiting_orders(headsets.sku, 10) == []
    # And the customer is told, once
    [email] = saga.wait_for_emails(holder.id, 1)
    assert email["subject"] == f"Pedido {holder.id} cancelado"
    assert "o prazo de espera pelo estoque" in email["body"]
