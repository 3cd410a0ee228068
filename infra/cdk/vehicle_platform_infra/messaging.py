"""The saga's messaging: the domain events topic and one queue per step, the staff's topics, and the other queues.

Everything is built from platform_spec/messaging.py (QUEUES, TOPICS, MAX_RECEIVES), whose saga queues take
their event types from platform_spec/routes.py: the filter policy of each step's subscription is the list its consumer
accepts.
"""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from platform_spec.messaging import (
    EVENTS_TOPIC,
    MAX_RECEIVES,
    MESSAGE_RETENTION_SECONDS,
    ORDER_ERRORS_TOPIC,
    PENDING_STOCK_TOPIC,
    QUEUES,
    TOPICS,
    QueueSpec,
)
from vehicle_platform_infra import pascal, suppress

# The message attribute the outbox relay sets on every event (sagas/adapters.py, SnsEventPublisher).
EVENT_TYPE_ATTRIBUTE = "eventType"
_RETENTION = Duration.seconds(MESSAGE_RETENTION_SECONDS)
IS_A_DEAD_LETTER_QUEUE = (
    "This queue is itself a dead-letter queue ({of}): what lands here waits to be looked at and redriven "
    "(`vehicle-platform dlq` locally, the console's redrive on AWS), and each message raises an alarm. A "
    "dead-letter queue of a dead-letter queue would only move the question."
)


def encrypted_queue(
    scope: Construct,
    id: str,
    *,
    fifo: bool = False,
    content_based_deduplication: bool | None = None,
    visibility_timeout: Duration | None = None,
    dead_letter_queue: sqs.DeadLetterQueue | None = None,
) -> sqs.Queue:
    """A queue as every queue here is: SSE-SQS, TLS only, messages kept as long as SQS allows.

    SSE-SQS rather than a KMS key: SNS and S3 deliver to such a queue without a key policy naming them, and no KMS
    request is billed per message.
    """
    return sqs.Queue(
        scope,
        id,
        fifo=fifo or None,
        encryption=sqs.QueueEncryption.SQS_MANAGED,
        enforce_ssl=True,
        retention_period=_RETENTION,
        content_based_deduplication=content_based_deduplication,
        visibility_timeout=visibility_timeout,
        dead_letter_queue=dead_letter_queue,
    )


class Messaging(Construct):
    def __init__(self, scope: Construct, id: str, *, staff_email: str | None, removal_policy: RemovalPolicy) -> None:
        super().__init__(scope, id)

        # One key for the three topics: SNS encrypts what it holds until delivered. SNS reuses a data key for five
        # minutes per publisher, so the KMS requests cost cents a month, not one per event.
        self.topic_key = kms.Key(
            self,
            "TopicKey",
            description="Encrypts the Vehicle Platform's SNS topics at rest",
            enable_key_rotation=True,
            removal_policy=removal_policy,
        )
        self.topics: dict[str, sns.Topic] = {
            spec.name: sns.Topic(
                self,
                f"{pascal(spec.name)}Topic",
                display_name=f"Vehicle Platform {spec.name}",
                master_key=self.topic_key,
                enforce_ssl=True,
                # A published message continues its publisher's X-Ray trace into the subscribed queues.
                tracing_config=sns.TracingConfig.ACTIVE,
            )
            for spec in TOPICS
        }

        # Where SNS puts a message it could not deliver to a subscriber (a queue policy or a mailbox refusing it),
        # instead of dropping it after its retries.
        self.subscription_dead_letters = encrypted_queue(self, "SubscriptionDeadLetters")
        suppress(
            self.subscription_dead_letters,
            ["AwsSolutions-SQS3", "Serverless-SQSRedrivePolicy"],
            IS_A_DEAD_LETTER_QUEUE.format(of="the redrive policy of every SNS subscription here"),
        )

        self.queues: dict[str, sqs.Queue] = {}
        self.dead_letter_queues: dict[str, sqs.Queue] = {}
        for spec in QUEUES:
            self.queues[spec.name] = self._queue(spec)
            if spec.event_types:
                self.events_topic.add_subscription(
                    subscriptions.SqsSubscription(
                        self.queues[spec.name],
                        # The body is the event's JSON as the relay published it, as the consumers parse it.
                        raw_message_delivery=True,
                        filter_policy={
                            EVENT_TYPE_ATTRIBUTE: sns.SubscriptionFilter.string_filter(allowlist=list(spec.event_types))
                        },
                        dead_letter_queue=self.subscription_dead_letters,
                    )
                )

        if staff_email:
            for topic in (ORDER_ERRORS_TOPIC, PENDING_STOCK_TOPIC):
                self.topics[topic.name].add_subscription(
                    subscriptions.EmailSubscription(staff_email, dead_letter_queue=self.subscription_dead_letters)
                )

    def _queue(self, spec: QueueSpec) -> sqs.Queue:
        dead_letter_queue = None
        if spec.dead_letters:
            dlq = encrypted_queue(self, f"{pascal(spec.name)}DeadLetters", fifo=spec.fifo)
            # AwsSolutions-SQS3 finds it named in the queue's redrive policy; the Serverless pack's rule does not.
            suppress(
                dlq,
                ["Serverless-SQSRedrivePolicy"],
                IS_A_DEAD_LETTER_QUEUE.format(of=f"the {spec.name} queue's, after {MAX_RECEIVES} receives"),
            )
            self.dead_letter_queues[spec.name] = dlq
            dead_letter_queue = sqs.DeadLetterQueue(max_receive_count=MAX_RECEIVES, queue=dlq)
        return encrypted_queue(
            self,
            f"{pascal(spec.name)}Queue",
            fifo=spec.fifo,
            # FIFO without content-based deduplication: senders name each message (the intake, by its order id),
            # so two different orders with the same body are never taken for one.
            content_based_deduplication=False if spec.fifo else None,
            visibility_timeout=Duration.seconds(spec.visibility_timeout),
            dead_letter_queue=dead_letter_queue,
        )

    @property
    def events_topic(self) -> sns.Topic:
        return self.topics[EVENTS_TOPIC.name]

    @property
    def order_errors_topic(self) -> sns.Topic:
        return self.topics[ORDER_ERRORS_TOPIC.name]

    @property
    def pending_stock_topic(self) -> sns.Topic:
        return self.topics[PENDING_STOCK_TOPIC.name]

    @property
    def all_dead_letter_queues(self) -> list[sqs.Queue]:
        """Every dead-letter queue this construct made: each one waiting message is an alarm."""
        return [*self.dead_letter_queues.values(), self.subscription_dead_letters]
