"""The saga's services for this process, built once from the settings on first use (Lambda init, or locally)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import timedelta
from functools import lru_cache

from pynamodb.connection import Connection

from domain.notifications import Notifications
from domain.purchase import Purchase
from persistence.cursors import CursorCodec
from persistence.models import bind
from persistence.notifications import DynamoNotificationLedger
from persistence.purchases import DynamoPurchaseStore
from runtime.clock import SystemClock
from runtime.invoices import S3InvoiceArchive
from runtime.payment_provider import purchase_saga
from runtime.settings import Settings, get_settings
from sagas.adapters import SesMailer, SnsEventPublisher, SnsStaffAlerts, SqsSalesFeed


@dataclass(frozen=True, slots=True)
class SagaServices:
    settings: Settings
    store: DynamoPurchaseStore
    purchase: Purchase
    notifications: Notifications
    publisher: SnsEventPublisher


def build_saga_services(settings: Settings) -> SagaServices:
    bind(settings.table_name, settings.region, settings.endpoint_url)
    store = DynamoPurchaseStore(
        Connection(region=settings.region, host=settings.endpoint_url), CursorCodec(settings.cursor_secret)
    )
    archive = S3InvoiceArchive(settings.orders.invoices_bucket, settings.orders.invoice_link_seconds)
    purchase = purchase_saga(store, settings, SystemClock(), archive)
    purchase.config = replace(purchase.config, pending_stock_ttl=timedelta(hours=settings.saga.pending_stock_ttl_hours))
    notifications = Notifications(
        store,
        DynamoNotificationLedger(),
        SesMailer(settings.saga.ses_sender),
        SqsSalesFeed(settings.saga.sales_queue_url),
        SnsStaffAlerts(settings.orders.pending_stock_topic_arn),
    )
    return SagaServices(
        settings=settings,
        store=store,
        purchase=purchase,
        notifications=notifications,
        publisher=SnsEventPublisher(settings.saga.events_topic_arn),
    )


@lru_cache(maxsize=1)
def saga_services() -> SagaServices:
    return build_saga_services(get_settings())
