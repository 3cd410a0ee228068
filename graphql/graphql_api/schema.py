"""Query, Mutation and Subscription of the contract. Each field declares who may call it (graphql_api.permissions);
its resolver parses the arguments and calls the domain."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncGenerator
from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry.schema.config import StrawberryConfig
from strawberry.types import ExecutionContext

from domain import order_status
from domain.errors import ValidationFailed
from domain.orders import Order as DomainOrder
from domain.registration import RegistrationInput, register
from domain.values import AddressFields
from domain.vehicles import VehicleChanges
from graphql_api.context import Info, NothingPushed
from graphql_api.extensions import present_errors, request_limits
from graphql_api.permissions import (
    Admin,
    InvoiceOwnerOrAdmin,
    OnlyOwnOrders,
    OrderOwnerOrAdmin,
    Public,
    SignedIn,
)
from graphql_api.types import (
    SCALAR_MAP,
    AccessRevoked,
    Client,
    Connection,
    CreateProductInput,
    CreateVehicleInput,
    Invoice,
    Order,
    PlaceOrderInput,
    Product,
    RegisterClientInput,
    UpdateVehicleInput,
    Vehicle,
    VehicleStatus,
    to_connection,
    with_checked_ids,
)
from graphql_api.wiring import new_id
from runtime.settings import GraphQLLimits, Settings

DEFAULT_PAGE_SIZE = 20


def _page_size(info: Info, first: int | None) -> int:
    if first is None:
        return DEFAULT_PAGE_SIZE
    schema = info.schema
    assert isinstance(schema, Schema)  # build_schema makes every schema these resolvers run in
    largest = schema.limits.max_page_size
    if not 1 <= first <= largest:
        raise ValidationFailed("first", f"first must be between 1 and {largest}")
    return first


@strawberry.type
class Query:
    @strawberry.field(
        description="Vehicles in one status, cheapest first. Open to everyone.", permission_classes=[Public]
    )
    def vehicles(
        self,
        info: Info,
        status: VehicleStatus = order_status.VehicleStatus.AVAILABLE,  # type: ignore[valid-type]
        first: int | None = DEFAULT_PAGE_SIZE,
        after: str | None = None,
    ) -> Connection[Vehicle]:
        page = info.context.services.vehicles.list_by_status(status, _page_size(info, first), after)
        return to_connection(page.map(Vehicle.from_domain))

    @strawberry.field(permission_classes=[Public])
    async def vehicle(self, info: Info, id: strawberry.ID) -> Vehicle | None:
        vehicle = await info.context.loaders.vehicles.load(str(id))
        return None if vehicle is None else Vehicle.from_domain(vehicle)

    @strawberry.field(
        description="The signed-in user's client record; null until they register.", permission_classes=[SignedIn]
    )
    def me(self, info: Info) -> Client | None:
        principal = info.context.caller()
        client = info.context.services.clients.get(principal.subject)
        return None if client is None else Client.from_domain(client)

    @strawberry.field(permission_classes=[SignedIn])
    def products(
        self, info: Info, first: int | None = DEFAULT_PAGE_SIZE, after: str | None = None
    ) -> Connection[Product]:
        page = info.context.services.products.list(_page_size(info, first), after)
        return to_connection(page.map(Product.from_domain))

    @strawberry.field(
        description="An order of the caller's (any order, for staff); null if there is none.",
        permission_classes=[SignedIn],
        extensions=[OnlyOwnOrders()],
    )
    def order(self, info: Info, id: strawberry.ID) -> Order | None:
        order = info.context.services.orders.get_order(str(id))
        return None if order is None else Order.from_domain(order)

    @strawberry.field(
        description="The caller's orders, newest first; every order for staff.", permission_classes=[SignedIn]
    )
    def orders(self, info: Info, first: int | None = DEFAULT_PAGE_SIZE, after: str | None = None) -> Connection[Order]:
        principal = info.context.caller()
        # Which orders are the caller's is the query itself, not a check of its result.
        owner = None if principal.is_admin else principal.subject
        page = info.context.services.orders.list_orders(owner, _page_size(info, first), after)
        return to_connection(page.map(Order.from_domain))

    @strawberry.field(permission_classes=[SignedIn])
    async def product(self, info: Info, id: strawberry.ID) -> Product | None:
        product = await info.context.loaders.products.load(str(id).strip().upper())
        return None if product is None else Product.from_domain(product)


@strawberry.type
class Mutation:
    @strawberry.mutation(description="Admin only.", permission_classes=[Admin])
    def create_vehicle(self, info: Info, input: CreateVehicleInput) -> Vehicle:
        vehicle = info.context.services.catalog.create_vehicle(
            brand=input.brand, model=input.model, year=input.year, color=input.color, price=input.price
        )
        return Vehicle.from_domain(vehicle)

    @strawberry.mutation(description="Admin only. A sold vehicle cannot be edited.", permission_classes=[Admin])
    def update_vehicle(self, info: Info, id: strawberry.ID, input: UpdateVehicleInput) -> Vehicle:
        changes = VehicleChanges(
            brand=input.brand, model=input.model, year=input.year, color=input.color, price=input.price
        )
        return Vehicle.from_domain(info.context.services.catalog.update_vehicle(str(id), changes))

    @strawberry.mutation(
        description="The signed-in user becomes a client, which every purchase requires.", permission_classes=[SignedIn]
    )
    def register_client(self, info: Info, input: RegisterClientInput) -> Client:
        principal = info.context.caller()
        client = register(
            info.context.services.clients,
            info.context.services.clock,
            user_id=principal.subject,
            user_email=principal.email,
            data=RegistrationInput(
                name=input.name,
                cpf=input.cpf,
                email=input.email,
                phone=input.phone,
                address=AddressFields(**dataclasses.asdict(input.address)),
            ),
        )
        return Client.from_domain(client)

    @strawberry.mutation(
        description="Buy a vehicle (vehicleId) or products (items: [{productId, quantity}]), one or the other. "
        "Answers at once with the order PLACED; the saga takes it on from there. "
        "The same idempotencyKey with the same input returns the same order.",
        permission_classes=[SignedIn],
    )
    def place_order(self, info: Info, input: PlaceOrderInput) -> Order:
        principal = info.context.caller()
        purchase = info.context.services.purchase
        if input.vehicle_id is None and input.items is None:
            raise ValidationFailed("vehicleId", "give vehicleId to buy a vehicle, or items to order products")
        if input.vehicle_id is not None and input.items is not None:
            raise ValidationFailed("vehicleId", "give only one of vehicleId and items: an order is one or the other")
        if input.items is not None:
            order = purchase.place_product_order(
                client_id=principal.subject,
                lines=[(str(item.product_id), item.quantity) for item in input.items],
                idempotency_key=input.idempotency_key,
                order_id=new_id(),
                correlation_id=info.context.request_id,
            )
        else:
            order = purchase.place_vehicle_order(
                client_id=principal.subject,
                vehicle_id=str(input.vehicle_id),
                idempotency_key=input.idempotency_key,
                order_id=new_id(),
                correlation_id=info.context.request_id,
            )
        return Order.from_domain(order)

    @strawberry.mutation(
        description="Cancel an order while its payment is pending. Cancelling twice is harmless.",
        permission_classes=[SignedIn],
    )
    def cancel_order(self, info: Info, id: strawberry.ID) -> Order:
        principal = info.context.caller()
        order = info.context.services.purchase.cancel_by_customer(
            str(id), requested_by=principal.subject, is_admin=principal.is_admin
        )
        return Order.from_domain(order)

    @strawberry.mutation(description="Admin only.", permission_classes=[Admin])
    def create_product(self, info: Info, input: CreateProductInput) -> Product:
        product = info.context.services.catalog.create_product(
            sku=input.sku,
            description=input.description,
            unit_price=input.unit_price,
            initial_stock=input.initial_stock,
        )
        return Product.from_domain(product)

    @strawberry.mutation(
        description="Admin only. Positive for a delivery, negative for a loss or a recount.", permission_classes=[Admin]
    )
    def adjust_stock(self, info: Info, product_id: strawberry.ID, delta: int) -> Product:
        return Product.from_domain(info.context.services.catalog.adjust_stock(str(product_id), delta))

    @strawberry.mutation(
        description="Admin only. The user can no longer sign in nor renew a token, and their open subscriptions end "
        "now (`complete`, then their connections close).",
        permission_classes=[Admin],
    )
    def block_user(self, info: Info, email: str) -> AccessRevoked:
        revoked = info.context.services.access.block(email, by=info.context.caller())
        return AccessRevoked.from_domain(revoked)

    @strawberry.mutation(
        description="Admin only. The user leaves the group admin; their tokens, which still say admin until they "
        "expire, are signed out and their open subscriptions end now.",
        permission_classes=[Admin],
    )
    def remove_from_staff(self, info: Info, email: str) -> AccessRevoked:
        revoked = info.context.services.access.remove_from_staff(email, by=info.context.caller())
        return AccessRevoked.from_domain(revoked)


class Schema(strawberry.Schema):
    """The API's schema, carrying the limits the resolvers apply (the page size) next to the ones its extensions
    and the document policy apply, all from the one `GraphQLLimits` of the settings."""

    def __init__(self, *args: Any, limits: GraphQLLimits, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.limits = limits

    def process_errors(self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None) -> None:
        """Codes and masking instead of Strawberry's default, which logs every refused request as an error."""
        request_id = getattr(execution_context.context, "request_id", None) if execution_context else None
        document = execution_context.graphql_document if execution_context else None
        present_errors(errors, request_id, document)


@strawberry.type(description="Over the WebSocket (graphql-transport-ws): each change, as it happens.")
class Subscription:
    @strawberry.subscription(
        description="The order's every status change. The order's owner or staff only.",
        permission_classes=[OrderOwnerOrAdmin],
    )
    async def order_status_changed(self, info: Info, order_id: strawberry.ID) -> AsyncGenerator[Order, None]:
        yield Order.from_domain(info.context.pushed("order", str(order_id)))

    @strawberry.subscription(
        description="The order's invoice at each status change: issued (PENDING), then CONFIRMED or ERROR_STOCK. "
        "The order's owner or staff only.",
        permission_classes=[InvoiceOwnerOrAdmin],
    )
    async def invoice_status_changed(self, info: Info, order_id: strawberry.ID) -> AsyncGenerator[Invoice, None]:
        order: DomainOrder = info.context.pushed("invoice", str(order_id))
        if order.invoice is None:
            raise NothingPushed(f"order {order.id} has no invoice yet")
        yield Invoice.from_domain(order.invoice)

    @strawberry.subscription(
        description="A vehicle reserved, released or sold. Anyone signed in.", permission_classes=[SignedIn]
    )
    async def vehicle_availability_changed(self, info: Info) -> AsyncGenerator[Vehicle, None]:
        yield Vehicle.from_domain(info.context.pushed("vehicle", None))


# Every id argument and input field is bounded and shaped before any resolver reads it.
with_checked_ids(Query, Mutation, Subscription)


def build_schema(settings: Settings) -> strawberry.Schema:
    return Schema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        config=StrawberryConfig(disable_field_suggestions=not settings.local_mode, scalar_map=SCALAR_MAP),
        extensions=[request_limits(settings)],
        limits=settings.limits,
    )
