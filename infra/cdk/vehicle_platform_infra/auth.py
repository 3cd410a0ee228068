"""Who may sign in: the Cognito user pool, its groups and the SPA's app client.

The pool's shape is the local stack's (platform_spec/identity.py): email as the user name, the same password policy,
the `admin` and `customer` groups. The functions verify its JWTs themselves (runtime/auth.py).
"""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_cognito as cognito
from constructs import Construct

from platform_spec.identity import PASSWORD_POLICY, USER_GROUPS
from vehicle_platform_infra import suppress


class Auth(Construct):
    def __init__(self, scope: Construct, id: str, *, removal_policy: RemovalPolicy, threat_protection: bool) -> None:
        super().__init__(scope, id)
        self.user_pool = cognito.UserPool(
            self,
            "UserPool",
            # Customers sign themselves up from the SPA (DESIGN.md: "register"); staff are added by an admin.
            self_sign_up_enabled=True,
            sign_in_aliases=cognito.SignInAliases(email=True),
            sign_in_case_sensitive=False,
            auto_verify=cognito.AutoVerifiedAttrs(email=True),
            standard_attributes=cognito.StandardAttributes(
                email=cognito.StandardAttribute(required=True, mutable=True)
            ),
            password_policy=cognito.PasswordPolicy(
                min_length=int(PASSWORD_POLICY["MinimumLength"]),
                require_uppercase=bool(PASSWORD_POLICY["RequireUppercase"]),
                require_lowercase=bool(PASSWORD_POLICY["RequireLowercase"]),
                require_digits=bool(PASSWORD_POLICY["RequireNumbers"]),
                require_symbols=bool(PASSWORD_POLICY["RequireSymbols"]),
                temp_password_validity=Duration.days(3),
            ),
            account_recovery=cognito.AccountRecovery.EMAIL_ONLY,
            # Authenticator apps (TOTP), offered to every user; SMS would need an SNS role and a spending limit.
            mfa=cognito.Mfa.OPTIONAL,
            mfa_second_factor=cognito.MfaSecondFactor(otp=True, sms=False),
            feature_plan=cognito.FeaturePlan.PLUS if threat_protection else cognito.FeaturePlan.ESSENTIALS,
            standard_threat_protection_mode=(
                cognito.StandardThreatProtectionMode.FULL_FUNCTION if threat_protection else None
            ),
            deletion_protection=removal_policy == RemovalPolicy.RETAIN,
            removal_policy=removal_policy,
        )
        suppress(
            self.user_pool,
            ["AwsSolutions-COG2"],
            "MFA is offered (TOTP), not required: customers buying a car once would be turned away by an "
            "authenticator-app enrolment at sign-up. What a customer's account can do is their own orders; staff "
            "accounts, which can do more, are created by an admin who enrols them in TOTP.",
        )
        if not threat_protection:
            suppress(
                self.user_pool,
                ["AwsSolutions-COG8"],
                "Threat protection (compromised credentials, adaptive authentication) needs the Plus feature plan, "
                "billed per monthly active user at several times Essentials; it is one context switch away "
                "(-c cognitoThreatProtection=true) for a deployment whose users justify it. Sign-in is rate-limited "
                "by Cognito and the password policy is the strong one either way.",
            )

        # The app reads them from the token's `cognito:groups` claim (runtime/auth.py).
        self.groups = {
            group: self.user_pool.add_group(f"{group.capitalize()}Group", group_name=group, description=description)
            for group, description in USER_GROUPS.items()
        }

        self.client = self.user_pool.add_client(
            "SpaClient",
            # A public client (a browser app keeps no secret): SRP keeps the password off the wire, refresh tokens
            # keep the session. CDK always allows the refresh-token flow.
            auth_flows=cognito.AuthFlow(user_srp=True),
            generate_secret=False,
            # The SPA signs in with Cognito's API (SRP), not its hosted pages: no OAuth flows, no callback URLs.
            disable_o_auth=True,
            prevent_user_existence_errors=True,
            enable_token_revocation=True,
            access_token_validity=Duration.hours(1),
            id_token_validity=Duration.hours(1),
            refresh_token_validity=Duration.days(30),
        )
