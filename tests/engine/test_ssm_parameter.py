"""``AWS::SSM::Parameter`` in moto's SSM (in-process): create, update in place, replace on a new name, delete,
and CloudFormation's refusal of a SecureString."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from moto import mock_aws

from localdeploy.native import ResourceError
from localdeploy.ssm_parameter import ParameterEmulator


def test_a_parameter_is_created_named_updated_in_place_and_deleted() -> None:
    with mock_aws():
        ssm = boto3.client("ssm", region_name="us-east-1")
        emulator = ParameterEmulator(ssm)
        # WHEN created without a name THEN CloudFormation's generated name, its Ref, and Type/Value attributes
        created = emulator.create("RulesDigest", {"Type": "String", "Value": "a" * 64})
        assert created.physical_id.startswith("CFN-RulesDigest-")
        assert created.attributes == {"Type": "String", "Value": "a" * 64}
        assert ssm.get_parameter(Name=created.physical_id)["Parameter"]["Value"] == "a" * 64
        # WHEN the value changes THEN in place; a new name replaces it
        assert not emulator.replaces({"Type": "String", "Value": "a"}, {"Type": "String", "Value": "b"})
        assert emulator.replaces({"Name": "/x", "Value": "a"}, {"Name": "/y", "Value": "a"})
        emulator.update(created.physical_id, {}, {"Type": "String", "Value": "b" * 64})
        assert ssm.get_parameter(Name=created.physical_id)["Parameter"]["Value"] == "b" * 64
        # WHEN deleted (twice) THEN it is gone and the second delete is no error
        emulator.delete(created.physical_id, {})
        emulator.delete(created.physical_id, {})
        assert ssm.describe_parameters()["Parameters"] == []


@pytest.mark.parametrize(
    ("properties", "problem"),
    [
        ({"Type": "SecureString", "Value": "secret"}, "cannot create a SecureString"),
        ({"Type": "String", "Value": ""}, "#/Value"),
    ],
)
def test_what_cloudformation_refuses_is_refused(properties: dict[str, Any], problem: str) -> None:
    with mock_aws():
        emulator = ParameterEmulator(boto3.client("ssm", region_name="us-east-1"))
        with pytest.raises(ResourceError, match=problem):
            emulator.create("Parameter", properties)


def test_a_name_that_exists_fails_the_create() -> None:
    with mock_aws():
        ssm = boto3.client("ssm", region_name="us-east-1")
        ssm.put_parameter(Name="/taken", Value="x", Type="String")
        with pytest.raises(ResourceError, match="already exists"):
            ParameterEmulator(ssm).create("Parameter", {"Name": "/taken", "Type": "String", "Value": "y"})
