"""The API, realtime and observability constructs, synthesized once in a stack of their own with stand-in resources.

The constructs are checked on the template they produce, and with cdk-nag's AwsSolutions and Serverless packs: none
of their resources may carry an unsuppressed finding.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_cognito as cognito
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sqs as sqs
from aws_cdk.assertions import Match, Template
from cdk_nag import AwsSolutionsChecks, ServerlessChecks
from constructs import Construct, IConstruct

from vehicle_platform_infra.api import HttpApi
from vehicle_platform_infra.observability import Observability
from vehicle_platform_infra.realtime import WebSocketApi

SPA_ORIGIN = "https://app.example.com"
ALARM_EMAIL = "ops@example.com"
FUNCTIONS = ("GraphQL", "PixWebhook", "WsConnect", "WsDefault", "WsDisconnect", "RealtimeFanout")
# The constructs under test, by id: nag findings under these paths are theirs.
OWN = ("Api", "Realtime", "Observability")

Json = dict[str, Any]


@dataclass(frozen=True)
class Synthesized:
    stack: cdk.Stack
    template: Template
    resources: dict[str, Json]
    # cdk-nag's reports, read from the files it writes beside the template: the rows not compliant, not suppressed.
    nag_findings: list[dict[str, str]]
    functions: dict[str, str]  # function name -> logical id
    dead_letter_queues: list[str]  # logical ids
    websocket: WebSocketApi

    def of_type(self, resource_type: str) -> dict[str, Json]:
        return {key: value for key, value in self.resources.items() if value["Type"] == resource_type}

    def only(self, resource_type: str, **properties: Any) -> Json:
        found: list[Json] = [
            value["Properties"]
            for value in self.of_type(resource_type).values()
            if all(value["Properties"].get(name) == expected for name, expected in properties.items())
        ]
        assert len(found) == 1, f"{resource_type} {properties}: {len(found)} found"
        return found[0]


def _nag_findings(outdir: Path) -> list[dict[str, str]]:
    """Read from cdk-nag's CSV reports rather than the stack's annotations: turning annotation entries back into
    Python objects goes through jsii's lazy type loading, which failed on a fresh install."""
    findings: list[dict[str, str]] = []
    for report in sorted(outdir.glob("*-NagReport.csv")):
        with report.open(newline="") as rows:
            findings += [row for row in csv.DictReader(rows) if row["Compliance"] == "Non-Compliant"]
    return findings


@pytest.fixture(scope="module")
def synthesized(tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    outdir = tmp_path_factory.mktemp("cdk.out")
    app = cdk.App(outdir=str(outdir))
    stack = cdk.Stack(app, "Test", env=cdk.Environment(account="123456789012", region="sa-east-1"))
    functions = {
        name: lambda_.Function(
            stack,
            name,
            runtime=lambda_.Runtime.PYTHON_3_12,
            architecture=lambda_.Architecture.ARM_64,
            handler="index.handler",
            code=lambda_.Code.from_inline("def handler(event, context):\n    return {'statusCode': 200}\n"),
        )
        for name in FUNCTIONS
    }
    users = cognito.UserPool(stack, "Users")
    spa = users.add_client("Spa")
    table = dynamodb.TableV2(
        stack, "Table", partition_key=dynamodb.Attribute(name="pk", type=dynamodb.AttributeType.STRING)
    )
    # Two saga steps' DLQs share an id under different parents, as a messaging construct makes them; one is FIFO.
    dead_letter_queues: list[sqs.IQueue] = [
        sqs.Queue(Construct(stack, step), "Dlq") for step in ("ValidateClient", "ReserveVehicle")
    ]
    dead_letter_queues.append(sqs.Queue(stack, "IntakeDlq", fifo=True))

    api = HttpApi(
        stack,
        "Api",
        graphql_function=functions["GraphQL"],
        webhook_function=functions["PixWebhook"],
        user_pool=users,
        user_pool_client=spa,
        spa_origin=SPA_ORIGIN,
    )
    websocket = WebSocketApi(
        stack,
        "Realtime",
        connect=functions["WsConnect"],
        default=functions["WsDefault"],
        disconnect=functions["WsDisconnect"],
    )
    for name in ("WsDefault", "RealtimeFanout"):
        websocket.grant_manage_connections(functions[name])
    Observability(
        stack,
        "Observability",
        functions=functions,
        dead_letter_queues=dead_letter_queues,
        http_api=api.api,
        websocket_api=websocket.api,
        table=table,
        alarm_email=ALARM_EMAIL,
    )
    cdk.Aspects.of(app).add(AwsSolutionsChecks())
    cdk.Aspects.of(app).add(ServerlessChecks())

    template = Template.from_stack(stack)
    return Synthesized(
        stack=stack,
        template=template,
        resources=template.to_json()["Resources"],
        nag_findings=_nag_findings(outdir),
        functions={name: _logical_id(function) for name, function in functions.items()},
        dead_letter_queues=[_logical_id(queue) for queue in dead_letter_queues],
        websocket=websocket,
    )


def _logical_id(construct: IConstruct) -> str:
    resource = construct.node.default_child
    assert isinstance(resource, cdk.CfnElement)
    return cdk.Stack.of(construct).get_logical_id(resource)


def _function_arn(logical_id: str) -> Json:
    return {"Fn::GetAtt": [logical_id, "Arn"]}


def _integration_target(synthesized: Synthesized, route: Json) -> Json:
    integration_id = route["Target"]["Fn::Join"][1][1]["Ref"]
    integration: Json = synthesized.resources[integration_id]["Properties"]
    return integration


def _http_api_id(synthesized: Synthesized) -> str:
    (api_id,) = [
        key
        for key, value in synthesized.of_type("AWS::ApiGatewayV2::Api").items()
        if value["Properties"]["ProtocolType"] == "HTTP"
    ]
    return api_id


# HTTP API


def test_http_routes_are_post_graphql_get_health_and_post_webhook_through_lambda_proxy(
    synthesized: Synthesized,
) -> None:
    api_id = _http_api_id(synthesized)
    routes = {
        value["Properties"]["RouteKey"]: value["Properties"]
        for value in synthesized.of_type("AWS::ApiGatewayV2::Route").values()
        if value["Properties"]["ApiId"] == {"Ref": api_id}
    }
    assert set(routes) == {"POST /graphql", "GET /health", "POST /webhooks/pix"}
    expected = {"POST /graphql": "GraphQL", "GET /health": "GraphQL", "POST /webhooks/pix": "PixWebhook"}
    for route_key, function in expected.items():
        integration = _integration_target(synthesized, routes[route_key])
        assert integration["IntegrationType"] == "AWS_PROXY"
        assert integration["PayloadFormatVersion"] == "2.0"
        assert integration["IntegrationUri"] == _function_arn(synthesized.functions[function])
        # Anonymous browsing, uptime checks and the signed webhook: every route reaches its function.
        assert routes[route_key]["AuthorizationType"] == "NONE"


def test_api_gateway_may_invoke_the_webhook_function_for_its_route_only(synthesized: Synthesized) -> None:
    permissions = [
        value["Properties"]
        for value in synthesized.of_type("AWS::Lambda::Permission").values()
        if value["Properties"]["Principal"] == "apigateway.amazonaws.com"
    ]
    webhook = [p for p in permissions if p["FunctionName"] == _function_arn(synthesized.functions["PixWebhook"])]
    assert len(webhook) == 1
    assert webhook[0]["SourceArn"]["Fn::Join"][1][-1] == "/*/*/webhooks/pix"


def test_cors_admits_the_spa_origin_only(synthesized: Synthesized) -> None:
    cors = synthesized.only("AWS::ApiGatewayV2::Api", ProtocolType="HTTP")["CorsConfiguration"]
    assert cors["AllowOrigins"] == [SPA_ORIGIN]
    assert set(cors["AllowMethods"]) == {"POST", "GET", "OPTIONS"}
    assert set(cors["AllowHeaders"]) == {"authorization", "content-type"}
    assert cors["MaxAge"] > 0
    assert "AllowCredentials" not in cors


def test_http_default_stage_throttles_at_seed_001_limits_and_logs_json(synthesized: Synthesized) -> None:
    stage = synthesized.only("AWS::ApiGatewayV2::Stage", StageName="$default")
    assert stage["ApiId"] == {"Ref": _http_api_id(synthesized)}
    assert stage["AutoDeploy"] is True
    assert stage["DefaultRouteSettings"] == {"ThrottlingRateLimit": 100, "ThrottlingBurstLimit": 200}
    fields = json.loads(stage["AccessLogSettings"]["Format"])
    assert {"requestId", "ip", "routeKey", "status", "latency", "integrationError"} <= set(fields)
    assert fields["requestId"] == "$context.requestId"
    log_group = stage["AccessLogSettings"]["DestinationArn"]["Fn::GetAtt"][0]
    assert synthesized.resources[log_group]["Properties"]["RetentionInDays"] > 0


def test_the_cognito_jwt_authorizer_names_the_pool_and_the_spa_client(synthesized: Synthesized) -> None:
    authorizer = synthesized.only("AWS::ApiGatewayV2::Authorizer", AuthorizerType="JWT")
    assert authorizer["IdentitySource"] == ["$request.header.Authorization"]
    (pool,) = synthesized.of_type("AWS::Cognito::UserPool")
    (client,) = synthesized.of_type("AWS::Cognito::UserPoolClient")
    assert authorizer["JwtConfiguration"] == {
        "Audience": [{"Ref": client}],
        "Issuer": {"Fn::Join": ["", ["https://cognito-idp.sa-east-1.amazonaws.com/", {"Ref": pool}]]},
    }


# WebSocket API


def test_websocket_routes_reach_their_handlers_and_every_message_goes_to_default(synthesized: Synthesized) -> None:
    api = synthesized.only("AWS::ApiGatewayV2::Api", ProtocolType="WEBSOCKET")
    assert api["RouteSelectionExpression"] == "$request.body.action"
    routes = {
        value["Properties"]["RouteKey"]: value["Properties"]
        for value in synthesized.of_type("AWS::ApiGatewayV2::Route").values()
        if value["Properties"]["RouteKey"].startswith("$")
    }
    expected = {"$connect": "WsConnect", "$default": "WsDefault", "$disconnect": "WsDisconnect"}
    assert set(routes) == set(expected)
    for route_key, function in expected.items():
        integration = _integration_target(synthesized, routes[route_key])
        assert integration["IntegrationType"] == "AWS_PROXY"
        uri = json.dumps(integration["IntegrationUri"])
        assert json.dumps(_function_arn(synthesized.functions[function])) in uri


def test_websocket_stage_is_live_throttled_and_logged(synthesized: Synthesized) -> None:
    (stage_resource,) = [
        value
        for value in synthesized.of_type("AWS::ApiGatewayV2::Stage").values()
        if value["Properties"]["StageName"] == "live"
    ]
    stage = stage_resource["Properties"]
    assert stage["AutoDeploy"] is True
    assert stage["DefaultRouteSettings"] == {"ThrottlingRateLimit": 100, "ThrottlingBurstLimit": 200}
    fields = json.loads(stage["AccessLogSettings"]["Format"])
    assert {"requestId", "ip", "connectionId", "routeKey", "status", "integrationError"} <= set(fields)
    # WebSocket access logs need the account's API Gateway logging role in place before the stage.
    (account,) = synthesized.of_type("AWS::ApiGateway::Account")
    assert account in stage_resource["DependsOn"]


def test_websocket_urls_name_the_stage(synthesized: Synthesized) -> None:
    url = json.dumps(synthesized.stack.resolve(synthesized.websocket.url))
    management_url = json.dumps(synthesized.stack.resolve(synthesized.websocket.management_url))
    assert url.startswith('{"Fn::Join": ["", ["wss://"')
    assert management_url.startswith('{"Fn::Join": ["", ["https://"')
    for address in (url, management_url):
        assert address.endswith('"/live"]]}')


def test_manage_connections_is_granted_on_this_api_and_stage_only(synthesized: Synthesized) -> None:
    (api,) = [
        key
        for key, value in synthesized.of_type("AWS::ApiGatewayV2::Api").items()
        if value["Properties"]["ProtocolType"] == "WEBSOCKET"
    ]
    statements = [
        statement
        for policy in synthesized.of_type("AWS::IAM::Policy").values()
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
        if "execute-api:ManageConnections" in json.dumps(statement["Action"])
    ]
    assert len(statements) == 2  # the two grantees
    for statement in statements:
        assert statement["Action"] == "execute-api:ManageConnections"
        resource = statement["Resource"]
        assert resource != "*"
        parts = resource["Fn::Join"][1]
        assert {"Ref": api} in parts
        assert parts[-1] == "/live/*/@connections/*"


# Observability


def _alarms(synthesized: Synthesized, metric_name: str) -> list[Json]:
    return [
        value["Properties"]
        for value in synthesized.of_type("AWS::CloudWatch::Alarm").values()
        if value["Properties"].get("MetricName") == metric_name
    ]


def test_one_alarm_per_dead_letter_queue_at_the_first_message(synthesized: Synthesized) -> None:
    alarms = _alarms(synthesized, "ApproximateNumberOfMessagesVisible")
    watched = [alarm["Dimensions"] for alarm in alarms]
    assert sorted(json.dumps(d) for d in watched) == sorted(
        json.dumps([{"Name": "QueueName", "Value": {"Fn::GetAtt": [queue, "QueueName"]}}])
        for queue in synthesized.dead_letter_queues
    )
    for alarm in alarms:
        assert alarm["Threshold"] == 1
        assert alarm["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"
        assert (alarm["EvaluationPeriods"], alarm["Period"]) == (1, 60)


@pytest.mark.parametrize("metric_name", ["Errors", "Throttles"])
def test_one_alarm_watches_every_functions_errors_and_one_their_throttles(
    synthesized: Synthesized, metric_name: str
) -> None:
    # Lambda's undimensioned metric sums every function of the account: one alarm metric, not one per function
    (alarm,) = _alarms(synthesized, metric_name)
    assert (alarm["Namespace"], alarm.get("Dimensions")) == ("AWS/Lambda", None)
    assert (alarm["Statistic"], alarm["Period"], alarm["Threshold"]) == ("Sum", 60, 0)
    assert alarm["ComparisonOperator"] == "GreaterThanThreshold"


def test_http_api_alarms_on_5xx_and_on_p99_latency_over_two_seconds(synthesized: Synthesized) -> None:
    api = {"Ref": _http_api_id(synthesized)}
    (server_errors,) = _alarms(synthesized, "5xx")
    assert server_errors["Dimensions"] == [{"Name": "ApiId", "Value": api}]
    assert (server_errors["Threshold"], server_errors["Period"]) == (0, 300)
    (latency,) = _alarms(synthesized, "Latency")
    assert latency["Dimensions"] == [{"Name": "ApiId", "Value": api}]
    assert (latency["ExtendedStatistic"], latency["Threshold"], latency["Period"]) == ("p99", 2000, 300)


def test_websocket_and_table_alarms_sum_their_error_metrics(synthesized: Synthesized) -> None:
    math_alarms = [
        json.dumps(value["Properties"]["Metrics"])
        for value in synthesized.of_type("AWS::CloudWatch::Alarm").values()
        if "Metrics" in value["Properties"]
    ]
    for metric_names in (
        ("IntegrationError", "ExecutionError"),
        ("ReadThrottleEvents", "WriteThrottleEvents"),
        ("SystemErrors",),
    ):
        assert any(all(f'"MetricName": "{name}"' in alarm for name in metric_names) for alarm in math_alarms)


def test_an_alarm_fires_when_orders_keep_arriving_and_no_sale_completes(synthesized: Synthesized) -> None:
    (alarm,) = [
        value["Properties"]
        for key, value in synthesized.of_type("AWS::CloudWatch::Alarm").items()
        if key.startswith("ObservabilitySalesStopped")
    ]
    metrics = {query["Id"]: query for query in alarm["Metrics"]}
    expression = next(query["Expression"] for query in alarm["Metrics"] if "Expression" in query)
    stats = {
        query["MetricStat"]["Metric"]["MetricName"]: query["MetricStat"]
        for query in metrics.values()
        if "MetricStat" in query
    }
    assert set(stats) == {"OrdersPlaced", "SalesCompleted"}
    for stat in stats.values():
        assert (stat["Metric"]["Namespace"], stat["Period"], stat["Stat"]) == ("VehiclePlatform", 3600, "Sum")
    assert "FILL(placed, 0) >= 5 AND FILL(completed, 0) == 0" in expression
    assert (alarm["Threshold"], alarm["ComparisonOperator"]) == (0, "GreaterThanThreshold")


def test_every_alarm_notifies_the_alarm_topic_and_ignores_missing_data(synthesized: Synthesized) -> None:
    (topic,) = synthesized.of_type("AWS::SNS::Topic")
    alarms = synthesized.of_type("AWS::CloudWatch::Alarm").values()
    # 3 DLQs, every function's errors and throttles, HTTP 5xx and latency, WebSocket errors, table throttles and
    # system errors, sales stopped.
    assert len(alarms) == 3 + 2 + 6
    for alarm in alarms:
        assert alarm["Properties"]["AlarmActions"] == [{"Ref": topic}]
        assert alarm["Properties"]["TreatMissingData"] == "notBreaching"


def test_the_alarm_topic_refuses_plain_http_and_mails_the_operators(synthesized: Synthesized) -> None:
    (topic,) = synthesized.of_type("AWS::SNS::Topic")
    synthesized.template.has_resource_properties(
        "AWS::SNS::Subscription", {"Protocol": "email", "Endpoint": ALARM_EMAIL, "TopicArn": {"Ref": topic}}
    )
    synthesized.template.has_resource_properties(
        "AWS::SNS::TopicPolicy",
        {
            "Topics": [{"Ref": topic}],
            "PolicyDocument": {
                "Statement": Match.array_with(
                    [Match.object_like({"Effect": "Deny", "Condition": {"Bool": {"aws:SecureTransport": "false"}}})]
                )
            },
        },
    )


def test_the_dashboard_shows_api_functions_queues_and_table(synthesized: Synthesized) -> None:
    (dashboard,) = synthesized.of_type("AWS::CloudWatch::Dashboard").values()
    body = json.dumps(dashboard["Properties"]["DashboardBody"])
    for title in (
        "HTTP API requests and errors",
        "HTTP API latency",
        "WebSocket connections",
        "Lambda errors",
        "Lambda throttles",
        "Lambda duration",
        "Dead letters waiting",
        "DynamoDB consumed capacity",
        "DynamoDB throttles",
        "Sales",
        "Cancellations by reason",
        "Saga step latency",
        "Order files (intake)",
        "WebSocket pushes and connections gone",
    ):
        assert title in body
    for metric in ("OrdersPlaced", "SalesCompleted", "PaymentsExpired", "RefundsOwed", "IntakeOrdersRejected"):
        assert metric in body
    for function in synthesized.functions.values():
        assert function in body


# cdk-nag


def _grant_finding(finding: dict[str, str]) -> bool:
    # The stand-in functions' policies hold nothing but grant_manage_connections' statement: an IAM5 there is ours.
    return finding["Rule ID"] == "AwsSolutions-IAM5" and finding["Resource ID"].endswith("/DefaultPolicy/Resource")


def test_cdk_nag_finds_nothing_unsuppressed_in_these_constructs(synthesized: Synthesized) -> None:
    findings = synthesized.nag_findings
    assert findings, "cdk-nag did not run: the stand-in functions alone have findings"
    own = [
        f"{finding['Rule ID']}: {finding['Resource ID']}"
        for finding in findings
        if finding["Resource ID"].split("/")[1] in OWN or _grant_finding(finding)
    ]
    assert own == []
