"""One typed settings object, read from the environment once. Logic receives it; it never reads os.environ."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache

from platform_spec.email import SES_SENDER
from platform_spec.storage import TABLE_NAME
from runtime.secrets import Secrets

# Only the local stack may fall back to these: outside local mode a missing secret is a startup error.
_LOCAL_SECRETS = {
    "CURSOR_SECRET": "local-only-cursor-secret",
    "PIX_WEBHOOK_SECRET": "local-only-webhook-secret",
}
# The local stack's PSP (local_stack/pix_psp.py, on port 8002) and the secret it provisions in the emulator.
LOCAL_PIX_URL = "http://127.0.0.1:8002"
PIX_CREDENTIALS_SECRET = "vehicle-platform/pix-credentials"  # noqa: S105 - the secret's name, not a secret
LOCAL_PIX_KEY = "pix@vehicle-platform.example"


class SettingsError(ValueError):
    """The environment does not describe a runnable deployment."""


@dataclass(frozen=True, slots=True)
class GraphQLLimits:
    max_depth: int = 10
    max_aliases: int = 15
    # Fields in the document once every fragment spread is expanded: what execution and the rules really face.
    max_fields: int = 500
    max_tokens: int = 2_000
    max_body_bytes: int = 64 * 1024
    max_page_size: int = 100


_DEFAULT_LIMITS = GraphQLLimits()


@dataclass(frozen=True, slots=True)
class SagaSettings:
    events_topic_arn: str = ""
    sales_queue_url: str = ""
    ses_sender: str = SES_SENDER
    payment_ttl_seconds: int = 30 * 60
    # How long an order may wait for stock (PENDING_STOCK) holding what it reserved; then it is cancelled.
    pending_stock_ttl_hours: float = 72.0


_DEFAULT_SAGA = SagaSettings()


@dataclass(frozen=True, slots=True)
class PixSettings:
    """The dealership's PSP (its API Pix) and its Pix key. Empty outside local mode until configured: only what
    takes or refunds payments needs them, and it refuses to start without them (composition/aws.py)."""

    # Where the API Pix's paths begin (e.g. https://psp.example/api/v2), and its OAuth2 token endpoint.
    api_url: str = ""
    token_url: str = ""
    # The key (`chave`) the charges are paid to.
    chave: str = ""
    # The Secrets Manager secret holding the OAuth2 client and the mTLS certificate (runtime/pix_credentials.py).
    credentials_secret: str = PIX_CREDENTIALS_SECRET
    # The header value the PSP's webhook calls carry (pix/webhook.py); only the webhook function has it.
    webhook_secret: str = field(default="", repr=False)
    # The reconciliation (sagas/reconcile.py) reads the Pix received in the last `reconcile_window_seconds` up to
    # `reconcile_lag_seconds` ago: windows overlap (each Pix is read by several runs), and a Pix the PSP is still
    # recording, or whose webhook call is on its way, is left to the next run.
    reconcile_window_seconds: int = 15 * 60
    reconcile_lag_seconds: int = 60
    # How long a call to the PSP may wait for its answer before the step gives up and its queue retries it.
    read_timeout_seconds: float = 10.0


@dataclass(frozen=True, slots=True)
class OrderSettings:
    """Product orders, invoices and the batch intake."""

    invoices_bucket: str = ""
    # How long an invoice link (a presigned URL) stays valid.
    invoice_link_seconds: int = 300
    # Who sells, as the invoice says: the dealership's legal name, CNPJ and address.
    seller_name: str = "Concessionária Exemplo Ltda"
    seller_cnpj: str = "11.222.333/0001-81"
    seller_address: str = "Avenida Paulista, 1000, Bela Vista, São Paulo - SP, 01310-100"
    pending_stock_topic_arn: str = ""
    order_errors_topic_arn: str = ""
    intake_orders_queue_url: str = ""


_DEFAULT_ORDERS = OrderSettings()


@dataclass(frozen=True, slots=True)
class RealtimeSettings:
    # The @connections endpoint; empty on AWS, where each event names its API's domain and stage.
    management_url: str = ""
    # Where $connect schedules the check that the client sent connection_init in time (a delayed message).
    init_timeout_queue_url: str = ""
    # API Gateway's limits on a connection (10 minutes idle, 2 hours in all): the local stack shortens them, its
    # gateway and the keep-alive sweep alike.
    idle_timeout_seconds: float = 600.0
    max_duration_seconds: float = 7200.0
    # Where the fan-out sends the delivery batches of a topic too large for one invocation (realtime/batches.py);
    # without it every push is posted by the fan-out itself.
    delivery_queue_url: str = ""
    # How many subscribers one invocation posts to: a topic with more is split into batches of this many.
    fanout_batch_size: int = 250

    @property
    def sweep_seconds(self) -> float:
        """How often the keep-alive sweep runs: a tenth of the idle window, the expiry schedule's minute on AWS."""
        return self.idle_timeout_seconds / 10


_DEFAULT_REALTIME = RealtimeSettings()


@dataclass(frozen=True, slots=True)
class Settings:
    region: str
    table_name: str
    endpoint_url: str | None
    local_mode: bool
    cognito_user_pool_id: str
    cognito_client_id: str
    cognito_issuer: str
    cognito_jwks_url: str
    # One key per purpose (cursors), derived from the root secret CURSOR_SECRET.
    secrets: Secrets
    # The SPA's origin: API Gateway answers CORS for it on AWS; the local API does it itself (runtime/cors.py).
    spa_origin: str
    # Only the web app's documents (by id, or their exact text) are served, except to staff.
    trusted_documents_only: bool
    limits: GraphQLLimits
    saga: SagaSettings
    realtime: RealtimeSettings
    orders: OrderSettings = _DEFAULT_ORDERS
    pix: PixSettings = PixSettings()

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> Settings:
        region = environ.get("AWS_REGION") or environ.get("AWS_DEFAULT_REGION") or "us-east-1"
        local_mode = environ.get("APP_ENV", "aws").lower() == "local"
        pool_id = environ.get("COGNITO_USER_POOL_ID", "")
        issuer = environ.get("COGNITO_ISSUER") or (
            f"https://cognito-idp.{region}.amazonaws.com/{pool_id}" if pool_id else ""
        )
        # The local emulator serves the keys at its own address while `iss` names AWS: two separate settings.
        jwks_url = environ.get("COGNITO_JWKS_URL") or (f"{issuer}/.well-known/jwks.json" if issuer else "")

        def secret(name: str, purpose: str) -> bytes:
            value = environ.get(name) or (_LOCAL_SECRETS[name] if local_mode else "")
            if not value:
                raise SettingsError(f"{name} is required outside local mode ({purpose})")
            return value.encode()

        return cls(
            region=region,
            table_name=environ.get("TABLE_NAME", TABLE_NAME),
            endpoint_url=environ.get("AWS_ENDPOINT_URL") or None,
            local_mode=local_mode,
            cognito_user_pool_id=pool_id,
            cognito_client_id=environ.get("COGNITO_CLIENT_ID", ""),
            cognito_issuer=issuer,
            cognito_jwks_url=jwks_url,
            secrets=Secrets.derive(secret("CURSOR_SECRET", "the root of the keys of cursors")),
            spa_origin=environ.get("SPA_ORIGIN", "http://127.0.0.1:5173"),
            trusted_documents_only=environ.get("TRUSTED_DOCUMENTS_ONLY", "").lower() in {"1", "true", "yes"},
            limits=GraphQLLimits(
                max_depth=int(environ.get("GRAPHQL_MAX_DEPTH", _DEFAULT_LIMITS.max_depth)),
                max_aliases=int(environ.get("GRAPHQL_MAX_ALIASES", _DEFAULT_LIMITS.max_aliases)),
                max_fields=int(environ.get("GRAPHQL_MAX_FIELDS", _DEFAULT_LIMITS.max_fields)),
                max_tokens=int(environ.get("GRAPHQL_MAX_TOKENS", _DEFAULT_LIMITS.max_tokens)),
                max_body_bytes=int(environ.get("GRAPHQL_MAX_BODY_BYTES", _DEFAULT_LIMITS.max_body_bytes)),
            ),
            saga=SagaSettings(
                events_topic_arn=environ.get("EVENTS_TOPIC_ARN", ""),
                sales_queue_url=environ.get("SALES_NOTIFICATIONS_QUEUE_URL", ""),
                ses_sender=environ.get("SES_SENDER", _DEFAULT_SAGA.ses_sender),
                payment_ttl_seconds=int(environ.get("PAYMENT_TTL_SECONDS", str(30 * 60))),
                pending_stock_ttl_hours=_positive_hours(environ, "PENDING_STOCK_TTL_HOURS", _DEFAULT_SAGA),
            ),
            pix=_pix_settings(environ, local_mode),
            realtime=RealtimeSettings(
                management_url=environ.get("WS_MANAGEMENT_URL", ""),
                init_timeout_queue_url=environ.get("WS_INIT_TIMEOUT_QUEUE_URL", ""),
                idle_timeout_seconds=float(environ.get("WS_IDLE_TIMEOUT_SECONDS", "600")),
                max_duration_seconds=float(environ.get("WS_MAX_DURATION_SECONDS", "7200")),
                delivery_queue_url=environ.get("WS_DELIVERY_QUEUE_URL", ""),
                fanout_batch_size=_positive_int(environ, "FANOUT_BATCH_SIZE", _DEFAULT_REALTIME.fanout_batch_size),
            ),
            orders=OrderSettings(
                invoices_bucket=environ.get("INVOICES_BUCKET", ""),
                invoice_link_seconds=int(
                    environ.get("INVOICE_LINK_SECONDS", str(_DEFAULT_ORDERS.invoice_link_seconds))
                ),
                seller_name=environ.get("SELLER_NAME", _DEFAULT_ORDERS.seller_name),
                seller_cnpj=environ.get("SELLER_CNPJ", _DEFAULT_ORDERS.seller_cnpj),
                seller_address=environ.get("SELLER_ADDRESS", _DEFAULT_ORDERS.seller_address),
                pending_stock_topic_arn=environ.get("PENDING_STOCK_TOPIC_ARN", ""),
                order_errors_topic_arn=environ.get("ORDER_ERRORS_TOPIC_ARN", ""),
                intake_orders_queue_url=environ.get("INTAKE_ORDERS_QUEUE_URL", ""),
            ),
        )


def _pix_settings(environ: Mapping[str, str], local_mode: bool) -> PixSettings:
    return PixSettings(
        api_url=environ.get("PIX_API_URL") or (f"{LOCAL_PIX_URL}/api/v2" if local_mode else ""),
        token_url=environ.get("PIX_TOKEN_URL") or (f"{LOCAL_PIX_URL}/oauth/token" if local_mode else ""),
        chave=environ.get("PIX_KEY") or (LOCAL_PIX_KEY if local_mode else ""),
        credentials_secret=environ.get("PIX_CREDENTIALS_SECRET", PIX_CREDENTIALS_SECRET),
        # Only the webhook function needs it; it refuses every call without one (see sagas/webhook.py).
        webhook_secret=environ.get("PIX_WEBHOOK_SECRET")
        or (_LOCAL_SECRETS["PIX_WEBHOOK_SECRET"] if local_mode else ""),
        reconcile_window_seconds=int(environ.get("PIX_RECONCILE_WINDOW_SECONDS", str(15 * 60))),
        # Locally the reconciliation runs every few seconds, so that a lost webhook is recovered within a minute.
        reconcile_lag_seconds=int(environ.get("PIX_RECONCILE_LAG_SECONDS", "2" if local_mode else "60")),
        read_timeout_seconds=float(environ.get("PIX_READ_TIMEOUT_SECONDS", "10")),
    )


def _positive_int(environ: Mapping[str, str], name: str, default: int) -> int:
    raw = environ.get(name)
    if raw is None or not raw.strip():
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a whole number, e.g. {default}") from None
    if value < 1:
        raise SettingsError(f"{name} must be at least 1")
    return value


def _positive_hours(environ: Mapping[str, str], name: str, defaults: SagaSettings) -> float:
    raw = environ.get(name)
    if raw is None or not raw.strip():
        return defaults.pending_stock_ttl_hours
    try:
        hours = float(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a number of hours, e.g. 72") from None
    if not 0 < hours < float("inf"):
        raise SettingsError(f"{name} must be more than 0 hours")
    return hours


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process's settings. Cached: a Lambda reads its environment once per container."""
    return Settings.from_env(os.environ)
