"""Contacts of an account the stack vends itself (``CfnAccount`` and ``AlternateContacts(account_id=its id)``).

CloudFormation creates a resource only once everything it refers to exists, and AWS's CreateAccount takes
minutes: whatever depends on the new account waits that long, and fails with it. app.py vends one account;
its contacts must be the only resource that waits for it.
"""

from __future__ import annotations

from typing import Any

from construct_synth import Synthesized, only_resource

from cdk_alternate_contacts_cli.intrinsics import references

STACK = "AlternateContactsExample"


def depending_on(template: dict[str, Any], target: str) -> set[str]:
    """Every resource that waits for ``target``: through DependsOn, Ref, Fn::GetAtt or Fn::Sub, transitively."""
    resources = template["Resources"]
    direct = {}
    for logical_id, resource in resources.items():
        depends_on = resource.get("DependsOn", [])
        named = {depends_on} if isinstance(depends_on, str) else set(depends_on)
        direct[logical_id] = (references(resource.get("Properties", {})) | named) & set(resources)
    waiting: set[str] = set()
    todo = [target]
    while todo:
        current = todo.pop()
        for logical_id, needs in direct.items():
            if current in needs and logical_id not in waiting:
                waiting.add(logical_id)
                todo.append(logical_id)
    return waiting


def test_only_the_vended_accounts_own_contacts_wait_for_the_account(example_app: Synthesized) -> None:
    # GIVEN app.py's stack, which vends an account and declares that account's contacts
    template = example_app.template_json(STACK)
    account_id, _ = only_resource(template, "AWS::Organizations::Account")
    contacts = {
        logical_id: resource
        for logical_id, resource in template["Resources"].items()
        if resource["Type"] == "Custom::AlternateContacts"
        and resource["Properties"].get("AccountId") == {"Fn::GetAtt": [account_id, "AccountId"]}
    }
    assert len(contacts) == 1, "app.py declares the vended account's contacts once"
    # WHEN every resource that waits for the account is gathered, directly or through another resource
    waiting = depending_on(template, account_id)
    # THEN it is that account's contacts resource alone: not the provider's role, its policy or its function,
    # not the nested stacks of the member accounts, not the management account's contacts
    assert waiting == set(contacts)
    provider = {
        logical_id
        for logical_id, resource in template["Resources"].items()
        if resource["Type"] in ("AWS::IAM::Role", "AWS::IAM::Policy", "AWS::Lambda::Function", "AWS::Logs::LogGroup")
    }
    assert len(provider) >= 4 and not provider & waiting
    assert not depending_on(template, next(iter(contacts))), "nothing waits for the vended account's contacts"


def test_the_dependency_walk_sees_every_kind_of_reference() -> None:
    # GIVEN a template where B refers to A by Fn::GetAtt, C to B by Fn::Sub, D to C by DependsOn, E by Ref
    template = {
        "Resources": {
            "A": {"Type": "T"},
            "B": {"Type": "T", "Properties": {"X": {"Fn::GetAtt": "A.Arn"}}},
            "C": {"Type": "T", "Properties": {"X": {"Fn::Sub": ["${B.Arn}/${Other}", {"Other": "x"}]}}},
            "D": {"Type": "T", "DependsOn": "C"},
            "E": {"Type": "T", "Properties": {"X": [{"Ref": "A"}]}},
            "F": {"Type": "T", "Properties": {"X": {"Fn::Sub": "${!A}"}}},
        }
    }
    # THEN everything but F (an escaped ${!A} is literal text) waits for A
    assert depending_on(template, "A") == {"B", "C", "D", "E"}
