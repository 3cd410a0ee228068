"""The saga's ports on AWS: SNS for events, SES for email, SQS for the sales feed."""

from __future__ import annotations

import json
from typing import Any

import boto3

from domain.notifications import Email
from runtime.telemetry import continue_trace, trace_continued


class SnsEventPublisher:
    """Publishes an outbox record's event on the domain events topic; the type rides as a message attribute so
    that each step's queue subscription filters on it."""

    def __init__(self, topic_arn: str, client: Any | None = None) -> None:
        self._topic_arn = topic_arn
        self._sns = client or boto3.client("sns")
        continue_trace(self._sns, "sns.Publish")

    def publish(self, event_type: str, body: str, order_id: str, trace_header: str | None = None) -> None:
        # The publish continues the trace of the work that committed the event (not the relay's own), and SNS
        # carries it on to the steps' queues: a sale is one trace from placeOrder to its email.
        with trace_continued(trace_header):
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


# SNS subjects: printable ASCII, fewer than 100 characters. The message carries the full text.
_SUBJECT_MAX = 99


def sns_subject(text: str) -> str:
    printable = "".join(char if " " <= char <= "~" else "?" for char in text)
    return printable[:_SUBJECT_MAX]


class SnsStaffAlerts:
    """A topic the staff subscribe to (by email on AWS): the pending-stock notifications."""

    def __init__(self, topic_arn: str, client: Any | None = None) -> None:
        self._topic_arn = topic_arn
        self._sns = client or boto3.client("sns")

    def publish(self, subject: str, message: dict[str, Any]) -> None:
        self._sns.publish(
            TopicArn=self._topic_arn,
            Subject=sns_subject(subject),
            Message=json.dumps(message, ensure_ascii=False, indent=2),
        )


class SqsSalesFeed:
    def __init__(self, queue_url: str, client: Any | None = None) -> None:
        self._queue_url = queue_url
        self._sqs = client or boto3.client("sqs")

    def publish(self, notice: dict[str, Any]) -> None:
        self._sqs.send_message(QueueUrl=self._queue_url, MessageBody=json.dumps(notice))
