"""The API Pix webhook: the PSP posts `{"pix": [...]}` to `{webhookUrl}/pix` after Pix are received or refunds
settle. The body is read strictly (a malformed one is refused whole, naming the first fault); a PSP that cannot
present the client certificate the standard asks for tags its calls with a per-deployment secret header instead.
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping

from domain.errors import ValidationFailed
from pix.model import Pix
from runtime.untrusted_json import UnacceptableJson, loads

WEBHOOK_SECRET_HEADER = "X-Pix-Webhook-Secret"  # noqa: S105 - the header's name, not a secret
# A PSP batches notifications; far more than this in one call is not a PSP.
MAX_PIX_PER_CALL = 1000


def parse_webhook_body(body: bytes | str) -> tuple[Pix, ...]:
    """The Pix of one webhook call, in the order sent. An empty list is valid (some PSPs send one to test)."""
    try:
        document = loads(body)
    except UnacceptableJson as error:
        raise ValidationFailed("body", str(error)) from error
    if not isinstance(document, dict):
        raise ValidationFailed("body", "the webhook body must be an object with a pix array")
    if "pix" not in document:
        raise ValidationFailed("pix", "the webhook body has no pix array")
    items = document["pix"]
    if not isinstance(items, list):
        raise ValidationFailed("pix", "pix must be an array")
    if len(items) > MAX_PIX_PER_CALL:
        raise ValidationFailed("pix", f"pix holds {len(items)} items, over {MAX_PIX_PER_CALL}")
    return tuple(Pix.from_json(item, f"pix[{index}]") for index, item in enumerate(items))


def has_valid_secret(headers: Mapping[str, str], expected_secret: str) -> bool:
    """Whether the call carries the deployment's secret (header names compared case-insensitively, the secret in
    constant time). An empty expected secret accepts nothing: a deployment without one must not be open."""
    if not expected_secret:
        return False
    wanted = WEBHOOK_SECRET_HEADER.lower()
    presented = next((value for name, value in headers.items() if name.lower() == wanted), None)
    if presented is None:
        return False
    return hmac.compare_digest(presented.encode("utf-8"), expected_secret.encode("utf-8"))
