"""Forged and misused tokens sent to the GraphQL Lambda (AWS mode, the real verifier, the emulator's user pool).

tests/integration/test_token_verifier.py checks the verifier alone; the API tests use a fake verifier. Here each
abusive token goes through the whole handler, as an attacker would send it: the answer is UNAUTHENTICATED, with no
data, even where anonymous callers are welcome, and nothing is written.
"""

from __future__ import annotations

import base64
import gzip
import json
import time
from collections.abc import Callable
from importlib import resources
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from domain.errors import Unauthenticated
from local_stack.lambda_events import http_api_event, lambda_context
from runtime.auth import TokenVerifier
from runtime.settings import Settings
from tests.integration.conftest import Handler

CUSTOMER = "customer@example.com"
ADMIN = "admin@example.com"
MOTO_KID = "dummy"
CREATE = {
    "query": "mutation($i: CreateVehicleInput!) { createVehicle(input: $i) { id } }",
    "variables": {"i": {"brand": "BYD", "model": "Seal", "year": 2025, "color": "Preto", "price": "296800.00"}},
}
LIST = {"query": "{ vehicles { edges { node { id } } } }"}


@pytest.fixture(scope="module")
def pool_key() -> rsa.RSAPrivateKey:
    """The private key moto signs the pool's tokens with (it ships inside the moto package)."""
    folder = resources.files("moto") / "cognitoidp" / "resources"
    packed = folder / "jwks-private.json.gz"
    text = gzip.decompress(packed.read_bytes()) if packed.is_file() else (folder / "jwks-private.json").read_bytes()
    key = RSAAlgorithm.from_jwk(json.loads(text))
    assert isinstance(key, rsa.RSAPrivateKey)
    return key


@pytest.fixture
def verifier(settings: Settings) -> TokenVerifier:
    return TokenVerifier(
        issuer=settings.cognito_issuer, client_id=settings.cognito_client_id, jwks_url=settings.cognito_jwks_url
    )


def claims_of(token: str) -> dict[str, Any]:
    claims: dict[str, Any] = jwt.decode(token, options={"verify_signature": False})
    return claims


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def post(handler: Handler, body: dict[str, Any], token: str) -> tuple[int, dict[str, Any]]:
    event = http_api_event("POST", "/graphql", body, {"authorization": f"Bearer {token}"})
    response = handler(event, lambda_context("graphql-api"))
    answer: dict[str, Any] = json.loads(response["body"])
    return response["statusCode"], answer


# --- token_use: an access token must name this client in client_id, an ID token in aud ------------------------


def test_an_access_token_that_names_this_client_only_in_aud_is_refused(
    verifier: TokenVerifier, token_for: Callable[[str], str], pool_key: rsa.RSAPrivateKey
) -> None:
    # Given the admin's ID token relabelled as an access token: `aud` is this client, but `client_id` is absent
    claims = claims_of(token_for(ADMIN)) | {"token_use": "access"}
    assert "client_id" not in claims

    with pytest.raises(Unauthenticated) as refused:
        verifier.verify(jwt.encode(claims, pool_key, algorithm="RS256", headers={"kid": MOTO_KID}))

    assert "another client" in refused.value.message


def test_an_id_token_that_names_this_client_only_in_client_id_is_refused(
    verifier: TokenVerifier, token_for: Callable[[str], str], pool_key: rsa.RSAPrivateKey, settings: Settings
) -> None:
    # Given an access token's shape (client_id = this client) labelled as an ID token, for another app's audience
    claims = claims_of(token_for(ADMIN)) | {"aud": "another-app-client", "client_id": settings.cognito_client_id}

    with pytest.raises(Unauthenticated) as refused:
        verifier.verify(jwt.encode(claims, pool_key, algorithm="RS256", headers={"kid": MOTO_KID}))

    assert "another client" in refused.value.message


# --- the same forgeries, through the whole API ----------------------------------------------------------------


def _edited_groups(customer_token: str, _key: rsa.RSAPrivateKey, _settings: Settings) -> str:
    """The customer's real token, `cognito:groups` rewritten to admin, the pool's signature kept."""
    header, _, signature = customer_token.split(".")
    claims = claims_of(customer_token) | {"cognito:groups": ["admin", "customer"]}
    return f"{header}.{_b64(json.dumps(claims).encode())}.{signature}"


def _groups_signed_by_attacker(customer_token: str, _key: rsa.RSAPrivateKey, _settings: Settings) -> str:
    attacker = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    claims = claims_of(customer_token) | {"cognito:groups": ["admin"]}
    return jwt.encode(claims, attacker, algorithm="RS256", headers={"kid": MOTO_KID})


def _alg_none_admin(customer_token: str, _key: rsa.RSAPrivateKey, _settings: Settings) -> str:
    claims = claims_of(customer_token) | {"cognito:groups": ["admin"]}
    header = {"alg": "none", "typ": "JWT", "kid": MOTO_KID}
    return f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(claims).encode())}."


def _other_audience(customer_token: str, key: rsa.RSAPrivateKey, _settings: Settings) -> str:
    claims = claims_of(customer_token) | {"aud": "another-app-client"}
    return jwt.encode(claims, key, algorithm="RS256", headers={"kid": MOTO_KID})


def _access_token_of_another_client(customer_token: str, key: rsa.RSAPrivateKey, _settings: Settings) -> str:
    claims = {k: v for k, v in claims_of(customer_token).items() if k != "aud"}
    claims |= {"token_use": "access", "client_id": "another-app-client"}
    return jwt.encode(claims, key, algorithm="RS256", headers={"kid": MOTO_KID})


def _access_token_without_client_id(customer_token: str, key: rsa.RSAPrivateKey, _settings: Settings) -> str:
    claims = claims_of(customer_token) | {"token_use": "access"}
    return jwt.encode(claims, key, algorithm="RS256", headers={"kid": MOTO_KID})


def _refresh_token_use(customer_token: str, key: rsa.RSAPrivateKey, _settings: Settings) -> str:
    claims = claims_of(customer_token) | {"token_use": "refresh"}
    return jwt.encode(claims, key, algorithm="RS256", headers={"kid": MOTO_KID})


def _expired(customer_token: str, key: rsa.RSAPrivateKey, _settings: Settings) -> str:
    now = int(time.time())
    claims = claims_of(customer_token) | {"iat": now - 7200, "auth_time": now - 7200, "exp": now - 3600}
    return jwt.encode(claims, key, algorithm="RS256", headers={"kid": MOTO_KID})


def _another_pool(customer_token: str, key: rsa.RSAPrivateKey, settings: Settings) -> str:
    issuer = settings.cognito_issuer.rsplit("/", 1)[0] + "/us-east-1_Attacker"
    return jwt.encode(claims_of(customer_token) | {"iss": issuer}, key, algorithm="RS256", headers={"kid": MOTO_KID})


Forgery = Callable[[str, rsa.RSAPrivateKey, Settings], str]
FORGERIES = [
    pytest.param(_edited_groups, id="groups-edited-signature-kept"),
    pytest.param(_groups_signed_by_attacker, id="groups-signed-by-another-key"),
    pytest.param(_alg_none_admin, id="alg-none-admin"),
    pytest.param(_other_audience, id="id-token-for-another-client"),
    pytest.param(_access_token_of_another_client, id="access-token-for-another-client"),
    pytest.param(_access_token_without_client_id, id="access-token-without-client-id"),
    pytest.param(_refresh_token_use, id="token-use-refresh"),
    pytest.param(_expired, id="expired"),
    pytest.param(_another_pool, id="another-pool"),
]


@pytest.mark.parametrize("forge", FORGERIES)
def test_a_forged_token_cannot_create_a_vehicle_and_writes_nothing(
    handler: Handler,
    token_for: Callable[[str], str],
    pool_key: rsa.RSAPrivateKey,
    settings: Settings,
    forge: Forgery,
) -> None:
    token = forge(token_for(CUSTOMER), pool_key, settings)

    status, answer = post(handler, CREATE, token)

    assert status == 200
    assert answer["data"] is None
    assert [error["extensions"]["code"] for error in answer["errors"]] == ["UNAUTHENTICATED"]
    assert "Traceback" not in json.dumps(answer)
    # Nothing was created: the admin sees no vehicle for sale
    _, listed = post(handler, LIST, token_for(ADMIN))
    assert listed == {"data": {"vehicles": {"edges": []}}}


@pytest.mark.parametrize("forge", FORGERIES)
def test_a_forged_token_is_refused_even_where_anonymous_callers_are_welcome(
    handler: Handler,
    token_for: Callable[[str], str],
    pool_key: rsa.RSAPrivateKey,
    settings: Settings,
    forge: Forgery,
) -> None:
    status, answer = post(handler, LIST, forge(token_for(CUSTOMER), pool_key, settings))

    assert status == 200
    assert [error["extensions"]["code"] for error in answer["errors"]] == ["UNAUTHENTICATED"]


def test_the_real_customer_token_signed_again_is_a_customer_still(
    handler: Handler, token_for: Callable[[str], str], pool_key: rsa.RSAPrivateKey
) -> None:
    # The control: the pool's key with the real claims is accepted, and a customer may not create vehicles
    token = jwt.encode(claims_of(token_for(CUSTOMER)), pool_key, algorithm="RS256", headers={"kid": MOTO_KID})

    _, answer = post(handler, CREATE, token)

    assert [error["extensions"]["code"] for error in answer["errors"]] == ["FORBIDDEN"]
