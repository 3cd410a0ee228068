"""The service graphs over in-memory stores: for tests of the API and for benchmarks without DynamoDB."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from composition.aws import purchase_saga
from runtime.settings import Settings

if TYPE_CHECKING:
    from domain.access import AccessControl
    from domain.ports import Clock
    from domain.purchase import PaymentProvider
    from graphql_api.wiring import Services, Verifier


class MemoryUserDirectory:
    """A user pool in memory: email -> subject, groups, whether enabled, and how many times signed out."""

    def __init__(self, users: dict[str, str] | None = None) -> None:
        self.subjects: dict[str, str] = dict(users or {})
        self.groups: dict[str, set[str]] = {email: set() for email in self.subjects}
        self.disabled: set[str] = set()
        self.signed_out: list[str] = []

    def subject_of(self, email: str) -> str | None:
        return self.subjects.get(email)

    def disable(self, email: str) -> None:
        self.disabled.add(email)

    def remove_from_group(self, email: str, group: str) -> None:
        self.groups.setdefault(email, set()).discard(group)

    def sign_out_everywhere(self, email: str) -> None:
        self.signed_out.append(email)


class MemorySessions:
    """Open connections by subject, as counts: ending them forgets them and notes when the access was taken."""

    def __init__(self, open_connections: dict[str, int] | None = None) -> None:
        self.open: dict[str, int] = dict(open_connections or {})
        self.revoked: dict[str, float] = {}

    def end_all(self, subject: str) -> int:
        self.revoked[subject] = time.time()
        return self.open.pop(subject, 0)

    def revoked_at(self, subject: str) -> float | None:
        return self.revoked.get(subject)


def api_services(
    settings: Settings,
    *,
    clock: Clock,
    verifier: Verifier,
    payments: PaymentProvider,
    access: AccessControl | None = None,
) -> Services:
    """The API's services as `aws.api_services` builds them, every store in memory, no health check to run, and
    the payment provider the caller gives (a fake, or a PixPaymentProvider over a local PSP)."""
    from domain.access import AccessControl
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
        access=access or AccessControl(MemoryUserDirectory(), MemorySessions()),
        health_checks={},
    )
