"""Every key of the single table, and nothing else: the one module that knows how an item's keys are spelled.

The models (models.py, connections.py) take their keys from here, the stream decoder (stream.py) recognizes items
by these prefixes, and the CDK app filters the table's stream with them. No other module writes a key or a prefix
(tests/unit/test_key_literals.py fails if one does). The access patterns these keys serve are listed in schema.py.

Dependency-free on purpose: the CDK app imports it without PynamoDB or boto3.
"""

from __future__ import annotations

from typing import Final

Key = tuple[str, str]

# The partition key prefixes: the kind of item a key names is the text before its first `#`.
VEHICLE_PREFIX: Final = "VEHICLE#"
VEHICLE_LIST_PREFIX: Final = "VEHICLES#"
CLIENT_PREFIX: Final = "CLIENT#"
CLIENT_EMAIL_PREFIX: Final = "CLIENT_EMAIL#"
CLIENT_CPF_PREFIX: Final = "CLIENT_CPF#"
PRODUCT_PREFIX: Final = "PRODUCT#"
ORDER_PREFIX: Final = "ORDER#"
PAYMENT_PREFIX: Final = "PAYMENT#"
SALE_PREFIX: Final = "SALE#"
WAITING_PREFIX: Final = "WAITING#"
COUNTER_PREFIX: Final = "COUNTER#"
OUTBOX_PREFIX: Final = "OUTBOX#"
CONSUMED_PREFIX: Final = "CONSUMED#"
RECEIPT_PREFIX: Final = "RECEIPT#"
IDEMPOTENCY_PREFIX: Final = "IDEMPOTENCY#"
NOTIFIED_PREFIX: Final = "NOTIFIED#"
CONNECTION_PREFIX: Final = "WSCONN#"
TOPIC_PREFIX: Final = "WSTOPIC#"
SUBJECT_CONNECTIONS_PREFIX: Final = "WSSUBJECT#"
REVOKED_PREFIX: Final = "REVOKED#"

# The sort keys of the items that are alone in their partition.
VEHICLE_SORT: Final = "VEHICLE"
CLIENT_SORT: Final = "CLIENT"
UNIQUE_SORT: Final = "UNIQUE"
PRODUCT_SORT: Final = "PRODUCT"
ORDER_SORT: Final = "ORDER"
PAYMENT_SORT: Final = "PAYMENT"
SALE_SORT: Final = "SALE"
COUNTER_SORT: Final = "COUNTER"
OUTBOX_SORT: Final = "OUTBOX"
MARKER_SORT: Final = "MARKER"
CONNECTION_SORT: Final = "CONNECTION"

# The list partitions of the index (GSI1PK or GSI2PK) that hold one fixed list each.
PRODUCTS_LIST: Final = "PRODUCTS"
ALL_ORDERS_LIST: Final = "ORDERS"
PAYMENTS_DUE_LIST: Final = "PAYMENTS_DUE"
STOCK_HOLDS_LIST: Final = "STOCK_HOLDS"
OPEN_CONNECTIONS_LIST: Final = "WSCONNECTIONS"

# The sequences of the counter items.
INVOICE_SEQUENCE: Final = "INVOICE"

# Prices are whole cents, zero-padded in a sort key so that string order is price order.
PRICE_SORT_DIGITS: Final = 15


def vehicle(vehicle_id: str) -> Key:
    return f"{VEHICLE_PREFIX}{vehicle_id}", VEHICLE_SORT


def vehicles_by_status(status: str) -> str:
    return f"{VEHICLE_LIST_PREFIX}{status}"


def vehicle_list_sort(price_cents: int, vehicle_id: str) -> str:
    # The id breaks ties and keeps keys unique.
    return f"{price_cents:0{PRICE_SORT_DIGITS}d}#{vehicle_id}"


def client(client_id: str) -> Key:
    return f"{CLIENT_PREFIX}{client_id}", CLIENT_SORT


def client_orders(client_id: str) -> str:
    """The list partition of a client's orders."""
    return f"{CLIENT_PREFIX}{client_id}#ORDERS"


def client_email(email: str) -> Key:
    """The marker that claims an email for one client."""
    return f"{CLIENT_EMAIL_PREFIX}{email}", UNIQUE_SORT


def client_cpf(cpf: str) -> Key:
    """The marker that claims a CPF for one client."""
    return f"{CLIENT_CPF_PREFIX}{cpf}", UNIQUE_SORT


def product(sku: str) -> Key:
    return f"{PRODUCT_PREFIX}{sku}", PRODUCT_SORT


def order(order_id: str) -> Key:
    return f"{ORDER_PREFIX}{order_id}", ORDER_SORT


def payment(code: str) -> Key:
    return f"{PAYMENT_PREFIX}{code}", PAYMENT_SORT


def sale(order_id: str) -> Key:
    return f"{SALE_PREFIX}{order_id}", SALE_SORT


def waiting_line(sku: str) -> str:
    """The partition of the orders waiting for a product's stock."""
    return f"{WAITING_PREFIX}{sku}"


def waiting(sku: str, since: str, order_id: str) -> Key:
    # The sort key puts the oldest first.
    return waiting_line(sku), f"{since}#{order_id}"


def counter(name: str) -> Key:
    return f"{COUNTER_PREFIX}{name}", COUNTER_SORT


def outbox(event_id: str) -> Key:
    return f"{OUTBOX_PREFIX}{event_id}", OUTBOX_SORT


def consumed(consumer_event: str) -> Key:
    """The marker of a consumer having applied an event (`<consumer>:<event id>`)."""
    return f"{CONSUMED_PREFIX}{consumer_event}", MARKER_SORT


def receipt(provider_event_id: str) -> Key:
    """The marker of a provider's event having been received."""
    return f"{RECEIPT_PREFIX}{provider_event_id}", MARKER_SORT


def idempotency(scope: str, key: str) -> Key:
    """The marker of an idempotency key's first use in its scope."""
    return f"{IDEMPOTENCY_PREFIX}{scope}#{key}", MARKER_SORT


def notified(key: str) -> Key:
    """The marker (and lease) of an email sent for an event."""
    return f"{NOTIFIED_PREFIX}{key}", MARKER_SORT


def connection(connection_id: str) -> Key:
    return f"{CONNECTION_PREFIX}{connection_id}", CONNECTION_SORT


def subject_connections(subject: str) -> str:
    """The list partition (GSI2PK) of one signed-in user's open WebSocket connections."""
    return f"{SUBJECT_CONNECTIONS_PREFIX}{subject}"


def revoked(subject: str) -> Key:
    """The marker of a user's access taken away: their tokens issued until then are refused."""
    return f"{REVOKED_PREFIX}{subject}", MARKER_SORT


def topic(name: str) -> str:
    """The partition of a topic's subscriptions (`order:<id>`, `vehicles`...)."""
    return f"{TOPIC_PREFIX}{name}"


def subscription(topic_name: str, connection_id: str, operation_id: str) -> Key:
    return topic(topic_name), f"{connection_id}#{operation_id}"
