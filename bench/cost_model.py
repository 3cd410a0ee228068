"""What the platform costs a month on AWS, for three sizes of dealership, counted from the deployed template.

The fixed part is read from the CDK app's template (synthesized here, bundling skipped, as the infra tests do):
every alarm metric, dashboard, KMS key and secret it declares, every schedule (priced at its function's memory,
platform_spec/functions.py) and every SQS event source mapping (Lambda long-polls each queue even when idle). The
part that grows with use comes from the figures the other benches measure, each named below with the command that
prints it. Prices: on-demand, us-east-1, late 2026, arm64 Lambda.

Sizes (issue 14): a showroom (100k API requests and 300 sales a month), a group (3M and 10k), a marketplace (100M
requests, 200k sales and 20,000 people watching the for-sale list at any moment).

Run: `.venv/bin/python -m bench.cost_model`.
"""

from __future__ import annotations

import re
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from platform_spec.functions import GRAPHQL_API, MEMORY_MB, PAYMENT_EXPIRY, PIX_RECONCILIATION
from realtime.keepalive import Limits

MONTH_MINUTES = 30 * 24 * 60
MONTH_SECONDS = MONTH_MINUTES * 60

# Prices, USD.
ALARM_METRIC = 0.10  # a standard-resolution alarm, per metric it reads (a metric-math alarm pays for each)
DASHBOARD = 3.00
KMS_KEY = 1.00
SECRET = 0.40
LAMBDA_REQUEST = 0.20 / 1e6
LAMBDA_GB_SECOND = 0.0000133334
SQS_REQUEST = 0.40 / 1e6
HTTP_API_REQUEST = 1.00 / 1e6
DYNAMODB_READ_UNIT = 0.125 / 1e6
DYNAMODB_WRITE_UNIT = 0.625 / 1e6
LOG_INGESTED_GB = 0.50
XRAY_TRACE = 5.00 / 1e6
XRAY_FREE_TRACES = 100_000
# Per 32 KB unit: 1.00 per million for the first billion a month, 0.80 beyond.
WEBSOCKET_MESSAGE = 1.00 / 1e6
WEBSOCKET_MESSAGE_BEYOND_A_BILLION = 0.80 / 1e6
WEBSOCKET_CONNECTION_MINUTE = 0.25 / 1e6
APPSYNC_REALTIME_UPDATE = 2.00 / 1e6
APPSYNC_CONNECTION_MINUTE = 0.08 / 1e6

# Measured elsewhere (the command that prints each is beside it).
SALE = 70.74 / 1e6  # per completed sale, SES aside: `python -m bench.saga`
API_REQUEST_SECONDS = 0.030  # a warm GraphQL page on DynamoDB, 28.8 ms median: `python -m bench.graphql_latency`
API_REQUEST_READ_UNITS = 4  # a page of 20: one Query and two BatchGetItem, eventually consistent reads
LOG_BYTES_PER_INVOCATION = 700  # Lambda's START/END/REPORT lines and the request's one access line
# X-Ray's default sampling: the first request each second, then 5% of the rest.
XRAY_RESERVOIR_PER_SECOND = 1
XRAY_RATE = 0.05
# What a push costs besides its WebSocket message: the delivery function's time, its queue and the reads of the
# subscriber pages, per push (`python -m bench.realtime` prints the model: Lambda 0.015, SQS 0.005, DynamoDB 0.005).
FANOUT_PER_PUSH = 0.025 / 1e6
# A vehicle's status changes about twice per sale (reserved, then sold or released): each is pushed to every
# watcher of the for-sale list.
LIST_CHANGES_PER_SALE = 2
# The schedules' runs, measured on the local stack as their handlers' time (`python -m bench.saga` runs both).
SCHEDULE_SECONDS = {PAYMENT_EXPIRY: 0.1, PIX_RECONCILIATION: 0.5}
# An idle SQS event source: Lambda keeps five pollers on the queue, each long-polling (20 s) three times a minute.
IDLE_POLLERS = 5
IDLE_RECEIVES_PER_POLLER_MINUTE = 3
# The keep-alive sweep (realtime/keepalive.py): a silent watcher is pinged once per `ping_after` and answers pong,
# two billed messages; the ping is written down as the connection's traffic (one write unit), and every sweep reads
# the list of open connections (an item of about 300 bytes each, eventually consistent: 8 KB per read unit).
CONNECTION_ITEM_BYTES = 300
EVENTUALLY_CONSISTENT_READ_BYTES = 8192
# Secrets a deployment creates by hand (README, "Deploying"): the PSP's credentials and the webhook's secret.
SECRETS_OUTSIDE_THE_TEMPLATE = 2


@dataclass(frozen=True)
class Size:
    name: str
    api_requests: int
    sales: int
    watchers: int


SIZES = (
    Size("showroom", 100_000, 300, 0),
    Size("group", 3_000_000, 10_000, 200),
    Size("marketplace", 100_000_000, 200_000, 20_000),
)


@dataclass(frozen=True)
class Inventory:
    """What the template declares that costs money whether or not anyone buys."""

    alarm_metrics: int
    dashboards: int
    kms_keys: int
    secrets: int
    schedules: dict[str, float]  # function -> runs a month
    sqs_event_sources: int


def inventory(template: dict[str, Any]) -> Inventory:
    resources = template["Resources"].values()

    def of_type(kind: str) -> list[dict[str, Any]]:
        return [resource for resource in resources if resource["Type"] == kind]

    alarm_metrics = 0
    for alarm in of_type("AWS::CloudWatch::Alarm"):
        queries = alarm["Properties"].get("Metrics")
        alarm_metrics += 1 if queries is None else sum("MetricStat" in query for query in queries)
    schedules: dict[str, float] = {}
    functions = template["Resources"]
    for rule in of_type("AWS::Events::Rule"):
        expression = rule["Properties"]["ScheduleExpression"]
        match = re.fullmatch(r"rate\((\d+) minutes?\)", expression)
        if match is None:
            raise ValueError(f"a schedule this model cannot count: {expression}")
        for target in rule["Properties"]["Targets"]:
            logical_id = target["Arn"]["Fn::GetAtt"][0]
            service = functions[logical_id]["Properties"]["Environment"]["Variables"]["POWERTOOLS_SERVICE_NAME"]
            schedules[service] = MONTH_MINUTES / int(match.group(1))
    sqs_sources = [
        mapping
        for mapping in of_type("AWS::Lambda::EventSourceMapping")
        if "StartingPosition" not in mapping["Properties"]  # the streams' have one, and their polling is free
    ]
    return Inventory(
        alarm_metrics=alarm_metrics,
        dashboards=len(of_type("AWS::CloudWatch::Dashboard")),
        kms_keys=len(of_type("AWS::KMS::Key")),
        secrets=len(of_type("AWS::SecretsManager::Secret")) + SECRETS_OUTSIDE_THE_TEMPLATE,
        schedules=schedules,
        sqs_event_sources=len(sqs_sources),
    )


def fixed_costs(found: Inventory) -> dict[str, float]:
    schedule_runs = sum(found.schedules.values())
    schedule_gb_seconds = sum(
        runs * SCHEDULE_SECONDS.get(name, 0.5) * MEMORY_MB[name] / 1024 for name, runs in found.schedules.items()
    )
    idle_receives = found.sqs_event_sources * IDLE_POLLERS * IDLE_RECEIVES_PER_POLLER_MINUTE * MONTH_MINUTES
    return {
        f"alarms ({found.alarm_metrics} alarm metrics)": found.alarm_metrics * ALARM_METRIC,
        f"dashboards ({found.dashboards})": found.dashboards * DASHBOARD,
        f"KMS keys ({found.kms_keys})": found.kms_keys * KMS_KEY,
        f"secrets ({found.secrets})": found.secrets * SECRET,
        f"schedules ({schedule_runs:,.0f} runs: requests, duration, logs)": schedule_runs * LAMBDA_REQUEST
        + schedule_gb_seconds * LAMBDA_GB_SECOND
        + schedule_runs * LOG_BYTES_PER_INVOCATION / 1e9 * LOG_INGESTED_GB,
        f"idle SQS polling ({found.sqs_event_sources} queues)": idle_receives * SQS_REQUEST,
    }


def traces(requests: float) -> float:
    """Traces X-Ray records a month at this many requests, evenly spread, under the default sampling rule."""
    per_second = requests / MONTH_SECONDS
    sampled = min(per_second, XRAY_RESERVOIR_PER_SECOND) + XRAY_RATE * max(per_second - XRAY_RESERVOIR_PER_SECOND, 0)
    return sampled * MONTH_SECONDS


def websocket_messages(count: float) -> float:
    return min(count, 1e9) * WEBSOCKET_MESSAGE + max(count - 1e9, 0) * WEBSOCKET_MESSAGE_BEYOND_A_BILLION


def variable_costs(size: Size) -> dict[str, float]:
    api_gb_seconds = size.api_requests * API_REQUEST_SECONDS * MEMORY_MB[GRAPHQL_API] / 1024
    api = (
        size.api_requests * (HTTP_API_REQUEST + LAMBDA_REQUEST + API_REQUEST_READ_UNITS * DYNAMODB_READ_UNIT)
        + api_gb_seconds * LAMBDA_GB_SECOND
    )
    logs = size.api_requests * LOG_BYTES_PER_INVOCATION / 1e9 * LOG_INGESTED_GB
    recorded = traces(size.api_requests + size.sales * 16)  # a sale's saga is about 16 traced invocations
    pushes = size.sales * LIST_CHANGES_PER_SALE * size.watchers
    connection_minutes = size.watchers * MONTH_MINUTES
    limits = Limits()
    pings = size.watchers * MONTH_SECONDS / limits.ping_after
    sweeps = MONTH_SECONDS / limits.sweep_interval
    sweep_read_units = sweeps * size.watchers * CONNECTION_ITEM_BYTES / EVENTUALLY_CONSISTENT_READ_BYTES
    return {
        "API requests (HTTP API, Lambda, reads)": api,
        "sales (the saga, per bench.saga)": size.sales * SALE,
        "logs of the requests": logs,
        f"X-Ray ({recorded:,.0f} traces)": max(recorded - XRAY_FREE_TRACES, 0) * XRAY_TRACE,
        f"for-sale list pushes ({pushes:,.0f} messages, and the fan-out)": websocket_messages(pushes)
        + pushes * FANOUT_PER_PUSH,
        f"watchers' connections ({connection_minutes:,.0f} minutes)": connection_minutes * WEBSOCKET_CONNECTION_MINUTE,
        f"keep-alive ({pings:,.0f} pings and their pongs, written, swept)": websocket_messages(2 * pings)
        + pings * DYNAMODB_WRITE_UNIT
        + sweep_read_units * DYNAMODB_READ_UNIT,
    }


def synthesized_template() -> dict[str, Any]:
    root = Path(__file__).resolve().parents[1]
    sys.path.insert(0, str(root / "infra" / "cdk"))
    from tests.infra.conftest import synthesize

    return synthesize(Path(tempfile.mkdtemp(prefix="cost-model-"))).document


def main() -> None:
    found = inventory(synthesized_template())
    fixed = fixed_costs(found)
    print("Monthly cost on AWS, on-demand USD (us-east-1, arm64), from the synthesized template and the benches")
    print("  fixed, whatever the traffic:")
    for item, usd in fixed.items():
        print(f"    {item:<66} {usd:8.2f}")
    fixed_total = sum(fixed.values())
    print(f"    {'total fixed':<66} {fixed_total:8.2f}")
    for size in SIZES:
        variable = variable_costs(size)
        print(f"  {size.name}: {size.api_requests:,} API requests, {size.sales:,} sales, {size.watchers:,} watchers")
        for item, usd in variable.items():
            if usd:
                print(f"    {item:<66} {usd:8.2f}")
        print(f"    {'total (fixed included)':<66} {fixed_total + sum(variable.values()):8.2f}")
        if size.watchers:
            pushes = size.sales * LIST_CHANGES_PER_SALE * size.watchers
            minutes = size.watchers * MONTH_MINUTES
            appsync = pushes * APPSYNC_REALTIME_UPDATE + minutes * APPSYNC_CONNECTION_MINUTE
            realtime = ("for-sale list pushes", "watchers' connections", "keep-alive")
            ours = sum(usd for item, usd in variable.items() if item.startswith(realtime))
            print(f"    (pushes, connections and keep-alive on AppSync: {appsync:,.2f}, here {ours:,.2f})")


if __name__ == "__main__":
    main()
