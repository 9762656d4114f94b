"""Organizational units' rules: per type, the account's entry, then the deepest unit on its path that names
the type, then the defaults; the data file's [[organizational_units]]; the recorded structure. No CDK needed."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from cdk_alternate_contacts.contacts_file import load_contacts_model, parse_contacts_model
from cdk_alternate_contacts.details import ContactDetails
from cdk_alternate_contacts.model import AccountContacts, ContactsModel, ContactsModelError, OrganizationalUnitContacts
from cdk_alternate_contacts.structure import CONTEXT_KEY, OrganizationStructure, StructureError
from cdk_alternate_contacts_handler.rules import Layer, cascade
from cdk_alternate_contacts_handler.spec import AlternateContactType as T

SOC = ContactDetails("soc@example.com", "SOC", "+1 206 555 0100", "Security")
OPS = ContactDetails("ops@example.com", "Ops", "+1 206 555 0101", "Operations")
FIN = ContactDetails("fin@example.com", "Finance", "+1 206 555 0102", "Billing")
WORKLOADS_OPS = ContactDetails("workloads-ops@example.com", "Workloads on-call", "+1 206 555 0103", "Operations")
PAYMENTS_SOC = ContactDetails("payments-soc@example.com", "Payments SOC", "+1 206 555 0104", "Security")
D_BILLING = ContactDetails("d-billing@example.com", "D's finance", "+1 206 555 0105", "Billing")

ROOT, WORKLOADS, PAYMENTS, SANDBOX = "r-ab12", "ou-ab12-aaaaaaaa", "ou-ab12-bbbbbbbb", "ou-ab12-cccccccc"
A, B, C, D, E = "111111111111", "222222222222", "333333333333", "444444444444", "555555555555"
STRUCTURE = OrganizationStructure(
    "o-abcdefghij",
    ROOT,
    {WORKLOADS: ROOT, PAYMENTS: WORKLOADS, SANDBOX: ROOT, A: ROOT, B: WORKLOADS, C: PAYMENTS, D: PAYMENTS, E: SANDBOX},
    "2026-12-02T00:00:00Z",
)
UNITS = [
    OrganizationalUnitContacts(WORKLOADS, overrides={"operations": WORKLOADS_OPS}, name="workloads"),
    OrganizationalUnitContacts(PAYMENTS, overrides={"security": PAYMENTS_SOC}, opt_out=["billing"]),
    OrganizationalUnitContacts(SANDBOX, opt_out=["SECURITY"]),
]
ACCOUNTS = [
    AccountContacts(A),
    AccountContacts(B),
    AccountContacts(C),
    AccountContacts(D, overrides={"billing": D_BILLING}),
    AccountContacts(E, opt_out=["operations"]),
]
DEFAULTS = {"security": SOC, "operations": OPS, "billing": FIN}


def test_cascade_takes_each_type_from_the_first_layer_naming_it() -> None:
    # GIVEN an account layer that opts out of billing, a unit setting security and billing, and defaults
    layers = [
        Layer(opt_out={T.BILLING}),
        Layer(contacts={T.SECURITY: "unit-soc", T.BILLING: "unit-fin"}),
        Layer(contacts={T.SECURITY: "soc", T.OPERATIONS: "ops", T.BILLING: "fin"}),
    ]
    # WHEN cascaded THEN billing is gone (the account's opt-out wins), security is the unit's, operations the default
    assert cascade(layers) == {T.SECURITY: "unit-soc", T.OPERATIONS: "ops"}


def test_cascade_lets_a_deeper_layer_give_back_a_type_a_shallower_one_opts_out_of() -> None:
    assert cascade([Layer(contacts={T.BILLING: "deep"}), Layer(opt_out={T.BILLING}), Layer()]) == {T.BILLING: "deep"}


def test_each_account_gets_its_entry_then_the_deepest_unit_then_the_defaults() -> None:
    # GIVEN nested units (payments under workloads), a sibling unit, and accounts at each level
    model = ContactsModel(defaults=DEFAULTS, accounts=ACCOUNTS, organizational_units=UNITS)
    # WHEN resolved with the recorded structure
    resolved = model.resolve(structure=STRUCTURE)
    # THEN
    assert resolved[A] == {T.BILLING: FIN, T.OPERATIONS: OPS, T.SECURITY: SOC}  # in the root: the defaults
    assert resolved[B] == {T.BILLING: FIN, T.OPERATIONS: WORKLOADS_OPS, T.SECURITY: SOC}
    # payments: its security, no billing, and operations from workloads above it
    assert resolved[C] == {T.OPERATIONS: WORKLOADS_OPS, T.SECURITY: PAYMENTS_SOC}
    # the account's own billing wins over its unit's opt-out
    assert resolved[D] == {T.BILLING: D_BILLING, T.OPERATIONS: WORKLOADS_OPS, T.SECURITY: PAYMENTS_SOC}
    assert resolved[E] == {T.BILLING: FIN}


def test_a_model_without_units_needs_no_structure_and_resolves_as_before() -> None:
    model = ContactsModel(defaults=DEFAULTS, accounts=[AccountContacts(A, opt_out=["billing"])])
    assert model.resolve() == {A: {T.OPERATIONS: OPS, T.SECURITY: SOC}}


def test_units_without_a_structure_fail_with_the_command_that_records_it() -> None:
    model = ContactsModel(defaults=DEFAULTS, accounts=ACCOUNTS, organizational_units=UNITS)
    with pytest.raises(ContactsModelError, match=r"cdk-alternate-contacts lookup.*cdk\.context\.json"):
        model.resolve("Stack/Organization")


def test_an_account_missing_from_the_structure_is_named() -> None:
    model = ContactsModel(
        defaults=DEFAULTS, accounts=[*ACCOUNTS, AccountContacts("999999999999")], organizational_units=UNITS
    )
    with pytest.raises(ContactsModelError) as raised:
        model.resolve("Stack/Organization", STRUCTURE)
    assert raised.value.problems == (
        "accounts[5] (999999999999): not in the organization's structure looked up at 2026-12-02T00:00:00Z "
        "(o-abcdefghij): run `cdk-alternate-contacts lookup` again if it joined since, or check the id",
    )


def test_bad_unit_rules_are_each_named_with_the_rule() -> None:
    units = [
        OrganizationalUnitContacts("ou-AB12-bad"),
        OrganizationalUnitContacts(ROOT),
        OrganizationalUnitContacts(SANDBOX, overrides={"security": SOC}, opt_out=["security", "nobody"]),
        OrganizationalUnitContacts(SANDBOX),
    ]
    with pytest.raises(ContactsModelError) as raised:
        ContactsModel(defaults=DEFAULTS, accounts=[], organizational_units=units).validate("model")
    problems = raised.value.problems
    assert problems[0].startswith("organizational_units[0].id: must be an organizational unit id")
    assert problems[1] == (
        "organizational_units[1].id: r-ab12 is the organization's root; put what every account gets in defaults"
    )
    assert problems[2] == (
        "organizational_units[2] (ou-ab12-cccccccc).opt_out[0]: security is also overridden; a unit either "
        "overrides a type or opts out of it"
    )
    assert (
        problems[3]
        == "organizational_units[2] (ou-ab12-cccccccc).opt_out[1]: not a contact type; use billing, operations or "
        "security"
    )
    assert problems[4].startswith(
        "organizational_units[3] (ou-ab12-cccccccc): the same unit as organizational_units[2]"
    )
    assert len(problems) == 5


UNITS_TOML = """
[defaults.security]
email_address = "soc@example.com"
name = "SOC"
phone_number = "+1 206 555 0100"
title = "Security"

[defaults.operations]
email_address = "ops@example.com"
name = "Ops"
phone_number = "+1 206 555 0101"
title = "Operations"

[[organizational_units]]
id = "ou-ab12-aaaaaaaa"
name = "workloads"
overrides.operations = { email_address = "workloads-ops@example.com" }

[[organizational_units]]
id = "ou-ab12-bbbbbbbb"
opt_out = ["Security"]

[[accounts]]
account_id = "222222222222"

[[accounts]]
account_id = "333333333333"
"""


def test_a_data_file_declares_unit_rules_whose_missing_fields_come_from_the_defaults(tmp_path: Path) -> None:
    # GIVEN a TOML file with two unit rules, one overriding only the email of operations
    path = tmp_path / "contacts.toml"
    path.write_text(UNITS_TOML)
    # WHEN read and resolved
    model = load_contacts_model(path)
    resolved = model.resolve(str(path), STRUCTURE)
    # THEN B (workloads) has workloads' email with the default's other fields; C (payments) has no security
    assert [u.name for u in model.organizational_units] == ["workloads", None]
    assert resolved[B][T.OPERATIONS] == ContactDetails(
        "workloads-ops@example.com", "Ops", "+1 206 555 0101", "Operations"
    )
    assert resolved[C] == {T.OPERATIONS: resolved[B][T.OPERATIONS]}


def test_a_malformed_unit_entry_gets_one_error_naming_the_file_and_the_field() -> None:
    data = {
        "organizational_units": [
            {"name": "no id"},
            {"id": "ou-ab12-aaaaaaaa", "overide": {}, "overrides": {"security": {"email": "x"}}},
        ]
    }
    with pytest.raises(ContactsModelError) as raised:
        parse_contacts_model(data, "contacts.json")
    message = str(raised.value)
    assert message.startswith("invalid contacts file contacts.json (")
    assert "organizational_units[0].id: required (the organizational unit's id, ou-...)" in raised.value.problems
    assert "organizational_units[1] (ou-ab12-aaaaaaaa).overide: unknown key; use id, name, overrides, opt_out" in (
        raised.value.problems
    )
    assert any(
        re.fullmatch(r"organizational_units\[1\] \(ou-ab12-aaaaaaaa\)\.overrides\.security\.email: unknown field.*", p)
        for p in raised.value.problems
    )
    with pytest.raises(ContactsModelError, match=r"organizational_units: must be a list of tables"):
        parse_contacts_model({"organizational_units": {"id": "x"}}, "contacts.json")


def test_the_recorded_structure_round_trips_and_gives_paths_from_the_root_down() -> None:
    again = OrganizationStructure.from_context(STRUCTURE.to_context())
    assert again == STRUCTURE
    assert again.path_of(C) == (WORKLOADS, PAYMENTS)
    assert again.path_of(A) == ()
    assert again.path_of("999999999999") is None
    assert again.knows_unit(SANDBOX) and not again.knows_unit("ou-ab12-zzzzzzzz") and not again.knows_unit(A)


def test_units_names_are_kept_under_an_optional_key_and_units_come_top_down() -> None:
    # GIVEN the structure with its units' names
    named = OrganizationStructure(
        STRUCTURE.organization_id,
        ROOT,
        STRUCTURE.parents,
        STRUCTURE.looked_up_at,
        {WORKLOADS: "workloads", PAYMENTS: "payments", SANDBOX: "sandbox"},
    )
    # WHEN recorded and read back THEN the names survive; a structure without names writes no key for them
    assert OrganizationStructure.from_context(named.to_context()) == named
    assert named.to_context()["unitNames"] == {WORKLOADS: "workloads", PAYMENTS: "payments", SANDBOX: "sandbox"}
    assert "unitNames" not in STRUCTURE.to_context()
    # AND the units come parents first, siblings by id
    assert named.units_top_down() == [WORKLOADS, PAYMENTS, SANDBOX]


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"rootId": "root"}, "rootId: must be a root id"),
        ({"parents": {A: "ou-ab12-dddddddd"}}, f"parents.{A}: its parent ou-ab12-dddddddd is not recorded"),
        ({"parents": {"not-an-id": ROOT}}, "'not-an-id' is neither an account id nor an organizational unit id"),
        (
            {"parents": {WORKLOADS: PAYMENTS, PAYMENTS: WORKLOADS}},
            f"parents.{WORKLOADS}: its chain of parents does not reach the root",
        ),
        ({"unitNames": ["payments"]}, "unitNames: must map organizational unit ids to their names"),
        ({"unitNames": {"ou-ab12-zzzzzzzz": "gone"}}, "unitNames: 'ou-ab12-zzzzzzzz' is not one of the recorded"),
        ({"unitNames": {PAYMENTS: 7}}, f"unitNames.{PAYMENTS}: must be a string (got int)"),
    ],
)
def test_a_malformed_structure_names_the_context_key_and_the_entry(change: dict[str, object], problem: str) -> None:
    value = {**STRUCTURE.to_context(), **change}
    with pytest.raises(StructureError) as raised:
        OrganizationStructure.from_context(value)
    assert str(raised.value).startswith(f"context {CONTEXT_KEY}: ")
    assert problem in str(raised.value)
    assert str(raised.value).endswith("run `cdk-alternate-contacts lookup` to record it again")


def test_the_structure_may_come_as_a_json_string_as_cdk_synth_context_passes_it() -> None:
    import json  # noqa: PLC0415

    assert OrganizationStructure.from_context(json.dumps(STRUCTURE.to_context())) == STRUCTURE
    with pytest.raises(StructureError, match=r"not valid JSON"):
        OrganizationStructure.from_context("{not json")
