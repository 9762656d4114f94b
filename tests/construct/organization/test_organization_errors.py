"""A malformed model, in code or in a file, gives ONE error naming where each problem is, never the details."""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path

import pytest
from construct_synth import new_app
from organization_synth import BILLING, DEFAULTS, MODEL_JSON, MODEL_TOML, SECURITY

# isort: split
import aws_cdk as cdk
from aws_cdk.assertions import Annotations, Match

from cdk_alternate_contacts import (
    AccountContacts,
    AlternateContactValidationError,
    ContactsModel,
    ContactsModelError,
    OrganizationContacts,
    load_contacts_model,
)

SECRET_EMAIL = "do-not-log-me@example"  # no top-level domain: breaks the API's rule


def problems_of(error: pytest.ExceptionInfo[ContactsModelError]) -> list[str]:
    return list(error.value.problems)


# --- files ------------------------------------------------------------------------------------------------


def test_a_bad_field_in_a_toml_file_names_the_file_the_account_and_the_field(tmp_path: Path) -> None:
    # GIVEN the TOML model in which the fourth account's operations override has an invalid email address
    path = tmp_path / "contacts.toml"
    path.write_text(MODEL_TOML.replace('"sandbox-ops@example.com"', f'"{SECRET_EMAIL}"'))
    # WHEN it is loaded
    with pytest.raises(ContactsModelError) as error:
        load_contacts_model(path)
    # THEN one error names the file, the account (index and id) and the field, states the rule, and does
    # not repeat the bad value
    assert str(error.value) == (
        f"invalid contacts file {path}: accounts[3] (444455556666).overrides.operations.email_address: "
        "must be an ASCII email address, name@domain.tld"
    )
    assert SECRET_EMAIL not in str(error.value)


def test_a_bad_field_in_a_json_file_is_reported_the_same_way(tmp_path: Path) -> None:
    # GIVEN the JSON model with a phone number of letters in the second account's security override
    data = json.loads(json.dumps(MODEL_JSON))
    data["accounts"][1]["overrides"]["security"]["phone_number"] = "call me"
    path = tmp_path / "contacts.json"
    path.write_text(json.dumps(data))
    # WHEN it is loaded
    with pytest.raises(ContactsModelError) as error:
        load_contacts_model(path)
    # THEN the error names the file, the account and the field, without the value
    assert problems_of(error) == [
        "accounts[1] (222233334444).overrides.security.phone_number: must be digits, spaces and ( ) + - only"
    ]
    assert str(path) in str(error.value)
    assert "call me" not in str(error.value)


def test_every_problem_of_a_file_is_listed_in_one_error(tmp_path: Path) -> None:
    # GIVEN a file with a misspelt default type (billing, which then has no default), an account id written as
    # a number, an unknown key, a type both overridden and opted out, an override of billing missing fields
    # with no default to take them from, an opt-out that is not a type (a contact detail pasted in by
    # mistake) and an account declared twice
    path = tmp_path / "contacts.toml"
    path.write_text(
        MODEL_TOML.replace("[defaults.BILLING]", "[defaults.biling]")
        + f"""
[[accounts]]
account_id = 12345678901

[[accounts]]
account_id = "{"5" * 12}"
colour = "red"
opt_out = ["security", "{SECRET_EMAIL}"]
[accounts.overrides.security]
title = "Other security"
[accounts.overrides.billing]
email_address = "billing@example.com"

[[accounts]]
account_id = "111122223333"
"""
    )
    # WHEN it is loaded
    with pytest.raises(ContactsModelError) as error:
        load_contacts_model(path)
    # THEN one error lists each problem where it is, and quotes no contact detail
    assert problems_of(error) == [
        "defaults: 'biling' is not a contact type; use billing, operations or security",
        "accounts[4].account_id: must be a string of exactly 12 digits (got int): write it in quotes, a number "
        "loses leading zeros",
        "accounts[5] (555555555555).colour: unknown key; use account_id, name, overrides, opt_out",
        "accounts[5] (555555555555).overrides.billing.name: required (no default billing contact to take it from)",
        "accounts[5] (555555555555).overrides.billing.phone_number: required (no default billing contact to take "
        "it from)",
        "accounts[5] (555555555555).overrides.billing.title: required (no default billing contact to take it from)",
        "accounts[5] (555555555555).opt_out[0]: security is also overridden; an account either overrides a type "
        "or opts out of it",
        "accounts[5] (555555555555).opt_out[1]: not a contact type; use billing, operations or security",
        "accounts[6] (111122223333): the same account as accounts[0]; declare each account once (merge the two "
        "entries)",
    ]
    assert str(error.value).startswith(f"invalid contacts file {path} (9 problems):\n")
    assert SECRET_EMAIL not in str(error.value)


@pytest.mark.parametrize(
    ("name", "text", "problem"),
    [
        ("syntax.toml", "[defaults.security\n", r"not valid TOML: .*line 1"),
        (
            "zero.toml",
            "[[accounts]]\naccount_id = 012345678901\n",
            r"line 2: account_id 012345678901 is not quoted: write it in quotes \(\"012345678901\"\), TOML does not "
            r"allow a number with a leading zero",
        ),
        ("syntax.json", '{"accounts": [}', r"not valid JSON: .*line 1 column 15"),
        ("contacts.yaml", "defaults: {}", r"unknown file type '\.yaml': use a \.toml or \.json file"),
        ("list.json", "[]", r"the file must hold a table with defaults, organizational_units and accounts"),
        (
            "keys.toml",
            "acounts = []\n[settings]\nx = 1\n",
            r"acounts: unknown key; a contacts file holds defaults, organizational_units, accounts",
        ),
        ("accounts.json", '{"accounts": {"account_id": "111122223333"}}', r"accounts: must be a list of tables"),
        ("missing.toml", '[[accounts]]\nname = "no id"\n', r"accounts\[0\]\.account_id: required"),
    ],
)
def test_a_file_that_is_not_a_contacts_model_says_what_is_wrong(
    tmp_path: Path, name: str, text: str, problem: str
) -> None:
    # GIVEN a file that cannot be parsed, has an unknown suffix, or is not shaped like a contacts model
    path = tmp_path / name
    path.write_text(text)
    # WHEN it is loaded
    with pytest.raises(ContactsModelError) as error:
        load_contacts_model(path)
    # THEN the error names the file and says what is wrong
    assert str(error.value).startswith(f"invalid contacts file {path}")
    assert re.search(problem, str(error.value)), str(error.value)


def test_a_model_error_is_an_alternate_contact_validation_error(tmp_path: Path) -> None:
    # GIVEN code that already catches the constructs' validation errors
    path = tmp_path / "contacts.json"
    path.write_text('{"accounts": [{"account_id": "1"}]}')
    # WHEN a malformed file is loaded
    # THEN the same except clause catches it
    with pytest.raises(AlternateContactValidationError, match=r"accounts\[0\]\.account_id: must be exactly 12 digits"):
        load_contacts_model(path)


# --- code -------------------------------------------------------------------------------------------------


def test_a_model_in_code_names_every_problem_with_its_account_and_field() -> None:
    # GIVEN accounts declared in code: a short id, a bad default, an unknown override type, a duplicate,
    # a type given in two cases, a bad override title
    model = ContactsModel(
        defaults={"security": dataclasses.replace(SECURITY, email_address=SECRET_EMAIL), "SECURITY": SECURITY},
        accounts=[
            AccountContacts("1234"),
            AccountContacts("111122223333", overrides={"secruity": SECURITY}),
            AccountContacts("111122223333", overrides={"billing": dataclasses.replace(BILLING, title="t" * 51)}),
            AccountContacts("222233334444", opt_out=["billing", "BILLING"]),
        ],
    )
    # WHEN its problems are listed
    problems = model.problems()
    # THEN each is where the user wrote it
    assert problems == [
        "defaults.security.email_address: must be an ASCII email address, name@domain.tld",
        "defaults.security: given twice ('security' and 'SECURITY')",
        "accounts[0].account_id: must be exactly 12 digits (got '1234')",
        "accounts[1] (111122223333).overrides: 'secruity' is not a contact type; use billing, operations or security",
        "accounts[2] (111122223333).overrides.billing.title: must be 1 to 50 characters long (got 51)",
        "accounts[3] (222233334444).opt_out[1]: billing is listed twice",
        "accounts[2] (111122223333): the same account as accounts[1]; declare each account once (merge the two "
        "entries)",
    ]
    assert SECRET_EMAIL not in "\n".join(problems)


def test_organization_contacts_raises_the_model_error_with_its_construct_path(tmp_path: Path) -> None:
    # GIVEN an account that overrides and opts out of the same type
    stack = cdk.Stack(new_app(tmp_path, bundle=False), "Errors")
    # WHEN the construct is declared
    with pytest.raises(ContactsModelError) as error:
        OrganizationContacts(
            stack,
            "Organization",
            defaults=DEFAULTS,
            accounts=[AccountContacts("111122223333", overrides={"security": SECURITY}, opt_out=["Security"])],
        )
    # THEN the error names the construct and the account's field
    assert str(error.value) == (
        "invalid contacts model Errors/Organization: accounts[0] (111122223333).opt_out[0]: security is also "
        "overridden; an account either overrides a type or opts out of it"
    )


def test_a_token_account_id_is_refused_because_placement_needs_the_literal_id(tmp_path: Path) -> None:
    # GIVEN an account id known only at deploy time
    stack = cdk.Stack(new_app(tmp_path, bundle=False), "Errors")
    account = cdk.CfnParameter(stack, "Account").value_as_string
    # WHEN the construct is declared
    # THEN it says why the id must be literal, and which construct takes an id known only at deploy time
    with pytest.raises(
        ContactsModelError,
        match=r"accounts\[0\]\.account_id: must be a literal 12-digit id, not a token.*"
        r"declare its contacts with AlternateContacts\(account_id=\.\.\.\)",
    ):
        OrganizationContacts(stack, "Organization", defaults=DEFAULTS, accounts=[AccountContacts(account)])


def test_account_contacts_cannot_be_changed_after_it_is_declared() -> None:
    # GIVEN an account declared with a dict of overrides and a list of opt-outs
    overrides = {"security": SECURITY}
    opt_out = ["billing"]
    account = AccountContacts("111122223333", overrides=overrides, opt_out=opt_out)
    # WHEN the caller's dict and list change afterwards
    overrides["billing"] = BILLING
    opt_out.append("operations")
    # THEN the account is unchanged, and its own mapping refuses changes
    assert dict(account.overrides) == {"security": SECURITY}
    assert account.opt_out == ("billing",)
    with pytest.raises(TypeError):
        account.overrides["billing"] = BILLING  # type: ignore[index]


# --- settings ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"nested_stacks": 0}, r"nested_stacks must be 1 to 400 \(got 0\)"),
        ({"accounts_per_stack": 500}, r"accounts_per_stack must be 1 to 499 \(got 500\)"),
        ({"organization_id": "org-1"}, r"organization_id must be o- and 10 to 32 lower-case letters or digits"),
        ({"management_account_id": "12"}, r"management_account_id must be exactly 12 digits \(got '12'\)"),
        (
            {"nested_stacks": 1, "accounts_per_stack": 2},
            r"too many accounts for one nested stack \(OrganizationAccounts00 would hold 3; accounts_per_stack=2\): "
            r"raise accounts_per_stack, up to 499, which moves no account",
        ),
    ],
)
def test_settings_out_of_range_are_refused_with_the_allowed_range(
    tmp_path: Path, settings: dict[str, object], message: str
) -> None:
    # GIVEN three accounts and a setting out of range
    stack = cdk.Stack(new_app(tmp_path, bundle=False), "Settings")
    accounts = [AccountContacts(f"{d}" * 12) for d in (1, 2, 3)]
    # WHEN the construct is declared
    # THEN the error shows the value and what is allowed
    with pytest.raises(ValueError, match=message):
        OrganizationContacts(stack, "Organization", defaults=DEFAULTS, accounts=accounts, **settings)  # type: ignore[arg-type]


def test_a_second_organization_with_other_ids_on_the_same_provider_is_refused(tmp_path: Path) -> None:
    # GIVEN an organization declared with its ids
    stack = cdk.Stack(new_app(tmp_path, bundle=False), "TwoOrganizations")
    ids = {"organization_id": "o-a1b2c3d4e5", "management_account_id": "999999999999"}
    OrganizationContacts(stack, "First", defaults=DEFAULTS, accounts=[AccountContacts("111122223333")], **ids)
    # WHEN another, in the same stack, names another organization
    # THEN the shared provider refuses it: one role cannot be exact for two organizations
    with pytest.raises(ValueError, match=r"already uses organization_id 'o-a1b2c3d4e5'"):
        OrganizationContacts(
            stack,
            "Second",
            defaults=DEFAULTS,
            accounts=[AccountContacts("222233334444")],
            organization_id="o-f6g7h8i9j0",
        )


def test_the_same_account_in_two_organizations_of_one_stack_is_refused(tmp_path: Path) -> None:
    # GIVEN an organization construct managing an account
    stack = cdk.Stack(new_app(tmp_path, bundle=False), "Overlap")
    OrganizationContacts(stack, "First", defaults=DEFAULTS, accounts=[AccountContacts("111122223333")])
    # WHEN a second one in the same stack declares the same account
    # THEN the provider's claims catch it, naming both constructs
    with pytest.raises(ValueError, match=r"duplicate alternate contact: Overlap/Second/.* and Overlap/First/"):
        OrganizationContacts(stack, "Second", defaults=DEFAULTS, accounts=[AccountContacts("111122223333")])


def test_organization_contacts_inside_a_nested_stack_is_refused(tmp_path: Path) -> None:
    # GIVEN a nested stack
    stack = cdk.Stack(new_app(tmp_path, bundle=False), "Parent")
    nested = cdk.NestedStack(stack, "Nested")
    # WHEN the construct is declared inside it
    # THEN it says to use a top-level stack, and why
    with pytest.raises(ValueError, match=r"put OrganizationContacts in a top-level stack, not a nested one"):
        OrganizationContacts(nested, "Organization", defaults=DEFAULTS, accounts=[AccountContacts("111122223333")])


def test_a_stack_name_too_long_for_the_nested_stacks_names_is_refused(tmp_path: Path) -> None:
    # GIVEN a stack whose name leaves no room for "<name>-OrganizationAccounts09-<13 characters>" in 128:
    # 95 + 1 + 22 + 1 + 13 = 132
    stack = cdk.Stack(new_app(tmp_path, bundle=False), "Long", stack_name="S" * 95)
    # WHEN the construct is declared
    # THEN it names the length CloudFormation would refuse
    with pytest.raises(ValueError, match=r"\(132 characters, CloudFormation allows 128\): shorten the stack name"):
        OrganizationContacts(stack, "Organization", defaults=DEFAULTS, accounts=[AccountContacts("111122223333")])


@pytest.mark.parametrize(
    ("text", "why"),
    [
        (
            '[defaults.security]\nemail_address = "soc@example.com"\nname = "SOC"\nphone_number = "+1 206 555 0100"\n'
            'title = "Security"\n',
            "the model lists no account",
        ),
        ('[[accounts]]\naccount_id = "111122223333"\nopt_out = ["security"]\n', "every account opts out of every type"),
    ],
)
def test_a_data_file_that_manages_nothing_warns_at_synth(tmp_path: Path, text: str, why: str) -> None:
    # GIVEN a contacts file with defaults but no account, or whose accounts opt out of everything
    path = tmp_path / "contacts.toml"
    path.write_text(text)
    stack = cdk.Stack(new_app(tmp_path / "out", bundle=False), "Empty")
    # WHEN the construct is declared from it
    OrganizationContacts.from_file(stack, "Organization", path)
    # THEN synthesis warns, naming the construct and why, and writes no nested stack
    warnings = Annotations.from_stack(stack).find_warning("*", Match.string_like_regexp("manages no contact"))
    assert len(warnings) == 1
    assert f"Empty/Organization manages no contact: {why}" in str(warnings[0].entry.data)
    assert "soc@example.com" not in str(warnings[0].entry.data)
