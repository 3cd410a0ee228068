"""The GraphQL types of the contract and their mapping from domain objects."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Generic, TypeVar

import strawberry

from domain import order_status
from domain.clients import Client as DomainClient
from domain.pages import Page
from domain.products import Product as DomainProduct
from domain.vehicles import Vehicle as DomainVehicle

VehicleStatus = strawberry.enum(order_status.VehicleStatus, name="VehicleStatus")

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
        address = client.address
        return cls(
            id=strawberry.ID(client.id),
            name=client.name,
            cpf=str(client.cpf),
            email=client.email.value,
            phone=client.phone.value,
            address=Address(
                street=address.street,
                number=address.number,
                complement=address.complement,
                neighborhood=address.neighborhood,
                city=address.city,
                state=address.state,
                zip_code=str(address.zip_code),
            ),
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
