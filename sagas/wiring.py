"""The saga's services, and this process's graph of them: built by the composition root (composition/aws.py) on
first use, once per cold start; the local stack and the tests install the graph they built instead."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from composition import ProcessDefault
from domain.notifications import Notifications
from domain.purchase import Purchase, PurchaseStore
from pix.model import Pix
from runtime.settings import Settings, get_settings


class EventPublisher(Protocol):
    """Where the outbox relay publishes each event (sagas/adapters.py, SnsEventPublisher, on AWS)."""

    def publish(self, event_type: str, body: str, order_id: str, trace_header: str | None = None) -> None: ...


class ReceivedPix(Protocol):
    """The Pix the dealership's PSP received (`GET /pix`): what the reconciliation reads (sagas/reconcile.py)."""

    def list_pix(self, inicio: datetime, fim: datetime) -> tuple[Pix, ...]: ...


@dataclass(frozen=True, slots=True)
class SagaServices:
    settings: Settings
    store: PurchaseStore
    purchase: Purchase
    notifications: Notifications
    publisher: EventPublisher
    received_pix: ReceivedPix


def _build() -> SagaServices:
    from composition.aws import saga_services as build

    return build(get_settings())


saga_services: ProcessDefault[SagaServices] = ProcessDefault(_build)
