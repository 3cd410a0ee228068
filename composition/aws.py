"""The service graphs as AWS runs them: DynamoDB through PynamoDB, S3, SNS, SQS and SES through boto3.

The local stack builds the same graphs against its emulator (AWS_ENDPOINT_URL). Every import of an AWS library is
inside the builder that needs it: a handler's module imports this one for free, and pays at its first event.
"""

from __future__ import annotations

import threading
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from runtime.settings import Settings

if TYPE_CHECKING:
    from pynamodb.connection import Connection

    from domain.ports import Clock
    from domain.purchase import (
        Charge,
        InvoiceArchive,
        Payer,
        PaymentProvider,
        Purchase,
        PurchaseStore,
        RefundReceipt,
    )
    from domain.values import Money
    from graphql_api.wiring import Services
    from persistence.connections import DynamoConnectionStore
    from pix.api import PixApiClient
    from pix.model import Pix
    from realtime.handlers import RealtimeServices
    from runtime.pix_payments import PixPaymentProvider
    from sagas.intake_adapters import IntakeServices
    from sagas.wiring import SagaServices


def pix_payments(settings: Settings) -> DealershipPsp:
    """The dealership's PSP, as the saga's payment provider and the reconciliation's list of received Pix."""
    return DealershipPsp(settings)


class DealershipPsp:
    """The dealership's PSP through its API Pix, with the credentials from Secrets Manager: the domain's payment
    provider (a charge payable as long as the saga waits for its payment), and the Pix it received.

    Built at the first call that needs it, once per process (thread safe): a graph that never charges (most API
    requests) pays neither the secret's read nor the TLS setup at its cold start."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._lock = threading.Lock()
        self._built: tuple[PixApiClient, PixPaymentProvider] | None = None

    def _connected(self) -> tuple[PixApiClient, PixPaymentProvider]:
        from pix.api import PixApiClient
        from runtime.pix_credentials import read_pix_credentials
        from runtime.pix_payments import PixPaymentProvider
        from runtime.settings import SettingsError

        with self._lock:
            if self._built is None:
                settings, pix = self._settings, self._settings.pix
                required = {"PIX_API_URL": pix.api_url, "PIX_TOKEN_URL": pix.token_url, "PIX_KEY": pix.chave}
                missing = [name for name, value in required.items() if not value]
                if missing:
                    raise SettingsError(f"{', '.join(missing)} must be set to take payments")
                credentials = read_pix_credentials(pix.credentials_secret, settings.region, settings.endpoint_url)
                client = PixApiClient(pix.api_url, pix.token_url, credentials, read_timeout=pix.read_timeout_seconds)
                ttl = timedelta(seconds=settings.saga.payment_ttl_seconds)
                self._built = client, PixPaymentProvider(client, chave=pix.chave, charge_ttl=ttl)
            return self._built

    def create_charge(
        self, *, order_id: str, amount: Money, expires_at: datetime, payer: Payer, description: str
    ) -> Charge:
        return self._connected()[1].create_charge(
            order_id=order_id, amount=amount, expires_at=expires_at, payer=payer, description=description
        )

    def remove_charge(self, code: str) -> None:
        self._connected()[1].remove_charge(code)

    def refund(self, *, payment_code: str, end_to_end_id: str, amount: Money, attempt: int) -> RefundReceipt:
        return self._connected()[1].refund(
            payment_code=payment_code, end_to_end_id=end_to_end_id, amount=amount, attempt=attempt
        )

    def list_pix(self, inicio: datetime, fim: datetime) -> tuple[Pix, ...]:
        return self._connected()[0].list_pix(inicio, fim)


def purchase_saga(
    store: PurchaseStore, settings: Settings, clock: Clock, archive: InvoiceArchive, payments: PaymentProvider
) -> Purchase:
    """The purchase saga as this deployment runs it: its payment provider, its deadlines, who sells."""
    from domain.invoice_document import Seller
    from domain.purchase import Purchase, SagaConfig
    from domain.values import Cnpj
    from runtime.invoice_html import HtmlInvoiceRenderer

    orders = settings.orders
    seller = Seller(name=orders.seller_name, cnpj=Cnpj.parse(orders.seller_cnpj), address=orders.seller_address)
    return Purchase(
        store=store,
        clock=clock,
        payments=payments,
        archive=archive,
        renderer=HtmlInvoiceRenderer(),
        config=SagaConfig(
            seller=seller,
            payment_ttl=timedelta(seconds=settings.saga.payment_ttl_seconds),
            pending_stock_ttl=timedelta(hours=settings.saga.pending_stock_ttl_hours),
        ),
    )


def _table(settings: Settings) -> Connection:
    """The models bound to this deployment's table, and a connection to it for the transactions."""
    from pynamodb.connection import Connection

    from persistence.models import bind

    bind(settings.table_name, settings.region, settings.endpoint_url)
    return Connection(region=settings.region, host=settings.endpoint_url)


def api_services(settings: Settings) -> Services:
    """What the GraphQL resolvers (and the WebSocket's subscriptions) use."""

    from domain.access import AccessControl
    from graphql_api.wiring import Services
    from persistence.cursors import CursorCodec
    from persistence.models import TableItem
    from persistence.purchases import DynamoPurchaseStore
    from persistence.repositories import DynamoClientStore, DynamoProductStore, DynamoVehicleStore
    from runtime.auth import TokenVerifier
    from runtime.clock import SystemClock
    from runtime.cognito_admin import CognitoUserDirectory
    from runtime.invoices import S3InvoiceArchive

    cursors = CursorCodec(settings.secrets.cursors)
    invoices = S3InvoiceArchive(settings.orders.invoices_bucket, settings.orders.invoice_link_seconds)
    connection = _table(settings)
    purchases = DynamoPurchaseStore(connection, cursors)
    clock = SystemClock()
    verifier = TokenVerifier(
        issuer=settings.cognito_issuer,
        client_id=settings.cognito_client_id,
        jwks_url=settings.cognito_jwks_url,
    )

    def check_table() -> None:
        TableItem.describe_table()

    def check_user_pool() -> None:
        verifier.fetch_keys()

    return Services(
        vehicles=DynamoVehicleStore(cursors),
        products=DynamoProductStore(cursors),
        clients=DynamoClientStore(connection),
        orders=purchases,
        purchase=purchase_saga(purchases, settings, clock, invoices, pix_payments(settings)),
        invoices=invoices,
        clock=clock,
        verifier=verifier,
        access=AccessControl(CognitoUserDirectory(settings.cognito_user_pool_id), _WebSocketSessions(settings)),
        health_checks={"dynamodb": check_table, "cognito": check_user_pool},
    )


class _WebSocketSessions:
    """The users' open WebSocket connections, built at the first use: the realtime modules load only when staff
    block someone, never at the API's cold start."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings

    def end_all(self, subject: str) -> int:
        from realtime.sweep import ConnectionSessions

        return ConnectionSessions(self._connections(), self._settings.realtime.management_url).end_all(subject)

    def revoked_at(self, subject: str) -> float | None:
        return self._connections().revoked_at(subject)

    def _connections(self) -> DynamoConnectionStore:
        from persistence.connections import DynamoConnectionStore

        return DynamoConnectionStore(_table(self._settings))


def saga_services(settings: Settings) -> SagaServices:
    """What the saga's steps, the outbox relay, the expiry sweep, the Pix webhook and the reconciliation use."""

    from domain.notifications import Notifications
    from persistence.cursors import CursorCodec
    from persistence.notifications import DynamoNotificationLedger
    from persistence.purchases import DynamoPurchaseStore
    from runtime.clock import SystemClock
    from runtime.invoices import S3InvoiceArchive
    from sagas.adapters import SesMailer, SnsEventPublisher, SnsStaffAlerts, SqsSalesFeed
    from sagas.wiring import SagaServices

    store = DynamoPurchaseStore(_table(settings), CursorCodec(settings.secrets.cursors))
    archive = S3InvoiceArchive(settings.orders.invoices_bucket, settings.orders.invoice_link_seconds)
    notifications = Notifications(
        store,
        DynamoNotificationLedger(),
        SesMailer(settings.saga.ses_sender),
        SqsSalesFeed(settings.saga.sales_queue_url),
        SnsStaffAlerts(settings.orders.pending_stock_topic_arn),
    )
    psp = pix_payments(settings)
    return SagaServices(
        settings=settings,
        store=store,
        purchase=purchase_saga(store, settings, SystemClock(), archive, psp),
        notifications=notifications,
        publisher=SnsEventPublisher(settings.saga.events_topic_arn),
        received_pix=psp,
    )


def intake_services(settings: Settings) -> IntakeServices:
    """What the batch intake's two handlers use: the intake bucket, its queue and topic, and the saga."""
    import boto3

    from domain.batch_orders import BatchIntake, BatchOrders
    from persistence.cursors import CursorCodec
    from persistence.purchases import DynamoPurchaseStore
    from persistence.repositories import DynamoClientStore, DynamoProductStore
    from runtime.clock import SystemClock
    from runtime.invoices import S3InvoiceArchive
    from sagas.intake_adapters import IntakeServices, S3BatchFiles, SnsStaffTopic, SqsOrderQueue

    # A session of its own: boto3's default session is not safe to share while other threads create clients.
    session = boto3.session.Session()
    s3 = session.client("s3")
    connection = _table(settings)
    cursors = CursorCodec(settings.secrets.cursors)
    store = DynamoPurchaseStore(connection, cursors)
    clock = SystemClock()
    orders = settings.orders
    files = S3BatchFiles(s3)
    intake = BatchIntake(
        files=files,
        queue=SqsOrderQueue(orders.intake_orders_queue_url, session.client("sqs")),
        staff=SnsStaffTopic(orders.order_errors_topic_arn, session.client("sns")),
        products=DynamoProductStore(cursors),
        orders=store,
    )
    purchase = purchase_saga(
        store,
        settings,
        clock,
        S3InvoiceArchive(orders.invoices_bucket, orders.invoice_link_seconds, s3),
        pix_payments(settings),
    )
    return IntakeServices(
        files=files, intake=intake, orders=BatchOrders(DynamoClientStore(connection), purchase, clock)
    )


def realtime_services(settings: Settings) -> RealtimeServices:
    """What the WebSocket handlers and the fan-out use: the connections, the API's services, the schema."""

    from graphql_api.schema import build_schema
    from persistence.connections import DynamoConnectionStore
    from realtime.handlers import RealtimeServices

    return RealtimeServices(
        settings=settings,
        connections=DynamoConnectionStore(_table(settings)),
        api=api_services(settings),
        schema=build_schema(settings),
    )
