"""PynamoDB models of the single table. Their keys are spelled in keys.py and nowhere else (see schema.py)."""

from __future__ import annotations

from typing import Any

from pynamodb.attributes import (
    MapAttribute,
    NumberAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
    VersionAttribute,
)
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model

from persistence import keys, schema


class ListIndex(GlobalSecondaryIndex[Any]):
    class Meta:
        index_name = schema.LIST_INDEX
        projection = AllProjection()

    gsi1pk = UnicodeAttribute(hash_key=True, attr_name=schema.LIST_INDEX_PARTITION_KEY)
    gsi1sk = UnicodeAttribute(range_key=True, attr_name=schema.LIST_INDEX_SORT_KEY)


class TableItem(Model):
    """Every item of the single table, on the table that `bind` names."""

    class Meta:
        # None until `bind`: PynamoDB refuses to use a model whose table has no name, so an unbound use fails loudly.
        table_name: str | None = None
        region: str | None = None
        host: str | None = None

    pk = UnicodeAttribute(hash_key=True, attr_name=schema.PARTITION_KEY)
    sk = UnicodeAttribute(range_key=True, attr_name=schema.SORT_KEY)

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        # PynamoDB caches one connection per class, knowing that class's indexes. Inherited from this base (after
        # a health check, say), it would know none, and every index query of the subclass would fail.
        cls._connection = None


def bind(table_name: str, region: str, endpoint_url: str | None) -> None:
    """Put every model on this table: the composition root binds them once, from its settings, before any store
    is used (PynamoDB would otherwise fix the table when a model class is defined, from whatever was read then)."""
    meta = TableItem.Meta
    if (meta.table_name, meta.region, meta.host) == (table_name, region, endpoint_url):
        return
    meta.table_name, meta.region, meta.host = table_name, region, endpoint_url
    # Each model caches a connection to the table it was bound to: the next use opens one to this table.
    pending: list[type[TableItem]] = [TableItem]
    while pending:
        model = pending.pop()
        model._connection = None
        pending.extend(model.__subclasses__())


class VehicleItem(TableItem):
    gsi1pk = UnicodeAttribute(attr_name=schema.LIST_INDEX_PARTITION_KEY)
    gsi1sk = UnicodeAttribute(attr_name=schema.LIST_INDEX_SORT_KEY)
    by_list = ListIndex()

    id = UnicodeAttribute()
    brand = UnicodeAttribute()
    model = UnicodeAttribute()
    year = NumberAttribute()
    color = UnicodeAttribute()
    # Prices are whole cents in a NumberAttribute: PynamoDB reads numbers back as int or float, never Decimal.
    price_cents = NumberAttribute()
    status = UnicodeAttribute()
    version = VersionAttribute()
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()
    reserved_by = UnicodeAttribute(null=True)

    key = staticmethod(keys.vehicle)
    list_partition = staticmethod(keys.vehicles_by_status)
    list_sort = staticmethod(keys.vehicle_list_sort)


class AddressMap(MapAttribute[str, Any]):
    street = UnicodeAttribute()
    number = UnicodeAttribute()
    complement = UnicodeAttribute(null=True)
    neighborhood = UnicodeAttribute()
    city = UnicodeAttribute()
    state = UnicodeAttribute()
    zip_code = UnicodeAttribute()


class ClientItem(TableItem):
    id = UnicodeAttribute()
    name = UnicodeAttribute()
    cpf = UnicodeAttribute()
    email = UnicodeAttribute()
    phone = UnicodeAttribute()
    address = AddressMap()
    created_at = UTCDateTimeAttribute()

    key = staticmethod(keys.client)


class UniqueValueItem(TableItem):
    """A marker that claims a unique value (an email, a CPF) for one owner: keys.client_email, keys.client_cpf."""

    owner_id = UnicodeAttribute()


class ProductItem(TableItem):
    gsi1pk = UnicodeAttribute(attr_name=schema.LIST_INDEX_PARTITION_KEY)
    gsi1sk = UnicodeAttribute(attr_name=schema.LIST_INDEX_SORT_KEY)
    by_list = ListIndex()

    sku = UnicodeAttribute()
    description = UnicodeAttribute()
    unit_price_cents = NumberAttribute()
    stock_on_hand = NumberAttribute()
    stock_reserved = NumberAttribute()
    # on hand - reserved, kept in step by every write: a condition can compare it, not compute it.
    stock_available = NumberAttribute()
    version = VersionAttribute()
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()

    LIST_PARTITION = keys.PRODUCTS_LIST
    key = staticmethod(keys.product)


class SecondListIndex(GlobalSecondaryIndex[Any]):
    class Meta:
        index_name = schema.SECOND_LIST_INDEX
        projection = AllProjection()

    gsi2pk = UnicodeAttribute(hash_key=True, attr_name=schema.SECOND_LIST_INDEX_PARTITION_KEY)
    gsi2sk = UnicodeAttribute(range_key=True, attr_name=schema.SECOND_LIST_INDEX_SORT_KEY)


class OrderItem(TableItem):
    """An order: indexed attributes at the top, the rest (items, history, payment) as one JSON document."""

    gsi1pk = UnicodeAttribute(attr_name=schema.LIST_INDEX_PARTITION_KEY)
    gsi1sk = UnicodeAttribute(attr_name=schema.LIST_INDEX_SORT_KEY)
    gsi2pk = UnicodeAttribute(attr_name=schema.SECOND_LIST_INDEX_PARTITION_KEY)
    gsi2sk = UnicodeAttribute(attr_name=schema.SECOND_LIST_INDEX_SORT_KEY)
    by_list = ListIndex()
    by_second_list = SecondListIndex()

    id = UnicodeAttribute()
    client_id = UnicodeAttribute()
    status = UnicodeAttribute()
    document = UnicodeAttribute()
    version = VersionAttribute()

    ALL_ORDERS = keys.ALL_ORDERS_LIST
    key = staticmethod(keys.order)
    client_partition = staticmethod(keys.client_orders)


class PaymentItem(TableItem):
    # Present only while the payment is pending: the expiry sweep's index holds nothing else.
    gsi1pk = UnicodeAttribute(attr_name=schema.LIST_INDEX_PARTITION_KEY, null=True)
    gsi1sk = UnicodeAttribute(attr_name=schema.LIST_INDEX_SORT_KEY, null=True)
    by_list = ListIndex()

    code = UnicodeAttribute()
    order_id = UnicodeAttribute()
    amount_cents = NumberAttribute()
    # Not named expires_at: that attribute is the table's TTL, and a payment must outlive its deadline.
    pay_by = UTCDateTimeAttribute()
    status = UnicodeAttribute()

    DUE_PARTITION = keys.PAYMENTS_DUE_LIST
    key = staticmethod(keys.payment)


class SaleItem(TableItem):
    order_id = UnicodeAttribute()
    vehicle_id = UnicodeAttribute()
    client_id = UnicodeAttribute()
    amount_cents = NumberAttribute()
    sold_at = UTCDateTimeAttribute()

    key = staticmethod(keys.sale)


class WaitingItem(TableItem):
    """An order in a product's line of orders waiting for stock: the sort key puts the oldest first.

    Also listed in the sparse index of every line (GSI1PK=STOCK_HOLDS), by how long it has waited, for the sweep
    that ends holds past PENDING_STOCK_TTL_HOURS. The item lives exactly as long as the wait: written and removed
    in the same transactions as the order."""

    gsi1pk = UnicodeAttribute(attr_name=schema.LIST_INDEX_PARTITION_KEY, null=True)
    gsi1sk = UnicodeAttribute(attr_name=schema.LIST_INDEX_SORT_KEY, null=True)
    by_list = ListIndex()

    order_id = UnicodeAttribute()

    HOLDS_PARTITION = keys.STOCK_HOLDS_LIST
    key = staticmethod(keys.waiting)
    line = staticmethod(keys.waiting_line)


class CounterItem(TableItem):
    """A sequence (the invoice numbers): the last value taken."""

    value = NumberAttribute()

    key = staticmethod(keys.counter)


class OutboxItem(TableItem):
    """An event waiting for the stream relay to publish it. Written in the transaction that made it happen."""

    event_id = UnicodeAttribute()
    event_type = UnicodeAttribute()
    order_id = UnicodeAttribute()
    body = UnicodeAttribute()
    # The X-Ray trace of the work that committed the event, so its publishing continues the same trace.
    trace_header = UnicodeAttribute(null=True)
    expires_at = NumberAttribute(attr_name=schema.TTL_ATTRIBUTE)

    PREFIX = keys.OUTBOX_PREFIX
    key = staticmethod(keys.outbox)


class MarkerItem(TableItem):
    """A fact that must be recorded once: an event applied, a provider event received, a key's first use.

    Keyed by keys.consumed, keys.receipt, keys.idempotency or keys.notified."""

    detail = UnicodeAttribute(null=True)
    order_id = UnicodeAttribute(null=True)
    state = UnicodeAttribute(null=True)
    lease_until = NumberAttribute(null=True)
    expires_at = NumberAttribute(attr_name=schema.TTL_ATTRIBUTE)
