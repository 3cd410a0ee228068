"""Depth, alias and field limits hold for documents whose fragments multiply, and cost time linear in the text.

The attack that found this: fragments that spread the one before twice, so that 1 KB describes millions of fields.
Strawberry's own limit rules expanded every spread each time they met it and held a core for minutes.
"""

from __future__ import annotations

import contextlib
import time

import pytest
from graphql import FragmentDefinitionNode, SelectionSetNode, get_introspection_query, parse, validate, visit
from graphql.language import Visitor
from hypothesis import HealthCheck, given, settings

from graphql_api import limits
from graphql_api.limits import DocumentRefused, document_policy
from graphql_api.schema import build_schema
from runtime.settings import Settings
from tests.api.conftest import GraphQLClient
from tests.api.generated_documents import documents, doubling

# What a document within the token limit may take to parse and validate, every rule included, on a 2-core
# machine that is running other tests too. Measured worst: see `python -m bench.validation` and the README.
VALIDATION_BOUND_SECONDS = 0.5

AWS = Settings.from_env({"APP_ENV": "aws", "CURSOR_SECRET": "api-tests"})
LOCAL = Settings.from_env({"APP_ENV": "local"})
SCHEMA = build_schema(AWS)._schema


def codes(result: dict[str, object]) -> list[str]:
    errors = result["errors"]
    assert isinstance(errors, list)
    return [error["extensions"]["code"] for error in errors]


def test_the_doubling_fragments_attack_is_refused_quickly(client: GraphQLClient) -> None:
    started = time.process_time()
    result = client.execute(doubling(40))
    assert time.process_time() - started < VALIDATION_BOUND_SECONDS
    assert codes(result) == ["VALIDATION"]
    assert "fields with its fragments expanded" in result["errors"][0]["message"]


def test_a_document_within_every_limit_runs(client: GraphQLClient) -> None:
    # Fragments spread twice are fine while the expanded document stays small: 2**5 * 2 fields.
    result = client.execute(doubling(6))
    assert result["errors"] == []


def test_fields_count_with_fragments_expanded() -> None:
    over = Settings.from_env({"CURSOR_SECRET": "x", "GRAPHQL_MAX_FIELDS": "8"})
    query = "{ vehicles { edges { node { ...V } } } } fragment V on Vehicle { id brand model year color price }"
    with pytest.raises(DocumentRefused, match="selects 9 fields"):
        document_policy(over).check(SCHEMA, query)
    document_policy(over).check(SCHEMA, query.replace(" price", ""))


def test_depth_counts_through_inline_fragments_and_spreads() -> None:
    tight = document_policy(Settings.from_env({"CURSOR_SECRET": "x", "GRAPHQL_MAX_DEPTH": "2"}))
    through_inline = "{ ... on Query { vehicles { ... on VehicleConnection { edges { node { id } } } } } }"
    through_spread = "{ vehicles { ...E } } fragment E on VehicleConnection { edges { node { id } } }"
    for query in (through_inline, through_spread):
        with pytest.raises(DocumentRefused, match="exceeds maximum operation depth of 2"):
            tight.check(SCHEMA, query)
    tight.check(SCHEMA, "{ vehicles { edges { cursor } } }")


def test_aliases_count_every_time_a_fragment_is_spread() -> None:
    # 4 aliases in the fragment, spread 4 times through two levels: 16 > 15.
    query = (
        "{ vehicles { edges { node { ...Twice ...Twice } } } } "
        "fragment Twice on Vehicle { ...Four ...Four } "
        "fragment Four on Vehicle { a: id b: brand ... on Vehicle { c: model d: year } }"
    )
    with pytest.raises(DocumentRefused, match=r"16 aliases found\. Allowed: 15"):
        document_policy(AWS).check(SCHEMA, query)


def test_cyclic_and_unknown_fragments_are_the_standard_rules_business() -> None:
    cyclic = "{ vehicles { edges { node { ...A } } } } fragment A on Vehicle { id ...B } fragment B on Vehicle { ...A }"
    with pytest.raises(DocumentRefused) as refused:
        document_policy(AWS).check(SCHEMA, cyclic)
    assert any("Cannot spread fragment 'A' within itself" in error.message for error in refused.value.errors)
    with pytest.raises(DocumentRefused, match="Unknown fragment 'Nowhere'"):
        document_policy(AWS).check(SCHEMA, "{ vehicles { edges { node { ...Nowhere } } } }")


def test_a_fragment_chain_longer_than_python_recursion_is_measured() -> None:
    # 1500 fragments each spreading the next: the walk keeps its own stack.
    chain = [f"fragment C{i} on Vehicle {{ ...C{i + 1} }}" for i in range(1500)] + ["fragment C1500 on Vehicle { id }"]
    document = parse(" ".join(chain), max_tokens=100_000)
    definitions = [item for item in document.definitions if isinstance(item, FragmentDefinitionNode)]
    fragments = limits.measure_fragments({item.name.value: item for item in definitions})
    assert fragments["C0"] == limits.Measure(depth=0, aliases=0, fields=1)


def test_the_longest_chain_the_token_limit_allows_is_refused_cleanly() -> None:
    chain = [f"fragment C{i} on Vehicle {{ ...C{i + 1} }}" for i in range(270)] + ["fragment C270 on Vehicle { id }"]
    # graphql-core's own rules abort on a chain this deep; what matters is a refusal, not a RecursionError.
    with pytest.raises(DocumentRefused):
        document_policy(AWS).check(SCHEMA, "{ vehicles { edges { node { ...C0 } } } } " + " ".join(chain))


def test_graphiql_introspection_passes_locally_and_is_refused_on_aws() -> None:
    document_policy(LOCAL).check(SCHEMA, get_introspection_query())
    with pytest.raises(DocumentRefused, match="introspection"):
        document_policy(AWS).check(SCHEMA, get_introspection_query())


class SelectionSets(Visitor):
    def __init__(self) -> None:
        super().__init__()
        self.count = 0

    def enter_selection_set(self, *_: object) -> None:
        self.count += 1


def selection_sets(text: str) -> int:
    counter = SelectionSets()
    visit(parse(text, max_tokens=100_000), counter)
    return counter.count


@pytest.fixture
def measured_selection_sets(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    calls: list[int] = []
    unwrapped = limits.measure

    def counting(selection_set: SelectionSetNode, fragments: dict[str, limits.Measure]) -> limits.Measure:
        calls.append(1)
        return unwrapped(selection_set, fragments)

    monkeypatch.setattr(limits, "measure", counting)
    return calls


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(text=documents())
def test_any_document_within_the_token_limit_is_checked_in_bounded_time(text: str) -> None:
    policy = document_policy(AWS)
    # CPU time of this process: what the request costs, whatever else the machine is doing.
    started = time.process_time()
    # Refused (over a limit or the token budget) or accepted: either way within the bound.
    with contextlib.suppress(DocumentRefused):
        policy.check(SCHEMA, text)
    assert time.process_time() - started < VALIDATION_BOUND_SECONDS


@settings(
    max_examples=25,
    deadline=None,
    # The counter is cleared at each example.
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.function_scoped_fixture],
)
@given(text=documents())
def test_the_limits_measure_each_selection_set_once(text: str, measured_selection_sets: list[int]) -> None:
    measured_selection_sets.clear()
    rule = limits.limits_rule(AWS.limits)
    validate(SCHEMA, parse(text, max_tokens=100_000), [rule])
    # However often a fragment is spread, its selection sets are measured once: linear in the text.
    assert len(measured_selection_sets) <= selection_sets(text)
