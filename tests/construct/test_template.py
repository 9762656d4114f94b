"""The synthesized template: one custom resource per contact, one provider function per stack."""

from __future__ import annotations

import ast
from typing import Any

from app_synth import function_asset
from aws_cdk.assertions import Match
from construct_synth import (
    CONTACT,
    MEMBER_BILLING_ACCOUNT,
    Synthesized,
    only_resource,
)

API_KEYS = {"AlternateContactType", "EmailAddress", "Name", "PhoneNumber", "Title"}


def contacts_by_path(template: dict[str, Any]) -> dict[str, tuple[str, dict[str, Any]]]:
    """Custom::AlternateContact resources keyed by their construct's id (``Contacts/<id>/Resource``)."""
    found = {}
    for logical_id, resource in template["Resources"].items():
        if resource["Type"] == "Custom::AlternateContact":
            construct_id = resource["Metadata"]["aws:cdk:path"].split("/")[1]
            found[construct_id] = (logical_id, resource)
    return found


def test_each_contact_is_one_custom_resource_keyed_exactly_as_the_api(contacts_app: Synthesized) -> None:
    # GIVEN a stack of four contacts, one of them for a member account
    template = contacts_app.template_json("Contacts")
    # WHEN the contacts are read from the template
    contacts = contacts_by_path(template)
    # THEN there is one Custom::AlternateContact per contact, keyed as the API names its fields,
    # with AccountId only where an account was given
    assert set(contacts) == {"Security", "MemberBilling", "MemberSecurity", "RetainedBilling"}
    for construct_id, (_, resource) in contacts.items():
        keys = set(resource["Properties"]) - {"ServiceToken", "ServiceTimeout"}
        expected = API_KEYS | {"AccountId"} if construct_id.startswith("Member") else API_KEYS
        assert keys == expected, construct_id
    assert contacts["Security"][1]["Properties"] | {"ServiceToken": None, "ServiceTimeout": None} == {
        "ServiceToken": None,
        "ServiceTimeout": None,
        "AlternateContactType": "SECURITY",
        "EmailAddress": CONTACT["email_address"],
        "Name": CONTACT["name"],
        "PhoneNumber": CONTACT["phone_number"],
        "Title": CONTACT["title"],
    }
    assert contacts["MemberBilling"][1]["Properties"]["AccountId"] == MEMBER_BILLING_ACCOUNT


def test_contact_type_given_as_enum_or_as_string_renders_the_same_value(contacts_app: Synthesized) -> None:
    # GIVEN "Security" declared with AlternateContactType.SECURITY and "MemberBilling" with the string "BILLING"
    contacts = contacts_by_path(contacts_app.template_json("Contacts"))
    # WHEN their types are read back
    types = {cid: resource["Properties"]["AlternateContactType"] for cid, (_, resource) in contacts.items()}
    # THEN both forms become the API's plain string
    assert types == {
        "Security": "SECURITY",
        "MemberSecurity": "SECURITY",
        "MemberBilling": "BILLING",
        "RetainedBilling": "BILLING",
    }


def test_service_timeout_fails_a_lost_answer_in_minutes_not_the_default_hour(contacts_app: Synthesized) -> None:
    # GIVEN the synthesized contacts and their provider function
    template = contacts_app.template_json("Contacts")
    _, function = only_resource(template, "AWS::Lambda::Function")
    for construct_id, (_, resource) in contacts_by_path(template).items():
        # WHEN CloudFormation's wait for an answer is read
        timeout = int(resource["Properties"]["ServiceTimeout"])
        # THEN it is whole minutes, under CloudFormation's one-hour default, and longer than the function
        # may run (so a slow but successful answer is not cut off)
        assert timeout % 60 == 0, construct_id
        assert timeout < 3600, construct_id
        assert timeout > function["Properties"]["Timeout"], construct_id


def test_one_provider_function_serves_every_contact_of_a_stack(contacts_app: Synthesized) -> None:
    # GIVEN a stack with four contacts
    template = contacts_app.template_json("Contacts")
    # WHEN the functions and the contacts' service tokens are read
    function_id, _ = only_resource(template, "AWS::Lambda::Function")
    tokens = [resource["Properties"]["ServiceToken"] for _, resource in contacts_by_path(template).values()]
    # THEN there is one function and every contact calls it
    assert tokens == [{"Fn::GetAtt": [function_id, "Arn"]}] * 4


def test_each_stack_gets_its_own_provider_function(contacts_app: Synthesized) -> None:
    # GIVEN an app with contacts in two stacks
    # WHEN both templates are read
    per_stack = {
        name: contacts_app.template(name).find_resources("AWS::Lambda::Function")
        for name in ("Contacts", "SecondStack")
    }
    # THEN each stack has exactly one function of its own: two in the app
    assert {name: len(functions) for name, functions in per_stack.items()} == {"Contacts": 1, "SecondStack": 1}


def test_provider_function_runs_python_3_14_on_arm64_with_the_bundled_handler(contacts_app: Synthesized) -> None:
    # GIVEN the synthesized provider function and its asset
    template = contacts_app.template_json("Contacts")
    _, function = only_resource(template, "AWS::Lambda::Function")
    properties = function["Properties"]
    # WHEN the handler path is resolved inside the asset, as the Lambda runtime would
    module_path, _, attribute = properties["Handler"].rpartition(".")
    module_file = function_asset(contacts_app.outdir, "Contacts") / (module_path.replace(".", "/") + ".py")
    defined = {node.name for node in ast.parse(module_file.read_text()).body if isinstance(node, ast.FunctionDef)}
    # THEN the runtime, architecture and handler are the supported ones, and the handler exists
    assert properties["Runtime"] == "python3.14"
    assert properties["Architectures"] == ["arm64"]
    assert properties["Handler"] == "cdk_alternate_contacts_handler.index.handler"
    assert attribute in defined


def test_provider_logs_to_its_own_log_group_with_finite_retention(contacts_app: Synthesized) -> None:
    # GIVEN the synthesized stack
    template = contacts_app.template_json("Contacts")
    # WHEN the log group and the function's logging configuration are read
    log_group_id, log_group = only_resource(template, "AWS::Logs::LogGroup")
    _, function = only_resource(template, "AWS::Lambda::Function")
    # THEN the function writes to that log group, whose logs expire
    assert function["Properties"]["LoggingConfig"]["LogGroup"] == {"Ref": log_group_id}
    assert isinstance(log_group["Properties"].get("RetentionInDays"), int)
    assert 0 < log_group["Properties"]["RetentionInDays"] <= 365


def test_provider_function_waits_for_its_role_policy(contacts_app: Synthesized) -> None:
    # GIVEN the synthesized stack
    template = contacts_app.template_json("Contacts")
    role_id, _ = only_resource(template, "AWS::IAM::Role")
    policy_id, policy = only_resource(template, "AWS::IAM::Policy")
    # WHEN the function's explicit dependencies are read
    _, function = only_resource(template, "AWS::Lambda::Function")
    # THEN the function depends on the policy of its own role, so the permissions exist before the
    # function (and therefore before any contact, which needs the function's ARN) is created
    assert policy["Properties"]["Roles"] == [{"Ref": role_id}]
    assert function["Properties"]["Role"] == {"Fn::GetAtt": [role_id, "Arn"]}
    assert policy_id in function["DependsOn"]


def test_contacts_are_deleted_with_the_stack_by_default(contacts_app: Synthesized) -> None:
    # GIVEN contacts declared without a removal policy
    template = contacts_app.template("Contacts")
    # WHEN the template is searched for them
    # THEN they carry Delete for both deletion and replacement
    for construct_id in ("Security", "MemberBilling", "MemberSecurity"):
        matches = template.find_resources(
            "Custom::AlternateContact",
            {
                "DeletionPolicy": "Delete",
                "UpdateReplacePolicy": "Delete",
                "Metadata": {"aws:cdk:path": Match.string_like_regexp(f"^Contacts/{construct_id}/")},
            },
        )
        assert len(matches) == 1, construct_id


def test_retain_removal_policy_keeps_the_contact_when_the_resource_goes(contacts_app: Synthesized) -> None:
    # GIVEN "RetainedBilling" declared with RemovalPolicy.RETAIN
    contacts = contacts_by_path(contacts_app.template_json("Contacts"))
    # WHEN its resource is read
    _, resource = contacts["RetainedBilling"]
    # THEN CloudFormation keeps it on both deletion and replacement
    assert (resource["DeletionPolicy"], resource["UpdateReplacePolicy"]) == ("Retain", "Retain")


def test_contact_id_refers_to_the_custom_resource(contacts_app: Synthesized) -> None:
    # GIVEN the "Security" contact construct
    security = contacts_app.handles["security"]
    stack = contacts_app.handles["stack"]
    logical_id, _ = contacts_by_path(contacts_app.template_json("Contacts"))["Security"]
    # WHEN its contact_id token is resolved
    # THEN it is the physical id the handler returns for that resource
    assert stack.resolve(security.contact_id) == {"Ref": logical_id}
