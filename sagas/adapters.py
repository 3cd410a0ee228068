"""The saga's ports on AWS: SNS for events, SES for email, SQS for the sales feed; and the payment provider."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import datetime
from typing import Any

import boto3

from domain.notifications import Email
from domain.values import Money


class SnsEventPublisher:
    """Publishes an outbox record's event on the domain events topic; the type rides as a message attribute so
    that each step's queue subscription filters on it."""

    def __init__(self, topic_arn: str, client: Any | None = None) -> None:
        self._topic_arn = topic_arn
        self._sns = client or boto3.client("sns")

    def publish(self, event_type: str, body: str, order_id: str) -> None:
        self._sns.publish(
            TopicArn=self._topic_arn,
            Message=body,
            MessageAttributes={
                "eventType": {"DataType": "String", "StringValue": event_type},
                "orderId": {"DataType": "String", "StringValue": order_id},
            },
        )


class SesMailer:
    def __init__(self, sender: str, client: Any | None = None) -> None:
        self._sender = sender
        self._ses = client or boto3.client("ses")

    def send(self, email: Email) -> None:
        self._ses.send_email(
            Source=self._sender,
            Destination={"ToAddresses": [email.to]},
            Message={
                "Subject": {"Data": email.subject, "Charset": "UTF-8"},
                "Body": {"Text": {"Data": email.body, "Charset": "UTF-8"}},
            },
        )


class SqsSalesFeed:
    def __init__(self, queue_url: str, client: Any | None = None) -> None:
        self._queue_url = queue_url
        self._sqs = client or boto3.client("sqs")

    def publish(self, notice: dict[str, Any]) -> None:
        self._sqs.send_message(QueueUrl=self._queue_url, MessageBody=json.dumps(notice))


class SimulatedPaymentProvider:
    """Stands in for the payment service provider (a Pix or boleto issuer): issues payment codes.

    Like a real provider it is idempotent on the caller's key: the same key always yields the same code, so a
    retried saga step never creates a second charge. A real provider's adapter implements the same port; its
    confirmations arrive through the signed webhook either way (`vehicle-platform pay` plays that part locally).
    """

    def __init__(self, secret: bytes) -> None:
        self._secret = secret

    def create_charge(
        self,
        *,
        idempotency_key: str,
        amount: Money,
        expires_at: datetime,  # noqa: ARG002 - a real provider enforces it; here the saga's expiry sweep does
    ) -> str:
        # Key and amount only: a retried step asks at another moment, and must still get the same code.
        digest = hmac.new(self._secret, f"{idempotency_key}|{amount}".encode(), hashlib.sha256).digest()
        return "PAY-" + base64.b32encode(digest).decode()[:12]
