"""The fan-out's posts: one subscriber whose post is slow or fails holds back no other, and only 410 Gone forgets one.

The topic's subscribers, the rendering and the poster are fakes: what is checked is how `fanout.push` (and the
delivery it shares with the delivery function) spreads its posts, not DynamoDB or
API Gateway (the gateway's own tests and the end-to-end ones do that).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any, cast

import pytest

from persistence.connections import StoredSubscription
from realtime import delivery, fanout
from realtime.handlers import RealtimeServices
from runtime.connection_state import SubscribeRequest
from runtime.principal import Principal, Role

QUERY = "subscription { vehicleAvailabilityChanged { id status } }"
SLOW_SECONDS = 1.0


def subscription(connection_id: str, *, expired: bool = False) -> StoredSubscription:
    principal = Principal(
        subject=f"user-{connection_id}",
        email=None,
        roles=frozenset({Role.CUSTOMER}),
        expires_at=time.time() - 1 if expired else time.time() + 3600,
    )
    request = SubscribeRequest(id="vehicles", query=QUERY, variables=None, operation_name=None)
    return StoredSubscription(topic="vehicles", connection_id=connection_id, request=request, principal=principal)


class Connections:
    def __init__(self, subscriptions: list[StoredSubscription]) -> None:
        self.subscriptions = subscriptions
        self.closed: list[str] = []
        self.dropped: list[str] = []

    def subscribers(self, topic: str) -> Iterator[StoredSubscription]:
        return iter(self.subscriptions)

    def claim_delivery(self, topic: str, connection_id: str, operation_id: str, version: int) -> bool:
        return True

    def drop_subscription(self, subscription: StoredSubscription) -> None:
        self.dropped.append(subscription.connection_id)

    def close(self, connection_id: str) -> None:
        self.closed.append(connection_id)


class Poster:
    """`ManagementApi.post` as the fan-out sees it: "slow" takes a read timeout's time, "gone" answers 410, "dropped"
    could not be delivered (the poster logged it); the others are delivered at once."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.finished: dict[str, float] = {}

    def post(self, connection_id: str, message: dict[str, Any]) -> bool:
        if connection_id == "slow":
            time.sleep(SLOW_SECONDS)
        with self.lock:
            self.finished[connection_id] = time.monotonic()
        return connection_id != "gone"


@pytest.fixture
def poster(monkeypatch: pytest.MonkeyPatch) -> Poster:
    fake = Poster()

    async def render(schema: Any, request: Any, context: Any) -> dict[str, Any]:
        return {"data": {"vehicleAvailabilityChanged": {"id": "V1", "status": "RESERVED"}}}

    monkeypatch.setattr(fanout, "management_api", lambda _endpoint: fake)
    monkeypatch.setattr(delivery, "management_api", lambda _endpoint: fake)
    monkeypatch.setattr(fanout, "render", render)
    return fake


def services(connections: Connections) -> RealtimeServices:
    realtime = SimpleNamespace(management_url="http://gateway", delivery_queue_url="", fanout_batch_size=250)
    settings = SimpleNamespace(realtime=realtime)
    return cast(RealtimeServices, SimpleNamespace(settings=settings, connections=connections, api=None, schema=None))


def test_a_slow_post_holds_back_no_other_and_only_gone_forgets_a_subscriber(poster: Poster) -> None:
    names = ["slow", "gone", "dropped", *(f"fast-{number}" for number in range(20))]
    connections = Connections([subscription(name) for name in names] + [subscription("expired", expired=True)])
    started = time.monotonic()
    pushed = fanout.push(services(connections), "vehicles", {}, owner=None, version=1, claim=True)
    took = time.monotonic() - started

    assert pushed == len(names)
    assert set(poster.finished) == {*names, "expired"}
    others = [finished - started for name, finished in poster.finished.items() if name != "slow"]
    assert max(others) < SLOW_SECONDS / 2, others  # none waited for the slow one
    assert SLOW_SECONDS <= took < SLOW_SECONDS + 0.5  # the push waits for its slowest post, no longer
    assert connections.closed == ["gone"]  # a dropped message keeps its subscriber
    assert connections.dropped == ["expired"]  # told `complete`, and forgotten
