"""The provider's permissions: a scope that never shrinks, so every phase of every operation is allowed.

CloudFormation deletes a removed or replaced contact in its cleanup phase, after the update phase applied the
new policy (shared/REFERENCE.md section 6). The role's scope therefore must not follow the template's
declarations: it is the same for every stack, and the tests say so.
"""

from __future__ import annotations

import json
from typing import Any

from construct_synth import Synthesized, as_list, only_resource, render

ACCOUNT_ACTIONS = {"account:PutAlternateContact", "account:GetAlternateContact", "account:DeleteAlternateContact"}
LOG_ACTIONS = {"logs:CreateLogStream", "logs:PutLogEvents"}
STACK_ACTIONS = {"cloudformation:ListStackResources", "cloudformation:DescribeStacks", "cloudformation:GetTemplate"}
RESTORE_ACTIONS = {"ssm:GetParameter", "ssm:PutParameter", "ssm:DeleteParameter"}
STATUS_ACTIONS = {"organizations:DescribeAccount"}

OWN_ACCOUNT_ARN = "arn:${AWS::Partition}:account::${AWS::AccountId}:account"
MEMBER_ACCOUNTS_ARN = "arn:${AWS::Partition}:account::*:account/o-*/*"


def role_statements(template: dict[str, Any]) -> list[dict[str, Any]]:
    """Every statement that grants the provider role anything: its policies, inline and attached."""
    role_id, role = only_resource(template, "AWS::IAM::Role")
    assert "ManagedPolicyArns" not in role["Properties"], "a managed policy would grant actions not listed here"
    statements = [s for policy in role["Properties"].get("Policies", []) for s in policy["PolicyDocument"]["Statement"]]
    for resource in template["Resources"].values():
        if resource["Type"] == "AWS::IAM::Policy" and {"Ref": role_id} in resource["Properties"]["Roles"]:
            statements.extend(resource["Properties"]["PolicyDocument"]["Statement"])
    return statements


def rendered(statements: list[dict[str, Any]]) -> list[tuple[frozenset[str], frozenset[str], str]]:
    """The statements as comparable values: actions, rendered resources, conditions."""
    return sorted(
        (
            frozenset(as_list(s["Action"])),
            frozenset(json.dumps(render(r), sort_keys=True) for r in as_list(s["Resource"])),
            repr(sorted(s.get("Condition", {}).items())),
        )
        for s in statements
    )


def test_provider_role_allows_only_the_contact_stack_restore_status_and_log_actions(contacts_app: Synthesized) -> None:
    # GIVEN the stack with contacts of two types in three accounts
    statements = role_statements(contacts_app.template_json("Contacts"))
    # WHEN every action the role is granted is collected
    actions = {action for statement in statements for action in as_list(statement["Action"])}
    # THEN it is exactly the three alternate-contact actions, reading the app's stacks, the restore records,
    # member accounts' status and log writing, all Allow, none of them a wildcard
    assert actions == ACCOUNT_ACTIONS | LOG_ACTIONS | STACK_ACTIONS | RESTORE_ACTIONS | STATUS_ACTIONS
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


def test_contact_statement_covers_every_type_of_the_own_and_member_accounts(contacts_app: Synthesized) -> None:
    # GIVEN a stack that declares SECURITY and BILLING contacts, but no OPERATIONS contact
    statements = role_statements(contacts_app.template_json("Contacts"))
    # WHEN the alternate-contact statements are read
    contact = [s for s in statements if set(as_list(s["Action"])) & ACCOUNT_ACTIONS]
    # THEN one statement allows the three actions on the deploying account and the organization's members,
    # for the API's three types (OPERATIONS too: a later version may declare and then remove it), and
    # requires the type key to be present (ForAllValues alone is also true when the key is missing)
    assert len(contact) == 1
    (statement,) = contact
    assert set(as_list(statement["Action"])) == ACCOUNT_ACTIONS
    assert {render(r) for r in as_list(statement["Resource"])} == {OWN_ACCOUNT_ARN, MEMBER_ACCOUNTS_ARN}
    assert statement["Condition"] == {
        "ForAllValues:StringEquals": {"account:AlternateContactTypes": ["BILLING", "OPERATIONS", "SECURITY"]},
        "Null": {"account:AlternateContactTypes": "false"},
    }


def test_the_policy_does_not_depend_on_what_the_stack_declares(
    contacts_app: Synthesized, token_app: Synthesized
) -> None:
    # GIVEN stacks that declare different accounts, types, opt-ins and deploy-time accounts
    policies = {
        name: rendered(role_statements(app.template_json(name)))
        for app, name in ((contacts_app, "Contacts"), (contacts_app, "SecondStack"), (token_app, "Tokens"))
    }
    # THEN their providers' policies are the same: removing, replacing or adding a contact changes no policy,
    # so no phase of any update runs under a narrower one, and a deploy-time account holds nothing up
    assert policies["Contacts"] == policies["SecondStack"] == policies["Tokens"]


def test_stack_statement_names_this_stack_and_the_nested_stacks_below_it(contacts_app: Synthesized) -> None:
    # GIVEN the provider role's statements and the stack's log group
    template = contacts_app.template_json("Contacts")
    log_group_id, _ = only_resource(template, "AWS::Logs::LogGroup")
    statements = role_statements(template)
    # WHEN the log and CloudFormation statements are picked out
    logs = [s for s in statements if set(as_list(s["Action"])) & LOG_ACTIONS]
    stack = [s for s in statements if set(as_list(s["Action"])) & STACK_ACTIONS]
    # THEN logs may be written only to the provider's own log group, and only this stack and the nested
    # stacks named after it (<stack>-<logical id>-<suffix>) read
    assert [as_list(s["Resource"]) for s in logs] == [[{"Fn::GetAtt": [log_group_id, "Arn"]}]]
    assert [{render(r) for r in as_list(s["Resource"])} for s in stack] == [
        {
            "${AWS::StackId}",
            "arn:${AWS::Partition}:cloudformation:${AWS::Region}:${AWS::AccountId}:stack/${AWS::StackName}-*/*",
        }
    ]


def test_restore_records_are_limited_to_the_projects_prefix(contacts_app: Synthesized) -> None:
    statements = role_statements(contacts_app.template_json("Contacts"))
    restore = [s for s in statements if set(as_list(s["Action"])) & RESTORE_ACTIONS]
    assert [{render(r) for r in as_list(s["Resource"])} for s in restore] == [
        {"arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter/cdk-alternate-contacts/*"}
    ]


def test_async_invocations_are_not_retried_and_expire_after_an_hour(contacts_app: Synthesized) -> None:
    # GIVEN the provider's function
    _, config = only_resource(contacts_app.template_json("Contacts"), "AWS::Lambda::EventInvokeConfig")
    # THEN Lambda does not replay an event crhelper has answered, and drops one older than CloudFormation's
    # largest ServiceTimeout
    assert config["Properties"]["MaximumRetryAttempts"] == 0
    assert config["Properties"]["MaximumEventAgeInSeconds"] == 3600
    assert config["Properties"]["Qualifier"] == "$LATEST"


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
