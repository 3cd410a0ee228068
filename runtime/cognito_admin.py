"""The user pool as staff administer it: Cognito's admin API behind `domain.access.UserDirectory`.

The pool signs users in by email (its username attribute), so the admin calls take the email as the username.
The client is made at the first call: an API request that never blocks anyone pays nothing for it.
"""

from __future__ import annotations

from functools import cached_property
from typing import Any


class CognitoUserDirectory:
    def __init__(self, user_pool_id: str, *, client: Any = None) -> None:
        self._user_pool_id = user_pool_id
        self._given_client = client

    @cached_property
    def _cognito(self) -> Any:
        if self._given_client is not None:
            return self._given_client
        import boto3

        return boto3.client("cognito-idp")

    def subject_of(self, email: str) -> str | None:
        try:
            user = self._cognito.admin_get_user(UserPoolId=self._user_pool_id, Username=email)
        except self._cognito.exceptions.UserNotFoundException:
            return None
        return next((str(a["Value"]) for a in user["UserAttributes"] if a["Name"] == "sub"), None)

    def disable(self, email: str) -> None:
        self._cognito.admin_disable_user(UserPoolId=self._user_pool_id, Username=email)

    def remove_from_group(self, email: str, group: str) -> None:
        self._cognito.admin_remove_user_from_group(UserPoolId=self._user_pool_id, Username=email, GroupName=group)

    def sign_out_everywhere(self, email: str) -> None:
        self._cognito.admin_user_global_sign_out(UserPoolId=self._user_pool_id, Username=email)
