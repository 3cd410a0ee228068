"""Orders through the GraphQL API over DynamoDB: what a page of them costs, and who sees what."""

from __future__ import annotations

import asyncio
import json
import urllib.request
import uuid
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import httpx

from domain.clients import AddressInput
from domain.registration import RegistrationInput, register
from domain.values import Cpf
from graphql_api.app import create_app
from graphql_api.wiring import Services
from runtime.settings import Settings

PAGE = """
{ orders(first: 20) { edges { node { id status total client { name } items { vehicle { brand status } } } } } }
"""


def dynamodb_requests(emulator: str) -> int:
    with urllib.request.urlopen(f"{emulator}/_local/requests", timeout=10) as response:  # noqa: S310 - loopback
        counts: dict[str, Any] = json.loads(response.read())
    operations = counts.get("application", {}).get("dynamodb", {})
    return sum(n for operation, n in operations.items() if "." not in operation)


def post(settings: Settings, services: Services, query: str, token: str) -> dict[str, Any]:
    async def send() -> dict[str, Any]:
        transport = httpx.ASGITransport(app=create_app(settings, services))
        async with httpx.AsyncClient(transport=transport, base_url="http://api") as client:
            response = await client.post(
                "/graphql", json={"query": query}, headers={"authorization": f"Bearer {token}"}
            )
            body: dict[str, Any] = response.json()
            return body

    return asyncio.run(send())


def test_a_page_of_20_orders_with_their_vehicles_and_clients_costs_3_dynamodb_requests(
    emulator: str, settings: Settings, services: Services, token_for: Callable[[str], str]
) -> None:
    # Given 20 orders of 20 buyers, each for its own vehicle
    for n in range(20):
        buyer = register(
            services.clients,
            services.clock,
            user_id=f"page-buyer-{n}",
            user_email=f"page-buyer-{n}@example.com",
            data=RegistrationInput(
                name=f"Comprador {n}",
                cpf=Cpf.complete(f"{200000000 + n * 104729:09d}").value,
                phone="(11) 98765-4321",
                address=AddressInput("Rua A", "1", "Centro", "São Paulo", "SP", "01001-000"),
            ),
        )
        vehicle = services.catalog.create_vehicle(
            brand="Fiat", model=f"Pulse {n}", year=2024, color="Prata", price=Decimal(90000 + n)
        )
        services.purchase.place_vehicle_order(
            client_id=buyer.id,
            vehicle_id=vehicle.id,
            idempotency_key=str(uuid.uuid4()),
            order_id=str(uuid.uuid4()),
            correlation_id="page-test",
        )
    admin = token_for("admin@example.com")
    post(settings, services, "{ __typename }", admin)  # the token's keys fetched, the app warm
    before = dynamodb_requests(emulator)

    # When staff read a page of every order with each one's client and vehicle
    body = post(settings, services, PAGE, admin)

    # Then the page is one Query, the vehicles one BatchGetItem, the clients another
    edges = body["data"]["orders"]["edges"]
    assert len(edges) == 20
    assert all(edge["node"]["client"]["name"].startswith("Comprador") for edge in edges)
    assert all(edge["node"]["items"][0]["vehicle"]["brand"] == "Fiat" for edge in edges)
    assert dynamodb_requests(emulator) - before == 3


def test_a_customer_sees_only_their_own_orders(
    settings: Settings, services: Services, demo_users: dict[str, str], token_for: Callable[[str], str]
) -> None:
    address = AddressInput("Rua A", "1", "Centro", "São Paulo", "SP", "01001-000")
    for email, cpf in (("customer@example.com", "529.982.247-25"), ("customer2@example.com", "111.444.777-35")):
        register(
            services.clients,
            services.clock,
            user_id=demo_users[email],
            user_email=email,
            data=RegistrationInput(name=email.split("@")[0], cpf=cpf, phone="(11) 98765-4321", address=address),
        )
    vehicle = services.catalog.create_vehicle(brand="BYD", model="Dolphin", year=2025, color="Azul", price="149800")
    mine = services.purchase.place_vehicle_order(
        client_id=demo_users["customer@example.com"],
        vehicle_id=vehicle.id,
        idempotency_key=str(uuid.uuid4()),
        order_id=str(uuid.uuid4()),
        correlation_id="own-orders",
    )

    own = post(settings, services, "{ orders { edges { node { id } } } }", token_for("customer@example.com"))
    other = post(settings, services, "{ orders { edges { node { id } } } }", token_for("customer2@example.com"))
    staff = post(settings, services, "{ orders { edges { node { id } } } }", token_for("admin@example.com"))

    assert [edge["node"]["id"] for edge in own["data"]["orders"]["edges"]] == [mine.id]
    assert other["data"]["orders"]["edges"] == []
    assert [edge["node"]["id"] for edge in staff["data"]["orders"]["edges"]] == [mine.id]
