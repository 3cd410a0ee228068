"""Which connection the sweep pings, warns, reconnects or ends (realtime/keepalive.py), with API Gateway's limits."""

from __future__ import annotations

from dataclasses import replace

import pytest

from realtime.keepalive import Action, Attention, Cause, Limits, OpenConnection, attend, should_record_traffic
from runtime.settings import RealtimeSettings

AWS = Limits()  # 10 minutes idle, 2 hours in all, a sweep a minute
NOW = 1_000_000.0
HOUR = 3600.0


def connection(
    *, age: float = 60, quiet_for: float = 0, token_left: float | None = HOUR, subscribed: bool = True
) -> OpenConnection:
    return OpenConnection(
        connected_at=NOW - age,
        last_traffic_at=NOW - quiet_for,
        token_expires_at=None if token_left is None else NOW + token_left,
        subscribed=subscribed,
    )


def test_the_sweep_runs_every_tenth_of_the_idle_window_which_on_aws_is_the_expiry_schedules_minute() -> None:
    assert Limits.of(RealtimeSettings()) == AWS
    assert Limits.of(RealtimeSettings(idle_timeout_seconds=4, max_duration_seconds=30)) == Limits(4, 30, 0.4)


def test_the_limits_keep_two_sweeps_in_hand() -> None:
    assert AWS.margin == 120
    assert AWS.ping_after == 480
    assert AWS.warn_within == 240
    assert AWS.record_every == 150


def test_a_subscribed_connection_quiet_for_most_of_the_idle_window_is_pinged() -> None:
    assert attend(connection(quiet_for=480), NOW, AWS) == Attention(Action.PING)


def test_a_connection_with_recent_traffic_is_left_alone() -> None:
    assert attend(connection(quiet_for=479), NOW, AWS) is None


def test_a_connection_without_subscriptions_is_not_kept_alive() -> None:
    assert attend(connection(quiet_for=590, subscribed=False), NOW, AWS) is None


def test_a_connection_not_yet_authenticated_is_the_init_deadlines_business() -> None:
    assert attend(connection(quiet_for=590, token_left=None), NOW, AWS) is None


def test_a_token_about_to_expire_gets_a_warning_with_its_deadline() -> None:
    attention = attend(connection(token_left=200), NOW, AWS)

    assert attention == Attention(Action.WARN, Cause.TOKEN_EXPIRES, NOW + 200)
    assert attention.warning() == {
        "type": "ping",
        "payload": {"reason": "reconnect", "cause": "TOKEN_EXPIRES", "deadline": int(NOW + 200)},
    }


def test_a_token_is_never_closed_for_ahead_of_its_expiry() -> None:
    assert attend(connection(token_left=5), NOW, AWS) == Attention(Action.WARN, Cause.TOKEN_EXPIRES, NOW + 5)


def test_an_expired_token_ends_the_connection_subscribed_or_not() -> None:
    for subscribed in (True, False):
        attention = attend(connection(token_left=0, subscribed=subscribed), NOW, AWS)
        assert attention == Attention(Action.END, Cause.TOKEN_EXPIRES, NOW)


def test_the_two_hour_limit_is_warned_of_then_the_connection_is_closed_before_it() -> None:
    warned = attend(connection(age=2 * HOUR - 200), NOW, AWS)
    closed = attend(connection(age=2 * HOUR - 120), NOW, AWS)

    assert warned == Attention(Action.WARN, Cause.CONNECTION_LIMIT, NOW + 200)
    assert closed == Attention(Action.RECONNECT, Cause.CONNECTION_LIMIT, NOW + 120)


def test_the_nearer_deadline_is_the_one_warned_of() -> None:
    attention = attend(connection(age=2 * HOUR - 230, token_left=180), NOW, AWS)

    assert attention == Attention(Action.WARN, Cause.TOKEN_EXPIRES, NOW + 180)


def test_a_warning_is_also_a_keep_alive_and_takes_its_place() -> None:
    attention = attend(connection(quiet_for=590, token_left=100), NOW, AWS)

    assert attention is not None
    assert attention.action is Action.WARN


@pytest.mark.parametrize(("idle", "sweep"), [(600, 60), (3, 1), (4, 1)])
def test_a_silent_client_answering_each_ping_is_never_idle_for_the_whole_window(idle: float, sweep: float) -> None:
    """Sweeps run every interval (each up to an interval late); a ping's pong is the client's traffic."""
    limits = Limits(idle_timeout=idle, max_duration=10 * HOUR, sweep_interval=sweep)
    start = NOW
    state = replace(connection(age=0, quiet_for=0, token_left=20 * HOUR), connected_at=start, last_traffic_at=start)
    last_client_message = start
    time = start
    for run in range(200):
        time += sweep * (2 if run % 3 == 0 else 1)  # some runs a whole interval late
        assert time - last_client_message < idle, f"idle for {time - last_client_message} s at run {run}"
        if attend(state, time, limits) == Attention(Action.PING):
            last_client_message = time  # the pong
            state = replace(state, last_traffic_at=time)


def test_a_clients_message_is_written_down_once_a_quarter_of_the_idle_window() -> None:
    assert not should_record_traffic(NOW - 149, NOW, AWS)
    assert should_record_traffic(NOW - 150, NOW, AWS)
