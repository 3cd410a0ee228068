"""Client registration: the signed-in user registers once, with their own email and a CPF nobody else holds."""

from __future__ import annotations

import pytest

from domain.clients import Client
from domain.errors import Conflict, ValidationFailed
from domain.registration import RegistrationInput, register
from domain.values import Address, Cep, Cpf, Email, Phone
from persistence.memory import MemoryClientStore
from tests.unit.factories import CPF_ANA, CPF_BRUNO, NOW, FixedClock, address_input, registration_input

ANA_EMAIL = "ana.souza@example.com"


@pytest.fixture
def clients() -> MemoryClientStore:
    return MemoryClientStore()


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock()


def test_registration_takes_the_email_from_the_token(clients: MemoryClientStore, clock: FixedClock) -> None:
    # Given a signed-in user whose token carries an email, and input without one
    # When they register
    client = register(clients, clock, user_id="user-ana", user_email="Ana.Souza@Example.com", data=registration_input())
    # Then the client is stored under the user's id with the token's email, lower-cased, and parsed values
    assert client == Client(
        id="user-ana",
        name="Ana Souza",
        cpf=Cpf("52998224725"),
        email=Email(ANA_EMAIL),
        phone=Phone("+5521912345678"),
        address=Address(
            street="Avenida das Americas",
            number="500",
            complement="Bloco 2",
            neighborhood="Barra da Tijuca",
            city="Rio de Janeiro",
            state="RJ",
            zip_code=Cep("22640102"),
        ),
        created_at=NOW,
    )
    assert clients.get("user-ana") == client


@pytest.mark.parametrize("typed", [ANA_EMAIL, "ANA.SOUZA@EXAMPLE.COM", "  Ana.Souza@example.com  "])
def test_registration_accepts_the_token_email_typed_in_any_case(
    clients: MemoryClientStore, clock: FixedClock, typed: str
) -> None:
    # Given input restating the signed-in email in another case or with spaces
    # When the user registers
    client = register(clients, clock, user_id="user-ana", user_email=ANA_EMAIL, data=registration_input(email=typed))
    # Then it is accepted and stored lower-cased
    assert client.email == Email(ANA_EMAIL)
    assert clients.get("user-ana") == client


def test_registration_uses_the_typed_email_when_the_token_has_none(
    clients: MemoryClientStore, clock: FixedClock
) -> None:
    client = register(
        clients, clock, user_id="user-ana", user_email=None, data=registration_input(email="Ana@Example.com")
    )
    assert client.email == Email("ana@example.com")


def test_registration_refuses_an_email_other_than_the_token_one(clients: MemoryClientStore, clock: FixedClock) -> None:
    # Given a user signed in as Ana who types someone else's email
    # When they register
    with pytest.raises(ValidationFailed) as caught:
        register(
            clients,
            clock,
            user_id="user-ana",
            user_email=ANA_EMAIL,
            data=registration_input(email="bruno@example.com"),
        )
    # Then it is refused naming the email, and nothing is stored
    assert caught.value.field == "email"
    assert caught.value.code == "VALIDATION"
    assert caught.value.message == "email must be the address you signed in with"
    assert clients.get("user-ana") is None


def test_registration_refuses_when_there_is_no_email_anywhere(clients: MemoryClientStore, clock: FixedClock) -> None:
    with pytest.raises(ValidationFailed) as caught:
        register(clients, clock, user_id="user-ana", user_email=None, data=registration_input(email=None))
    assert caught.value.field == "email"
    assert caught.value.code == "VALIDATION"
    assert caught.value.message == "email is required"
    assert clients.get("user-ana") is None


@pytest.mark.parametrize("typed", ["", "   ", "not-an-email"])
def test_registration_refuses_a_malformed_typed_email(
    clients: MemoryClientStore, clock: FixedClock, typed: str
) -> None:
    with pytest.raises(ValidationFailed) as caught:
        register(clients, clock, user_id="user-ana", user_email=None, data=registration_input(email=typed))
    assert caught.value.field == "email"
    assert caught.value.code == "VALIDATION"
    assert clients.get("user-ana") is None


def test_the_same_user_cannot_register_twice(clients: MemoryClientStore, clock: FixedClock) -> None:
    # Given a registered user
    first = register(clients, clock, user_id="user-ana", user_email=ANA_EMAIL, data=registration_input())
    clock.advance()
    # When they register again, even with other details
    with pytest.raises(Conflict) as caught:
        register(
            clients,
            clock,
            user_id="user-ana",
            user_email=ANA_EMAIL,
            data=registration_input(name="Ana S.", cpf=CPF_BRUNO),
        )
    # Then it is a conflict not tied to a field, and the first registration stands
    assert caught.value.code == "CONFLICT"
    assert caught.value.field is None
    assert caught.value.message == "you are already registered as a client"
    assert clients.get("user-ana") == first


@pytest.mark.parametrize("bruno_email", [ANA_EMAIL, "ANA.SOUZA@example.com"])
def test_another_user_with_the_same_email_is_refused(
    clients: MemoryClientStore, clock: FixedClock, bruno_email: str
) -> None:
    # Given Ana is registered
    register(clients, clock, user_id="user-ana", user_email=ANA_EMAIL, data=registration_input())
    # When another account whose token carries the same email registers with another CPF
    with pytest.raises(Conflict) as caught:
        register(
            clients,
            clock,
            user_id="user-bruno",
            user_email=bruno_email,
            data=registration_input(name="Bruno Lima", cpf=CPF_BRUNO),
        )
    # Then the email is the field in conflict and nothing is stored for the second user
    assert caught.value.code == "CONFLICT"
    assert caught.value.field == "email"
    assert clients.get("user-bruno") is None


@pytest.mark.parametrize("cpf", [CPF_ANA, "52998224725", " 529.982.247-25 "])
def test_another_user_with_the_same_cpf_is_refused(clients: MemoryClientStore, clock: FixedClock, cpf: str) -> None:
    # Given Ana is registered
    register(clients, clock, user_id="user-ana", user_email=ANA_EMAIL, data=registration_input())
    # When Bruno registers with Ana's CPF, however formatted
    with pytest.raises(Conflict) as caught:
        register(
            clients,
            clock,
            user_id="user-bruno",
            user_email="bruno@example.com",
            data=registration_input(name="Bruno Lima", cpf=cpf),
        )
    # Then the CPF is the field in conflict and nothing is stored for Bruno
    assert caught.value.code == "CONFLICT"
    assert caught.value.field == "cpf"
    assert clients.get("user-bruno") is None


@pytest.mark.parametrize("cpf", ["529.982.247-26", "111.111.111-11", "1234", ""])
def test_registration_refuses_an_invalid_cpf(clients: MemoryClientStore, clock: FixedClock, cpf: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        register(clients, clock, user_id="user-ana", user_email=ANA_EMAIL, data=registration_input(cpf=cpf))
    assert caught.value.field == "cpf"
    assert caught.value.code == "VALIDATION"
    assert clients.get("user-ana") is None


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"zip_code": "2264-0102"}, "address.zipCode"),
        ({"zip_code": "00000-000"}, "address.zipCode"),
        ({"zip_code": ""}, "address.zipCode"),
        ({"state": "XX"}, "address.state"),
        ({"state": ""}, "address.state"),
        ({"street": "  "}, "address.street"),
        ({"number": ""}, "address.number"),
        ({"neighborhood": ""}, "address.neighborhood"),
        ({"city": " "}, "address.city"),
    ],
)
def test_registration_refuses_a_bad_address_naming_the_nested_field(
    clients: MemoryClientStore, clock: FixedClock, overrides: dict[str, str], field: str
) -> None:
    with pytest.raises(ValidationFailed) as caught:
        register(
            clients,
            clock,
            user_id="user-ana",
            user_email=ANA_EMAIL,
            data=registration_input(address=address_input(**overrides)),
        )
    assert caught.value.field == field
    assert caught.value.code == "VALIDATION"
    assert clients.get("user-ana") is None


@pytest.mark.parametrize(
    ("data", "field"),
    [(registration_input(name=" "), "name"), (registration_input(phone="1234"), "phone")],
)
def test_registration_refuses_a_bad_name_or_phone(
    clients: MemoryClientStore, clock: FixedClock, data: RegistrationInput, field: str
) -> None:
    with pytest.raises(ValidationFailed) as caught:
        register(clients, clock, user_id="user-ana", user_email=ANA_EMAIL, data=data)
    assert caught.value.field == field
    assert caught.value.code == "VALIDATION"


def test_failed_attempts_claim_neither_the_email_nor_the_cpf(clients: MemoryClientStore, clock: FixedClock) -> None:
    # Given a series of refused registrations using Ana's email and CPF
    for data in [
        registration_input(address=address_input(zip_code="123")),
        registration_input(address=address_input(state="ZZ")),
        registration_input(phone="abc"),
        registration_input(email="someone.else@example.com"),
    ]:
        with pytest.raises(ValidationFailed):
            register(clients, clock, user_id="user-ana", user_email=ANA_EMAIL, data=data)
    assert clients.get("user-ana") is None
    # When Ana then registers correctly
    client = register(clients, clock, user_id="user-ana", user_email=ANA_EMAIL, data=registration_input())
    # Then neither her email nor her CPF had been claimed by the failures
    assert clients.get("user-ana") == client


def test_conflicting_attempts_leave_the_first_client_untouched(clients: MemoryClientStore, clock: FixedClock) -> None:
    # Given Ana is registered
    ana = register(clients, clock, user_id="user-ana", user_email=ANA_EMAIL, data=registration_input())
    # When Bruno is refused twice (Ana's email, then Ana's CPF)
    with pytest.raises(Conflict):
        register(clients, clock, user_id="user-bruno", user_email=ANA_EMAIL, data=registration_input(cpf=CPF_BRUNO))
    with pytest.raises(Conflict):
        register(clients, clock, user_id="user-bruno", user_email="bruno@example.com", data=registration_input())
    # Then Ana is unchanged, and Bruno can still register with his own details
    assert clients.get("user-ana") == ana
    bruno = register(
        clients,
        clock,
        user_id="user-bruno",
        user_email="bruno@example.com",
        data=registration_input(name="Bruno Lima", cpf=CPF_BRUNO),
    )
    assert clients.get("user-bruno") == bruno
    assert clients.get("user-ana") == ana


def test_created_at_is_the_clock_time_of_registration(clients: MemoryClientStore, clock: FixedClock) -> None:
    registered_at = clock.advance()
    client = register(clients, clock, user_id="user-ana", user_email=ANA_EMAIL, data=registration_input())
    assert client.created_at == registered_at
