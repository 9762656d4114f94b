"""The provider's permissions: the three alternate-contact actions on the declared accounts and types only."""

from __future__ import annotations

from typing import Any

from construct_synth import (
    MEMBER_BILLING_ACCOUNT,
    MEMBER_SECURITY_ACCOUNT,
    Synthesized,
    as_list,
    only_resource,
    render,
)

ACCOUNT_ACTIONS = {"account:PutAlternateContact", "account:GetAlternateContact", "account:DeleteAlternateContact"}
LOG_ACTIONS = {"logs:CreateLogStream", "logs:PutLogEvents"}
STACK_ACTIONS = {"cloudformation:ListStackResources"}

OWN_ACCOUNT_ARN = "arn:${AWS::Partition}:account::${AWS::AccountId}:account"


def member_arns(account: str) -> set[str]:
    """The two ARNs of an account named explicitly: standalone, and as a member of an organization."""
    return {
        f"arn:${{AWS::Partition}}:account::{account}:account",
        f"arn:${{AWS::Partition}}:account::*:account/o-*/{account}",
    }


def role_statements(template: dict[str, Any]) -> list[dict[str, Any]]:
    """Every statement that grants the provider role anything: its policies, inline and attached."""
    role_id, role = only_resource(template, "AWS::IAM::Role")
    assert "ManagedPolicyArns" not in role["Properties"], "a managed policy would grant actions not listed here"
    statements = [s for policy in role["Properties"].get("Policies", []) for s in policy["PolicyDocument"]["Statement"]]
    for resource in template["Resources"].values():
        if resource["Type"] == "AWS::IAM::Policy" and {"Ref": role_id} in resource["Properties"]["Roles"]:
            statements.extend(resource["Properties"]["PolicyDocument"]["Statement"])
    return statements


def account_statements_by_type(statements: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The alternate-contact statements, keyed by the one contact type each allows."""
    by_type = {}
    for statement in statements:
        if set(as_list(statement["Action"])) & ACCOUNT_ACTIONS:
            (contact_type,) = statement["Condition"]["ForAllValues:StringEquals"]["account:AlternateContactTypes"]
            by_type[contact_type] = statement
    return by_type


def test_provider_role_allows_only_the_contact_log_and_stack_actions(contacts_app: Synthesized) -> None:
    # GIVEN the stack with contacts of two types in three accounts
    statements = role_statements(contacts_app.template_json("Contacts"))
    # WHEN every action the role is granted is collected
    actions = {action for statement in statements for action in as_list(statement["Action"])}
    # THEN it is exactly the three alternate-contact actions, log writing and listing the stack's resources,
    # all Allow, none of them a wildcard
    assert actions == ACCOUNT_ACTIONS | LOG_ACTIONS | STACK_ACTIONS
    assert {statement["Effect"] for statement in statements} == {"Allow"}
    assert not [action for action in actions if "*" in action]


def test_no_provider_statement_applies_to_every_resource(contacts_app: Synthesized) -> None:
    # GIVEN the provider role's statements
    statements = role_statements(contacts_app.template_json("Contacts"))
    # WHEN their resources are rendered
    resources = [render(resource) for statement in statements for resource in as_list(statement["Resource"])]
    # THEN none is "*" and no statement uses NotResource or NotAction to widen itself
    assert "*" not in resources
    assert not [s for s in statements if "NotResource" in s or "NotAction" in s]


def test_each_contact_statement_is_limited_to_exactly_its_declared_type(contacts_app: Synthesized) -> None:
    # GIVEN a stack that declares SECURITY and BILLING contacts, but no OPERATIONS contact
    by_type = account_statements_by_type(role_statements(contacts_app.template_json("Contacts")))
    # WHEN the alternate-contact statements are read
    # THEN there is one per declared type, each allowing the three actions for that one type only, and
    # requiring the type key to be present (ForAllValues alone is also true when the key is missing)
    assert set(by_type) == {"SECURITY", "BILLING"}
    for contact_type, statement in by_type.items():
        assert set(as_list(statement["Action"])) == ACCOUNT_ACTIONS, contact_type
        assert statement["Condition"] == {
            "ForAllValues:StringEquals": {"account:AlternateContactTypes": [contact_type]},
            "Null": {"account:AlternateContactTypes": "false"},
        }, contact_type


def test_contact_statements_name_only_the_declared_accounts(contacts_app: Synthesized) -> None:
    # GIVEN SECURITY for the own account and for one member account, BILLING for the own account (retained)
    # and for another member account
    by_type = account_statements_by_type(role_statements(contacts_app.template_json("Contacts")))
    # WHEN each statement's resources are rendered
    resources = {t: {render(r) for r in as_list(s["Resource"])} for t, s in by_type.items()}
    # THEN a contact without account_id adds only the deploying account's ARN, and an explicit account
    # adds its standalone ARN and its member ARN (management account and organization unknown at synth)
    assert resources == {
        "SECURITY": {OWN_ACCOUNT_ARN} | member_arns(MEMBER_SECURITY_ACCOUNT),
        "BILLING": {OWN_ACCOUNT_ARN} | member_arns(MEMBER_BILLING_ACCOUNT),
    }


def test_log_and_stack_statements_name_only_this_stacks_resources(contacts_app: Synthesized) -> None:
    # GIVEN the provider role's statements and the stack's log group
    template = contacts_app.template_json("Contacts")
    log_group_id, _ = only_resource(template, "AWS::Logs::LogGroup")
    statements = role_statements(template)
    # WHEN the log and CloudFormation statements are picked out
    logs = [s for s in statements if set(as_list(s["Action"])) & LOG_ACTIONS]
    stack = [s for s in statements if set(as_list(s["Action"])) & STACK_ACTIONS]
    # THEN logs may be written only to the provider's own log group, and only this stack's resources listed
    assert [as_list(s["Resource"]) for s in logs] == [[{"Fn::GetAtt": [log_group_id, "Arn"]}]]
    assert [as_list(s["Resource"]) for s in stack] == [[{"Ref": "AWS::StackId"}]]


def test_no_lambda_resource_policy_is_created(contacts_app: Synthesized) -> None:
    # GIVEN both synthesized stacks
    for stack_name in ("Contacts", "SecondStack"):
        # WHEN their resources are listed
        types = {resource["Type"] for resource in contacts_app.template_json(stack_name)["Resources"].values()}
        # THEN no AWS::Lambda::Permission lets anyone else invoke the provider: CloudFormation calls it with
        # the deploying principal's own rights
        assert "AWS::Lambda::Permission" not in types, stack_name


def test_provider_role_can_be_assumed_by_lambda_only(contacts_app: Synthesized) -> None:
    # GIVEN the provider role
    _, role = only_resource(contacts_app.template_json("Contacts"), "AWS::IAM::Role")
    # WHEN its trust policy is read
    trust = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    # THEN only the Lambda service may assume it
    assert trust == [{"Action": "sts:AssumeRole", "Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}}]


def test_token_accounts_are_granted_through_their_references(token_app: Synthesized) -> None:
    # GIVEN a BILLING contact whose account is the parameter MemberAccount, and an OPERATIONS contact whose
    # account is the export OperationsAccountId
    by_type = account_statements_by_type(role_statements(token_app.template_json("Tokens")))
    # WHEN the statements' resources are rendered
    resources = {t: {render(r) for r in as_list(s["Resource"])} for t, s in by_type.items()}
    imported = {"Fn::ImportValue": "OperationsAccountId"}
    # THEN each type names the two ARNs of whatever account its reference holds at deploy time, nothing else
    assert resources["BILLING"] == member_arns("${MemberAccount}")
    assert set(resources) == {"BILLING", "OPERATIONS"}
    operations = [r["Fn::Join"][1] for r in as_list(by_type["OPERATIONS"]["Resource"])]
    assert all(imported in parts for parts in operations)
    assert len(operations) == 2
