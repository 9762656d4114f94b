"""``AWS::DynamoDB::Table``: tables made by a stack, in moto's DynamoDB backend, as CloudFormation makes them.

From the resource type's reference (https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-dynamodb-table.html)
and its property types:

Create
    CreateTable with the key schema, the attribute definitions, the billing mode (``PROVISIONED`` needs
    ProvisionedThroughput, ``PAY_PER_REQUEST`` refuses it), SSESpecification (``SSEEnabled`` is the API's
    ``Enabled``), StreamSpecification and the deletion protection; then UpdateTimeToLive for a
    TimeToLiveSpecification and UpdateContinuousBackups for a PointInTimeRecoverySpecification, as
    CloudFormation's handler does after the table is ACTIVE. No TableName gives
    ``<stack>-<logical id>-<random>``.
Update
    TableName, KeySchema, LocalSecondaryIndexes, and a changed type of an existing attribute definition:
    replacement. BillingMode, ProvisionedThroughput, SSESpecification, TimeToLiveSpecification,
    PointInTimeRecoverySpecification, DeletionProtectionEnabled: in place ("No interruption"). A TTL whose
    attribute changes while it stays enabled fails, as DynamoDB refuses it ("To update this property, you must
    first disable TTL and then enable TTL with the new attribute name").
Delete
    DeleteTable; a table already gone counts as deleted; a table with deletion protection fails.

``Ref`` is the table's name; ``Fn::GetAtt`` gives Arn and, with a stream, StreamArn. KMS is not modelled: an
SSE key is stored, and nothing is encrypted.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from botocore.exceptions import ClientError

from . import native
from .native import Created, ResourceError

TABLE_TYPE = "AWS::DynamoDB::Table"

#: Properties whose change replaces the table.
CREATE_ONLY = ("TableName", "KeySchema", "LocalSecondaryIndexes")

#: CloudFormation's limit on a generated table name.
_NAME_LENGTH = 255


def _enabled(value: Any, key: str) -> bool:
    return isinstance(value, Mapping) and str(value.get(key, "")).lower() == "true"


def _sse(properties: Mapping[str, Any]) -> dict[str, Any] | None:
    specification = properties.get("SSESpecification")
    if not isinstance(specification, Mapping):
        return None
    arguments: dict[str, Any] = {"Enabled": _enabled(specification, "SSEEnabled")}
    if specification.get("SSEType"):
        arguments["SSEType"] = specification["SSEType"]
    if specification.get("KMSMasterKeyId"):
        arguments["KMSMasterKeyId"] = specification["KMSMasterKeyId"]
    return arguments


def _billing(properties: Mapping[str, Any]) -> dict[str, Any]:
    mode = str(properties.get("BillingMode") or "PROVISIONED")
    throughput = properties.get("ProvisionedThroughput")
    if mode == "PAY_PER_REQUEST" and throughput:
        raise _invalid(
            "Neither ReadCapacityUnits nor WriteCapacityUnits can be specified when BillingMode is PAY_PER_REQUEST"
        )
    if mode == "PROVISIONED":
        if not isinstance(throughput, Mapping):
            raise _invalid("No provisioned throughput specified for the table")
        return {
            "BillingMode": mode,
            "ProvisionedThroughput": {
                "ReadCapacityUnits": int(throughput["ReadCapacityUnits"]),
                "WriteCapacityUnits": int(throughput["WriteCapacityUnits"]),
            },
        }
    return {"BillingMode": mode}


def _invalid(message: str) -> ResourceError:
    return ResourceError(native.service_reason(message, "DynamoDb", "InvalidRequest"))


def _definition_types(properties: Mapping[str, Any]) -> dict[str, str]:
    return {str(d["AttributeName"]): str(d["AttributeType"]) for d in properties.get("AttributeDefinitions") or []}


class TableEmulator:
    """Creates, updates and deletes tables as CloudFormation does for ``AWS::DynamoDB::Table``, through
    ``client``: a DynamoDB client of the stack's region (moto's), with the deployer's credentials."""

    resource_type = TABLE_TYPE

    def __init__(self, client: Any) -> None:
        self.client = client

    def replaces(self, old: Mapping[str, Any], new: Mapping[str, Any]) -> bool:
        """A new name, key schema or local index, or an existing attribute given another type."""
        before, after = _definition_types(old), _definition_types(new)
        retyped = any(after.get(name, kind) != kind for name, kind in before.items())
        return retyped or native.create_only_changed(CREATE_ONLY, old, new)

    def _call(self, operation: Callable[[], Any]) -> Any:
        try:
            return operation()
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code", "") or "InvalidRequest"
            message = error.response.get("Error", {}).get("Message", str(error))
            raise ResourceError(native.service_reason(message, "DynamoDb", code)) from None

    def create(self, logical_id: str, properties: Mapping[str, Any], *, stack_name: str = "") -> Created:
        """CreateTable, then its TTL and point-in-time recovery."""
        name = str(properties.get("TableName") or native.unique_name(stack_name, logical_id, _NAME_LENGTH))
        arguments: dict[str, Any] = {
            "TableName": name,
            "KeySchema": list(properties.get("KeySchema") or []),
            "AttributeDefinitions": list(properties.get("AttributeDefinitions") or []),
            **_billing(properties),
        }
        sse = _sse(properties)
        if sse is not None:
            arguments["SSESpecification"] = sse
        stream = properties.get("StreamSpecification")
        if isinstance(stream, Mapping) and stream.get("StreamViewType"):
            arguments["StreamSpecification"] = {"StreamEnabled": True, "StreamViewType": stream["StreamViewType"]}
        if "DeletionProtectionEnabled" in properties:
            arguments["DeletionProtectionEnabled"] = str(properties["DeletionProtectionEnabled"]).lower() == "true"
        described = self._call(lambda: self.client.create_table(**arguments))["TableDescription"]
        try:
            self._settings(name, {}, properties)
        except ResourceError as error:
            raise ResourceError(str(error), physical_id=name) from None
        return Created(name, self._attributes(described))

    def update(self, physical_id: str, old: Mapping[str, Any], new: Mapping[str, Any]) -> dict[str, Any]:
        """The in-place changes: billing, encryption, deletion protection, TTL, point-in-time recovery."""
        changes: dict[str, Any] = {}
        if (old.get("BillingMode"), old.get("ProvisionedThroughput")) != (
            new.get("BillingMode"),
            new.get("ProvisionedThroughput"),
        ):
            changes.update(_billing(new))
        if _sse(old) != _sse(new):
            changes["SSESpecification"] = _sse(new) or {"Enabled": False}
        if old.get("DeletionProtectionEnabled") != new.get("DeletionProtectionEnabled"):
            changes["DeletionProtectionEnabled"] = str(new.get("DeletionProtectionEnabled")).lower() == "true"
        if changes:
            self._call(lambda: self.client.update_table(TableName=physical_id, **changes))
        self._settings(physical_id, old, new)
        described = self._call(lambda: self.client.describe_table(TableName=physical_id))["Table"]
        return self._attributes(described)

    def _settings(self, name: str, old: Mapping[str, Any], new: Mapping[str, Any]) -> None:
        before, after = old.get("TimeToLiveSpecification"), new.get("TimeToLiveSpecification")
        if before != after and (isinstance(after, Mapping) or _enabled(before, "Enabled")):
            enabled = _enabled(after, "Enabled")
            attribute = str((after or {}).get("AttributeName") or (before or {}).get("AttributeName") or "")
            if enabled and _enabled(before, "Enabled") and attribute != str((before or {}).get("AttributeName")):
                raise _invalid(
                    f"TimeToLive is active on a different AttributeName: current AttributeName is "
                    f"{(before or {}).get('AttributeName')}"
                )
            self._call(
                lambda: self.client.update_time_to_live(
                    TableName=name, TimeToLiveSpecification={"Enabled": enabled, "AttributeName": attribute}
                )
            )
        recovery = _enabled(new.get("PointInTimeRecoverySpecification"), "PointInTimeRecoveryEnabled")
        if recovery != _enabled(old.get("PointInTimeRecoverySpecification"), "PointInTimeRecoveryEnabled"):
            self._call(
                lambda: self.client.update_continuous_backups(
                    TableName=name, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": recovery}
                )
            )

    @staticmethod
    def _attributes(described: Mapping[str, Any]) -> dict[str, Any]:
        attributes = {"Arn": described["TableArn"]}
        if described.get("LatestStreamArn"):
            attributes["StreamArn"] = described["LatestStreamArn"]
        return attributes

    def delete(self, physical_id: str, properties: Mapping[str, Any]) -> None:
        """DeleteTable; a table already gone counts as deleted."""
        try:
            self.client.delete_table(TableName=physical_id)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") != "ResourceNotFoundException":
                code = error.response.get("Error", {}).get("Code", "") or "InvalidRequest"
                raise ResourceError(native.service_reason(str(error), "DynamoDb", code)) from None
