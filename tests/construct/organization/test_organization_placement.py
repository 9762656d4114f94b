"""Placement: an account's nested stack depends on its id alone, so other accounts' changes never move it.

A move would be a deletion: CloudFormation creates the resource in its new nested stack, then deletes the
old one in its clean-up phase, and that Delete removes the contacts just written.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from construct_synth import Synthesized, new_app  # sets up jsii: import it before aws_cdk
from organization_synth import DEFAULTS, OrganizationTemplates, account_ids, organization_templates

# isort: split
import aws_cdk as cdk

from cdk_alternate_contacts import (
    AccountContacts,
    AlternateContactProvider,
    OrganizationContacts,
    nested_stack_index,
    nested_stacks_for,
)


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
    # WHEN each is placed among 10 nested stacks (jump consistent hash)
    forward = {a: nested_stack_index(a, 10) for a in ids}
    backward = {a: nested_stack_index(a, 10) for a in reversed(ids)}
    # THEN the placement is the same, and spread evenly enough to stay far below 400 per nested stack
    assert forward == backward
    counts = [list(forward.values()).count(i) for i in range(10)]
    assert max(counts) < 150, counts
    assert min(counts) > 50, counts


def changes(before: OrganizationTemplates, after: OrganizationTemplates) -> tuple[set[str], set[str], set[str]]:
    """What differs between two versions of a stack: nested templates, parent resources, contacts resources."""
    nested = {name for name in {*before.nested, *after.nested} if before.nested.get(name) != after.nested.get(name)}
    parent = {
        logical_id
        for logical_id in {*before.parent["Resources"], *after.parent["Resources"]}
        if before.parent["Resources"].get(logical_id) != after.parent["Resources"].get(logical_id)
    }
    old, new = before.placed(), after.placed()
    contacts = {a for a in {*old, *new} if (old.get(a) and old[a].__dict__) != (new.get(a) and new[a].__dict__)}
    return nested, parent, contacts


@pytest.mark.parametrize("version", ["added", "changed", "removed"])
def test_vending_one_account_changes_its_resource_and_its_nested_stack_only(
    vending_apps: dict[str, Synthesized], version: str
) -> None:
    # GIVEN an organization of 260 accounts (2 nested stacks), and the next version of the same stack with one
    # account added, changed (an override) or removed
    before = organization_templates(vending_apps["before"].outdir, "Vending")
    after = organization_templates(vending_apps[version].outdir, "Vending")
    account = "999988887777" if version == "added" else vending_apps["before"].handles["changed"]
    home = f"OrganizationAccounts{nested_stack_index(account, 2):02d}"
    assert len(before.nested) == 2
    # WHEN every template is compared, the parent's resources one by one, and every account's resource
    nested, parent, contacts = changes(before, after)
    # THEN only that account's resource changed, in its nested stack (whose TemplateURL in the parent is all
    # that changes there): no other account's resource, no other nested stack, not the provider
    assert contacts == {account}
    assert nested == {home}
    assert parent == {home}
    assert after.parent.get("Parameters") == before.parent.get("Parameters")


def test_growing_by_one_nested_stack_moves_only_accounts_into_the_new_one(organization_app: Synthesized) -> None:
    # GIVEN the same 30 accounts in 4 nested stacks ("Before") and in 5 ("Grown")
    before = where(organization_templates(organization_app.outdir, "Before"))
    grown = where(organization_templates(organization_app.outdir, "Grown"))
    # WHEN their places are compared
    moved = {account for account in before if grown[account][0] != before[account][0]}
    # THEN every account that moved went to the new nested stack, the rest stayed exactly as they were
    assert moved, "some account belongs in the fifth nested stack"
    assert {grown[account][0] for account in moved} == {"OrganizationAccounts04"}
    assert {a: grown[a] for a in before if a not in moved} == {a: before[a] for a in before if a not in moved}


@pytest.mark.parametrize(
    ("accounts", "stacks"), [(0, 1), (1, 1), (250, 1), (251, 2), (1_000, 4), (5_000, 20), (10_000, 40), (10_001, 41)]
)
def test_the_number_of_nested_stacks_grows_by_one_every_250_accounts(accounts: int, stacks: int) -> None:
    assert nested_stacks_for(accounts) == stacks


def test_growth_moves_about_one_account_in_n_plus_one_and_only_into_the_new_nested_stack() -> None:
    # GIVEN 10,000 account ids placed among n and n + 1 nested stacks, for n from 1 to 40
    ids = account_ids(10_000, salt="growth")
    for n in (1, 2, 3, 9, 39):
        old = {a: nested_stack_index(a, n) for a in ids}
        new = {a: nested_stack_index(a, n + 1) for a in ids}
        # WHEN the accounts whose nested stack changed are counted
        moved = [a for a in ids if old[a] != new[a]]
        # THEN each moved into the new one, and they are about 1 in n + 1 (within 15 %)
        assert {new[a] for a in moved} == {n}
        assert abs(len(moved) - len(ids) / (n + 1)) < 0.15 * len(ids) / (n + 1), (n, len(moved))


def test_forty_nested_stacks_of_10000_accounts_stay_far_below_400_each() -> None:
    # GIVEN 10,000 accounts spread over the 40 nested stacks they grow to
    ids = account_ids(10_000, salt="spread")
    counts = [0] * nested_stacks_for(len(ids))
    for account in ids:
        counts[nested_stack_index(account, len(counts))] += 1
    # WHEN the fullest is found  THEN it is within a few standard deviations of 250, far below 400
    assert max(counts) < 320, counts
    assert min(counts) > 180, counts


def test_one_chain_across_every_organization_of_a_provider_and_its_concurrency_kept(tmp_path: Path) -> None:
    # GIVEN one stack whose provider the app limited to 8 executions, then two OrganizationContacts of 2
    # nested stacks each, the second with no concurrency limit of its own
    app = new_app(tmp_path, bundle=False)
    stack = cdk.Stack(app, "Two")
    AlternateContactProvider.of(stack).limit_concurrency(8)
    for name, accounts, limit in (("First", account_ids(6, "first"), 5), ("Second", account_ids(6, "second"), None)):
        OrganizationContacts(
            stack,
            name,
            defaults=DEFAULTS,
            accounts=[AccountContacts(a) for a in accounts],
            nested_stacks=2,
            max_concurrency=limit,
        )
    app.synth()
    template = json.loads((tmp_path / "Two.template.json").read_text())
    # WHEN the nested stacks' DependsOn and the function's reserved concurrency are read
    nested = [k for k, v in template["Resources"].items() if v["Type"] == "AWS::CloudFormation::Stack"]
    chained = {k: [d for d in template["Resources"][k].get("DependsOn", []) if d in nested] for k in nested}
    (function,) = [v for v in template["Resources"].values() if v["Type"] == "AWS::Lambda::Function"]
    # THEN the four nested stacks form one chain, in declaration order, and the app's limit stands
    assert nested == ["FirstAccounts00", "FirstAccounts01", "SecondAccounts00", "SecondAccounts01"]
    assert chained == {
        "FirstAccounts00": [],
        "FirstAccounts01": ["FirstAccounts00"],
        "SecondAccounts00": ["FirstAccounts01"],
        "SecondAccounts01": ["SecondAccounts00"],
    }
    assert function["Properties"]["ReservedConcurrentExecutions"] == 8


def test_an_organization_limits_its_provider_to_five_executions_by_default(organization_app: Synthesized) -> None:
    # GIVEN the "Before" stack, declared without any concurrency setting
    template = organization_templates(organization_app.outdir, "Before").parent
    # WHEN its function is read  THEN at most 5 invocations run at once; the rest wait in Lambda's queue
    (function,) = [v for v in template["Resources"].values() if v["Type"] == "AWS::Lambda::Function"]
    assert function["Properties"]["ReservedConcurrentExecutions"] == 5
