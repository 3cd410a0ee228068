"""Taking a user's access away, at once: staff block a user, or take someone out of the staff.

A Cognito token is verified offline and stays valid until it expires (up to an hour): disabling the user stops new
sign-ins, the global sign-out stops its refresh tokens, and what remains open, the user's WebSocket connections with
their subscriptions, is ended now (each subscription gets `complete`, then the connection closes), as AppSync
invalidates subscriptions, instead of living on until the token expires.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from domain.errors import Forbidden, NotFound, ValidationFailed
from domain.values import Email
from runtime.principal import Principal, Role


class UserDirectory(Protocol):
    """The user pool, as staff administer it (Cognito's admin API)."""

    def subject_of(self, email: str) -> str | None:
        """The user's subject (their id everywhere else), None if the pool has no such user."""
        ...

    def disable(self, email: str) -> None: ...

    def remove_from_group(self, email: str, group: str) -> None: ...

    def sign_out_everywhere(self, email: str) -> None:
        """Revoke every refresh token the user holds: no token of theirs is renewed."""
        ...


class Sessions(Protocol):
    def end_all(self, subject: str) -> int:
        """Refuse from now on every token the user was issued until now (a new connection_init with one is
        refused), and end every open connection of the user and the subscriptions on it; how many connections
        there were."""
        ...

    def revoked_at(self, subject: str) -> float | None:
        """When the user's access was last taken away (None if it was not, within a token's lifetime)."""
        ...


@dataclass(frozen=True, slots=True)
class AccessRevoked:
    email: str
    subject: str
    connections_ended: int


@dataclass(frozen=True, slots=True)
class AccessControl:
    directory: UserDirectory
    sessions: Sessions

    def block(self, email: str, *, by: Principal) -> AccessRevoked:
        """The user may no longer sign in, and what they had open ends now."""
        email = Email.parse(email).value
        subject = self._other_user(email, by)
        self.directory.disable(email)
        return self._revoke(email, subject)

    def remove_from_staff(self, email: str, *, by: Principal) -> AccessRevoked:
        """The user is no longer staff: their tokens (which say admin until they expire) stop serving them now."""
        email = Email.parse(email).value
        subject = self._other_user(email, by)
        self.directory.remove_from_group(email, Role.ADMIN.value)
        return self._revoke(email, subject)

    def _other_user(self, email: str, by: Principal) -> str:
        revoked_at = self.sessions.revoked_at(by.subject)
        if revoked_at is not None and (by.issued_at is None or by.issued_at <= revoked_at):
            # Staff removed a moment ago still hold a token that says admin: it may not take anyone else's access.
            raise Forbidden("your access was taken away: sign in again")
        subject = self.directory.subject_of(email)
        if subject is None:
            raise NotFound("user", email, field="email")
        if subject == by.subject:
            # Staff locking themselves out would need another admin to undo it: refused.
            raise ValidationFailed("email", "you cannot take your own access away")
        return subject

    def _revoke(self, email: str, subject: str) -> AccessRevoked:
        self.directory.sign_out_everywhere(email)
        return AccessRevoked(email=email, subject=subject, connections_ended=self.sessions.end_all(subject))
