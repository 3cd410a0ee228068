"""Every AWS resource of the platform (declared in platform_spec/), created on the local emulator.

Names are fixed locally; on AWS the CDK app creates the same resources and passes their names to the functions.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import boto3

from local_stack.pix_psp import PspSettings
from persistence.schema import TTL_ATTRIBUTE, create_table_request
from platform_spec.email import SES_SENDER
from platform_spec.identity import PASSWORD_POLICY, USER_GROUPS, USER_POOL_CLIENT_NAME, USER_POOL_NAME
from platform_spec.messaging import (
    EVENTS_TOPIC,
    INTAKE_FILES_QUEUE,
    INTAKE_ORDERS_QUEUE,
    MAX_RECEIVES,
    MESSAGE_RETENTION_SECONDS,
    ORDER_ERRORS_TOPIC,
    PENDING_STOCK_TOPIC,
    QUEUES,
    SALES_NOTIFICATIONS_QUEUE,
    TOPICS,
    WS_DELIVERY_QUEUE,
    WS_INIT_TIMEOUT_QUEUE,
    QueueSpec,
)
from platform_spec.storage import BUCKETS, INTAKE_BUCKET, INTAKE_FILE_SUFFIX, INVOICES_BUCKET
from runtime.settings import PIX_CREDENTIALS_SECRET


@dataclass
class Provisioned:
    """What the emulator assigned: ids and addresses the processes need in their environment."""

    table_name: str
    user_pool_id: str
    user_pool_client_id: str
    topic_arns: dict[str, str] = field(default_factory=dict)
    queue_urls: dict[str, str] = field(default_factory=dict)

    def function_environment(self, emulator_url: str) -> dict[str, str]:
        """What the functions read from their environment about these resources (the CDK app sets the same)."""
        return {
            "TABLE_NAME": self.table_name,
            "COGNITO_USER_POOL_ID": self.user_pool_id,
            "COGNITO_CLIENT_ID": self.user_pool_client_id,
            # The emulator serves the pool's keys at its own address; `iss` still names AWS.
            "COGNITO_JWKS_URL": f"{emulator_url}/{self.user_pool_id}/.well-known/jwks.json",
            "EVENTS_TOPIC_ARN": self.topic_arns[EVENTS_TOPIC.name],
            "SALES_NOTIFICATIONS_QUEUE_URL": self.queue_urls[SALES_NOTIFICATIONS_QUEUE.name],
            "SES_SENDER": SES_SENDER,
            "WS_INIT_TIMEOUT_QUEUE_URL": self.queue_urls[WS_INIT_TIMEOUT_QUEUE.name],
            "WS_DELIVERY_QUEUE_URL": self.queue_urls[WS_DELIVERY_QUEUE.name],
            "INVOICES_BUCKET": INVOICES_BUCKET,
            "PENDING_STOCK_TOPIC_ARN": self.topic_arns[PENDING_STOCK_TOPIC.name],
            "ORDER_ERRORS_TOPIC_ARN": self.topic_arns[ORDER_ERRORS_TOPIC.name],
            "INTAKE_ORDERS_QUEUE_URL": self.queue_urls[INTAKE_ORDERS_QUEUE.name],
        }


def _client(service: str, endpoint: str, region: str) -> Any:
    return boto3.client(service, endpoint_url=endpoint, region_name=region)  # type: ignore[call-overload]


def _create_queue(sqs: Any, spec: QueueSpec) -> tuple[str, str]:
    attributes: dict[str, str] = {
        "VisibilityTimeout": str(spec.visibility_timeout),
        "MessageRetentionPeriod": str(MESSAGE_RETENTION_SECONDS),
    }
    if spec.fifo:
        # No content-based deduplication: senders name each message (the intake, by its order id).
        attributes["FifoQueue"] = "true"
    if spec.dead_letters:
        dlq_attributes = {"MessageRetentionPeriod": str(MESSAGE_RETENTION_SECONDS)}
        if spec.fifo:
            dlq_attributes["FifoQueue"] = "true"
        dlq_url = sqs.create_queue(QueueName=spec.dlq_name, Attributes=dlq_attributes)["QueueUrl"]
        dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        attributes["RedrivePolicy"] = json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": MAX_RECEIVES})
    url: str = sqs.create_queue(QueueName=spec.queue_name, Attributes=attributes)["QueueUrl"]
    arn: str = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    return url, arn


def _user_pool(cognito: Any) -> tuple[str, str]:
    pools = cognito.list_user_pools(MaxResults=60)["UserPools"]
    pool_id = next((pool["Id"] for pool in pools if pool["Name"] == USER_POOL_NAME), None)
    if pool_id is None:
        pool_id = cognito.create_user_pool(
            PoolName=USER_POOL_NAME,
            UsernameAttributes=["email"],
            AutoVerifiedAttributes=["email"],
            Policies={"PasswordPolicy": PASSWORD_POLICY},
        )["UserPool"]["Id"]
        for group, description in USER_GROUPS.items():
            cognito.create_group(UserPoolId=pool_id, GroupName=group, Description=description)
    clients = cognito.list_user_pool_clients(UserPoolId=pool_id, MaxResults=60)["UserPoolClients"]
    client_id = next((c["ClientId"] for c in clients if c["ClientName"] == USER_POOL_CLIENT_NAME), None)
    if client_id is None:
        client_id = cognito.create_user_pool_client(
            UserPoolId=pool_id,
            ClientName=USER_POOL_CLIENT_NAME,
            ExplicitAuthFlows=["ALLOW_USER_SRP_AUTH", "ALLOW_ADMIN_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
            # The deployed client may read every attribute (the CDK's default). Without it moto puts the username
            # in the ID token's `email`, and the SPA's SRP sign-in (by the user's id, as Cognito asks) got tokens
            # whose email was that id, which registerClient refused.
            ReadAttributes=["email", "email_verified"],
        )["UserPoolClient"]["ClientId"]
    return str(pool_id), str(client_id)


def provision(endpoint: str, region: str, table_name: str) -> Provisioned:
    """Create every resource on the emulator. Safe to run again: what exists is kept."""
    dynamodb = _client("dynamodb", endpoint, region)
    if table_name not in dynamodb.list_tables()["TableNames"]:
        dynamodb.create_table(**create_table_request(table_name))
        dynamodb.update_time_to_live(
            TableName=table_name, TimeToLiveSpecification={"Enabled": True, "AttributeName": TTL_ATTRIBUTE}
        )

    sns = _client("sns", endpoint, region)
    sqs = _client("sqs", endpoint, region)
    pool_id, client_id = _user_pool(_client("cognito-idp", endpoint, region))
    provisioned = Provisioned(table_name=table_name, user_pool_id=pool_id, user_pool_client_id=client_id)
    for topic in TOPICS:
        provisioned.topic_arns[topic.name] = sns.create_topic(Name=topic.topic_name)["TopicArn"]

    existing = {
        subscription["Endpoint"]
        for subscription in sns.list_subscriptions_by_topic(TopicArn=provisioned.topic_arns[EVENTS_TOPIC.name])[
            "Subscriptions"
        ]
    }
    for spec in QUEUES:
        url, arn = _create_queue(sqs, spec)
        provisioned.queue_urls[spec.name] = url
        if spec.event_types and arn not in existing:
            sns.subscribe(
                TopicArn=provisioned.topic_arns[EVENTS_TOPIC.name],
                Protocol="sqs",
                Endpoint=arn,
                Attributes={
                    "RawMessageDelivery": "true",
                    "FilterPolicy": json.dumps({"eventType": list(spec.event_types)}),
                },
            )

    s3 = _client("s3", endpoint, region)
    for bucket in BUCKETS:
        s3.create_bucket(Bucket=bucket)
    for bucket in BUCKETS:
        # Invoices are legal documents and dropped files are evidence: an overwrite keeps the previous version.
        s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    intake_arn = sqs.get_queue_attributes(
        QueueUrl=provisioned.queue_urls[INTAKE_FILES_QUEUE.name], AttributeNames=["QueueArn"]
    )["Attributes"]["QueueArn"]
    s3.put_bucket_notification_configuration(
        Bucket=INTAKE_BUCKET,
        NotificationConfiguration={
            "QueueConfigurations": [
                {
                    "QueueArn": intake_arn,
                    "Events": ["s3:ObjectCreated:*"],
                    "Filter": {"Key": {"FilterRules": [{"Name": "suffix", "Value": INTAKE_FILE_SUFFIX}]}},
                }
            ]
        },
    )

    _client("ses", endpoint, region).verify_email_identity(EmailAddress=SES_SENDER)
    _pix_credentials(_client("secretsmanager", endpoint, region))
    return provisioned


def _pix_credentials(secretsmanager: Any) -> None:
    """The dealership's credentials at the local PSP, where AWS keeps the real ones (runtime/pix_credentials.py)."""
    # The local PSP's one OAuth2 client; it asks for no client certificate.
    psp = PspSettings()
    value = json.dumps({"clientId": psp.client_id, "clientSecret": psp.client_secret})
    try:
        secretsmanager.create_secret(Name=PIX_CREDENTIALS_SECRET, SecretString=value)
    except secretsmanager.exceptions.ResourceExistsException:
        secretsmanager.put_secret_value(SecretId=PIX_CREDENTIALS_SECRET, SecretString=value)
