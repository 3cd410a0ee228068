"""The synthesized template says what the platform needs, and agrees with the local stack's declarations."""

from __future__ import annotations

import importlib
import json
from collections.abc import Iterator, Mapping
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Match

from local_stack.resources import Provisioned
from persistence.keys import OUTBOX_PREFIX
from persistence.schema import TTL_ATTRIBUTE, create_table_request
from platform_spec.functions import (
    CONNECTION_KEEPALIVE,
    GRAPHQL_API,
    INTAKE_FILES,
    INTAKE_ORDERS,
    OUTBOX_RELAY,
    PAYMENT_EXPIRY,
    PIX_WEBHOOK,
    REALTIME_DELIVERY,
    REALTIME_FANOUT,
    SAGA_STEPS,
    WS_CONNECT,
    WS_DEFAULT,
    WS_INIT_TIMEOUT,
)
from platform_spec.identity import PASSWORD_POLICY, USER_GROUPS
from platform_spec.messaging import (
    INTAKE_FILES_QUEUE,
    MAX_RECEIVES,
    MESSAGE_RETENTION_SECONDS,
    QUEUES,
    SAGA_QUEUES,
    TOPICS,
)
from platform_spec.routes import STEP_SUBSCRIPTIONS
from platform_spec.storage import BUCKETS, INTAKE_FILE_SUFFIX
from runtime.settings import Settings
from tests.infra.conftest import Synthesized, synthesize
from vehicle_platform_infra.bundling import LAMBDA_PYTHON
from vehicle_platform_infra.functions import FANOUT_FILTERS, FUNCTIONS, RELAY_FILTERS, logical_id
from vehicle_platform_infra.stack import ConfigurationError, PlatformConfig

# Keys the local stack sets that AWS does without: the emulator serves the pool's keys at its own address, while on
# AWS runtime/settings.py derives them from the pool's issuer.
LOCAL_ONLY_ENVIRONMENT = {"COGNITO_JWKS_URL"}
# Read by Powertools, not by runtime/settings.py.
POWERTOOLS_ENVIRONMENT = {"POWERTOOLS_SERVICE_NAME", "LOG_LEVEL"}
SQS_FED = {
    **{step: step for step in SAGA_STEPS},
    WS_INIT_TIMEOUT: "ws-init-timeout",
    REALTIME_DELIVERY: "ws-delivery",
    INTAKE_FILES: INTAKE_FILES,
    INTAKE_ORDERS: INTAKE_ORDERS,
}
STREAM_FED = {OUTBOX_RELAY: RELAY_FILTERS, REALTIME_FANOUT: FANOUT_FILTERS}


def ref(construct: Any) -> dict[str, str]:
    return {"Ref": logical_id(construct)}


def arn(construct: Any) -> dict[str, list[str]]:
    return {"Fn::GetAtt": [logical_id(construct), "Arn"]}


def statements(synthesized: Synthesized, function_name: str) -> list[dict[str, Any]]:
    """Every IAM statement of a function's role (its default policy; the role has no other)."""
    role = logical_id(synthesized.stack.functions.roles[function_name])
    found = []
    for policy in synthesized.of_type("AWS::IAM::Policy").values():
        if {"Ref": role} in policy["Properties"]["Roles"]:
            found.extend(policy["Properties"]["PolicyDocument"]["Statement"])
    return found


def actions(statement: Mapping[str, Any]) -> list[str]:
    action = statement["Action"]
    return [action] if isinstance(action, str) else list(action)


def resources(statement: Mapping[str, Any]) -> list[Any]:
    resource = statement["Resource"]
    return resource if isinstance(resource, list) else [resource]


def allowed(synthesized: Synthesized, function_name: str, action: str) -> list[Any]:
    """The resources a function's role may use `action` on."""
    return [
        resource
        for statement in statements(synthesized, function_name)
        if statement["Effect"] == "Allow" and action in actions(statement)
        for resource in resources(statement)
    ]


def function_properties(synthesized: Synthesized, name: str) -> dict[str, Any]:
    properties: dict[str, Any] = synthesized.resources[logical_id(synthesized.stack.functions[name])]["Properties"]
    return properties


# -- the table ------------------------------------------------------------------------------------------------


def test_the_table_is_the_schema_the_local_stack_creates(synthesized: Synthesized) -> None:
    request = create_table_request("any")
    table = synthesized.resources[logical_id(synthesized.stack.data.table)]
    properties = table["Properties"]
    assert properties["KeySchema"] == request["KeySchema"]
    assert sorted(properties["AttributeDefinitions"], key=str) == sorted(request["AttributeDefinitions"], key=str)
    assert properties["GlobalSecondaryIndexes"] == request["GlobalSecondaryIndexes"]
    assert properties["BillingMode"] == request["BillingMode"] == "PAY_PER_REQUEST"
    assert properties["StreamSpecification"] == {"StreamViewType": request["StreamSpecification"]["StreamViewType"]}
    assert properties["StreamSpecification"]["StreamViewType"] == "NEW_AND_OLD_IMAGES"
    assert properties["TimeToLiveSpecification"] == {"AttributeName": TTL_ATTRIBUTE, "Enabled": True}
    assert properties["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}


def test_the_table_outlives_the_stack_unless_told_otherwise(synthesized: Synthesized) -> None:
    table = synthesized.resources[logical_id(synthesized.stack.data.table)]
    assert table["Properties"]["DeletionProtectionEnabled"] is True
    assert table["DeletionPolicy"] == table["UpdateReplacePolicy"] == "Retain"


# -- topics, queues, subscriptions ----------------------------------------------------------------------------


def test_every_topic_of_the_local_stack_exists_encrypted_and_tls_only(synthesized: Synthesized) -> None:
    messaging = synthesized.stack.messaging
    assert set(messaging.topics) == {topic.name for topic in TOPICS}
    for topic in messaging.topics.values():
        properties = synthesized.resources[logical_id(topic)]["Properties"]
        assert properties["KmsMasterKeyId"] == arn(messaging.topic_key)
        # A published event continues its publisher's trace into the queues (runtime/telemetry.py).
        assert properties["TracingConfig"] == "Active"
    synthesized.template.has_resource_properties(
        "AWS::KMS::Key", {"EnableKeyRotation": True, "Description": Match.string_like_regexp("SNS topics")}
    )
    policies = synthesized.of_type("AWS::SNS::TopicPolicy").values()
    tls_only = [
        topics
        for policy in policies
        for topics in policy["Properties"]["Topics"]
        if any(
            statement["Effect"] == "Deny" and statement.get("Condition") == {"Bool": {"aws:SecureTransport": "false"}}
            for statement in policy["Properties"]["PolicyDocument"]["Statement"]
        )
    ]
    for topic in messaging.topics.values():
        assert ref(topic) in tls_only


def test_every_queue_of_the_local_stack_exists_with_its_dead_letter_queue(synthesized: Synthesized) -> None:
    messaging = synthesized.stack.messaging
    assert set(messaging.queues) == {spec.name for spec in QUEUES}
    for spec in QUEUES:
        queue = synthesized.resources[logical_id(messaging.queues[spec.name])]["Properties"]
        dlq = synthesized.resources[logical_id(messaging.dead_letter_queues[spec.name])]["Properties"]
        assert queue["VisibilityTimeout"] == spec.visibility_timeout, spec.name
        assert queue["RedrivePolicy"] == {
            "deadLetterTargetArn": arn(messaging.dead_letter_queues[spec.name]),
            "maxReceiveCount": MAX_RECEIVES,
        }
        assert MAX_RECEIVES == 3
        for properties in (queue, dlq):
            assert properties["MessageRetentionPeriod"] == MESSAGE_RETENTION_SECONDS
            assert properties["SqsManagedSseEnabled"] is True
            assert properties.get("FifoQueue", False) is spec.fifo, spec.name


def test_the_intake_orders_queue_is_fifo_without_content_based_deduplication(synthesized: Synthesized) -> None:
    messaging = synthesized.stack.messaging
    queue = synthesized.resources[logical_id(messaging.queues[INTAKE_ORDERS])]["Properties"]
    dlq = synthesized.resources[logical_id(messaging.dead_letter_queues[INTAKE_ORDERS])]["Properties"]
    assert queue["FifoQueue"] is True
    assert queue["ContentBasedDeduplication"] is False
    assert dlq["FifoQueue"] is True
    assert "QueueName" not in queue  # CloudFormation names it, with the .fifo suffix


def test_queues_accept_tls_only(synthesized: Synthesized) -> None:
    denied = [
        queue
        for policy in synthesized.of_type("AWS::SQS::QueuePolicy").values()
        for queue in policy["Properties"]["Queues"]
        if any(
            statement["Effect"] == "Deny" and statement.get("Condition") == {"Bool": {"aws:SecureTransport": "false"}}
            for statement in policy["Properties"]["PolicyDocument"]["Statement"]
        )
    ]
    for name in synthesized.of_type("AWS::SQS::Queue"):
        assert {"Ref": name} in denied, name


def subscriptions(synthesized: Synthesized, topic: Any) -> Iterator[dict[str, Any]]:
    for subscription in synthesized.of_type("AWS::SNS::Subscription").values():
        if subscription["Properties"]["TopicArn"] == ref(topic):
            yield subscription["Properties"]


def test_each_saga_step_subscribes_to_exactly_the_events_its_consumer_accepts(synthesized: Synthesized) -> None:
    messaging = synthesized.stack.messaging
    by_endpoint = {
        json.dumps(subscription["Endpoint"], sort_keys=True): subscription
        for subscription in subscriptions(synthesized, messaging.events_topic)
    }
    assert len(by_endpoint) == len(STEP_SUBSCRIPTIONS) == len(SAGA_QUEUES)
    for step, event_types in STEP_SUBSCRIPTIONS.items():
        subscription = by_endpoint[json.dumps(arn(messaging.queues[step]), sort_keys=True)]
        assert subscription["Protocol"] == "sqs"
        assert subscription["RawMessageDelivery"] is True
        assert subscription["FilterPolicy"] == {"eventType": sorted(event_type.value for event_type in event_types)}
        assert subscription["RedrivePolicy"] == {"deadLetterTargetArn": arn(messaging.subscription_dead_letters)}


def test_staff_topics_have_no_subscriber_unless_a_staff_email_is_given(
    synthesized: Synthesized, tmp_path_factory: pytest.TempPathFactory
) -> None:
    messaging = synthesized.stack.messaging
    assert list(subscriptions(synthesized, messaging.order_errors_topic)) == []

    with_staff = synthesize(tmp_path_factory.mktemp("staff"), staffEmail="estoque@concessionaria.example.com")
    staff_messaging = with_staff.stack.messaging
    for topic in (staff_messaging.order_errors_topic, staff_messaging.pending_stock_topic):
        (subscription,) = subscriptions(with_staff, topic)
        assert subscription["Protocol"] == "email"
        assert subscription["Endpoint"] == "estoque@concessionaria.example.com"
        assert subscription["RedrivePolicy"] == {"deadLetterTargetArn": arn(staff_messaging.subscription_dead_letters)}


# -- buckets --------------------------------------------------------------------------------------------------


def test_every_bucket_of_the_local_stack_is_private_encrypted_and_logged(synthesized: Synthesized) -> None:
    data = synthesized.stack.data
    assert set(data.buckets) == set(BUCKETS)
    for bucket in data.buckets.values():
        properties = synthesized.resources[logical_id(bucket)]["Properties"]
        assert properties["BucketEncryption"] == {
            "ServerSideEncryptionConfiguration": [{"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]
        }
        assert properties["PublicAccessBlockConfiguration"] == {
            "BlockPublicAcls": True,
            "BlockPublicPolicy": True,
            "IgnorePublicAcls": True,
            "RestrictPublicBuckets": True,
        }
        assert properties["LoggingConfiguration"]["DestinationBucketName"] == ref(data.access_logs)
        synthesized.template.has_resource_properties(
            "AWS::S3::BucketPolicy",
            {
                "Bucket": ref(bucket),
                "PolicyDocument": {
                    "Statement": Match.array_with(
                        [Match.object_like({"Effect": "Deny", "Condition": {"Bool": {"aws:SecureTransport": "false"}}})]
                    )
                },
            },
        )


def test_the_intake_bucket_is_versioned_expires_old_files_and_notifies_the_intake_queue(
    synthesized: Synthesized,
) -> None:
    data, messaging = synthesized.stack.data, synthesized.stack.messaging
    properties = synthesized.resources[logical_id(data.intake)]["Properties"]
    assert properties["VersioningConfiguration"] == {"Status": "Enabled"}
    (rule,) = properties["LifecycleConfiguration"]["Rules"]
    assert rule["Status"] == "Enabled"
    assert rule["ExpirationInDays"] > 0
    assert rule["NoncurrentVersionExpiration"]["NoncurrentDays"] > 0
    synthesized.template.has_resource_properties(
        "Custom::S3BucketNotifications",
        {
            "BucketName": ref(data.intake),
            "NotificationConfiguration": {
                "QueueConfigurations": [
                    {
                        "Events": ["s3:ObjectCreated:*"],
                        "Filter": {"Key": {"FilterRules": [{"Name": "suffix", "Value": INTAKE_FILE_SUFFIX}]}},
                        "QueueArn": arn(messaging.queues[INTAKE_FILES_QUEUE.name]),
                    }
                ]
            },
        },
    )


def test_invoice_versions_are_kept(synthesized: Synthesized) -> None:
    properties = synthesized.resources[logical_id(synthesized.stack.data.invoices)]["Properties"]
    assert properties["VersioningConfiguration"] == {"Status": "Enabled"}


# -- auth and email -------------------------------------------------------------------------------------------


def test_the_user_pool_signs_in_by_email_with_the_local_password_policy(synthesized: Synthesized) -> None:
    synthesized.template.has_resource_properties(
        "AWS::Cognito::UserPool",
        {
            "UsernameAttributes": ["email"],
            "AutoVerifiedAttributes": ["email"],
            "Policies": {"PasswordPolicy": Match.object_like(dict(PASSWORD_POLICY))},
            "MfaConfiguration": "OPTIONAL",
        },
    )
    groups = {group["Properties"]["GroupName"] for group in synthesized.of_type("AWS::Cognito::UserPoolGroup").values()}
    assert groups == set(USER_GROUPS)
    synthesized.template.has_resource_properties(
        "AWS::Cognito::UserPoolClient",
        {
            "GenerateSecret": False,
            "ExplicitAuthFlows": ["ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
            "AllowedOAuthFlowsUserPoolClient": False,
        },
    )


def test_the_ses_identity_is_the_sender(synthesized: Synthesized) -> None:
    sender = synthesized.stack.config.ses_sender
    synthesized.template.has_resource_properties("AWS::SES::EmailIdentity", {"EmailIdentity": sender})
    for name in FUNCTIONS:
        assert function_properties(synthesized, name)["Environment"]["Variables"]["SES_SENDER"] == sender


# -- functions ------------------------------------------------------------------------------------------------


def test_one_function_per_handler_each_importable(synthesized: Synthesized) -> None:
    from sagas import consumers, intake

    assert set(SAGA_STEPS) == set(consumers.HANDLERS) == set(STEP_SUBSCRIPTIONS)
    assert {INTAKE_FILES, INTAKE_ORDERS} == set(intake.HANDLERS)
    for name, spec in FUNCTIONS.items():
        module, _, attribute = spec.handler.rpartition(".")
        assert callable(getattr(importlib.import_module(module), attribute)), spec.handler
        assert function_properties(synthesized, name)["Handler"] == spec.handler
    for step, handler in consumers.HANDLERS.items():
        assert FUNCTIONS[step].handler == f"sagas.consumers.{handler.__name__}"
    for queue, handler in intake.HANDLERS.items():
        assert FUNCTIONS[queue].handler == f"sagas.intake.{handler.__name__}"
    assert len(synthesized.stack.functions.functions) == len(FUNCTIONS)


def test_functions_run_on_arm64_python_with_tracing_and_json_logs_kept_a_month(synthesized: Synthesized) -> None:
    for name in FUNCTIONS:
        properties = function_properties(synthesized, name)
        assert properties["Runtime"] == f"python{LAMBDA_PYTHON}", name
        assert properties["Architectures"] == ["arm64"]
        assert properties["TracingConfig"] == {"Mode": "Active"}
        logging = properties["LoggingConfig"]
        assert logging["LogFormat"] == "JSON"
        assert logging["ApplicationLogLevel"] == properties["Environment"]["Variables"]["LOG_LEVEL"] == "INFO"
        log_group = synthesized.resources[logging["LogGroup"]["Ref"]]
        assert log_group["Properties"]["RetentionInDays"] == 30
        assert properties["MemorySize"] > 128
        assert properties["Environment"]["Variables"]["POWERTOOLS_SERVICE_NAME"] == name
    roles = [function_properties(synthesized, name)["Role"] for name in FUNCTIONS]
    assert len({json.dumps(role) for role in roles}) == len(FUNCTIONS), "each function has a role of its own"


def test_request_functions_time_out_after_what_a_request_needs(synthesized: Synthesized) -> None:
    # A last line behind the document limits: a request that runs away burns seconds, not the 29 s maximum.
    for name in (GRAPHQL_API, WS_DEFAULT):
        assert function_properties(synthesized, name)["Timeout"] == 5, name


def test_queue_consumers_time_out_well_within_their_queues_visibility(synthesized: Synthesized) -> None:
    visibility = {spec.name: spec.visibility_timeout for spec in QUEUES}
    for name, queue in SQS_FED.items():
        # AWS's advice for SQS event sources: visibility at least six times the function's timeout.
        assert function_properties(synthesized, name)["Timeout"] * 6 <= visibility[queue], name


def test_every_function_gets_the_environment_the_local_stack_gives_its_processes(synthesized: Synthesized) -> None:
    local = Provisioned(
        table_name="t",
        user_pool_id="p",
        user_pool_client_id="c",
        topic_arns={topic.name: "arn" for topic in TOPICS},
        queue_urls={queue.name: "url" for queue in QUEUES},
    ).function_environment("http://emulator")
    for name in FUNCTIONS:
        variables = function_properties(synthesized, name)["Environment"]["Variables"]
        missing = set(local) - LOCAL_ONLY_ENVIRONMENT - set(variables)
        assert not missing, f"{name} lacks {missing}"
        assert set(variables) & LOCAL_ONLY_ENVIRONMENT == set()
        # Settings refuse to start outside local mode without it: a dynamic reference to the generated secret.
        assert "{{resolve:secretsmanager:" in json.dumps(variables["CURSOR_SECRET"])
    webhook = function_properties(synthesized, PIX_WEBHOOK)["Environment"]["Variables"]
    assert webhook["PIX_WEBHOOK_SECRET"].startswith("{{resolve:secretsmanager:vehicle-platform/pix-webhook:")
    for poster in (REALTIME_FANOUT, REALTIME_DELIVERY):
        posting = function_properties(synthesized, poster)["Environment"]["Variables"]
        assert "execute-api" in json.dumps(posting["WS_MANAGEMENT_URL"])
        assert posting["WS_MANAGEMENT_URL"]["Fn::Join"][1][-1].endswith("/live")
    for name in set(FUNCTIONS) - {PIX_WEBHOOK}:
        assert "PIX_WEBHOOK_SECRET" not in function_properties(synthesized, name)["Environment"]["Variables"]
    # Every function may build the saga: each is told where the PSP is, never its credentials.
    for name in FUNCTIONS:
        variables = function_properties(synthesized, name)["Environment"]["Variables"]
        assert variables["PIX_API_URL"] == "https://pix-h.psp.example/api/v2"
        assert variables["PIX_CREDENTIALS_SECRET"] == "vehicle-platform/pix-credentials"


class _Recording(dict[str, str]):
    """An environment that remembers which variables were asked for."""

    def __init__(self, values: Mapping[str, str]) -> None:
        super().__init__(values)
        self.asked: set[str] = set()

    def get(self, key: str, default: Any = None) -> Any:
        self.asked.add(key)
        return super().get(key, default)

    def __getitem__(self, key: str) -> str:
        self.asked.add(key)
        return super().__getitem__(key)


def test_the_functions_environment_holds_only_what_the_settings_read(synthesized: Synthesized) -> None:
    environment = _Recording({"CURSOR_SECRET": "x", "APP_ENV": "aws"})
    Settings.from_env(environment)
    for name in FUNCTIONS:
        variables = set(function_properties(synthesized, name)["Environment"]["Variables"])
        assert variables - POWERTOOLS_ENVIRONMENT <= environment.asked, name


def test_sqs_event_sources_report_partial_batch_failures(synthesized: Synthesized) -> None:
    mappings = synthesized.of_type("AWS::Lambda::EventSourceMapping").values()
    messaging = synthesized.stack.messaging
    for name, queue in SQS_FED.items():
        (mapping,) = [
            m["Properties"] for m in mappings if m["Properties"]["EventSourceArn"] == arn(messaging.queues[queue])
        ]
        assert mapping["FunctionName"] == ref(synthesized.stack.functions[name])
        # A delivery batch is a few hundred posts already: one per invocation.
        assert mapping["BatchSize"] == (1 if name == REALTIME_DELIVERY else 10)
        assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert len(mappings) == len(SQS_FED) + len(STREAM_FED)


def test_stream_event_sources_bisect_retry_and_keep_what_failed(synthesized: Synthesized) -> None:
    functions = synthesized.stack.functions
    table_stream = {"Fn::GetAtt": [logical_id(synthesized.stack.data.table), "StreamArn"]}
    for name, filters in STREAM_FED.items():
        synthesized.template.has_resource_properties(
            "AWS::Lambda::EventSourceMapping",
            {
                "FunctionName": ref(functions[name]),
                "EventSourceArn": table_stream,
                "StartingPosition": "LATEST",
                "FunctionResponseTypes": ["ReportBatchItemFailures"],
                "BisectBatchOnFunctionError": True,
                "MaximumRetryAttempts": Match.any_value(),
                "DestinationConfig": {"OnFailure": {"Destination": arn(functions.stream_failures[name])}},
                "FilterCriteria": {
                    "Filters": [{"Pattern": json.dumps(pattern, separators=(",", ":"))} for pattern in filters]
                },
            },
        )


def _matches(pattern: Mapping[str, Any], event: Mapping[str, Any]) -> bool:
    """Lambda's event filtering, for the rules used here: nested keys, lists of values or of prefixes."""
    for key, rule in pattern.items():
        value = event.get(key)
        if isinstance(rule, Mapping):
            if not isinstance(value, Mapping) or not _matches(rule, value):
                return False
        elif not any(
            (isinstance(option, Mapping) and isinstance(value, str) and value.startswith(option["prefix"]))
            or option == value
            for option in rule
        ):
            return False
    return True


def _record(event_name: str, key: str) -> dict[str, Any]:
    return {"eventName": event_name, "dynamodb": {"Keys": {"PK": {"S": key}}, "NewImage": {"PK": {"S": key}}}}


def test_stream_filters_pass_what_the_handlers_act_upon_and_nothing_else() -> None:
    from persistence.models import OrderItem, OutboxItem, ProductItem, VehicleItem

    outbox, product = f"{OutboxItem.PREFIX}event-1", ProductItem.key("SKU-1")[0]
    order, vehicle = OrderItem.key("order-1")[0], VehicleItem.key("vehicle-1")[0]
    assert OUTBOX_PREFIX == OutboxItem.PREFIX

    def relayed(record: dict[str, Any]) -> bool:
        return any(_matches(pattern, record) for pattern in RELAY_FILTERS)

    def fanned_out(record: dict[str, Any]) -> bool:
        return any(_matches(pattern, record) for pattern in FANOUT_FILTERS)

    # sagas/relay.py publishes new outbox records; sagas/restock.py looks at products written.
    assert relayed(_record("INSERT", outbox))
    assert relayed(_record("MODIFY", product))
    assert relayed(_record("INSERT", product))
    assert not relayed(_record("MODIFY", order))
    assert not relayed(_record("REMOVE", outbox))  # the TTL's deletion of a relayed event
    # realtime/fanout.py pushes order and vehicle changes.
    assert fanned_out(_record("MODIFY", order))
    assert fanned_out(_record("INSERT", order))
    assert fanned_out(_record("MODIFY", vehicle))
    assert not fanned_out(_record("MODIFY", product))
    assert not fanned_out(_record("INSERT", outbox))
    assert not fanned_out(_record("REMOVE", order))


def test_the_payment_sweep_and_the_connections_keep_alive_run_every_minute(synthesized: Synthesized) -> None:
    functions = synthesized.stack.functions
    synthesized.template.has_resource_properties(
        "AWS::Events::Rule",
        {
            "ScheduleExpression": "rate(1 minute)",
            "Targets": [
                Match.object_like({"Arn": arn(functions[PAYMENT_EXPIRY])}),
                Match.object_like({"Arn": arn(functions[CONNECTION_KEEPALIVE])}),
            ],
        },
    )


# -- least privilege ------------------------------------------------------------------------------------------


def all_statements(synthesized: Synthesized) -> Iterator[dict[str, Any]]:
    for policy in synthesized.of_type("AWS::IAM::Policy").values():
        yield from policy["Properties"]["PolicyDocument"]["Statement"]
    for role in synthesized.of_type("AWS::IAM::Role").values():
        for policy in role["Properties"].get("Policies", []):
            yield from policy["PolicyDocument"]["Statement"]


def test_no_policy_grants_a_wildcard_action_or_a_scan(synthesized: Synthesized) -> None:
    for statement in all_statements(synthesized):
        if statement["Effect"] != "Allow":
            continue
        for action in actions(statement):
            assert "*" not in action, statement
            assert action != "dynamodb:Scan", statement


def test_the_api_reads_and_writes_the_table_and_reads_invoices_nothing_else(synthesized: Synthesized) -> None:
    """Besides: it administers users and closes their connections (`test_only_the_api_administers_users...`)."""
    data = synthesized.stack.data
    assert arn(data.table) in allowed(synthesized, GRAPHQL_API, "dynamodb:PutItem")
    assert allowed(synthesized, GRAPHQL_API, "s3:GetObject") == [{"Fn::Join": ["", [arn(data.invoices), "/*"]]}]
    for forbidden in ("sqs:SendMessage", "sns:Publish", "s3:PutObject", "ses:SendEmail"):
        assert allowed(synthesized, GRAPHQL_API, forbidden) == [], forbidden


def test_only_the_relay_publishes_events(synthesized: Synthesized) -> None:
    events_topic = ref(synthesized.stack.messaging.events_topic)
    publishers = [name for name in FUNCTIONS if events_topic in allowed(synthesized, name, "sns:Publish")]
    assert publishers == [OUTBOX_RELAY]
    assert allowed(synthesized, OUTBOX_RELAY, "sns:Publish") == [events_topic]


def test_notify_sends_email_from_the_sender_and_feeds_sales_and_staff(synthesized: Synthesized) -> None:
    stack = synthesized.stack
    (identity,) = allowed(synthesized, "notify", "ses:SendEmail")
    assert ref(stack.email.identity) in identity["Fn::Join"][1]
    assert allowed(synthesized, "notify", "sqs:SendMessage") == [arn(stack.messaging.queues["sales-notifications"])]
    assert allowed(synthesized, "notify", "sns:Publish") == [ref(stack.messaging.pending_stock_topic)]
    senders = [name for name in FUNCTIONS if allowed(synthesized, name, "ses:SendEmail")]
    assert senders == ["notify"]


def test_the_intake_reader_cannot_write_the_table(synthesized: Synthesized) -> None:
    stack = synthesized.stack
    for action in ("dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:BatchWriteItem"):
        assert allowed(synthesized, INTAKE_FILES, action) == []
    assert allowed(synthesized, INTAKE_FILES, "sqs:SendMessage") == [arn(stack.messaging.queues[INTAKE_ORDERS])]
    assert allowed(synthesized, INTAKE_FILES, "sns:Publish") == [ref(stack.messaging.order_errors_topic)]
    assert allowed(synthesized, INTAKE_FILES, "s3:ListBucket") == [arn(stack.data.intake)]


def test_only_the_realtime_handlers_that_post_manage_connections(synthesized: Synthesized) -> None:
    managers = {name for name in FUNCTIONS if allowed(synthesized, name, "execute-api:ManageConnections")}
    told = (REALTIME_FANOUT, REALTIME_DELIVERY, CONNECTION_KEEPALIVE, GRAPHQL_API)
    assert managers == {"ws-default", WS_INIT_TIMEOUT, *told}
    for name in told:
        variables = function_properties(synthesized, name)["Environment"]["Variables"]
        assert "execute-api" in json.dumps(variables["WS_MANAGEMENT_URL"])
    assert allowed(synthesized, WS_CONNECT, "sqs:SendMessage") == [
        arn(synthesized.stack.messaging.queues["ws-init-timeout"])
    ]
    # The fan-out hands a large topic's batches to the delivery queue; nothing else sends there.
    delivery_queue = arn(synthesized.stack.messaging.queues["ws-delivery"])
    senders = {name for name in FUNCTIONS if delivery_queue in allowed(synthesized, name, "sqs:SendMessage")}
    assert senders == {REALTIME_FANOUT}
    # ... and the fan-out sends nowhere else but its stream mapping's on-failure queue.
    failures = arn(synthesized.stack.functions.stream_failures[REALTIME_FANOUT])
    sent_to = allowed(synthesized, REALTIME_FANOUT, "sqs:SendMessage")
    assert sorted(sent_to, key=json.dumps) == sorted([delivery_queue, failures], key=json.dumps)


def test_only_the_api_administers_users_and_only_in_its_pool(synthesized: Synthesized) -> None:
    pool = synthesized.stack.auth.user_pool
    for action in (
        "cognito-idp:AdminGetUser",
        "cognito-idp:AdminDisableUser",
        "cognito-idp:AdminRemoveUserFromGroup",
        "cognito-idp:AdminUserGlobalSignOut",
    ):
        administrators = {name for name in FUNCTIONS if allowed(synthesized, name, action)}
        assert administrators == {GRAPHQL_API}, action
        assert allowed(synthesized, GRAPHQL_API, action) == [arn(pool)]


def test_only_the_sale_step_stores_invoices(synthesized: Synthesized) -> None:
    writers = {name for name in FUNCTIONS if allowed(synthesized, name, "s3:PutObject")}
    assert writers == {"complete-sale", INTAKE_FILES}


# -- outputs and configuration --------------------------------------------------------------------------------


def test_outputs_tell_the_deployer_where_everything_is(synthesized: Synthesized) -> None:
    assert set(synthesized.document["Outputs"]) >= {
        "GraphQLUrl",
        "WebhookUrl",
        "WebSocketUrl",
        "WebUrl",
        "UserPoolId",
        "UserPoolClientId",
        "TableName",
        "InvoicesBucket",
        "IntakeBucket",
    }


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("spaOrigin", "https://shop.example.com/app"),
        ("spaOrigin", "shop.example.com"),
        ("sesSender", "not-an-address"),
        ("alarmEmail", "ops@"),
        ("removalPolicy", "snapshot"),
        ("sellerCnpj", "11.222.333/0001-00"),
        ("invoiceVersioning", "maybe"),
        ("trustedDocuments", "sometimes"),
        ("logLevel", "LOUD"),
    ],
)
def test_a_bad_context_value_fails_the_synthesis(key: str, value: str) -> None:
    app = cdk.App(context={key: value})
    with pytest.raises(ConfigurationError):
        PlatformConfig.from_context(app.node)


def test_destroy_removal_policy_makes_a_throw_away_stack(tmp_path_factory: pytest.TempPathFactory) -> None:
    throw_away = synthesize(tmp_path_factory.mktemp("destroy"), removalPolicy="destroy", invoiceVersioning="false")
    table = throw_away.resources[logical_id(throw_away.stack.data.table)]
    assert table["DeletionPolicy"] == "Delete"
    assert table["Properties"].get("DeletionProtectionEnabled", False) is False
    invoices = throw_away.resources[logical_id(throw_away.stack.data.invoices)]
    assert invoices["DeletionPolicy"] == "Delete"
    assert "VersioningConfiguration" not in invoices["Properties"]
    # Emptied before deletion, or CloudFormation could not delete them.
    assert throw_away.of_type("Custom::S3AutoDeleteObjects")
