"""PENDING_STOCK_TTL_HOURS: how long an order may wait for stock holding what it reserved (72 hours by default)."""

from __future__ import annotations

import pytest

from runtime.settings import Settings, SettingsError


def _settings(**env: str) -> Settings:
    return Settings.from_env({"APP_ENV": "local", **env})


def test_the_hold_is_72_hours_by_default() -> None:
    assert _settings().saga.pending_stock_ttl_hours == 72.0
    assert _settings(PENDING_STOCK_TTL_HOURS="").saga.pending_stock_ttl_hours == 72.0


@pytest.mark.parametrize(("raw", "hours"), [("24", 24.0), ("0.5", 0.5), (" 168 ", 168.0)])
def test_the_hold_is_read_in_hours(raw: str, hours: float) -> None:
    assert _settings(PENDING_STOCK_TTL_HOURS=raw).saga.pending_stock_ttl_hours == hours


@pytest.mark.parametrize("raw", ["abc", "0", "-1", "nan", "inf"])
def test_a_hold_that_is_no_positive_number_of_hours_stops_the_start(raw: str) -> None:
    with pytest.raises(SettingsError, match="PENDING_STOCK_TTL_HOURS"):
        _settings(PENDING_STOCK_TTL_HOURS=raw)
