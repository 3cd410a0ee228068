"""The whole platform as one stack: data, messaging, auth, email, functions, the two APIs and their alarms.

The deployment's choices come from CDK context (`-c name=value`, or cdk.json's "context"), checked here so that a
typo fails the synthesis rather than the deployment:

- `spaOrigin` (default: the stack's CloudFront distribution, `https://<id>.cloudfront.net`): the SPA's origin, the
  one the HTTP API's CORS allows. Give it when the app is served from elsewhere (`http://localhost:5173` for a
  local build against the deployed API).
- `trustedDocuments` (default `true`): the API and the WebSocket accept only the SPA's persisted documents
  (TRUSTED_DOCUMENTS_ONLY=1), and the deployed config.json tells the app to send their ids.
- `sesSender` (default platform_spec.email.SES_SENDER): the address customers' emails come from.
- `staffEmail` (none): subscribed to the order-errors and pending-stock topics.
- `alarmEmail` (none): subscribed to the alarms.
- `pixApiUrl`, `pixTokenUrl` (required): the dealership's PSP, its API Pix where the spec's paths begin
  (`https://psp.example/api/v2`) and its OAuth2 token endpoint.
- `pixKey` (required): the dealership's Pix key (`chave`), the one its charges are paid to.
- `pixCredentialsSecretName` (default `vehicle-platform/pix-credentials`): the Secrets Manager secret, created
  beforehand, holding the PSP's OAuth2 client and the mTLS certificate (runtime/pix_credentials.py).
- `pixWebhookSecretName` (default `vehicle-platform/pix-webhook`): the Secrets Manager secret, created beforehand,
  holding the value the PSP's webhook calls carry in X-Pix-Webhook-Secret.
- `removalPolicy` (default `retain`): `destroy` for a throw-away stack, whose table, buckets, key, secret, user pool
  and logs then go with it.
- `invoiceVersioning` (default `true`): keep the invoice bucket's object versions.
- `cognitoThreatProtection` (default `false`): Cognito's Plus plan, with threat protection enforced.
- `logLevel` (default `INFO`): the functions' log level.
- `sellerName`, `sellerCnpj`, `sellerAddress` (defaults: runtime.settings.OrderSettings): who sells, as the
  invoices say.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import aws_cdk as cdk
from aws_cdk import aws_lambda as lambda_
from cdk_nag import AwsSolutionsChecks, ServerlessChecks
from constructs import Construct, IConstruct, Node

from domain.errors import ValidationFailed
from domain.values import Cnpj
from platform_spec.email import SES_SENDER
from platform_spec.functions import GRAPHQL_API, PIX_WEBHOOK, WS_CONNECT, WS_DEFAULT, WS_DISCONNECT
from runtime.settings import PIX_CREDENTIALS_SECRET, OrderSettings, SagaSettings
from vehicle_platform_infra.api import HttpApi, WebhookMtls
from vehicle_platform_infra.auth import Auth
from vehicle_platform_infra.data import Data
from vehicle_platform_infra.email import Email
from vehicle_platform_infra.functions import Functions, FunctionSettings
from vehicle_platform_infra.messaging import Messaging
from vehicle_platform_infra.observability import Observability
from vehicle_platform_infra.realtime import WebSocketApi
from vehicle_platform_infra.web import WebHosting

STACK_NAME = "VehiclePlatform"
CDK_JSON = Path(__file__).resolve().parents[1] / "cdk.json"
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
# Every HTTP API of the region: what the CSP admits when the API's exact origin would make a cycle (see below).
EXECUTE_API_HOSTS = "https://*.execute-api.{region}.amazonaws.com"
_REMOVAL_POLICIES = {"retain": cdk.RemovalPolicy.RETAIN, "destroy": cdk.RemovalPolicy.DESTROY}


def cdk_json_context() -> dict[str, Any]:
    """cdk.json's context (the feature flags): the CDK CLI passes it to the app, `make synth` and the tests read it
    here, so that all three synthesize the same template."""
    context: dict[str, Any] = json.loads(CDK_JSON.read_text())["context"]
    return context


def add_nag_checks(scope: IConstruct) -> None:
    """cdk-nag's AWS Solutions and Serverless packs, as Aspects: findings become error and warning annotations, and
    each suppression sits in the construct that owns the resource, with its reason."""
    cdk.Aspects.of(scope).add(AwsSolutionsChecks(verbose=True))
    cdk.Aspects.of(scope).add(ServerlessChecks(verbose=True))


class ConfigurationError(ValueError):
    """A context value the platform cannot be deployed with."""


def _text(node: Node, key: str, default: str | None) -> str | None:
    value: Any = node.try_get_context(key)
    if value is None or value == "":
        return default
    return str(value).strip()


def _required_text(node: Node, key: str) -> str:
    value = _text(node, key, None)
    if not value:
        raise ConfigurationError(f"context {key} is required: the dealership's PSP (see this module's docstring)")
    return value


def _https(node: Node, key: str) -> str:
    value = _required_text(node, key)
    parts = urlsplit(value)
    if parts.scheme != "https" or not parts.hostname:
        raise ConfigurationError(f"context {key}={value!r}: expected an https URL such as https://psp.example/api/v2")
    return value


def _flag(node: Node, key: str, default: bool) -> bool:
    value: Any = node.try_get_context(key)
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        return value
    if str(value).lower() in {"true", "1", "yes"}:
        return True
    if str(value).lower() in {"false", "0", "no"}:
        return False
    raise ConfigurationError(f"context {key}={value!r}: expected true or false")


def _email(key: str, value: str | None) -> str | None:
    if value is not None and not _EMAIL.match(value):
        raise ConfigurationError(f"context {key}={value!r} is not an email address")
    return value


def _origin(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in {"http", "https"} or not parts.netloc or parts.path not in {"", "/"}:
        raise ConfigurationError(f"context spaOrigin={value!r}: expected an origin such as https://shop.example.com")
    return f"{parts.scheme}://{parts.netloc}"


@dataclass(frozen=True, slots=True)
class PlatformConfig:
    # None: the distribution that hosts the SPA (its domain is known at deployment only).
    spa_origin: str | None
    ses_sender: str
    staff_email: str | None
    alarm_email: str | None
    removal_policy: cdk.RemovalPolicy
    invoice_versioning: bool
    cognito_threat_protection: bool
    trusted_documents: bool
    functions: FunctionSettings
    # None: the webhook checks the per-deployment secret only (PSPs that tag their calls instead of using mTLS).
    webhook_mtls: WebhookMtls | None

    @classmethod
    def from_context(cls, node: Node) -> PlatformConfig:
        orders, saga = OrderSettings(), SagaSettings()
        removal = (_text(node, "removalPolicy", "retain") or "retain").lower()
        if removal not in _REMOVAL_POLICIES:
            raise ConfigurationError(f"context removalPolicy={removal!r}: expected one of {sorted(_REMOVAL_POLICIES)}")
        log_level = (_text(node, "logLevel", "INFO") or "INFO").upper()
        if log_level not in {level.value for level in lambda_.ApplicationLogLevel}:
            raise ConfigurationError(f"context logLevel={log_level!r} is not a Lambda log level")
        seller_cnpj = _text(node, "sellerCnpj", orders.seller_cnpj) or orders.seller_cnpj
        try:
            # The functions parse it when they start (composition/aws.py): refuse a bad one now.
            Cnpj.parse(seller_cnpj)
        except ValidationFailed as error:
            raise ConfigurationError(f"context sellerCnpj={seller_cnpj!r}: {error.message}") from error
        spa_origin = _text(node, "spaOrigin", None)
        trusted_documents = _flag(node, "trustedDocuments", default=True)
        return cls(
            spa_origin=None if spa_origin is None else _origin(spa_origin),
            ses_sender=_email("sesSender", _text(node, "sesSender", SES_SENDER)) or SES_SENDER,
            staff_email=_email("staffEmail", _text(node, "staffEmail", None)),
            alarm_email=_email("alarmEmail", _text(node, "alarmEmail", None)),
            removal_policy=_REMOVAL_POLICIES[removal],
            invoice_versioning=_flag(node, "invoiceVersioning", default=True),
            cognito_threat_protection=_flag(node, "cognitoThreatProtection", default=False),
            trusted_documents=trusted_documents,
            webhook_mtls=_webhook_mtls(node),
            functions=FunctionSettings(
                log_level=log_level,
                pix_api_url=_https(node, "pixApiUrl"),
                pix_token_url=_https(node, "pixTokenUrl"),
                pix_key=_required_text(node, "pixKey"),
                pix_credentials_secret_name=(
                    _text(node, "pixCredentialsSecretName", PIX_CREDENTIALS_SECRET) or PIX_CREDENTIALS_SECRET
                ),
                pix_webhook_secret_name=(
                    _text(node, "pixWebhookSecretName", "vehicle-platform/pix-webhook")
                    or "vehicle-platform/pix-webhook"
                ),
                payment_ttl_seconds=saga.payment_ttl_seconds,
                invoice_link_seconds=orders.invoice_link_seconds,
                seller_name=_text(node, "sellerName", orders.seller_name) or orders.seller_name,
                seller_cnpj=seller_cnpj,
                seller_address=_text(node, "sellerAddress", orders.seller_address) or orders.seller_address,
                trusted_documents_only=trusted_documents,
            ),
        )


def _webhook_mtls(node: Node) -> WebhookMtls | None:
    """`pixWebhookDomain`, `pixWebhookCertificateArn` and `pixWebhookTruststore` together, or none of them."""
    values = {
        key: _text(node, key, None) for key in ("pixWebhookDomain", "pixWebhookCertificateArn", "pixWebhookTruststore")
    }
    given = {key: value for key, value in values.items() if value}
    if not given:
        return None
    missing = sorted(set(values) - set(given))
    if missing:
        raise ConfigurationError(f"context {', '.join(missing)} required with {', '.join(sorted(given))}: mutual TLS")
    truststore = given["pixWebhookTruststore"]
    if not truststore.startswith("s3://") or "/" not in truststore.removeprefix("s3://"):
        raise ConfigurationError(f"context pixWebhookTruststore={truststore!r}: expected s3://bucket/key.pem")
    return WebhookMtls(
        domain_name=given["pixWebhookDomain"],
        certificate_arn=given["pixWebhookCertificateArn"],
        truststore_uri=truststore,
    )


class VehiclePlatformStack(cdk.Stack):
    def __init__(self, scope: Construct, id: str, **kwargs: Any) -> None:
        super().__init__(
            scope,
            id,
            description="Vehicle Platform: GraphQL API, purchase saga, realtime gateway, batch intake",
            **kwargs,
        )
        self.config = config = PlatformConfig.from_context(self.node)
        cdk.Tags.of(self).add("application", "vehicle-platform")

        self.messaging = Messaging(
            self, "Messaging", staff_email=config.staff_email, removal_policy=config.removal_policy
        )
        self.data = Data(
            self,
            "Data",
            removal_policy=config.removal_policy,
            intake_files_queue=self.messaging.queues["intake-files"],
            invoice_versioning=config.invoice_versioning,
        )
        self.auth = Auth(
            self, "Auth", removal_policy=config.removal_policy, threat_protection=config.cognito_threat_protection
        )
        self.email = Email(self, "Email", sender=config.ses_sender)
        self.functions = Functions(
            self,
            "Functions",
            data=self.data,
            messaging=self.messaging,
            auth=self.auth,
            email=self.email,
            settings=config.functions,
            removal_policy=config.removal_policy,
        )

        self.websocket = WebSocketApi(
            self,
            "WebSocketApi",
            connect=self.functions[WS_CONNECT],
            default=self.functions[WS_DEFAULT],
            disconnect=self.functions[WS_DISCONNECT],
        )
        self.functions.attach_websocket(self.websocket)

        # The SPA's hosting. Its CSP names the HTTP API's origin, and by default the API's CORS names the
        # distribution's: with both exact, the template would hold a cycle (API -> distribution -> headers policy ->
        # API). So by default the CSP admits the region's execute-api hosts; with spaOrigin given, the API comes
        # first and the CSP names it exactly.
        if config.spa_origin is None:
            self.web = self._web_hosting(api_origin=EXECUTE_API_HOSTS.format(region=self.region))
            self.http_api = self._http_api(cors_origin=self.web.url)
        else:
            self.http_api = self._http_api(cors_origin=config.spa_origin)
            self.web = self._web_hosting(api_origin=self.http_api.origin)
        # What web/src/config.ts reads; the region's Cognito endpoint, so no `endpoint`.
        self.web.deploy_app(
            {
                "apiUrl": self.http_api.graphql_url,
                "wsUrl": self.websocket.url,
                "cognito": {
                    "region": self.region,
                    "userPoolId": self.auth.user_pool.user_pool_id,
                    "clientId": self.auth.client.user_pool_client_id,
                },
                "trustedDocuments": config.trusted_documents,
                "environment": "aws",
            }
        )

        self.observability = Observability(
            self,
            "Observability",
            functions=self.functions.functions,
            dead_letter_queues=[*self.messaging.all_dead_letter_queues, *self.functions.dead_letter_queues],
            http_api=self.http_api.api,
            websocket_api=self.websocket.api,
            table=self.data.table,
            alarm_email=config.alarm_email,
        )

        outputs = {
            "GraphQLUrl": (self.http_api.graphql_url, "POST GraphQL queries and mutations here"),
            "WebhookUrl": (
                self.http_api.webhook_url,
                "Register this with the PSP as the Pix webhook URL (it calls <url>/pix)",
            ),
            "WebSocketUrl": (self.websocket.url, "graphql-transport-ws subscriptions"),
            "WebUrl": (self.web.url, "The web app (storefront and back office)"),
            "UserPoolId": (self.auth.user_pool.user_pool_id, "Cognito user pool"),
            "UserPoolClientId": (self.auth.client.user_pool_client_id, "The SPA's Cognito app client"),
            "TableName": (self.data.table.table_name, "The single DynamoDB table"),
            "InvoicesBucket": (self.data.invoices.bucket_name, "Invoice documents"),
            "IntakeBucket": (self.data.intake.bucket_name, "Drop batch order files (.json) here"),
            "AlarmTopicArn": (self.observability.alarm_topic.topic_arn, "Subscribe on-call here"),
        }
        if self.http_api.webhook_domain_target is not None:
            outputs["PixWebhookDomainTarget"] = (
                self.http_api.webhook_domain_target,
                "Point the webhook's domain here (a CNAME): the PSP reaches the webhook over mutual TLS only",
            )
        for name, (value, description) in outputs.items():
            cdk.CfnOutput(self, name, value=value, description=description)

    def _web_hosting(self, *, api_origin: str) -> WebHosting:
        return WebHosting(
            self,
            "Web",
            access_logs=self.data.access_logs,
            api_origin=api_origin,
            websocket_origin=self.websocket.origin,
            removal_policy=self.config.removal_policy,
        )

    def _http_api(self, *, cors_origin: str) -> HttpApi:
        return HttpApi(
            self,
            "HttpApi",
            graphql_function=self.functions[GRAPHQL_API],
            webhook_function=self.functions[PIX_WEBHOOK],
            user_pool=self.auth.user_pool,
            user_pool_client=self.auth.client,
            spa_origin=cors_origin,
            webhook_mtls=self.config.webhook_mtls,
        )
