"""The emulator behaves like DynamoDB where moto alone does not, for what the platform relies on."""

from __future__ import annotations

from typing import Any

import boto3
import pytest

from local_stack.resources import Provisioned


def read_stream(streams: Any, iterator: str) -> tuple[list[str], str]:
    result = streams.get_records(ShardIterator=iterator)
    keys = [record["dynamodb"]["Keys"]["PK"]["S"] for record in result["Records"]]
    return keys, result["NextShardIterator"]


def test_a_cancelled_transaction_neither_appears_on_the_stream_nor_stops_it(
    emulator: str, provisioned: Provisioned
) -> None:
    # Regression: moto restored a deep copy of the table on a cancelled transaction; the stream reader kept the
    # old shard, which held a record of the rolled-back write and never received another one. The local saga
    # stopped at the first refused registration.
    dynamodb = boto3.client("dynamodb")
    streams = boto3.client("dynamodbstreams")
    table = provisioned.table_name
    stream_arn = dynamodb.describe_table(TableName=table)["Table"]["LatestStreamArn"]
    shard = streams.describe_stream(StreamArn=stream_arn)["StreamDescription"]["Shards"][-1]["ShardId"]
    iterator = streams.get_shard_iterator(StreamArn=stream_arn, ShardId=shard, ShardIteratorType="LATEST")[
        "ShardIterator"
    ]
    dynamodb.put_item(TableName=table, Item={"PK": {"S": "TEST#taken"}, "SK": {"S": "X"}})
    _, iterator = read_stream(streams, iterator)

    with pytest.raises(dynamodb.exceptions.TransactionCanceledException):
        dynamodb.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": table, "Item": {"PK": {"S": "TEST#rolled-back"}, "SK": {"S": "X"}}}},
                {
                    "Put": {
                        "TableName": table,
                        "Item": {"PK": {"S": "TEST#taken"}, "SK": {"S": "X"}},
                        "ConditionExpression": "attribute_not_exists(PK)",
                    }
                },
            ]
        )
    dynamodb.put_item(TableName=table, Item={"PK": {"S": "TEST#after"}, "SK": {"S": "X"}})
    keys, _ = read_stream(streams, iterator)

    assert keys == ["TEST#after"]
    for key in ("TEST#taken", "TEST#after"):
        dynamodb.delete_item(TableName=table, Key={"PK": {"S": key}, "SK": {"S": "X"}})


def test_a_cancelled_transaction_leaves_every_item_as_it_was(emulator: str, provisioned: Provisioned) -> None:
    # The emulator rolls a cancelled transaction back item by item (moto copied whole tables): check it does.
    dynamodb = boto3.client("dynamodb")
    table = provisioned.table_name
    dynamodb.put_item(TableName=table, Item={"PK": {"S": "TEST#kept"}, "SK": {"S": "X"}, "n": {"N": "1"}})
    dynamodb.put_item(TableName=table, Item={"PK": {"S": "TEST#deleted"}, "SK": {"S": "X"}})

    with pytest.raises(dynamodb.exceptions.TransactionCanceledException):
        dynamodb.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": table, "Item": {"PK": {"S": "TEST#new"}, "SK": {"S": "X"}}}},
                {
                    "Update": {
                        "TableName": table,
                        "Key": {"PK": {"S": "TEST#kept"}, "SK": {"S": "X"}},
                        "UpdateExpression": "SET n = :two",
                        "ExpressionAttributeValues": {":two": {"N": "2"}},
                    }
                },
                {"Delete": {"TableName": table, "Key": {"PK": {"S": "TEST#deleted"}, "SK": {"S": "X"}}}},
                {
                    "ConditionCheck": {
                        "TableName": table,
                        "Key": {"PK": {"S": "TEST#absent"}, "SK": {"S": "X"}},
                        "ConditionExpression": "attribute_exists(PK)",
                    }
                },
            ]
        )

    def stored(key: str) -> dict[str, Any] | None:
        item: dict[str, Any] | None = dynamodb.get_item(
            TableName=table, Key={"PK": {"S": key}, "SK": {"S": "X"}}, ConsistentRead=True
        ).get("Item")
        return item

    assert stored("TEST#new") is None
    assert stored("TEST#kept") == {"PK": {"S": "TEST#kept"}, "SK": {"S": "X"}, "n": {"N": "1"}}
    assert stored("TEST#deleted") is not None
    for key in ("TEST#kept", "TEST#deleted"):
        dynamodb.delete_item(TableName=table, Key={"PK": {"S": key}, "SK": {"S": "X"}})
