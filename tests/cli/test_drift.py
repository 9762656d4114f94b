"""``drift``: after a deploy, whether the live contacts still match the app; exit 1 when not."""

from __future__ import annotations

import json
from typing import Any

from cli_support import CALLER, CLEAR_DETAILS, CONTACTS_STACK, MEMBER, SECURITY, Assemblies, Cli, put, rows


def test_drift_after_an_out_of_band_change_exits_1_naming_the_field_masked(
    cli: Cli, aws: Any, assemblies: Assemblies
) -> None:
    # GIVEN the stack's contacts as a deploy left them, then the caller's security phone changed by hand
    put(aws, CONTACTS_STACK)
    put(aws, {(CALLER, "SECURITY"): {**SECURITY, "PhoneNumber": "+1 206 555 9999"}})

    # WHEN the user checks for drift
    result = cli("drift", "--cdk-out", assemblies.basic, "--stack", "Contacts")

    # THEN it exits 1, the drifted contact names the changed field, live and declared values masked
    assert result.returncode == 1, result.stdout + result.stderr
    assert rows(result.stdout) == {
        (MEMBER, "BILLING", "Contacts/Member"): ["IN SYNC"],
        (MEMBER, "SECURITY", "Contacts/Member"): ["IN SYNC"],
        (CALLER, "OPERATIONS", "Contacts/Operations"): ["IN SYNC"],
        (CALLER, "SECURITY", "Contacts/Security"): [
            "DRIFTED",
            "PhoneNumber: live +1 *** ***9999, declared +1 *** ***0147",
        ],
    }
    assert "Drift: 1 drifted, 0 missing, 3 in sync." in result.stdout
    assert [value for value in [*CLEAR_DETAILS, "+1 206 555 9999"] if value in result.stdout] == []


def test_drift_counts_a_contact_deleted_by_hand_as_missing(cli: Cli, aws: Any, assemblies: Assemblies) -> None:
    # GIVEN the deployed contacts, then the member's billing contact deleted by hand
    put(aws, CONTACTS_STACK)
    aws("account").delete_alternate_contact(AccountId=MEMBER, AlternateContactType="BILLING")

    # WHEN the user checks for drift, as JSON
    result = cli("drift", "--cdk-out", assemblies.basic, "--stack", "Contacts", "--format", "json")

    # THEN it exits 1 and the JSON says which contact is missing
    assert result.returncode == 1
    report = json.loads(result.stdout)
    assert report["Summary"] == {
        "MISSING": 1,
        "DRIFTED": 0,
        "IN SYNC": 3,
        "UNKNOWN": 0,
        "NOT DEPLOYED": 0,
        "INVALID": 0,
        "ERROR": 0,
        "DRIFTED (reported)": 0,
    }
    missing = [c for c in report["Contacts"] if c["Status"] == "MISSING"]
    assert [(c["AccountId"], c["AlternateContactType"], c["Live"]) for c in missing] == [(MEMBER, "BILLING", None)]
    assert missing[0]["Declared"] == {
        "EmailAddress": "b***@example.com",
        "Name": "F. D.",
        "PhoneNumber": "+1 *** ***0102",
        "Title": "A. p.",
    }


def test_no_drift_exits_0(cli: Cli, aws: Any, assemblies: Assemblies) -> None:
    # GIVEN the contacts exactly as declared (the API may keep white space around an email: not drift)
    put(aws, {**CONTACTS_STACK, (MEMBER, "SECURITY"): {**SECURITY, "EmailAddress": " security@example.com "}})

    # WHEN the user checks for drift
    result = cli("drift", "--cdk-out", assemblies.basic, "--stack", "Contacts")

    # THEN all is in sync and it exits 0
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Drift: 0 drifted, 0 missing, 4 in sync." in result.stdout


def test_drift_in_json_shows_live_and_declared_values_in_clear_only_on_request(
    cli: Cli, aws: Any, assemblies: Assemblies
) -> None:
    # GIVEN the member's security contact changed by hand
    put(aws, {**CONTACTS_STACK, (MEMBER, "SECURITY"): {**SECURITY, "Name": "John Roe"}})

    # WHEN the user asks for JSON with details
    result = cli("drift", "--cdk-out", assemblies.basic, "--stack", "Contacts", "--format", "json", "--show-details")

    # THEN the drifted contact carries the changed field and both values in clear
    drifted = [c for c in json.loads(result.stdout)["Contacts"] if c["Status"] == "DRIFTED"]
    assert [(c["AccountId"], c["ChangedFields"], c["Live"]["Name"], c["Declared"]["Name"]) for c in drifted] == [
        (MEMBER, ["Name"], "John Roe", "Jane Doe")
    ]
