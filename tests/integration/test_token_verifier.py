"""TokenVerifier against the emulator's user pool: real Cognito ID tokens pass, forged and altered ones do not.

moto signs every token with one fixed RSA key whose private JWK ships inside the moto package. Signing with it
lets these tests change exactly one thing in an otherwise valid token and see the verifier refuse it.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import hmac
import json
import time
from collections.abc import Callable
from importlib import resources
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from domain.errors import Unauthenticated
from runtime.auth import TokenVerifier
from runtime.principal import Role
from runtime.settings import Settings

ADMIN = "admin@example.com"
CUSTOMER = "customer@example.com"
MOTO_KID = "dummy"


@pytest.fixture
def verifier(settings: Settings) -> TokenVerifier:
    return TokenVerifier(
        issuer=settings.cognito_issuer, client_id=settings.cognito_client_id, jwks_url=settings.cognito_jwks_url
    )


@pytest.fixture(scope="module")
def pool_key() -> rsa.RSAPrivateKey:
    """The private key moto signs with (shipped gzipped in recent moto releases, plain in older ones)."""
    folder = resources.files("moto") / "cognitoidp" / "resources"
    packed = folder / "jwks-private.json.gz"
    text = gzip.decompress(packed.read_bytes()) if packed.is_file() else (folder / "jwks-private.json").read_bytes()
    jwk = json.loads(text)
    assert jwk["kid"] == MOTO_KID
    key = RSAAlgorithm.from_jwk(jwk)
    assert isinstance(key, rsa.RSAPrivateKey)
    return key


@pytest.fixture
def admin_claims(token_for: Callable[[str], str]) -> dict[str, Any]:
    """The claims of a real ID token of the admin, read without verification to be copied and altered."""
    claims: dict[str, Any] = jwt.decode(token_for(ADMIN), options={"verify_signature": False})
    return claims


def signed(claims: dict[str, Any], key: rsa.RSAPrivateKey, *, kid: str = MOTO_KID) -> str:
    return jwt.encode(claims, key, algorithm="RS256", headers={"kid": kid})


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def hand_made(header: dict[str, Any], claims: dict[str, Any], sign: Callable[[bytes], bytes]) -> str:
    """A JWT assembled by hand, as an attacker would, so that no library refuses to produce it."""
    signing_input = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(claims).encode())}"
    return f"{signing_input}.{_b64(sign(signing_input.encode()))}"


def refused(verifier: TokenVerifier, token: str) -> Unauthenticated:
    with pytest.raises(Unauthenticated) as caught:
        verifier.verify(token)
    assert caught.value.code == "UNAUTHENTICATED"
    return caught.value


# --- real tokens ----------------------------------------------------------------------------------------------


def test_an_admin_id_token_from_the_pool_gives_the_admin_principal(
    verifier: TokenVerifier, token_for: Callable[[str], str], demo_users: dict[str, str]
) -> None:
    # Given a real ID token the pool issued to the admin
    token = token_for(ADMIN)

    # When it is verified
    principal = verifier.verify(token)

    # Then the caller is the admin's Cognito subject, with their email and the admin role only
    assert principal.subject == demo_users[ADMIN]
    assert principal.email == ADMIN
    assert principal.roles == frozenset({Role.ADMIN})
    assert principal.is_admin


def test_a_customer_id_token_gives_the_customer_role_only(
    verifier: TokenVerifier, token_for: Callable[[str], str], demo_users: dict[str, str]
) -> None:
    principal = verifier.verify(token_for(CUSTOMER))

    assert principal.subject == demo_users[CUSTOMER]
    assert principal.email == CUSTOMER
    assert principal.roles == frozenset({Role.CUSTOMER})
    assert not principal.is_admin


@pytest.mark.parametrize("scheme", ["Bearer", "bearer", "BEARER"])
def test_a_bearer_authorization_header_is_verified(
    verifier: TokenVerifier, token_for: Callable[[str], str], demo_users: dict[str, str], scheme: str
) -> None:
    principal = verifier.verify_authorization(f"{scheme} {token_for(ADMIN)}")

    assert principal is not None
    assert principal.subject == demo_users[ADMIN]


@pytest.mark.parametrize("header", [None, "", "   "])
def test_no_authorization_header_means_an_anonymous_caller(verifier: TokenVerifier, header: str | None) -> None:
    assert verifier.verify_authorization(header) is None


@pytest.mark.parametrize("header", ["Basic xyz", "Bearer", "Bearer   ", "Token abc.def.ghi", "abc.def.ghi"])
def test_an_authorization_header_that_is_not_a_bearer_token_is_refused(verifier: TokenVerifier, header: str) -> None:
    with pytest.raises(Unauthenticated) as caught:
        verifier.verify_authorization(header)
    assert caught.value.code == "UNAUTHENTICATED"


# --- tokens signed with the pool's key: the control, and one change at a time -----------------------------


def test_the_real_claims_re_signed_with_the_pool_key_are_accepted(
    verifier: TokenVerifier, admin_claims: dict[str, Any], pool_key: rsa.RSAPrivateKey, demo_users: dict[str, str]
) -> None:
    # The control for every forgery below: signing itself is not what they get refused for.
    principal = verifier.verify(signed(admin_claims, pool_key))

    assert principal.subject == demo_users[ADMIN]
    assert principal.roles == frozenset({Role.ADMIN})


def test_an_access_token_for_this_client_is_accepted(
    verifier: TokenVerifier, admin_claims: dict[str, Any], pool_key: rsa.RSAPrivateKey, settings: Settings
) -> None:
    # Given an access token: no `aud`, the app client named in `client_id`, and no email
    claims = {k: v for k, v in admin_claims.items() if k not in {"aud", "email"}}
    claims |= {"token_use": "access", "client_id": settings.cognito_client_id}

    principal = verifier.verify(signed(claims, pool_key))

    assert principal.roles == frozenset({Role.ADMIN})
    assert principal.email is None


def test_groups_that_are_not_roles_grant_nothing(
    verifier: TokenVerifier, admin_claims: dict[str, Any], pool_key: rsa.RSAPrivateKey
) -> None:
    claims = admin_claims | {"cognito:groups": ["superuser", "customer"]}

    assert verifier.verify(signed(claims, pool_key)).roles == frozenset({Role.CUSTOMER})


def test_an_expired_token_is_refused_as_expired(
    verifier: TokenVerifier, admin_claims: dict[str, Any], pool_key: rsa.RSAPrivateKey
) -> None:
    now = int(time.time())
    claims = admin_claims | {"iat": now - 7200, "auth_time": now - 7200, "exp": now - 3600}

    error = refused(verifier, signed(claims, pool_key))

    assert "expired" in error.message


def test_a_token_expired_within_the_clock_skew_leeway_is_still_accepted(
    verifier: TokenVerifier, admin_claims: dict[str, Any], pool_key: rsa.RSAPrivateKey
) -> None:
    now = int(time.time())
    claims = admin_claims | {"iat": now - 3600, "exp": now - 5}

    assert verifier.verify(signed(claims, pool_key)).is_admin


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        pytest.param({"aud": "another-app-client"}, "issued to another client", id="wrong audience"),
        pytest.param({"token_use": "refresh"}, "token_use 'refresh' is not accepted", id="refresh token"),
        pytest.param({"token_use": "custom"}, "token_use 'custom' is not accepted", id="unknown token_use"),
        pytest.param(
            {"iss": "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Attacker"}, "not valid", id="wrong issuer"
        ),
        pytest.param({"iat": int(time.time()) + 3600}, "not valid", id="issued in the future"),
        pytest.param({"nbf": int(time.time()) + 3600}, "not valid", id="not yet valid"),
    ],
)
def test_an_id_token_with_one_claim_changed_is_refused(
    verifier: TokenVerifier,
    admin_claims: dict[str, Any],
    pool_key: rsa.RSAPrivateKey,
    change: dict[str, Any],
    reason: str,
) -> None:
    assert reason in refused(verifier, signed(admin_claims | change, pool_key)).message


def test_an_access_token_for_another_client_is_refused(
    verifier: TokenVerifier, admin_claims: dict[str, Any], pool_key: rsa.RSAPrivateKey, settings: Settings
) -> None:
    # Given an access token of another app client, which still carries this client in `aud`
    claims = admin_claims | {"token_use": "access", "client_id": "another-app-client"}
    assert claims["aud"] == settings.cognito_client_id

    error = refused(verifier, signed(claims, pool_key))

    assert "another client" in error.message


@pytest.mark.parametrize("claim", ["sub", "exp", "iat", "iss", "token_use"])
def test_a_token_missing_a_required_claim_is_refused(
    verifier: TokenVerifier, admin_claims: dict[str, Any], pool_key: rsa.RSAPrivateKey, claim: str
) -> None:
    claims = {k: v for k, v in admin_claims.items() if k != claim}

    refused(verifier, signed(claims, pool_key))


def test_an_id_token_without_audience_is_refused(
    verifier: TokenVerifier, admin_claims: dict[str, Any], pool_key: rsa.RSAPrivateKey
) -> None:
    claims = {k: v for k, v in admin_claims.items() if k != "aud"}

    refused(verifier, signed(claims, pool_key))


# --- forged signatures and algorithms -----------------------------------------------------------------------


def test_an_unsigned_alg_none_token_is_refused(verifier: TokenVerifier, admin_claims: dict[str, Any]) -> None:
    token = hand_made({"alg": "none", "typ": "JWT", "kid": MOTO_KID}, admin_claims, lambda _: b"")

    refused(verifier, token)
    # Also the form with no signature segment at all
    refused(verifier, token.rpartition(".")[0] + ".")


def test_an_hs256_token_keyed_with_the_pool_public_key_is_refused(
    verifier: TokenVerifier, admin_claims: dict[str, Any], pool_key: rsa.RSAPrivateKey
) -> None:
    # Given the classic key-confusion forgery: HMAC over the token, with the published public key as the secret
    public_pem = pool_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    token = hand_made(
        {"alg": "HS256", "typ": "JWT", "kid": MOTO_KID},
        admin_claims,
        lambda data: hmac.new(public_pem, data, hashlib.sha256).digest(),
    )

    refused(verifier, token)


def test_a_token_signed_by_another_key_under_the_pool_kid_is_refused(
    verifier: TokenVerifier, admin_claims: dict[str, Any]
) -> None:
    attacker_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)

    refused(verifier, signed(admin_claims, attacker_key))


def test_a_token_naming_an_unknown_key_is_refused(
    verifier: TokenVerifier, admin_claims: dict[str, Any], pool_key: rsa.RSAPrivateKey
) -> None:
    refused(verifier, signed(admin_claims, pool_key, kid="rotated-away"))


def test_a_real_token_with_an_edited_payload_is_refused(
    verifier: TokenVerifier, token_for: Callable[[str], str], demo_users: dict[str, str]
) -> None:
    # Given the customer's real token with the payload swapped for the admin's claims, signature kept
    header, _, signature = token_for(CUSTOMER).split(".")
    admin_payload = token_for(ADMIN).split(".")[1]

    refused(verifier, f"{header}.{admin_payload}.{signature}")


@pytest.mark.parametrize("garbage", ["garbage", "", "a.b.c", "eyJhbGciOiJSUzI1NiJ9.e30", "...."])
def test_a_garbage_token_is_refused(verifier: TokenVerifier, garbage: str) -> None:
    refused(verifier, garbage)
