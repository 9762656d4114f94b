"""The opt-in behaviours, restore on delete and skipping inactive accounts: properties and permissions."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from construct_synth import CONTACT, as_list, new_app, render, synthesize, validation_violations

# isort: split
import aws_cdk as cdk
from aws_cdk.assertions import Template
from cdk_nag import AwsSolutionsChecks

from cdk_alternate_contacts import (
    AlternateContact,
    AlternateContactProvider,
    AlternateContacts,
    AlternateContactValidationError,
    ContactDetails,
)

DETAILS = ContactDetails("ops@example.com", "Ops", "+1 206 555 0101", "On-call")


@pytest.fixture(scope="module")
def synthesized(tmp_path_factory: pytest.TempPathFactory) -> Any:
    outdir = Path(tmp_path_factory.mktemp("opt-ins"))
    app = new_app(outdir)
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    plain = cdk.Stack(app, "Plain")
    AlternateContact(plain, "Security", **CONTACT)
    opted = cdk.Stack(app, "OptedIn")
    AlternateContact(opted, "Security", **CONTACT, account_id="111111111111", restore_on_delete=True)
    AlternateContacts(opted, "Member", account_id="222222222222", operations=DETAILS, skip_inactive_account=True)
    return synthesize(app, outdir)


def statements(template: dict[str, Any]) -> list[dict[str, Any]]:
    policies = [r for r in template["Resources"].values() if r["Type"] == "AWS::IAM::Policy"]
    return [s for p in policies for s in p["Properties"]["PolicyDocument"]["Statement"]]


def actions(template: dict[str, Any]) -> set[str]:
    return {a for s in statements(template) for a in as_list(s["Action"])}


def test_flags_are_left_out_of_the_template_when_off_and_their_permissions_stay(synthesized: Any) -> None:
    # GIVEN a stack whose contact opts in to nothing
    template = synthesized.template_json("Plain")
    [resource] = [r for r in template["Resources"].values() if r["Type"] == "Custom::AlternateContact"]
    # THEN the flags are not in its properties
    assert "RestoreOnDelete" not in resource["Properties"]
    assert "SkipInactiveAccount" not in resource["Properties"]
    # AND the role may still do what an opted-in contact's Delete needs, as the opted-in stack's may: the Delete
    # of the last opted-in contact runs after the update that removed it, under that update's policy
    opted_in = actions(synthesized.template_json("OptedIn"))
    assert (
        {a for a in actions(template) if a.startswith(("ssm:", "organizations:"))}
        == {a for a in opted_in if a.startswith(("ssm:", "organizations:"))}
        == {"ssm:GetParameter", "ssm:PutParameter", "ssm:DeleteParameter", "organizations:DescribeAccount"}
    )


def test_flags_reach_the_handler_as_properties(synthesized: Any) -> None:
    resources = synthesized.template_json("OptedIn")["Resources"].values()
    [single] = [r for r in resources if r["Type"] == "Custom::AlternateContact"]
    [many] = [r for r in resources if r["Type"] == "Custom::AlternateContacts"]
    assert single["Properties"]["RestoreOnDelete"] == "true"
    assert "SkipInactiveAccount" not in single["Properties"]
    assert many["Properties"]["SkipInactiveAccount"] == "true"


def test_restore_may_touch_only_its_own_parameter_prefix(synthesized: Any) -> None:
    [statement] = [
        s for s in statements(synthesized.template_json("OptedIn")) if "ssm:PutParameter" in as_list(s["Action"])
    ]
    assert sorted(as_list(statement["Action"])) == ["ssm:DeleteParameter", "ssm:GetParameter", "ssm:PutParameter"]
    assert [render(r) for r in as_list(statement["Resource"])] == [
        "arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter/cdk-alternate-contacts/*"
    ]
    assert not any(a.startswith("kms:") for a in actions(synthesized.template_json("OptedIn")))


def test_skipping_inactive_accounts_may_only_describe_accounts(synthesized: Any) -> None:
    organizations = {a for a in actions(synthesized.template_json("OptedIn")) if a.startswith("organizations:")}
    assert organizations == {"organizations:DescribeAccount"}


def test_cdk_nag_passes_with_the_opt_ins(synthesized: Any) -> None:
    assert synthesized.error is None
    assert validation_violations(synthesized.outdir) == []


@pytest.mark.parametrize("construct", ["single", "many"])
def test_restore_with_retain_is_a_synth_error(construct: str) -> None:
    # CloudFormation never calls the handler for a retained resource: the SSM record would never be cleaned up.
    stack = cdk.Stack(new_app(Path("/nonexistent"), bundle=False), "Retained")
    with pytest.raises(AlternateContactValidationError, match="restore_on_delete needs removal_policy DESTROY"):
        if construct == "single":
            AlternateContact(
                stack, "Security", **CONTACT, removal_policy=cdk.RemovalPolicy.RETAIN, restore_on_delete=True
            )
        else:
            AlternateContacts(
                stack, "All", security=DETAILS, removal_policy=cdk.RemovalPolicy.RETAIN, restore_on_delete=True
            )


def test_provider_concurrency_can_be_limited_and_is_not_by_default() -> None:
    app = new_app(Path("/nonexistent"), bundle=False)
    plain, limited = cdk.Stack(app, "Unlimited"), cdk.Stack(app, "Limited")
    AlternateContact(plain, "Security", **CONTACT)
    AlternateContact(limited, "Security", **CONTACT)
    AlternateContactProvider.of(limited).limit_concurrency(5)
    functions = {
        name: Template.from_stack(stack).find_resources("AWS::Lambda::Function")
        for name, stack in (("plain", plain), ("limited", limited))
    }
    [plain_function] = functions["plain"].values()
    [limited_function] = functions["limited"].values()
    assert "ReservedConcurrentExecutions" not in plain_function["Properties"]
    assert limited_function["Properties"]["ReservedConcurrentExecutions"] == 5
    with pytest.raises(ValueError, match="max_concurrency must be at least 1"):
        AlternateContactProvider.of(limited).limit_concurrency(0)
