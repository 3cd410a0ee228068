"""Cold start of the GraphQL Lambda handler: a fresh process importing the handler module and answering one
request (a 20-vehicle page from DynamoDB on the emulator), against a fresh process that only imports the
libraries the handler needs. Both measured in the same run, alternating, medians of RUNS processes each.

Run: `make bench` (or `.venv/bin/python -m bench.cold_start`).
"""

from __future__ import annotations

import json
import subprocess
import sys

from bench.support import PAGE_QUERY, seeded_emulator, summary
from tests.conftest import free_port

RUNS = 9

HANDLER_PROCESS = f"""
import json, time
started = time.perf_counter()
from graphql_api.handler import handler
imported = time.perf_counter()
from local_stack.lambda_events import http_api_event, lambda_context
response = handler(http_api_event("POST", "/graphql", {{"query": {PAGE_QUERY!r}}}), lambda_context())
answered = time.perf_counter()
assert response["statusCode"] == 200 and len(json.loads(response["body"])["data"]["vehicles"]["edges"]) == 20
print(json.dumps({{"import_ms": (imported - started) * 1000, "first_response_ms": (answered - started) * 1000}}))
"""

# What answering an anonymous page needs: the GraphQL library, the Lambda adapter, the DynamoDB client, logging.
BARE_IMPORTS_PROCESS = """
import json, time
started = time.perf_counter()
import mangum, pynamodb.models, strawberry
from aws_lambda_powertools import Logger
print(json.dumps({"import_ms": (time.perf_counter() - started) * 1000}))
"""


def run(code: str, environment: dict[str, str]) -> dict[str, float]:
    output = subprocess.run(  # noqa: S603 - our own interpreter and code
        [sys.executable, "-c", code], env=environment, capture_output=True, text=True, check=True
    ).stdout
    result: dict[str, float] = json.loads(output.strip().splitlines()[-1])
    return result


def main() -> None:
    import os

    with seeded_emulator(free_port()) as function_environment:
        environment = {**os.environ, **function_environment, "PYTHONPATH": os.pathsep.join([".", "graphql"])}
        handler_runs: list[dict[str, float]] = []
        bare_runs: list[dict[str, float]] = []
        for _ in range(RUNS):
            handler_runs.append(run(HANDLER_PROCESS, environment))
            bare_runs.append(run(BARE_IMPORTS_PROCESS, environment))
    handler_import = summary([r["import_ms"] for r in handler_runs])
    first_response = summary([r["first_response_ms"] for r in handler_runs])
    bare = summary([r["import_ms"] for r in bare_runs])
    print("GraphQL Lambda cold start (fresh python process per run, DynamoDB on the local emulator)")
    for name, figures in (
        ("handler import", handler_import),
        ("import + first response", first_response),
        ("bare library imports", bare),
    ):
        print(f"  {name:<30} median {figures['median_ms']:8.1f} ms  p95 {figures['p95_ms']:8.1f} ms")
    ratio = first_response["median_ms"] / bare["median_ms"]
    print(f"  ratio (import + first response) / bare imports: {ratio:.2f}x")
    print(f"  runs: {RUNS} of each, alternating; python {sys.version.split()[0]}")


if __name__ == "__main__":
    main()
