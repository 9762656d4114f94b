"""``AWS::SSM::Parameter``: a String or StringList parameter, in moto's SSM backend.

From the resource type's reference (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-resource-ssm-parameter.html):
``Type`` is String or StringList -- CloudFormation cannot create a SecureString (the property's allowed
values), so a template asking for one fails; ``Name`` is create-only (a new name replaces the parameter) and,
left out, is generated (``CFN-<logical id>-<random>``); ``Ref`` is the name; ``Fn::GetAtt`` gives ``Type``
and ``Value``. An update overwrites the value in place; a delete removes the parameter (one already gone
counts as deleted).
"""

from __future__ import annotations

import secrets
import string
from collections.abc import Mapping
from typing import Any

from botocore.exceptions import ClientError

from . import native
from .native import Created, ResourceError

PARAMETER_TYPE = "AWS::SSM::Parameter"

#: The types CloudFormation can create.
TYPES = ("String", "StringList")

_CREATE_ONLY = ("Name",)


def _arguments(properties: Mapping[str, Any]) -> dict[str, Any]:
    kind = properties.get("Type")
    if kind not in TYPES:
        raise ResourceError(
            "Properties validation failed for resource with message: "
            f"[#/Type: {str(kind)[:20]} is not a valid enum value] (CloudFormation cannot create a SecureString)"
        )
    value = properties.get("Value")
    if not isinstance(value, str) or not value:
        raise ResourceError("Properties validation failed for resource with message: [#/Value: expected minLength: 1]")
    arguments: dict[str, Any] = {"Value": value, "Type": kind}
    for key in ("Description", "AllowedPattern", "Tier", "DataType"):
        if properties.get(key):
            arguments[key] = properties[key]
    return arguments


class ParameterEmulator(native.ClientEmulator):
    """Creates, overwrites and deletes parameters in moto (through an SSM client) as CloudFormation does for
    ``AWS::SSM::Parameter``. ``Ref`` is the parameter's name; ``Fn::GetAtt`` gives Type and Value."""

    resource_type = PARAMETER_TYPE
    create_only = _CREATE_ONLY

    def create(self, logical_id: str, properties: Mapping[str, Any], *, stack_name: str = "") -> Created:
        """PutParameter without overwriting: an existing name fails, as CloudFormation's create does."""
        arguments = _arguments(properties)
        name = str(properties.get("Name") or "")
        if not name:
            random_part = "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(12))
            name = f"CFN-{logical_id}-{random_part}"
        try:
            self.client.put_parameter(Name=name, **arguments)
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code", "")
            if code == "ParameterAlreadyExists":
                raise ResourceError(native.handler_reason(f"{name} already exists in stack", "AlreadyExists")) from None
            raise ResourceError(native.service_reason(str(error), "Ssm", code or "InvalidRequest")) from None
        return Created(name, {"Type": arguments["Type"], "Value": arguments["Value"]})

    def update(self, physical_id: str, old: Mapping[str, Any], new: Mapping[str, Any]) -> dict[str, Any]:
        """PutParameter with Overwrite: the new value, in place."""
        arguments = _arguments(new)
        self.client.put_parameter(Name=physical_id, Overwrite=True, **arguments)
        return {"Type": arguments["Type"], "Value": arguments["Value"]}

    def delete(self, physical_id: str, properties: Mapping[str, Any]) -> None:
        """DeleteParameter; a parameter already gone counts as deleted."""
        try:
            self.client.delete_parameter(Name=physical_id)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") != "ParameterNotFound":
                raise
