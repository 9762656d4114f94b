"""The provider role at scale: exact account ARNs for a few accounts, the organization's members past that."""

from __future__ import annotations

from typing import Any

from construct_synth import Synthesized
from organization_synth import (
    account_ids,
    as_list,
    iam_pattern_matches,
    inline_policy_characters,
    organization_templates,
    render,
    role_policy_statements,
)

ACCOUNT_ACTIONS = ["account:PutAlternateContact", "account:GetAlternateContact", "account:DeleteAlternateContact"]
OWN_ACCOUNT = "arn:${AWS::Partition}:account::${AWS::AccountId}:account"


def security_resources(app: Synthesized, stack: str) -> list[str]:
    """The rendered resources of the role's one statement, which must be for SECURITY only."""
    template = organization_templates(app.outdir, stack).parent
    statements = [s for s in role_policy_statements(template) if "Condition" in s]
    (statement,) = statements
    assert statement["Action"] == ACCOUNT_ACTIONS
    assert statement["Condition"] == {
        "ForAllValues:StringEquals": {"account:AlternateContactTypes": ["SECURITY"]},
        "Null": {"account:AlternateContactTypes": "false"},
    }
    return [render(r) for r in as_list(statement["Resource"])]


def test_up_to_ten_accounts_of_a_type_are_named_one_by_one(organization_app: Synthesized) -> None:
    # GIVEN ten member accounts with a security contact
    accounts = account_ids(10, salt="Exact10")
    # WHEN the role's statement is read
    resources = security_resources(organization_app, "Exact10")
    # THEN it names each account, standalone and as a member (organization unknown: wildcards), nothing else
    expected = [
        arn
        for account in accounts
        for arn in (
            f"arn:${{AWS::Partition}}:account::{account}:account",
            f"arn:${{AWS::Partition}}:account::*:account/o-*/{account}",
        )
    ]
    assert sorted(resources) == sorted(expected)


def test_past_ten_accounts_the_statement_names_the_organizations_members_instead(organization_app: Synthesized) -> None:
    # GIVEN eleven member accounts with a security contact
    # WHEN the role's statement is read
    resources = security_resources(organization_app, "Members11")
    # THEN it names the deploying account and every member account: no account one by one
    assert resources == [OWN_ACCOUNT, "arn:${AWS::Partition}:account::*:account/o-*/*"]


def test_organization_ids_make_member_arns_exact(organization_app: Synthesized) -> None:
    # GIVEN two accounts, then twelve, declared with the organization's id and its management account
    two = account_ids(2, salt="OrgIds2")
    # WHEN the role's statements are read
    few = security_resources(organization_app, "OrgIds2")
    many = security_resources(organization_app, "OrgIds12")
    # THEN the member ARNs name the management account and the organization: exactly each account while few,
    # exactly the organization's members past ten
    assert sorted(few) == sorted(
        arn
        for account in two
        for arn in (
            f"arn:${{AWS::Partition}}:account::{account}:account",
            f"arn:${{AWS::Partition}}:account::999999999999:account/o-a1b2c3d4e5/{account}",
        )
    )
    assert many == [OWN_ACCOUNT, "arn:${AWS::Partition}:account::999999999999:account/o-a1b2c3d4e5/*"]


def test_organization_wide_member_arns_cover_members_of_that_organization_only(organization_app: Synthesized) -> None:
    # GIVEN the organization-wide member ARN written with the organization's ids
    (_, pattern) = security_resources(organization_app, "OrgIds12")
    pattern = pattern.replace("${AWS::Partition}", "aws")
    # WHEN member ARNs of that organization and of others are matched against it
    # THEN only that organization's members (under its management account) match
    assert iam_pattern_matches(pattern, "arn:aws:account::999999999999:account/o-a1b2c3d4e5/123456789012")
    assert not iam_pattern_matches(pattern, "arn:aws:account::999999999999:account/o-zzzzzzzzzz/123456789012")
    assert not iam_pattern_matches(pattern, "arn:aws:account::888888888888:account/o-a1b2c3d4e5/123456789012")


def test_the_policy_of_ten_exact_accounts_of_three_types_stays_far_below_iams_limit(
    organization_app: Synthesized,
) -> None:
    # GIVEN the worst case of exact ARNs: the threshold's ten accounts, for each of the three types, measured
    # with the Exact10 stack's one type and scaled to three
    template = organization_templates(organization_app.outdir, "Exact10").parent
    # WHEN the inline policy is measured as IAM counts it
    one_type = inline_policy_characters(template, "Exact10")
    # THEN the whole policy counted three times (an upper bound for three types) stays below IAM's 10,240
    # characters, with room for the opt-in statements
    assert 3 * one_type < 10_240 * 0.6, one_type


def test_a_provider_in_another_stack_serves_an_organization(organization_app: Synthesized) -> None:
    # GIVEN an organization whose provider lives in stack "Providers"
    templates = organization_templates(organization_app.outdir, "SharedProvider")
    providers = organization_templates(organization_app.outdir, "Providers").parent
    # WHEN the templates are read
    tokens = [r["Properties"]["ServiceToken"] for t in templates.nested.values() for r in t["Resources"].values()]
    listing = [s for s in role_policy_statements(providers) if s["Action"] == "cloudformation:ListStackResources"]
    # THEN the organization's stack has no function of its own, its contacts import the provider's ARN, and
    # the provider's role may list the organization's nested stacks, named by the organization stack's name
    assert all(r["Type"] == "AWS::CloudFormation::Stack" for r in templates.parent["Resources"].values())
    assert tokens and all("Fn::ImportValue" in token for token in tokens)
    (statement,) = listing
    rendered: list[Any] = [render(r) for r in as_list(statement["Resource"])]
    assert rendered[1].endswith(":stack/SharedProvider-OrganizationAccounts*/*")
