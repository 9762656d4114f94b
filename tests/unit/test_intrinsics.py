"""The one resolver of CloudFormation values (cdk_alternate_contacts_cli.intrinsics), one intrinsic at a time.

The same module serves the command-line tool (a scope that knows little before a deploy: what it does not
know is Unresolved, with the reason) and the local engine (a strict scope that knows what a deploy knows, and
raises TemplateError where CloudFormation fails the deploy).
"""

from __future__ import annotations

import base64
from typing import Any

import pytest

from cdk_alternate_contacts_cli.intrinsics import (
    NO_VALUE,
    Scope,
    TemplateError,
    Unresolved,
    condition,
    holds,
    included,
    references,
    resolve,
    stringify,
)

OWN = "123456789012"

#: What the local engine knows during a deploy: everything, resources through callbacks.
RESOURCES: dict[str, Any] = {
    "Bucket": {"Type": "AWS::S3::Bucket"},
    "Queue": {"Type": "AWS::SQS::Queue", "Condition": "IsProd"},
}
CONDITIONS: dict[str, Any] = {
    "IsProd": {"Fn::Equals": [{"Ref": "Env"}, "prod"]},
    "IsOwn": {"Fn::Equals": [{"Ref": "AWS::AccountId"}, OWN]},
    "Loops": {"Condition": "Loops"},
}
DEPLOYING = Scope(
    account=OWN,
    partition="aws",
    region="eu-west-1",
    url_suffix="amazonaws.com",
    stack_name="Stack",
    stack_id=f"arn:aws:cloudformation:eu-west-1:{OWN}:stack/Stack/1",
    notification_arns=[],
    parameters={"Env": {"Type": "String"}, "Names": {"Type": "CommaDelimitedList"}},
    parameter_values={"Env": "dev", "Names": ["a", "b"]},
    mappings={"Teams": {"sec": {"Mail": "sec@example.com", "Ports": [1, 2]}}},
    conditions=CONDITIONS,
    resources=RESOURCES,
    ref=lambda name: f"{name}-physical-id",
    get_att=lambda name, attribute: f"{name}.{attribute}-value",
    availability_zones=lambda region: [f"{region}a", f"{region}b"],
    strict=True,
)

#: What the command-line tool knows before a deploy: the account and partition, nothing of the resources.
PLANNING = Scope(
    account=OWN,
    partition="aws",
    parameters={
        "Env": {"Type": "String", "Default": "dev"},
        "Mail": {"Type": "AWS::SSM::Parameter::Value<String>", "Default": "/mail"},
    },
    mappings=DEPLOYING.mappings,
    conditions=CONDITIONS,
)


def test_ref_names_a_parameter_a_pseudo_parameter_or_a_resource() -> None:
    assert resolve({"Ref": "Env"}, DEPLOYING) == "dev"
    assert resolve({"Ref": "Names"}, DEPLOYING) == ["a", "b"]
    assert resolve({"Ref": "AWS::AccountId"}, DEPLOYING) == OWN
    assert resolve({"Ref": "AWS::StackName"}, DEPLOYING) == "Stack"
    assert resolve({"Ref": "AWS::NotificationARNs"}, DEPLOYING) == []
    assert resolve({"Ref": "Bucket"}, DEPLOYING) == "Bucket-physical-id"


def test_ref_the_scope_does_not_know_says_where_the_value_comes_from() -> None:
    assert resolve({"Ref": "Env"}, PLANNING) == Unresolved("parameter Env (given at deploy time)")
    assert resolve({"Ref": "Mail"}, PLANNING) == Unresolved("SSM parameter /mail (read at deploy time)")
    assert resolve({"Ref": "AWS::Region"}, PLANNING) == Unresolved("Ref AWS::Region (the stack's region is not fixed)")
    assert resolve({"Ref": "AWS::StackId"}, PLANNING) == Unresolved("Ref AWS::StackId (known after deploy)")
    assert resolve({"Ref": "Bucket"}, PLANNING) == Unresolved("Ref Bucket (known after deploy)")


def test_ref_to_nothing_or_to_a_resource_not_created_is_a_template_error() -> None:
    with pytest.raises(TemplateError, match=r"Unresolved resource dependencies \[Nothing\]"):
        resolve({"Ref": "Nothing"}, DEPLOYING)
    with pytest.raises(TemplateError, match="Ref Queue: the resource's condition is false"):
        resolve({"Ref": "Queue"}, DEPLOYING)


def test_no_value_removes_the_property_or_the_list_item() -> None:
    assert resolve({"Ref": "AWS::NoValue"}, PLANNING) is NO_VALUE
    assert resolve({"A": {"Ref": "AWS::NoValue"}, "B": 1}, PLANNING) == {"B": 1}
    assert resolve(["x", {"Ref": "AWS::NoValue"}], PLANNING) == ["x"]


def test_get_att_in_either_form_asks_the_scope() -> None:
    assert resolve({"Fn::GetAtt": ["Bucket", "Arn"]}, DEPLOYING) == "Bucket.Arn-value"
    assert resolve({"Fn::GetAtt": "Bucket.Outputs.Name"}, DEPLOYING) == "Bucket.Outputs.Name-value"
    assert resolve({"Fn::GetAtt": ["Bucket", "Arn"]}, PLANNING) == Unresolved(
        "Fn::GetAtt Bucket.Arn (known after deploy)"
    )
    with pytest.raises(TemplateError, match="Fn::GetAtt: no resource Nothing"):
        resolve({"Fn::GetAtt": ["Nothing", "Arn"]}, DEPLOYING)


def test_join_writes_scalars_as_cloudformation_does() -> None:
    value = {"Fn::Join": ["-", ["a", {"Ref": "AWS::AccountId"}, 3, True]]}

    assert resolve(value, PLANNING) == f"a-{OWN}-3-true"


def test_sub_in_both_forms_with_escapes_variables_and_attributes() -> None:
    text = "${X}+${AWS::AccountId}${!Literal}/${Bucket.Arn}/${Bucket}"

    assert resolve({"Fn::Sub": [text, {"X": "x"}]}, DEPLOYING) == (
        f"x+{OWN}${{Literal}}/Bucket.Arn-value/Bucket-physical-id"
    )
    assert resolve({"Fn::Sub": "${AWS::Partition}"}, PLANNING) == "aws"
    assert resolve({"Fn::Sub": "${Bucket.Arn}"}, PLANNING) == Unresolved("Fn::Sub ${Bucket.Arn} (known after deploy)")


def test_sub_variables_the_text_does_not_use_do_not_decide_it() -> None:
    value = {"Fn::Sub": ["${A}", {"A": "a", "Unused": {"Ref": "Env"}}]}

    assert resolve(value, PLANNING) == "a"


def test_select_picks_by_index_and_an_index_out_of_range_is_an_error() -> None:
    assert resolve({"Fn::Select": [1, ["a", "b"]]}, PLANNING) == "b"
    assert resolve({"Fn::Select": ["0", {"Ref": "Names"}]}, DEPLOYING) == "a"
    with pytest.raises(TemplateError, match="Fn::Select index 2 out of range"):
        resolve({"Fn::Select": [2, ["a", "b"]]}, DEPLOYING)
    assert resolve({"Fn::Select": [-1, ["a"]]}, PLANNING) == Unresolved("Fn::Select index -1 out of range")


def test_split_cuts_a_string_into_a_list() -> None:
    assert resolve({"Fn::Split": [",", {"Fn::Join": [",", ["a", "b"]]}]}, PLANNING) == ["a", "b"]


def test_find_in_map_looks_up_two_levels_and_a_missing_key_is_an_error() -> None:
    assert resolve({"Fn::FindInMap": ["Teams", "sec", "Mail"]}, PLANNING) == "sec@example.com"
    assert resolve({"Fn::FindInMap": ["Teams", "sec", "Ports"]}, PLANNING) == [1, 2]
    with pytest.raises(TemplateError, match="Fn::FindInMap: no Teams/ops/Mail"):
        resolve({"Fn::FindInMap": ["Teams", "ops", "Mail"]}, DEPLOYING)


def test_if_is_decided_wherever_its_condition_is_known() -> None:
    value = {"Fn::If": ["IsOwn", "own", {"Ref": "AWS::NoValue"}]}
    by_parameter = {"Fn::If": ["IsProd", "prod", "other"]}

    # The deploying account is known before the deploy: the tool decides as CloudFormation will.
    assert resolve(value, PLANNING) == "own"
    assert resolve(
        {"Fn::If": ["IsOwn", "own", {"Ref": "AWS::NoValue"}]}, Scope(account="1" * 12, conditions=CONDITIONS)
    ) is (NO_VALUE)
    # A top-level parameter is given at deploy time: the tool cannot decide, the engine can.
    assert resolve(by_parameter, PLANNING) == Unresolved("parameter Env (given at deploy time)")
    assert resolve(by_parameter, DEPLOYING) == "other"


def test_condition_functions_combine_and_one_decisive_operand_settles_and_or_or() -> None:
    unknown = {"Fn::Equals": [{"Ref": "Env"}, "prod"]}
    known_false = {"Fn::Equals": ["a", "b"]}

    assert holds({"Fn::Not": [known_false]}, PLANNING) is True
    assert holds({"Fn::And": [unknown, known_false]}, PLANNING) is False
    assert holds({"Fn::Or": [{"Condition": "IsOwn"}, unknown]}, PLANNING) is True
    assert holds({"Fn::And": [{"Condition": "IsOwn"}, unknown]}, PLANNING) == Unresolved(
        "parameter Env (given at deploy time)"
    )
    assert condition("IsProd", DEPLOYING) is False
    assert included("Queue", DEPLOYING) is False
    assert included("Bucket", DEPLOYING) is True


def test_a_condition_that_does_not_exist_or_refers_to_itself_is_an_error() -> None:
    with pytest.raises(TemplateError, match="Unresolved condition dependency Nothing"):
        condition("Nothing", DEPLOYING)
    with pytest.raises(TemplateError, match="nested too deeply"):
        condition("Loops", DEPLOYING)


def test_condition_is_data_outside_a_condition() -> None:
    # An IAM statement's Condition block is a property like any other.
    assert resolve({"Condition": {"StringEquals": {"k": "v"}}}, PLANNING) == {"Condition": {"StringEquals": {"k": "v"}}}


def test_rule_functions_check_members() -> None:
    names = {"Ref": "Names"}

    assert holds({"Fn::Contains": [names, "a"]}, DEPLOYING) is True
    assert holds({"Fn::EachMemberEquals": [names, "a"]}, DEPLOYING) is False
    assert holds({"Fn::EachMemberIn": [names, ["a", "b", "c"]]}, DEPLOYING) is True


def test_get_azs_asks_the_scope_for_the_region_given_or_the_stacks() -> None:
    assert resolve({"Fn::GetAZs": ""}, DEPLOYING) == ["eu-west-1a", "eu-west-1b"]
    assert resolve({"Fn::GetAZs": "us-east-1"}, DEPLOYING) == ["us-east-1a", "us-east-1b"]
    assert resolve({"Fn::GetAZs": ""}, PLANNING) == Unresolved("Fn::GetAZs (known after deploy)")


def test_base64_encodes_the_text() -> None:
    value = {"Fn::Base64": {"Fn::Sub": "${AWS::AccountId}"}}

    assert resolve(value, PLANNING) == base64.b64encode(OWN.encode()).decode()


def test_import_value_and_unknown_functions_are_known_only_at_deploy_time() -> None:
    assert resolve({"Fn::ImportValue": "Lead"}, PLANNING) == Unresolved("Fn::ImportValue (known after deploy)")
    assert resolve({"Fn::Cidr": ["10.0.0.0/16", 2, 8]}, PLANNING) == Unresolved("Fn::Cidr (known after deploy)")
    with pytest.raises(TemplateError, match="Fn::ImportValue is not supported"):
        resolve({"Fn::ImportValue": "Lead"}, DEPLOYING)


def test_the_first_unresolved_part_stands_for_the_whole_value() -> None:
    value = {"A": ["x", {"Fn::Join": ["", [{"Ref": "Mail"}, {"Ref": "Env"}]]}], "B": {"Ref": "Env"}}

    assert resolve(value, PLANNING) == Unresolved("SSM parameter /mail (read at deploy time)")


def test_a_parameter_value_may_itself_be_unresolved() -> None:
    # A nested stack's parameter that its parent passes from a value only the deploy knows.
    scope = Scope(parameter_values={"Member": Unresolved("parameter Member from the parent stack: why")})

    assert resolve({"Fn::Sub": "${Member}"}, scope) == Unresolved("parameter Member from the parent stack: why")


def test_a_strict_scope_raises_where_a_value_is_unknown() -> None:
    with pytest.raises(TemplateError, match=r"Ref AWS::Region \(the stack's region is not fixed\)"):
        resolve({"Ref": "AWS::Region"}, Scope(strict=True))


def test_references_are_the_names_a_value_refers_to() -> None:
    value = {
        "A": {"Fn::GetAtt": "One.Arn"},
        "B": {"Fn::Sub": ["${Two.Arn}/${Other}/${!Escaped}", {"Other": {"Ref": "Three"}}]},
        "C": [{"Ref": "Four"}],
    }

    assert references(value) == {"One", "Two", "Three", "Four"}


def test_properties_reach_a_custom_resource_as_strings() -> None:
    assert stringify({"A": [1, True, None], "B": "x"}) == {"A": ["1", "true", ""], "B": "x"}
