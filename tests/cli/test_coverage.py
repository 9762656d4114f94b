"""``plan``, ``drift`` and ``audit`` of an app with a coverage: what it would write to each account it keeps today.

One organization is made in the session's moto_server for this module (its ids are random, so the app is
synthesized for it by the session's synthesis process, once), and each test sets the contacts it needs:

    root
    |- management account (master)   SECURITY as the rules say, no OPERATIONS
    |- loose                          no contact
    |- listed                         listed in CoverAll's [[accounts]]: its resource owns it
    `- workloads
       |- prod                        SECURITY and OPERATIONS as the rules say
       |- dev                         SECURITY with another email address, no OPERATIONS
       |- closed                      SUSPENDED
       `- payments (rule: its own OPERATIONS)
          `- pay                      OPERATIONS of the defaults, no SECURITY

Stack ``CoverAll`` covers every ACTIVE account (on_drift restore) with SECURITY and OPERATIONS; ``CoverUnits``
covers the accounts under ``workloads`` with SECURITY, on_drift report.
"""

from __future__ import annotations

import contextlib
import json
import shutil
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
from cli_support import (
    CALLER,
    CLEAR_DETAILS,
    OPERATIONS,
    PAYMENTS_OPERATIONS,
    SECURITY,
    Cli,
    FrontedAccountApi,
    Synthesizer,
    moto_environment,
    rows,
)

from localdeploy.moto import MotoServer

DEFAULTS = "CoverAll/Organization coverage: defaults"
UNITS = "CoverUnits/Workloads coverage: defaults"


@dataclass
class Organization:
    """The module's organization in moto_server and the app synthesized for it."""

    endpoint: str
    accounts: dict[str, str]
    workloads: str
    payments: str
    assembly: Path

    def client(self, service: str) -> Any:
        return _client(self.endpoint, service)

    def set_contacts(self, contacts: Mapping[tuple[str, str], Mapping[str, str]]) -> None:
        """Exactly these contacts in the organization's accounts (by account name), every other one deleted."""
        client = self.client("account")
        for name, account in self.accounts.items():
            target = {} if account == CALLER else {"AccountId": account}
            for contact_type in ("BILLING", "OPERATIONS", "SECURITY"):
                details = contacts.get((name, contact_type))
                if details is not None:
                    client.put_alternate_contact(AlternateContactType=contact_type, **target, **details)
                    continue
                with contextlib.suppress(client.exceptions.ResourceNotFoundException):
                    client.delete_alternate_contact(AlternateContactType=contact_type, **target)

    @property
    def payments_rule(self) -> str:
        return f"CoverAll/Organization coverage: {self.payments} [payments]"


def _client(endpoint: str, service: str) -> Any:
    session = boto3.Session(aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-east-1")
    return session.client(service, endpoint_url=endpoint)


#: The contacts of the module's docstring: some as the rules say, one different, the rest absent.
MIXED = {
    ("master", "SECURITY"): SECURITY,
    ("prod", "SECURITY"): SECURITY,
    ("prod", "OPERATIONS"): OPERATIONS,
    ("dev", "SECURITY"): {**SECURITY, "EmailAddress": "old-security@example.com"},
    ("pay", "OPERATIONS"): OPERATIONS,
}

#: Every contact CoverAll's rules and its listed account's resource give.
AS_THE_RULES_SAY = {
    **{(name, "SECURITY"): SECURITY for name in ("master", "loose", "listed", "prod", "dev", "pay")},
    **{(name, "OPERATIONS"): OPERATIONS for name in ("master", "loose", "listed", "prod", "dev")},
    ("pay", "OPERATIONS"): PAYMENTS_OPERATIONS,
}


@pytest.fixture(scope="module")
def org(moto: MotoServer, synthesizer: Synthesizer, tmp_path_factory: pytest.TempPathFactory) -> Organization:
    """The organization of the module's docstring, and the ``coverage`` app synthesized with its ids."""
    moto.reset()
    client = _client(moto.endpoint, "organizations")
    described = client.create_organization(FeatureSet="ALL")["Organization"]
    root = client.list_roots()["Roots"][0]["Id"]

    def unit(parent: str, name: str) -> str:
        return str(client.create_organizational_unit(ParentId=parent, Name=name)["OrganizationalUnit"]["Id"])

    workloads = unit(root, "workloads")
    payments = unit(workloads, "payments")
    parents = {workloads: root, payments: workloads, CALLER: root}
    accounts = {"master": CALLER}
    for name, parent in (
        ("loose", root),
        ("listed", root),
        ("prod", workloads),
        ("dev", workloads),
        ("closed", workloads),
        ("pay", payments),
    ):
        account = str(
            client.create_account(Email=f"{name}@example.com", AccountName=name)["CreateAccountStatus"]["AccountId"]
        )
        if parent != root:
            client.move_account(AccountId=account, SourceParentId=root, DestinationParentId=parent)
        parents[account] = parent
        accounts[name] = account
    client.close_account(AccountId=accounts["closed"])
    structure = {"organizationId": described["Id"], "rootId": root, "parents": parents}
    assembly = synthesizer.coverage(
        tmp_path_factory.mktemp("coverage-app") / "cdk.out",
        structure=structure,
        management_account_id=described["MasterAccountId"],
        workloads=workloads,
        payments=payments,
        listed=accounts["listed"],
    )
    return Organization(moto.endpoint, accounts, workloads, payments, assembly)


@pytest.fixture
def run(org: Organization) -> Iterator[Cli]:
    """The console script against the module's organization (moto_server is not reset between its tests)."""
    yield Cli(moto_environment(org.endpoint))


def test_plan_shows_what_the_coverage_would_write_to_each_covered_account_after_the_declared_contacts(
    org: Organization, run: Cli
) -> None:
    # GIVEN accounts whose contacts are as the rules say, differ, or are absent
    org.set_contacts(MIXED)
    a = org.accounts

    # WHEN the user plans the stack with the coverage of every account
    result = run("plan", "--cdk-out", org.assembly, "--stack", "CoverAll", "--detailed-exitcode")

    # THEN it exits 2: the coverage would write
    assert result.returncode == 2, result.stdout + result.stderr
    found = rows(result.stdout)
    listed_resource = f"CoverAll/Organization/Accounts00/Account{a['listed']}"
    # AND the listed account's contacts come first, from its resource; the coverage leaves it alone
    assert list(found)[:2] == [(a["listed"], "OPERATIONS", listed_resource), (a["listed"], "SECURITY", listed_resource)]
    assert found == {
        (a["listed"], "OPERATIONS", listed_resource): ["CREATE", "no live contact"],
        (a["listed"], "SECURITY", listed_resource): ["CREATE", "no live contact"],
        # AND each covered ACTIVE account, per type the rules give, with the rule that gives it
        (CALLER, "OPERATIONS", DEFAULTS): ["CREATE", "no live contact"],
        (CALLER, "SECURITY", DEFAULTS): ["NO CHANGE"],
        (a["loose"], "OPERATIONS", DEFAULTS): ["CREATE", "no live contact"],
        (a["loose"], "SECURITY", DEFAULTS): ["CREATE", "no live contact"],
        (a["prod"], "OPERATIONS", DEFAULTS): ["NO CHANGE"],
        (a["prod"], "SECURITY", DEFAULTS): ["NO CHANGE"],
        (a["dev"], "OPERATIONS", DEFAULTS): ["CREATE", "no live contact"],
        (a["dev"], "SECURITY", DEFAULTS): ["UPDATE", "EmailAddress: o***@example.com -> s***@example.com"],
        (a["pay"], "OPERATIONS", org.payments_rule): [
            "UPDATE",
            "EmailAddress: o***@example.com -> p***@example.com",
            "Name: P. o. -> P. o. (differs in masked characters; --show-details shows them)",
            "PhoneNumber: +1 *** ***0101 -> +1 *** ***0103",
            "Title: O. l. -> P.",
        ],
        # (the rule is the account's, as the coverage reports it: its deepest unit with a rule)
        (a["pay"], "SECURITY", org.payments_rule): ["CREATE", "no live contact"],
    }
    # AND the suspended account is not covered; the counts say whom the coverage keeps
    assert a["closed"] not in result.stdout.split("note:")[0]
    assert "Plan: 7 to create, 2 to update, 3 unchanged." in result.stdout
    assert (
        "note: CoverAll/Organization coverage (on_drift restore) keeps 5 of the 6 ACTIVE accounts; 1 listed in its "
        "[[accounts]] stays with its resource; 1 account not ACTIVE, not covered"
    ) in result.stdout
    # AND no contact detail reached the terminal
    assert [value for value in [*CLEAR_DETAILS, "old-security@example.com"] if value in result.stdout] == []
    assert result.stderr == ""


def test_plan_and_drift_find_nothing_once_every_covered_account_holds_the_rules_values(
    org: Organization, run: Cli
) -> None:
    # GIVEN every contact as the rules (and the listed account's resource) say
    org.set_contacts(AS_THE_RULES_SAY)

    # WHEN the user plans with a detailed exit code, and checks for drift
    plan = run("plan", "--cdk-out", org.assembly, "--stack", "CoverAll", "--detailed-exitcode")
    drift = run("drift", "--cdk-out", org.assembly, "--stack", "CoverAll")

    # THEN nothing would be written, and nothing drifted
    assert plan.returncode == 0, plan.stdout + plan.stderr
    assert "Plan: 0 to create, 0 to update, 12 unchanged." in plan.stdout
    assert drift.returncode == 0, drift.stdout + drift.stderr
    assert {row[0] for row in rows(drift.stdout).values()} == {"IN SYNC"}


def _findings_of_mixed(org: Organization, run: Cli, command: str) -> tuple[str, dict[str, Any]]:
    """The JSON output of ``command`` of stack CoverAll over the mixed contacts, as printed and as read,
    once it exited 1 (findings)."""
    org.set_contacts(MIXED)
    result = run(command, "--cdk-out", org.assembly, "--stack", "CoverAll", "--format", "json")
    assert result.returncode == 1, result.stdout + result.stderr
    return result.stdout, json.loads(result.stdout)


def test_drift_compares_the_covered_accounts_with_the_rules_and_json_says_which_rows_come_from_the_coverage(
    org: Organization, run: Cli
) -> None:
    # GIVEN the mixed contacts; WHEN the user checks for drift, as JSON (it exits 1: findings)
    printed, report = _findings_of_mixed(org, run, "drift")
    a = org.accounts

    # THEN it counts the covered contacts like the others
    assert (report["Summary"]["MISSING"], report["Summary"]["DRIFTED"], report["Summary"]["IN SYNC"]) == (7, 2, 3)
    # AND a covered row names its coverage and rule; a declared one has none
    by_slot = {(c["AccountId"], c["AlternateContactType"]): c for c in report["Contacts"]}
    assert by_slot[(a["listed"], "SECURITY")]["Coverage"] is None
    pay = by_slot[(a["pay"], "OPERATIONS")]
    assert (pay["Status"], pay["DeclaredBy"], pay["Stack"]) == ("DRIFTED", org.payments_rule, "CoverAll")
    assert pay["Coverage"] == {
        "DeclaredBy": "CoverAll/Organization",
        "Rule": org.payments,
        "UnitName": "payments",
        "OnDrift": "restore",
    }
    assert pay["ChangedFields"] == ["EmailAddress", "Name", "PhoneNumber", "Title"]
    # AND details stay masked in JSON too
    assert pay["Declared"]["EmailAddress"] == "p***@example.com"
    assert [value for value in CLEAR_DETAILS if value in printed] == []


def test_a_coverage_that_only_reports_drift_plans_no_change_for_it_and_drift_still_finds_it(
    org: Organization, run: Cli
) -> None:
    # GIVEN the mixed contacts: under workloads, prod's SECURITY as the rules say, dev's different, pay's absent
    org.set_contacts(MIXED)
    a = org.accounts
    plan = ["plan", "--cdk-out", org.assembly, "--stack", "CoverUnits", "--detailed-exitcode"]

    # WHEN the user plans the coverage of the unit, whose on_drift is report
    before = run(*plan)

    # THEN only the units' ACTIVE accounts are covered; dev's drift is shown, not written, not a change
    assert before.returncode == 2, before.stdout + before.stderr
    assert rows(before.stdout) == {
        (a["prod"], "SECURITY", UNITS): ["NO CHANGE"],
        (a["dev"], "SECURITY", UNITS): [
            "DRIFT (reported)",
            "EmailAddress: o***@example.com -> s***@example.com",
            "not written: the coverage's on_drift is report",
        ],
        (a["pay"], "SECURITY", UNITS): ["CREATE", "no live contact"],
    }
    assert "Plan: 1 to create, 0 to update, 1 unchanged, 1 drifted, left as it is (on_drift report)." in before.stdout
    assert "keeps 3 of the 6 ACTIVE accounts; 3 outside its units; 1 account not ACTIVE" in before.stdout

    # GIVEN pay's contact written, as the coverage would
    org.set_contacts({**MIXED, ("pay", "SECURITY"): SECURITY})
    # WHEN the user plans again THEN nothing would be written: exit 0 with dev still drifted
    after = run(*plan)
    assert after.returncode == 0, after.stdout + after.stderr
    assert rows(after.stdout)[(a["dev"], "SECURITY", UNITS)][0] == "DRIFT (reported)"

    # WHEN the user checks for drift THEN dev's contact has drifted all the same: exit 1
    drift = run("drift", "--cdk-out", org.assembly, "--stack", "CoverUnits")
    assert drift.returncode == 1, drift.stdout + drift.stderr
    assert rows(drift.stdout)[(a["dev"], "SECURITY", UNITS)] == [
        "DRIFTED (reported)",
        "EmailAddress: live o***@example.com, rules s***@example.com",
        "reported only, never restored (on_drift report)",
    ]


def test_no_coverage_plans_only_the_declared_contacts_without_reading_the_organization(
    org: Organization, run: Cli
) -> None:
    # GIVEN Organizations behind a front that refuses every call (AccessDenied), and counts them
    org.set_contacts(MIXED)
    front = FrontedAccountApi(org.endpoint, answer=lambda body: (400, "AccessDeniedException"))
    refused = {"AWS_ENDPOINT_URL_ORGANIZATIONS": front.endpoint}
    try:
        # WHEN the user plans and checks drift without the coverage
        plan = run("plan", "--cdk-out", org.assembly, "--stack", "CoverAll", "--no-coverage", env=refused)
        drift = run("drift", "--cdk-out", org.assembly, "--stack", "CoverAll", "--no-coverage", env=refused)
        calls = len(front.bodies)
        # AND with the coverage
        failed = run("plan", "--cdk-out", org.assembly, "--stack", "CoverAll", env=refused)
    finally:
        front.stop()

    # THEN without it, only the listed account's resource is compared, Organizations is not called, and the
    # user is told the coverage was left out
    assert plan.returncode == 0, plan.stdout + plan.stderr
    assert {key[0] for key in rows(plan.stdout)} == {org.accounts["listed"]}
    assert "note: CoverAll/Organization coverage: its accounts are left out (--no-coverage)" in plan.stdout
    assert drift.returncode == 1
    assert {key[0] for key in rows(drift.stdout)} == {org.accounts["listed"]}
    assert calls == 0
    # AND with it, the refusal is an error naming the permission, exit 3
    assert failed.returncode == 3
    assert "Organizations ListAccounts: AccessDenied" in failed.stderr


def test_show_details_shows_the_rules_contact_in_clear(org: Organization, run: Cli) -> None:
    org.set_contacts(MIXED)
    result = run("plan", "--cdk-out", org.assembly, "--stack", "CoverAll", "--show-details")
    assert result.returncode == 0
    assert rows(result.stdout)[(org.accounts["pay"], "OPERATIONS", org.payments_rule)][1] == (
        "EmailAddress: ops@example.com -> pay-ops@example.com"
    )


def test_audit_with_the_cloud_assembly_names_the_rule_that_keeps_each_active_account(
    org: Organization, run: Cli
) -> None:
    # GIVEN the mixed contacts; WHEN the user audits with the app's coverage of every account (it exits 1)
    _, report = _findings_of_mixed(org, run, "audit")
    a = org.accounts

    # THEN every ACTIVE account has its rule: listed, the payments unit's, or the defaults
    assert {entry["AccountId"]: entry["Rule"] for entry in report["Accounts"]} == {
        CALLER: "coverage: defaults",
        a["loose"]: "coverage: defaults",
        a["listed"]: "listed (CoverAll)",
        a["prod"]: "coverage: defaults",
        a["dev"]: "coverage: defaults",
        a["pay"]: f"coverage: {org.payments} [payments]",
    }
    # AND the audit itself is unchanged: the accounts missing SECURITY, the suspended one skipped
    assert sorted(entry["AccountId"] for entry in report["Missing"]) == sorted([a["loose"], a["listed"], a["pay"]])
    assert {entry["AccountId"]: entry["Rule"] for entry in report["Missing"]}[a["listed"]] == "listed (CoverAll)"
    assert [entry["AccountId"] for entry in report["Skipped"]] == [a["closed"]]

    # WHEN the user audits every stack, as a table
    table = run("audit", "--cdk-out", org.assembly)

    # THEN the RULE column says what keeps each account, both coverages where they overlap, or not covered
    assert table.returncode == 1
    lines = table.stdout.splitlines()
    assert lines[2].split() == ["ACCOUNT", "NAME", "RULE", "MISSING"]
    by_account = {line.split()[0]: line for line in lines[3:9]}
    assert by_account[a["loose"]].split()[1:] == ["loose", "coverage:", "defaults", "(CoverAll)", "SECURITY"]
    assert "coverage: defaults (CoverAll); coverage: defaults (CoverUnits)" in by_account[a["prod"]]
    assert f"coverage: {org.payments} [payments] (CoverAll); coverage: defaults (CoverUnits)" in by_account[a["pay"]]

    # WHEN the user audits the unit's coverage only THEN accounts outside it are not covered
    units = run("audit", "--cdk-out", org.assembly, "--stack", "CoverUnits", "--format", "json")
    rules = {entry["AccountId"]: entry["Rule"] for entry in json.loads(units.stdout)["Accounts"]}
    assert (rules[CALLER], rules[a["loose"]], rules[a["listed"]], rules[a["dev"]]) == (
        "not covered",
        "not covered",
        "not covered",
        "coverage: defaults",
    )
    # AND --stack means nothing without a cloud assembly: an error, before any AWS call
    alone = run("audit", "--stack", "CoverAll")
    assert (alone.returncode, alone.stdout) == (3, "")
    assert "--stack selects stacks of a cloud assembly: give it with --cdk-out DIR" in alone.stderr


def _coverage_rules_file(assembly: Path, stack: str) -> Path:
    """The rules file in the code asset of ``stack``'s coverage function."""
    template = json.loads((assembly / f"{stack}.template.json").read_text())
    (function,) = [
        r
        for r in template["Resources"].values()
        if r["Properties"].get("Handler", "").endswith("coverage_index.handler")
    ]
    return assembly / f"asset.{function['Properties']['Code']['S3Key'].removesuffix('.zip')}" / "coverage-rules.json"


def test_a_missing_broken_or_changed_rules_file_is_an_error_naming_the_stack_and_the_function(
    org: Organization, run: Cli, tmp_path: Path
) -> None:
    # GIVEN copies of the cloud assembly whose coverage rules are missing, not JSON, or not the deployed ones
    rules = json.loads(_coverage_rules_file(org.assembly, "CoverAll").read_text())
    changes = {
        "missing": (None, "no coverage-rules.json in its code asset"),
        "broken": ("{not json", "cannot read it"),
        "not rules": (json.dumps({"version": 99}), "its rules are not usable"),
        "changed": (json.dumps({**rules, "onDrift": "report"}), "is not the rules the template deploys"),
    }
    for case, (text, message) in changes.items():
        copy = shutil.copytree(org.assembly, tmp_path / case.replace(" ", "-"))
        rules_file = _coverage_rules_file(copy, "CoverAll")
        if text is None:
            rules_file.unlink()
        else:
            rules_file.write_text(text)

        # WHEN the user plans it
        result = run("plan", "--cdk-out", copy, "--stack", "CoverAll")

        # THEN it exits 3, naming the stack and the function, before reading anything
        assert result.returncode == 3, (case, result.stdout, result.stderr)
        assert "error: stack CoverAll: coverage function CoverAll/Organization/Coverage/Function (CoverAll/" in (
            result.stderr
        ), case
        assert message in result.stderr, (case, result.stderr)
        assert result.stdout == ""
