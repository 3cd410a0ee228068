"""Schemathesis against the local API over real HTTP: every query and mutation of the schema, generated from it.

Each generated operation is sent three times: anonymously, with a customer's token and with the admin's. Whatever
the input, the API never answers with a 5xx, and every GraphQL error names a code the SPA can act on. INTERNAL is
on the list the contract allows, but generated input must never reach it: a masked unexpected error is a bug.

What the fuzzing writes to the shared local stack, and why the other e2e tests do not notice:
- prices (the `Decimal` scalar) are drawn as realistic prices or as plainly invalid strings, so the vehicles and
  products the admin's cases create (here and in the staff-writes test) are ordinary catalogue entries (below
  R$ 1 000 000), never absurd amounts; the staff-writes test's products have their own SKUs (FZ-...);
- no generated case may name a vehicle or product that exists before the fuzzing starts (the demo vehicles
  `cheapest_available` and `place_order` buy, the demo products PRD-1001/PRD-2002 `test_product_purchase` orders):
  such a case is rejected before it is sent. So `placeOrder`, `cancelOrder`, `updateVehicle` and `adjustStock`
  only ever see identifiers nobody uses, and no demo vehicle is reserved, no demo stock moved;
- the demo customers are already clients, so their `registerClient` is a CONFLICT whatever the input.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from schemathesis.core.result import Ok
from schemathesis.generation.case import Case
from schemathesis.graphql import nodes
from schemathesis.specs.graphql.schemas import GraphQLSchema

from local_stack.demo_data import DEMO_USERS
from tests.e2e.conftest import LocalStack

pytestmark = pytest.mark.e2e

CODES = {"UNAUTHENTICATED", "FORBIDDEN", "NOT_FOUND", "VALIDATION", "CONFLICT", "RATE_LIMITED", "INTERNAL"}
CALLERS = ("anonymous", "customer@example.com", "admin@example.com")
EXAMPLES_PER_OPERATION = 40

# Realistic prices, and the invalid shapes a client sends: negative, too many decimals, not a number, empty.
_PRICES = st.one_of(
    st.from_regex(r"\A[1-9][0-9]{0,5}(\.[0-9]{1,2})?\Z"),
    st.sampled_from(["0", "-1.00", "10.999", "abc", "", "1e9", "NaN", "Infinity", " 12.00 "]),
)
schemathesis.graphql.scalar("Decimal", _PRICES.map(nodes.String))
# No input carries a DateTime; registered so that the schema loads whole.
schemathesis.graphql.scalar("DateTime", st.just("2026-01-01T00:00:00+00:00").map(nodes.String))


def _existing_identifiers(stack: LocalStack, admin: str) -> set[str]:
    """Every vehicle id and product SKU in the stack now: generated cases must leave them alone."""
    found: set[str] = set()
    for status in ("AVAILABLE", "RESERVED", "SOLD"):
        after: str | None = None
        while True:
            body = stack.graphql(
                "query($s: VehicleStatus!, $a: String) { vehicles(status: $s, first: 100, after: $a) {"
                " edges { node { id } } pageInfo { hasNextPage endCursor } } }",
                {"s": status, "a": after},
            ).json()
            page = body["data"]["vehicles"]
            found |= {edge["node"]["id"] for edge in page["edges"]}
            if not page["pageInfo"]["hasNextPage"]:
                break
            after = page["pageInfo"]["endCursor"]
    products = stack.graphql("{ products(first: 100) { edges { node { id } } } }", token=admin).json()
    found |= {edge["node"]["id"] for edge in products["data"]["products"]["edges"]}
    return found


@pytest.fixture(scope="module")
def protected(local_stack: LocalStack, token: Callable[[str], str]) -> set[str]:
    identifiers = _existing_identifiers(local_stack, token("admin@example.com"))
    assert identifiers, "the demo data should be there"
    # The users the other tests sign in as: a generated blockUser must not lock them out.
    return identifiers | {user.email for user in DEMO_USERS}


@pytest.fixture(scope="module")
def headers_by_caller(token: Callable[[str], str]) -> dict[str, dict[str, str]]:
    return {caller: {} if caller == "anonymous" else {"Authorization": f"Bearer {token(caller)}"} for caller in CALLERS}


@pytest.fixture(scope="module")
def http() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=30) as client:
        yield client


# The cases are generated from the committed schema (tests need them at collection time, before the stack is up);
# the first test checks that it is exactly the schema the running API serves by introspection.
SCHEMA_FILE = Path(__file__).parents[2] / "schema.graphql"
schema = schemathesis.graphql.from_path(SCHEMA_FILE)


def _labels(loaded: GraphQLSchema) -> set[str]:
    labels = set()
    for result in loaded.get_all_operations():
        assert isinstance(result, Ok), result
        labels.add(result.ok().label)
    return labels


def test_the_fuzzed_schema_is_the_one_the_local_api_serves(local_stack: LocalStack) -> None:
    served = schemathesis.graphql.from_url(f"{local_stack.api_url}/graphql", wait_for_schema=30)
    assert isinstance(served, GraphQLSchema)
    assert _labels(served) == _labels(schema)
    assert len(_labels(schema)) == 16  # 7 queries and 9 mutations, every one fuzzed below


# What each caller got for each operation: ("createVehicle", "admin@example.com", "data" or an error code).
_OUTCOMES: Counter[tuple[str, str, str]] = Counter()


def _outcome(response: httpx.Response) -> str:
    try:
        errors = response.json().get("errors")
    except (json.JSONDecodeError, AttributeError):
        return f"HTTP {response.status_code}"
    return "data" if not errors else str((errors[0].get("extensions") or {}).get("code"))


def _problems(response: httpx.Response) -> list[str]:
    """What is wrong with one answer: a 5xx, a body that is not GraphQL, an error without an allowed code, INTERNAL."""
    if response.status_code >= 500:
        return [f"HTTP {response.status_code}: {response.text[:500]}"]
    try:
        body = response.json()
    except json.JSONDecodeError:
        return [f"HTTP {response.status_code} with a body that is not JSON: {response.text[:200]!r}"]
    if not isinstance(body, dict):
        return [f"HTTP {response.status_code} with a body that is not an object: {body!r}"]
    if response.status_code != 200 and not body.get("errors"):
        return [f"HTTP {response.status_code} without errors: {body!r}"]
    problems = []
    for error in body.get("errors") or []:
        code = (error.get("extensions") or {}).get("code") if isinstance(error, dict) else None
        if code not in CODES:
            problems.append(f"an error without an allowed extensions.code: {error!r}")
        elif code == "INTERNAL":
            problems.append(f"INTERNAL (an unexpected error, masked): {error!r}")
    return problems


def _names_an_existing_identifier(query: str, protected: set[str]) -> bool:
    literals = set(re.findall(r'"((?:[^"\\]|\\.)*)"', query)) | set(re.findall(r"\b\d+\b", query))
    return bool(literals & protected)


@schema.parametrize()
@settings(
    max_examples=EXAMPLES_PER_OPERATION,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.function_scoped_fixture],
    derandomize=True,
    database=None,
)
def test_no_generated_operation_gets_a_5xx_or_an_error_without_its_code(
    case: Case[Any],
    local_stack: LocalStack,
    protected: set[str],
    headers_by_caller: dict[str, dict[str, str]],
    http: httpx.Client,
) -> None:
    query = case.body
    assert isinstance(query, str), query
    assume(not _names_an_existing_identifier(query, protected))
    failures: list[str] = []
    for caller, headers in headers_by_caller.items():
        response = http.post(f"{local_stack.api_url}/graphql", json={"query": query}, headers=headers)
        failures += [f"{caller}: {problem}" for problem in _problems(response)]
        _OUTCOMES[(case.operation.label.rsplit(".", 1)[-1], caller, _outcome(response))] += 1
    assert failures == [], f"query:\n{query}\n" + "\n".join(failures)


def test_the_pix_webhook_refuses_a_body_over_the_limit_before_reading_it(local_stack: LocalStack) -> None:
    # With the secret or not, a body over the API's limit never reaches the webhook's handler: 413, as for /graphql.
    body = json.dumps({"pix": [], "pad": "x" * 70_000})

    response = httpx.post(
        f"{local_stack.api_url}/webhooks/pix",
        content=body,
        headers={"content-type": "application/json", "x-pix-webhook-secret": "not-the-secret"},
        timeout=30,
    )

    assert response.status_code == 413
    assert response.json()["errors"][0]["extensions"] == {"code": "VALIDATION", "field": "body"}


# --- staff writes with plausible values -----------------------------------------------------------------------------
# Generated from the schema, almost every admin createVehicle/createProduct dies in validation (control characters,
# years in the millions). These cases are near the limits instead, so they reach the stores: unicode names up to and
# past the length limits, boundary years, prices with 0-3 decimals, stock at and past its limits.

_NAMES = st.text(st.characters(categories=["L", "N", "Zs", "Pd", "Po"]), min_size=0, max_size=70)
_VEHICLE = st.fixed_dictionaries(
    {
        "brand": _NAMES,
        "model": _NAMES,
        "year": st.integers(1880, 2030),
        "color": _NAMES,
        "price": st.one_of(_PRICES, st.from_regex(r"\A[0-9]{1,6}\.[0-9]{3}\Z")),
    }
)
_UPDATE = st.fixed_dictionaries(
    {}, optional={"brand": _NAMES, "model": _NAMES, "year": st.integers(1880, 2030), "price": _PRICES}
)
_PRODUCT = st.fixed_dictionaries(
    {
        "sku": st.from_regex(r"\AFZ-[A-Z0-9]{1,12}\Z"),
        "description": _NAMES,
        "unitPrice": _PRICES,
        "initialStock": st.integers(-2, 1_000_001),
    }
)
_DELTA = st.one_of(st.integers(-1_000_001, 1_000_001), st.sampled_from([0, 2**31 - 1, -(2**31)]))
_CREATED = {"VALIDATION", "CONFLICT"}


@settings(max_examples=25, deadline=None, derandomize=True, database=None)
@given(writes=st.fixed_dictionaries({"vehicle": _VEHICLE, "update": _UPDATE, "product": _PRODUCT, "delta": _DELTA}))
def test_staff_writes_near_the_limits_are_served_or_refused_with_a_field(
    local_stack: LocalStack,
    headers_by_caller: dict[str, dict[str, str]],
    http: httpx.Client,
    writes: dict[str, Any],
) -> None:
    admin = headers_by_caller["admin@example.com"]
    url = f"{local_stack.api_url}/graphql"

    def send(query: str, variables: dict[str, Any]) -> dict[str, Any]:
        response = http.post(url, json={"query": query, "variables": variables}, headers=admin)
        problems = _problems(response)
        assert problems == [], f"{query} {variables}: {problems}"
        body: dict[str, Any] = response.json()
        for error in body.get("errors") or []:
            assert error["extensions"]["code"] in _CREATED | {"NOT_FOUND"}, (variables, error)
            assert error["extensions"].get("field"), (variables, error)
        return body

    created = send(
        "mutation($i: CreateVehicleInput!) { createVehicle(input: $i) { id price } }", {"i": writes["vehicle"]}
    )
    if created.get("data"):
        vehicle_id = created["data"]["createVehicle"]["id"]
        send(
            "mutation($id: ID!, $i: UpdateVehicleInput!) { updateVehicle(id: $id, input: $i) { id } }",
            {"id": vehicle_id, "i": writes["update"]},
        )
    stocked = send("mutation($i: CreateProductInput!) { createProduct(input: $i) { id } }", {"i": writes["product"]})
    if stocked.get("data"):
        send(
            "mutation($id: ID!, $d: Int!) { adjustStock(productId: $id, delta: $d) { stockOnHand } }",
            {"id": stocked["data"]["createProduct"]["id"], "d": writes["delta"]},
        )


def test_the_fuzzing_reached_the_resolvers() -> None:
    """A fuzzer whose every case dies in validation proves nothing: some generated input must have been served, and
    refusals must have come from the resolvers (FORBIDDEN, NOT_FOUND...), not only from the document's validation.
    (Generated staff writes nearly all end in VALIDATION: the test above this one covers them with plausible values.)"""
    if not _OUTCOMES:
        pytest.skip("the fuzzing test did not run in this session")
    for (operation, caller, outcome), count in sorted(_OUTCOMES.items()):
        print(f"{operation:14} {caller:22} {outcome:16} {count}")
    served = {(operation, caller) for operation, caller, outcome in _OUTCOMES if outcome == "data"}
    refused = {outcome for _, _, outcome in _OUTCOMES if outcome != "data"}
    assert ("vehicles", "anonymous") in served
    assert ("me", "customer@example.com") in served
    assert {"UNAUTHENTICATED", "FORBIDDEN", "NOT_FOUND", "VALIDATION"} <= refused
