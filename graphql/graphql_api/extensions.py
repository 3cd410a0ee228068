"""Schema extensions: query limits, caches, and the error policy (stable codes; unexpected errors masked)."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from typing import Any

from graphql import (
    ArgumentNode,
    DocumentNode,
    GraphQLError,
    Node,
    ObjectFieldNode,
    Visitor,
    get_operation_ast,
    visit,
)
from strawberry.extensions import SchemaExtension

from domain.errors import DomainError, ValidationFailed
from graphql_api.limits import document_policy
from runtime.settings import Settings

logger = logging.getLogger("vehicle_platform.graphql")

# graphql-core names the offending input in coercion errors: "Variable '$input' has invalid value at .price: ..."
_INPUT_PATH = re.compile(r"invalid value at \.([\w.\[\]]+):")
_VARIABLE = re.compile(r"Variable '\$(\w+)'")


def request_limits(settings: Settings) -> type[SchemaExtension]:
    """Parsing and validation as `document_policy` defines them (tokens; the limits, then the standard rules),
    cached by the text; the WebSocket gateway checks subscriptions with the same policy. A trusted document (see
    trusted_documents.py) arrives parsed and is not validated again.

    It replaces Strawberry's ParserCache and ValidationCache: the latter would run every rule in one pass, the
    slow ones included, and the former's LRU could evict the app's own documents under a flood of others.
    """
    policy = document_policy(settings)

    class RequestLimits(SchemaExtension):
        errors: list[GraphQLError]

        def on_parse(self) -> Iterator[None]:
            context = self.execution_context
            trusted = getattr(context.context, "trusted_document", None)
            if trusted is not None:
                context.graphql_document, self.errors = trusted, []
            elif context.query:
                context.graphql_document, self.errors = policy.checked(context.schema._schema, context.query)
            yield

        def on_validate(self) -> Iterator[None]:
            context = self.execution_context
            document = context.graphql_document
            assert document is not None
            errors = self.errors
            if not errors and get_operation_ast(document, context._provided_operation_name) is None:
                # Strawberry would run the first of several operations; the GraphQL spec asks for an error. (Its
                # `operation_name` falls back to the first operation's: the name the client sent is kept apart.)
                which = ValidationFailed("operationName", "the document has several operations: name one")
                errors = [GraphQLError(which.message, original_error=which)]
            context.pre_execution_errors = errors
            yield

    return RequestLimits


def present_errors(errors: list[GraphQLError], request_id: str | None, document: DocumentNode | None) -> None:
    """Give every error its stable `extensions.code`; mask what is unexpected, logging it with the request id.

    Errors are amended in place: Strawberry hands every error of every phase (parsing included, which no
    extension hook sees when the parser cache raises) to `Schema.process_errors`, and keeps these objects.
    """
    for error in errors:
        original = error.original_error
        if isinstance(original, DomainError):
            error.extensions = {"code": original.code}
            if (field := getattr(original, "field", None)) is not None:
                error.extensions["field"] = field
        # Without a path the error arose before execution: parsing, validation or coercing the variables.
        elif original is None or error.path is None:
            error.extensions = {"code": "VALIDATION"}
            if (field := _request_error_field(error, document)) is not None:
                error.extensions["field"] = field
        else:
            logger.error(
                "unexpected error in %s (request %s)",
                ".".join(str(part) for part in error.path),
                request_id,
                exc_info=original,
            )
            error.message = "Unexpected error."
            error.original_error = None
            error.extensions = {"code": "INTERNAL", "requestId": request_id}


def _argument_path(node: Node, document: DocumentNode) -> str | None:
    """The dotted path of the argument (and input fields) whose literal value is `node`, e.g. `status`."""
    if node.loc is None:
        return None
    position = node.loc.start
    found: list[str] = []

    class Finder(Visitor):
        def enter_argument(self, argument: ArgumentNode, *_: Any) -> None:
            self._enter(argument.name.value, argument)

        def enter_object_field(self, object_field: ObjectFieldNode, *_: Any) -> None:
            self._enter(object_field.name.value, object_field)

        @staticmethod
        def _enter(name: str, owner: Node) -> None:
            if owner.loc is not None and owner.loc.start <= position < owner.loc.end:
                found.append(name)

    visit(document, Finder())
    if not found:
        return None
    # Nested input is reported like the domain reports it: `price`, not `input.price`.
    return ".".join(found[1:] if found[0] == "input" and len(found) > 1 else found)


def _request_error_field(error: GraphQLError, document: DocumentNode | None) -> str | None:
    if match := _INPUT_PATH.search(error.message) or _VARIABLE.search(error.message):
        return match.group(1)
    if document is not None and error.nodes:
        return _argument_path(error.nodes[0], document)
    return None
