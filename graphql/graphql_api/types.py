"""The GraphQL types of the contract and their mapping from domain objects."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from decimal import Decimal
from typing import Any, Generic, TypeVar

import strawberry
from strawberry.extensions import FieldExtension
from strawberry.schema.name_converter import NameConverter
from strawberry.types.base import StrawberryList, StrawberryOptional, get_object_definition
from strawberry.types.field import StrawberryField
from strawberry.types.scalar import ScalarDefinition
from strawberry.types.unset import UNSET

from domain import access, order_status, orders
from domain.clients import Client as DomainClient
from domain.errors import ValidationFailed
from domain.identifiers import parse_id
from domain.pages import Page
from domain.products import Product as DomainProduct
from domain.values import AddressFields, parse_decimal
from domain.vehicles import Vehicle as DomainVehicle
from graphql_api.context import Info

VehicleStatus = strawberry.enum(order_status.VehicleStatus, name="VehicleStatus")


# The scalar's parser raises ValueError, not ValidationFailed: graphql-core then reports the error against the
# argument or variable it came in (the error policy names it in `extensions.field`), which a scalar cannot know.
def _decimal_input(value: object) -> Decimal:
    try:
        return parse_decimal(value, field="amount")
    except ValidationFailed as error:
        raise ValueError(error.message) from None


# Every Decimal input (prices, unit prices) is read by the domain's one reader of amounts, never by Decimal() alone.
SCALAR_MAP: dict[object, ScalarDefinition] = {
    Decimal: strawberry.scalar(
        name="Decimal",
        description="An exact amount, as a string of digits with an optional point and at most two decimals: "
        '"189900.00".',
        serialize=str,
        parse_value=_decimal_input,
    )
}

_NAMES = NameConverter()


class CheckedIds(FieldExtension):
    """Every `ID` a field takes, as an argument or inside its input (lists included), passes the platform's id
    rule (`domain.identifiers.parse_id`) before the resolver runs; VALIDATION names it (`id`, `vehicleId`,
    `items[0].productId`).

    A field extension because graphql-core forbids redefining the built-in `ID` scalar, and the contract keeps
    `ID`. It only maps arguments (no resolve wrapper), so it costs nothing to fields without ids; `with_checked_ids`
    attaches it to every field that takes one.
    """

    def map_arguments(self, kwargs: dict[str, Any]) -> dict[str, Any]:
        for argument in self.field.arguments:
            name = _NAMES.from_argument(argument)
            _check_ids(kwargs.get(argument.python_name), argument.type, "" if name == "input" else name)
        return kwargs

    def apply(self, field: StrawberryField) -> None:
        self.field = field


def _check_ids(value: object, type_: object, path: str) -> None:
    if value is None or value is UNSET:
        return
    if isinstance(type_, StrawberryOptional):
        _check_ids(value, type_.of_type, path)
    elif isinstance(type_, StrawberryList):
        for index, item in enumerate(value if isinstance(value, list) else ()):
            _check_ids(item, type_.of_type, f"{path}[{index}]")
    elif type_ is strawberry.ID:
        parse_id(value, field=path or "id")
    elif (definition := get_object_definition(type_)) is not None and definition.is_input:
        for input_field in definition.fields:
            name = _NAMES.get_graphql_name(input_field)
            _check_ids(getattr(value, input_field.python_name, None), input_field.type, f"{path}.{name}".lstrip("."))


def _takes_ids(type_: object, seen: frozenset[object] = frozenset()) -> bool:
    if isinstance(type_, StrawberryOptional | StrawberryList):
        return _takes_ids(type_.of_type, seen)
    if type_ is strawberry.ID:
        return True
    definition = get_object_definition(type_)
    if definition is None or not definition.is_input or type_ in seen:
        return False
    return any(_takes_ids(field.type, seen | {type_}) for field in definition.fields)


def with_checked_ids(*roots: type) -> None:
    """Give every field of these root types that takes an id the `CheckedIds` extension (once)."""
    for root in roots:
        definition = get_object_definition(root, strict=True)
        for field in definition.fields:
            takes_ids = any(_takes_ids(argument.type) for argument in field.arguments)
            if takes_ids and not any(isinstance(extension, CheckedIds) for extension in field.extensions):
                field.extensions.append(CheckedIds())


T = TypeVar("T")


@strawberry.type
class PageInfo:
    has_next_page: bool
    end_cursor: str | None


@strawberry.type
class Edge(Generic[T]):
    cursor: str
    node: T


@strawberry.type
class Connection(Generic[T]):
    edges: list[Edge[T]]
    page_info: PageInfo


def to_connection(page: Page[T]) -> Connection[T]:
    return Connection(
        edges=[Edge(cursor=cursor, node=node) for node, cursor in zip(page.items, page.cursors, strict=True)],
        page_info=PageInfo(has_next_page=page.has_next_page, end_cursor=page.end_cursor),
    )


@strawberry.type
class Vehicle:
    id: strawberry.ID
    brand: str
    model: str
    year: int
    color: str
    price: Decimal
    status: VehicleStatus  # type: ignore[valid-type]
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_domain(cls, vehicle: DomainVehicle) -> Vehicle:
        return cls(
            id=strawberry.ID(vehicle.id),
            brand=vehicle.brand,
            model=vehicle.model,
            year=vehicle.year,
            color=vehicle.color,
            price=vehicle.price.amount,
            status=vehicle.status,
            created_at=vehicle.created_at,
            updated_at=vehicle.updated_at,
        )


@strawberry.type
class Address:
    street: str
    number: str
    complement: str | None
    neighborhood: str
    city: str
    state: str
    zip_code: str


@strawberry.type
class Client:
    id: strawberry.ID
    name: str
    cpf: str
    email: str
    phone: str
    address: Address
    created_at: datetime

    @classmethod
    def from_domain(cls, client: DomainClient) -> Client:
        return cls(
            id=strawberry.ID(client.id),
            name=client.name,
            cpf=str(client.cpf),
            email=client.email.value,
            phone=client.phone.value,
            address=Address(**dataclasses.asdict(AddressFields.of(client.address))),
            created_at=client.created_at,
        )


@strawberry.type
class Product:
    id: strawberry.ID = strawberry.field(description="The product's SKU, e.g. PRD-1001.")
    sku: str
    description: str
    unit_price: Decimal
    stock_on_hand: int
    stock_reserved: int = strawberry.field(description="Units held by orders in flight.")
    stock_available: int = strawberry.field(description="Units that a new order can still reserve.")

    @classmethod
    def from_domain(cls, product: DomainProduct) -> Product:
        return cls(
            id=strawberry.ID(product.sku),
            sku=product.sku,
            description=product.description,
            unit_price=product.unit_price.amount,
            stock_on_hand=product.stock_on_hand,
            stock_reserved=product.stock_reserved,
            stock_available=product.stock_available,
        )


@strawberry.input
class CreateVehicleInput:
    brand: str
    model: str
    year: int
    color: str
    price: Decimal


@strawberry.input(description="Only the fields given change. A sold vehicle cannot be edited.")
class UpdateVehicleInput:
    brand: str | None = None
    model: str | None = None
    year: int | None = None
    color: str | None = None
    price: Decimal | None = None


@strawberry.input
class AddressInput:
    street: str
    number: str
    neighborhood: str
    city: str
    state: str
    zip_code: str
    complement: str | None = None


@strawberry.input
class RegisterClientInput:
    name: str
    cpf: str
    phone: str
    address: AddressInput
    email: str | None = strawberry.field(
        default=None, description="Defaults to the email you signed in with; another address is refused."
    )


@strawberry.input
class CreateProductInput:
    sku: str
    description: str
    unit_price: Decimal
    initial_stock: int = 0


OrderStatus = strawberry.enum(order_status.OrderStatus, name="OrderStatus")
ItemKind = strawberry.enum(orders.ItemKind, name="ItemKind")
ItemStatus = strawberry.enum(orders.ItemStatus, name="ItemStatus")
InvoiceStatus = strawberry.enum(order_status.InvoiceStatus, name="InvoiceStatus")
RefundStatus = strawberry.enum(orders.RefundStatus, name="RefundStatus")


@strawberry.type(description="One attempt at giving back money the order received and did not keep.")
class Refund:
    id: str = strawberry.field(description="The refund's id at the PSP.")
    amount: Decimal
    status: RefundStatus = strawberry.field(  # type: ignore[valid-type]
        description="PENDING (asked of the PSP), REFUNDED, or FAILED (a later attempt may follow)."
    )
    requested_at: datetime
    completed_at: datetime | None = strawberry.field(description="When it was REFUNDED or FAILED; null before.")

    @classmethod
    def from_domain(cls, refund: orders.Refund) -> Refund:
        return cls(
            id=refund.id,
            amount=refund.amount.amount,
            status=refund.status,
            requested_at=refund.requested_at,
            completed_at=refund.completed_at,
        )


@strawberry.type
class Payment:
    code: str
    amount: Decimal = strawberry.field(description="What the charge asks for.")
    expires_at: datetime
    status: str = strawberry.field(
        description="PENDING, PAID, FAILED, EXPIRED, CANCELLED (closed before any money arrived) or REFUND_OWED "
        "(money arrived that the order did not keep: the wrong amount, after the cancellation or expiry, or for "
        "goods that were not there; all of it is owed back). An order paid twice stays PAID, the extra owed back."
    )
    received: Decimal = strawberry.field(description="What actually arrived against the charge, every payment added.")
    refund_owed: Decimal | None = strawberry.field(
        description="What the dealership owes back to the client out of what was received; null when nothing."
    )
    br_code: str | None = strawberry.field(
        description="The Pix copy-and-paste code (BR Code) to pay the charge with: shown to copy, and drawn as a QR "
        "code. Null for a charge that has none."
    )
    location: str | None = strawberry.field(description="The charge's address at the PSP, which the BR Code names.")
    refunds: list[Refund] = strawberry.field(description="Every refund asked for, oldest first.")


@strawberry.type(description="The nota fiscal of a paid order: PENDING when issued, then CONFIRMED or ERROR_STOCK.")
class Invoice:
    number: str | None
    status: InvoiceStatus  # type: ignore[valid-type]
    issued_at: datetime | None
    document_key: strawberry.Private[str | None]

    @strawberry.field(description="A short-lived link to the invoice document once CONFIRMED; null before.")
    def url(self, info: Info) -> str | None:
        # Signed only when asked for: a presigned link costs a signature, and most reads of an order skip it.
        if self.status is not order_status.InvoiceStatus.CONFIRMED or self.document_key is None:
            return None
        return info.context.services.invoices.link(self.document_key)

    @classmethod
    def from_domain(cls, invoice: orders.Invoice) -> Invoice:
        return cls(
            number=invoice.number,
            status=invoice.status,
            issued_at=invoice.issued_at,
            document_key=invoice.document_key,
        )


@strawberry.type
class OrderEvent:
    status: OrderStatus = strawberry.field(description="The order's status after this step.")  # type: ignore[valid-type]
    event: str = strawberry.field(description="What happened: OrderPlaced, InventoryReserved, PaymentConfirmed...")
    at: datetime
    detail: str | None


@strawberry.type
class OrderItem:
    kind: ItemKind  # type: ignore[valid-type]
    product_id: strawberry.ID | None
    description: str
    quantity: int
    unit_price: Decimal
    total: Decimal
    status: ItemStatus | None = strawberry.field(  # type: ignore[valid-type]
        description="A product item's stock: RESERVED, PENDING (waiting for stock) or RELEASED (back to stock)."
    )
    vehicle_id: strawberry.Private[str | None]

    @strawberry.field(description="The vehicle bought, as it is now.")
    async def vehicle(self, info: strawberry.Info) -> Vehicle | None:
        if self.vehicle_id is None:
            return None
        vehicle = await info.context.loaders.vehicles.load(self.vehicle_id)
        return None if vehicle is None else Vehicle.from_domain(vehicle)


@strawberry.type
class Order:
    id: strawberry.ID
    status: OrderStatus  # type: ignore[valid-type]
    cancellation_reason: str | None
    items: list[OrderItem]
    total: Decimal
    payment: Payment | None
    invoice: Invoice | None = strawberry.field(description="Issued once the order is paid; null until then.")
    history: list[OrderEvent]
    placed_at: datetime
    updated_at: datetime
    refund_owed: Decimal | None = strawberry.field(
        description="Money received after the order was cancelled, which the dealership owes back."
    )
    client_id: strawberry.Private[str]

    @strawberry.field
    async def client(self, info: strawberry.Info) -> Client | None:
        client = await info.context.loaders.clients.load(self.client_id)
        return None if client is None else Client.from_domain(client)

    @classmethod
    def from_domain(cls, order: orders.Order) -> Order:
        payment = order.payment
        return cls(
            id=strawberry.ID(order.id),
            status=order.status,
            cancellation_reason=None if order.cancellation_reason is None else order.cancellation_reason.value,
            items=[
                OrderItem(
                    kind=item.kind,
                    product_id=strawberry.ID(item.ref_id) if item.kind is orders.ItemKind.PRODUCT else None,
                    description=item.description,
                    quantity=item.quantity,
                    unit_price=item.unit_price.amount,
                    total=item.total.amount,
                    status=item.status,
                    vehicle_id=item.ref_id if item.kind is orders.ItemKind.VEHICLE else None,
                )
                for item in order.items
            ],
            total=order.total.amount,
            payment=None
            if payment is None
            else Payment(
                code=payment.code,
                amount=payment.amount.amount,
                expires_at=payment.expires_at,
                status=payment.status.value,
                received=payment.received.amount,
                refund_owed=None if order.refund_owed is None else order.refund_owed.amount,
                br_code=payment.br_code,
                location=payment.location,
                refunds=[Refund.from_domain(refund) for refund in payment.refunds],
            ),
            invoice=None if order.invoice is None else Invoice.from_domain(order.invoice),
            history=[
                OrderEvent(status=entry.status, event=entry.event, at=entry.at, detail=entry.detail)
                for entry in order.history
            ],
            placed_at=order.placed_at,
            updated_at=order.updated_at,
            refund_owed=None if order.refund_owed is None else order.refund_owed.amount,
            client_id=order.client_id,
        )


@strawberry.input(description="One product of an order and how many of it.")
class OrderItemInput:
    product_id: strawberry.ID = strawberry.field(description="The product's SKU, e.g. PRD-1001.")
    quantity: int


@strawberry.input(
    description="A vehicle (vehicleId) or products (items), never both. "
    "The idempotency key makes a retried request return its order."
)
class PlaceOrderInput:
    vehicle_id: strawberry.ID | None = None
    items: list[OrderItemInput] | None = strawberry.field(
        default=None, description=f"Each product once, at most {orders.MAX_ORDER_LINES} of them."
    )
    idempotency_key: str


@strawberry.type(description="A user whose access staff took away, and how many open connections of theirs ended.")
class AccessRevoked:
    email: str
    user_id: strawberry.ID = strawberry.field(description="The user's Cognito subject (a client's id).")
    connections_ended: int = strawberry.field(
        description="Open WebSocket connections of the user that were closed, each subscription ended first."
    )

    @classmethod
    def from_domain(cls, revoked: access.AccessRevoked) -> AccessRevoked:
        return cls(
            email=revoked.email, user_id=strawberry.ID(revoked.subject), connections_ended=revoked.connections_ended
        )
