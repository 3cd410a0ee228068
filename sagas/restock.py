"""Stock arrived (a delivery, or a cancelled order giving back what it held): the orders waiting for it try again.

Read from the table's stream, so that no arrival is missed: a product whose available stock went up in a write is
a product whose waiting orders, oldest first, may now be reserved. A failure is retried with the stream record.
"""

from __future__ import annotations

from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord

from runtime.logs import service_logger
from sagas.wiring import saga_services

logger = service_logger("restock")
_PRODUCT_PREFIX = "PRODUCT#"


def _available(image: dict[str, object]) -> int | None:
    value = image.get("stock_available")
    return None if value is None else int(str(value))


def resume_waiting_orders(record: DynamoDBRecord) -> None:
    if record.event_name is None or record.event_name.name not in {"INSERT", "MODIFY"} or record.dynamodb is None:
        return
    new_image = record.dynamodb.new_image
    if not str(new_image.get("PK", "")).startswith(_PRODUCT_PREFIX):
        return
    before, after = _available(record.dynamodb.old_image), _available(new_image)
    if after is None or after <= 0 or (before is not None and after <= before):
        return
    sku = str(new_image["sku"])
    resumed = saga_services().purchase.resume_pending(sku)
    logger.info("stock arrived", extra={"sku": sku, "available": after, "orders_resumed": resumed})
