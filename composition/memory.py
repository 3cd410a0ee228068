"""The service graphs over in-memory stores: for tests of the API and for benchmarks without DynamoDB."""

from __future__ import annotations

from typing import TYPE_CHECKING

from composition.aws import purchase_saga
from runtime.settings import Settings

if TYPE_CHECKING:
    from domain.ports import Clock
    from domain.purchase import PaymentProvider
    from graphql_api.wiring import Services, Verifier


def api_services(settings: Settings, *, clock: Clock, verifier: Verifier, payments: PaymentProvider) -> Services:
    """The API's services as `aws.api_services` builds them, every store in memory, no health check to run, and
    the payment provider the caller gives (a fake, or a PixPaymentProvider over a local PSP)."""
    from graphql_api.wiring import Services
    from persistence.cursors import CursorCodec
    from persistence.memory import MemoryClientStore, MemoryProductStore, MemoryPurchaseStore, MemoryVehicleStore
    from runtime.invoices import MemoryInvoiceArchive

    codec = CursorCodec(settings.secrets.cursors)
    vehicles = MemoryVehicleStore(codec)
    clients = MemoryClientStore()
    products = MemoryProductStore(codec)
    purchases = MemoryPurchaseStore(vehicles, clients, codec, products)
    invoices = MemoryInvoiceArchive()
    return Services(
        vehicles=vehicles,
        products=products,
        clients=clients,
        orders=purchases,
        purchase=purchase_saga(purchases, settings, clock, invoices, payments),
        invoices=invoices,
        clock=clock,
        verifier=verifier,
        health_checks={},
    )
