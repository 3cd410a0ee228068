"""The HTTP API in front of the GraphQL function and the Pix webhook.

Routes (payload format 2.0, which Mangum and Powertools' APIGatewayHttpResolver both read):
- `POST /graphql`: the GraphQL function. POST only: GraphiQL (the one GET client) is served locally only
  (graphql_api/http.py answers a GET on AWS with 405), so a GET route would only widen the surface.
- `GET /health`: the same function, which checks its backing services.
- `POST /webhooks/pix`: the webhook function. The PSP calls `{webhookUrl}/pix`, so the webhook URL given to it is
  `<api>/webhooks`; each call carries the deployment's secret header, which the function checks.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

import jsii
from aws_cdk import CfnResource, Duration, Stack
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_apigatewayv2_integrations as integrations
from aws_cdk import aws_cognito as cognito
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from cdk_nag import NagPackSuppression, NagSuppressions
from constructs import Construct, IConstruct

from runtime import cors

# Seed 001's limits for the API: 100 requests/s sustained, bursts of 200.
RATE_LIMIT = 100
BURST_LIMIT = 200
ACCESS_LOG_RETENTION = logs.RetentionDays.ONE_MONTH

# One JSON object per request, so Logs Insights can filter on any field. requestId is the id the GraphQL function
# logs too (graphql_api/app.py), which joins a gateway line to the function's lines.
_HTTP_ACCESS_LOG_FIELDS = {
    "requestId": "$context.requestId",
    "ip": "$context.identity.sourceIp",
    "time": "$context.requestTime",
    "routeKey": "$context.routeKey",
    "status": "$context.status",
    "latency": "$context.responseLatency",
    "integrationLatency": "$context.integrationLatency",
    "integrationError": "$context.integrationErrorMessage",
    "responseLength": "$context.responseLength",
    "userAgent": "$context.identity.userAgent",
}


@jsii.implements(apigwv2.IAccessLogSettings)
class JsonAccessLogs:
    """Access log settings for an API Gateway v2 stage: the fields as one JSON line, into a log group."""

    def __init__(self, log_group: logs.ILogGroup, fields: Mapping[str, str]) -> None:
        self._destination = apigwv2.LogGroupLogDestination(log_group)
        self._format = apigw.AccessLogFormat.custom(json.dumps(dict(fields), separators=(",", ":")))

    @property
    def destination(self) -> apigwv2.IAccessLogDestination:
        return self._destination

    @property
    def format(self) -> apigw.AccessLogFormat:
        return self._format


def cfn_resource(construct: IConstruct) -> CfnResource:
    """The CloudFormation resource an L2 construct wraps: where a suppression meant for it alone belongs."""
    resource = construct.node.default_child
    if not isinstance(resource, CfnResource):
        raise TypeError(f"{construct.node.path} wraps no single CloudFormation resource")
    return resource


class HttpApi(Construct):
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        graphql_function: lambda_.IFunction,
        webhook_function: lambda_.IFunction,
        user_pool: cognito.IUserPool,
        user_pool_client: cognito.IUserPoolClient,
        spa_origin: str,
    ) -> None:
        super().__init__(scope, id)
        self.api = apigwv2.HttpApi(
            self,
            "Api",
            api_name=f"{Stack.of(self).stack_name}-http",
            description="Vehicle Platform: GraphQL, health and the Pix webhook",
            cors_preflight=apigwv2.CorsPreflightOptions(
                allow_origins=[spa_origin],
                allow_methods=[apigwv2.CorsHttpMethod(method) for method in cors.ALLOW_METHODS],
                allow_headers=list(cors.ALLOW_HEADERS),
                expose_headers=list(cors.EXPOSE_HEADERS),
                max_age=Duration.seconds(cors.MAX_AGE_SECONDS),
            ),
            # The default stage is declared below: the one HttpApi makes takes neither throttling nor access logs.
            create_default_stage=False,
        )
        self.access_logs = logs.LogGroup(self, "AccessLogs", retention=ACCESS_LOG_RETENTION)
        self.stage = apigwv2.HttpStage(
            self,
            "DefaultStage",
            http_api=self.api,
            auto_deploy=True,
            throttle=apigwv2.ThrottleSettings(rate_limit=RATE_LIMIT, burst_limit=BURST_LIMIT),
            access_log_settings=JsonAccessLogs(self.access_logs, _HTTP_ACCESS_LOG_FIELDS),
        )

        graphql = integrations.HttpLambdaIntegration(
            "GraphQL", graphql_function, payload_format_version=apigwv2.PayloadFormatVersion.VERSION_2_0
        )
        webhook = integrations.HttpLambdaIntegration(
            "PixWebhook", webhook_function, payload_format_version=apigwv2.PayloadFormatVersion.VERSION_2_0
        )
        open_routes = [
            (
                self.api.add_routes(path="/graphql", methods=[apigwv2.HttpMethod.POST], integration=graphql),
                "Anonymous visitors list vehicles (DESIGN.md: `vehicles` needs no login), so a gateway JWT "
                "authorizer, which answers 401 to a request without a token, cannot sit in front of /graphql. The "
                "GraphQL function verifies the Cognito JWT itself (runtime/auth.py: signature, issuer, audience, "
                "expiry) on every request that carries one, and each resolver decides what an anonymous caller may do.",
            ),
            (
                self.api.add_routes(path="/health", methods=[apigwv2.HttpMethod.GET], integration=graphql),
                "/health is for uptime checks, which carry no user token; it reports whether each backing service "
                "answers, and no business data.",
            ),
            (
                self.api.add_routes(path="/webhooks/pix", methods=[apigwv2.HttpMethod.POST], integration=webhook),
                "The PSP has no Cognito identity: every call carries the deployment's secret header, which the "
                "webhook function checks in constant time before reading the body (sagas/webhook.py).",
            ),
        ]
        for routes, reason in open_routes:
            for route in routes:
                NagSuppressions.add_resource_suppressions(
                    cfn_resource(route), [NagPackSuppression(id="AwsSolutions-APIG4", reason=reason)]
                )

        # Deployed, but bound to no route, on purpose: every route above admits callers without a Cognito token
        # (anonymous browsing, uptime checks, the provider), and a JWT authorizer answers those 401 before the
        # function runs. It pins, next to the API, the issuer and audience the GraphQL function enforces in code, so
        # a future signed-in-only route gets the gateway check with `authorizer=`. An HttpAuthorizer, because
        # HttpJwtAuthorizer only reaches the template once a route binds it.
        self.jwt_authorizer = apigwv2.HttpAuthorizer(
            self,
            "CognitoJwt",
            http_api=self.api,
            type=apigwv2.HttpAuthorizerType.JWT,
            identity_source=["$request.header.Authorization"],
            jwt_issuer=f"https://cognito-idp.{Stack.of(self).region}.amazonaws.com/{user_pool.user_pool_id}",
            jwt_audience=[user_pool_client.user_pool_client_id],
        )

        base = self.api.api_endpoint
        # https://<id>.execute-api.<region>.amazonaws.com
        self.origin: str = base
        self.graphql_url: str = f"{base}/graphql"
        # What the PSP is given as the webhook URL: it appends /pix.
        self.webhook_url: str = f"{base}/webhooks"
