"""The HTTP API in front of the GraphQL function and the Pix webhook.

Routes (payload format 2.0, which Mangum and Powertools' APIGatewayHttpResolver both read):
- `POST /graphql`: the GraphQL function. POST only: GraphiQL (the one GET client) is served locally only
  (graphql_api/http.py answers a GET on AWS with 405), so a GET route would only widen the surface.
- `GET /health`: the same function, which checks its backing services.
- `POST /webhooks/pix`: the webhook function. The PSP calls `{webhookUrl}/pix`, so the webhook URL given to it is
  `<api>/webhooks`; each call carries the deployment's secret header, which the function checks.

With mutual TLS (the API Pix's own way to authenticate the PSP; `WebhookMtls`), the webhook leaves this API for one
of its own, reachable only through a custom domain that asks every caller for a certificate the truststore signed:
its execute-api endpoint is off, so no call skips the handshake. The secret header is still checked.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass

import jsii
from aws_cdk import CfnResource, Duration, Stack
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_apigatewayv2_integrations as integrations
from aws_cdk import aws_certificatemanager as acm
from aws_cdk import aws_cognito as cognito
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
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


@dataclass(frozen=True, slots=True)
class WebhookMtls:
    """The webhook behind mutual TLS: its custom domain, that domain's ACM certificate (in the stack's region), and
    the PEM bundle of the CAs whose client certificates may call it (`s3://bucket/key`, the PSP's CA)."""

    domain_name: str
    certificate_arn: str
    truststore_uri: str


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
        webhook_mtls: WebhookMtls | None = None,
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
        ]
        webhook_reason = (
            "The PSP has no Cognito identity: every call carries the deployment's secret header, which the "
            "webhook function checks in constant time before reading the body (sagas/webhook.py)."
        )
        # Where the webhook's custom domain must point (its DNS), when it has one.
        self.webhook_domain_target: str | None = None
        if webhook_mtls is None:
            webhook_api, webhook_base = self.api, self.api.api_endpoint
        else:
            webhook_api, webhook_base = self._mtls_webhook_api(webhook_mtls), f"https://{webhook_mtls.domain_name}"
            webhook_reason += " Mutual TLS at the custom domain authenticates the PSP first."
        webhook_routes = webhook_api.add_routes(
            path="/webhooks/pix", methods=[apigwv2.HttpMethod.POST], integration=webhook
        )
        open_routes.append((webhook_routes, webhook_reason))
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
        self.webhook_url: str = f"{webhook_base}/webhooks"

    def _mtls_webhook_api(self, mtls: WebhookMtls) -> apigwv2.HttpApi:
        """The webhook's own API: reachable only through its mutual-TLS custom domain."""
        api = apigwv2.HttpApi(
            self,
            "PixWebhookApi",
            api_name=f"{Stack.of(self).stack_name}-pix-webhook",
            description="Vehicle Platform: the Pix webhook, behind mutual TLS",
            disable_execute_api_endpoint=True,
            create_default_stage=False,
        )
        access_logs = logs.LogGroup(self, "PixWebhookAccessLogs", retention=ACCESS_LOG_RETENTION)
        stage = apigwv2.HttpStage(
            self,
            "PixWebhookStage",
            http_api=api,
            auto_deploy=True,
            throttle=apigwv2.ThrottleSettings(rate_limit=RATE_LIMIT, burst_limit=BURST_LIMIT),
            access_log_settings=JsonAccessLogs(access_logs, _HTTP_ACCESS_LOG_FIELDS),
        )
        bucket, _, key = mtls.truststore_uri.removeprefix("s3://").partition("/")
        domain = apigwv2.DomainName(
            self,
            "PixWebhookDomain",
            domain_name=mtls.domain_name,
            certificate=acm.Certificate.from_certificate_arn(self, "PixWebhookCertificate", mtls.certificate_arn),
            mtls=apigwv2.MTLSConfig(bucket=s3.Bucket.from_bucket_name(self, "PixTruststore", bucket), key=key),
        )
        apigwv2.ApiMapping(self, "PixWebhookMapping", api=api, domain_name=domain, stage=stage)
        self.webhook_domain_target = domain.regional_domain_name
        return api
