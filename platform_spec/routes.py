"""Which events reach which saga step: each step's queue subscribes to the events topic with a filter on these
types. The consumers accept exactly these, and the local stack and the CDK app subscribe exactly these."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from domain.events import EventType

STEP_SUBSCRIPTIONS: Mapping[str, frozenset[EventType]] = MappingProxyType(
    {
        "validate-client": frozenset({EventType.ORDER_PLACED}),
        "reserve-inventory": frozenset({EventType.CLIENT_VALIDATED}),
        "request-payment": frozenset({EventType.INVENTORY_RESERVED}),
        "complete-sale": frozenset({EventType.PAYMENT_CONFIRMED}),
        "compensate": frozenset(
            {
                EventType.ORDER_REJECTED,
                EventType.RESERVATION_FAILED,
                EventType.PAYMENT_EXPIRED,
                EventType.CANCELLATION_REQUESTED,
                EventType.INVOICE_FAILED,
            }
        ),
        # Gives back, through the PSP, money an order received and does not keep.
        "refund": frozenset({EventType.REFUND_OWED}),
        "notify": frozenset(
            {
                EventType.SALE_COMPLETED,
                EventType.ORDER_CANCELLED,
                EventType.REFUND_OWED,
                EventType.REFUND_COMPLETED,
                EventType.STOCK_PENDING,
            }
        ),
    }
)
