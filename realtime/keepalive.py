"""Connections that stay up: which connection the sweep pings, warns, reconnects or ends, in plain Python.

API Gateway closes a WebSocket that carried no message for 10 minutes and any WebSocket after 2 hours, and the
standard graphql-ws client sends no ping unless told to. So the schedule that sweeps expiries (every minute) also
looks at every open connection (`realtime/sweep.py` does the I/O) and decides here:

- PING: a subscribed connection with no recorded traffic for most of the idle window gets a graphql-transport-ws
  `ping`. The protocol makes the client answer `pong`, a message of the client's own, which keeps the connection up
  however API Gateway counts idleness (the local gateway counts only the client's messages).
- WARN: a deadline is near (the 2-hour limit, or the token's expiry): a `ping` whose payload is
  `{"reason": "reconnect", "cause": ..., "deadline": ...}` asks the client to reconnect, with a fresh token, now.
  Any client answers it with `pong` (so it is a keep-alive too); the web app reconnects.
- RECONNECT: the 2-hour limit falls before the next sweep could act: the connection is closed (1000). graphql-ws
  reconnects on a normal closure while it has subscriptions, and each of them gets the current state first.
- END: the token has expired: every subscription ends with `complete` and the connection is closed, as the fan-out
  does at a push, instead of living on until one comes.

A late schedule run must not be too late: every "before" below keeps two sweep intervals in hand.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum, StrEnum
from typing import Any

from runtime.settings import RealtimeSettings

# API Gateway's limits on a WebSocket connection, and how often the schedule runs on AWS.
IDLE_TIMEOUT_SECONDS = 600.0
MAX_DURATION_SECONDS = 7200.0
SWEEP_INTERVAL_SECONDS = 60.0


class Action(Enum):
    PING = "ping"
    WARN = "warn"
    RECONNECT = "reconnect"
    END = "end"


class Cause(StrEnum):
    """Why a client is asked to reconnect (the warning's `cause`)."""

    TOKEN_EXPIRES = "TOKEN_EXPIRES"  # noqa: S105 - a reason, not a secret
    CONNECTION_LIMIT = "CONNECTION_LIMIT"


@dataclass(frozen=True, slots=True)
class Limits:
    """The gateway's limits and the sweep's period; the local stack shortens them to watch them act."""

    idle_timeout: float = IDLE_TIMEOUT_SECONDS
    max_duration: float = MAX_DURATION_SECONDS
    sweep_interval: float = SWEEP_INTERVAL_SECONDS

    @classmethod
    def of(cls, settings: RealtimeSettings) -> Limits:
        return cls(settings.idle_timeout_seconds, settings.max_duration_seconds, settings.sweep_seconds)

    @property
    def margin(self) -> float:
        """What a decision keeps in hand: the next sweep comes an interval later, and may itself be an interval late."""
        return 2 * self.sweep_interval

    @property
    def ping_after(self) -> float:
        """No traffic for this long, and the connection is pinged: the next sweep could be too late."""
        return max(0.0, self.idle_timeout - self.margin)

    @property
    def record_every(self) -> float:
        """A client's message is written down as traffic only when the stored time is older than this, so a chatty
        client costs a write per quarter of the idle window, not one per message. The stored time is then older
        than the real one, never newer: the sweep may ping a little early, never late."""
        return self.idle_timeout / 4

    @property
    def warn_within(self) -> float:
        """A deadline this near gets the client a warning (twice the margin: a warned client has a sweep or two to
        reconnect on its own before the RECONNECT close)."""
        return 2 * self.margin


@dataclass(frozen=True, slots=True)
class OpenConnection:
    """What the sweep knows of a connection (epoch seconds)."""

    connected_at: float
    last_traffic_at: float
    # None until connection_init authenticated it: such a connection is the init deadline's business.
    token_expires_at: float | None
    subscribed: bool


@dataclass(frozen=True, slots=True)
class Attention:
    action: Action
    cause: Cause | None = None
    deadline: float | None = None

    def warning(self) -> dict[str, Any]:
        """The graphql-transport-ws `ping` that asks the client to reconnect before `deadline`."""
        assert self.cause is not None
        assert self.deadline is not None
        payload = {"reason": "reconnect", "cause": self.cause.value, "deadline": int(self.deadline)}
        return {"type": "ping", "payload": payload}


KEEP_ALIVE: dict[str, Any] = {"type": "ping"}


def attend(connection: OpenConnection, now: float, limits: Limits) -> Attention | None:  # noqa: PLR0911 - one per rule
    """What this sweep does to the connection, if anything."""
    expires_at = connection.token_expires_at
    if expires_at is None:
        return None
    if expires_at <= now:
        return Attention(Action.END, Cause.TOKEN_EXPIRES, expires_at)
    if not connection.subscribed:
        return None  # nothing to keep: it may idle out
    limit_at = connection.connected_at + limits.max_duration
    if limit_at - now <= limits.margin:
        return Attention(Action.RECONNECT, Cause.CONNECTION_LIMIT, limit_at)
    # The nearer deadline is the one to warn about. A token's expiry is never closed for ahead of time: a client
    # that cannot refresh it would come back with the same token, to be closed again; at expiry it ends (END).
    cause, deadline = (Cause.TOKEN_EXPIRES, expires_at) if expires_at < limit_at else (Cause.CONNECTION_LIMIT, limit_at)
    if deadline - now <= limits.warn_within:
        return Attention(Action.WARN, cause, deadline)
    if now - connection.last_traffic_at >= limits.ping_after:
        return Attention(Action.PING)
    return None


def should_record_traffic(last_recorded_at: float, now: float, limits: Limits) -> bool:
    """Whether a client's message is worth a write of its time (see `Limits.record_every`)."""
    return now - last_recorded_at >= limits.record_every
