"""Who may read each field, declared on the field: every root field of the schema names exactly one rule.

A rule runs before the resolver (after the id arguments are checked), over HTTP and in every push of a
subscription alike, so a resolver that forgets to check its caller cannot open a field. A field without a rule
fails `tests/api/test_field_rules.py`.

A refusal raises the domain's error itself (UNAUTHENTICATED, FORBIDDEN or NOT_FOUND, with the message a client has
always seen) instead of Strawberry's generic permission error: one rule can refuse for two reasons, and the error policy
already presents domain errors.
"""

from __future__ import annotations

from abc import abstractmethod
from typing import Any, ClassVar

from strawberry.extensions import FieldExtension
from strawberry.extensions.field_extension import SyncExtensionResolver
from strawberry.permission import BasePermission

from domain.errors import Forbidden, NotFound
from domain.orders import Order as DomainOrder
from graphql_api.context import Info, RequestContext
from runtime.principal import Principal


class AccessRule(BasePermission):
    """The base of every rule the schema test accepts: `check` raises the refusal, or returns to let the field
    resolve."""

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:  # noqa: ARG002 - no rule reads the parent
        self.check(info.context, kwargs)
        return True

    @abstractmethod
    def check(self, context: RequestContext, arguments: dict[str, Any]) -> None: ...


class Public(AccessRule):
    """Open to everyone. A token that is sent is still verified: an invalid one is an error, never anonymity."""

    def check(self, context: RequestContext, arguments: dict[str, Any]) -> None:  # noqa: ARG002
        context.viewer()


class SignedIn(AccessRule):
    """Any signed-in user (customer or staff)."""

    def check(self, context: RequestContext, arguments: dict[str, Any]) -> None:  # noqa: ARG002
        context.caller()


class Admin(AccessRule):
    """The dealership's staff (Cognito group admin) only."""

    def check(self, context: RequestContext, arguments: dict[str, Any]) -> None:  # noqa: ARG002
        if not context.caller().is_admin:
            raise Forbidden("only the dealership's staff (group admin) may do this")


def _owner_or_staff(principal: Principal, client_id: str) -> bool:
    return client_id == principal.subject or principal.is_admin


class _PushedOrderOwnerOrAdmin(AccessRule):
    """A subscription about one order (`orderId`): the pushed order is the subscriber's, or the subscriber is
    staff. Someone else's order is as absent as a missing one, as when the subscription starts (realtime)."""

    # The key the pushed order is stored under in the push's state; its resolver reads it there too.
    kind: ClassVar[str]

    def check(self, context: RequestContext, arguments: dict[str, Any]) -> None:
        principal = context.caller()  # first: a push without a subscriber is UNAUTHENTICATED, not NOT_FOUND
        order_id = str(arguments["order_id"])
        order: DomainOrder = context.pushed(self.kind, order_id)
        if not _owner_or_staff(principal, order.client_id):
            raise NotFound("order", order_id)


class OrderOwnerOrAdmin(_PushedOrderOwnerOrAdmin):
    kind = "order"


class InvoiceOwnerOrAdmin(_PushedOrderOwnerOrAdmin):
    kind = "invoice"


class OnlyOwnOrders(FieldExtension):
    """The order a field resolved is shown only to its owner or to staff; to anyone else it is null, as absent as
    a missing one (its existence is not the caller's business). Goes with a SignedIn rule, which runs first."""

    def resolve(self, next_: SyncExtensionResolver, source: Any, info: Info, **kwargs: Any) -> Any:
        order = next_(source, info, **kwargs)
        return order if order is not None and _owner_or_staff(info.context.caller(), order.client_id) else None
