"""Cognito JWT verification, done in the app as well as by the API Gateway authorizer.

The same verifier serves HTTP requests and the WebSocket `connection_init` payload.
"""

from __future__ import annotations

import logging
from functools import cached_property
from typing import TYPE_CHECKING, Any

from domain.errors import Unauthenticated
from runtime.principal import Principal, Role

if TYPE_CHECKING:
    import jwt

logger = logging.getLogger("vehicle_platform.auth")

# RS256 only: Cognito signs with it; a fixed list shuts out `alg: none` and HS256-keyed-with-the-public-key.
_ALGORITHMS = ["RS256"]
# Keys rotate rarely; the cache spares every cold request a JWKS fetch.
_JWKS_CACHE_SECONDS = 3600


# Cognito names the app client in `aud` on ID tokens and in `client_id` on access tokens.
_AUDIENCE_CLAIM = {"id": "aud", "access": "client_id"}
_KNOWN_ROLES = frozenset(role.value for role in Role)


class TokenVerifier:
    """PyJWT (and its cryptography) loads on the first token: an anonymous first request never pays for it."""

    def __init__(self, *, issuer: str, client_id: str, jwks_url: str, leeway_seconds: int = 30) -> None:
        self._issuer = issuer
        self._client_id = client_id
        self._jwks_url = jwks_url
        self._leeway = leeway_seconds

    @cached_property
    def _jwks(self) -> jwt.PyJWKClient:
        import jwt

        return jwt.PyJWKClient(self._jwks_url, cache_keys=True, lifespan=_JWKS_CACHE_SECONDS, timeout=5)

    def verify_authorization(self, header: str | None) -> Principal | None:
        """The principal of an `Authorization: Bearer <JWT>` value; None when there is no header at all."""
        if header is None or not header.strip():
            return None
        scheme, _, token = header.strip().partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthenticated("the Authorization header must be 'Bearer <token>'")
        return self.verify(token.strip())

    def fetch_keys(self) -> None:
        """Fetch the pool's signing keys now (health checks); verification fetches them lazily."""
        self._jwks.get_signing_keys(refresh=True)

    def verify(self, token: str) -> Principal:
        import jwt

        try:
            signing_key = self._jwks.get_signing_key_from_jwt(token)
            claims: dict[str, Any] = jwt.decode(
                token,
                signing_key.key,
                algorithms=_ALGORITHMS,
                issuer=self._issuer,
                leeway=self._leeway,
                # Cognito access tokens carry no `aud`; the audience is checked below for each token kind.
                options={"require": ["exp", "iat", "iss", "sub", "token_use"], "verify_aud": False},
            )
        except jwt.ExpiredSignatureError as error:
            raise Unauthenticated("the token has expired") from error
        except (jwt.PyJWTError, ValueError) as error:
            # The reason goes to the logs; the caller learns only that the token was refused.
            logger.info("token refused: %s", error)
            raise Unauthenticated("the token is not valid") from error
        self._check_audience(claims)
        groups = claims.get("cognito:groups") or []
        roles = frozenset(Role(group) for group in groups if group in _KNOWN_ROLES)
        email = claims.get("email")
        return Principal(
            subject=str(claims["sub"]),
            email=str(email) if email else None,
            roles=roles,
            expires_at=float(claims["exp"]),
            issued_at=float(claims["iat"]),
        )

    def _check_audience(self, claims: dict[str, Any]) -> None:
        token_use = claims["token_use"]
        audience_claim = _AUDIENCE_CLAIM.get(token_use)
        if audience_claim is None:
            raise Unauthenticated(f"token_use {token_use!r} is not accepted")
        if claims.get(audience_claim) != self._client_id:
            raise Unauthenticated("the token was issued to another client")
