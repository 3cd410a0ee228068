"""The WebSocket API the SPA's graphql-ws client connects to (subprotocol graphql-transport-ws).

Three routes, each a Lambda proxy integration (realtime/handlers.py):
- `$connect` accepts only clients offering graphql-transport-ws and answers with the `Sec-WebSocket-Protocol`
  header; API Gateway passes a proxy integration's response headers into the handshake, so no route response is
  needed.
- `$default` receives every message. The route selection expression stays API Gateway's `$request.body.action`:
  graphql-transport-ws messages carry `type`, never `action`, so all of them fall through to `$default`, where one
  state machine judges each message against the connection's stored state. Routing by `type` would spread one
  protocol over several routes that all need the same function and the same state.
- `$disconnect` forgets the connection and its subscriptions.
"""

from __future__ import annotations

import re

from aws_cdk import RemovalPolicy, Stack
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_apigatewayv2_integrations as integrations
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from cdk_nag import NagPackSuppression, NagSuppressions, RegexAppliesTo
from constructs import Construct

from .api import ACCESS_LOG_RETENTION, BURST_LIMIT, RATE_LIMIT, JsonAccessLogs, cfn_resource

STAGE_NAME = "live"

_WS_ACCESS_LOG_FIELDS = {
    "requestId": "$context.requestId",
    "ip": "$context.identity.sourceIp",
    "time": "$context.requestTime",
    "connectionId": "$context.connectionId",
    "eventType": "$context.eventType",
    "routeKey": "$context.routeKey",
    "status": "$context.status",
    "integrationLatency": "$context.integrationLatency",
    "integrationError": "$context.integration.error",
    "error": "$context.error.message",
}

_NO_AUTHORIZER = (
    "Browsers cannot set an Authorization header on a WebSocket handshake, and graphql-transport-ws carries the "
    "token in connection_init's payload instead. realtime/handlers.py verifies that Cognito JWT before anything "
    "else is accepted, closes connections that do not send connection_init within 10 s, and checks each "
    "subscription against the authenticated user. API Gateway allows an authorizer on $connect only (never "
    "$default or $disconnect), and the SPA's graphql-ws client sends no token there."
)


class WebSocketApi(Construct):
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        connect: lambda_.IFunction,
        default: lambda_.IFunction,
        disconnect: lambda_.IFunction,
    ) -> None:
        super().__init__(scope, id)
        self.api = apigwv2.WebSocketApi(
            self,
            "Api",
            api_name=f"{Stack.of(self).stack_name}-realtime",
            description="Vehicle Platform: GraphQL subscriptions over graphql-transport-ws",
            connect_route_options=apigwv2.WebSocketRouteOptions(
                integration=integrations.WebSocketLambdaIntegration("ConnectHandler", connect)
            ),
            default_route_options=apigwv2.WebSocketRouteOptions(
                integration=integrations.WebSocketLambdaIntegration("MessageHandler", default)
            ),
            disconnect_route_options=apigwv2.WebSocketRouteOptions(
                integration=integrations.WebSocketLambdaIntegration("DisconnectHandler", disconnect)
            ),
        )
        for route_key in ("$connect", "$default", "$disconnect"):
            NagSuppressions.add_resource_suppressions(
                cfn_resource(self.api.node.find_child(f"{route_key}-Route")),
                [NagPackSuppression(id="AwsSolutions-APIG4", reason=_NO_AUTHORIZER)],
            )

        self.access_logs = logs.LogGroup(self, "AccessLogs", retention=ACCESS_LOG_RETENTION)
        logging_role = _ApiGatewayLoggingRole(self, "LoggingRole")
        self.stage = apigwv2.WebSocketStage(
            self,
            "Stage",
            web_socket_api=self.api,
            stage_name=STAGE_NAME,
            auto_deploy=True,
            # The same ceiling as the HTTP API (seed 001): messages and connection attempts per second.
            throttle=apigwv2.ThrottleSettings(rate_limit=RATE_LIMIT, burst_limit=BURST_LIMIT),
            access_log_settings=JsonAccessLogs(self.access_logs, _WS_ACCESS_LOG_FIELDS),
        )
        self.stage.node.add_dependency(logging_role)

        self.url: str = self.stage.url
        # wss://<id>.execute-api.<region>.amazonaws.com: what the web app's CSP admits (web.py).
        self.origin: str = self.api.api_endpoint
        self.management_url: str = self.stage.callback_url

    def grant_manage_connections(self, grantee: iam.IGrantable) -> None:
        """Post to, read and close this stage's connections (execute-api:ManageConnections), nothing else."""
        self.stage.grant_management_api_access(grantee)
        principal = grantee.grant_principal
        # A role of this app holds the statement in its default policy; other principals get no policy to annotate.
        if isinstance(principal, Construct):
            NagSuppressions.add_resource_suppressions(
                principal,
                [
                    NagPackSuppression(
                        id="AwsSolutions-IAM5",
                        reason=(
                            "Connection ids are minted by API Gateway at $connect, so @connections/* is the narrowest "
                            "resource; it is bound to this API's id and stage."
                        ),
                        applies_to=[_connections_resource(self.api, STAGE_NAME)],
                    )
                ],
                apply_to_children=True,
            )


class _ApiGatewayLoggingRole(Construct):
    """The account-wide role API Gateway writes WebSocket (and REST) logs with.

    Unlike HTTP APIs, a WebSocket stage with access logs fails to deploy ("CloudWatch Logs role ARN must be set in
    account settings to enable logging") until the region's API Gateway account settings name such a role. It is
    retained on delete, as CDK's RestApi does with its own: other APIs of the account may rely on it.
    """

    def __init__(self, scope: Construct, id: str) -> None:
        super().__init__(scope, id)
        role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("apigateway.amazonaws.com"),
            managed_policies=[
                iam.ManagedPolicy.from_aws_managed_policy_name("service-role/AmazonAPIGatewayPushToCloudWatchLogs")
            ],
        )
        role.apply_removal_policy(RemovalPolicy.RETAIN)
        NagSuppressions.add_resource_suppressions(
            role,
            [
                NagPackSuppression(
                    id="AwsSolutions-IAM4",
                    reason=(
                        "AmazonAPIGatewayPushToCloudWatchLogs is the policy AWS documents for this account-wide role; "
                        "it must cover the log groups of every API in the region, not only this stack's."
                    ),
                    applies_to=[
                        "Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs"
                    ],
                )
            ],
        )
        account = apigw.CfnAccount(self, "Account", cloud_watch_role_arn=role.role_arn)
        account.apply_removal_policy(RemovalPolicy.RETAIN)


def _connections_resource(api: apigwv2.WebSocketApi, stage_name: str) -> RegexAppliesTo:
    # cdk-nag names a finding's resource with references rewritten as <LogicalId>, and partition, region and account
    # either as pseudo parameters or as literals (the stack's environment, or the partition-literals feature flag).
    logical_id = re.escape(Stack.of(api).resolve(api.api_id)["Ref"])
    arn = (
        rf"arn:(?:<AWS::Partition>|aws[\w-]*):execute-api:(?:<AWS::Region>|[\w-]+):(?:<AWS::AccountId>|\d{{12}}):"
        rf"<{logical_id}>\/{stage_name}\/\*\/@connections\/\*"
    )
    return RegexAppliesTo(regex=f"/^Resource::{arn}$/")
