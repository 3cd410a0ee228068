"""Optimistic writes that lost a race: read again after a short random pause, and try once more."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import TypeVar

from domain.errors import StaleVersion

# A conflicting writer (the saga reserving a vehicle, an order reserving stock, another delivery) is quick;
# re-reading after a short random pause turns the clash into a success instead of an error to retry by hand.
OPTIMISTIC_ATTEMPTS = 8
_FIRST_PAUSE_SECONDS = 0.005
_MAX_PAUSE_SECONDS = 0.2

T = TypeVar("T")


def jittered_pause(attempt: int) -> None:
    # Full jitter: writers that collided once spread out instead of colliding again in lockstep.
    time.sleep(random.uniform(0, min(_MAX_PAUSE_SECONDS, _FIRST_PAUSE_SECONDS * 2**attempt)))  # noqa: S311


def with_fresh_reads(
    attempt: Callable[[], T],
    *,
    retry_on: tuple[type[Exception], ...] = (StaleVersion,),
    pause: Callable[[int], None] = jittered_pause,
) -> T:
    """`attempt()` (which reads, decides and writes), again while it loses to another writer; the last loss is
    raised."""
    for number in range(OPTIMISTIC_ATTEMPTS - 1):
        try:
            return attempt()
        except retry_on:
            pause(number)
    return attempt()
