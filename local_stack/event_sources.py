"""Lambda event source mappings, locally: threads that feed SQS messages and DynamoDB stream records to handlers.

The handlers are the same Python callables that run on AWS, called with the event shapes Lambda builds and held to
the same contract: partial batch responses (`ReportBatchItemFailures`), FIFO ordering, retries from the first failed
stream record. Where the local version differs on purpose it says so (retry delays, giving up on a stream record).

    with EventSources(SqsEventSource("validate-client", url, handler), StreamEventSource("relay", table, relay)):
        ...
"""

from __future__ import annotations

import base64
import logging
import math
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from types import TracebackType
from typing import Any

import boto3
from botocore.exceptions import ClientError

from local_stack.lambda_events import lambda_context

log = logging.getLogger("vehicle_platform.local")

# A handler returns None or a batch response (a dict). `object`, because what it returns is checked as Lambda checks
# it, and so that handlers typed to return a TypedDict (Powertools' PartialItemFailureResponse) fit too.
Handler = Callable[[dict[str, Any], Any], object]

# How long a source's loop rests after an unexpected error before it polls again.
ERROR_PAUSE_SECONDS = 1.0
# Shards split rarely (about every four hours on AWS); looking for new ones every few seconds is plenty.
SHARD_REFRESH_SECONDS = 5.0
# SQS returns at most ten messages per ReceiveMessage; Lambda's bigger SQS batches need a batching window.
SQS_MAX_BATCH = 10
SHORT_POLL_PAUSE_SECONDS = 0.1


def _arn_region(arn: str) -> str:
    return arn.split(":")[3]


def _reported_failures(source: str, response: object, identifiers: Sequence[str]) -> set[str] | None:
    """The identifiers a handler reported failed; None when the whole batch counts as failed.

    Lambda's rules for ReportBatchItemFailures: no response, no or an empty `batchItemFailures` is a full success;
    an identifier that is empty, missing or not in the batch fails the whole batch.
    """
    if response is None:
        return set()
    if not isinstance(response, dict):
        log.error(
            "event source %s: the handler returned %r, not a batch response; the whole batch fails", source, response
        )
        return None
    items = response.get("batchItemFailures")
    if not items:
        return set()
    if not isinstance(items, list):
        log.error("event source %s: batchItemFailures is %r, not a list; the whole batch fails", source, items)
        return None
    known = set(identifiers)
    failed: set[str] = set()
    for item in items:
        identifier = item.get("itemIdentifier") if isinstance(item, dict) else None
        if not isinstance(identifier, str) or identifier not in known:
            log.error(
                "event source %s: batchItemFailures names %r, which is not in the batch; as on Lambda, the whole "
                "batch fails",
                source,
                item,
            )
            return None
        failed.add(identifier)
    return failed


class EventSource:
    """What `EventSources` runs: a source prepares once (`ready` is set), then polls until told to stop.

    `batches`, `records` and `failures` count handler invocations, records delivered (redeliveries included) and
    records the handler failed (those it reported, or every record of an invocation that raised).
    """

    def __init__(self, name: str, handler: Handler) -> None:
        self.name = name
        self.handler = handler
        self.batches = 0
        self.records = 0
        self.failures = 0
        self.ready = threading.Event()

    def prepare(self) -> None:
        """Look up what polling needs; for a stream, this is the moment from which records are delivered."""
        raise NotImplementedError

    def poll(self, stop: threading.Event) -> None:
        """One round: receive, invoke the handler, acknowledge. Waits (on `stop`) when there was nothing."""
        raise NotImplementedError

    def run(self, stop: threading.Event) -> None:
        """The thread's loop. It never ends on an error: a consumer that died silently would stall the flow unseen."""
        while not stop.is_set():
            try:
                if not self.ready.is_set():
                    self.prepare()
                    self.ready.set()
                self.poll(stop)
            except Exception:
                log.exception("event source %s: polling failed; trying again in %g s", self.name, ERROR_PAUSE_SECONDS)
                stop.wait(ERROR_PAUSE_SECONDS)

    def _invoke(self, event: dict[str, Any], identifiers: Sequence[str]) -> set[str] | None:
        self.batches += 1
        self.records += len(identifiers)
        try:
            response = self.handler(event, lambda_context(self.name))
        except Exception:
            log.exception(
                "event source %s: the handler raised; the whole batch of %d fails", self.name, len(identifiers)
            )
            self.failures += len(identifiers)
            return None
        failed = _reported_failures(self.name, response, identifiers)
        self.failures += len(identifiers) if failed is None else len(failed)
        return failed


def _lambda_message_attribute(value: dict[str, Any]) -> dict[str, Any]:
    # Lambda spells message attributes in lower camel case and sends binary values base64-encoded; boto3 gives
    # `StringValue` and raw bytes.
    attribute: dict[str, Any] = {}
    if "StringValue" in value:
        attribute["stringValue"] = value["StringValue"]
    if "BinaryValue" in value:
        attribute["binaryValue"] = base64.b64encode(value["BinaryValue"]).decode("ascii")
    attribute["stringListValues"] = list(value.get("StringListValues", []))
    attribute["binaryListValues"] = [
        base64.b64encode(item).decode("ascii") for item in value.get("BinaryListValues", [])
    ]
    attribute["dataType"] = value["DataType"]
    return attribute


class SqsEventSource(EventSource):
    """An SQS event source mapping with `ReportBatchItemFailures`.

    Succeeded messages are deleted; failed ones stay and come back, and SQS moves them to the queue's DLQ after its
    `maxReceiveCount`. On AWS a failed message comes back when the queue's visibility timeout ends; here it is
    made visible again after `retry_delay_seconds`, so that local retries take seconds, not the full timeout.
    """

    def __init__(
        self,
        name: str,
        queue_url: str,
        handler: Handler,
        *,
        batch_size: int = 10,
        wait_seconds: int = 1,
        retry_delay_seconds: int = 2,
        sqs_client: Any = None,
    ) -> None:
        if not 1 <= batch_size <= SQS_MAX_BATCH:
            raise ValueError(f"batch_size must be between 1 and {SQS_MAX_BATCH}, not {batch_size}")
        super().__init__(name, handler)
        self.queue_url = queue_url
        self.batch_size = batch_size
        self.wait_seconds = wait_seconds
        self.retry_delay_seconds = retry_delay_seconds
        # A session of its own: boto3's default session is not safe to share while threads create clients.
        self.sqs: Any = sqs_client if sqs_client is not None else boto3.session.Session().client("sqs")
        self.queue_arn = ""
        self.fifo = False

    def prepare(self) -> None:
        attributes = self.sqs.get_queue_attributes(QueueUrl=self.queue_url, AttributeNames=["QueueArn", "FifoQueue"])
        self.queue_arn = attributes["Attributes"]["QueueArn"]
        self.fifo = attributes["Attributes"].get("FifoQueue") == "true"

    def poll(self, stop: threading.Event) -> None:
        response = self.sqs.receive_message(
            QueueUrl=self.queue_url,
            MaxNumberOfMessages=self.batch_size,
            WaitTimeSeconds=self.wait_seconds,
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
        )
        # Messages received while stopping are still handled: dropping them would hide them for a whole
        # visibility timeout and spend one of their receives.
        messages: list[dict[str, Any]] = response.get("Messages", [])
        if messages:
            self.deliver(messages)
        elif self.wait_seconds == 0:
            # Short polling answers at once: without a pause the loop would spin.
            stop.wait(SHORT_POLL_PAUSE_SECONDS)

    def deliver(self, messages: list[dict[str, Any]]) -> None:
        """Invoke the handler with these received messages, then delete or release each as Lambda would."""
        event = {"Records": [self.lambda_record(message) for message in messages]}
        failed = self._invoke(event, [message["MessageId"] for message in messages])
        retained = self._retained(messages, failed)
        kept = {message["MessageId"] for message in retained}
        self._delete([message for message in messages if message["MessageId"] not in kept])
        self._release(retained)

    def lambda_record(self, message: dict[str, Any]) -> dict[str, Any]:
        record: dict[str, Any] = {
            "messageId": message["MessageId"],
            "receiptHandle": message["ReceiptHandle"],
            "body": message["Body"],
            "attributes": {key: str(value) for key, value in message.get("Attributes", {}).items()},
            "messageAttributes": {
                key: _lambda_message_attribute(value) for key, value in message.get("MessageAttributes", {}).items()
            },
        }
        if "MD5OfMessageAttributes" in message:
            record["md5OfMessageAttributes"] = message["MD5OfMessageAttributes"]
        record |= {
            "md5OfBody": message["MD5OfBody"],
            "eventSource": "aws:sqs",
            "eventSourceARN": self.queue_arn,
            "awsRegion": _arn_region(self.queue_arn),
        }
        return record

    def _retained(self, messages: list[dict[str, Any]], failed: set[str] | None) -> list[dict[str, Any]]:
        if failed is None:
            return list(messages)
        if not self.fifo:
            return [message for message in messages if message["MessageId"] in failed]
        # FIFO: a group's order must hold, so a failed message keeps every later message of its group with it.
        stopped: set[str] = set()
        retained = []
        for message in messages:
            group = message.get("Attributes", {}).get("MessageGroupId", "")
            if group in stopped or message["MessageId"] in failed:
                stopped.add(group)
                retained.append(message)
        return retained

    def _delete(self, messages: list[dict[str, Any]]) -> None:
        if not messages:
            return
        entries = [{"Id": str(index), "ReceiptHandle": m["ReceiptHandle"]} for index, m in enumerate(messages)]
        response = self.sqs.delete_message_batch(QueueUrl=self.queue_url, Entries=entries)
        for failure in response.get("Failed", []):
            # Usually the handler outlived the visibility timeout: the message will be delivered again.
            log.warning("event source %s: could not delete a processed message: %s", self.name, failure)

    def _release(self, messages: list[dict[str, Any]]) -> None:
        if not messages:
            return
        entries = []
        groups: set[str] = set()
        for index, message in enumerate(messages):
            group = message.get("Attributes", {}).get("MessageGroupId") if self.fifo else None
            # Only a group's first retained message waits the retry delay. Its later ones are made visible at
            # once: SQS still holds them back while the first is in flight, and moto needs it, because when two
            # in-flight messages of a group turn visible together moto delivers the later one first.
            timeout = 0 if group is not None and group in groups else self.retry_delay_seconds
            if group is not None:
                groups.add(group)
            entries.append({"Id": str(index), "ReceiptHandle": message["ReceiptHandle"], "VisibilityTimeout": timeout})
        response = self.sqs.change_message_visibility_batch(QueueUrl=self.queue_url, Entries=entries)
        for failure in response.get("Failed", []):
            log.warning("event source %s: a failed message keeps its visibility timeout: %s", self.name, failure)


def _lambda_attribute_value(value: dict[str, Any]) -> dict[str, Any]:
    # boto3 decodes binary attribute values to bytes; Lambda events carry them base64-encoded, as the wire does.
    kind, content = next(iter(value.items()))
    if kind == "B":
        return {kind: base64.b64encode(content).decode("ascii")}
    if kind == "BS":
        return {kind: [base64.b64encode(item).decode("ascii") for item in content]}
    if kind == "M":
        return {kind: _lambda_image(content)}
    if kind == "L":
        return {kind: [_lambda_attribute_value(item) for item in content]}
    return {kind: content}


def _lambda_image(image: dict[str, Any]) -> dict[str, Any]:
    return {name: _lambda_attribute_value(value) for name, value in image.items()}


def _epoch_seconds(value: object) -> object:
    # boto3 parses the timestamp into a datetime; Lambda sends epoch seconds, rounded down as the API documents.
    if isinstance(value, datetime):
        aware = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
        return float(math.floor(aware.timestamp()))
    return value


@dataclass
class _Shard:
    shard_id: str
    parent_id: str | None
    # Where a new iterator starts when there is no checkpoint: LATEST for shards open when the source started.
    start_type: str = "TRIM_HORIZON"
    iterator: str | None = None
    checkpoint: str | None = None  # the last sequence number handled (or given up on)
    resume_at: str | None = None  # the first failed sequence number, read again after the retry delay
    attempts: int = 0  # failed attempts of the batch starting at resume_at
    not_before: float = 0.0


class StreamEventSource(EventSource):
    """A DynamoDB stream event source mapping, starting position LATEST, with `ReportBatchItemFailures`.

    Records written after `prepare()` (which `EventSources.start()` waits for) are delivered in order per shard. On
    a failure the records before the first failed one are checkpointed and reading resumes at it after
    `retry_delay_seconds`. After `max_retries` retries of the same batch start the source gives up on it, as
    Lambda with `MaximumRetryAttempts` and an on-failure destination does: a reported failure skips that record, a
    raising handler skips the whole batch. The skipped records, as the handler saw them, go to `dead_letters`.
    """

    def __init__(
        self,
        name: str,
        table_name: str,
        handler: Handler,
        *,
        batch_size: int = 100,
        poll_interval: float = 0.2,
        retry_delay_seconds: float = 0.5,
        max_retries: int = 5,
        streams_client: Any = None,
        dynamodb_client: Any = None,
    ) -> None:
        super().__init__(name, handler)
        self.table_name = table_name
        self.batch_size = batch_size
        self.poll_interval = poll_interval
        self.retry_delay_seconds = retry_delay_seconds
        self.max_retries = max_retries
        session = boto3.session.Session()
        self.streams: Any = streams_client if streams_client is not None else session.client("dynamodbstreams")
        self.dynamodb: Any = dynamodb_client if dynamodb_client is not None else session.client("dynamodb")
        self.stream_arn = ""
        self.dead_letters: list[dict[str, Any]] = []
        self._shards: dict[str, _Shard] = {}
        self._known: set[str] = set()
        self._next_refresh = 0.0

    def prepare(self) -> None:
        table = self.dynamodb.describe_table(TableName=self.table_name)["Table"]
        if "LatestStreamArn" not in table:
            raise RuntimeError(f"table {self.table_name} has no stream")
        self.stream_arn = table["LatestStreamArn"]
        self._shards.clear()
        self._known.clear()
        for description in self._list_shards():
            shard_id = description["ShardId"]
            self._known.add(shard_id)
            # A closed shard holds nothing written from now on.
            if "EndingSequenceNumber" not in description.get("SequenceNumberRange", {}):
                shard = _Shard(shard_id, description.get("ParentShardId"), start_type="LATEST")
                shard.iterator = self._open(shard)
                self._shards[shard_id] = shard
        self._next_refresh = time.monotonic() + SHARD_REFRESH_SECONDS

    def poll(self, stop: threading.Event) -> None:
        now = time.monotonic()
        if now >= self._next_refresh:
            self._refresh_shards()
            self._next_refresh = now + SHARD_REFRESH_SECONDS
        delivered = False
        for shard in list(self._shards.values()):
            if stop.is_set():
                return
            # A child shard waits until its parent is drained: that is how order holds across a split.
            if shard.not_before > now or shard.parent_id in self._shards:
                continue
            delivered = self._read(shard) or delivered
        if not delivered:
            stop.wait(self.poll_interval)

    def lambda_record(self, record: dict[str, Any]) -> dict[str, Any]:
        change = record["dynamodb"]
        dynamodb: dict[str, Any] = {}
        if "ApproximateCreationDateTime" in change:
            dynamodb["ApproximateCreationDateTime"] = _epoch_seconds(change["ApproximateCreationDateTime"])
        for key in ("Keys", "NewImage", "OldImage"):
            if key in change:
                dynamodb[key] = _lambda_image(change[key])
        for key in ("SequenceNumber", "SizeBytes", "StreamViewType"):
            if key in change:
                dynamodb[key] = change[key]
        event: dict[str, Any] = {
            "eventID": record["eventID"],
            "eventName": record["eventName"],
            # GetRecords says 1.0 (moto too); Lambda's events say 1.1.
            "eventVersion": "1.1",
            "eventSource": "aws:dynamodb",
            # From the stream's ARN: moto writes us-east-1 into every record whatever the region.
            "awsRegion": _arn_region(self.stream_arn),
            "dynamodb": dynamodb,
            "eventSourceARN": self.stream_arn,
        }
        if "userIdentity" in record:  # TTL deletions
            identity = record["userIdentity"]
            event["userIdentity"] = {"type": identity.get("Type"), "principalId": identity.get("PrincipalId")}
        return event

    def _list_shards(self) -> list[dict[str, Any]]:
        shards: list[dict[str, Any]] = []
        request: dict[str, Any] = {"StreamArn": self.stream_arn}
        while True:
            description = self.streams.describe_stream(**request)["StreamDescription"]
            shards.extend(description.get("Shards", []))
            last = description.get("LastEvaluatedShardId")
            if not last:
                return shards
            request["ExclusiveStartShardId"] = last

    def _refresh_shards(self) -> None:
        for description in self._list_shards():
            shard_id = description["ShardId"]
            if shard_id not in self._known:
                # Born after the source started, so everything in it is new: read it from its beginning.
                self._known.add(shard_id)
                self._shards[shard_id] = _Shard(shard_id, description.get("ParentShardId"))

    def _open(self, shard: _Shard) -> str:
        request: dict[str, Any] = {"StreamArn": self.stream_arn, "ShardId": shard.shard_id}
        if shard.resume_at is not None:
            request |= {"ShardIteratorType": "AT_SEQUENCE_NUMBER", "SequenceNumber": shard.resume_at}
        elif shard.checkpoint is not None:
            request |= {"ShardIteratorType": "AFTER_SEQUENCE_NUMBER", "SequenceNumber": shard.checkpoint}
        else:
            request["ShardIteratorType"] = shard.start_type
        iterator: str = self.streams.get_shard_iterator(**request)["ShardIterator"]
        return iterator

    def _read(self, shard: _Shard) -> bool:
        if shard.iterator is None:
            shard.iterator = self._open(shard)
        try:
            response = self.streams.get_records(ShardIterator=shard.iterator, Limit=self.batch_size)
        except ClientError as error:
            # An iterator unused for 15 minutes expires on AWS (never in moto): open a new one from the checkpoint.
            if error.response.get("Error", {}).get("Code") != "ExpiredIteratorException":
                raise
            shard.iterator = None
            return False
        records: list[dict[str, Any]] = response.get("Records", [])
        shard.iterator = response.get("NextShardIterator")
        if records:
            self._deliver(shard, records)
            return True
        if shard.iterator is None:
            log.info("event source %s: shard %s is closed and read to its end", self.name, shard.shard_id)
            del self._shards[shard.shard_id]
        return False

    def _deliver(self, shard: _Shard, records: list[dict[str, Any]]) -> None:
        events = [self.lambda_record(record) for record in records]
        sequence_numbers = [event["dynamodb"]["SequenceNumber"] for event in events]
        failed = self._invoke({"Records": events}, sequence_numbers)
        if failed is not None and not failed:
            shard.checkpoint, shard.resume_at, shard.attempts = sequence_numbers[-1], None, 0
            return
        first = 0 if failed is None else next(i for i, number in enumerate(sequence_numbers) if number in failed)
        if first:
            shard.checkpoint = sequence_numbers[first - 1]
        point = sequence_numbers[first]
        shard.attempts = shard.attempts + 1 if shard.resume_at == point else 1
        shard.resume_at = point
        shard.iterator = None
        if shard.attempts <= self.max_retries:
            shard.not_before = time.monotonic() + self.retry_delay_seconds
            return
        skipped = events if failed is None else [events[first]]
        self.dead_letters.extend(skipped)
        log.error(
            "event source %s: giving up on sequence number %s of shard %s after %d attempts; skipping %d record(s) "
            "(on AWS they would go to the on-failure destination)",
            self.name,
            point,
            shard.shard_id,
            shard.attempts,
            len(skipped),
        )
        shard.checkpoint = skipped[-1]["dynamodb"]["SequenceNumber"]
        shard.resume_at, shard.attempts = None, 0


class EventSources:
    """Runs sources, one daemon thread each; a context manager that starts them on enter and stops them on exit."""

    def __init__(self, *sources: EventSource, ready_timeout: float = 10.0) -> None:
        self.sources: list[EventSource] = []
        self.ready_timeout = ready_timeout
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._started = False
        for source in sources:
            self.add(source)

    def add(self, source: EventSource) -> EventSource:
        self.sources.append(source)
        if self._started:
            self._launch([source])
        return source

    def start(self) -> None:
        """Start every source and wait until each is positioned (so a stream delivers what is written next)."""
        if self._started:
            return
        if self._threads:
            # A loop that outlived stop() (a handler still running) would poll side by side with its successor.
            raise RuntimeError(f"{len(self._threads)} event source thread(s) from the last start are still running")
        self._started = True
        self._stop = threading.Event()
        self._launch(self.sources)

    def stop(self, timeout: float = 10.0) -> None:
        """Ask every loop to end and wait; an SQS long poll ends within its `wait_seconds`."""
        self._stop.set()
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))
            if thread.is_alive():
                log.warning("%s did not stop within %.1f s", thread.name, timeout)
        self._threads = [thread for thread in self._threads if thread.is_alive()]
        self._started = False

    def _launch(self, sources: Sequence[EventSource]) -> None:
        for source in sources:
            thread = threading.Thread(
                target=source.run, args=(self._stop,), name=f"event-source:{source.name}", daemon=True
            )
            thread.start()
            self._threads.append(thread)
        deadline = time.monotonic() + self.ready_timeout
        for source in sources:
            if not source.ready.wait(max(0.0, deadline - time.monotonic())):
                log.warning("event source %s is not ready yet; it keeps trying in the background", source.name)

    def __enter__(self) -> EventSources:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.stop()
