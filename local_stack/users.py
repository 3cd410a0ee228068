"""The local user pool: the demo users, sign-ups of new customers, and their tokens, issued by the emulator's
Cognito exactly as the real one issues them."""

from __future__ import annotations

import contextlib
from typing import Any

import boto3

from local_stack.config import DEMO_PASSWORD, FAKE_CREDENTIALS
from platform_spec.identity import USER_POOL_CLIENT_NAME, USER_POOL_NAME


class TokenUnavailable(Exception):
    """No token can be had: the stack is not running, or the user is not known."""


def ensure_user(cognito: Any, user_pool_id: str, email: str, group: str, password: str = DEMO_PASSWORD) -> str:
    """A confirmed user with this email in `group` (created if missing); returns its Cognito subject."""
    with contextlib.suppress(cognito.exceptions.UsernameExistsException):
        cognito.admin_create_user(
            UserPoolId=user_pool_id,
            Username=email,
            UserAttributes=[{"Name": "email", "Value": email}, {"Name": "email_verified", "Value": "true"}],
            MessageAction="SUPPRESS",
        )
    cognito.admin_set_user_password(UserPoolId=user_pool_id, Username=email, Password=password, Permanent=True)
    cognito.admin_add_user_to_group(UserPoolId=user_pool_id, Username=email, GroupName=group)
    attributes = cognito.admin_get_user(UserPoolId=user_pool_id, Username=email)["UserAttributes"]
    return str(next(a["Value"] for a in attributes if a["Name"] == "sub"))


class LocalUserPool:
    """The running local stack's user pool, found by name."""

    def __init__(self, endpoint: str, region: str) -> None:
        self._endpoint = endpoint
        self._cognito = boto3.client(
            "cognito-idp",
            endpoint_url=endpoint,
            region_name=region,
            aws_access_key_id=FAKE_CREDENTIALS["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=FAKE_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
        )

    def _ids(self) -> tuple[str, str]:
        try:
            pools = self._cognito.list_user_pools(MaxResults=60)["UserPools"]
        except Exception as error:
            raise TokenUnavailable(
                f"cannot reach the local stack at {self._endpoint}; is `make dev` running?"
            ) from error
        pool_id = next((pool["Id"] for pool in pools if pool["Name"] == USER_POOL_NAME), None)
        if pool_id is None:
            raise TokenUnavailable("the local stack has no user pool yet; is `make dev` running?")
        clients = self._cognito.list_user_pool_clients(UserPoolId=pool_id, MaxResults=60)["UserPoolClients"]
        client_id = next(c["ClientId"] for c in clients if c["ClientName"] == USER_POOL_CLIENT_NAME)
        return str(pool_id), str(client_id)

    def token(self, email: str, password: str = DEMO_PASSWORD) -> str:
        """An ID token for `email`: it carries the user's groups and email, and `aud` names the SPA client."""
        pool_id, client_id = self._ids()
        errors = self._cognito.exceptions
        try:
            result = self._cognito.admin_initiate_auth(
                UserPoolId=pool_id,
                ClientId=client_id,
                AuthFlow="ADMIN_USER_PASSWORD_AUTH",
                AuthParameters={"USERNAME": email, "PASSWORD": password},
            )
        except (errors.UserNotFoundException, errors.NotAuthorizedException) as error:
            raise TokenUnavailable(
                f"{email} is not a user of the local stack (demo users: admin@example.com, customer@example.com, "
                "customer2@example.com; `vehicle-platform signup EMAIL` adds a customer)"
            ) from error
        return str(result["AuthenticationResult"]["IdToken"])

    def sign_up(self, email: str) -> str:
        """A new customer, as the SPA's Cognito sign-up makes one (confirmed); returns their token."""
        pool_id, _ = self._ids()
        ensure_user(self._cognito, pool_id, email.strip().lower(), "customer")
        return self.token(email.strip().lower())
