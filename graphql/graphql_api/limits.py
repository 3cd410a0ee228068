"""What the API accepts as a document: a token budget, then depth, alias and field limits measured in linear time.

A fragment spread repeats its fragment wherever it appears, so a kilobyte whose fragments spread each other twice
describes 2**n fields. Strawberry's depth and alias rules expand every spread again each time they meet it: 0.5 s
at n=18, minutes at n=40, for one anonymous request. Here each fragment is measured once, dependencies first, and a
spread adds its fragment's measure: the time is linear in the document's text while the figures describe the
document with every spread expanded, which is what execution and the client would face.

The HTTP API (through `request_limits` in extensions.py) and the WebSocket gateway (when a subscription starts)
check documents with the same `DocumentPolicy`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import lru_cache

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLSchema,
    InlineFragmentNode,
    NoSchemaIntrospectionCustomRule,
    OperationDefinitionNode,
    SelectionSetNode,
    ValidationContext,
    ValidationRule,
    parse,
    specified_rules,
    validate,
)
from graphql.validation import ASTValidationRule
from strawberry.schema.validation_rules.maybe_null import MaybeNullValidationRule
from strawberry.schema.validation_rules.one_of import OneOfInputValidationRule

from runtime.settings import GraphQLLimits, Settings

# Counts stop growing here: enough to compare with any limit, small enough to stay machine integers.
_CEILING = 2**31


@dataclass(frozen=True, slots=True)
class Measure:
    """A selection set with every fragment spread expanded."""

    # The longest chain of fields that select fields (leaves and introspection do not count, as in Strawberry).
    depth: int = 0
    aliases: int = 0
    fields: int = 0

    def beside(self, other: Measure) -> Measure:
        """This and `other` selected side by side."""
        return Measure(
            depth=max(self.depth, other.depth),
            aliases=min(self.aliases + other.aliases, _CEILING),
            fields=min(self.fields + other.fields, _CEILING),
        )


NOTHING = Measure()


def measure(selection_set: SelectionSetNode, fragments: Mapping[str, Measure]) -> Measure:
    """`selection_set` expanded, its spreads read from `fragments` (an unknown or cyclic one counts as nothing:
    the standard rules report those). Recursion follows the text's own nesting, which the parser bounds."""
    total = NOTHING
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode):
            inner = NOTHING if selection.selection_set is None else measure(selection.selection_set, fragments)
            counts_for_depth = selection.selection_set is not None and not selection.name.value.startswith("__")
            total = total.beside(
                Measure(
                    depth=inner.depth + 1 if counts_for_depth else 0,
                    aliases=inner.aliases + (selection.alias is not None),
                    fields=inner.fields + 1,
                )
            )
        elif isinstance(selection, InlineFragmentNode):
            total = total.beside(measure(selection.selection_set, fragments))
        elif isinstance(selection, FragmentSpreadNode):
            total = total.beside(fragments.get(selection.name.value, NOTHING))
    return total


def _spreads(selection_set: SelectionSetNode) -> Iterator[str]:
    for selection in selection_set.selections:
        if isinstance(selection, FragmentSpreadNode):
            yield selection.name.value
        elif isinstance(selection, FieldNode | InlineFragmentNode) and selection.selection_set is not None:
            yield from _spreads(selection.selection_set)


def measure_fragments(definitions: Mapping[str, FragmentDefinitionNode]) -> dict[str, Measure]:
    """Every fragment measured once, each after the fragments it spreads (a depth-first walk with its own stack:
    a chain of fragments is as long as the document allows, longer than Python's recursion)."""
    measured: dict[str, Measure] = {}
    for root in definitions:
        if root in measured:
            continue
        walking = {root}
        stack = [(root, _spreads(definitions[root].selection_set))]
        while stack:
            name, spreads = stack[-1]
            spread = next(spreads, None)
            if spread is None:
                stack.pop()
                walking.discard(name)
                measured[name] = measure(definitions[name].selection_set, measured)
            elif spread in definitions and spread not in measured and spread not in walking:
                walking.add(spread)
                stack.append((spread, _spreads(definitions[spread].selection_set)))
    return measured


def limits_rule(limits: GraphQLLimits) -> type[ASTValidationRule]:
    """A validation rule refusing a document over the depth, alias (in all) or field (per operation) limit."""

    class DocumentLimits(ValidationRule):
        def __init__(self, context: ValidationContext) -> None:
            super().__init__(context)
            definitions = context.document.definitions
            fragments = measure_fragments(
                {item.name.value: item for item in definitions if isinstance(item, FragmentDefinitionNode)}
            )
            aliases = 0
            for operation in definitions:
                if not isinstance(operation, OperationDefinitionNode):
                    continue
                name = operation.name.value if operation.name else "anonymous"
                expanded = measure(operation.selection_set, fragments)
                aliases += expanded.aliases
                if expanded.depth > limits.max_depth:
                    message = f"'{name}' exceeds maximum operation depth of {limits.max_depth}"
                    context.report_error(GraphQLError(message, operation))
                if expanded.fields > limits.max_fields:
                    message = (
                        f"'{name}' selects {expanded.fields} fields with its fragments expanded; "
                        f"the limit is {limits.max_fields}"
                    )
                    context.report_error(GraphQLError(message, operation))
            if aliases > limits.max_aliases:
                context.report_error(GraphQLError(f"{aliases} aliases found. Allowed: {limits.max_aliases}"))

    return DocumentLimits


class DocumentRefused(Exception):
    """The document cannot run: parsing or validation found `errors`."""

    def __init__(self, errors: list[GraphQLError]) -> None:
        super().__init__(errors[0].message)
        self.errors = errors


# graphql-core's rules and the two Strawberry adds (strawberry.schema.schema.validate_document).
STANDARD_RULES: tuple[type[ASTValidationRule], ...] = (
    *specified_rules,
    MaybeNullValidationRule,
    OneOfInputValidationRule,
)


@dataclass(frozen=True, slots=True)
class DocumentPolicy:
    """The token budget, the limits and, on AWS, no introspection; then the standard rules."""

    max_tokens: int
    limit_rules: tuple[type[ASTValidationRule], ...]

    def parse(self, text: str) -> DocumentNode:
        return parse(text, max_tokens=self.max_tokens)

    def validate(self, schema: GraphQLSchema, document: DocumentNode) -> list[GraphQLError]:
        """The limits first, alone: a document over them never reaches the standard rules, some of which
        (overlapping fields) grow faster than the text (0.8 s for 4 KB of generated fragments)."""
        return validate(schema, document, self.limit_rules) or validate(schema, document, STANDARD_RULES)

    def checked(self, schema: GraphQLSchema, text: str) -> tuple[DocumentNode, list[GraphQLError]]:
        """`text` parsed and its validation errors, cached by the text (a syntax error raises, uncached): hashing
        the text is free once Python has, where a document's hash walks its whole tree (45 us for a page)."""
        return _checked(self, schema, text)

    def check(self, schema: GraphQLSchema, text: str) -> DocumentNode:
        """`text` parsed and validated exactly as the HTTP API does it; DocumentRefused otherwise."""
        try:
            document = self.parse(text)
        except GraphQLError as error:
            raise DocumentRefused([error]) from error
        if errors := self.validate(schema, document):
            raise DocumentRefused(errors)
        return document


@lru_cache(maxsize=256)
def _checked(policy: DocumentPolicy, schema: GraphQLSchema, text: str) -> tuple[DocumentNode, list[GraphQLError]]:
    document = policy.parse(text)
    return document, policy.validate(schema, document)


@lru_cache(maxsize=4)
def _policy(limits: GraphQLLimits, introspection: bool) -> DocumentPolicy:
    rules: tuple[type[ASTValidationRule], ...] = (limits_rule(limits),)
    if not introspection:
        rules += (NoSchemaIntrospectionCustomRule,)
    return DocumentPolicy(max_tokens=limits.max_tokens, limit_rules=rules)


def document_policy(settings: Settings) -> DocumentPolicy:
    """One policy per configuration and process, so that the validation cache is shared."""
    return _policy(settings.limits, settings.local_mode)
