"""The dealership's credentials at its PSP, read from Secrets Manager once per process (a Lambda's cold start).

The secret is a JSON object: `clientId` and `clientSecret` (the OAuth2 client), `certificatePem` and `privateKeyPem`
(the mTLS client certificate and its key) and, optionally, `caPem` (the PSP's CA, for a PSP not in the system's
trust store). A secret without a certificate is accepted for PSPs (and the local one) that do not require mTLS.
"""

from __future__ import annotations

import json
from functools import lru_cache

from pix.api import PixCredentials

_FIELDS = {
    "clientId": "client_id",
    "clientSecret": "client_secret",
    "certificatePem": "certificate_pem",
    "privateKeyPem": "private_key_pem",
    "caPem": "ca_pem",
}
_REQUIRED = ("clientId", "clientSecret")


class InvalidPixCredentials(ValueError):
    """The secret does not hold the credentials as documented above."""


def parse_pix_credentials(secret_string: str) -> PixCredentials:
    try:
        document = json.loads(secret_string)
    except ValueError as error:
        raise InvalidPixCredentials("the Pix credentials secret is not JSON") from error
    if not isinstance(document, dict):
        raise InvalidPixCredentials("the Pix credentials secret must be a JSON object")
    values: dict[str, str] = {}
    for name, attribute in _FIELDS.items():
        value = document.get(name)
        if value is None or value == "":
            if name in _REQUIRED:
                raise InvalidPixCredentials(f"the Pix credentials secret has no {name}")
            continue
        if not isinstance(value, str):
            raise InvalidPixCredentials(f"{name} in the Pix credentials secret must be a string")
        values[attribute] = value
    return PixCredentials(**values)


@lru_cache(maxsize=4)
def read_pix_credentials(secret_name: str, region: str, endpoint_url: str | None) -> PixCredentials:
    """The credentials in `secret_name`, fetched at the first call and kept: rotating them takes a new process."""
    import boto3

    client = boto3.session.Session().client("secretsmanager", region_name=region, endpoint_url=endpoint_url)
    return parse_pix_credentials(client.get_secret_value(SecretId=secret_name)["SecretString"])
