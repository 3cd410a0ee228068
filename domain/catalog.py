"""Use cases of the catalog: vehicles and products as the dealership's staff manage them."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from domain.errors import NotFound
from domain.ports import Clock, ProductStore, VehicleStore
from domain.products import Product, adjust_stock, create_product, parse_sku
from domain.retries import with_fresh_reads
from domain.vehicles import Vehicle, VehicleChanges, edit_vehicle, register_vehicle


class Catalog:
    def __init__(
        self, *, vehicles: VehicleStore, products: ProductStore, clock: Clock, new_id: Callable[[], str]
    ) -> None:
        self._vehicles = vehicles
        self._products = products
        self._clock = clock
        self._new_id = new_id

    def create_vehicle(self, *, brand: str, model: str, year: int, color: str, price: Decimal | str) -> Vehicle:
        vehicle = register_vehicle(
            vehicle_id=self._new_id(),
            brand=brand,
            model=model,
            year=year,
            color=color,
            price=price,
            now=self._clock.now(),
        )
        return self._vehicles.add(vehicle)

    def update_vehicle(self, vehicle_id: str, changes: VehicleChanges) -> Vehicle:
        def attempt() -> Vehicle:
            vehicle = self._vehicles.get(vehicle_id)
            if vehicle is None:
                raise NotFound("vehicle", vehicle_id)
            return self._vehicles.save(edit_vehicle(vehicle, changes, now=self._clock.now()))

        return with_fresh_reads(attempt)

    def create_product(self, *, sku: str, description: str, unit_price: Decimal | str, initial_stock: int) -> Product:
        product = create_product(
            sku=sku,
            description=description,
            unit_price=unit_price,
            initial_stock=initial_stock,
            now=self._clock.now(),
        )
        return self._products.add(product)

    def adjust_stock(self, sku: str, delta: int) -> Product:
        sku = parse_sku(sku, field="productId")

        def attempt() -> Product:
            product = self._products.get(sku)
            if product is None:
                raise NotFound("product", sku)
            return self._products.save(adjust_stock(product, delta, now=self._clock.now()))

        return with_fresh_reads(attempt)
