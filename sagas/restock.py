"""Stock arrived (a delivery, or a cancelled order giving back what it held): the orders waiting for it try again.

Read from the table's stream, so that no arrival is missed: a product whose available stock went up in a write is
a product whose waiting orders, oldest first, may now be reserved. A failure is retried with the stream record.
"""

from __future__ import annotations

from persistence.stream import StockChanged
from runtime.logs import service_logger
from sagas.wiring import saga_services

logger = service_logger("restock")


def resume_waiting_orders(change: StockChanged) -> None:
    before, after = change.available_before, change.available_after
    if after is None or after <= 0 or (before is not None and after <= before):
        return
    sku = change.sku
    resumed = saga_services().purchase.resume_pending(sku)
    logger.info("stock arrived", extra={"sku": sku, "available": after, "orders_resumed": resumed})
