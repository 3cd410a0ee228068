"""Client registration: the signed-in user becomes a client, which every purchase requires."""

from __future__ import annotations

from dataclasses import dataclass

from domain.clients import AddressInput, Client, register_client
from domain.errors import Conflict, ValidationFailed
from domain.ports import ClientStore, Clock
from domain.values import Email


@dataclass(frozen=True, slots=True)
class RegistrationInput:
    name: str
    cpf: str
    phone: str
    address: AddressInput
    email: str | None = None


def register(
    clients: ClientStore, clock: Clock, *, user_id: str, user_email: str | None, data: RegistrationInput
) -> Client:
    """Register the signed-in user. The email is the one they signed in with; another person's is refused."""
    email = data.email if data.email is not None else user_email
    if email is None:
        raise ValidationFailed("email", "email is required")
    if user_email is not None and Email.parse(email).value != Email.parse(user_email, field="token").value:
        raise ValidationFailed("email", "email must be the address you signed in with")
    if clients.get(user_id) is not None:
        raise Conflict("you are already registered as a client")
    client = register_client(
        client_id=user_id,
        name=data.name,
        cpf=data.cpf,
        email=email,
        phone=data.phone,
        address=data.address,
        now=clock.now(),
    )
    clients.register(client)
    return client
