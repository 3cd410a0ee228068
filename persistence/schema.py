"""The single table's physical schema, shared by the PynamoDB models, the local stack and the CDK app.

Access patterns (every one a GetItem, a Query or a transaction; none is a Scan):

| pattern                                   | key                                                            |
|-------------------------------------------|----------------------------------------------------------------|
| vehicle by id                             | PK=VEHICLE#<id>            SK=VEHICLE                          |
| vehicles by status, cheapest first        | GSI1PK=VEHICLES#<status>   GSI1SK=<price cents, 15 digits>#<id>|
| client by id (the Cognito subject)        | PK=CLIENT#<id>             SK=CLIENT                           |
| client by email (unique)                  | PK=CLIENT_EMAIL#<email>    SK=UNIQUE  -> client_id            |
| client by CPF (unique)                    | PK=CLIENT_CPF#<cpf>        SK=UNIQUE  -> client_id            |
| product by SKU                            | PK=PRODUCT#<sku>           SK=PRODUCT                          |
| products in SKU order                     | GSI1PK=PRODUCTS            GSI1SK=<sku>                        |

| order (items, history, payment inside)    | PK=ORDER#<id>              SK=ORDER                            |
| a client's orders, newest first           | GSI1PK=CLIENT#<id>#ORDERS  GSI1SK=<placed at>#<id>             |
| every order, newest first (staff)         | GSI2PK=ORDERS              GSI2SK=<placed at>#<id>             |
| payment by code (webhook)                 | PK=PAYMENT#<code>          SK=PAYMENT                          |
| pending payments by expiry (sparse)       | GSI1PK=PAYMENTS_DUE        GSI1SK=<expires at>#<code>          |
| sale of a vehicle                         | PK=SALE#<order id>         SK=SALE                             |
| orders waiting for a product, oldest first| PK=WAITING#<sku>           SK=<placed at>#<order id>           |
| stock holds by age, every line (sparse)   | GSI1PK=STOCK_HOLDS         GSI1SK=<placed at>#<order id>#<sku> |
| the last invoice number issued            | PK=COUNTER#INVOICE         SK=COUNTER                          |
| outbox event (read by the stream relay)   | PK=OUTBOX#<event id>       SK=OUTBOX, TTL 7 days               |
| a consumer applied an event (marker)      | PK=CONSUMED#<consumer>:<event id> SK=MARKER, TTL 35 days       |
| a provider event received (marker)        | PK=RECEIPT#<provider event id>    SK=MARKER, TTL 35 days       |
| an idempotency key's first use            | PK=IDEMPOTENCY#<scope>#<key>      SK=MARKER, TTL 35 days       |
| an email sent for an event (lease, marker)| PK=NOTIFIED#<event id>            SK=MARKER, TTL 35 days       |

Markers outlive every redelivery window (SQS keeps a message 14 days at most, its DLQ 14 more), so an event
redriven from a DLQ weeks later still finds its marker.

Uniqueness lives in marker items written in the same transaction as the entity, so two registrations racing for one
email cannot both win. Mutable entities carry a `version` for optimistic locking.
"""

from __future__ import annotations

from typing import Any, Final

PARTITION_KEY: Final = "PK"
SORT_KEY: Final = "SK"
LIST_INDEX: Final = "GSI1"
LIST_INDEX_PARTITION_KEY: Final = "GSI1PK"
LIST_INDEX_SORT_KEY: Final = "GSI1SK"
# A second list per item, for the few items listed two ways (an order: its client's list and every order).
SECOND_LIST_INDEX: Final = "GSI2"
SECOND_LIST_INDEX_PARTITION_KEY: Final = "GSI2PK"
SECOND_LIST_INDEX_SORT_KEY: Final = "GSI2SK"
TTL_ATTRIBUTE: Final = "expires_at"
STREAM_VIEW_TYPE: Final = "NEW_AND_OLD_IMAGES"


def create_table_request(table_name: str) -> dict[str, Any]:
    """The CreateTable call that gives the table its keys, index and stream (TTL is a separate call)."""
    return {
        "TableName": table_name,
        "BillingMode": "PAY_PER_REQUEST",
        "AttributeDefinitions": [
            {"AttributeName": name, "AttributeType": "S"}
            for name in (
                PARTITION_KEY,
                SORT_KEY,
                LIST_INDEX_PARTITION_KEY,
                LIST_INDEX_SORT_KEY,
                SECOND_LIST_INDEX_PARTITION_KEY,
                SECOND_LIST_INDEX_SORT_KEY,
            )
        ],
        "KeySchema": [
            {"AttributeName": PARTITION_KEY, "KeyType": "HASH"},
            {"AttributeName": SORT_KEY, "KeyType": "RANGE"},
        ],
        "GlobalSecondaryIndexes": [
            {
                "IndexName": index,
                "KeySchema": [
                    {"AttributeName": partition, "KeyType": "HASH"},
                    {"AttributeName": sort, "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "ALL"},
            }
            for index, partition, sort in (
                (LIST_INDEX, LIST_INDEX_PARTITION_KEY, LIST_INDEX_SORT_KEY),
                (SECOND_LIST_INDEX, SECOND_LIST_INDEX_PARTITION_KEY, SECOND_LIST_INDEX_SORT_KEY),
            )
        ],
        "StreamSpecification": {"StreamEnabled": True, "StreamViewType": STREAM_VIEW_TYPE},
    }
