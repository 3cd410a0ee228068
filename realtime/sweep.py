"""The connections' upkeep: the keep-alive sweep (run by the schedule that sweeps payment expiries) and the end of a
blocked user's connections (`ConnectionSessions`, which the API's `blockUser` and `removeFromStaff` call).
`realtime/keepalive.py` decides; this module reads the connection store and talks to the clients through
@connections.
"""

from __future__ import annotations

import time
from typing import Any

from persistence.connections import ConnectionRecord, DynamoConnectionStore
from realtime.handlers import Delivery, ManagementApi, RealtimeServices, management_api, realtime_services
from realtime.keepalive import KEEP_ALIVE, Action, Limits, OpenConnection, attend
from realtime.protocol import complete_message
from runtime.logs import service_logger
from runtime.telemetry import lambda_entry

logger = service_logger("connection-keepalive")


def _open(record: ConnectionRecord) -> OpenConnection:
    principal = record.principal
    return OpenConnection(
        connected_at=record.connected_at,
        last_traffic_at=record.last_traffic_at,
        token_expires_at=None if principal is None else principal.expires_at,
        subscribed=bool(record.topics),
    )


def sweep(services: RealtimeServices, api: ManagementApi, now: float) -> dict[str, int]:
    """One run of the schedule over every open connection: what was done, by action."""
    limits = Limits.of(services.settings.realtime)
    done = {action.value: 0 for action in Action}
    for record in services.connections.open_connections():
        attention = attend(_open(record), now, limits)
        if attention is None:
            continue
        done[attention.action.value] += 1
        if attention.action is Action.END:
            end_connection(services.connections, api, record)
        elif attention.action is Action.RECONNECT:
            # The client sees a normal closure (1000) and, holding subscriptions, graphql-ws connects again.
            api.delete(record.connection_id)
        else:
            message = KEEP_ALIVE if attention.action is Action.PING else attention.warning()
            if api.deliver(record.connection_id, message) is Delivery.GONE:
                services.connections.close(record.connection_id)
            else:
                services.connections.record_traffic(record.connection_id, now)
    if any(done.values()):
        logger.info("connections attended: %s", done)
    return done


def end_connection(connections: DynamoConnectionStore, api: ManagementApi, record: ConnectionRecord) -> None:
    """End every subscription of the connection with `complete`, then the connection: forgotten first, so that no
    push finds a subscription whose end was sent."""
    connections.close(record.connection_id)
    for operation_id in record.topics:
        if not api.post(record.connection_id, complete_message(operation_id)):
            return  # gone already
    api.delete(record.connection_id)


class ConnectionSessions:
    """A user's sessions, as `domain.access` ends them: their open WebSocket connections."""

    def __init__(self, connections: DynamoConnectionStore, management_url: str) -> None:
        self._connections = connections
        self._management_url = management_url

    def end_all(self, subject: str) -> int:
        # Revoked first: a client that reconnects while its connections are being ended is refused already.
        self._connections.revoke(subject, time.time())
        api = management_api(self._management_url)
        records = self._connections.connections_of(subject)
        for record in records:
            end_connection(self._connections, api, record)
        if records:
            logger.info("ended %d connections of %s", len(records), subject)
        return len(records)

    def revoked_at(self, subject: str) -> float | None:
        return self._connections.revoked_at(subject)


@lambda_entry(logger)
def handler(_event: dict[str, Any], _context: Any) -> dict[str, int]:
    services = realtime_services()
    return sweep(services, management_api(services.settings.realtime.management_url), time.time())
