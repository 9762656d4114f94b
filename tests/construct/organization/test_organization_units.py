"""OrganizationContacts with organizational units' rules: the accounts' resources hold what the precedence
gives (account, deepest unit, defaults), the structure read from the CDK context as cdk.context.json holds it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from construct_synth import new_app
from organization_synth import BILLING, DEFAULTS, OPERATIONS, SECURITY, api, organization_templates

# isort: split
import aws_cdk as cdk
from aws_cdk.assertions import Annotations, Match

from cdk_alternate_contacts import (
    AccountContacts,
    ContactDetails,
    ContactsModelError,
    OrganizationalUnitContacts,
    OrganizationContacts,
    OrganizationStructure,
)
from cdk_alternate_contacts.structure import CONTEXT_KEY

ROOT, WORKLOADS, PAYMENTS, UNKNOWN = "r-ab12", "ou-ab12-aaaaaaaa", "ou-ab12-bbbbbbbb", "ou-ab12-zzzzzzzz"
IN_ROOT, IN_WORKLOADS, IN_PAYMENTS, OWN_BILLING = "111111111111", "222222222222", "333333333333", "444444444444"
STRUCTURE = OrganizationStructure(
    "o-abcdefghij",
    ROOT,
    {
        WORKLOADS: ROOT,
        PAYMENTS: WORKLOADS,
        IN_ROOT: ROOT,
        IN_WORKLOADS: WORKLOADS,
        IN_PAYMENTS: PAYMENTS,
        OWN_BILLING: PAYMENTS,
    },
    "2026-12-02T00:00:00Z",
)
WORKLOADS_OPS = ContactDetails("workloads-ops@example.com", "Workloads on-call", "+1 206 555 0110", "Operations")
OWN = ContactDetails("own-billing@example.com", "Own finance", "+1 206 555 0111", "Billing")


def units_file(tmp_path: Path) -> Path:
    path = tmp_path / "contacts.json"
    path.write_text(
        json.dumps(
            {
                "defaults": {
                    "security": SECURITY.__dict__,
                    "operations": OPERATIONS.__dict__,
                    "billing": BILLING.__dict__,
                },
                "organizational_units": [
                    {"id": WORKLOADS, "name": "workloads", "overrides": {"operations": WORKLOADS_OPS.__dict__}},
                    {"id": PAYMENTS, "opt_out": ["billing"]},
                    {"id": UNKNOWN, "opt_out": ["security"]},
                ],
                "accounts": [
                    {"account_id": IN_ROOT},
                    {"account_id": IN_WORKLOADS},
                    {"account_id": IN_PAYMENTS},
                    {"account_id": OWN_BILLING, "overrides": {"billing": OWN.__dict__}},
                ],
            }
        )
    )
    return path


@pytest.fixture(scope="module")
def units_app(tmp_path_factory: pytest.TempPathFactory) -> tuple[cdk.Stack, Path]:
    """Stack "Units" from a data file with three units' rules, the structure recorded in the app's context."""
    tmp_path = tmp_path_factory.mktemp("units")
    app = new_app(tmp_path / "cdk.out", bundle=False)
    app.node.set_context(CONTEXT_KEY, STRUCTURE.to_context())
    stack = cdk.Stack(app, "Units")
    OrganizationContacts.from_file(stack, "Organization", units_file(tmp_path), organization_id="o-abcdefghij")
    app.synth()
    return stack, tmp_path / "cdk.out"


def test_each_listed_account_holds_what_its_entry_its_units_and_the_defaults_give(
    units_app: tuple[cdk.Stack, Path],
) -> None:
    # GIVEN the Units stack WHEN its nested templates are read
    placed = organization_templates(units_app[1], "Units").placed()
    contacts: dict[str, Any] = {account: p.properties["AlternateContacts"] for account, p in placed.items()}
    # THEN an account in the root has the defaults; one in workloads its operations contact; one in payments
    # (under workloads) no billing and workloads' operations; one with its own billing keeps it
    assert contacts[IN_ROOT] == {"BILLING": api(BILLING), "OPERATIONS": api(OPERATIONS), "SECURITY": api(SECURITY)}
    assert contacts[IN_WORKLOADS] == {
        "BILLING": api(BILLING),
        "OPERATIONS": api(WORKLOADS_OPS),
        "SECURITY": api(SECURITY),
    }
    assert contacts[IN_PAYMENTS] == {"OPERATIONS": api(WORKLOADS_OPS), "SECURITY": api(SECURITY)}
    assert contacts[OWN_BILLING] == {"BILLING": api(OWN), "OPERATIONS": api(WORKLOADS_OPS), "SECURITY": api(SECURITY)}


def test_a_rule_for_a_unit_the_lookup_does_not_know_warns(units_app: tuple[cdk.Stack, Path]) -> None:
    warnings = Annotations.from_stack(units_app[0]).find_warning("*", Match.string_like_regexp(UNKNOWN))
    assert len(warnings) == 1
    assert "was not in the organization when its structure was looked up (2026-12-02T00:00:00Z)" in str(
        warnings[0].entry.data
    )


def test_units_without_a_recorded_structure_fail_at_synth_naming_the_lookup(tmp_path: Path) -> None:
    stack = cdk.Stack(new_app(tmp_path / "out", bundle=False), "Units")
    with pytest.raises(ContactsModelError) as raised:
        OrganizationContacts.from_file(stack, "Organization", units_file(tmp_path))
    assert str(raised.value).startswith("invalid contacts model Units/Organization: organizational_units: ")
    assert "run `cdk-alternate-contacts lookup`" in str(raised.value)
    assert SECURITY.email_address not in str(raised.value)


def test_a_structure_of_another_organization_is_refused(tmp_path: Path) -> None:
    stack = cdk.Stack(new_app(tmp_path / "out", bundle=False), "Units")
    with pytest.raises(ValueError, match=r"organization_id is o-zyxwvutsrq but .* looked up in o-abcdefghij"):
        OrganizationContacts(
            stack,
            "Organization",
            defaults=DEFAULTS,
            accounts=[AccountContacts(IN_ROOT)],
            organizational_units=[OrganizationalUnitContacts(WORKLOADS, opt_out=["billing"])],
            organization_structure=STRUCTURE,
            organization_id="o-zyxwvutsrq",
        )


def test_a_malformed_recorded_structure_names_the_context_key(tmp_path: Path) -> None:
    app = new_app(tmp_path / "out", bundle=False)
    app.node.set_context(CONTEXT_KEY, {"organizationId": "o-abcdefghij", "rootId": ROOT, "parents": {IN_ROOT: "x"}})
    with pytest.raises(ValueError, match=rf"context {CONTEXT_KEY}: parents\.{IN_ROOT}: 'x' is neither"):
        OrganizationContacts.from_file(cdk.Stack(app, "Units"), "Organization", units_file(tmp_path))
