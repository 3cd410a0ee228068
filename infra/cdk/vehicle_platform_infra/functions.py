"""One Lambda function per handler, what feeds each one, and what each one may touch.

Every function runs the one shared asset (bundling.py) on arm64 with X-Ray active tracing and JSON logs kept 30
days in a log group of its own. Each has its own role, holding only what its handler calls: the table, and the
one queue, topic, bucket prefix or API it uses, named by ARN. The event source mappings grant what polling needs.

The environment is the one the local stack gives its processes (local_stack/resources.Provisioned
.function_environment), with AWS's values, plus what only AWS needs: the secrets, the seller's identity, the
WebSocket management endpoint for the fan-out. runtime/settings.py reads it once per container.

No function reserves concurrency: a reservation comes out of the account's pool (a new account has 10 in all, and
a stack reserving any of them may not deploy there), and a function throttled at its reservation has SQS count the
throttled receives toward the dead-letter queue. Where a ceiling protects something, the SQS event source's maximum
concurrency sets it instead (notify: SES's sending rate; intake-orders: the concurrency left to customers buying
online), and the HTTP and WebSocket stages throttle their callers (api.py, realtime.py).

Secrets reach the functions as CloudFormation dynamic references resolved at deploy time, so runtime/settings.py
keeps reading plain environment variables and no function calls Secrets Manager on its cold start. The trade-off:
the resolved values are visible to whoever may read the functions' configuration (lambda:GetFunctionConfiguration),
and a changed secret reaches the functions at the next deployment, not before.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from aws_cdk import CfnElement, Duration, RemovalPolicy, SecretValue, Stack
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as sources
from aws_cdk import aws_logs as logs
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from constructs import Construct, IConstruct

from persistence.keys import ORDER_PREFIX, OUTBOX_PREFIX, PRODUCT_PREFIX, VEHICLE_PREFIX
from persistence.schema import create_table_request
from platform_spec.functions import (
    CONNECTION_KEEPALIVE,
    GRAPHQL_API,
    INTAKE_FILES,
    INTAKE_ORDERS,
    MEMORY_MB,
    OUTBOX_RELAY,
    PAYMENT_EXPIRY,
    PIX_RECONCILIATION,
    PIX_WEBHOOK,
    REALTIME_DELIVERY,
    REALTIME_FANOUT,
    SAGA_STEPS,
    WS_CONNECT,
    WS_DEFAULT,
    WS_DISCONNECT,
    WS_INIT_TIMEOUT,
)
from platform_spec.messaging import (
    EVENTS_TOPIC,
    INTAKE_FILES_QUEUE,
    INTAKE_ORDERS_QUEUE,
    ORDER_ERRORS_TOPIC,
    PENDING_STOCK_TOPIC,
    SAGA_QUEUES,
    SALES_NOTIFICATIONS_QUEUE,
    WS_DELIVERY_QUEUE,
    WS_INIT_TIMEOUT_QUEUE,
    QueueSpec,
)
from vehicle_platform_infra import pascal, suppress
from vehicle_platform_infra.auth import Auth
from vehicle_platform_infra.bundling import ARCHITECTURE, RUNTIME, lambda_code
from vehicle_platform_infra.data import Data
from vehicle_platform_infra.email import Email
from vehicle_platform_infra.messaging import Messaging, encrypted_queue
from vehicle_platform_infra.realtime import WebSocketApi

# The functions that run clients' GraphQL documents: HTTP requests, and the WebSocket's `subscribe` messages.
TRUSTED_DOCUMENTS_FUNCTIONS = (GRAPHQL_API, WS_DEFAULT)
TRUSTED_DOCUMENTS_ONLY = "TRUSTED_DOCUMENTS_ONLY"
# The two steps that touch more than the table (platform_spec/routes.py names them).
COMPLETE_SALE = "complete-sale"
NOTIFY = "notify"

LOG_RETENTION = logs.RetentionDays.ONE_MONTH
# Lambda's own platform lines (START, END, REPORT are INFO): warnings and errors only.
SYSTEM_LOG_LEVEL = lambda_.SystemLogLevel.WARN
# Lambda polls SQS in batches of up to ten messages without a batching window (each saga hop waits on the next).
SQS_BATCH_SIZE = 10
# A delivery batch is already a few hundred posts (realtime/batches.py): one per invocation, so that Lambda spreads
# the batches of one change over as many invocations as it scales the consumer to.
DELIVERY_BATCH_SIZE = 1
# The payment expiry sweep's schedule (sagas/expiry.py): a payment expires at most a minute late. It also runs the
# WebSocket connections' keep-alive sweep (realtime/sweep.py), which plans with this minute: a tenth of API Gateway's
# idle window (runtime/settings.py, realtime.sweep_seconds).
EXPIRY_SCHEDULE = events.Schedule.rate(Duration.minutes(1))
# The Pix reconciliation's (sagas/reconcile.py): a Pix whose webhook call was lost is applied within 5 minutes and
# its lag, the window (15 minutes by default) read by three runs in a row.
RECONCILIATION_SCHEDULE = events.Schedule.rate(Duration.minutes(5))

# The table's stream, read by two functions (DynamoDB advises at most two readers per shard): only the records
# their handlers act upon are delivered, so the others cost no invocation. The prefixes are persistence/keys.py's,
# the ones persistence/stream.py decodes; tests/infra checks the filters against the handlers.


def _new_item_key(*prefixes: str) -> dict[str, Any]:
    return {"NewImage": {"PK": {"S": [{"prefix": prefix} for prefix in prefixes]}}}


RELAY_FILTERS: tuple[dict[str, Any], ...] = (
    # sagas/relay.py: each new outbox record is an event to publish.
    {"eventName": ["INSERT"], "dynamodb": _new_item_key(OUTBOX_PREFIX)},
    # sagas/restock.py: a product whose available stock went up may resume the orders waiting for it. (Whether it
    # went up compares two images, which a filter cannot; and DynamoDB numbers are strings in a stream record, so a
    # numeric filter on them would be a bet on how Lambda reads them: the handler decides.)
    {"eventName": ["INSERT", "MODIFY"], "dynamodb": _new_item_key(PRODUCT_PREFIX)},
)
# realtime/fanout.py: order and vehicle changes are the ones pushed to subscribers.
FANOUT_FILTERS: tuple[dict[str, Any], ...] = (
    {"eventName": ["INSERT", "MODIFY"], "dynamodb": _new_item_key(ORDER_PREFIX, VEHICLE_PREFIX)},
)

# What the table's users need, and no Scan (every access pattern is a GetItem, a Query or a transaction;
# persistence/schema.py). Transactions are authorized item by item with these same actions.
TABLE_READ_ACTIONS = (
    "dynamodb:GetItem",
    "dynamodb:BatchGetItem",
    "dynamodb:Query",
    "dynamodb:ConditionCheckItem",
    # PynamoDB reads the table's description for its low-level connection; /health checks it.
    "dynamodb:DescribeTable",
)
TABLE_WRITE_ACTIONS = ("dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:BatchWriteItem")
# Publishing to a topic encrypted with a customer managed key: SNS asks KMS for a data key as the publisher.
TOPIC_KEY_ACTIONS = ("kms:GenerateDataKey", "kms:Decrypt")

_NOT_ASYNC = (
    "Invoked synchronously (API Gateway) or by an event source mapping, never asynchronously, so a function "
    "dead-letter queue would never receive anything: failed SQS messages go to their queue's DLQ after three "
    "receives, failed stream records to the mapping's on-failure queue."
)
_RUNTIME_313 = (
    "python3.13, not 3.14: the code is tested on CPython 3.11 and the asset's bytecode is compiled by a local "
    "3.13; 3.14 changes how annotations are evaluated (PEP 649/749), which Strawberry's and PynamoDB's type "
    "handling rely on, and the suite has not run on it. Move once it has (bundling.RUNTIME and LAMBDA_PYTHON)."
)


def sqs_timeout(spec: QueueSpec) -> Duration:
    """A consumer's timeout: a sixth of its queue's visibility timeout, as AWS advises for SQS event sources, so
    that a batch retried after throttling does not reappear while a first attempt still runs."""
    return Duration.seconds(spec.visibility_timeout // 6)


@dataclass(frozen=True, slots=True)
class FunctionSpec:
    """A function's code and limits; its memory is platform_spec.functions.MEMORY_MB's."""

    handler: str
    description: str
    timeout: Duration


# What an API request needs, as a last line behind the document limits: a cold start (about 1 s) and the
# slowest request (a 100-item page, three DynamoDB round trips) with room for a throttled retry. A request that
# still runs past it is one a client should not have been able to send; the maximum would let it burn 29 s.
API_REQUEST_TIMEOUT = Duration.seconds(5)

FUNCTIONS: Mapping[str, FunctionSpec] = {
    GRAPHQL_API: FunctionSpec("graphql_api.handler.handler", "GraphQL over HTTP (Mangum)", API_REQUEST_TIMEOUT),
    PIX_WEBHOOK: FunctionSpec("sagas.webhook.handler", "Pix webhook (the PSP's calls)", Duration.seconds(10)),
    # sagas/consumers.py names each step's handler after its queue (HANDLERS).
    **{
        spec.name: FunctionSpec(
            f"sagas.consumers.{spec.name.replace('-', '_')}", f"Saga step {spec.name}", sqs_timeout(spec)
        )
        for spec in SAGA_QUEUES
    },
    OUTBOX_RELAY: FunctionSpec("sagas.relay.handler", "Outbox relay and restock", Duration.seconds(60)),
    # Under the schedule's minute, so that two sweeps rarely overlap (they may: each expiry is conditional).
    PAYMENT_EXPIRY: FunctionSpec("sagas.expiry.handler", "Payment expiry sweep", Duration.seconds(50)),
    PIX_RECONCILIATION: FunctionSpec("sagas.reconcile.handler", "Pix reconciliation", Duration.seconds(120)),
    WS_CONNECT: FunctionSpec("realtime.handlers.connect", "WebSocket $connect", Duration.seconds(10)),
    WS_DEFAULT: FunctionSpec("realtime.handlers.default", "WebSocket messages", API_REQUEST_TIMEOUT),
    WS_DISCONNECT: FunctionSpec("realtime.handlers.disconnect", "WebSocket $disconnect", Duration.seconds(10)),
    WS_INIT_TIMEOUT: FunctionSpec(
        "realtime.handlers.init_timeout", "connection_init deadline", sqs_timeout(WS_INIT_TIMEOUT_QUEUE)
    ),
    REALTIME_FANOUT: FunctionSpec("realtime.fanout.handler", "Realtime fan-out", Duration.seconds(60)),
    # One full vCPU: a delivery's posts are bound by CPU (bench/realtime.py measures one post's).
    REALTIME_DELIVERY: FunctionSpec(
        "realtime.delivery.handler", "Realtime delivery batches", sqs_timeout(WS_DELIVERY_QUEUE)
    ),
    # Under the schedule's minute, as the payment expiry's: it reads every open connection, page by page.
    CONNECTION_KEEPALIVE: FunctionSpec("realtime.sweep.handler", "WebSocket keep-alive sweep", Duration.seconds(50)),
    INTAKE_FILES: FunctionSpec("sagas.intake.files", "Batch order files", sqs_timeout(INTAKE_FILES_QUEUE)),
    INTAKE_ORDERS: FunctionSpec("sagas.intake.orders", "Batch orders", sqs_timeout(INTAKE_ORDERS_QUEUE)),
}


@dataclass(frozen=True, slots=True)
class FunctionSettings:
    """The deployment's choices that reach the functions' environment (stack.py reads them from the context)."""

    log_level: str
    # The dealership's PSP: its API Pix (where the paths begin) and token endpoint, its Pix key, and the Secrets
    # Manager secrets, created beforehand by the deployer, holding its credentials (runtime/pix_credentials.py) and
    # the webhook's per-deployment secret (pix/webhook.py).
    pix_api_url: str
    pix_token_url: str
    pix_key: str
    pix_credentials_secret_name: str
    pix_webhook_secret_name: str
    payment_ttl_seconds: int
    invoice_link_seconds: int
    seller_name: str
    seller_cnpj: str
    seller_address: str
    # Refuse any GraphQL document that is not in the SPA's persisted-documents manifest (issue 15's trusted
    # documents): the API and the WebSocket's subscribe are told with TRUSTED_DOCUMENTS_ONLY=1.
    trusted_documents_only: bool = True


def logical_id(construct: IConstruct) -> str:
    """The CloudFormation logical id of an L2's resource, as cdk-nag writes it in `<Id.Arn>` findings."""
    resource = construct.node.default_child
    if not isinstance(resource, CfnElement):
        raise TypeError(f"{construct.node.path} wraps no CloudFormation resource")
    return Stack.of(construct).get_logical_id(resource)


class Functions(Construct):
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        data: Data,
        messaging: Messaging,
        auth: Auth,
        email: Email,
        settings: FunctionSettings,
        removal_policy: RemovalPolicy,
    ) -> None:
        super().__init__(scope, id)
        self._data = data
        self._messaging = messaging

        # The root secret: runtime/secrets.py derives from it the key of pagination cursors, one key per purpose.
        self.cursor_secret = secretsmanager.Secret(
            self,
            "CursorSecret",
            description="Vehicle Platform: root of the HMAC keys (pagination cursors)",
            generate_secret_string=secretsmanager.SecretStringGenerator(password_length=64, exclude_punctuation=True),
            removal_policy=removal_policy,
        )
        suppress(
            self.cursor_secret,
            ["AwsSolutions-SMG4"],
            "Not rotated: the functions receive the value at deployment (a dynamic reference in their environment), "
            "so a rotation would not reach them before the next deployment; and a new key voids every cursor. "
            "Rotate by redeploying with a new secret, on purpose.",
        )
        queues, topics = messaging.queues, messaging.topics
        # The local stack's keys (Provisioned.function_environment), with AWS's values. COGNITO_JWKS_URL is not
        # among them: on AWS the keys are served at the issuer's address, which runtime/settings.py derives.
        self.environment: dict[str, str] = {
            "TABLE_NAME": data.table.table_name,
            "COGNITO_USER_POOL_ID": auth.user_pool.user_pool_id,
            "COGNITO_CLIENT_ID": auth.client.user_pool_client_id,
            "EVENTS_TOPIC_ARN": topics[EVENTS_TOPIC.name].topic_arn,
            "SALES_NOTIFICATIONS_QUEUE_URL": queues[SALES_NOTIFICATIONS_QUEUE.name].queue_url,
            "SES_SENDER": email.sender,
            "WS_INIT_TIMEOUT_QUEUE_URL": queues[WS_INIT_TIMEOUT_QUEUE.name].queue_url,
            "WS_DELIVERY_QUEUE_URL": queues[WS_DELIVERY_QUEUE.name].queue_url,
            "INVOICES_BUCKET": data.invoices.bucket_name,
            "PENDING_STOCK_TOPIC_ARN": topics[PENDING_STOCK_TOPIC.name].topic_arn,
            "ORDER_ERRORS_TOPIC_ARN": topics[ORDER_ERRORS_TOPIC.name].topic_arn,
            "INTAKE_ORDERS_QUEUE_URL": queues[INTAKE_ORDERS_QUEUE.name].queue_url,
            # Every function builds the settings, which refuse to start without it outside local mode.
            "CURSOR_SECRET": self.cursor_secret.secret_value.unsafe_unwrap(),
            "PAYMENT_TTL_SECONDS": str(settings.payment_ttl_seconds),
            "INVOICE_LINK_SECONDS": str(settings.invoice_link_seconds),
            "SELLER_NAME": settings.seller_name,
            "SELLER_CNPJ": settings.seller_cnpj,
            "SELLER_ADDRESS": settings.seller_address,
            "LOG_LEVEL": settings.log_level,
            # Every graph holding the purchase saga charges or refunds (composition/aws.pix_payments).
            "PIX_API_URL": settings.pix_api_url,
            "PIX_TOKEN_URL": settings.pix_token_url,
            "PIX_KEY": settings.pix_key,
            "PIX_CREDENTIALS_SECRET": settings.pix_credentials_secret_name,
        }
        self.pix_credentials = secretsmanager.Secret.from_secret_name_v2(
            self, "PixCredentials", settings.pix_credentials_secret_name
        )

        code = lambda_code()
        self.roles: dict[str, iam.Role] = {}
        self.functions: dict[str, lambda_.Function] = {
            name: self._function(name, spec, code, settings.log_level, removal_policy)
            for name, spec in FUNCTIONS.items()
        }
        if settings.trusted_documents_only:
            for name in TRUSTED_DOCUMENTS_FUNCTIONS:
                self.functions[name].add_environment(TRUSTED_DOCUMENTS_ONLY, "1")
        # The webhook's per-deployment secret: created by the deployer (and given to the PSP), named by the context.
        self.functions[PIX_WEBHOOK].add_environment(
            "PIX_WEBHOOK_SECRET",
            SecretValue.secrets_manager(settings.pix_webhook_secret_name).unsafe_unwrap(),
        )
        # The PSP credentials are read at cold start by the functions themselves (never in their environment).
        for function in self.functions.values():
            self.pix_credentials.grant_read(function)

        self._grant_table()
        self._grant_user_administration(auth)
        self._grant_messaging(email)
        self._grant_buckets()
        self.stream_failures: dict[str, sqs.Queue] = {}
        self._event_sources()

        for name, function in self.functions.items():
            if name not in {PAYMENT_EXPIRY, PIX_RECONCILIATION, CONNECTION_KEEPALIVE}:
                suppress(function, ["Serverless-LambdaDLQ"], _NOT_ASYNC)
            suppress(function, ["AwsSolutions-L1", "Serverless-LambdaLatestVersion"], _RUNTIME_313)
        suppress(
            self.functions[PAYMENT_EXPIRY],
            ["Serverless-LambdaDLQ"],
            "Invoked by the one-minute schedule: a sweep that failed is done by the next one a minute later, which "
            "finds the same due payments (the index holds them until they are settled). A dead letter of a sweep "
            "would hold nothing to replay.",
        )
        suppress(
            self.functions[CONNECTION_KEEPALIVE],
            ["Serverless-LambdaDLQ"],
            "Invoked by the one-minute schedule: a sweep that failed is done by the next one a minute later, which "
            "plans with a late run in mind (it pings and warns two minutes ahead). A dead letter of a sweep would "
            "hold nothing to replay.",
        )
        suppress(
            self.functions[PIX_RECONCILIATION],
            ["Serverless-LambdaDLQ"],
            "Invoked by the five-minute schedule over overlapping windows: a run that failed is covered by the next "
            "ones, which list the same Pix. A dead letter of a run would hold nothing to replay.",
        )

    def __getitem__(self, name: str) -> lambda_.Function:
        return self.functions[name]

    # -- the functions ------------------------------------------------------------------------------------------

    def _function(
        self, name: str, spec: FunctionSpec, code: lambda_.Code, log_level: str, removal_policy: RemovalPolicy
    ) -> lambda_.Function:
        construct_id = pascal(name)
        log_group = logs.LogGroup(self, f"{construct_id}Logs", retention=LOG_RETENTION, removal_policy=removal_policy)
        # A role per function, not the basic execution role's managed policy, which may write to any log group.
        role = iam.Role(
            self,
            f"{construct_id}Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description=f"Vehicle Platform {name}",
        )
        self.roles[name] = role
        log_group.grant_write(role)
        function = lambda_.Function(
            self,
            construct_id,
            description=f"Vehicle Platform: {spec.description}",
            runtime=RUNTIME,
            architecture=ARCHITECTURE,
            code=code,
            handler=spec.handler,
            memory_size=MEMORY_MB[name],
            timeout=spec.timeout,
            role=role,
            environment={**self.environment, "POWERTOOLS_SERVICE_NAME": name},
            tracing=lambda_.Tracing.ACTIVE,
            # Powertools writes JSON already; in JSON format Lambda keeps those lines as they are, filters them by
            # their level, and writes its own lines as JSON too.
            logging_format=lambda_.LoggingFormat.JSON,
            application_log_level_v2=lambda_.ApplicationLogLevel(log_level),
            system_log_level_v2=SYSTEM_LOG_LEVEL,
            log_group=log_group,
        )
        suppress(
            self._policy(name),
            ["AwsSolutions-IAM5"],
            "X-Ray's PutTraceSegments and PutTelemetryRecords take no resource: `*` is the only resource they "
            "accept (added by active tracing).",
            applies_to=["Resource::*"],
        )
        return function

    def _policy(self, name: str) -> IConstruct:
        """The function's role's policy, where its statements (and so the findings about them) are."""
        return self.roles[name].node.find_child("DefaultPolicy")

    def _allow(self, names: Sequence[str], actions: Sequence[str], resources: Sequence[str]) -> None:
        for name in names:
            self.functions[name].add_to_role_policy(
                iam.PolicyStatement(actions=list(actions), resources=list(resources))
            )

    def _grant_table(self) -> None:
        table = self._data.table
        indexes = [f"{table.table_arn}/index/{index['IndexName']}" for index in _table_indexes()]
        readers = list(self.functions)
        # The intake's file reader only looks up products and the orders a file names; it writes to S3 and SQS.
        writers = [name for name in self.functions if name != INTAKE_FILES]
        self._allow(readers, TABLE_READ_ACTIONS, [table.table_arn, *indexes])
        self._allow(writers, TABLE_WRITE_ACTIONS, [table.table_arn])

    def _grant_user_administration(self, auth: Auth) -> None:
        """Staff block users and take staff rights away through the API (domain/access.py): these four admin calls
        on this one pool (runtime/cognito_admin.py)."""
        actions = [
            "cognito-idp:AdminGetUser",
            "cognito-idp:AdminDisableUser",
            "cognito-idp:AdminRemoveUserFromGroup",
            "cognito-idp:AdminUserGlobalSignOut",
        ]
        self._allow([GRAPHQL_API], actions, [auth.user_pool.user_pool_arn])

    def _grant_messaging(self, email: Email) -> None:
        messaging = self._messaging

        def publish(names: Sequence[str], topic: sns.Topic) -> None:
            self._allow(names, ["sns:Publish"], [topic.topic_arn])
            self._allow(names, TOPIC_KEY_ACTIONS, [messaging.topic_key.key_arn])

        def send(names: Sequence[str], queue: sqs.Queue) -> None:
            # SendMessageBatch is authorized as sqs:SendMessage.
            self._allow(names, ["sqs:SendMessage"], [queue.queue_arn])

        publish([OUTBOX_RELAY], messaging.events_topic)
        publish([NOTIFY], messaging.pending_stock_topic)
        publish([INTAKE_FILES], messaging.order_errors_topic)
        send([NOTIFY], messaging.queues[SALES_NOTIFICATIONS_QUEUE.name])
        send([WS_CONNECT], messaging.queues[WS_INIT_TIMEOUT_QUEUE.name])
        send([REALTIME_FANOUT], messaging.queues[WS_DELIVERY_QUEUE.name])
        send([INTAKE_FILES], messaging.queues[INTAKE_ORDERS_QUEUE.name])
        # The notifier sends with SendEmail from this identity only (sagas/adapters.py, SesMailer).
        self._allow([NOTIFY], ["ses:SendEmail"], [email.identity.email_identity_arn])

    def _grant_buckets(self) -> None:
        invoices, intake = self._data.invoices, self._data.intake
        # The API signs invoice links with its own credentials: the link opens only what the signer may read.
        self._allow([GRAPHQL_API], ["s3:GetObject"], [invoices.arn_for_objects("*")])
        # The sale's step stores the invoice document before the commit that links it.
        self._allow([COMPLETE_SALE], ["s3:PutObject"], [invoices.arn_for_objects("*")])
        # The file reader reads the upload a notification names (by version), and writes its report next to it.
        self._allow(
            [INTAKE_FILES], ["s3:GetObject", "s3:GetObjectVersion", "s3:PutObject"], [intake.arn_for_objects("*")]
        )
        # Without ListBucket S3 answers 403 instead of 404 for a missing key, and the reader asks for a report that
        # does not exist yet on every first reading (sagas/intake_adapters.py, accepted_before).
        self._allow([INTAKE_FILES], ["s3:ListBucket"], [intake.bucket_arn])
        for names, bucket in (([GRAPHQL_API, COMPLETE_SALE], invoices), ([INTAKE_FILES], intake)):
            for name in names:
                suppress(
                    self._policy(name),
                    ["AwsSolutions-IAM5"],
                    "Object keys are made at run time (an order's invoice, a dropped file's report): the objects "
                    "of this one bucket, which holds nothing else, are the narrowest resource.",
                    applies_to=[f"Resource::<{logical_id(bucket)}.Arn>/*"],
                )

    # -- what invokes them --------------------------------------------------------------------------------------

    def _event_sources(self) -> None:
        queues = self._messaging.queues
        for name in (*SAGA_STEPS, WS_INIT_TIMEOUT, REALTIME_DELIVERY, INTAKE_FILES, INTAKE_ORDERS):
            self._sqs_source(name, queues[name])

        self._stream_source(OUTBOX_RELAY, RELAY_FILTERS, batch_size=50)
        # Smaller batches: one order change may mean a push to many subscribers.
        self._stream_source(REALTIME_FANOUT, FANOUT_FILTERS, batch_size=10)

        rule = events.Rule(
            self,
            "PaymentExpirySchedule",
            description="Vehicle Platform: expire the payments past their deadline; keep WebSocket connections up",
            schedule=EXPIRY_SCHEDULE,
            # No retry of a missed sweep: the next one is a minute away and does the same work.
            targets=[
                targets.LambdaFunction(self.functions[PAYMENT_EXPIRY], retry_attempts=0),
                targets.LambdaFunction(self.functions[CONNECTION_KEEPALIVE], retry_attempts=0),
            ],
        )
        suppress(
            rule,
            ["Serverless-EventBusDLQ"],
            "The target is a sweep on a one-minute schedule: an invocation EventBridge could not make is made by "
            "the next tick, with the same effect. A dead letter of it would hold nothing worth replaying.",
        )
        reconciliation = events.Rule(
            self,
            "PixReconciliationSchedule",
            description="Vehicle Platform: apply the Pix the PSP received that its webhook did not bring",
            schedule=RECONCILIATION_SCHEDULE,
            targets=[targets.LambdaFunction(self.functions[PIX_RECONCILIATION], retry_attempts=0)],
        )
        suppress(
            reconciliation,
            ["Serverless-EventBusDLQ"],
            "The target reads overlapping windows every five minutes: an invocation EventBridge could not make is "
            "covered by the next ones. A dead letter of it would hold nothing worth replaying.",
        )

    def _sqs_source(self, name: str, queue: sqs.IQueue) -> None:
        # notify sends email: SES accepts 14 messages a second by default, so two batches at a time keep it there.
        # A big batch file must not take all the saga's concurrency from the customers buying online.
        max_concurrency = {NOTIFY: 2, INTAKE_ORDERS: 5}.get(name)
        function = self.functions[name]
        function.add_event_source(
            sources.SqsEventSource(
                queue,
                batch_size=DELIVERY_BATCH_SIZE if name == REALTIME_DELIVERY else SQS_BATCH_SIZE,
                report_batch_item_failures=True,
                max_concurrency=max_concurrency,
            )
        )
        (mapping,) = [child for child in function.node.children if isinstance(child, lambda_.EventSourceMapping)]
        suppress(
            mapping,
            ["Serverless-LambdaEventSourceMappingDestination"],
            "An SQS event source takes no on-failure destination (Lambda supports them for streams and Kafka): a "
            "message that fails three receives moves to its queue's dead-letter queue (MAX_RECEIVES).",
        )

    def _stream_source(self, name: str, filters: Sequence[Mapping[str, Any]], *, batch_size: int) -> None:
        # A stream record that still fails after its retries is described (shard and sequence numbers, not the
        # data) in this queue; the stream keeps the data 24 hours, the table keeps the item.
        failures = encrypted_queue(self, f"{pascal(name)}StreamFailures")
        suppress(
            failures,
            ["AwsSolutions-SQS3", "Serverless-SQSRedrivePolicy"],
            f"The on-failure destination of {name}'s stream mapping: itself a dead-letter queue, which cdk-nag "
            "recognises only when an SQS redrive policy names it.",
        )
        self.stream_failures[name] = failures
        function = self.functions[name]
        function.add_event_source(
            sources.DynamoEventSource(
                self._data.table,
                starting_position=lambda_.StartingPosition.LATEST,
                batch_size=batch_size,
                report_batch_item_failures=True,
                # A failing batch is split until the failing record is alone, so the others go through.
                bisect_batch_on_error=True,
                retry_attempts=10,
                max_record_age=Duration.hours(24),
                on_failure=sources.SqsDlq(failures),
                filters=[lambda_.FilterCriteria.filter(dict(pattern)) for pattern in filters],
            )
        )
        suppress(
            self._policy(name),
            ["AwsSolutions-IAM5"],
            "dynamodb:ListStreams, which a stream event source needs, supports no resource-level permission.",
            applies_to=["Resource::*"],
        )

    # -- wiring to the WebSocket API --------------------------------------------------------------------------

    def attach_websocket(self, websocket: WebSocketApi) -> None:
        """The handlers that answer clients, the fan-out, the keep-alive sweep and the API (whose blockUser ends a
        user's connections) may post to and close the API's connections.

        $connect and $disconnect never post; the others derive the endpoint from each event (requestContext),
        except those invoked by anything else than the WebSocket: they are told the stage's management URL.
        """
        told = (REALTIME_FANOUT, REALTIME_DELIVERY, CONNECTION_KEEPALIVE, GRAPHQL_API)
        for name in (WS_DEFAULT, WS_INIT_TIMEOUT, *told):
            websocket.grant_manage_connections(self.functions[name])
        for name in told:
            self.functions[name].add_environment("WS_MANAGEMENT_URL", websocket.management_url)

    @property
    def dead_letter_queues(self) -> list[sqs.Queue]:
        return list(self.stream_failures.values())


def _table_indexes() -> list[dict[str, Any]]:
    indexes: list[dict[str, Any]] = create_table_request("unused")["GlobalSecondaryIndexes"]
    return indexes
