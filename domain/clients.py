"""Clients: the people allowed to buy. A client must be registered before any purchase."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from domain.values import Address, AddressFields, Cpf, Email, Phone, required_text


@dataclass(frozen=True, slots=True)
class Client:
    """A registered buyer. `id` is the Cognito subject of the user who registered."""

    id: str
    name: str
    cpf: Cpf
    email: Email
    phone: Phone
    address: Address
    created_at: datetime


# The address a person registers with, as typed (one value type for every copy of an address's fields).
AddressInput = AddressFields


def register_client(
    *, client_id: str, name: str, cpf: str, email: str, phone: str, address: AddressInput, now: datetime
) -> Client:
    return Client(
        id=client_id,
        name=required_text(name, field="name", max_length=120),
        cpf=Cpf.parse(cpf),
        email=Email.parse(email),
        phone=Phone.parse(phone),
        address=address.parse(),
        created_at=now,
    )
