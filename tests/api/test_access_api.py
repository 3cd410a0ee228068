"""Staff take a user's access away: blockUser and removeFromStaff, over the user pool and the open connections in
memory (the Cognito adapter and the connections are exercised end to end in tests/e2e/test_connections_stay_up.py)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from composition.memory import MemorySessions, MemoryUserDirectory
from domain.access import AccessControl
from graphql_api.schema import build_schema
from graphql_api.wiring import Services
from runtime.settings import Settings
from tests.api.conftest import ADMIN, CUSTOMER, GraphQLClient

BLOCK = "mutation($email: String!) { blockUser(email: $email) { email userId connectionsEnded } }"
REMOVE = "mutation($email: String!) { removeFromStaff(email: $email) { email userId connectionsEnded } }"


@pytest.fixture
def directory() -> MemoryUserDirectory:
    directory = MemoryUserDirectory({"customer@example.com": CUSTOMER.subject, "admin@example.com": ADMIN.subject})
    directory.groups["admin@example.com"].add("admin")
    return directory


@pytest.fixture
def sessions() -> MemorySessions:
    return MemorySessions({CUSTOMER.subject: 2, ADMIN.subject: 1})


@pytest.fixture
def staff_client(
    settings: Settings, services: Services, directory: MemoryUserDirectory, sessions: MemorySessions
) -> GraphQLClient:
    return GraphQLClient(
        schema=build_schema(settings), services=replace(services, access=AccessControl(directory, sessions))
    )


def test_staff_block_a_user_who_is_disabled_signed_out_and_whose_connections_end(
    staff_client: GraphQLClient, directory: MemoryUserDirectory, sessions: MemorySessions
) -> None:
    result = staff_client.execute(BLOCK, {"email": "customer@example.com"}, token="admin-token")

    assert result["errors"] == []
    assert result["data"]["blockUser"] == {
        "email": "customer@example.com",
        "userId": CUSTOMER.subject,
        "connectionsEnded": 2,
    }
    assert directory.disabled == {"customer@example.com"}
    assert directory.signed_out == ["customer@example.com"]
    assert CUSTOMER.subject not in sessions.open


def test_a_customer_cannot_block_anyone(staff_client: GraphQLClient, directory: MemoryUserDirectory) -> None:
    result = staff_client.execute(BLOCK, {"email": "admin@example.com"}, token="customer-token")

    assert result["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert directory.disabled == set()


def test_blocking_an_unknown_user_is_not_found(staff_client: GraphQLClient) -> None:
    result = staff_client.execute(BLOCK, {"email": "nobody@example.com"}, token="admin-token")

    assert result["errors"][0]["extensions"]["code"] == "NOT_FOUND"


@pytest.mark.parametrize("email", ["", "   ", "not-an-address", "a@b"])
def test_an_address_that_is_no_email_is_refused_naming_the_field(
    staff_client: GraphQLClient, directory: MemoryUserDirectory, email: str
) -> None:
    # (Cognito itself answers a malformed username with an error the API would only mask as INTERNAL.)
    for mutation in (BLOCK, REMOVE):
        result = staff_client.execute(mutation, {"email": email}, token="admin-token")
        assert result["errors"][0]["extensions"]["code"] == "VALIDATION", result
        assert result["errors"][0]["extensions"]["field"] == "email"
    assert directory.disabled == set()


def test_staff_cannot_take_their_own_access_away(
    staff_client: GraphQLClient, directory: MemoryUserDirectory, sessions: MemorySessions
) -> None:
    for mutation in (BLOCK, REMOVE):
        result = staff_client.execute(mutation, {"email": "admin@example.com"}, token="admin-token")
        assert result["errors"][0]["extensions"]["code"] == "VALIDATION"
        assert result["errors"][0]["extensions"]["field"] == "email"
    assert directory.disabled == set()
    assert directory.groups["admin@example.com"] == {"admin"}
    assert sessions.open[ADMIN.subject] == 1


def test_a_user_taken_out_of_the_staff_is_signed_out_and_their_connections_end(
    settings: Settings, services: Services, sessions: MemorySessions
) -> None:
    other_admin = "boss@example.com"
    directory = MemoryUserDirectory({other_admin: "boss-sub", "admin@example.com": ADMIN.subject})
    directory.groups[other_admin].add("admin")
    sessions.open["boss-sub"] = 1
    client = GraphQLClient(
        schema=build_schema(settings), services=replace(services, access=AccessControl(directory, sessions))
    )

    result = client.execute(REMOVE, {"email": other_admin}, token="admin-token")

    assert result["data"]["removeFromStaff"] == {"email": other_admin, "userId": "boss-sub", "connectionsEnded": 1}
    assert directory.groups[other_admin] == set()
    assert directory.disabled == set()  # still a user, no longer staff
    assert directory.signed_out == [other_admin]


def test_staff_whose_access_was_taken_cannot_use_the_token_they_still_hold_to_take_anyone_elses(
    staff_client: GraphQLClient, directory: MemoryUserDirectory, sessions: MemorySessions
) -> None:
    sessions.revoked[ADMIN.subject] = 1_000.0  # after the test token was issued (it carries no issue time)

    result = staff_client.execute(BLOCK, {"email": "customer@example.com"}, token="admin-token")

    assert result["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert directory.disabled == set()
    assert sessions.open[CUSTOMER.subject] == 2
