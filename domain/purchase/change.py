"""What a step asks the store to apply, all or nothing: one `Change` and the parts it is made of."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from domain.events import DomainEvent
from domain.order_status import VehicleStatus, next_vehicle_status
from domain.orders import Order, Payment, PaymentStatus
from domain.values import Money


@dataclass(frozen=True, slots=True)
class VehicleClaim:
    """Move a vehicle from `expected` to `new` status, only if it is still `expected` (and held by `holder`)."""

    vehicle_id: str
    expected: VehicleStatus
    new: VehicleStatus
    expected_holder: str | None
    new_holder: str | None

    def __post_init__(self) -> None:
        # Every move the saga makes is built here, so the vehicle's state machine is enforced where moves are made.
        next_vehicle_status(self.expected, self.new)


@dataclass(frozen=True, slots=True)
class PaymentRecord:
    """The payment as the webhook and the expiry sweep find it: by code, with its order."""

    order_id: str
    payment: Payment
    # The status the stored record must still have; None to create it.
    expected_status: PaymentStatus | None


@dataclass(frozen=True, slots=True)
class IdempotencyClaim:
    """One client's key for one request: the first use stores the fingerprint, a reuse must match it."""

    scope: str
    key: str
    fingerprint: str
    order_id: str


@dataclass(frozen=True, slots=True)
class Sale:
    order_id: str
    vehicle_id: str
    client_id: str
    amount: Money
    sold_at: datetime


class StockMoveKind(StrEnum):
    RESERVE = "RESERVE"  # available -> reserved, only if at least `quantity` is available
    RELEASE = "RELEASE"  # reserved -> available: a cancelled order gives back what it held
    COMMIT = "COMMIT"  # reserved and on hand both down: the goods leave with the sale
    SHORT = "SHORT"  # writes nothing: holds only while fewer than `quantity` are available


@dataclass(frozen=True, slots=True)
class StockMove:
    sku: str
    quantity: int
    kind: StockMoveKind


@dataclass(frozen=True, slots=True)
class Wait:
    """An order in a product's line of orders waiting for stock, oldest first."""

    sku: str
    order_id: str
    since: datetime


@dataclass(frozen=True, slots=True)
class Change:
    # The order's new state, saved only if the stored version is still `order.version` (or, new, absent).
    order: Order | None = None
    new_order: bool = False
    events: tuple[DomainEvent, ...] = ()
    vehicle: VehicleClaim | None = None
    payment: PaymentRecord | None = None
    sale: Sale | None = None
    idempotency: IdempotencyClaim | None = None
    # "<consumer>:<event id>": refused if present, so one consumer applies one event once.
    consumed: str | None = None
    # The payment provider's event id, for the webhook: one provider event, one effect.
    receipt: str | None = None
    stock: tuple[StockMove, ...] = ()
    waits_added: tuple[Wait, ...] = ()
    waits_removed: tuple[Wait, ...] = ()
    # The invoice number this change takes: refused unless it follows the last one issued (no gaps, no repeats).
    invoice_number: int | None = None
