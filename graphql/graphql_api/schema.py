"""Query and Mutation of the contract. Resolvers parse arguments, check the caller, call the domain."""

from __future__ import annotations

from collections.abc import AsyncGenerator

import strawberry
from graphql import GraphQLError
from strawberry.schema.config import StrawberryConfig
from strawberry.types import ExecutionContext

from domain import order_status
from domain.clients import AddressInput as DomainAddressInput
from domain.errors import ValidationFailed
from domain.orders import Order as DomainOrder
from domain.registration import RegistrationInput, register
from domain.vehicles import VehicleChanges
from graphql_api.context import NothingPushed, RequestContext
from graphql_api.extensions import present_errors, request_limits
from graphql_api.types import (
    SCALAR_MAP,
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
from runtime.settings import Settings

Info = strawberry.Info[RequestContext, None]

DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100


def _page_size(first: int | None) -> int:
    if first is None:
        return DEFAULT_PAGE_SIZE
    if not 1 <= first <= MAX_PAGE_SIZE:
        raise ValidationFailed("first", f"first must be between 1 and {MAX_PAGE_SIZE}")
    return first


@strawberry.type
class Query:
    @strawberry.field(description="Vehicles in one status, cheapest first. Open to everyone.")
    def vehicles(
        self,
        info: Info,
        status: VehicleStatus = order_status.VehicleStatus.AVAILABLE,  # type: ignore[valid-type]
        first: int | None = DEFAULT_PAGE_SIZE,
        after: str | None = None,
    ) -> Connection[Vehicle]:
        info.context.viewer()
        page = info.context.services.vehicles.list_by_status(status, _page_size(first), after)
        return to_connection(page.map(Vehicle.from_domain))

    @strawberry.field
    async def vehicle(self, info: Info, id: strawberry.ID) -> Vehicle | None:
        info.context.viewer()
        vehicle = await info.context.loaders.vehicles.load(str(id))
        return None if vehicle is None else Vehicle.from_domain(vehicle)

    @strawberry.field(description="The signed-in user's client record; null until they register.")
    def me(self, info: Info) -> Client | None:
        principal = info.context.require_user()
        client = info.context.services.clients.get(principal.subject)
        return None if client is None else Client.from_domain(client)

    @strawberry.field
    def products(
        self, info: Info, first: int | None = DEFAULT_PAGE_SIZE, after: str | None = None
    ) -> Connection[Product]:
        info.context.require_user()
        page = info.context.services.products.list(_page_size(first), after)
        return to_connection(page.map(Product.from_domain))

    @strawberry.field(description="An order of the caller's (any order, for staff); null if there is none.")
    def order(self, info: Info, id: strawberry.ID) -> Order | None:
        principal = info.context.require_user()
        order = info.context.services.orders.get_order(str(id))
        # Someone else's order is as absent as a missing one: its existence is not the caller's business.
        if order is None or (order.client_id != principal.subject and not principal.is_admin):
            return None
        return Order.from_domain(order)

    @strawberry.field(description="The caller's orders, newest first; every order for staff.")
    def orders(self, info: Info, first: int | None = DEFAULT_PAGE_SIZE, after: str | None = None) -> Connection[Order]:
        principal = info.context.require_user()
        owner = None if principal.is_admin else principal.subject
        page = info.context.services.orders.list_orders(owner, _page_size(first), after)
        return to_connection(page.map(Order.from_domain))

    @strawberry.field
    async def product(self, info: Info, id: strawberry.ID) -> Product | None:
        info.context.require_user()
        product = await info.context.loaders.products.load(str(id).strip().upper())
        return None if product is None else Product.from_domain(product)


@strawberry.type
class Mutation:
    @strawberry.mutation(description="Admin only.")
    def create_vehicle(self, info: Info, input: CreateVehicleInput) -> Vehicle:
        info.context.require_admin()
        vehicle = info.context.services.catalog.create_vehicle(
            brand=input.brand, model=input.model, year=input.year, color=input.color, price=input.price
        )
        return Vehicle.from_domain(vehicle)

    @strawberry.mutation(description="Admin only. A sold vehicle cannot be edited.")
    def update_vehicle(self, info: Info, id: strawberry.ID, input: UpdateVehicleInput) -> Vehicle:
        info.context.require_admin()
        changes = VehicleChanges(
            brand=input.brand, model=input.model, year=input.year, color=input.color, price=input.price
        )
        return Vehicle.from_domain(info.context.services.catalog.update_vehicle(str(id), changes))

    @strawberry.mutation(description="The signed-in user becomes a client, which every purchase requires.")
    def register_client(self, info: Info, input: RegisterClientInput) -> Client:
        principal = info.context.require_user()
        address = input.address
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
                address=DomainAddressInput(
                    street=address.street,
                    number=address.number,
                    complement=address.complement,
                    neighborhood=address.neighborhood,
                    city=address.city,
                    state=address.state,
                    zip_code=address.zip_code,
                ),
            ),
        )
        return Client.from_domain(client)

    @strawberry.mutation(
        description="Buy a vehicle (vehicleId) or products (items: [{productId, quantity}]), one or the other. "
        "Answers at once with the order PLACED; the saga takes it on from there. "
        "The same idempotencyKey with the same input returns the same order."
    )
    def place_order(self, info: Info, input: PlaceOrderInput) -> Order:
        principal = info.context.require_user()
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

    @strawberry.mutation(description="Cancel an order while its payment is pending. Cancelling twice is harmless.")
    def cancel_order(self, info: Info, id: strawberry.ID) -> Order:
        principal = info.context.require_user()
        order = info.context.services.purchase.cancel_by_customer(
            str(id), requested_by=principal.subject, is_admin=principal.is_admin
        )
        return Order.from_domain(order)

    @strawberry.mutation(description="Admin only.")
    def create_product(self, info: Info, input: CreateProductInput) -> Product:
        info.context.require_admin()
        product = info.context.services.catalog.create_product(
            sku=input.sku,
            description=input.description,
            unit_price=input.unit_price,
            initial_stock=input.initial_stock,
        )
        return Product.from_domain(product)

    @strawberry.mutation(description="Admin only. Positive for a delivery, negative for a loss or a recount.")
    def adjust_stock(self, info: Info, product_id: strawberry.ID, delta: int) -> Product:
        info.context.require_admin()
        return Product.from_domain(info.context.services.catalog.adjust_stock(str(product_id), delta))


class Schema(strawberry.Schema):
    def process_errors(self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None) -> None:
        """Codes and masking instead of Strawberry's default, which logs every refused request as an error."""
        request_id = getattr(execution_context.context, "request_id", None) if execution_context else None
        document = execution_context.graphql_document if execution_context else None
        present_errors(errors, request_id, document)


@strawberry.type(description="Over the WebSocket (graphql-transport-ws): each change, as it happens.")
class Subscription:
    @strawberry.subscription(description="The order's every status change. The order's owner or staff only.")
    async def order_status_changed(self, info: Info, order_id: strawberry.ID) -> AsyncGenerator[Order, None]:
        yield Order.from_domain(info.context.pushed("order", str(order_id)))

    @strawberry.subscription(
        description="The order's invoice at each status change: issued (PENDING), then CONFIRMED or ERROR_STOCK. "
        "The order's owner or staff only."
    )
    async def invoice_status_changed(self, info: Info, order_id: strawberry.ID) -> AsyncGenerator[Invoice, None]:
        order: DomainOrder = info.context.pushed("invoice", str(order_id))
        if order.invoice is None:
            raise NothingPushed(f"order {order.id} has no invoice yet")
        yield Invoice.from_domain(order.invoice)

    @strawberry.subscription(description="A vehicle reserved, released or sold. Anyone signed in.")
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
    )
