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

Room kept for what the saga adds, on the same keys:

| orders and their items, history, payment  | PK=ORDER#<id>  SK=ORDER | ITEM#<n> | EVENT#<time>#<n> | PAYMENT  |
| a client's orders, newest first           | GSI1PK=CLIENT#<id>#ORDERS  GSI1SK=<placed at ISO time>#<id>    |
| payment by code (webhook)                 | PK=PAYMENT#<code>          SK=PAYMENT                          |
| invoice by number, sequence counter       | PK=INVOICE#<number> SK=INVOICE; PK=SEQUENCE#INVOICE SK=SEQUENCE|
| outbox record (read by the stream relay)  | PK=OUTBOX#<event id>       SK=OUTBOX, TTL after relay          |
| idempotency record (consumers, placeOrder)| PK=IDEMPOTENCY#<scope>#<key> SK=IDEMPOTENCY, TTL 30 days       |

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
TTL_ATTRIBUTE: Final = "expires_at"
STREAM_VIEW_TYPE: Final = "NEW_AND_OLD_IMAGES"


def create_table_request(table_name: str) -> dict[str, Any]:
    """The CreateTable call that gives the table its keys, index and stream (TTL is a separate call)."""
    return {
        "TableName": table_name,
        "BillingMode": "PAY_PER_REQUEST",
        "AttributeDefinitions": [
            {"AttributeName": name, "AttributeType": "S"}
            for name in (PARTITION_KEY, SORT_KEY, LIST_INDEX_PARTITION_KEY, LIST_INDEX_SORT_KEY)
        ],
        "KeySchema": [
            {"AttributeName": PARTITION_KEY, "KeyType": "HASH"},
            {"AttributeName": SORT_KEY, "KeyType": "RANGE"},
        ],
        "GlobalSecondaryIndexes": [
            {
                "IndexName": LIST_INDEX,
                "KeySchema": [
                    {"AttributeName": LIST_INDEX_PARTITION_KEY, "KeyType": "HASH"},
                    {"AttributeName": LIST_INDEX_SORT_KEY, "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
        "StreamSpecification": {"StreamEnabled": True, "StreamViewType": STREAM_VIEW_TYPE},
    }
