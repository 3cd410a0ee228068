"""What a WebSocket connection holds between two of its messages: plain values, with no imports, shared by the
protocol that decides on them (realtime/protocol.py) and the store that keeps them (persistence/connections.py),
so that the store does not know the gateway."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class SubscribeRequest:
    id: str
    # Empty when the request names a trusted document by id instead.
    query: str
    variables: Mapping[str, Any] | None
    operation_name: str | None
    # One of the web app's trusted documents, by id (`documentId`, or APQ's extensions.persistedQuery.sha256Hash).
    document_id: str | None = None


@dataclass(frozen=True, slots=True)
class ConnectionState:
    """What a connection's next message is judged against."""

    init_received: bool = False
    acknowledged: bool = False
    subscriptions: frozenset[str] = field(default_factory=frozenset)
