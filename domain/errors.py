"""Errors a caller can act on. Each carries a stable code that the API layers expose unchanged."""

from __future__ import annotations


class DomainError(Exception):
    """A request the domain refuses. `code` is one of the contract's error codes."""

    code = "INTERNAL"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ValidationFailed(DomainError):
    """Bad input, naming the field (dotted path for nested input, e.g. `address.zipCode`)."""

    code = "VALIDATION"

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


class NotFound(DomainError):
    code = "NOT_FOUND"

    def __init__(self, entity: str, entity_id: str, field: str | None = None) -> None:
        super().__init__(f"{entity} {entity_id!r} does not exist")
        self.entity = entity
        self.entity_id = entity_id
        # The input that named it, when a request lists several (an order's items).
        self.field = field


class Conflict(DomainError):
    """The request contradicts what is stored: a duplicate, a stale version, a state that forbids it."""

    code = "CONFLICT"

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class Unauthenticated(DomainError):
    code = "UNAUTHENTICATED"


class Forbidden(DomainError):
    code = "FORBIDDEN"


class InvalidTransition(Conflict):
    """A status change the state machine does not allow from the current status."""

    def __init__(self, entity: str, current: str, target: str) -> None:
        super().__init__(f"{entity} cannot go from {current} to {target}")
        self.current = current
        self.target = target


class StaleVersion(Conflict):
    """Someone else changed the entity since it was read (optimistic locking)."""

    def __init__(self, entity: str, entity_id: str) -> None:
        super().__init__(f"{entity} {entity_id!r} was changed by someone else; read it again and retry")
