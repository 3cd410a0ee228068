"""Where the platform keeps its state: the single DynamoDB table and the S3 buckets.

The table is built from `persistence/schema.create_table_request`, the call the local stack makes, so its keys,
indexes and stream cannot drift from what PynamoDB and the emulator use.
"""

from __future__ import annotations

from typing import Any

from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_notifications as s3n
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from persistence.schema import TTL_ATTRIBUTE, create_table_request
from platform_spec.storage import BUCKETS, INTAKE_BUCKET, INTAKE_FILE_SUFFIX, INVOICES_BUCKET
from vehicle_platform_infra import suppress

_ATTRIBUTE_TYPES = {
    "S": dynamodb.AttributeType.STRING,
    "N": dynamodb.AttributeType.NUMBER,
    "B": dynamodb.AttributeType.BINARY,
}
# The construct id CDK gives its bucket-notifications handler, one per stack.
_NOTIFICATIONS_HANDLER = "BucketNotificationsHandler050a0587b7544547bf325f094a3db834"
# Batch files and their reports are working material: the orders they carried are in the table, and a report
# older than a quarter answers no question anyone asks.
INTAKE_EXPIRY = Duration.days(90)
# Overwritten or deleted uploads stay this long, to answer "what did the file say before it was replaced?".
NONCURRENT_EXPIRY = Duration.days(30)
# Who fetched which invoice (through its presigned link) is worth a year of history; logs cost little.
ACCESS_LOG_EXPIRY = Duration.days(365)


def _key_schema(
    key_schema: list[dict[str, str]], types: dict[str, str]
) -> tuple[dynamodb.Attribute, dynamodb.Attribute]:
    """The (partition, sort) key attributes of a CreateTable KeySchema."""
    keys = {
        key["KeyType"]: dynamodb.Attribute(
            name=key["AttributeName"], type=_ATTRIBUTE_TYPES[types[key["AttributeName"]]]
        )
        for key in key_schema
    }
    return keys["HASH"], keys["RANGE"]


def private_bucket(scope: Construct, id: str, *, removal_policy: RemovalPolicy, **properties: Any) -> s3.Bucket:
    """Every bucket of the platform: SSE-S3 (server access logs can only be delivered to such a bucket, and a
    presigned GET then needs only s3:GetObject, no KMS call per download), TLS only, never public, owned by us
    (`object_ownership` may be overridden where a service still writes with ACLs: CloudFront's standard logs).
    Emptied and deleted with the stack only when the stack is a throw-away one (`removal_policy` DESTROY)."""
    settings: dict[str, Any] = {
        "encryption": s3.BucketEncryption.S3_MANAGED,
        "enforce_ssl": True,
        "block_public_access": s3.BlockPublicAccess.BLOCK_ALL,
        "object_ownership": s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
        "removal_policy": removal_policy,
        "auto_delete_objects": removal_policy != RemovalPolicy.RETAIN,
    }
    return s3.Bucket(scope, id, **{**settings, **properties})


class Data(Construct):
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        removal_policy: RemovalPolicy,
        intake_files_queue: sqs.IQueue,
        invoice_versioning: bool,
    ) -> None:
        super().__init__(scope, id)
        retain = removal_policy == RemovalPolicy.RETAIN

        # The name is only the local stack's: on AWS, CloudFormation names the table and the functions are told.
        request: dict[str, Any] = create_table_request("unused")
        types = {
            attribute["AttributeName"]: attribute["AttributeType"] for attribute in request["AttributeDefinitions"]
        }
        partition_key, sort_key = _key_schema(request["KeySchema"], types)
        self.table = dynamodb.Table(
            self,
            "Table",
            partition_key=partition_key,
            sort_key=sort_key,
            billing_mode=dynamodb.BillingMode(request["BillingMode"]),
            stream=dynamodb.StreamViewType(request["StreamSpecification"]["StreamViewType"]),
            time_to_live_attribute=TTL_ATTRIBUTE,
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            # Every order, sale and invoice lives here: a stack deletion or replacement must not take it along.
            deletion_protection=retain,
            removal_policy=removal_policy,
        )
        for index in request["GlobalSecondaryIndexes"]:
            partition_key, sort_key = _key_schema(index["KeySchema"], types)
            self.table.add_global_secondary_index(
                index_name=index["IndexName"],
                partition_key=partition_key,
                sort_key=sort_key,
                projection_type=dynamodb.ProjectionType(index["Projection"]["ProjectionType"]),
            )

        def bucket(id: str, **properties: Any) -> s3.Bucket:
            return private_bucket(self, id, removal_policy=removal_policy, **properties)

        self.access_logs = bucket(
            "AccessLogs", lifecycle_rules=[s3.LifecycleRule(id="expire-logs", expiration=ACCESS_LOG_EXPIRY)]
        )
        suppress(
            self.access_logs,
            ["AwsSolutions-S1"],
            "This is the access-log bucket of the invoices and intake buckets; logging it into itself would log "
            "every log delivery, and another bucket for its logs would only move the question.",
        )

        # Invoice documents (notas fiscais: the buyer's CPF, the items, the totals), read through presigned links.
        self.invoices = bucket(
            "Invoices",
            # An invoice is a fiscal document: versions keep it recoverable for a month after an overwrite or a
            # deletion (a retried sale step rewrites the same bytes, so that adds little).
            versioned=invoice_versioning,
            lifecycle_rules=(
                [s3.LifecycleRule(id="expire-noncurrent", noncurrent_version_expiration=NONCURRENT_EXPIRY)]
                if invoice_versioning
                else None
            ),
            server_access_logs_bucket=self.access_logs,
            server_access_logs_prefix="invoices/",
        )

        # Batch order files dropped by the staff, and the reports written next to them.
        self.intake = bucket(
            "Intake",
            # Versioned as locally: a notification names the version it speaks of, so a file replaced before it is
            # read is still read as it was dropped (sagas/intake_adapters.py).
            versioned=True,
            lifecycle_rules=[
                s3.LifecycleRule(
                    id="expire-files",
                    expiration=INTAKE_EXPIRY,
                    noncurrent_version_expiration=NONCURRENT_EXPIRY,
                    abort_incomplete_multipart_upload_after=Duration.days(1),
                )
            ],
            server_access_logs_bucket=self.access_logs,
            server_access_logs_prefix="intake/",
        )
        self.intake.add_event_notification(
            s3.EventType.OBJECT_CREATED,
            s3n.SqsDestination(intake_files_queue),
            s3.NotificationKeyFilter(suffix=INTAKE_FILE_SUFFIX),
        )
        # CloudFormation cannot declare the notification on the bucket itself here (the queue's policy must exist
        # first and names the bucket), so CDK sets it with a custom resource of its own: one function per stack.
        notifications_handler = Stack.of(self).node.try_find_child(_NOTIFICATIONS_HANDLER)
        if notifications_handler is not None:
            suppress(
                notifications_handler.node.find_child("Role"),
                ["AwsSolutions-IAM4"],
                "CDK's bucket-notifications handler, a function that runs only while deploying, to put this "
                "notification configuration; the managed policy gives it its logs. A role of our own "
                "(notifications_handler_role) would need the same log permissions on a log-group wildcard, which "
                "says no less.",
                applies_to=["Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"],
            )

        # The local stack's bucket names, mapped to the buckets that play their part here.
        self.buckets: dict[str, s3.Bucket] = {INVOICES_BUCKET: self.invoices, INTAKE_BUCKET: self.intake}
        if set(self.buckets) != set(BUCKETS):
            raise ValueError("platform_spec/storage.py declares a bucket that has no counterpart here")
