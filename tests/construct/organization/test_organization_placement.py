"""Placement: an account's nested stack depends on its id alone, so other accounts' changes never move it.

A move would be a deletion: CloudFormation creates the resource in its new nested stack, then deletes the
old one in its clean-up phase, and that Delete removes the contacts just written.
"""

from __future__ import annotations

from typing import Any

from construct_synth import Synthesized
from organization_synth import OrganizationTemplates, account_ids, organization_templates

from cdk_alternate_contacts import nested_stack_index


def where(templates: OrganizationTemplates) -> dict[str, tuple[str, str, dict[str, Any]]]:
    """Account -> its nested stack, its logical id, its properties (the stack-specific service token aside)."""
    return {
        account: (p.nested_stack, p.logical_id, {k: v for k, v in p.properties.items() if k != "ServiceToken"})
        for account, p in templates.placed().items()
    }


def test_adding_an_account_at_the_end_moves_no_other_account(organization_app: Synthesized) -> None:
    # GIVEN 30 accounts in 4 nested stacks ("Before"), and the same 30 plus one at the end ("Added")
    before = where(organization_templates(organization_app.outdir, "Before"))
    after = where(organization_templates(organization_app.outdir, "Added"))
    # WHEN each account's nested stack, logical id and properties are compared
    # THEN the 30 are exactly where they were, and the new one is added where its id places it
    assert set(after) - set(before) == {"999988887777"}
    assert {account: after[account] for account in before} == before
    assert after["999988887777"][0] == f"OrganizationAccounts{nested_stack_index('999988887777', 4):02d}"


def test_removing_accounts_moves_no_other_account_and_drops_a_nested_stack_left_empty(
    organization_app: Synthesized,
) -> None:
    # GIVEN the 30 accounts, and the same minus the 6th account and minus every account of the first
    # nested stack ("Removed")
    removed = organization_app.handles["removed"]
    before_templates = organization_templates(organization_app.outdir, "Before")
    after_templates = organization_templates(organization_app.outdir, "Removed")
    before, after = where(before_templates), where(after_templates)
    # WHEN the placements are compared
    # THEN every remaining account is exactly where it was; the emptied nested stack is gone from the parent
    assert set(after) == set(before) - set(removed)
    assert {account: before[account] for account in after} == after
    emptied = before[removed[-1]][0]
    assert emptied in before_templates.nested
    assert emptied not in after_templates.nested


def test_the_listing_permission_still_covers_a_nested_stack_being_deleted(organization_app: Synthesized) -> None:
    # GIVEN the parent templates before and after a nested stack is emptied: CloudFormation deletes the
    # nested stack in its clean-up phase, after the parent's policy is updated, and its Deletes list it
    def listing(stack: str) -> Any:
        template = organization_templates(organization_app.outdir, stack).parent
        policies = [r for r in template["Resources"].values() if r["Type"] == "AWS::IAM::Policy"]
        (policy,) = policies
        return [s for s in policy["Properties"]["PolicyDocument"]["Statement"] if "cloudformation" in str(s["Action"])]

    # WHEN the role's ListStackResources statements are compared
    # THEN they are the same: one pattern covers every nested stack the construct has had
    assert listing("Removed") == listing("Before")


def test_the_order_of_the_accounts_changes_nothing() -> None:
    # GIVEN 1,000 account ids, in two orders
    ids = account_ids(1_000, salt="order")
    # WHEN each is placed among 10 nested stacks
    forward = {a: nested_stack_index(a, 10) for a in ids}
    backward = {a: nested_stack_index(a, 10) for a in reversed(ids)}
    # THEN the placement is the same, and spread evenly enough to stay far below 400 per nested stack
    assert forward == backward
    counts = [list(forward.values()).count(i) for i in range(10)]
    assert max(counts) < 150, counts
    assert min(counts) > 50, counts
