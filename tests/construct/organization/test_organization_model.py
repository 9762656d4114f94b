"""Defaults, overrides and opt-outs: each account gets exactly what the model says, from code and from files."""

from __future__ import annotations

from typing import Any

from construct_synth import REPO, Synthesized, acknowledgements, validation_violations
from organization_synth import (
    ALL_OPTED_OUT,
    BILLING,
    OPERATIONS,
    OVERRIDES_AND_OPTS_OUT,
    PARTIAL_OVERRIDE,
    PAYMENTS_SECURITY,
    PLAIN,
    SECURITY,
    OrganizationTemplates,
    api,
    organization_templates,
)

from cdk_alternate_contacts import load_contacts_model


def contacts_by_account(app: Synthesized, stack_name: str) -> dict[str, dict[str, Any]]:
    """Account id -> the AlternateContacts property of its one resource, read from the nested templates."""
    placed = organization_templates(app.outdir, stack_name).placed()
    return {account: where.properties["AlternateContacts"] for account, where in placed.items()}


def where(templates: OrganizationTemplates) -> dict[str, tuple[str, str, dict[str, Any]]]:
    """Account -> nested stack, logical id and properties (the service token, a stack's own reference, aside)."""
    return {
        account: (p.nested_stack, p.logical_id, {k: v for k, v in p.properties.items() if k != "ServiceToken"})
        for account, p in templates.placed().items()
    }


EXPECTED = {
    PLAIN: {"SECURITY": api(SECURITY), "OPERATIONS": api(OPERATIONS), "BILLING": api(BILLING)},
    # security overridden, billing opted out, operations from the default
    OVERRIDES_AND_OPTS_OUT: {"SECURITY": api(PAYMENTS_SECURITY), "OPERATIONS": api(OPERATIONS)},
    # ALL_OPTED_OUT: no resource at all
    PARTIAL_OVERRIDE: {
        "SECURITY": api(SECURITY),
        "OPERATIONS": {**api(OPERATIONS), "EmailAddress": "sandbox-ops@example.com"},
        "BILLING": api(BILLING),
    },
}


def test_an_account_gets_the_defaults_replaced_by_its_overrides_minus_its_opt_outs(
    organization_app: Synthesized,
) -> None:
    # GIVEN defaults for the three types, and accounts that take them as they are, override security and opt
    # out of billing, opt out of everything, or override operations, declared in code
    # WHEN the synthesized nested templates are read
    found = contacts_by_account(organization_app, "FromCode")
    # THEN each account's one resource holds exactly what the model says, and the account that opted out of
    # every type has no resource
    assert found == EXPECTED
    assert ALL_OPTED_OUT not in found


def test_toml_and_json_files_deploy_exactly_what_the_same_model_in_code_deploys(organization_app: Synthesized) -> None:
    # GIVEN the same model written as TOML (a type in upper case, overrides that leave out fields to inherit
    # them from the default) and as JSON
    # WHEN each file's organization is synthesized
    from_toml = organization_templates(organization_app.outdir, "FromToml")
    from_json = organization_templates(organization_app.outdir, "FromJson")
    from_code = organization_templates(organization_app.outdir, "FromCode")
    # THEN the accounts, their contacts, their nested stacks and their logical ids are those of the code model
    assert contacts_by_account(organization_app, "FromToml") == EXPECTED
    assert contacts_by_account(organization_app, "FromJson") == EXPECTED
    assert where(from_toml) == where(from_code)
    assert where(from_json) == where(from_code)


def test_a_type_without_a_default_is_given_only_to_the_accounts_that_override_it(
    organization_app: Synthesized,
) -> None:
    # GIVEN a default for security only; one account overrides billing, another opts out of operations
    # (a type with no default: allowed, so the account stays out of it if a default is added later)
    # WHEN the template is read
    found = contacts_by_account(organization_app, "OverrideOnly")
    # THEN the first has security and billing, the second security only
    assert found == {
        "555566667777": {"SECURITY": api(SECURITY), "BILLING": api(BILLING)},
        "666677778888": {"SECURITY": api(SECURITY)},
    }


def test_the_example_contacts_file_loads_and_deploys_what_its_comments_say(organization_app: Synthesized) -> None:
    # GIVEN the shipped examples/contacts.toml
    model = load_contacts_model(REPO / "examples" / "contacts.toml")
    # WHEN it is resolved and synthesized
    resolved = {account: sorted(t.value for t in types) for account, types in model.resolve().items()}
    found = contacts_by_account(organization_app, "Example")
    # THEN log-archive has every default, payments-prod its own security contact with the default's phone,
    # the sandbox no billing, and the suspended project nothing
    assert resolved == {
        "222222222222": ["BILLING", "OPERATIONS", "SECURITY"],
        "333333333333": ["BILLING", "OPERATIONS", "SECURITY"],
        "444444444444": ["OPERATIONS", "SECURITY"],
        "555555555555": [],
    }
    assert set(found) == {"222222222222", "333333333333", "444444444444"}
    payments = found["333333333333"]["SECURITY"]
    assert payments["EmailAddress"] == "payments-security@example.com"
    assert payments["PhoneNumber"] == found["222222222222"]["SECURITY"]["PhoneNumber"]


def test_each_account_is_one_resource_with_its_account_id(organization_app: Synthesized) -> None:
    # GIVEN the code model's nested templates
    templates = organization_templates(organization_app.outdir, "FromCode")
    # WHEN their resources are listed
    resources = [r for t in templates.nested.values() for r in t["Resources"].values()]
    # THEN there is one Custom::AlternateContacts per account that keeps a type, keyed as the API names it
    assert [r["Type"] for r in resources] == ["Custom::AlternateContacts"] * 3
    for resource in resources:
        keys = set(resource["Properties"]) - {"ServiceToken", "ServiceTimeout"}
        assert keys == {"AccountId", "AlternateContacts"}


def test_small_organizations_pass_aws_solutions_checks_with_a_reason_for_each_acknowledgement(
    organization_app: Synthesized,
) -> None:
    # GIVEN every small scenario (exact ARNs, organization-wide ARNs, organization ids, a shared provider)
    # WHEN the app is synthesized under AwsSolutionsChecks
    # THEN nothing fails, and every acknowledgement names one finding and gives a real reason
    assert organization_app.error is None, f"cdk-nag failed: {organization_app.error}"
    assert validation_violations(organization_app.outdir) == []
    for path, rules in acknowledgements(organization_app.app).items():
        for rule, reason in rules.items():
            assert "[" in rule, f"{path}: {rule} acknowledges every finding of the rule"
            assert len(reason.split()) >= 8, f"{path}: {rule} has no real reason: {reason!r}"
