"""What a person does to the running local stack from the command line: pay as the provider would, read the
emails sent, look at and redrive dead letters."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass
from typing import Any

import boto3

from local_stack.config import FAKE_CREDENTIALS, LocalConfig
from local_stack.resources import QUEUES
from runtime.settings import Settings
from runtime.webhook_signature import HEADER, sign


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


def pay(config: LocalConfig, code: str, *, fail: bool = False) -> dict[str, Any]:
    """Call the payment webhook exactly as the provider would: a signed POST saying the code was paid (or not)."""
    stored = _client("dynamodb", config).get_item(
        TableName=config.table_name, Key={"PK": {"S": f"PAYMENT#{code}"}, "SK": {"S": "PAYMENT"}}
    )
    # The provider knows what it charged; an unknown code is sent as is, and the webhook answers 404.
    amount = f"{int(stored['Item']['amount_cents']['N']) / 100:.2f}" if "Item" in stored else "0.00"
    notification = {
        "id": f"evt_{uuid.uuid4().hex}",
        "type": "payment.failed" if fail else "payment.confirmed",
        "created": int(time.time()),
        "data": {"code": code, "amount": amount, "currency": "BRL", "reason": "card declined" if fail else ""},
    }
    body = json.dumps(notification).encode()
    secret = Settings.from_env({"APP_ENV": "local"}).saga.webhook_secret
    request = urllib.request.Request(  # noqa: S310 - the local stack's own address
        f"{config.api_url}/webhooks/payments",
        data=body,
        method="POST",
        headers={"content-type": "application/json", HEADER: sign(secret, int(time.time()), body)},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            answer: dict[str, Any] = json.loads(response.read())
            return answer
    except urllib.error.HTTPError as error:
        raise OperationFailed(f"the webhook answered {error.code}: {error.read().decode()}") from error
    except urllib.error.URLError as error:
        raise OperationFailed(f"cannot reach {config.api_url}; is `make dev` running?") from error


def sent_emails(config: LocalConfig) -> list[dict[str, Any]]:
    """Every email SES accepted, oldest first, as the emulator recorded them."""
    try:
        with urllib.request.urlopen(f"{config.emulator_url}/moto-api/data.json", timeout=10) as response:  # noqa: S310
            data = json.loads(response.read())
    except urllib.error.URLError as error:
        raise OperationFailed(f"cannot reach {config.emulator_url}; is `make dev` running?") from error
    messages = data.get("ses", {}).get("Message", [])
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
