"""The ids the platform hands out, and the one rule every id coming back from outside must pass.

Ids issued here: vehicles, orders and events are UUIDs (36 characters); products are SKUs (`PRD-1001`, at most 40);
batch orders keep their file's id (1-64 letters, digits, `_`, `.`, `-`); clients are Cognito subjects (UUIDs) or
`batch-<CPF>`. An id from a request is checked against that shape before it is looked up anywhere: a 60 KB id must
never reach the table (DynamoDB refuses keys over 2048 bytes, which would surface as an INTERNAL error), and no
character the platform never issues can be part of a key.
"""

from __future__ import annotations

import re

from domain.errors import ValidationFailed

MAX_ID_LENGTH = 64
# ASCII only, spelled out: `\w` would take any Unicode letter or digit.
_ID = re.compile(rf"[A-Za-z0-9_.\-]{{1,{MAX_ID_LENGTH}}}")


def parse_id(raw: object, *, field: str = "id") -> str:
    """`raw` if it has the shape of an id the platform issues (1-64 ASCII letters, digits, `_`, `.`, `-`);
    otherwise VALIDATION naming `field`. Used by the GraphQL `ID` scalar for every id argument and input field,
    and meant for every other edge that takes an id (the WebSocket's subscriptions, for one)."""
    # GraphQL's ID also takes an integer literal; it is read as its digits.
    if isinstance(raw, int) and not isinstance(raw, bool):
        raw = str(raw)
    if not isinstance(raw, str):
        raise ValidationFailed(field, f"{field} must be text")
    if not raw:
        raise ValidationFailed(field, f"{field} is required")
    if len(raw) > MAX_ID_LENGTH:
        raise ValidationFailed(field, f"{field} must be at most {MAX_ID_LENGTH} characters")
    if not _ID.fullmatch(raw):
        raise ValidationFailed(field, f"{field} may contain only letters, digits, '_', '.' and '-'")
    return raw
