"""Who may sign in: the user pool, its app client and groups, and the password policy."""

from __future__ import annotations

from platform_spec.messaging import PREFIX

USER_POOL_NAME = f"{PREFIX}-users"
USER_POOL_CLIENT_NAME = f"{PREFIX}-spa"
USER_GROUPS = {
    "admin": "Dealership staff: manage vehicles, products and stock; see every order.",
    "customer": "Customers: register, buy, follow their own orders.",
}
# Cognito's PasswordPolicy as CreateUserPool takes it: eight characters or more, of all four kinds (the demo
# password has them), which is what cdk-nag's AwsSolutions-COG1 asks of the deployed pool.
PASSWORD_POLICY = {
    "MinimumLength": 8,
    "RequireUppercase": True,
    "RequireLowercase": True,
    "RequireNumbers": True,
    "RequireSymbols": True,
}
