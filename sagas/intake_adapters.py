"""The batch intake's ports on AWS: the intake bucket (files and their reports), the FIFO queue of accepted orders,
the order-errors topic; and the intake's services (built by composition/aws.py)."""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from botocore.exceptions import ClientError

from composition import ProcessDefault
from domain.batch_orders import (
    MAX_FILE_BYTES,
    BatchIntake,
    BatchOrders,
    DroppedFile,
    StaffNotice,
    report_key,
)
from domain.intake import BatchReport, IntakeOrder
from runtime.settings import get_settings
from sagas.adapters import sns_subject

# SQS SendMessageBatch and SNS PublishBatch: at most ten entries, and at most 256 KiB in all.
MAX_BATCH_ENTRIES = 10
MAX_BATCH_BYTES = 256 * 1024
_SOURCE_VERSION = "source-version"
_MISSING = frozenset({"NoSuchKey", "NoSuchVersion", "404"})

_Entry = TypeVar("_Entry")


class DeliveryFailed(RuntimeError):
    """SQS or SNS refused some entries of a batch: the file's record fails, and its retry sends them again."""


def batches(entries: Sequence[_Entry], size: Callable[[_Entry], int]) -> Iterator[list[_Entry]]:
    """The entries in order, in groups that fit one batch request."""
    batch: list[_Entry] = []
    batch_bytes = 0
    for entry in entries:
        entry_bytes = size(entry)
        if batch and (len(batch) == MAX_BATCH_ENTRIES or batch_bytes + entry_bytes > MAX_BATCH_BYTES):
            yield batch
            batch, batch_bytes = [], 0
        batch.append(entry)
        batch_bytes += entry_bytes
    if batch:
        yield batch


def _missing(error: ClientError) -> bool:
    return str(error.response.get("Error", {}).get("Code")) in _MISSING


class S3BatchFiles:
    """Dropped files and their reports, in the intake bucket (the report at `<key>.report.json`)."""

    def __init__(self, client: Any) -> None:
        self._s3 = client

    def read(self, bucket: str, key: str, *, version_id: str | None, sequencer: str | None) -> DroppedFile | None:
        """The upload the notification speaks of; None when it was deleted since."""
        request = {"Bucket": bucket, "Key": key} | ({"VersionId": version_id} if version_id else {})
        try:
            response = self._s3.get_object(**request)
        except ClientError as error:
            if _missing(error):
                return None
            raise
        body = response["Body"]
        size = int(response["ContentLength"])
        content = body.read() if size <= MAX_FILE_BYTES else None
        body.close()
        # The notification names the upload (its version, or its sequencer in an unversioned bucket); moto's
        # notifications carry neither, and then the version read stands for it.
        version = version_id or sequencer or response.get("VersionId") or str(response["ETag"])
        return DroppedFile(bucket=bucket, key=key, version=str(version), size=size, content=content)

    def accepted_before(self, file: DroppedFile) -> Collection[str]:
        try:
            response = self._s3.get_object(Bucket=file.bucket, Key=report_key(file.key))
        except ClientError as error:
            if _missing(error):
                return ()
            raise
        if response.get("Metadata", {}).get(_SOURCE_VERSION) != file.version:
            return ()  # the report of an earlier upload under the same name
        accepted: list[str] = json.loads(response["Body"].read())["accepted"]
        return accepted

    def write_report(self, file: DroppedFile, report: BatchReport) -> None:
        self._s3.put_object(
            Bucket=file.bucket,
            Key=report_key(file.key),
            Body=json.dumps(report.to_dict(), ensure_ascii=False, indent=2).encode(),
            ContentType="application/json",
            Metadata={_SOURCE_VERSION: file.version},
        )


class SqsOrderQueue:
    """The FIFO queue of accepted orders: grouped by the customer's CPF, so that one customer's orders are placed
    in the file's order (and one customer's failure holds back no one else's); deduplicated by order id."""

    def __init__(self, queue_url: str, client: Any) -> None:
        self._queue_url = queue_url
        self._sqs = client

    def send(self, orders: Sequence[IntakeOrder]) -> None:
        entries = [
            {
                "Id": str(index),
                "MessageBody": order.to_json(),
                "MessageGroupId": order.customer.cpf.value,
                "MessageDeduplicationId": order.order_id,
            }
            for index, order in enumerate(orders)
        ]
        for batch in batches(entries, lambda entry: len(entry["MessageBody"].encode())):
            response = self._sqs.send_message_batch(QueueUrl=self._queue_url, Entries=batch)
            if response.get("Failed"):
                raise DeliveryFailed(f"SQS refused {len(response['Failed'])} order(s): {response['Failed']}")


class SnsStaffTopic:
    """The order-errors topic; on AWS the staff subscribe to it by email."""

    def __init__(self, topic_arn: str, client: Any) -> None:
        self._topic_arn = topic_arn
        self._sns = client

    def publish(self, notices: Sequence[StaffNotice]) -> None:
        entries = [
            {
                "Id": str(index),
                "Subject": sns_subject(notice.subject),
                "Message": json.dumps(notice.message, ensure_ascii=False, indent=2),
            }
            for index, notice in enumerate(notices)
        ]
        for batch in batches(entries, lambda entry: len(entry["Message"].encode()) + len(entry["Subject"])):
            response = self._sns.publish_batch(TopicArn=self._topic_arn, PublishBatchRequestEntries=batch)
            if response.get("Failed"):
                raise DeliveryFailed(f"SNS refused {len(response['Failed'])} notice(s): {response['Failed']}")


@dataclass(frozen=True, slots=True)
class IntakeServices:
    files: S3BatchFiles
    intake: BatchIntake
    orders: BatchOrders


def _build() -> IntakeServices:
    from composition.aws import intake_services as build

    return build(get_settings())


# This process's graph: built by the composition root on first use, once per cold start.
intake_services: ProcessDefault[IntakeServices] = ProcessDefault(_build)
