"""Wall-clock time behind the domain's Clock port, so tests can use a clock they control."""

from __future__ import annotations

from datetime import UTC, datetime


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)
