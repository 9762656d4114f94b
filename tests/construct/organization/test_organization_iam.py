"""The provider role for organizations: one scope whatever the number of accounts, exact once the
organization's ids are given."""

from __future__ import annotations

from typing import Any

from construct_synth import Synthesized, as_list, render
from organization_synth import (
    iam_pattern_matches,
    inline_policy_characters,
    organization_templates,
    role_policy_statements,
)

ACCOUNT_ACTIONS = ["account:PutAlternateContact", "account:GetAlternateContact", "account:DeleteAlternateContact"]
OWN_ACCOUNT = "arn:${AWS::Partition}:account::${AWS::AccountId}:account"


def contact_resources(app: Synthesized, stack: str) -> list[str]:
    """The rendered resources of the role's one contact statement, for the API's three types."""
    template = organization_templates(app.outdir, stack).parent
    statements = [s for s in role_policy_statements(template) if "Condition" in s]
    (statement,) = statements
    assert statement["Action"] == ACCOUNT_ACTIONS
    assert statement["Condition"] == {
        "ForAllValues:StringEquals": {"account:AlternateContactTypes": ["BILLING", "OPERATIONS", "SECURITY"]},
        "Null": {"account:AlternateContactTypes": "false"},
    }
    return [render(r) for r in as_list(statement["Resource"])]


def test_the_scope_is_the_same_for_ten_accounts_as_for_eleven(organization_app: Synthesized) -> None:
    # GIVEN ten, then eleven member accounts with a security contact
    # WHEN the role's contact statements are read
    # THEN both name the deploying account and every member account: no account one by one, so an account
    # added or removed changes no policy
    expected = [OWN_ACCOUNT, "arn:${AWS::Partition}:account::*:account/o-*/*"]
    assert contact_resources(organization_app, "Exact10") == expected
    assert contact_resources(organization_app, "Members11") == expected


def test_organization_ids_make_member_arns_exact(organization_app: Synthesized) -> None:
    # GIVEN two accounts, then twelve, declared with the organization's id and its management account
    # WHEN the role's statements are read
    # THEN the member ARN names the management account and the organization
    exact = [OWN_ACCOUNT, "arn:${AWS::Partition}:account::999999999999:account/o-a1b2c3d4e5/*"]
    assert contact_resources(organization_app, "OrgIds2") == exact
    assert contact_resources(organization_app, "OrgIds12") == exact


def test_organization_wide_member_arns_cover_members_of_that_organization_only(organization_app: Synthesized) -> None:
    # GIVEN the organization-wide member ARN written with the organization's ids
    (_, pattern) = contact_resources(organization_app, "OrgIds12")
    pattern = pattern.replace("${AWS::Partition}", "aws")
    # WHEN member ARNs of that organization and of others are matched against it
    # THEN only that organization's members (under its management account) match
    assert iam_pattern_matches(pattern, "arn:aws:account::999999999999:account/o-a1b2c3d4e5/123456789012")
    assert not iam_pattern_matches(pattern, "arn:aws:account::999999999999:account/o-zzzzzzzzzz/123456789012")
    assert not iam_pattern_matches(pattern, "arn:aws:account::888888888888:account/o-a1b2c3d4e5/123456789012")


def test_the_policy_stays_far_below_iams_limit(organization_app: Synthesized) -> None:
    # GIVEN the role of a stack of member accounts
    template = organization_templates(organization_app.outdir, "Members11").parent
    # WHEN the inline policy is measured as IAM counts it
    characters = inline_policy_characters(template, "Members11")
    # THEN it is a small fraction of IAM's 10,240 characters, whatever the number of accounts
    assert characters < 10_240 * 0.25, characters


def test_a_provider_in_another_stack_serves_an_organization(organization_app: Synthesized) -> None:
    # GIVEN an organization whose provider lives in stack "Providers"
    templates = organization_templates(organization_app.outdir, "SharedProvider")
    providers = organization_templates(organization_app.outdir, "Providers").parent
    # WHEN the templates are read
    tokens = [r["Properties"]["ServiceToken"] for t in templates.nested.values() for r in t["Resources"].values()]
    listing = [s for s in role_policy_statements(providers) if "cloudformation:ListStackResources" in s["Action"]]
    # THEN the organization's stack has no function of its own, its contacts import the provider's ARN, and
    # the provider's role may read the organization's stack and its nested stacks, named by its name
    assert all(r["Type"] == "AWS::CloudFormation::Stack" for r in templates.parent["Resources"].values())
    assert tokens and all("Fn::ImportValue" in token for token in tokens)
    (statement,) = listing
    rendered: list[Any] = [render(r) for r in as_list(statement["Resource"])]
    assert any(r.endswith(":stack/SharedProvider/*") for r in rendered), rendered
    assert any(r.endswith(":stack/SharedProvider-*/*") for r in rendered), rendered
