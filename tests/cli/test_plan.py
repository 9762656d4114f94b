"""``plan``: what a deploy of a synthesized app would do to each contact, read from a real moto_server."""

from __future__ import annotations

import json
from typing import Any

from cli_support import (
    BILLING,
    CALLER,
    CLEAR_DETAILS,
    CONTACTS_STACK,
    DEEPER_MEMBER,
    MEMBER,
    NESTED_MEMBER,
    SECURITY,
    TOKEN_CONTACTS_ROWS,
    Assemblies,
    Cli,
    put,
    rows,
)


def test_plan_before_any_deploy_creates_every_contact_masked(cli: Cli, assemblies: Assemblies) -> None:
    # GIVEN accounts with no contacts, and an app declaring four (two in the caller's account, two in a member)

    # WHEN the user plans the stack
    result = cli("plan", "--cdk-out", assemblies.basic, "--stack", "Contacts")

    # THEN every contact would be created, the plan succeeds, and says so in one line
    assert result.returncode == 0, result.stderr
    assert rows(result.stdout) == {
        (MEMBER, "BILLING", "Contacts/Member"): ["CREATE", "no live contact"],
        (MEMBER, "SECURITY", "Contacts/Member"): ["CREATE", "no live contact"],
        (CALLER, "OPERATIONS", "Contacts/Operations"): ["CREATE", "no live contact"],
        (CALLER, "SECURITY", "Contacts/Security"): ["CREATE", "no live contact"],
    }
    assert "Plan: 4 to create, 0 to update, 0 unchanged." in result.stdout
    assert f"live contacts read as account {CALLER}" in result.stdout
    # AND nothing was written, and no detail was shown
    assert [value for value in CLEAR_DETAILS if value in result.stdout] == []
    assert result.stderr == ""


def test_plan_detailed_exitcode_is_2_while_a_deploy_would_change_something(
    cli: Cli, aws: Any, assemblies: Assemblies
) -> None:
    # GIVEN nothing deployed yet
    # WHEN the user asks for a detailed exit code
    before = cli("plan", "--cdk-out", assemblies.basic, "--stack", "Contacts", "--detailed-exitcode")

    # THEN it is 2, as terraform plan's: changes pending
    assert before.returncode == 2, before.stdout + before.stderr

    # GIVEN every declared contact already in place
    put(aws, CONTACTS_STACK)
    # WHEN the user plans again
    after = cli("plan", "--cdk-out", assemblies.basic, "--stack", "Contacts", "--detailed-exitcode")

    # THEN nothing would change, and the exit code is 0
    assert after.returncode == 0, after.stdout + after.stderr
    assert {row[0] for row in rows(after.stdout).values()} == {"NO CHANGE"}
    assert "Plan: 0 to create, 0 to update, 4 unchanged." in after.stdout


def test_plan_update_names_the_fields_that_differ_masked_or_in_clear_on_request(
    cli: Cli, aws: Any, assemblies: Assemblies
) -> None:
    # GIVEN the member's billing contact set by hand to another person and email
    put(aws, {**CONTACTS_STACK, (MEMBER, "BILLING"): {**BILLING, "EmailAddress": "old@example.com", "Name": "Ann Lee"}})

    # WHEN the user plans
    result = cli("plan", "--cdk-out", assemblies.basic, "--stack", "Contacts")

    # THEN that contact would be updated, naming both fields, live -> declared, masked
    assert result.returncode == 0
    assert rows(result.stdout)[(MEMBER, "BILLING", "Contacts/Member")] == [
        "UPDATE",
        "EmailAddress: o***@example.com -> b***@example.com",
        "Name: A. L. -> F. D.",
    ]
    assert "old@example.com" not in result.stdout and "Ann Lee" not in result.stdout

    # WHEN the user asks for the details
    shown = cli("plan", "--cdk-out", assemblies.basic, "--stack", "Contacts", "--show-details")

    # THEN they are in clear
    assert rows(shown.stdout)[(MEMBER, "BILLING", "Contacts/Member")][1:] == [
        "EmailAddress: old@example.com -> billing@example.com",
        "Name: Ann Lee -> Finance Department",
    ]


def test_plan_says_which_value_is_only_known_at_deploy_time(cli: Cli, aws: Any, assemblies: Assemblies) -> None:
    # GIVEN a stack whose security email is an SSM parameter, read by CloudFormation during the deploy
    put(aws, {(CALLER, "SECURITY"): SECURITY})

    # WHEN the user plans it
    result = cli("plan", "--cdk-out", assemblies.basic, "--stack", "TokenContacts", "--detailed-exitcode")

    # THEN the contact cannot be planned: the row says why, naming the parameter, and the plan still succeeds
    assert result.returncode == 0, result.stdout + result.stderr
    assert rows(result.stdout) == TOKEN_CONTACTS_ROWS
    assert "1 known only at deploy time" in result.stdout


def test_plan_compares_what_is_known_of_a_contact_with_a_deploy_time_value(
    cli: Cli, aws: Any, assemblies: Assemblies
) -> None:
    # GIVEN the caller's security contact with another phone number
    put(aws, {(CALLER, "SECURITY"): {**SECURITY, "PhoneNumber": "+1 206 555 9999"}})

    # WHEN the stack with the deploy-time email is planned, as JSON
    result = cli("plan", "--cdk-out", assemblies.basic, "--stack", "TokenContacts", "--format", "json")

    # THEN the known field that differs makes it an update, and the unknown one is still listed
    contact = json.loads(result.stdout)["Contacts"][0]
    assert contact["Action"] == "UPDATE"
    assert contact["ChangedFields"] == ["PhoneNumber"]
    assert contact["Unresolved"] == ["EmailAddress: SSM parameter /contacts/security-email (read at deploy time)"]
    assert "EmailAddress" not in contact["Declared"]


def test_plan_reads_contacts_of_nested_stacks_at_every_depth(cli: Cli, aws: Any, assemblies: Assemblies) -> None:
    # GIVEN an app with a nested stack inside a nested stack; the nested member's contact already right
    put(aws, {(NESTED_MEMBER, "SECURITY"): SECURITY})

    # WHEN the user plans the parent stack
    result = cli("plan", "--cdk-out", assemblies.nested, "--stack", "Org")

    # THEN the contacts of both nested stacks are planned, named by construct path
    assert result.returncode == 0, result.stderr
    assert rows(result.stdout) == {
        (CALLER, "SECURITY", "Org/Security"): ["CREATE", "no live contact"],
        (NESTED_MEMBER, "SECURITY", "Org/Members/Member"): ["NO CHANGE"],
        (DEEPER_MEMBER, "BILLING", "Org/Members/Deeper/Billing"): ["CREATE", "no live contact"],
    }


def test_plan_of_every_stack_notes_a_contact_declared_twice(cli: Cli, assemblies: Assemblies) -> None:
    # GIVEN an app whose two stacks both declare the caller's SECURITY contact
    # WHEN the user plans without --stack
    result = cli("plan", "--cdk-out", assemblies.basic)

    # THEN both stacks are planned, and the user is told that the two deploys overwrite each other
    assert "(stacks: Contacts, TokenContacts)" in result.stdout
    assert (
        f"note: {CALLER}/SECURITY is declared by Contacts/Security and TokenContacts/Security: "
        "each deploy overwrites the other"
    ) in result.stdout
