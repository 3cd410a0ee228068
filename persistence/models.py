"""PynamoDB models of the single table. Keys are built here and nowhere else (see schema.py)."""

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

from persistence import schema
from runtime.settings import get_settings

# Prices are whole cents in a NumberAttribute: PynamoDB reads numbers back as int or float, never Decimal.
PRICE_SORT_DIGITS = 15


class ListIndex(GlobalSecondaryIndex[Any]):
    class Meta:
        index_name = schema.LIST_INDEX
        projection = AllProjection()

    gsi1pk = UnicodeAttribute(hash_key=True, attr_name=schema.LIST_INDEX_PARTITION_KEY)
    gsi1sk = UnicodeAttribute(range_key=True, attr_name=schema.LIST_INDEX_SORT_KEY)


class TableItem(Model):
    """Every item of the single table: the table name comes from the settings, read when this module loads."""

    class Meta:
        table_name = get_settings().table_name
        region = get_settings().region

    pk = UnicodeAttribute(hash_key=True, attr_name=schema.PARTITION_KEY)
    sk = UnicodeAttribute(range_key=True, attr_name=schema.SORT_KEY)


class VehicleItem(TableItem):
    gsi1pk = UnicodeAttribute(attr_name=schema.LIST_INDEX_PARTITION_KEY)
    gsi1sk = UnicodeAttribute(attr_name=schema.LIST_INDEX_SORT_KEY)
    by_list = ListIndex()

    id = UnicodeAttribute()
    brand = UnicodeAttribute()
    model = UnicodeAttribute()
    year = NumberAttribute()
    color = UnicodeAttribute()
    price_cents = NumberAttribute()
    status = UnicodeAttribute()
    version = VersionAttribute()
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()

    @staticmethod
    def key(vehicle_id: str) -> tuple[str, str]:
        return f"VEHICLE#{vehicle_id}", "VEHICLE"

    @staticmethod
    def list_partition(status: str) -> str:
        return f"VEHICLES#{status}"

    @staticmethod
    def list_sort(price_cents: int, vehicle_id: str) -> str:
        # Zero-padded so that string order is price order; the id breaks ties and keeps keys unique.
        return f"{price_cents:0{PRICE_SORT_DIGITS}d}#{vehicle_id}"


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

    @staticmethod
    def key(client_id: str) -> tuple[str, str]:
        return f"CLIENT#{client_id}", "CLIENT"


class UniqueValueItem(TableItem):
    """A marker that claims a unique value (an email, a CPF) for one owner."""

    owner_id = UnicodeAttribute()

    @staticmethod
    def key(kind: str, value: str) -> tuple[str, str]:
        return f"{kind}#{value}", "UNIQUE"


class ProductItem(TableItem):
    gsi1pk = UnicodeAttribute(attr_name=schema.LIST_INDEX_PARTITION_KEY)
    gsi1sk = UnicodeAttribute(attr_name=schema.LIST_INDEX_SORT_KEY)
    by_list = ListIndex()

    sku = UnicodeAttribute()
    description = UnicodeAttribute()
    unit_price_cents = NumberAttribute()
    stock_on_hand = NumberAttribute()
    stock_reserved = NumberAttribute()
    version = VersionAttribute()
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()

    LIST_PARTITION = "PRODUCTS"

    @staticmethod
    def key(sku: str) -> tuple[str, str]:
        return f"PRODUCT#{sku}", "PRODUCT"
