"""The CDK template and the local stack describe the same platform: the resources the emulator holds after
`provision()` (what `make dev` runs against) are read back from the emulator and compared, kind by kind, with what
the synthesized template declares. Both are built from platform_spec/ and persistence/schema.py; this
catches the day one of them stops being.

AWS-only additions are left out on purpose, each named below: encryption, alarms, logs, the dead-letter queue of
the SNS subscriptions (a delivery-failure net that the emulator has no deliveries to fail), and the buckets in
AWS_ONLY_BUCKETS (access logs, and the web app's hosting: locally `vehicle-platform dev` serves web/dist itself).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3
import pytest

from local_stack.resources import Provisioned
from platform_spec.messaging import EVENTS_TOPIC, QUEUES, TOPICS, QueueSpec
from platform_spec.storage import BUCKETS, INTAKE_BUCKET, INVOICES_BUCKET
from runtime.settings import Settings

cdk = pytest.importorskip("aws_cdk")

from tests.infra.conftest import Synthesized, synthesize  # noqa: E402

# The template's buckets that have no local counterpart, and why.
AWS_ONLY_BUCKETS: dict[str, Callable[[Any], Any]] = {
    # S3 server access logs of the invoices, intake and web buckets: the emulator writes none.
    "access logs": lambda stack: stack.data.access_logs,
    # The web app's files behind CloudFront: locally local_stack/web_server.py serves web/dist and its config.json.
    "web app": lambda stack: stack.web.bucket,
    # CloudFront's standard logs: there is no CloudFront locally.
    "web app's CDN logs": lambda stack: stack.web.logs,
}


@pytest.fixture(scope="module")
def synthesized(tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    return synthesize(Path(tmp_path_factory.mktemp("cdk.out")))


def _client(service: str, settings: Settings) -> Any:
    return boto3.client(service, endpoint_url=settings.endpoint_url, region_name=settings.region)  # type: ignore[call-overload]


def _logical_id(synthesized: Synthesized, construct: Any) -> str:
    logical: str = synthesized.stack.resolve(construct.node.default_child.logical_id)
    return logical


def _notification(entry: dict[str, Any]) -> dict[str, Any]:
    # Both sides point at the intake-files queue (each checks its own way of naming it).
    return {"queue": "intake-files", "events": sorted(entry["Events"]), "filter": entry["Filter"]["Key"]["FilterRules"]}


def _index(index: dict[str, Any]) -> dict[str, Any]:
    return {"name": index["IndexName"], "keys": index["KeySchema"], "projection": index["Projection"]["ProjectionType"]}


def _queue_shape(fifo: bool, visibility: int, max_receives: int | None, dlq_fifo: bool | None) -> dict[str, Any]:
    return {"fifo": fifo, "visibility": visibility, "maxReceiveCount": max_receives, "dlqFifo": dlq_fifo}


# --- what the template declares ---------------------------------------------------------------------------------


def _declared_queues(synthesized: Synthesized) -> dict[str, dict[str, Any]]:
    messaging = synthesized.stack.messaging
    declared: dict[str, dict[str, Any]] = {}
    for name, queue in messaging.queues.items():
        properties = synthesized.resources[_logical_id(synthesized, queue)]["Properties"]
        redrive = properties.get("RedrivePolicy")
        dlq = messaging.dead_letter_queues.get(name)
        dlq_properties = None if dlq is None else synthesized.resources[_logical_id(synthesized, dlq)]["Properties"]
        declared[name] = _queue_shape(
            bool(properties.get("FifoQueue", False)),
            int(properties.get("VisibilityTimeout", 30)),
            None if redrive is None else int(redrive["maxReceiveCount"]),
            None if dlq_properties is None else bool(dlq_properties.get("FifoQueue", False)),
        )
    return declared


def _declared_subscriptions(synthesized: Synthesized) -> dict[str, dict[str, Any]]:
    """Queue name -> how it subscribes to the events topic (the filter policy, raw delivery)."""
    messaging = synthesized.stack.messaging
    by_logical_id = {_logical_id(synthesized, queue): name for name, queue in messaging.queues.items()}
    events_topic = _logical_id(synthesized, messaging.events_topic)
    declared: dict[str, dict[str, Any]] = {}
    for resource in synthesized.of_type("AWS::SNS::Subscription").values():
        properties = resource["Properties"]
        if properties["Protocol"] != "sqs" or properties["TopicArn"] != {"Ref": events_topic}:
            continue
        queue = by_logical_id[properties["Endpoint"]["Fn::GetAtt"][0]]
        declared[queue] = {
            "filter": {key: sorted(values) for key, values in properties["FilterPolicy"].items()},
            "raw": bool(properties.get("RawMessageDelivery", False)),
        }
    return declared


def _declared_table(synthesized: Synthesized) -> dict[str, Any]:
    [table] = synthesized.of_type("AWS::DynamoDB::Table").values()
    properties = table["Properties"]
    return {
        "keys": properties["KeySchema"],
        "attributes": sorted(properties["AttributeDefinitions"], key=lambda a: a["AttributeName"]),
        "indexes": sorted((_index(i) for i in properties["GlobalSecondaryIndexes"]), key=lambda i: str(i["name"])),
        "stream": properties["StreamSpecification"]["StreamViewType"],
        "ttl": properties["TimeToLiveSpecification"]["AttributeName"],
    }


def _declared_buckets(synthesized: Synthesized) -> dict[str, dict[str, Any]]:
    data = synthesized.stack.data
    declared = {}
    for name, bucket in ((INVOICES_BUCKET, data.invoices), (INTAKE_BUCKET, data.intake)):
        properties = synthesized.resources[_logical_id(synthesized, bucket)]["Properties"]
        versioning = properties.get("VersioningConfiguration", {}).get("Status") == "Enabled"
        declared[name] = {"versioned": versioning, "notifications": []}
    [notifications] = synthesized.of_type("Custom::S3BucketNotifications").values()
    configuration = notifications["Properties"]["NotificationConfiguration"]
    intake_queue = _logical_id(synthesized, synthesized.stack.messaging.queues["intake-files"])
    for entry in configuration.get("QueueConfigurations", []):
        assert entry["QueueArn"] == {"Fn::GetAtt": [intake_queue, "Arn"]}
        declared[INTAKE_BUCKET]["notifications"].append(
            {
                "queue": "intake-files",
                "events": sorted(entry["Events"]),
                "filter": entry["Filter"]["Key"]["FilterRules"],
            }
        )
    return declared


# --- what the emulator holds ------------------------------------------------------------------------------------


def _queue_name_of(arn: str) -> str:
    return arn.rsplit(":", 1)[-1]


def _spec_of(queue_name: str) -> QueueSpec:
    return next(spec for spec in QUEUES if spec.queue_name == queue_name)


def _held_queues(provisioned: Provisioned, settings: Settings) -> dict[str, dict[str, Any]]:
    sqs = _client("sqs", settings)
    held: dict[str, dict[str, Any]] = {}
    for spec in QUEUES:
        attributes = sqs.get_queue_attributes(QueueUrl=provisioned.queue_urls[spec.name], AttributeNames=["All"])[
            "Attributes"
        ]
        redrive = json.loads(attributes["RedrivePolicy"]) if "RedrivePolicy" in attributes else None
        dlq_fifo = None
        if redrive is not None:
            dlq_url = sqs.get_queue_url(QueueName=_queue_name_of(redrive["deadLetterTargetArn"]))["QueueUrl"]
            dlq_attributes = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["All"])["Attributes"]
            dlq_fifo = dlq_attributes.get("FifoQueue") == "true"
        held[spec.name] = _queue_shape(
            attributes.get("FifoQueue") == "true",
            int(attributes["VisibilityTimeout"]),
            None if redrive is None else int(redrive["maxReceiveCount"]),
            dlq_fifo,
        )
    return held


def _held_subscriptions(provisioned: Provisioned, settings: Settings) -> dict[str, dict[str, Any]]:
    sns = _client("sns", settings)
    topic = provisioned.topic_arns[EVENTS_TOPIC.name]
    held: dict[str, dict[str, Any]] = {}
    for subscription in sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]:
        if subscription["Protocol"] != "sqs":
            continue
        attributes = sns.get_subscription_attributes(SubscriptionArn=subscription["SubscriptionArn"])["Attributes"]
        spec = _spec_of(_queue_name_of(subscription["Endpoint"]))
        held[spec.name] = {
            "filter": {key: sorted(values) for key, values in json.loads(attributes["FilterPolicy"]).items()},
            "raw": attributes.get("RawMessageDelivery") == "true",
        }
    return held


def _held_table(settings: Settings) -> dict[str, Any]:
    dynamodb = _client("dynamodb", settings)
    table = dynamodb.describe_table(TableName=settings.table_name)["Table"]
    ttl = dynamodb.describe_time_to_live(TableName=settings.table_name)["TimeToLiveDescription"]
    return {
        "keys": table["KeySchema"],
        "attributes": sorted(table["AttributeDefinitions"], key=lambda a: a["AttributeName"]),
        "indexes": sorted((_index(i) for i in table["GlobalSecondaryIndexes"]), key=lambda i: str(i["name"])),
        "stream": table["StreamSpecification"]["StreamViewType"],
        "ttl": ttl["AttributeName"],
    }


def _held_buckets(provisioned: Provisioned, settings: Settings) -> dict[str, dict[str, Any]]:
    s3 = _client("s3", settings)
    intake_queue_arn = _client("sqs", settings).get_queue_attributes(
        QueueUrl=provisioned.queue_urls["intake-files"], AttributeNames=["QueueArn"]
    )["Attributes"]["QueueArn"]
    held: dict[str, dict[str, Any]] = {}
    for bucket in BUCKETS:
        versioned = s3.get_bucket_versioning(Bucket=bucket).get("Status") == "Enabled"
        configuration = s3.get_bucket_notification_configuration(Bucket=bucket)
        notifications = []
        for entry in configuration.get("QueueConfigurations", []):
            assert entry["QueueArn"] == intake_queue_arn
            notifications.append(
                {
                    "queue": "intake-files",
                    "events": sorted(entry["Events"]),
                    "filter": entry["Filter"]["Key"]["FilterRules"],
                }
            )
        held[bucket] = {"versioned": versioned, "notifications": notifications}
    return held


# --- the comparisons --------------------------------------------------------------------------------------------


def test_every_queue_and_its_dead_letter_queue_is_the_same(
    synthesized: Synthesized, provisioned: Provisioned, settings: Settings
) -> None:
    assert _declared_queues(synthesized) == _held_queues(provisioned, settings)


def test_every_saga_step_subscribes_to_the_same_events(
    synthesized: Synthesized, provisioned: Provisioned, settings: Settings
) -> None:
    declared = _declared_subscriptions(synthesized)
    assert declared == _held_subscriptions(provisioned, settings)
    # And every saga queue is in it: a step without its subscription would never hear of an order.
    assert set(declared) == {spec.name for spec in QUEUES if spec.event_types}


def test_the_topics_are_the_same(synthesized: Synthesized, provisioned: Provisioned) -> None:
    declared = set(synthesized.stack.messaging.topics)
    assert declared == set(provisioned.topic_arns) == {topic.name for topic in TOPICS}
    assert len(synthesized.of_type("AWS::SNS::Topic")) == len(TOPICS) + 1  # and the alarm topic, AWS only


def test_the_table_its_indexes_stream_and_ttl_are_the_same(synthesized: Synthesized, settings: Settings) -> None:
    assert _declared_table(synthesized) == _held_table(settings)


def test_the_buckets_their_versioning_and_notifications_are_the_same(
    synthesized: Synthesized, provisioned: Provisioned, settings: Settings
) -> None:
    declared = _declared_buckets(synthesized)
    assert declared == _held_buckets(provisioned, settings)
    assert declared[INTAKE_BUCKET]["notifications"], "the intake bucket must tell the intake-files queue"


def test_every_bucket_of_the_template_is_a_local_one_or_named_aws_only(synthesized: Synthesized) -> None:
    stack = synthesized.stack
    local = {_logical_id(synthesized, bucket) for bucket in stack.data.buckets.values()}
    aws_only = {_logical_id(synthesized, bucket_of(stack)) for bucket_of in AWS_ONLY_BUCKETS.values()}
    assert set(stack.data.buckets) == set(BUCKETS)
    assert local.isdisjoint(aws_only)
    assert set(synthesized.of_type("AWS::S3::Bucket")) == local | aws_only
