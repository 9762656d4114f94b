"""``import``: the organization's live contacts, written to a contacts file that, deployed, changes nothing.

The organization is arranged in moto_server; the console script runs as a user runs it. The round trip
synthesizes the written file with the real ``OrganizationContacts.from_file`` (in the session's synthesis
process) and plans it against the same moto_server.
"""

from __future__ import annotations

import json
import stat
import subprocess
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cli_support import (
    CALLER,
    Cli,
    FrontedAccountApi,
    Synthesizer,
    assert_deploys_unchanged,
    moto_environment,
    offline_environment,
    put,
)
from sample_contacts import BILLING, OPERATIONS, SECURITY

from cdk_alternate_contacts_cli.importer import choose
from cdk_alternate_contacts_handler.organizations import OrgAccount

#: The management account's own SECURITY contact: another address and name, the same phone and title.
MANAGEMENT_SECURITY = {**SECURITY, "EmailAddress": "root-security@example.com", "Name": "Root account owners"}
#: dev's SECURITY contact differs from the default in one field.
DEV_SECURITY = {**SECURITY, "EmailAddress": "dev-security@example.com"}
#: legal's BILLING contact differs in every field.
LEGAL_BILLING = {
    "EmailAddress": "legal-invoices@example.org",
    "Name": "Outside Counsel LLP",
    "PhoneNumber": "+44 20 7946 0958",
    "Title": "Retained counsel",
}

#: Every clear-text detail of the organization: none may reach the terminal.
DETAILS = sorted(
    {
        value
        for details in (SECURITY, OPERATIONS, BILLING, MANAGEMENT_SECURITY, DEV_SECURITY, LEGAL_BILLING)
        for value in details.values()
    }
)

#: The three defaults as the file writes them.
FILE_DEFAULTS = {
    "billing": {
        "email_address": "finance@example.com",
        "name": "Finance Department",
        "phone_number": "+1 206 555 0102",
        "title": "Accounts payable",
    },
    "operations": {
        "email_address": "cloud-ops@example.com",
        "name": "Platform on-call",
        "phone_number": "+1 206 555 0101",
        "title": "Operations team",
    },
    "security": {
        "email_address": "soc@example.com",
        "name": "Security Operations Center",
        "phone_number": "+1 206 555 0100",
        "title": "Security team",
    },
}


@dataclass(frozen=True)
class Organization:
    """The arranged organization: its id and the member account ids by name."""

    organization_id: str
    members: dict[str, str]

    def live(self) -> dict[tuple[str, str], dict[str, str]]:
        """Every contact set, (account, type) -> details."""
        return {
            (CALLER, "BILLING"): BILLING,
            (CALLER, "OPERATIONS"): OPERATIONS,
            (CALLER, "SECURITY"): MANAGEMENT_SECURITY,
            **{
                (self.members[name], contact_type): details
                for name in ("prod", "stage", "logs", "audit", "dev", "legal", "sandbox")
                for contact_type, details in {
                    "BILLING": LEGAL_BILLING if name == "legal" else BILLING,
                    "OPERATIONS": OPERATIONS,
                    "SECURITY": DEV_SECURITY if name == "dev" else SECURITY,
                }.items()
                if not (name == "sandbox" and contact_type == "BILLING")
            },
        }


def arrange(aws: Any) -> Organization:
    """An organization managed by the caller (moto's "master" account): seven ACTIVE members that mostly
    share their contacts, dev with another SECURITY email, legal with its own BILLING contact in every field,
    sandbox without BILLING, the management account with its own SECURITY contact, and a SUSPENDED member."""
    client = aws("organizations")
    organization_id = client.create_organization(FeatureSet="ALL")["Organization"]["Id"]
    members = {}
    for name in ("prod", "stage", "logs", "audit", "dev", "legal", "sandbox", "closed"):
        status = client.create_account(Email=f"{name}-root@example.net", AccountName=name)["CreateAccountStatus"]
        members[name] = status["AccountId"]
    organization = Organization(organization_id, members)
    put(aws, organization.live())
    # The closed account had contacts too: they are not imported.
    put(aws, {(members["closed"], "SECURITY"): SECURITY})
    client.close_account(AccountId=members["closed"])
    return organization


def assert_no_detail(*outputs: str) -> None:
    for output in outputs:
        leaked = [detail for detail in DETAILS if detail in output]
        assert leaked == [], f"contact details on the terminal: {leaked}"


def test_import_writes_the_shared_contacts_as_defaults_and_only_what_differs_per_account(
    cli: Cli, aws: Any, tmp_path: Path
) -> None:
    # GIVEN the organization
    org = arrange(aws)
    members = org.members
    out = tmp_path / "contacts.toml"

    # WHEN the user imports it, with progress
    result = cli("import", "--out", out, "--progress")

    # THEN it exits 0 and writes a TOML file readable by its owner only
    assert result.returncode == 0, result.stdout + result.stderr
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    text = out.read_text()
    data = tomllib.loads(text)
    # AND each type's most common value is its default
    assert data["defaults"] == FILE_DEFAULTS
    # AND every ACTIVE account is listed once, by id, with its name; overrides hold only the fields that
    # differ; sandbox opts out of BILLING; the SUSPENDED account is left out; the management account is in
    entries = {
        CALLER: {
            "account_id": CALLER,
            "name": "master",
            "overrides": {"security": {"email_address": "root-security@example.com", "name": "Root account owners"}},
        },
        **{members[name]: {"account_id": members[name], "name": name} for name in ("prod", "stage", "logs", "audit")},
        members["dev"]: {
            "account_id": members["dev"],
            "name": "dev",
            "overrides": {"security": {"email_address": "dev-security@example.com"}},
        },
        members["legal"]: {
            "account_id": members["legal"],
            "name": "legal",
            "overrides": {
                "billing": {
                    "email_address": "legal-invoices@example.org",
                    "name": "Outside Counsel LLP",
                    "phone_number": "+44 20 7946 0958",
                    "title": "Retained counsel",
                }
            },
        },
        members["sandbox"]: {"account_id": members["sandbox"], "name": "sandbox", "opt_out": ["billing"]},
    }
    assert data["accounts"] == [entries[account_id] for account_id in sorted(entries)]
    # AND the account ids are quoted strings, so leading zeros survive
    assert all(f'account_id = "{account_id}"' in text for account_id in entries)
    # AND the file opens with a comment: what wrote it, from where, and that it holds contact details
    header = text.split("\n\n", 1)[0]
    assert header.startswith(
        f"# Alternate contacts of AWS organization {org.organization_id} (management account {CALLER}),\n"
        "# written by `cdk-alternate-contacts import` "
    )
    assert "# 8 ACTIVE accounts; 1 not ACTIVE, left out.\n" in header
    assert "# THIS FILE HOLDS CONTACT DETAILS" in header
    assert "never in a public repository." in header

    # AND the summary on stdout says what was chosen, the defaults masked
    lines = result.stdout.splitlines()
    assert lines[0] == (
        f"Imported the alternate contacts of 8 ACTIVE accounts of organization {org.organization_id} "
        f"(management account {CALLER}), read as account {CALLER}"
    )
    assert lines[2:6] == [
        "TYPE        DEFAULT (masked)                                   ACCOUNTS WITH IT  OVERRIDES  OPT-OUTS",
        "BILLING     f***@example.com, F. D., +1 *** ***0102, A. p.     6                 1          1",
        "OPERATIONS  c***@example.com, P. o., +1 *** ***0101, O. t.     8                 0          0",
        "SECURITY    s***@example.com, S. O. C., +1 *** ***0100, S. t.  6                 2          0",
    ]
    assert lines[7:12] == [
        "ACCOUNT       NAME     OVERRIDES                       OPT-OUTS",
        *sorted(
            [
                f"{CALLER}  master   SECURITY (email_address, name)",
                f"{members['dev']}  dev      SECURITY (email_address)",
                f"{members['legal']}  legal    BILLING (every field)",
                f"{members['sandbox']}  sandbox                                  BILLING",
            ]
        ),
    ]
    assert "4 accounts take every default as it is." in lines
    assert f"Skipped 1 account that is not ACTIVE: {members['closed']} (SUSPENDED)." in lines
    assert f"Wrote {out} (TOML, 8 accounts, readable by its owner only)." in lines
    assert f'    organization_id="{org.organization_id}", management_account_id="{CALLER}");' in lines
    # AND progress went to stderr, and no contact detail reached the terminal
    assert result.stderr.splitlines()[-1] == "read 8/8 accounts"
    assert_no_detail(result.stdout, result.stderr)
    # AND nothing but the file was left in its folder (no temporary file)
    assert [path.name for path in tmp_path.iterdir()] == ["contacts.toml"]


def test_an_imported_file_deployed_changes_nothing(
    cli: Cli, aws: Any, tmp_path: Path, synthesizer: Synthesizer
) -> None:
    # GIVEN the organization, imported
    org = arrange(aws)
    contacts = tmp_path / "contacts.toml"
    assert cli("import", "--out", contacts).returncode == 0

    # WHEN the file is synthesized with OrganizationContacts.from_file, and planned against the same accounts
    cdk_out = synthesizer.from_file(
        contacts, tmp_path / "cdk.out", organization_id=org.organization_id, management_account_id=CALLER
    )

    # THEN plan finds nothing to change (exit 0, every live contact declared and NO CHANGE) and drift all in sync
    assert_deploys_unchanged(cli, cdk_out, org.live())


def test_import_refuses_to_replace_a_file_unless_forced(cli: Cli, aws: Any, tmp_path: Path) -> None:
    # GIVEN a file where the import would go, readable by everyone
    out = tmp_path / "contacts.toml"
    out.write_text("# my notes\n")
    out.chmod(0o644)

    # WHEN the user imports there, even without credentials
    refused = Cli(offline_environment())("import", "--out", out)

    # THEN it exits 3 before any AWS call, says how to replace it, and leaves the file as it was
    assert refused.returncode == 3
    assert (
        refused.stderr
        == f"cdk-alternate-contacts: error: {out} exists: pass --force to replace it, or choose another --out\n"
    )
    assert out.read_text() == "# my notes\n"

    # WHEN the user forces it
    arrange(aws)
    forced = cli("import", "--out", out, "--force")

    # THEN the file is replaced, readable by its owner only
    assert forced.returncode == 0, forced.stderr
    assert "[defaults.security]" in out.read_text()
    assert stat.S_IMODE(out.stat().st_mode) == 0o600


def test_import_writes_json_when_asked_by_format_or_by_suffix(cli: Cli, aws: Any, tmp_path: Path) -> None:
    # GIVEN the organization
    arrange(aws)

    # WHEN the user asks for JSON with --format, without --out
    as_json = cli("import", "--format", "json", cwd=tmp_path)

    # THEN contacts.json is written in the current folder, 0600, holding the same defaults and accounts
    assert as_json.returncode == 0, as_json.stderr
    written = tmp_path / "contacts.json"
    assert stat.S_IMODE(written.stat().st_mode) == 0o600
    data = json.loads(written.read_text())
    assert data["defaults"] == FILE_DEFAULTS
    assert len(data["accounts"]) == 8
    assert "Wrote contacts.json (JSON, 8 accounts, readable by its owner only)." in as_json.stdout
    assert "JSON has no comments" in as_json.stdout
    assert_no_detail(as_json.stdout, as_json.stderr)

    # WHEN the suffix says JSON (in any case) and --format is left out
    by_suffix = cli("import", "--out", tmp_path / "org.JSON")

    # THEN JSON it is, the same
    assert by_suffix.returncode == 0, by_suffix.stderr
    assert json.loads((tmp_path / "org.JSON").read_text()) == data


def test_a_suffix_that_from_file_cannot_read_or_that_contradicts_format_is_refused(tmp_path: Path) -> None:
    cli = Cli(offline_environment())

    mismatch = cli("import", "--out", tmp_path / "contacts.json", "--format", "toml")
    assert mismatch.returncode == 3
    assert "would be read as JSON (its suffix) but --format toml was asked" in mismatch.stderr

    unknown = cli("import", "--out", tmp_path / "contacts.yaml")
    assert unknown.returncode == 3
    assert "name it .toml or .json" in unknown.stderr

    no_folder = cli("import", "--out", tmp_path / "missing" / "contacts.toml")
    assert no_folder.returncode == 3
    assert "does not exist" in no_folder.stderr

    assert list(tmp_path.iterdir()) == []


def test_an_account_whose_contacts_cannot_be_read_stops_the_import_and_writes_nothing(
    cli: Cli, aws: Any, endpoint: str, tmp_path: Path
) -> None:
    # GIVEN the organization, and an Account API that denies reading dev's contacts (moto never denies:
    # a local front answers AccessDeniedException for that account)
    org = arrange(aws)
    dev = org.members["dev"]
    front = FrontedAccountApi(
        endpoint, answer=lambda body: (403, "AccessDeniedException") if body.get("AccountId") == dev else None
    )
    try:
        # WHEN the user imports
        result = cli("import", "--out", tmp_path / "contacts.toml", env={"AWS_ENDPOINT_URL_ACCOUNT": front.endpoint})
    finally:
        front.stop()

    # THEN it exits 3, names the account and why, and writes nothing (a file without dev would stop managing it)
    assert result.returncode == 3, result.stdout + result.stderr
    assert result.stdout == ""
    assert result.stderr.startswith(
        f"cdk-alternate-contacts: error: could not read the contacts of 1 of 8 ACTIVE accounts ({dev} (dev)); "
        "nothing was written: a file without them would silently stop managing them\n"
        f"  {dev}/BILLING, {dev}/OPERATIONS, {dev}/SECURITY: AccessDeniedException: "
    )
    assert list(tmp_path.iterdir()) == []
    assert_no_detail(result.stderr)


def test_a_live_value_the_file_cannot_hold_fails_the_check_and_leaves_no_file(
    cli: Cli, aws: Any, tmp_path: Path
) -> None:
    # GIVEN the organization, dev's SECURITY email one the real API would refuse (moto stores anything)
    org = arrange(aws)
    dev = org.members["dev"]
    put(aws, {(dev, "SECURITY"): {**SECURITY, "EmailAddress": "dev-security(at)example.com"}})

    # WHEN the user imports
    result = cli("import", "--out", tmp_path / "contacts.toml")

    # THEN the library's reader refused the file before it was put in place: exit 3, the account and field
    # named, the value not quoted, and no file (nor temporary file) left
    assert result.returncode == 3, result.stdout + result.stderr
    assert result.stderr.startswith(
        f"cdk-alternate-contacts: error: nothing was written: invalid contacts file {tmp_path / 'contacts.toml'}: "
    )
    assert f"({dev}).overrides.security.email_address: " in result.stderr
    assert "(at)" not in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_no_credentials_or_no_access_to_organizations_exits_3_with_what_to_do(
    cli: Cli, aws: Any, endpoint: str, tmp_path: Path
) -> None:
    out = tmp_path / "contacts.toml"

    # WHEN there are no credentials at all
    no_credentials = Cli(offline_environment())("import", "--out", out)
    # THEN one line says how to provide them
    assert no_credentials.returncode == 3
    assert "no AWS credentials found" in no_credentials.stderr

    # WHEN the caller's account is in no organization
    alone = cli("import", "--out", out)
    assert alone.returncode == 3
    assert "not a member of an organization" in alone.stderr

    # WHEN Organizations denies listing the accounts (a local front plays IAM's refusal)
    arrange(aws)
    front = FrontedAccountApi(endpoint, answer=lambda body: (403, "AccessDeniedException"))
    try:
        denied = cli("import", "--out", out, env={"AWS_ENDPOINT_URL_ORGANIZATIONS": front.endpoint})
    finally:
        front.stop()
    # THEN it says who may read the organization
    assert denied.returncode == 3
    assert "Organizations ListAccounts: AccessDenied; read the organization's accounts from its management" in (
        denied.stderr
    )
    # AND no file was written in any case
    assert list(tmp_path.iterdir()) == []


def test_import_starts_neither_aws_cdk_nor_jsii(aws: Any, endpoint: str, tmp_path: Path) -> None:
    # GIVEN an organization of the management account alone
    aws("organizations").create_organization(FeatureSet="ALL")

    # WHEN the user imports it, with Python reporting every import
    result = subprocess.run(
        [
            sys.executable,
            "-X",
            "importtime",
            "-m",
            "cdk_alternate_contacts_cli",
            "import",
            "--out",
            tmp_path / "c.toml",
        ],
        env=moto_environment(endpoint),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    # THEN the file was checked with the construct library's reader, which started no CDK and no Node process
    assert result.returncode == 0, result.stderr[-2000:]
    imported = {line.rsplit("|", 1)[1].strip() for line in result.stderr.splitlines() if "|" in line}
    assert "cdk_alternate_contacts.contacts_file" in imported
    assert sorted(name for name in imported if name.split(".")[0] in {"aws_cdk", "jsii", "constructs"}) == []


def test_import_help_offers_the_file_formats_and_plan_keeps_its_report_formats() -> None:
    cli = Cli(offline_environment())

    importing = cli("import", "--help")
    assert importing.returncode == 0
    assert "--format {toml,json}" in importing.stdout
    assert "most common complete value" in importing.stdout
    assert "--show-details" not in importing.stdout

    plan = cli("plan", "--help")
    assert "--format {table,json}" in plan.stdout
    assert "import wrote the file" in cli("--help").stdout


def _accounts(*ids: str) -> list[OrgAccount]:
    return [OrgAccount(account_id, f"name-{account_id}", "ACTIVE") for account_id in ids]


def test_a_tie_goes_to_the_value_of_the_lowest_account_id() -> None:
    # GIVEN two values held by two accounts each, the lower account id holding the second value
    accounts = _accounts("400000000000", "100000000000", "300000000000", "200000000000")
    live = {(a.account_id, t): None for a in accounts for t in ("BILLING", "OPERATIONS", "SECURITY")}
    for account_id in ("400000000000", "300000000000"):
        live[(account_id, "SECURITY")] = SECURITY
    for account_id in ("100000000000", "200000000000"):
        live[(account_id, "SECURITY")] = DEV_SECURITY

    # WHEN the file is chosen
    imported = choose(accounts, live)

    # THEN the default is the lowest id's value, and the entries are in id order
    assert imported.types[2].default == DEV_SECURITY
    assert [e.account.account_id for e in imported.accounts] == sorted(a.account_id for a in accounts)
    assert {e.account.account_id: e.overrides for e in imported.accounts if e.overrides} == {
        "300000000000": {"SECURITY": {"EmailAddress": "soc@example.com"}},
        "400000000000": {"SECURITY": {"EmailAddress": "soc@example.com"}},
    }


def test_a_type_most_accounts_lack_gets_no_default_and_full_overrides() -> None:
    # GIVEN OPERATIONS held by 2 of 5 accounts (the same value), so 3 lack it, and BILLING by none
    accounts = _accounts("111111111111", "222222222222", "333333333333", "444444444444", "555555555555")
    live = {(a.account_id, t): None for a in accounts for t in ("BILLING", "OPERATIONS", "SECURITY")}
    live[("111111111111", "OPERATIONS")] = OPERATIONS
    live[("222222222222", "OPERATIONS")] = OPERATIONS
    # SECURITY: 2 share a value, 1 has another, 2 lack it: as many lack it as hold the value: a default
    live[("111111111111", "SECURITY")] = SECURITY
    live[("222222222222", "SECURITY")] = SECURITY
    live[("333333333333", "SECURITY")] = DEV_SECURITY

    imported = choose(accounts, live)

    billing, operations, security = imported.types
    # THEN OPERATIONS has no default: its holders override every field, the others opt out of nothing
    assert operations.default is None
    assert (operations.most_common, operations.lacking, operations.overriding, operations.opting_out) == (2, 3, 2, 0)
    assert imported.accounts[0].overrides["OPERATIONS"] == OPERATIONS
    # AND SECURITY, lacked by exactly as many as hold its most common value, keeps it as the default
    assert security.default == SECURITY
    assert (security.overriding, security.opting_out) == (1, 2)
    assert [e.opt_out for e in imported.accounts[3:]] == [("SECURITY",), ("SECURITY",)]
    # AND a type no account has gets no default and no entry
    assert (billing.default, billing.overriding, billing.opting_out) == (None, 0, 0)
