"""``audit``: the organization's ACTIVE accounts without a contact of a type, from Organizations and moto."""

from __future__ import annotations

import json
from typing import Any

from cli_support import CALLER, SECURITY, Cli, FrontedAccountApi


def organization(aws: Any, *names: str) -> dict[str, str]:
    """An organization managed by the caller, with a member account per name: name -> account id."""
    client = aws("organizations")
    client.create_organization(FeatureSet="ALL")
    created = {}
    for name in names:
        status = client.create_account(Email=f"{name}@example.com", AccountName=name)["CreateAccountStatus"]
        created[name] = status["AccountId"]
    return created


def set_security(aws: Any, *accounts: str) -> None:
    """A SECURITY contact in each account (the caller's own without AccountId, as the API requires)."""
    client = aws("account")
    for account in accounts:
        target = {} if account == CALLER else {"AccountId": account}
        client.put_alternate_contact(AlternateContactType="SECURITY", **target, **SECURITY)


def test_audit_reports_the_member_without_a_security_contact_and_skips_suspended_accounts(cli: Cli, aws: Any) -> None:
    # GIVEN an organization: the management account and two members with a SECURITY contact, one member
    # without, and a closed (SUSPENDED) member without one either
    members = organization(aws, "prod", "dev", "sandbox", "closed")
    set_security(aws, CALLER, members["prod"], members["dev"])
    aws("organizations").close_account(AccountId=members["closed"])

    # WHEN the user audits as JSON
    result = cli("audit", "--format", "json")

    # THEN it exits 1, lists only the active member that lacks the contact, and the suspended one as skipped
    assert result.returncode == 1, result.stdout + result.stderr
    report = json.loads(result.stdout)
    assert report["Missing"] == [{"AccountId": members["sandbox"], "Name": "sandbox", "MissingTypes": ["SECURITY"]}]
    assert report["Skipped"] == [{"AccountId": members["closed"], "Name": "closed", "State": "SUSPENDED"}]
    assert report["AccountsChecked"] == 4
    assert report["Errors"] == []

    # WHEN the user audits as a table
    table = cli("audit")

    # THEN the same, in words
    assert table.returncode == 1
    assert table.stdout.splitlines()[2:4] == [
        "ACCOUNT       NAME     MISSING",
        f"{members['sandbox']}  sandbox  SECURITY",
    ]
    assert "1 of 4 ACTIVE accounts lacks a SECURITY contact." in table.stdout
    assert f"Skipped 1 account that is not ACTIVE: {members['closed']} (SUSPENDED)." in table.stdout
    # AND no progress was shown: stderr is not a terminal and --progress was not given
    assert table.stderr == ""


def test_audit_of_several_types_lists_each_missing_type(cli: Cli, aws: Any) -> None:
    # GIVEN a member with a SECURITY contact only, and a management account with none
    members = organization(aws, "prod")
    set_security(aws, members["prod"])

    # WHEN the user audits BILLING and SECURITY (in any case, any order, repeated or not)
    result = cli("audit", "--type", "security", "BILLING", "--type", "SECURITY", "--format", "json")

    # THEN each account lists the types it lacks, in the API's order
    assert result.returncode == 1
    assert json.loads(result.stdout)["Missing"] == [
        {"AccountId": CALLER, "Name": "master", "MissingTypes": ["BILLING", "SECURITY"]},
        {"AccountId": members["prod"], "Name": "prod", "MissingTypes": ["BILLING"]},
    ]


def test_audit_pages_through_every_account_at_the_api_pace_with_progress_on_request(
    cli: Cli, aws: Any, endpoint: str
) -> None:
    # GIVEN more accounts than one ListAccounts page holds (20), each with a SECURITY contact, and the
    # Account API behind a local front that records when each request arrives
    members = organization(aws, *(f"team{n:02d}" for n in range(24)))
    set_security(aws, CALLER, *members.values())
    front = FrontedAccountApi(endpoint, answer=lambda body: None)
    try:
        # WHEN the user audits with progress asked for (stderr is not a terminal here)
        result = cli("audit", "--progress", env={"AWS_ENDPOINT_URL_ACCOUNT": front.endpoint})
    finally:
        front.stop()

    # THEN all 25 accounts were checked and it exits 0
    assert result.returncode == 0, result.stdout + result.stderr
    assert "All 25 ACTIVE accounts have a SECURITY contact." in result.stdout
    # AND the reads kept to GetAlternateContact's quota: a burst of 15, then 10 a second
    assert len(front.times) == 25
    assert front.times[-1] - front.times[0] >= 0.9
    # AND progress went to stderr, never into the report
    assert result.stderr.splitlines()[-1] == "checked 25/25 accounts"
    assert "checked" not in result.stdout
