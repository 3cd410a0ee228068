"""Shared by the benchmarks: an emulator with seeded data, statistics, and API Gateway events."""

from __future__ import annotations

import os
import statistics
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal

from local_stack.config import FAKE_CREDENTIALS
from local_stack.emulator import Emulator
from local_stack.pix_psp import LocalPsp, PspServer, PspSettings
from local_stack.resources import Provisioned

BENCH_TABLE = "vehicle-platform-bench"
PAGE_QUERY = (
    "{ vehicles(first: 20) { edges { cursor node { id brand model year color price status } } "
    "pageInfo { hasNextPage endCursor } } }"
)


def summary(samples_ms: list[float]) -> dict[str, float]:
    ordered = sorted(samples_ms)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return {"median_ms": round(statistics.median(ordered), 3), "p95_ms": round(p95, 3), "runs": len(ordered)}


def bench_environment(endpoint: str) -> dict[str, str]:
    return {
        **FAKE_CREDENTIALS,
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ENDPOINT_URL": endpoint,
        "TABLE_NAME": BENCH_TABLE,
        "APP_ENV": "aws",
        "CURSOR_SECRET": "bench-cursor-secret",
        "PIX_WEBHOOK_SECRET": "bench-webhook-secret",
        "POWERTOOLS_LOG_LEVEL": "WARNING",
    }


@dataclass
class BenchStack:
    endpoint: str
    environment: dict[str, str]
    provisioned: Provisioned
    # The local PSP the saga charges at: the bench pays there as a customer's bank would, then calls the webhook.
    psp: LocalPsp


@contextmanager
def emulated_platform(port: int) -> Iterator[BenchStack]:
    """An emulator with every resource of the platform and the local PSP; the functions' environment set in this
    process."""
    psp_settings = PspSettings()
    with Emulator("127.0.0.1", port) as emulator, PspServer(LocalPsp(psp_settings), port=0) as psp:
        environment = bench_environment(emulator.endpoint) | {
            "PIX_API_URL": psp.api_url,
            "PIX_TOKEN_URL": psp.token_url,
            "PIX_KEY": psp_settings.chave,
        }
        os.environ.update(environment)
        from local_stack.resources import provision

        provisioned = provision(emulator.endpoint, "us-east-1", BENCH_TABLE)
        environment |= provisioned.function_environment(emulator.endpoint)
        os.environ.update(environment)
        # The handlers the bench runs in this process (to prepare its data) keep their EMF lines off the report;
        # the measured processes get `environment`, where metrics are on, as on AWS.
        os.environ["POWERTOOLS_METRICS_DISABLED"] = "true"
        yield BenchStack(emulator.endpoint, environment, provisioned, psp.psp)


def seed_vehicles(environment: dict[str, str], count: int) -> list[str]:
    from composition.aws import api_services
    from runtime.settings import Settings

    catalog = api_services(Settings.from_env(environment)).catalog
    return [
        catalog.create_vehicle(
            brand=("Fiat", "Toyota", "Honda", "Jeep")[n % 4],
            model=f"Model {n}",
            year=2015 + n % 10,
            color="Prata",
            price=Decimal(40000 + 1375 * n),
        ).id
        for n in range(count)
    ]


@contextmanager
def seeded_emulator(port: int, vehicles: int = 40) -> Iterator[dict[str, str]]:
    """An emulator with the platform's resources and `vehicles` vehicles; yields the functions' environment."""
    with emulated_platform(port) as stack:
        seed_vehicles(stack.environment, vehicles)
        yield stack.environment
