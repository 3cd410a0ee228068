"""Who is calling: plain values, with no imports, shared by whoever verifies a token (runtime/auth.py), whoever
authorizes with it (the API, the realtime gateway) and the store that keeps it with a WebSocket connection
(persistence/connections.py), so that none of them needs another's module to speak of a caller."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    ADMIN = "admin"
    CUSTOMER = "customer"


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: the Cognito subject, the email the pool holds for them, and their roles."""

    subject: str
    email: str | None
    roles: frozenset[Role]
    # When the token that vouched for them expires (epoch seconds): what it authorized ends then too.
    expires_at: float | None = None
    # When that token was issued (epoch seconds): a token issued before the user's access was taken away is refused.
    issued_at: float | None = None

    @property
    def is_admin(self) -> bool:
        return Role.ADMIN in self.roles
