"""The local event source mappings against moto in server mode: Lambda's event shapes and its retry semantics.

Every test makes its own queues or table, so tests share nothing but the emulator.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.parser.models import DynamoDBStreamModel, SqsModel

from local_stack import event_sources
from local_stack.event_sources import EventSources, SqsEventSource, StreamEventSource

Event = dict[str, Any]


def wait_for(condition: Callable[[], bool], what: str, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"waited {timeout:.0f} s for {what}")
        time.sleep(0.1)


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


@pytest.fixture
def sqs(emulator: str) -> Any:
    return boto3.client("sqs")


@pytest.fixture
def dynamodb(emulator: str) -> Any:
    return boto3.client("dynamodb")


@pytest.fixture
def sources() -> Iterator[EventSources]:
    running = EventSources()
    yield running
    running.stop()


def make_queue(sqs: Any, *, fifo: bool = False, dead_letters: bool = False) -> tuple[str, str | None]:
    """A queue with a one-second visibility timeout and, if asked, a DLQ after 3 receives."""
    suffix = ".fifo" if fifo else ""
    fifo_attributes = {"FifoQueue": "true"} if fifo else {}
    attributes = {"VisibilityTimeout": "1", **fifo_attributes}
    dlq_url = None
    if dead_letters:
        dlq_url = sqs.create_queue(QueueName=unique("dlq") + suffix, Attributes=fifo_attributes)["QueueUrl"]
        dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        attributes["RedrivePolicy"] = json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 3})
    url: str = sqs.create_queue(QueueName=unique("queue") + suffix, Attributes=attributes)["QueueUrl"]
    return url, dlq_url


def send(sqs: Any, url: str, *bodies: str, group: Callable[[str], str] | None = None) -> None:
    entries: list[dict[str, Any]] = [{"Id": str(index), "MessageBody": body} for index, body in enumerate(bodies)]
    if group is not None:
        for entry in entries:
            entry |= {"MessageGroupId": group(entry["MessageBody"]), "MessageDeduplicationId": entry["MessageBody"]}
    sqs.send_message_batch(QueueUrl=url, Entries=entries)


def messages_left(sqs: Any, url: str) -> int:
    names = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=names)["Attributes"]
    return sum(int(attributes[name]) for name in names)


def ignore(event: Event, context: Any) -> None:
    return None


def bodies(event: Event) -> list[str]:
    return [record["body"] for record in event["Records"]]


def test_a_message_is_delivered_once_in_lambdas_event_shape_and_then_deleted(sources: EventSources, sqs: Any) -> None:
    url, _ = make_queue(sqs)
    sqs.send_message(
        QueueUrl=url,
        MessageBody='{"eventType": "OrderPlaced"}',
        MessageAttributes={
            "eventType": {"DataType": "String", "StringValue": "OrderPlaced"},
            "signature": {"DataType": "Binary", "BinaryValue": b"\x00\x01"},
        },
    )
    received: list[Event] = []

    def handler(event: Event, context: Any) -> None:
        received.append(event)

    source = SqsEventSource("validate-client", url, handler)
    sources.add(source)
    sources.start()

    wait_for(lambda: len(received) == 1 and messages_left(sqs, url) == 0, "the delivery and the delete")
    [record] = received[0]["Records"]
    assert record["body"] == '{"eventType": "OrderPlaced"}'
    assert record["messageAttributes"]["eventType"]["stringValue"] == "OrderPlaced"
    assert record["messageAttributes"]["eventType"]["dataType"] == "String"
    assert "StringValue" not in record["messageAttributes"]["eventType"]
    assert record["messageAttributes"]["signature"]["binaryValue"] == "AAE="  # base64, as Lambda sends it
    assert record["md5OfMessageAttributes"]
    assert record["eventSource"] == "aws:sqs"
    assert record["eventSourceARN"].endswith(url.rsplit("/", 1)[1])
    assert record["awsRegion"] == "us-east-1"
    assert record["attributes"]["ApproximateReceiveCount"] == "1"
    assert record["attributes"]["SentTimestamp"].isdigit()
    assert record["messageId"]
    assert record["receiptHandle"]
    assert record["md5OfBody"]
    SqsModel.model_validate(received[0])  # Powertools' model of Lambda's SQS event
    assert (source.batches, source.records, source.failures) == (1, 1, 0)
    assert len(received) == 1


def test_a_partial_batch_failure_brings_back_only_the_failed_message(sources: EventSources, sqs: Any) -> None:
    url, _ = make_queue(sqs)
    send(sqs, url, "m1", "m2", "m3")
    received: list[Event] = []

    def handler(event: Event, context: Any) -> dict[str, Any]:
        received.append(event)
        first_sight = len(received) == 1
        failed = [r["messageId"] for r in event["Records"] if r["body"] == "m2" and first_sight]
        return {"batchItemFailures": [{"itemIdentifier": message_id} for message_id in failed]}

    source = SqsEventSource("partial", url, handler, retry_delay_seconds=1)
    sources.add(source)
    sources.start()

    wait_for(lambda: len(received) == 2 and messages_left(sqs, url) == 0, "the failed message's second delivery")
    assert [bodies(event) for event in received] == [["m1", "m2", "m3"], ["m2"]]
    assert received[1]["Records"][0]["attributes"]["ApproximateReceiveCount"] == "2"
    assert (source.batches, source.records, source.failures) == (2, 4, 1)


def test_a_message_that_always_fails_lands_in_the_dlq_after_three_receives(sources: EventSources, sqs: Any) -> None:
    url, dlq_url = make_queue(sqs, dead_letters=True)
    assert dlq_url is not None
    send(sqs, url, "ok-1", "poison", "ok-2")
    received: list[Event] = []

    def handler(event: Event, context: Any) -> dict[str, Any]:
        received.append(event)
        return {
            "batchItemFailures": [{"itemIdentifier": r["messageId"]} for r in event["Records"] if r["body"] == "poison"]
        }

    sources.add(SqsEventSource("poisoned", url, handler, retry_delay_seconds=1))
    sources.start()

    wait_for(lambda: messages_left(sqs, dlq_url) == 1 and messages_left(sqs, url) == 0, "the move to the DLQ")
    delivered = [record["body"] for event in received for record in event["Records"]]
    assert sorted(delivered) == ["ok-1", "ok-2", "poison", "poison", "poison"]
    counts = [
        r["attributes"]["ApproximateReceiveCount"] for e in received for r in e["Records"] if r["body"] == "poison"
    ]
    assert counts == ["1", "2", "3"]
    [dead] = sqs.receive_message(QueueUrl=dlq_url)["Messages"]
    assert dead["Body"] == "poison"


def test_a_handler_that_raises_gets_the_whole_batch_again(sources: EventSources, sqs: Any) -> None:
    url, _ = make_queue(sqs)
    send(sqs, url, "m1", "m2")
    received: list[Event] = []

    def handler(event: Event, context: Any) -> None:
        received.append(event)
        if len(received) == 1:
            raise RuntimeError("the database is down")

    source = SqsEventSource("raising", url, handler, retry_delay_seconds=1)
    sources.add(source)
    sources.start()

    wait_for(lambda: len(received) == 2 and messages_left(sqs, url) == 0, "the batch's second delivery")
    assert [bodies(event) for event in received] == [["m1", "m2"], ["m1", "m2"]]
    assert {r["attributes"]["ApproximateReceiveCount"] for r in received[1]["Records"]} == {"2"}
    assert source.failures == 2


def test_fifo_keeps_group_order_and_a_failure_holds_back_only_its_group(sources: EventSources, sqs: Any) -> None:
    url, _ = make_queue(sqs, fifo=True)
    send(sqs, url, "a1", "b1", "a2", "b2", "a3", group=lambda body: body[0])
    received: list[Event] = []

    def handler(event: Event, context: Any) -> dict[str, Any]:
        received.append(event)
        first_sight = len(received) == 1
        failed = [r["messageId"] for r in event["Records"] if r["body"] == "a2" and first_sight]
        return {"batchItemFailures": [{"itemIdentifier": message_id} for message_id in failed]}

    sources.add(SqsEventSource("intake-orders", url, handler, retry_delay_seconds=1))
    sources.start()

    wait_for(lambda: len(received) == 2 and messages_left(sqs, url) == 0, "group a's second delivery")
    # a3 was not reported failed, yet comes back with a2: it must not overtake it.
    assert [bodies(event) for event in received] == [["a1", "b1", "a2", "b2", "a3"], ["a2", "a3"]]
    first = received[0]["Records"][0]["attributes"]
    assert first["MessageGroupId"] == "a"
    assert first["MessageDeduplicationId"] == "a1"
    assert first["SequenceNumber"]
    assert [r["attributes"]["ApproximateReceiveCount"] for r in received[1]["Records"]] == ["2", "2"]


def test_a_powertools_batch_processor_works_as_the_handler(sources: EventSources, sqs: Any) -> None:
    url, _ = make_queue(sqs)
    send(sqs, url, "good", "flaky")
    attempts: list[str] = []

    def record_handler(record: SQSRecord) -> None:
        attempts.append(record.body)
        if record.body == "flaky" and attempts.count("flaky") == 1:
            raise ValueError("not yet")

    def handler(event: Event, context: Any) -> PartialItemFailureResponse:
        return process_partial_response(event, record_handler, BatchProcessor(EventType.SQS), context)

    sources.add(SqsEventSource("powertools", url, handler, retry_delay_seconds=1))
    sources.start()

    wait_for(lambda: attempts.count("flaky") == 2 and messages_left(sqs, url) == 0, "the retry of the flaky record")
    assert sorted(attempts) == ["flaky", "flaky", "good"]


@pytest.fixture
def table(dynamodb: Any) -> Iterator[str]:
    name = unique("stream-table")
    dynamodb.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    )
    yield name
    dynamodb.delete_table(TableName=name)


def put(dynamodb: Any, table: str, *ids: str) -> None:
    """One transaction, so that the stream holds all of its records before the source's next read."""
    puts = [{"Put": {"TableName": table, "Item": {"id": {"S": item_id}}}} for item_id in ids]
    dynamodb.transact_write_items(TransactItems=puts)


def keys(event: Event) -> list[str]:
    return [record["dynamodb"]["Keys"]["id"]["S"] for record in event["Records"]]


def test_stream_records_reach_the_handler_as_insert_and_modify(
    dynamodb: Any, table: str, sources: EventSources
) -> None:
    dynamodb.put_item(TableName=table, Item={"id": {"S": "written-before-start"}})
    received: list[Event] = []

    def handler(event: Event, context: Any) -> None:
        received.append(event)

    source = StreamEventSource("outbox-relay", table, handler)
    sources.add(source)
    sources.start()
    car = {"id": {"S": "car-1"}, "status": {"S": "available"}, "price": {"N": "5"}, "photo": {"B": b"\x00\x01"}}
    dynamodb.put_item(TableName=table, Item=car)
    wait_for(lambda: len(received) == 1, "the INSERT")
    dynamodb.update_item(
        TableName=table,
        Key={"id": {"S": "car-1"}},
        UpdateExpression="SET #s = :sold",
        ExpressionAttributeNames={"#s": "status"},
        ExpressionAttributeValues={":sold": {"S": "sold"}},
    )
    wait_for(lambda: len(received) == 2, "the MODIFY")

    [insert] = received[0]["Records"]
    assert insert["eventName"] == "INSERT"
    assert insert["dynamodb"]["Keys"] == {"id": {"S": "car-1"}}
    assert insert["dynamodb"]["NewImage"] == {
        **car,
        "photo": {"B": "AAE="},
    }  # binary base64-encoded, as Lambda sends it
    assert "OldImage" not in insert["dynamodb"]
    assert insert["dynamodb"]["StreamViewType"] == "NEW_AND_OLD_IMAGES"
    assert isinstance(insert["dynamodb"]["ApproximateCreationDateTime"], float)
    assert insert["eventVersion"] == "1.1"
    assert insert["eventSource"] == "aws:dynamodb"
    assert insert["eventSourceARN"] == dynamodb.describe_table(TableName=table)["Table"]["LatestStreamArn"]
    [modify] = received[1]["Records"]
    assert modify["eventName"] == "MODIFY"
    assert modify["dynamodb"]["OldImage"]["status"] == {"S": "available"}
    assert modify["dynamodb"]["NewImage"]["status"] == {"S": "sold"}
    assert int(modify["dynamodb"]["SequenceNumber"]) > int(insert["dynamodb"]["SequenceNumber"])
    for event in received:
        DynamoDBStreamModel.model_validate(event)  # Powertools' model of Lambda's stream event
    assert (source.batches, source.records, source.failures) == (2, 2, 0)


def test_a_partial_stream_failure_retries_from_the_failed_record_in_order(
    dynamodb: Any, table: str, sources: EventSources
) -> None:
    received: list[Event] = []

    def handler(event: Event, context: Any) -> dict[str, Any]:
        received.append(event)
        first_sight = len(received) == 1
        failed = [r["dynamodb"]["SequenceNumber"] for r in event["Records"] if keys({"Records": [r]}) == ["r2"]]
        return {"batchItemFailures": [{"itemIdentifier": number} for number in failed if first_sight]}

    source = StreamEventSource("partial-stream", table, handler, retry_delay_seconds=0.2)
    sources.add(source)
    sources.start()
    put(dynamodb, table, "r1", "r2", "r3")
    wait_for(lambda: len(received) == 2, "the retry")
    # A later write shows that nothing else was delivered in between.
    put(dynamodb, table, "r4")
    wait_for(lambda: len(received) == 3, "the next record")

    assert [keys(event) for event in received] == [["r1", "r2", "r3"], ["r2", "r3"], ["r4"]]
    assert (source.batches, source.records, source.failures) == (3, 6, 1)


def test_a_stream_handler_that_raises_gets_the_whole_batch_again(
    dynamodb: Any, table: str, sources: EventSources
) -> None:
    received: list[Event] = []

    def handler(event: Event, context: Any) -> None:
        received.append(event)
        if len(received) == 1:
            raise RuntimeError("SNS is down")

    sources.add(StreamEventSource("raising-stream", table, handler, retry_delay_seconds=0.2))
    sources.start()
    put(dynamodb, table, "r1", "r2")
    wait_for(lambda: len(received) == 2, "the retry")

    assert [keys(event) for event in received] == [["r1", "r2"], ["r1", "r2"]]


def test_a_stream_record_that_always_fails_is_skipped_and_later_records_flow(
    dynamodb: Any, table: str, sources: EventSources
) -> None:
    received: list[Event] = []

    def handler(event: Event, context: Any) -> dict[str, Any]:
        received.append(event)
        poisoned = [r for r in event["Records"] if keys({"Records": [r]}) == ["poison"]]
        return {"batchItemFailures": [{"itemIdentifier": r["dynamodb"]["SequenceNumber"]} for r in poisoned]}

    source = StreamEventSource("poisoned-stream", table, handler, retry_delay_seconds=0.1, max_retries=2)
    sources.add(source)
    sources.start()
    put(dynamodb, table, "poison", "next")
    wait_for(lambda: len(source.dead_letters) == 1, "the poison record to be skipped")
    wait_for(lambda: keys(received[-1]) == ["next"], "the record after the poison one")
    put(dynamodb, table, "later")
    wait_for(lambda: any(keys(event) == ["later"] for event in received), "a later record")

    [dead] = source.dead_letters
    assert dead["dynamodb"]["Keys"] == {"id": {"S": "poison"}}
    assert dead["eventName"] == "INSERT"
    # One attempt and two retries, then "next" goes on alone and succeeds.
    assert [keys(event) for event in received] == [["poison", "next"]] * 3 + [["next"], ["later"]]
    assert source.failures == 3


def test_stop_returns_within_a_few_seconds(sqs: Any, table: str, sources: EventSources) -> None:
    url, _ = make_queue(sqs)
    sqs_source = SqsEventSource("idle-queue", url, ignore, wait_seconds=2)
    stream_source = StreamEventSource("idle-stream", table, ignore)
    sources.add(sqs_source)
    sources.add(stream_source)
    sources.start()
    assert sqs_source.ready.is_set()
    assert stream_source.ready.is_set()
    time.sleep(0.3)  # let the SQS source sit in a long poll

    started = time.monotonic()
    sources.stop()

    assert time.monotonic() - started < 4
    assert not [t for t in threading.enumerate() if t.name.startswith("event-source:idle-")]


class FlakySqs:
    """Fails its first receive, then hands out one message, then none: enough to see the loop survive."""

    def __init__(self) -> None:
        self.calls = 0
        self.deleted: list[str] = []

    def get_queue_attributes(self, **request: Any) -> dict[str, Any]:
        return {"Attributes": {"QueueArn": "arn:aws:sqs:us-east-1:000000000000:flaky"}}

    def receive_message(self, **request: Any) -> dict[str, Any]:
        self.calls += 1
        if self.calls == 1:
            raise ConnectionError("the emulator blinked")
        if self.calls == 2:
            message = {"MessageId": "m1", "ReceiptHandle": "r1", "Body": "hello", "MD5OfBody": "x", "Attributes": {}}
            return {"Messages": [message]}
        time.sleep(0.05)
        return {}

    def delete_message_batch(self, **request: Any) -> dict[str, Any]:
        self.deleted.extend(entry["ReceiptHandle"] for entry in request["Entries"])
        return {"Successful": [], "Failed": []}


def test_a_failing_poll_does_not_end_the_source(sources: EventSources, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(event_sources, "ERROR_PAUSE_SECONDS", 0.05)
    client = FlakySqs()
    received: list[Event] = []

    def handler(event: Event, context: Any) -> None:
        received.append(event)

    sources.add(SqsEventSource("flaky", "http://flaky", handler, sqs_client=client))
    sources.start()

    wait_for(lambda: client.deleted == ["r1"], "the message after the failed poll", timeout=5)
    assert bodies(received[0]) == ["hello"]
