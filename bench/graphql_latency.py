"""Warm GraphQL latency, each figure a ratio against a baseline measured in the same run.

1. In memory: the Lambda handler (Mangum + Strawberry, with auth, limits and logging on) answering a 20-vehicle
   page from in-memory stores, sent as full text and as a trusted document's id, each against a bare graphql-core
   `execute` of the same pre-parsed document over the same stores (the schema built from schema.graphql, plain
   resolvers returning dicts).
2. Through the emulator: the same handler over DynamoDB (moto server on loopback), against a plain Powertools
   REST handler (APIGatewayHttpResolver) answering the same page from the same table through the same store.

Run: `make bench` (or `.venv/bin/python -m bench.graphql_latency`).
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

from bench.support import PAGE_QUERY, seeded_emulator, summary
from domain.vehicles import Vehicle
from local_stack.lambda_events import http_api_event, lambda_context
from tests.conftest import free_port

WARMUP = 50
RUNS = 1000


def measure_pair(
    ours: Callable[[], object], baseline: Callable[[], object], runs: int = RUNS
) -> tuple[dict[str, float], dict[str, float]]:
    """Alternate the two calls so that both see the same machine: load and CPU frequency drift hit both alike."""
    for _ in range(WARMUP):
        ours()
        baseline()
    samples: tuple[list[float], list[float]] = ([], [])
    for _ in range(runs):
        for call, taken in ((ours, samples[0]), (baseline, samples[1])):
            started = time.perf_counter()
            call()
            taken.append((time.perf_counter() - started) * 1000)
    return summary(samples[0]), summary(samples[1])


def vehicle_json(vehicle: Vehicle) -> dict[str, Any]:
    """What both baselines answer for a vehicle: the fields the page query asks for."""
    return {
        "id": vehicle.id,
        "brand": vehicle.brand,
        "model": vehicle.model,
        "year": vehicle.year,
        "color": vehicle.color,
        "price": str(vehicle.price),
        "status": vehicle.status.value,
    }


def seeded_memory_services() -> Any:
    from datetime import UTC, datetime

    from composition.memory import api_services as memory_api_services
    from runtime.principal import Principal
    from runtime.settings import Settings
    from tests.unit.saga_fakes import RecordingPaymentProvider

    class Clock:
        def now(self) -> datetime:
            return datetime(2026, 11, 23, tzinfo=UTC)

    class NoTokens:
        def verify_authorization(self, header: str | None) -> Principal | None:
            assert header is None
            return None

    services = memory_api_services(
        Settings.from_env({"CURSOR_SECRET": "bench"}),
        clock=Clock(),
        verifier=NoTokens(),
        payments=RecordingPaymentProvider(),
    )
    for n in range(40):
        services.catalog.create_vehicle(
            brand="Fiat", model=f"M{n}", year=2020, color="Prata", price=Decimal(40000 + 1375 * n)
        )
    return services


def bare_graphql_core(services: Any) -> Callable[[], object]:
    """graphql-core alone: the same SDL, resolvers that read the same store and return plain dicts."""
    from graphql import build_schema, execute_sync, parse

    from domain.order_status import VehicleStatus

    schema = build_schema((Path(__file__).resolve().parents[1] / "schema.graphql").read_text())
    document = parse(PAGE_QUERY)

    def vehicles(_: object, first: int = 20, **__: object) -> dict[str, Any]:
        page = services.vehicles.list_by_status(VehicleStatus.AVAILABLE, first, None)
        return {
            "edges": [
                {
                    "cursor": cursor,
                    "node": vehicle_json(v),
                }
                for v, cursor in zip(page.items, page.cursors, strict=True)
            ],
            "pageInfo": {"hasNextPage": page.has_next_page, "endCursor": page.end_cursor},
        }

    def run() -> object:
        result = execute_sync(schema, document, root_value={"vehicles": vehicles})
        assert not result.errors
        assert len(result.data["vehicles"]["edges"]) == 20  # type: ignore[index]
        return result

    return run


def mangum_handler(services: Any, settings: Any, *, by_id: bool = False) -> Callable[[], object]:
    """The Lambda handler answering the page sent as full text, or (`by_id`) as a trusted document's id."""
    from mangum import Mangum

    from graphql_api.app import create_app
    from graphql_api.trusted_documents import TrustedDocuments, document_id

    trusted = TrustedDocuments({document_id(PAGE_QUERY): PAGE_QUERY})
    handler = Mangum(create_app(settings, services, trusted=trusted), lifespan="off")
    body = {"documentId": document_id(PAGE_QUERY)} if by_id else {"query": PAGE_QUERY}
    event = http_api_event("POST", "/graphql", body)

    def run() -> object:
        response = handler(event, lambda_context())
        assert response["statusCode"] == 200
        return response

    return run


def powertools_rest(services: Any) -> Callable[[], object]:
    from aws_lambda_powertools.event_handler import APIGatewayHttpResolver

    from domain.order_status import VehicleStatus

    app = APIGatewayHttpResolver()

    @app.get("/vehicles")
    def vehicles() -> dict[str, Any]:
        page = services.vehicles.list_by_status(VehicleStatus.AVAILABLE, 20, None)
        return {
            "items": [vehicle_json(v) for v in page.items],
            "endCursor": page.end_cursor,
        }

    event = http_api_event("GET", "/vehicles")

    def run() -> object:
        response = app.resolve(event, lambda_context())
        assert response["statusCode"] == 200
        assert len(json.loads(response["body"])["items"]) == 20
        return response

    return run


def report(title: str, ours: dict[str, float], baseline: dict[str, float], baseline_name: str) -> None:
    print(title)
    print(f"  GraphQL handler (Mangum)   median {ours['median_ms']:7.3f} ms  p95 {ours['p95_ms']:7.3f} ms")
    print(f"  {baseline_name:<26} median {baseline['median_ms']:7.3f} ms  p95 {baseline['p95_ms']:7.3f} ms")
    ratio = ours["median_ms"] / baseline["median_ms"]
    print(f"  ratio (median): {ratio:.2f}x   runs: {ours['runs']} after {WARMUP} warm-up")


def main() -> None:
    logging.getLogger("vehicle_platform").setLevel(logging.INFO)
    logging.getLogger("vehicle_platform").addHandler(logging.NullHandler())
    logging.getLogger("vehicle_platform").propagate = False
    from runtime.settings import Settings

    settings = Settings.from_env({"CURSOR_SECRET": "bench"})
    services = seeded_memory_services()
    ours, bare = measure_pair(mangum_handler(services, settings), bare_graphql_core(services), runs=2000)
    report("Warm, 20-vehicle page sent as full text, in-memory stores", ours, bare, "bare graphql-core execute")
    by_id, bare = measure_pair(mangum_handler(services, settings, by_id=True), bare_graphql_core(services), runs=2000)
    report(
        "Warm, 20-vehicle page sent as a trusted document's id, in-memory stores",
        by_id,
        bare,
        "bare graphql-core execute",
    )
    print(f"  by id against full text (medians): {by_id['median_ms'] / ours['median_ms']:.2f}x")

    with seeded_emulator(free_port()) as environment:
        from composition.aws import api_services

        dynamo = api_services(Settings.from_env(environment))
        ours_dynamo, rest = measure_pair(
            mangum_handler(dynamo, Settings.from_env(environment)), powertools_rest(dynamo), runs=300
        )
    report("Warm, 20-vehicle page, DynamoDB on the local emulator", ours_dynamo, rest, "Powertools REST handler")


if __name__ == "__main__":
    main()
