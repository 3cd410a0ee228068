"""How long a document takes to parse and validate, every rule included, however its fragments multiply.

1. The attack that found the problem: fragment Fi spreads F(i-1) twice (1 KB describes millions of fields).
   The API's policy (graphql_api/limits.py) against Strawberry's own depth and alias rules, which it replaced.
2. Generated documents within the token limit (tests/api/generated_documents.py: named spreads, inline fragments,
   aliases, nested and mixed; derandomized, so each run sees the same documents): the worst, p99 and median.

Times are this process's CPU time (time.process_time), never cached (DocumentPolicy.check does not cache).
Run: `.venv/bin/python -m bench.validation`.
"""

from __future__ import annotations

import contextlib
import statistics
import time
from collections.abc import Callable

from graphql import parse, specified_rules, validate
from hypothesis import HealthCheck, given, settings
from strawberry.extensions.max_aliases import create_validator as strawberry_aliases_rule
from strawberry.extensions.query_depth_limiter import create_validator as strawberry_depth_rule

from graphql_api.limits import DocumentRefused, document_policy
from graphql_api.schema import build_schema
from runtime.settings import Settings
from tests.api.generated_documents import documents, doubling

AWS = Settings.from_env({"APP_ENV": "aws", "CURSOR_SECRET": "bench"})
SCHEMA = build_schema(AWS)._schema
POLICY = document_policy(AWS)
GENERATED = 400


def cpu_seconds(call: Callable[[], object]) -> float:
    started = time.process_time()
    call()
    return time.process_time() - started


def ours(text: str) -> None:
    with contextlib.suppress(DocumentRefused):
        POLICY.check(SCHEMA, text)


def strawberrys(text: str) -> None:
    rules = (
        *specified_rules,
        strawberry_depth_rule(AWS.limits.max_depth, should_ignore=None),
        strawberry_aliases_rule(AWS.limits.max_aliases),
    )
    validate(SCHEMA, parse(text, max_tokens=AWS.limits.max_tokens), rules)


def attack() -> None:
    print("1. Doubling fragments (Fi spreads F(i-1) twice): CPU time to parse and validate")
    print(f"   {'n':>3} {'bytes':>6} {'fields, expanded':>16} {'the API':>9} {'Strawberry rules':>17}")
    for levels in (10, 16, 18, 22, 40):
        text = doubling(levels)
        # Not run past 18: the attack's report measured 11.4 s at 22 and over 9 minutes at 40.
        before = f"{cpu_seconds(lambda: strawberrys(text)) * 1000:.1f} ms" if levels <= 18 else "(not run)"  # noqa: B023
        print(
            f"   {levels:>3} {len(text):>6} {2**levels:>16,} "
            f"{cpu_seconds(lambda: ours(text)) * 1000:>6.1f} ms {before:>17}"  # noqa: B023
        )


def generated() -> None:
    taken: list[float] = []
    accepted = 0

    @settings(
        max_examples=GENERATED, derandomize=True, database=None, deadline=None, suppress_health_check=list(HealthCheck)
    )
    @given(text=documents())
    def measure(text: str) -> None:
        nonlocal accepted
        started = time.process_time()
        try:
            POLICY.check(SCHEMA, text)
            accepted += 1
        except DocumentRefused:
            pass
        taken.append(time.process_time() - started)

    measure()
    taken.sort()
    print(f"\n2. {len(taken)} generated documents within the token limit ({accepted} accepted, the rest over a limit)")
    print(
        f"   worst {taken[-1] * 1000:.1f} ms, p99 {taken[int(len(taken) * 0.99)] * 1000:.1f} ms, "
        f"median {statistics.median(taken) * 1000:.1f} ms (the tests' bound: 500 ms)"
    )


def main() -> None:
    attack()
    generated()


if __name__ == "__main__":
    main()
