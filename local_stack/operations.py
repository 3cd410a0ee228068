"""What a person does to the running local stack from the command line: pay as a payer's bank would, read the
emails sent (and the staff's notifications), drop a batch order file, look at and redrive dead letters."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from domain.batch_orders import report_key
from local_stack.config import FAKE_CREDENTIALS, LocalConfig
from platform_spec.messaging import ORDER_ERRORS_TOPIC, PENDING_STOCK_TOPIC, QUEUES
from platform_spec.storage import INTAKE_BUCKET

# The topics whose messages go to the staff by email on AWS.
STAFF_TOPICS = (ORDER_ERRORS_TOPIC, PENDING_STOCK_TOPIC)
REPORT_POLL_SECONDS = 0.2


class OperationFailed(Exception):
    """The local stack answered, but not as hoped; the message says what it said."""


def _client(service: str, config: LocalConfig) -> Any:
    return boto3.client(  # type: ignore[call-overload]
        service,
        endpoint_url=config.emulator_url,
        region_name=config.region,
        aws_access_key_id=FAKE_CREDENTIALS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=FAKE_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
    )


def _call_psp(config: LocalConfig, method: str, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
    request = urllib.request.Request(  # noqa: S310 - the local stack's own address
        f"{config.psp_url}{path}",
        data=None if body is None else json.dumps(body).encode(),
        method=method,
        headers={"content-type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            answer: dict[str, Any] = json.loads(response.read())
            return answer
    except urllib.error.HTTPError as error:
        raise OperationFailed(f"the local PSP answered {error.code}: {error.read().decode()}") from error
    except urllib.error.URLError as error:
        raise OperationFailed(f"cannot reach the local PSP at {config.psp_url}; is `make dev` running?") from error


def pay(
    config: LocalConfig, code: str, *, amount: str | None = None, fail: bool = False, webhook: bool = True
) -> dict[str, Any]:
    """Pay a charge as the customer's bank app would: by its copy-and-paste BR Code or by its txid (the order's
    payment code). The local PSP then calls the platform's webhook, unless `webhook` is False (the reconciliation
    finds the payment then); `fail` is the payer's bank refusing, which the receiving PSP never hears of."""
    # A BR Code is an EMV payload: it begins with its format indicator, "000201"; a txid is 26-35 alphanumerics.
    target = {"brCode": code} if code.startswith("000201") else {"txid": code}
    body: dict[str, Any] = {**target, "fail": fail, "webhook": webhook}
    if amount is not None:
        body["amount"] = amount
    return _call_psp(config, "POST", "/_local/pay", body)


def pix_activity(config: LocalConfig) -> dict[str, list[dict[str, Any]]]:
    """What the local PSP holds: its charges, the Pix it received and their refunds."""
    return {
        "charges": _call_psp(config, "GET", "/_local/charges")["cobs"],
        "pix": _call_psp(config, "GET", "/_local/pix")["pix"],
        "refunds": _call_psp(config, "GET", "/_local/refunds")["devolucoes"],
    }


def _emulator_state(config: LocalConfig) -> dict[str, Any]:
    """Every object the emulator holds, by service and kind (moto's own view, `/moto-api/data.json`)."""
    try:
        with urllib.request.urlopen(f"{config.emulator_url}/moto-api/data.json", timeout=10) as response:  # noqa: S310
            state: dict[str, Any] = json.loads(response.read())
    except urllib.error.URLError as error:
        raise OperationFailed(f"cannot reach {config.emulator_url}; is `make dev` running?") from error
    return state


def sent_emails(config: LocalConfig) -> list[dict[str, Any]]:
    """Every email SES accepted, oldest first, as the emulator recorded them."""
    messages = _emulator_state(config).get("ses", {}).get("Message", [])
    # moto lists the messages; some of its versions keyed them by id instead.
    records = messages.values() if isinstance(messages, dict) else messages
    return [
        {
            "to": message.get("destinations", {}).get("ToAddresses", []),
            "subject": message.get("subject"),
            "body": message.get("body"),
            "source": message.get("source"),
        }
        for message in records
    ]


def staff_notifications(config: LocalConfig) -> list[dict[str, Any]]:
    """What was published on the topics the staff subscribe to by email on AWS (order-errors, pending-stock), each
    topic's oldest first: the local stand-in for those emails.

    Read where the emails are read: moto keeps every message published on a topic (a topic's `sent_notifications`:
    id, message, subject, attributes, group) and its server serves them at /moto-api/data.json. So nothing is
    consumed, and no extra queue has to be subscribed locally that the CDK app does not have.
    """
    names = {topic.topic_name: topic.name for topic in STAFF_TOPICS}
    notifications = []
    for topic in _emulator_state(config).get("sns", {}).get("Topic", []):
        name = names.get(topic.get("name"))
        if name is None:
            continue
        for _, message, subject, *_ in topic.get("sent_notifications", []):
            notifications.append({"topic": name, "subject": subject, "body": message})
    return notifications


def drop_batch_file(config: LocalConfig, path: Path, *, timeout: float) -> tuple[str, dict[str, Any]]:
    """Upload a batch order file to the intake bucket as staff would drop it, and wait for its report.

    Each drop gets a key of its own (`incoming/<UTC time>-<name>`), so each gets its own report; a name that does
    not end in ".json" gets it, since only such keys reach the intake. Returns the key and the report. Raises
    OSError when the file cannot be read, OperationFailed when the stack does not answer or no report comes.
    """
    content = path.read_bytes()
    name = path.name if path.name.endswith(".json") else f"{path.name}.json"
    key = f"incoming/{datetime.now(UTC):%Y%m%dT%H%M%S.%fZ}-{name}"
    s3 = _client("s3", config)
    try:
        s3.put_object(Bucket=INTAKE_BUCKET, Key=key, Body=content, ContentType="application/json")
    except (BotoCoreError, ClientError) as error:
        raise OperationFailed(
            f"cannot drop the file at {config.emulator_url}; is `make dev` running? ({error})"
        ) from error
    deadline = time.monotonic() + timeout
    while True:
        try:
            body = s3.get_object(Bucket=INTAKE_BUCKET, Key=report_key(key))["Body"].read()
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") != "NoSuchKey":
                raise OperationFailed(f"cannot read the report of {key}: {error}") from error
        except BotoCoreError as error:
            raise OperationFailed(f"cannot reach {config.emulator_url}; is `make dev` running? ({error})") from error
        else:
            report: dict[str, Any] = json.loads(body)
            return key, report
        if time.monotonic() > deadline:
            raise OperationFailed(f"no report for {key} after {timeout:g} s; is `make dev` running its intake?")
        time.sleep(REPORT_POLL_SECONDS)


@dataclass(frozen=True, slots=True)
class DeadLetter:
    queue: str
    message_id: str
    receive_count: int
    body: str


def _dead_letter_queues(config: LocalConfig) -> list[tuple[str, str, str]]:
    """(queue name, its URL, its DLQ's URL) for every queue that has a DLQ."""
    sqs = _client("sqs", config)
    return [
        (
            spec.name,
            sqs.get_queue_url(QueueName=spec.queue_name)["QueueUrl"],
            sqs.get_queue_url(QueueName=spec.dlq_name)["QueueUrl"],
        )
        for spec in QUEUES
        if spec.dead_letters
    ]


def dead_letters(config: LocalConfig) -> list[DeadLetter]:
    """Look without taking: each message is received with no visibility timeout, so it stays where it is."""
    sqs = _client("sqs", config)
    letters = []
    for name, _, dlq_url in _dead_letter_queues(config):
        seen: set[str] = set()
        while True:
            batch = sqs.receive_message(
                QueueUrl=dlq_url, MaxNumberOfMessages=10, VisibilityTimeout=0, AttributeNames=["All"]
            ).get("Messages", [])
            fresh = [message for message in batch if message["MessageId"] not in seen]
            if not fresh:
                break
            for message in fresh:
                seen.add(message["MessageId"])
                count = int(message["Attributes"].get("ApproximateReceiveCount", "0"))
                letters.append(DeadLetter(name, message["MessageId"], count, message["Body"]))
    return letters


def redrive(config: LocalConfig, queue: str | None = None) -> int:
    """Move dead letters back to their queue (moto lacks StartMessageMoveTask: receive, send, delete)."""
    sqs = _client("sqs", config)
    moved = 0
    for name, url, dlq_url in _dead_letter_queues(config):
        if queue is not None and name != queue:
            continue
        while True:
            batch = sqs.receive_message(
                QueueUrl=dlq_url,
                MaxNumberOfMessages=10,
                VisibilityTimeout=30,
                AttributeNames=["All"],
                MessageAttributeNames=["All"],
            ).get("Messages", [])
            if not batch:
                break
            for message in batch:
                send: dict[str, Any] = {"QueueUrl": url, "MessageBody": message["Body"]}
                if message.get("MessageAttributes"):
                    send["MessageAttributes"] = message["MessageAttributes"]
                if url.endswith(".fifo"):
                    send["MessageGroupId"] = message["Attributes"].get("MessageGroupId", "redrive")
                    send["MessageDeduplicationId"] = message["MessageId"]
                sqs.send_message(**send)
                sqs.delete_message(QueueUrl=dlq_url, ReceiptHandle=message["ReceiptHandle"])
                moved += 1
    return moved
