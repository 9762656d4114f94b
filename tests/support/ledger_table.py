"""The coverage's run ledger table in moto, with the key schema and TTL the construct gives it."""

from __future__ import annotations

from typing import Any

from cdk_alternate_contacts_handler.coverage_ledger import PARTITION_KEY, SORT_KEY, TTL_ATTRIBUTE


def create_ledger_table(dynamodb: Any, name: str = "coverage-ledger") -> str:
    """Create the table (on demand, TTL on) and return its name."""
    dynamodb.create_table(
        TableName=name,
        KeySchema=[
            {"AttributeName": PARTITION_KEY, "KeyType": "HASH"},
            {"AttributeName": SORT_KEY, "KeyType": "RANGE"},
        ],
        AttributeDefinitions=[
            {"AttributeName": PARTITION_KEY, "AttributeType": "S"},
            {"AttributeName": SORT_KEY, "AttributeType": "S"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    dynamodb.update_time_to_live(
        TableName=name, TimeToLiveSpecification={"Enabled": True, "AttributeName": TTL_ATTRIBUTE}
    )
    return name
