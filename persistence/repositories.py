"""DynamoDB implementations of the domain's stores, over the PynamoDB models."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal
from typing import Any, Generic, TypeVar

from pynamodb.connection import Connection
from pynamodb.exceptions import PutError, TransactWriteError
from pynamodb.transactions import TransactWrite

from domain.clients import Client
from domain.errors import Conflict, DomainError, StaleVersion
from domain.order_status import VehicleStatus
from domain.pages import Page
from domain.products import Product
from domain.values import AddressFields, Cpf, Email, Money, Phone
from domain.vehicles import Vehicle
from persistence import keys, schema
from persistence.cursors import CursorCodec
from persistence.models import AddressMap, ClientItem, ProductItem, TableItem, UniqueValueItem, VehicleItem

_CONDITION_FAILED = "ConditionalCheckFailedException"
_CENTS = Decimal(100)


def cents(money: Money) -> int:
    return int(money.amount * _CENTS)


def money(cents: Any) -> Money:
    return Money.parse(Decimal(int(cents)) / _CENTS, allow_zero=True)


def _condition_failed(error: PutError) -> bool:
    return error.cause_response_code == _CONDITION_FAILED


def _with_version(item: VehicleItem | ProductItem, version: int) -> None:
    # PynamoDB's VersionAttribute starts absent and becomes 1 on the first save, which is conditioned on its absence.
    if version:
        item.version = version


def _put(item: TableItem, *, new: bool, refusal: DomainError) -> None:
    """Write a new item (refused if its key exists) or a change (refused if it vanished or its version moved on).

    PynamoDB adds the version condition itself; `refusal` is what the caller learns when a condition fails.
    """
    try:
        item.save(condition=TableItem.pk.does_not_exist() if new else TableItem.pk.exists())
    except PutError as error:
        if _condition_failed(error):
            raise refusal from error
        raise


# The attributes that key each index: a cursor must hold the table's key and the index's.
_INDEX_KEYS = {
    schema.LIST_INDEX: (schema.LIST_INDEX_PARTITION_KEY, schema.LIST_INDEX_SORT_KEY),
    schema.SECOND_LIST_INDEX: (schema.SECOND_LIST_INDEX_PARTITION_KEY, schema.SECOND_LIST_INDEX_SORT_KEY),
}


def _start_key(key: dict[str, str] | None) -> dict[str, dict[str, str]] | None:
    return None if key is None else {name: {"S": value} for name, value in key.items()}


Entity = TypeVar("Entity")


def list_page(
    index: Any,
    partition: str,
    *,
    scope: str,
    cursors: CursorCodec,
    first: int,
    after: str | None,
    convert: Callable[[Any], Entity],
    newest_first: bool = False,
) -> Page[Entity]:
    """One page of a list partition of an index. Reads one item more than asked so `has_next_page` is exact."""
    start = None if after is None else cursors.decode(scope, after)
    results = list(
        index.query(
            partition, limit=first + 1, last_evaluated_key=_start_key(start), scan_index_forward=not newest_first
        )
    )
    page = results[:first]
    index_keys = _INDEX_KEYS[index.Meta.index_name]

    def key_of(item: Any) -> dict[str, str]:
        serialized = item.serialize()
        names = (schema.PARTITION_KEY, schema.SORT_KEY, *index_keys)
        return {name: serialized[name]["S"] for name in names}

    return Page(
        items=[convert(item) for item in page],
        cursors=[cursors.encode(scope, key_of(item)) for item in page],
        has_next_page=len(results) > first,
    )


Versioned = TypeVar("Versioned", Vehicle, Product)
StoredItem = TypeVar("StoredItem", VehicleItem, ProductItem)


class _DynamoEntities(Generic[Versioned, StoredItem]):
    """get, get_many, add and save of one kind of versioned entity stored whole in one item, by its id: the
    vehicles and the products."""

    def __init__(
        self,
        model: type[StoredItem],
        key: Callable[[str], keys.Key],
        convert: tuple[Callable[[Versioned], StoredItem], Callable[[StoredItem], Versioned]],
        *,
        kind: str,
        identify: Callable[[Versioned], str],
        taken: Callable[[str], Conflict],
    ) -> None:
        self._model: type[StoredItem] = model
        self._key = key
        self._to_stored: Callable[[Versioned], StoredItem] = convert[0]
        self._from_stored: Callable[[StoredItem], Versioned] = convert[1]
        self._kind = kind
        self._identify: Callable[[Versioned], str] = identify
        self._taken = taken

    def get(self, entity_id: str) -> Versioned | None:
        try:
            return self._from_stored(self._model.get(*self._key(entity_id), consistent_read=True))
        except self._model.DoesNotExist:
            return None

    def get_many(self, entity_ids: Iterable[str]) -> Mapping[str, Versioned]:
        wanted = [self._key(entity_id) for entity_id in dict.fromkeys(entity_ids)]
        found = (self._from_stored(item) for item in self._model.batch_get(wanted))
        return {self._identify(entity): entity for entity in found}

    def add(self, entity: Versioned) -> Versioned:
        item = self._to_stored(entity)
        _put(item, new=True, refusal=self._taken(self._identify(entity)))
        return self._from_stored(item)

    def save(self, entity: Versioned) -> Versioned:
        item = self._to_stored(entity)
        _put(item, new=False, refusal=StaleVersion(self._kind, self._identify(entity)))
        return self._from_stored(item)


class DynamoVehicleStore(_DynamoEntities[Vehicle, VehicleItem]):
    def __init__(self, cursors: CursorCodec) -> None:
        super().__init__(
            VehicleItem,
            keys.vehicle,
            (self._to_item, self.to_vehicle),
            kind="vehicle",
            identify=lambda vehicle: vehicle.id,
            taken=lambda taken: Conflict(f"vehicle {taken} already exists"),
        )
        self._cursors = cursors

    @staticmethod
    def _to_item(vehicle: Vehicle) -> VehicleItem:
        pk, sk = VehicleItem.key(vehicle.id)
        price_cents = cents(vehicle.price)
        item = VehicleItem(
            pk,
            sk,
            gsi1pk=VehicleItem.list_partition(vehicle.status.value),
            gsi1sk=VehicleItem.list_sort(price_cents, vehicle.id),
            id=vehicle.id,
            brand=vehicle.brand,
            model=vehicle.model,
            year=vehicle.year,
            color=vehicle.color,
            price_cents=price_cents,
            status=vehicle.status.value,
            created_at=vehicle.created_at,
            updated_at=vehicle.updated_at,
            reserved_by=vehicle.reserved_by,
        )
        _with_version(item, vehicle.version)
        return item

    @staticmethod
    def to_vehicle(item: VehicleItem) -> Vehicle:
        return Vehicle(
            id=item.id,
            brand=item.brand,
            model=item.model,
            year=int(item.year),
            color=item.color,
            price=money(item.price_cents),
            status=VehicleStatus(item.status),
            version=int(item.version or 0),
            created_at=item.created_at,
            updated_at=item.updated_at,
            reserved_by=item.reserved_by,
        )

    def list_by_status(self, status: VehicleStatus, first: int, after: str | None) -> Page[Vehicle]:
        return list_page(
            VehicleItem.by_list,
            VehicleItem.list_partition(status.value),
            scope=f"vehicles:{status.value}",
            cursors=self._cursors,
            first=first,
            after=after,
            convert=self.to_vehicle,
        )


class DynamoClientStore:
    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def get(self, client_id: str) -> Client | None:
        try:
            return self._to_client(ClientItem.get(*ClientItem.key(client_id), consistent_read=True))
        except ClientItem.DoesNotExist:
            return None

    def get_many(self, client_ids: Iterable[str]) -> Mapping[str, Client]:
        keys = [ClientItem.key(client_id) for client_id in dict.fromkeys(client_ids)]
        return {item.id: self._to_client(item) for item in ClientItem.batch_get(keys)}

    def find_by_cpf(self, cpf: Cpf) -> Client | None:
        """The client registered with this CPF, through its uniqueness claim."""
        try:
            claim = UniqueValueItem.get(*keys.client_cpf(cpf.value), consistent_read=True)
        except UniqueValueItem.DoesNotExist:
            return None
        return self.get(claim.owner_id)

    @staticmethod
    def _to_client(item: ClientItem) -> Client:
        return Client(
            id=item.id,
            name=item.name,
            cpf=Cpf.parse(item.cpf),
            email=Email.parse(item.email),
            phone=Phone.parse(item.phone),
            address=AddressFields(**item.address.as_dict()).parse(),
            created_at=item.created_at,
        )

    def register(self, client: Client) -> None:
        client_item = ClientItem(
            *ClientItem.key(client.id),
            id=client.id,
            name=client.name,
            cpf=client.cpf.value,
            email=client.email.value,
            phone=client.phone.value,
            address=AddressMap(**AddressFields.of(client.address).as_dict()),
            created_at=client.created_at,
        )
        email_claim = UniqueValueItem(*keys.client_email(client.email.value), owner_id=client.id)
        cpf_claim = UniqueValueItem(*keys.client_cpf(client.cpf.value), owner_id=client.id)
        # Order matters: the cancellation reasons come back in this order and name what was taken.
        writes: list[tuple[TableItem, Conflict]] = [
            (client_item, Conflict("you are already registered as a client")),
            (email_claim, Conflict("a client with this email is already registered", field="email")),
            (cpf_claim, Conflict("a client with this CPF is already registered", field="cpf")),
        ]
        try:
            with TransactWrite(connection=self._connection) as transaction:
                for item, _ in writes:
                    transaction.save(item, condition=TableItem.pk.does_not_exist())
        except TransactWriteError as error:
            reasons = error.cancellation_reasons or []
            for reason, (_, conflict) in zip(reasons, writes, strict=False):
                if reason is not None and reason.code == "ConditionalCheckFailed":
                    raise conflict from error
            raise


class DynamoProductStore(_DynamoEntities[Product, ProductItem]):
    def __init__(self, cursors: CursorCodec) -> None:
        super().__init__(
            ProductItem,
            keys.product,
            (self._to_item, self._to_product),
            kind="product",
            identify=lambda product: product.sku,
            taken=lambda taken: Conflict(f"a product with SKU {taken} already exists", field="sku"),
        )
        self._cursors = cursors

    @staticmethod
    def _to_item(product: Product) -> ProductItem:
        item = ProductItem(
            *ProductItem.key(product.sku),
            gsi1pk=ProductItem.LIST_PARTITION,
            gsi1sk=product.sku,
            sku=product.sku,
            description=product.description,
            unit_price_cents=cents(product.unit_price),
            stock_on_hand=product.stock_on_hand,
            stock_reserved=product.stock_reserved,
            stock_available=product.stock_available,
            created_at=product.created_at,
            updated_at=product.updated_at,
        )
        _with_version(item, product.version)
        return item

    @staticmethod
    def _to_product(item: ProductItem) -> Product:
        return Product(
            sku=item.sku,
            description=item.description,
            unit_price=money(item.unit_price_cents),
            stock_on_hand=int(item.stock_on_hand),
            stock_reserved=int(item.stock_reserved),
            version=int(item.version or 0),
            created_at=item.created_at,
            updated_at=item.updated_at,
        )

    def list(self, first: int, after: str | None) -> Page[Product]:
        return list_page(
            ProductItem.by_list,
            ProductItem.LIST_PARTITION,
            scope="products",
            cursors=self._cursors,
            first=first,
            after=after,
            convert=self._to_product,
        )
