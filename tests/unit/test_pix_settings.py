"""The Pix settings (runtime/settings.py) and the credentials secret's format (runtime/pix_credentials.py)."""

from __future__ import annotations

import json

import pytest

from runtime.pix_credentials import InvalidPixCredentials, parse_pix_credentials
from runtime.settings import LOCAL_PIX_KEY, PIX_CREDENTIALS_SECRET, Settings


def test_the_local_stack_defaults_to_its_own_psp_key_and_webhook_secret() -> None:
    pix = Settings.from_env({"APP_ENV": "local"}).pix
    assert (pix.api_url, pix.token_url) == ("http://127.0.0.1:8002/api/v2", "http://127.0.0.1:8002/oauth/token")
    assert pix.chave == LOCAL_PIX_KEY
    assert pix.credentials_secret == PIX_CREDENTIALS_SECRET
    assert pix.webhook_secret
    assert pix.reconcile_lag_seconds == 2


def test_a_deployment_names_its_psp_and_has_no_webhook_secret_unless_given_one() -> None:
    pix = Settings.from_env({"APP_ENV": "aws", "CURSOR_SECRET": "root"}).pix
    assert (pix.api_url, pix.token_url, pix.chave, pix.webhook_secret) == ("", "", "", "")
    assert (pix.reconcile_window_seconds, pix.reconcile_lag_seconds) == (900, 60)
    given = Settings.from_env(
        {
            "APP_ENV": "aws",
            "CURSOR_SECRET": "root",
            "PIX_API_URL": "https://psp.example/api/v2",
            "PIX_TOKEN_URL": "https://psp.example/oauth/token",
            "PIX_KEY": "pix@dealer.example",
            "PIX_CREDENTIALS_SECRET": "dealer/pix",
            "PIX_WEBHOOK_SECRET": "s3cret",
        }
    ).pix
    assert (given.api_url, given.chave, given.credentials_secret, given.webhook_secret) == (
        "https://psp.example/api/v2",
        "pix@dealer.example",
        "dealer/pix",
        "s3cret",
    )
    assert "s3cret" not in repr(given)


def test_the_credentials_secret_holds_the_client_and_optionally_the_certificate() -> None:
    bare = parse_pix_credentials(json.dumps({"clientId": "id", "clientSecret": "secret"}))
    assert (bare.client_id, bare.client_secret, bare.certificate_pem, bare.private_key_pem) == (
        "id",
        "secret",
        None,
        None,
    )
    full = parse_pix_credentials(
        json.dumps(
            {
                "clientId": "id",
                "clientSecret": "secret",
                "certificatePem": "CERT",
                "privateKeyPem": "KEY",
                "caPem": "CA",
            }
        )
    )
    assert (full.certificate_pem, full.private_key_pem, full.ca_pem) == ("CERT", "KEY", "CA")
    assert "secret" not in repr(full)
    assert "KEY" not in repr(full)


@pytest.mark.parametrize(
    "secret",
    ["not json", "[]", json.dumps({"clientId": "id"}), json.dumps({"clientId": "id", "clientSecret": 42})],
    ids=["not-json", "not-an-object", "no-client-secret", "secret-not-a-string"],
)
def test_a_malformed_credentials_secret_is_refused(secret: str) -> None:
    with pytest.raises(InvalidPixCredentials):
        parse_pix_credentials(secret)
