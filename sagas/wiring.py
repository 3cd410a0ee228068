"""The saga's services, and this process's graph of them: built by the composition root (composition/aws.py) on
first use, once per cold start; the local stack and the tests install the graph they built instead."""

from __future__ import annotations

from dataclasses import dataclass

from composition import ProcessDefault
from domain.notifications import Notifications
from domain.purchase import Purchase
from persistence.purchases import DynamoPurchaseStore
from runtime.settings import Settings, get_settings
from sagas.adapters import SnsEventPublisher


@dataclass(frozen=True, slots=True)
class SagaServices:
    settings: Settings
    store: DynamoPurchaseStore
    purchase: Purchase
    notifications: Notifications
    publisher: SnsEventPublisher


def _build() -> SagaServices:
    from composition.aws import saga_services as build

    return build(get_settings())


saga_services: ProcessDefault[SagaServices] = ProcessDefault(_build)
