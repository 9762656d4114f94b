"""``AWS::DynamoDB::Table`` in moto's DynamoDB: create with TTL and point-in-time recovery, update in place or
replace as CloudFormation documents it, delete; and what IAM is asked for DynamoDB's calls, a transaction item by
item, through the front against a real moto_server."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from localdeploy.dynamodb_table import TableEmulator
from localdeploy.iam import IamFront
from localdeploy.moto import MotoServer
from localdeploy.native import ResourceError
from tests.engine.conftest import Kinds, signed_client
from tests.engine.test_iam_requests import ACCOUNT, ROLE_ARN, ask, mapper, registry

LEDGER = {
    "KeySchema": [{"AttributeName": "run", "KeyType": "HASH"}, {"AttributeName": "item", "KeyType": "RANGE"}],
    "AttributeDefinitions": [
        {"AttributeName": "run", "AttributeType": "S"},
        {"AttributeName": "item", "AttributeType": "S"},
    ],
    "BillingMode": "PAY_PER_REQUEST",
    "SSESpecification": {"SSEEnabled": True},
    "TimeToLiveSpecification": {"AttributeName": "expires", "Enabled": True},
    "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
}
TABLE_ARN = f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/ledger"


def test_a_table_is_created_with_its_ttl_and_recovery_updated_in_place_or_replaced_and_deleted() -> None:
    with mock_aws():
        dynamodb = boto3.client("dynamodb", region_name="us-east-1")
        emulator = TableEmulator(dynamodb)
        # WHEN created without a name THEN a generated name (its Ref), its Arn, TTL and point-in-time recovery on
        created = emulator.create("Ledger", LEDGER, stack_name="Org")
        name = created.physical_id
        assert name.startswith("Org-Ledger-")
        assert created.attributes == {"Arn": f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/{name}"}
        ttl = dynamodb.describe_time_to_live(TableName=name)["TimeToLiveDescription"]
        assert (ttl["TimeToLiveStatus"], ttl["AttributeName"]) == ("ENABLED", "expires")
        backups = dynamodb.describe_continuous_backups(TableName=name)["ContinuousBackupsDescription"]
        assert backups["PointInTimeRecoveryDescription"]["PointInTimeRecoveryStatus"] == "ENABLED"
        # WHEN recovery is turned off THEN in place; a new key schema or name replaces the table
        without = {**LEDGER, "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": False}}
        assert not emulator.replaces(LEDGER, without)
        emulator.update(name, LEDGER, without)
        backups = dynamodb.describe_continuous_backups(TableName=name)["ContinuousBackupsDescription"]
        assert backups["PointInTimeRecoveryDescription"]["PointInTimeRecoveryStatus"] == "DISABLED"
        assert emulator.replaces(LEDGER, {**LEDGER, "KeySchema": LEDGER["KeySchema"][:1]})
        assert emulator.replaces(LEDGER, {**LEDGER, "TableName": "other"})
        # AND a TTL attribute renamed while TTL stays on fails, as DynamoDB refuses it
        renamed = {**without, "TimeToLiveSpecification": {"AttributeName": "until", "Enabled": True}}
        with pytest.raises(ResourceError, match="TimeToLive is active on a different AttributeName"):
            emulator.update(name, without, renamed)
        # WHEN deleted (twice) THEN it is gone and the second delete is no error
        emulator.delete(name, without)
        emulator.delete(name, without)
        assert dynamodb.list_tables()["TableNames"] == []


@pytest.mark.parametrize(
    ("properties", "problem"),
    [
        ({**LEDGER, "ProvisionedThroughput": {"ReadCapacityUnits": 1, "WriteCapacityUnits": 1}}, "PAY_PER_REQUEST"),
        ({**LEDGER, "BillingMode": "PROVISIONED"}, "No provisioned throughput"),
    ],
)
def test_billing_cloudformation_refuses_is_refused(properties: dict[str, Any], problem: str) -> None:
    with mock_aws():
        emulator = TableEmulator(boto3.client("dynamodb", region_name="us-east-1"))
        with pytest.raises(ResourceError, match=problem):
            emulator.create("Ledger", properties, stack_name="Org")


def test_a_stack_creates_the_table_refers_to_it_and_its_delete_removes_it(kinds: Kinds) -> None:
    template = {
        "Resources": {"Ledger": {"Type": "AWS::DynamoDB::Table", "Properties": LEDGER, "DeletionPolicy": "Delete"}},
    }
    created = kinds.deploy("Tables", template)
    assert created.ok, created
    name = kinds.state("Tables", "Ledger").physical_id
    dynamodb = boto3.client("dynamodb", region_name="us-east-1")
    assert dynamodb.describe_table(TableName=name)["Table"]["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    assert kinds.destroy("Tables").ok
    assert name not in dynamodb.list_tables()["TableNames"]


def test_dynamodb_calls_ask_for_their_table_and_a_transaction_for_each_item_as_its_own_call() -> None:
    get = ask("dynamodb", "DynamoDB_20120810.GetItem", {"TableName": "ledger", "Key": {}})
    assert (get.action, get.resource) == ("dynamodb:GetItem", TABLE_ARN)
    transaction = ask(
        "dynamodb",
        "DynamoDB_20120810.TransactWriteItems",
        {"TransactItems": [{"Put": {"TableName": "ledger"}}, {"Update": {"TableName": "ledger"}}]},
    )
    assert transaction.checks() == (("dynamodb:PutItem", TABLE_ARN), ("dynamodb:UpdateItem", TABLE_ARN))
    assert transaction.context == {"dynamodb:EnclosingOperation": ["TransactWriteItems"]}
    assert ask("dynamodb", "DynamoDB_20120810.ListTables", {}).resource == "*"


def test_a_transaction_holding_an_item_the_role_may_not_write_is_denied_whole(moto: MotoServer) -> None:
    # GIVEN a role that may get and put items of the ledger, not update them
    own = signed_client("dynamodb", moto.endpoint, "testing")
    own.create_table(TableName="ledger", **{k: LEDGER[k] for k in ("KeySchema", "AttributeDefinitions", "BillingMode")})
    allowed = {"Effect": "Allow", "Action": ["dynamodb:GetItem", "dynamodb:PutItem"], "Resource": TABLE_ARN}
    front = IamFront({"*": moto.endpoint}, registry([allowed]), mapper())
    front.start()
    try:
        dynamodb = signed_client("dynamodb", front.endpoint, front.register(ROLE_ARN))
        key = {"run": {"S": "r"}, "item": {"S": "run"}}
        put = {"Put": {"TableName": "ledger", "Item": {**key, "pending": {"N": "1"}}}}
        decrement = {"UpdateExpression": "ADD pending :m", "ExpressionAttributeValues": {":m": {"N": "-1"}}}
        update = {"Update": {"TableName": "ledger", "Key": key, **decrement}}
        # WHEN it puts in a transaction THEN DynamoDB has the item
        dynamodb.transact_write_items(TransactItems=[put])
        assert dynamodb.get_item(TableName="ledger", Key=key)["Item"]["pending"] == {"N": "1"}
        # WHEN a transaction also updates (another item) THEN DynamoDB's AccessDenied names the UpdateItem
        with pytest.raises(ClientError) as denied:
            other = {**put["Put"], "Item": {"run": {"S": "r"}, "item": {"S": "done/start"}}}
            dynamodb.transact_write_items(TransactItems=[{"Put": other}, update])
        error = denied.value.response["Error"]
        assert error["Code"] == "AccessDeniedException"
        assert f"is not authorized to perform: dynamodb:UpdateItem on resource: {TABLE_ARN}" in error["Message"]
        # AND nothing of it was written
        assert "Item" not in own.get_item(TableName="ledger", Key={"run": {"S": "r"}, "item": {"S": "done/start"}})
    finally:
        front.stop()


def test_a_functions_dynamodb_calls_reach_moto_one_at_a_time_as_dynamodb_makes_a_conditional_write_atomic(
    moto: MotoServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN the IAM front, whose forwarding is slowed so that calls made at once would overlap in moto
    import localdeploy.iam as iam_module  # noqa: PLC0415 - the module whose forward is slowed

    own = signed_client("dynamodb", moto.endpoint, "testing")
    if "serialized" not in own.list_tables()["TableNames"]:
        own.create_table(
            TableName="serialized", **{k: LEDGER[k] for k in ("KeySchema", "AttributeDefinitions", "BillingMode")}
        )
    inside: dict[str, int] = {"now": 0, "most": 0}
    lock = threading.Lock()
    real_forward = iam_module.forward

    def slow_forward(*args: Any) -> Any:
        with lock:
            inside["now"] += 1
            inside["most"] = max(inside["most"], inside["now"])
        time.sleep(0.2)
        try:
            return real_forward(*args)
        finally:
            with lock:
                inside["now"] -= 1

    monkeypatch.setattr(iam_module, "forward", slow_forward)
    allowed = {"Effect": "Allow", "Action": ["dynamodb:UpdateItem"], "Resource": "*"}
    front = IamFront({"*": moto.endpoint}, registry([allowed]), mapper())
    front.start()
    try:
        key = front.register(ROLE_ARN)
        claim = {
            "TableName": "serialized",
            "Key": {"run": {"S": "r"}, "item": {"S": "run"}},
            "UpdateExpression": "SET summarized = :now",
            "ConditionExpression": "attribute_not_exists(summarized)",
            "ExpressionAttributeValues": {":now": {"N": "1"}},
        }

        def try_claim() -> bool:
            try:
                signed_client("dynamodb", front.endpoint, key).update_item(**claim)
            except ClientError as error:
                assert error.response["Error"]["Code"] == "ConditionalCheckFailedException"
                return False
            return True

        # WHEN four functions claim the same item at once
        with ThreadPoolExecutor(4) as pool:
            won = list(pool.map(lambda _: try_claim(), range(4)))
        # THEN moto saw one call at a time, and exactly one claim won (DynamoDB's atomic conditional write)
        assert inside["most"] == 1
        assert won.count(True) == 1
    finally:
        front.stop()
