"""The user pool as staff administer it (runtime/cognito_admin.py), against the emulator's Cognito."""

from __future__ import annotations

import uuid

import boto3
import pytest

from local_stack.config import DEMO_PASSWORD
from local_stack.resources import Provisioned
from local_stack.users import ensure_user
from runtime.cognito_admin import CognitoUserDirectory


@pytest.fixture
def staff_member(emulator: str, provisioned: Provisioned) -> tuple[str, str]:
    """A user of their own (the demo users are shared by the session): (email, subject)."""
    email = f"staff-{uuid.uuid4().hex[:8]}@example.com"
    return email, ensure_user(boto3.client("cognito-idp"), provisioned.user_pool_id, email, "admin")


def test_a_user_is_found_by_email_and_an_unknown_one_is_not(
    provisioned: Provisioned, staff_member: tuple[str, str]
) -> None:
    email, subject = staff_member
    directory = CognitoUserDirectory(provisioned.user_pool_id)

    assert directory.subject_of(email) == subject
    assert directory.subject_of("nobody-at-all@example.com") is None


def test_blocking_disables_the_user_and_taking_them_out_of_the_staff_leaves_the_group(
    provisioned: Provisioned, staff_member: tuple[str, str]
) -> None:
    email, _ = staff_member
    cognito = boto3.client("cognito-idp")
    directory = CognitoUserDirectory(provisioned.user_pool_id, client=cognito)

    directory.remove_from_group(email, "admin")
    directory.sign_out_everywhere(email)
    directory.disable(email)

    groups = cognito.admin_list_groups_for_user(UserPoolId=provisioned.user_pool_id, Username=email)["Groups"]
    assert groups == []
    assert cognito.admin_get_user(UserPoolId=provisioned.user_pool_id, Username=email)["Enabled"] is False


def test_signing_out_stops_the_refresh_token(provisioned: Provisioned, staff_member: tuple[str, str]) -> None:
    email, _ = staff_member
    cognito = boto3.client("cognito-idp")
    pool, client = provisioned.user_pool_id, provisioned.user_pool_client_id
    signed_in = cognito.admin_initiate_auth(
        UserPoolId=pool,
        ClientId=client,
        AuthFlow="ADMIN_USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": email, "PASSWORD": DEMO_PASSWORD},
    )["AuthenticationResult"]

    CognitoUserDirectory(pool, client=cognito).sign_out_everywhere(email)

    with pytest.raises(cognito.exceptions.NotAuthorizedException):
        cognito.admin_initiate_auth(
            UserPoolId=pool,
            ClientId=client,
            AuthFlow="REFRESH_TOKEN_AUTH",
            AuthParameters={"REFRESH_TOKEN": signed_in["RefreshToken"]},
        )
