"""Test switches of the local stack: consumers that crash at random, a relay that publishes every event twice.

They wrap the handlers' services and steps from outside; the Lambda code path has no branch for them. Set in the
local stack's environment (the saga's fault tests do): FAULT_INJECTION_RATE, the probability that a saga step's
delivery crashes before or after its commit; DUPLICATE_DELIVERY=1, every event published twice (at-least-once
delivery, made visible).
"""

from __future__ import annotations

import os
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from domain.events import DomainEvent
from sagas.consumers import STEPS, Step, consumer
from sagas.wiring import EventPublisher, SagaServices

# Where one delivery crashes: "before" the step, "after" its commit, or None (it does not).
CrashPoint = Callable[[], str | None]


class InjectedFault(RuntimeError):
    """A crash injected by test configuration (FAULT_INJECTION_RATE), before or after a step's commit."""


@dataclass(frozen=True, slots=True)
class TestSwitches:
    fault_rate: float = 0.0
    duplicate_delivery: bool = False

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> TestSwitches:
        return cls(
            fault_rate=float(environ.get("FAULT_INJECTION_RATE", "0") or "0"),
            duplicate_delivery=environ.get("DUPLICATE_DELIVERY", "") in {"1", "true"},
        )


def at_random(rate: float) -> CrashPoint:
    """Crash a delivery with probability `rate`, before or after the step's commit with even odds."""

    def roll() -> str | None:
        if random.random() < rate:  # noqa: S311 - fault injection, not cryptography
            return random.choice(("before", "after"))  # noqa: S311
        return None

    return roll


def crashing(step: Step, crash_point: CrashPoint) -> Step:
    """The step, crashing where `crash_point` says for each delivery."""

    def pick(services: SagaServices) -> Callable[[DomainEvent, str], None]:
        run = step(services)

        def run_or_crash(event: DomainEvent, consumer_name: str) -> None:
            where = crash_point()
            if where == "before":
                raise InjectedFault("injected fault before the step")
            run(event, consumer_name)
            if where == "after":
                raise InjectedFault("injected fault after the step's commit")

        return run_or_crash

    return pick


def crashing_consumers(crash_point: CrashPoint) -> dict[str, Callable[[dict[str, Any], Any], Any]]:
    """Every saga step's handler (queue name -> handler, as sagas.consumers.HANDLERS), crashing at `crash_point`."""
    return {name: consumer(name, crashing(step, crash_point)) for name, step in STEPS.items()}


class DuplicatingPublisher:
    """Publishes every event twice through the publisher it wraps."""

    def __init__(self, publisher: EventPublisher) -> None:
        self._publisher = publisher

    def publish(self, event_type: str, body: str, order_id: str, trace_header: str | None = None) -> None:
        for _ in range(2):
            self._publisher.publish(event_type, body, order_id, trace_header)
