"""Tokens for the demo users, issued by the emulator's user pool exactly as Cognito would issue them."""

from __future__ import annotations

import boto3

from local_stack.config import DEMO_PASSWORD, FAKE_CREDENTIALS
from local_stack.resources import USER_POOL_CLIENT_NAME, USER_POOL_NAME


class TokenUnavailable(Exception):
    """No token can be had: the stack is not running, or the user is not a demo user."""


def demo_token(endpoint: str, region: str, email: str, *, password: str = DEMO_PASSWORD) -> str:
    """An ID token for `email` (it carries the user's groups and email, and `aud` names the SPA client)."""
    cognito = boto3.client(
        "cognito-idp",
        endpoint_url=endpoint,
        region_name=region,
        aws_access_key_id=FAKE_CREDENTIALS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=FAKE_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
    )
    try:
        pools = cognito.list_user_pools(MaxResults=60)["UserPools"]
    except Exception as error:
        raise TokenUnavailable(f"cannot reach the local stack at {endpoint}; is `make dev` running?") from error
    pool_id = next((pool["Id"] for pool in pools if pool["Name"] == USER_POOL_NAME), None)
    if pool_id is None:
        raise TokenUnavailable("the local stack has no user pool yet; is `make dev` running?")
    clients = cognito.list_user_pool_clients(UserPoolId=pool_id, MaxResults=60)["UserPoolClients"]
    client_id = next(c["ClientId"] for c in clients if c["ClientName"] == USER_POOL_CLIENT_NAME)
    try:
        result = cognito.admin_initiate_auth(
            UserPoolId=pool_id,
            ClientId=client_id,
            AuthFlow="ADMIN_USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": email, "PASSWORD": password},
        )
    except (cognito.exceptions.UserNotFoundException, cognito.exceptions.NotAuthorizedException) as error:
        raise TokenUnavailable(
            f"{email} is not a demo user (admin@example.com, customer@example.com, customer2@example.com)"
        ) from error
    return result["AuthenticationResult"]["IdToken"]
