"""The GraphQL schema over in-memory stores, executed the way Strawberry's own tests do: schema.execute."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest
import strawberry

from composition import memory
from domain.clients import AddressInput
from domain.errors import Unauthenticated
from domain.events import DomainEvent
from domain.orders import Order
from domain.purchase import PaymentReceived
from domain.registration import RegistrationInput, register
from graphql_api.context import RequestContext
from graphql_api.schema import build_schema
from graphql_api.wiring import Services
from persistence.memory import MemoryPurchaseStore
from platform_spec.routes import STEP_SUBSCRIPTIONS
from runtime.principal import Principal, Role
from runtime.settings import Settings
from tests.unit.saga_fakes import RecordingPaymentProvider

ADMIN = Principal(subject="admin-sub", email="admin@example.com", roles=frozenset({Role.ADMIN}))
CUSTOMER = Principal(subject="customer-sub", email="customer@example.com", roles=frozenset({Role.CUSTOMER}))
CUSTOMER2 = Principal(subject="customer2-sub", email="customer2@example.com", roles=frozenset({Role.CUSTOMER}))
TOKENS = {"admin-token": ADMIN, "customer-token": CUSTOMER, "customer2-token": CUSTOMER2}


class FixedClock:
    def __init__(self) -> None:
        self.current = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)

    def now(self) -> datetime:
        return self.current


class FakeVerifier:
    """Tokens are names here; the real verifier is tested against Cognito in the integration suite."""

    def verify_authorization(self, header: str | None) -> Principal | None:
        if header is None:
            return None
        token = header.removeprefix("Bearer ")
        if token not in TOKENS:
            raise Unauthenticated("the token is not valid")
        return TOKENS[token]


@dataclass
class GraphQLClient:
    schema: strawberry.Schema
    services: Services
    calls: dict[str, int] = field(default_factory=dict)

    def execute(
        self, query: str, variables: dict[str, Any] | None = None, *, token: str | None = None
    ) -> dict[str, Any]:
        context = RequestContext(
            request_id="test-request",
            services=self.services,
            authorization=None if token is None else f"Bearer {token}",
        )
        result = asyncio.run(self.schema.execute(query, variable_values=variables, context_value=context))
        return {
            "data": result.data,
            "errors": [error.formatted for error in result.errors or []],
        }


@pytest.fixture
def settings() -> Settings:
    return Settings.from_env({"APP_ENV": "aws", "CURSOR_SECRET": "api-tests"})


@pytest.fixture
def services(settings: Settings) -> Services:
    return memory.api_services(
        settings, clock=FixedClock(), verifier=FakeVerifier(), payments=RecordingPaymentProvider()
    )


@pytest.fixture
def client(settings: Settings, services: Services) -> GraphQLClient:
    return GraphQLClient(schema=build_schema(settings), services=services)


def register_customer(services: Services, principal: Principal = CUSTOMER, cpf: str = "529.982.247-25") -> None:
    """Make the user a client, which buying requires."""
    register(
        services.clients,
        services.clock,
        user_id=principal.subject,
        user_email=principal.email,
        data=RegistrationInput(
            name="Mariana Alves",
            cpf=cpf,
            phone="(21) 91234-5678",
            address=AddressInput(
                "Avenida das Américas", "5000", "Barra da Tijuca", "Rio de Janeiro", "RJ", "22640-102"
            ),
        ),
    )


@dataclass
class Saga:
    """The purchase saga behind the memory services, its events delivered by hand as the topic and queues would."""

    services: Services
    delivered: int = 0

    def run(self) -> None:
        """Deliver each event not yet delivered to the steps it is routed to, until no new event is written.

        Notifications are left out: they need a mailer, and what they send is no part of the API.
        """
        store = self.services.purchase.store
        assert isinstance(store, MemoryPurchaseStore)
        purchase = self.services.purchase
        steps: dict[str, Callable[[DomainEvent, str], None]] = {
            "validate-client": purchase.validate_client,
            "reserve-inventory": purchase.reserve_inventory,
            "request-payment": purchase.request_payment,
            "complete-sale": purchase.complete_sale,
            "compensate": purchase.compensate,
        }
        while self.delivered < len(store.outbox):
            event = store.outbox[self.delivered]
            self.delivered += 1
            for queue, step in steps.items():
                if event.event_type in STEP_SUBSCRIPTIONS[queue]:
                    step(event, queue)

    def pay(self, order_id: str) -> Order:
        """Pay the order's payment code as the provider would and let the saga finish; the order as it ends."""
        order = self.services.orders.get_order(order_id)
        assert order is not None
        assert order.payment is not None, "the order has no payment code yet"
        self.services.purchase.receive_payment(
            PaymentReceived(
                code=order.payment.code,
                end_to_end_id=f"provider-{order_id}",
                amount=order.payment.amount,
                paid_at=datetime.now(UTC),
            )
        )
        self.run()
        paid = self.services.orders.get_order(order_id)
        assert paid is not None
        return paid


@pytest.fixture
def saga(services: Services) -> Saga:
    return Saga(services)
