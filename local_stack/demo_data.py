"""Demo data for the local stack: the three demo users, vehicles of several brands (a few sold) and products."""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

from domain.clients import AddressInput
from domain.order_status import VehicleStatus
from domain.registration import RegistrationInput, register
from graphql_api.wiring import Services
from local_stack.users import ensure_user

log = logging.getLogger("vehicle_platform.local")


@dataclass(frozen=True, slots=True)
class DemoUser:
    email: str
    group: str
    # Customers are registered as clients already, so they can buy right away.
    client: RegistrationInput | None = None


DEMO_USERS = (
    DemoUser("admin@example.com", "admin"),
    DemoUser(
        "customer@example.com",
        "customer",
        RegistrationInput(
            name="Mariana Alves",
            cpf="529.982.247-25",
            phone="+55 21 91234-5678",
            address=AddressInput(
                street="Avenida das Américas",
                number="5000",
                complement="Bloco 2, Apt 301",
                neighborhood="Barra da Tijuca",
                city="Rio de Janeiro",
                state="RJ",
                zip_code="22640-102",
            ),
        ),
    ),
    DemoUser(
        "customer2@example.com",
        "customer",
        RegistrationInput(
            name="João Pereira",
            cpf="111.444.777-35",
            phone="(11) 98765-4321",
            address=AddressInput(
                street="Rua Augusta",
                number="1500",
                neighborhood="Consolação",
                city="São Paulo",
                state="SP",
                zip_code="01304-001",
            ),
        ),
    ),
)

# brand, model, year, color, price, sold
DEMO_VEHICLES = (
    ("Fiat", "Mobi Like", 2022, "Branco", "54990.00", False),
    ("Renault", "Kwid Zen", 2023, "Prata", "62500.00", False),
    ("Volkswagen", "Gol 1.0", 2019, "Preto", "48900.00", True),
    ("Chevrolet", "Onix LT", 2024, "Vermelho", "89990.00", False),
    ("Hyundai", "HB20 Comfort", 2023, "Azul", "84500.00", False),
    ("Toyota", "Corolla XEi", 2022, "Prata", "139900.00", False),
    ("Honda", "Civic Touring", 2021, "Cinza", "154000.00", True),
    ("Jeep", "Compass Longitude", 2024, "Preto", "189900.00", False),
    ("Volkswagen", "T-Cross Highline", 2025, "Branco", "165990.00", False),
    ("Fiat", "Toro Volcano", 2023, "Verde", "172500.00", False),
    ("Toyota", "Hilux SRX", 2024, "Branco", "319990.00", False),
    ("BYD", "Dolphin", 2025, "Azul", "149800.00", False),
    ("Chevrolet", "Tracker Premier", 2020, "Vinho", "98700.00", True),
    ("Nissan", "Kicks SV", 2022, "Laranja", "99990.00", False),
)

# sku, description, unit price, stock (seed 002's products first)
DEMO_PRODUCTS = (
    ("PRD-1001", "Smartphone XYZ", "2500.00", 25),
    ("PRD-2002", "Fone de Ouvido Bluetooth", "150.00", 60),
    ("PRD-3003", "Tapete automotivo (jogo com 4)", "189.90", 40),
    ("PRD-4004", "Câmera de ré", "459.00", 8),
    ("PRD-5005", "Kit de primeiros socorros", "79.90", 0),
)


def seed_users(cognito: Any, user_pool_id: str, password: str) -> dict[str, str]:
    """Create the demo users (confirmed, in their group); returns each email's Cognito subject."""
    return {user.email: ensure_user(cognito, user_pool_id, user.email, user.group, password) for user in DEMO_USERS}


def seed_catalog_and_clients(services: Services, subjects: dict[str, str]) -> None:
    """Fill the table once: a second run finds the vehicles there and leaves everything as it is."""
    if services.vehicles.list_by_status(VehicleStatus.AVAILABLE, 1, None).items:
        log.info("demo data already present")
        return
    catalog = services.catalog
    for brand, model, year, color, price, sold in DEMO_VEHICLES:
        vehicle = catalog.create_vehicle(brand=brand, model=model, year=year, color=color, price=Decimal(price))
        if sold:
            services.vehicles.save(replace(vehicle, status=VehicleStatus.SOLD))
    for sku, description, unit_price, stock in DEMO_PRODUCTS:
        catalog.create_product(sku=sku, description=description, unit_price=Decimal(unit_price), initial_stock=stock)
    for user in DEMO_USERS:
        if user.client is not None:
            register(
                services.clients,
                services.clock,
                user_id=subjects[user.email],
                user_email=user.email,
                data=user.client,
            )
    log.info("demo data seeded: %d vehicles, %d products", len(DEMO_VEHICLES), len(DEMO_PRODUCTS))
