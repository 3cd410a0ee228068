"""Delivery batches: how a topic's subscribers are cut into batches, what a batch carries, and when the fan-out
posts itself or hands the batches to the delivery queue. Plain Python: the store, the renderer, the poster and the
queue are fakes."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any, cast

import pytest

from persistence.connections import StoredSubscription
from realtime import delivery, fanout
from realtime.batches import MAX_BATCH_BYTES, DeliveryBatch, Recipient, batch_of, pack
from realtime.handlers import RealtimeServices
from runtime.connection_state import SubscribeRequest
from runtime.principal import Principal, Role

QUERY = "subscription { vehicleAvailabilityChanged { id status } }"
WITH_PRICE = "subscription { vehicleAvailabilityChanged { id status price } }"


def recipients(count: int, rendering: str = "0") -> list[Recipient]:
    return [Recipient(f"conn-{number:05d}", "1", rendering) for number in range(count)]


# -- packing ----------------------------------------------------------------------------------------------------


def test_subscribers_are_cut_into_batches_of_at_most_the_batch_size_in_order() -> None:
    everyone = recipients(1001)

    cut = list(pack(iter(everyone), {"0": 50}, most=250))

    assert [len(piece) for piece in cut] == [250, 250, 250, 250, 1]
    assert [recipient for piece in cut for recipient in piece] == everyone


def test_a_topic_within_one_batch_is_one_batch() -> None:
    assert [len(piece) for piece in pack(iter(recipients(250)), {"0": 50}, most=250)] == [250]
    assert list(pack(iter([]), {}, most=250)) == []


def test_a_batch_stays_under_its_byte_limit_counting_each_rendering_once() -> None:
    # Operation ids are the client's to choose: long ones fill a batch before its count does.
    long_ids = [Recipient(f"conn-{number}", "x" * 1000, "0") for number in range(500)]

    cut = list(pack(iter(long_ids), {"0": 5000}, most=250, max_bytes=100_000))

    assert all(
        len(batch_of("vehicles", 3, False, {"0": {"data": "x" * 4980}}, piece).to_json()) <= 100_000 for piece in cut
    )
    assert sum(len(piece) for piece in cut) == 500
    assert len(cut) > 2


def test_a_new_batch_counts_its_renderings_again() -> None:
    mixed = [Recipient(f"conn-{number}", "1", str(number % 2)) for number in range(4)]

    each = mixed[0].encoded_bytes  # 18: "conn-0", "1", "0" and the brackets around them

    # Room for two recipients and both renderings: the third would fit if its rendering were not counted again.
    cut = list(pack(iter(mixed), {"0": 60, "1": 60}, most=10, max_bytes=2 * 60 + 2 * each))

    assert [[recipient.rendering for recipient in piece] for piece in cut] == [["0", "1"], ["0", "1"]]


def test_packing_is_lazy_so_the_subscribers_are_read_page_by_page() -> None:
    read = 0

    def pages() -> Iterator[Recipient]:
        nonlocal read
        for recipient in recipients(1000):
            read += 1
            yield recipient

    first = next(pack(pages(), {"0": 50}, most=100))

    assert len(first) == 100
    assert read == 101  # the one that did not fit, and nothing further


def test_a_batch_size_below_one_is_refused() -> None:
    with pytest.raises(ValueError, match="at least one"):
        list(pack(iter(recipients(3)), {"0": 1}, most=0))


# -- what a batch carries ----------------------------------------------------------------------------------------


def test_a_batch_carries_only_the_renderings_its_recipients_use_and_survives_the_queue() -> None:
    renderings = {"0": {"data": {"a": 1}}, "1": {"data": {"b": 2}}, "2": {"data": {"c": 3}}}
    chosen = [Recipient("conn-1", "op-1", "2"), Recipient("conn-2", "op-2", "0")]

    batch = batch_of("vehicles", 7, False, renderings, chosen)

    assert dict(batch.renderings) == {"0": {"data": {"a": 1}}, "2": {"data": {"c": 3}}}
    assert DeliveryBatch.from_json(batch.to_json()) == batch
    assert len(batch.to_json().encode()) < MAX_BATCH_BYTES


# -- direct or through the queue ---------------------------------------------------------------------------------


def subscription(number: int, query: str = QUERY) -> StoredSubscription:
    principal = Principal(
        subject=f"user-{number}", email=None, roles=frozenset({Role.CUSTOMER}), expires_at=time.time() + 3600
    )
    request = SubscribeRequest(id="vehicles", query=query, variables=None, operation_name=None)
    return StoredSubscription(
        topic="vehicles", connection_id=f"conn-{number:05d}", request=request, principal=principal
    )


class World:
    """The fakes `fanout.push` meets: the topic's subscribers, the renderer, the poster, the delivery queue."""

    def __init__(self, subscriptions: list[StoredSubscription]) -> None:
        self.subscriptions = subscriptions
        self.rendered: list[str] = []
        self.posted: list[tuple[str, dict[str, Any]]] = []
        self.sent: list[list[dict[str, str]]] = []

    def subscribers(self, topic: str) -> Iterator[StoredSubscription]:
        return iter(self.subscriptions)

    def claim_delivery(self, topic: str, connection_id: str, operation_id: str, version: int) -> bool:
        return True

    def post(self, connection_id: str, message: dict[str, Any]) -> bool:
        self.posted.append((connection_id, message))
        return True

    def send_message_batch(self, *, QueueUrl: str, Entries: list[dict[str, str]]) -> dict[str, Any]:  # noqa: N803
        self.sent.append(Entries)
        return {"Successful": [{"Id": entry["Id"]} for entry in Entries]}

    def batches(self) -> list[DeliveryBatch]:
        return [DeliveryBatch.from_json(entry["MessageBody"]) for request in self.sent for entry in request]


@pytest.fixture
def world(monkeypatch: pytest.MonkeyPatch) -> World:
    fake = World([])

    async def render(schema: Any, request: SubscribeRequest, context: Any) -> dict[str, Any]:
        fake.rendered.append(request.query)
        return {"data": {"vehicleAvailabilityChanged": {"id": "V1", "status": "RESERVED"}}}

    monkeypatch.setattr(fanout, "render", render)
    monkeypatch.setattr(fanout, "management_api", lambda _endpoint: fake)
    monkeypatch.setattr(delivery, "management_api", lambda _endpoint: fake)
    monkeypatch.setattr(fanout, "sqs_client", lambda: fake)
    return fake


def services(world: World, *, queue: str = "https://sqs/ws-delivery", batch_size: int = 100) -> RealtimeServices:
    realtime = SimpleNamespace(management_url="http://gateway", delivery_queue_url=queue, fanout_batch_size=batch_size)
    return cast(
        RealtimeServices,
        SimpleNamespace(settings=SimpleNamespace(realtime=realtime), connections=world, api=None, schema=None),
    )


def test_a_topic_within_one_batch_is_posted_directly_with_its_version(world: World) -> None:
    world.subscriptions = [subscription(number) for number in range(100)]

    pushed = fanout.push(services(world), "vehicles", {}, owner=None, version=4, claim=False)

    assert pushed == 100
    assert world.sent == []  # no extra hop
    assert len(world.posted) == 100
    assert all(message["payload"]["extensions"] == {"version": 4} for _, message in world.posted)
    assert world.rendered == [QUERY]


def test_a_larger_topic_is_sent_to_the_delivery_queue_in_batches_rendered_once_per_document(world: World) -> None:
    world.subscriptions = [subscription(number, WITH_PRICE if number % 3 else QUERY) for number in range(1050)]

    pushed = fanout.push(services(world), "vehicles", {}, owner=None, version=9, claim=False)

    assert pushed == 1050
    assert world.posted == []  # the delivery function posts them
    batches = world.batches()
    assert [len(batch.recipients) for batch in batches] == [100] * 10 + [50]
    assert [len(request) for request in world.sent] == [10, 1]  # ten batches to a request
    assert sorted(world.rendered) == sorted([QUERY, WITH_PRICE])  # each distinct document once
    everyone = [recipient.connection_id for batch in batches for recipient in batch.recipients]
    assert everyone == [each.connection_id for each in world.subscriptions]
    assert {(batch.topic, batch.version, batch.claim) for batch in batches} == {("vehicles", 9, False)}
    assert all(len(batch.renderings) == 2 for batch in batches)


def test_without_a_delivery_queue_everything_is_posted_directly(world: World) -> None:
    world.subscriptions = [subscription(number) for number in range(250)]

    assert fanout.push(services(world, queue=""), "vehicles", {}, owner=None, version=1, claim=False) == 250
    assert len(world.posted) == 250
    assert world.sent == []


def test_the_delivery_function_posts_a_batch_from_the_queue(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    world.subscriptions = [subscription(number) for number in range(300)]
    fanout.push(services(world), "vehicles", {}, owner=None, version=5, claim=False)
    monkeypatch.setattr(delivery, "realtime_services", lambda: services(world))

    for batch in world.batches():
        delivery.post_batch(cast(Any, SimpleNamespace(body=batch.to_json())))

    assert sorted(connection for connection, _ in world.posted) == sorted(s.connection_id for s in world.subscriptions)
    assert {json.dumps(message, sort_keys=True) for _, message in world.posted} == {
        json.dumps(
            {
                "id": "vehicles",
                "type": "next",
                "payload": {
                    "data": {"vehicleAvailabilityChanged": {"id": "V1", "status": "RESERVED"}},
                    "extensions": {"version": 5},
                },
            },
            sort_keys=True,
        )
    }
