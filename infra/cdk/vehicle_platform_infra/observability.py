"""Alarms that page someone, and the dashboard they open when paged.

Every alarm notifies one SNS topic and treats missing data as not breaching: Lambda, SQS and API Gateway publish
nothing for a quiet period, and a quiet platform is a healthy one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from aws_cdk import Duration, Stack
from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cloudwatch_actions
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_sqs as sqs
from cdk_nag import NagPackSuppression, NagSuppressions
from constructs import Construct, IConstruct

from runtime.telemetry import NAMESPACE, REASON, STEP, BusinessMetric

from .api import cfn_resource

ONE_MINUTE = Duration.minutes(1)
FIVE_MINUTES = Duration.minutes(5)
ONE_HOUR = Duration.hours(1)
# Sales stopped: this many orders in an hour and not one sale. A showroom's quiet hour has fewer orders than this, and
# an hour is longer than the payment deadline, so at least one of them would have been paid by now.
ORDERS_WITHOUT_SALES = 5
# A p99 the SPA's users notice. A cold start (about 1 s measured locally, README) stays under it: the alarm is for
# sustained slowness, not for a scale-out.
LATENCY_P99_THRESHOLD = Duration.seconds(2)
# The operations the platform's code issues (persistence/, realtime/, sagas/); each one is a metric an alarm pays for.
_TABLE_OPERATIONS = (
    dynamodb.Operation.GET_ITEM,
    dynamodb.Operation.BATCH_GET_ITEM,
    dynamodb.Operation.QUERY,
    dynamodb.Operation.PUT_ITEM,
    dynamodb.Operation.UPDATE_ITEM,
    dynamodb.Operation.DELETE_ITEM,
    dynamodb.Operation.TRANSACT_WRITE_ITEMS,
)


class Observability(Construct):
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        functions: Mapping[str, lambda_.Function],
        dead_letter_queues: Sequence[sqs.IQueue],
        http_api: apigwv2.HttpApi,
        websocket_api: apigwv2.WebSocketApi,
        table: dynamodb.ITable,
        alarm_email: str | None,
    ) -> None:
        super().__init__(scope, id)
        self.alarm_topic = sns.Topic(self, "AlarmTopic", display_name="Vehicle Platform alarms", enforce_ssl=True)
        NagSuppressions.add_resource_suppressions(
            cfn_resource(self.alarm_topic),
            [
                NagPackSuppression(
                    id="AwsSolutions-SNS2",
                    reason=(
                        "Alarm notifications carry alarm names and metric values, no customer data. CloudWatch can "
                        "only publish to an encrypted topic through a customer managed key whose policy admits it "
                        "(the AWS managed SNS key does not), which would cost more than the whole alarm topic."
                    ),
                )
            ],
        )
        if alarm_email:
            subscription = self.alarm_topic.add_subscription(subscriptions.EmailSubscription(alarm_email))
            NagSuppressions.add_resource_suppressions(
                cfn_resource(subscription),
                [
                    NagPackSuppression(
                        id="Serverless-SNSRedrivePolicy",
                        reason=(
                            "An alarm email that cannot be delivered loses nothing: the alarm's state and history "
                            "stay in CloudWatch and on the dashboard. A dead-letter queue here would need its own "
                            "alarm, which would notify this same topic."
                        ),
                    )
                ],
            )
        self._action = cloudwatch_actions.SnsAction(self.alarm_topic)
        self.alarms: list[cloudwatch.Alarm] = []

        for queue in dead_letter_queues:
            self._alarm(
                f"DeadLetters{_name(queue)}",
                queue.metric_approximate_number_of_messages_visible(period=ONE_MINUTE, statistic="Maximum"),
                threshold=1,
                comparison=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
                description=(
                    f"A message failed every delivery attempt and waits in {_name(queue)}: fix the cause, then "
                    "redrive it (SQS console, Start DLQ redrive)."
                ),
            )
        # One alarm each for every function's errors and throttles: Lambda's metrics summed over the account's
        # functions in the region (the deployment has its account, as CDK advises). An alarm costs per metric it
        # reads, so one per function would be 42 of them, most of the smallest deployment's fixed cost; the
        # dashboard's "Lambda errors" and "Lambda throttles" graphs say which function it was.
        self._alarm(
            "LambdaErrors",
            _all_functions("Errors"),
            description=(
                "A function raised: the dashboard's Lambda errors graph names it, its logs name the order and the "
                "request id."
            ),
        )
        self._alarm(
            "LambdaThrottles",
            _all_functions("Throttles"),
            description=(
                "A function was throttled: the account's or its reserved concurrency is spent (the dashboard's Lambda "
                "throttles graph names it)."
            ),
        )

        self._alarm(
            "HttpApi5xx",
            http_api.metric_server_error(period=FIVE_MINUTES, statistic="Sum"),
            description="The HTTP API answered 5xx (see its access log's integrationError).",
        )
        self._alarm(
            "HttpApiLatencyP99",
            http_api.metric_latency(period=FIVE_MINUTES, statistic="p99"),
            threshold=LATENCY_P99_THRESHOLD.to_milliseconds(),
            description="The HTTP API's p99 latency was over 2 s for 5 minutes.",
        )
        self._alarm(
            "WebSocketErrors",
            cloudwatch.MathExpression(
                expression="integration + execution",
                using_metrics={
                    # A $connect refused for lack of the graphql-transport-ws subprotocol counts here too (its 400
                    # comes from the integration); the SPA's client always offers it, so one is worth a look.
                    "integration": websocket_api.metric("IntegrationError", period=FIVE_MINUTES, statistic="Sum"),
                    "execution": websocket_api.metric("ExecutionError", period=FIVE_MINUTES, statistic="Sum"),
                },
                label="WebSocket integration and execution errors",
                period=FIVE_MINUTES,
            ),
            description="The WebSocket API could not call a handler, or a handler failed (see its access log).",
        )
        self._alarm(
            "TableThrottles",
            cloudwatch.MathExpression(
                expression="reads + writes",
                using_metrics={
                    "reads": table.metric("ReadThrottleEvents", period=FIVE_MINUTES, statistic="Sum"),
                    "writes": table.metric("WriteThrottleEvents", period=FIVE_MINUTES, statistic="Sum"),
                },
                label="DynamoDB throttle events",
                period=FIVE_MINUTES,
            ),
            description="DynamoDB throttled requests to the table (a hot partition, or the account's limit).",
        )
        self._alarm(
            "TableSystemErrors",
            table.metric_system_errors_for_operations(
                operations=list(_TABLE_OPERATIONS), period=FIVE_MINUTES, statistic="Sum"
            ),
            description="DynamoDB answered 5xx to the table's requests (SDK retries may have hidden it from users).",
        )

        self._alarm(
            "SalesStopped",
            cloudwatch.MathExpression(
                expression=f"IF(FILL(placed, 0) >= {ORDERS_WITHOUT_SALES} AND FILL(completed, 0) == 0, 1, 0)",
                using_metrics={
                    "placed": _business(BusinessMetric.ORDERS_PLACED, ONE_HOUR),
                    "completed": _business(BusinessMetric.SALES_COMPLETED, ONE_HOUR),
                },
                label="orders kept arriving and no sale completed",
                period=ONE_HOUR,
            ),
            description=(
                f"{ORDERS_WITHOUT_SALES} or more orders were placed in the last hour and no sale completed: payments "
                "are not arriving or a saga step is failing (see the dead letters and the saga step latency)."
            ),
        )

        self.dashboard = cloudwatch.Dashboard(
            self,
            "Dashboard",
            dashboard_name=f"{Stack.of(self).stack_name}-operations",
            default_interval=Duration.hours(3),
        )
        self.dashboard.add_widgets(
            cloudwatch.AlarmStatusWidget(title="Alarms", alarms=list(self.alarms), width=24),
        )
        self.dashboard.add_widgets(
            _graph(
                "Sales",
                [
                    _business(metric, FIVE_MINUTES)
                    for metric in (
                        BusinessMetric.ORDERS_PLACED,
                        BusinessMetric.SALES_COMPLETED,
                        BusinessMetric.PAYMENTS_EXPIRED,
                        BusinessMetric.REFUNDS_OWED,
                        BusinessMetric.REFUNDS_RETRIED,
                    )
                ],
            ),
            _search_graph("Cancellations by reason", BusinessMetric.ORDERS_CANCELLED, REASON, "Sum"),
            _search_graph("Saga step latency p99 (ms)", BusinessMetric.SAGA_STEP_LATENCY, STEP, "p99"),
        )
        self.dashboard.add_widgets(
            _graph(
                "Order files (intake)",
                [
                    _business(BusinessMetric.INTAKE_ORDERS_ACCEPTED, FIVE_MINUTES),
                    _business(BusinessMetric.INTAKE_ORDERS_REJECTED, FIVE_MINUTES),
                ],
            ),
            _graph(
                "WebSocket pushes and connections gone (410)",
                [
                    _business(BusinessMetric.PUSHES, ONE_MINUTE),
                    _business(BusinessMetric.CONNECTIONS_GONE, ONE_MINUTE),
                ],
            ),
        )
        self.dashboard.add_widgets(
            _graph(
                "HTTP API requests and errors",
                [
                    http_api.metric_count(period=ONE_MINUTE, statistic="Sum", label="requests"),
                    http_api.metric_client_error(period=ONE_MINUTE, statistic="Sum", label="4xx"),
                    http_api.metric_server_error(period=ONE_MINUTE, statistic="Sum", label="5xx"),
                ],
            ),
            _graph(
                "HTTP API latency (ms)",
                [
                    http_api.metric_latency(period=ONE_MINUTE, statistic=statistic, label=statistic)
                    for statistic in ("p50", "p90", "p99")
                ]
                + [http_api.metric_integration_latency(period=ONE_MINUTE, statistic="p99", label="integration p99")],
            ),
            _graph(
                "WebSocket connections, messages and errors",
                [
                    websocket_api.metric(metric, period=ONE_MINUTE, statistic="Sum", label=metric)
                    for metric in ("ConnectCount", "MessageCount", "IntegrationError", "ExecutionError", "ClientError")
                ],
            ),
        )
        self.dashboard.add_widgets(
            _graph(
                "Lambda errors",
                [f.metric_errors(period=ONE_MINUTE, statistic="Sum", label=n) for n, f in functions.items()],
            ),
            _graph(
                "Lambda throttles",
                [f.metric_throttles(period=ONE_MINUTE, statistic="Sum", label=n) for n, f in functions.items()],
            ),
            _graph(
                "Lambda duration p99 (ms)",
                [f.metric_duration(period=ONE_MINUTE, statistic="p99", label=n) for n, f in functions.items()],
            ),
        )
        self.dashboard.add_widgets(
            _graph(
                "Dead letters waiting",
                [
                    q.metric_approximate_number_of_messages_visible(
                        period=ONE_MINUTE, statistic="Maximum", label=_name(q)
                    )
                    for q in dead_letter_queues
                ],
            ),
            _graph(
                "DynamoDB consumed capacity",
                [
                    table.metric_consumed_read_capacity_units(period=ONE_MINUTE, statistic="Sum", label="read units"),
                    table.metric_consumed_write_capacity_units(period=ONE_MINUTE, statistic="Sum", label="write units"),
                ],
            ),
            _graph(
                "DynamoDB throttles",
                [
                    table.metric(metric, period=ONE_MINUTE, statistic="Sum", label=metric)
                    for metric in ("ReadThrottleEvents", "WriteThrottleEvents")
                ],
            ),
        )

    def _alarm(
        self,
        id: str,
        metric: cloudwatch.IMetric,
        *,
        description: str,
        threshold: float = 0,
        comparison: cloudwatch.ComparisonOperator = cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
    ) -> None:
        alarm = cloudwatch.Alarm(
            self,
            id,
            metric=metric,
            threshold=threshold,
            comparison_operator=comparison,
            evaluation_periods=1,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            alarm_description=description,
        )
        alarm.add_alarm_action(self._action)
        self.alarms.append(alarm)


def _name(construct: IConstruct) -> str:
    """A construct's path below its stack, as one word: stable across deploys, unique in the app, and readable."""
    stack_path = Stack.of(construct).node.path
    relative = construct.node.path.removeprefix(f"{stack_path}/")
    return "".join(part[:1].upper() + part[1:] for part in relative.split("/"))


def _all_functions(metric_name: str) -> cloudwatch.Metric:
    """A Lambda metric summed over every function of the account and region (Lambda publishes it undimensioned)."""
    return cloudwatch.Metric(namespace="AWS/Lambda", metric_name=metric_name, period=ONE_MINUTE, statistic="Sum")


def _business(metric: BusinessMetric, period: Duration) -> cloudwatch.Metric:
    """A platform-wide business metric (runtime/telemetry.py writes them as EMF, with no dimension)."""
    return cloudwatch.Metric(namespace=NAMESPACE, metric_name=metric.value, period=period, statistic="Sum")


def _search_graph(title: str, metric: BusinessMetric, dimension: str, statistic: str) -> cloudwatch.GraphWidget:
    """One line per value of the metric's dimension (a reason, a step), whichever values have been seen."""
    search = cloudwatch.MathExpression(
        expression=(f"SEARCH('{{{NAMESPACE},{dimension}}} MetricName=\"{metric.value}\"', '{statistic}', 300)"),
        using_metrics={},
        label=title,
        period=FIVE_MINUTES,
    )
    return _graph(title, [search])


def _graph(title: str, metrics: Sequence[cloudwatch.IMetric]) -> cloudwatch.GraphWidget:
    return cloudwatch.GraphWidget(title=title, left=list(metrics), width=8, height=6)
