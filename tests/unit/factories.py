"""Small builders shared by the unit tests: a clock that only moves when told, ids, valid entities and inputs."""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from domain.clients import AddressInput
from domain.invoice_document import Seller
from domain.order_status import VehicleStatus
from domain.products import Product, create_product
from domain.registration import RegistrationInput
from domain.values import Cnpj
from domain.vehicles import Vehicle, register_vehicle
from persistence.cursors import CursorCodec

# Mid-year, so that "next year's model" (2026) is on sale and the one after (2027) is not.
NOW = datetime(2025, 6, 15, 12, 0, tzinfo=UTC)
CURSOR_SECRET = b"unit-test-cursor-secret"

SELLER = Seller(
    name="Concessionária Exemplo Ltda",
    cnpj=Cnpj.parse("11.222.333/0001-81"),
    address="Avenida Paulista, 1000, Bela Vista, São Paulo - SP, 01310-100",
)

# CPFs with correct check digits.
CPF_ANA = "529.982.247-25"
CPF_BRUNO = "111.444.777-35"
CPF_CARLA = "123.456.789-09"


class FixedClock:
    """A clock that stands still until a test moves it forward."""

    def __init__(self, start: datetime = NOW) -> None:
        self._now = start

    def now(self) -> datetime:
        return self._now

    def advance(self, delta: timedelta = timedelta(minutes=1)) -> datetime:
        self._now += delta
        return self._now


class SequentialIds:
    """Deterministic ids: `<prefix>-1`, `<prefix>-2`, ..."""

    def __init__(self, prefix: str = "vehicle") -> None:
        self._prefix = prefix
        self._count = 0

    def __call__(self) -> str:
        self._count += 1
        return f"{self._prefix}-{self._count}"


def cursor_codec(secret: bytes = CURSOR_SECRET) -> CursorCodec:
    return CursorCodec(secret)


def sign_cursor(payload: bytes, secret: bytes = CURSOR_SECRET) -> str:
    """A cursor built by hand, with a valid signature over any payload: what only the secret's holder can make."""

    def b64(raw: bytes) -> str:
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

    signature = hmac.new(secret, payload, hashlib.sha256).digest()[:16]
    return f"{b64(payload)}.{b64(signature)}"


def make_vehicle(
    *,
    vehicle_id: str = "vehicle-1",
    brand: str = "Toyota",
    model: str = "Corolla",
    year: int = 2025,
    color: str = "Prata",
    price: Decimal | str = "189900.00",
    status: VehicleStatus = VehicleStatus.AVAILABLE,
    version: int = 0,
    now: datetime = NOW,
) -> Vehicle:
    vehicle = register_vehicle(
        vehicle_id=vehicle_id, brand=brand, model=model, year=year, color=color, price=price, now=now
    )
    return replace(vehicle, status=status, version=version)


def make_product(
    *,
    sku: str = "PRD-1001",
    description: str = "Tapete de borracha",
    unit_price: Decimal | str = "149.90",
    stock_on_hand: int = 10,
    stock_reserved: int = 0,
    version: int = 0,
    now: datetime = NOW,
) -> Product:
    product = create_product(sku=sku, description=description, unit_price=unit_price, initial_stock=0, now=now)
    return replace(product, stock_on_hand=stock_on_hand, stock_reserved=stock_reserved, version=version)


def address_input(
    *,
    street: str = "Avenida das Americas",
    number: str = "500",
    neighborhood: str = "Barra da Tijuca",
    city: str = "Rio de Janeiro",
    state: str = "RJ",
    zip_code: str = "22640-102",
    complement: str | None = "Bloco 2",
) -> AddressInput:
    return AddressInput(
        street=street,
        number=number,
        neighborhood=neighborhood,
        city=city,
        state=state,
        zip_code=zip_code,
        complement=complement,
    )


def registration_input(
    *,
    name: str = "Ana Souza",
    cpf: str = CPF_ANA,
    phone: str = "(21) 91234-5678",
    address: AddressInput | None = None,
    email: str | None = None,
) -> RegistrationInput:
    return RegistrationInput(
        name=name,
        cpf=cpf,
        phone=phone,
        address=address if address is not None else address_input(),
        email=email,
    )
