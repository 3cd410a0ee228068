"""Schema extensions: query limits, caches, and the error policy (stable codes; unexpected errors masked)."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterator
from typing import Any

from graphql import GraphQLError, NoSchemaIntrospectionCustomRule
from graphql.validation import ASTValidationRule
from strawberry.extensions import AddValidationRules, SchemaExtension
from strawberry.extensions.max_aliases import create_validator as max_aliases_rule
from strawberry.extensions.query_depth_limiter import create_validator as max_depth_rule

from domain.errors import DomainError
from runtime.settings import Settings

logger = logging.getLogger("vehicle_platform.graphql")

# graphql-core names the offending input path in coercion errors: ... invalid value "abc" at "input.price"; ...
_INPUT_PATH = re.compile(r'at "(?:[A-Za-z_]\w*\.)?([\w.\[\]]+)"')


def limit_rules(settings: Settings) -> Callable[[], SchemaExtension]:
    """Depth, alias and (optionally) introspection rules, built once per process.

    The rule classes must be the same objects on every request: the validation cache keys on them.
    """
    rules: list[type[ASTValidationRule]] = [
        max_depth_rule(settings.limits.max_depth, should_ignore=None),
        max_aliases_rule(settings.limits.max_aliases),
    ]
    if not settings.local_mode:
        rules.append(NoSchemaIntrospectionCustomRule)

    def extension() -> SchemaExtension:
        return AddValidationRules(rules)

    return extension


def _present_domain_error(error: GraphQLError, original: DomainError) -> GraphQLError:
    extensions: dict[str, Any] = {"code": original.code}
    field = getattr(original, "field", None)
    if field is not None:
        extensions["field"] = field
    return GraphQLError(original.message, nodes=error.nodes, path=error.path, extensions=extensions)


def _present_request_error(error: GraphQLError) -> GraphQLError:
    """A syntax, validation or input coercion error: the client sent something the schema does not accept."""
    extensions: dict[str, Any] = {"code": "VALIDATION"}
    if match := _INPUT_PATH.search(error.message):
        extensions["field"] = match.group(1)
    return GraphQLError(error.message, nodes=error.nodes, path=error.path, extensions=extensions)


class ErrorPolicy(SchemaExtension):
    """Every error leaves with `extensions.code`; anything unexpected is masked and logged with the request id."""

    def on_operation(self) -> Iterator[None]:
        yield
        result = self.execution_context.result
        if result is None or not result.errors:
            return
        result.errors = [self._present(error) for error in result.errors]

    def _present(self, error: GraphQLError) -> GraphQLError:
        original = error.original_error
        if isinstance(original, DomainError):
            return _present_domain_error(error, original)
        if original is None:
            return _present_request_error(error)
        request_id = getattr(self.execution_context.context, "request_id", None)
        logger.error(
            "unexpected error in %s (request %s)",
            ".".join(str(part) for part in error.path or []),
            request_id,
            exc_info=original,
        )
        return GraphQLError(
            "Unexpected error.",
            nodes=error.nodes,
            path=error.path,
            extensions={"code": "INTERNAL", "requestId": request_id},
        )
