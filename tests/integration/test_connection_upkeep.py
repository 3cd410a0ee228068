"""The connection store's lists and traffic times, the keep-alive sweep and the ending of a user's connections,
against the emulator; what the sweep says to each client is recorded, not sent."""

from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import replace
from typing import Any

import pytest
from pynamodb.connection import Connection

from graphql_api.schema import build_schema
from graphql_api.wiring import Services
from persistence.connections import DynamoConnectionStore
from realtime import sweep
from realtime.handlers import Delivery, ManagementApi, RealtimeServices
from runtime.connection_state import ConnectionState, SubscribeRequest
from runtime.principal import Principal, Role
from runtime.settings import RealtimeSettings, Settings

VEHICLES = "subscription { vehicleAvailabilityChanged { id status } }"


class RecordingApi(ManagementApi):
    """@connections, recorded: every message posted and every connection deleted."""

    def __init__(self) -> None:
        super().__init__("http://127.0.0.1:9", client=object())
        self.sent: dict[str, list[dict[str, Any]]] = defaultdict(list)
        self.deleted: list[str] = []

    def deliver(self, connection_id: str, message: dict[str, Any]) -> Delivery:
        self.sent[connection_id].append(message)
        return Delivery.DELIVERED

    def delete(self, connection_id: str) -> None:
        self.deleted.append(connection_id)


@pytest.fixture
def store(settings: Settings, services: Services) -> DynamoConnectionStore:
    return DynamoConnectionStore(Connection(region=settings.region, host=settings.endpoint_url))


@pytest.fixture
def realtime(settings: Settings, services: Services, store: DynamoConnectionStore) -> RealtimeServices:
    return RealtimeServices(
        settings=replace(settings, realtime=RealtimeSettings(management_url="http://127.0.0.1:9")),
        connections=store,
        api=services,
        schema=build_schema(settings),
    )


def signed_in(
    store: DynamoConnectionStore, connection_id: str, subject: str, *, token_left: float = 3600, subscribed: bool
) -> None:
    """A connection as the handlers leave it after connection_init (and a subscription, if `subscribed`)."""
    store.open(connection_id)
    record = store.get(connection_id)
    assert record is not None
    principal = Principal(subject, None, frozenset({Role.CUSTOMER}), expires_at=time.time() + token_left)
    state = ConnectionState(init_received=True, acknowledged=True)
    store.save(replace(record, principal=principal), state)
    if subscribed:
        record = store.get(connection_id)
        assert record is not None
        request = SubscribeRequest("watch", VEHICLES, None, None)
        store.save(record, replace(state, subscriptions=frozenset({"watch"})), subscribe=("vehicles", request))


def test_connections_are_listed_all_together_and_by_user(store: DynamoConnectionStore) -> None:
    signed_in(store, "a1", "ana", subscribed=True)
    signed_in(store, "a2", "ana", subscribed=False)
    signed_in(store, "b1", "bruno", subscribed=True)
    store.open("never-initialised")

    assert sorted(record.connection_id for record in store.open_connections()) == [
        "a1",
        "a2",
        "b1",
        "never-initialised",
    ]
    assert sorted(record.connection_id for record in store.connections_of("ana")) == ["a1", "a2"]
    store.close("a1")
    assert [record.connection_id for record in store.connections_of("ana")] == ["a2"]


def test_recording_traffic_leaves_the_connections_version_alone(store: DynamoConnectionStore) -> None:
    signed_in(store, "c1", "carla", subscribed=True)
    before = store.get("c1")
    assert before is not None

    store.record_traffic("c1", before.last_traffic_at + 100)

    after = store.get("c1")
    assert after is not None
    assert after.version == before.version
    assert after.last_traffic_at == before.last_traffic_at + 100
    store.record_traffic("gone", time.time())  # a connection gone meanwhile is no error
    assert store.get("gone") is None


def test_the_sweep_pings_a_quiet_subscribed_connection_and_ends_one_whose_token_expired(
    realtime: RealtimeServices, store: DynamoConnectionStore
) -> None:
    signed_in(store, "quiet", "ana", subscribed=True)
    signed_in(store, "idle-unsubscribed", "ana", subscribed=False)
    signed_in(store, "expired", "bruno", subscribed=True, token_left=-1)
    api = RecordingApi()
    later = time.time() + 500  # past the ping threshold (480 s), within the token's hour

    done = sweep.sweep(realtime, api, later)

    assert done == {"ping": 1, "warn": 0, "reconnect": 0, "end": 1}
    assert api.sent["quiet"] == [{"type": "ping"}]
    assert "idle-unsubscribed" not in api.sent
    assert api.sent["expired"] == [{"id": "watch", "type": "complete"}]
    assert api.deleted == ["expired"]
    assert store.get("expired") is None
    assert list(store.subscribers("vehicles")) != []  # the quiet one's is kept
    assert [s.connection_id for s in store.subscribers("vehicles")] == ["quiet"]
    quiet = store.get("quiet")
    assert quiet is not None
    assert quiet.last_traffic_at == later  # the ping is traffic: no second ping before the window comes round


def test_ending_a_users_sessions_revokes_their_tokens_and_ends_each_connection(
    realtime: RealtimeServices, store: DynamoConnectionStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    signed_in(store, "d1", "dora", subscribed=True)
    signed_in(store, "d2", "dora", subscribed=False)
    signed_in(store, "e1", "eva", subscribed=True)
    api = RecordingApi()
    monkeypatch.setattr(sweep, "management_api", lambda _url: api)
    before = time.time()

    ended = sweep.ConnectionSessions(store, "http://127.0.0.1:9").end_all("dora")

    assert ended == 2
    assert sorted(api.deleted) == ["d1", "d2"]
    assert api.sent["d1"] == [{"id": "watch", "type": "complete"}]
    assert store.connections_of("dora") == []
    assert store.get("e1") is not None
    revoked_at = store.revoked_at("dora")
    assert revoked_at is not None
    assert revoked_at >= before
    assert store.revoked_at("eva") is None
