"""The coverage's work, message by message, against moto's Organizations and Account API in-process.

moto is lenient (no quotas, no membership checks): the pacing and throttling paths are the Account API
layer's, tested in test_account_api_faults.py with botocore's Stubber.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from cfn_events import FakeTime
from moto import mock_aws

from cdk_alternate_contacts_handler import coverage
from cdk_alternate_contacts_handler.coverage import Clients, StaleRulesError
from cdk_alternate_contacts_handler.coverage_rules import RulesError, digest_of, document, parse
from cdk_alternate_contacts_handler.spec import AlternateContactType as T

EVENTS = Path(__file__).parent / "events"

SOC = {"EmailAddress": "soc@example.com", "Name": "SOC", "PhoneNumber": "+1 206 555 0100", "Title": "Security"}
OPS = {"EmailAddress": "ops@example.com", "Name": "Ops", "PhoneNumber": "+1 206 555 0101", "Title": "Operations"}
PAY_OPS = {"EmailAddress": "pay-ops@example.com", "Name": "Pay ops", "PhoneNumber": "+1 206 555 0102", "Title": "Ops"}


class Organization:
    """moto's organization: a management account, unit ``workloads`` holding ``payments``, some accounts."""

    def __init__(self) -> None:
        self.organizations = boto3.client("organizations", region_name="us-east-1")
        self.account = boto3.client("account", region_name="us-east-1")
        described = self.organizations.create_organization(FeatureSet="ALL")["Organization"]
        self.management = described["MasterAccountId"]
        self.root = self.organizations.list_roots()["Roots"][0]["Id"]
        self.workloads = self.unit(self.root, "workloads")
        self.payments = self.unit(self.workloads, "payments")
        self.sandbox = self.unit(self.root, "sandbox")

    def unit(self, parent: str, name: str) -> str:
        unit = self.organizations.create_organizational_unit(ParentId=parent, Name=name)["OrganizationalUnit"]
        return str(unit["Id"])

    def new_account(self, name: str, parent: str | None = None) -> str:
        status = self.organizations.create_account(Email=f"{name}@example.com", AccountName=name)
        account = str(status["CreateAccountStatus"]["AccountId"])
        if parent is not None:
            self.organizations.move_account(AccountId=account, SourceParentId=self.root, DestinationParentId=parent)
        return account

    def contact(self, account: str, contact_type: str) -> dict[str, Any] | None:
        target = {} if account == self.management else {"AccountId": account}
        try:
            found: dict[str, Any] = self.account.get_alternate_contact(AlternateContactType=contact_type, **target)
        except self.account.exceptions.ResourceNotFoundException:
            return None
        return {k: found["AlternateContact"][k] for k in SOC}

    def clients(self) -> Clients:
        return Clients(account=self.account, organizations=self.organizations, caller_account=self.management)


@pytest.fixture
def org() -> Iterator[Organization]:
    with mock_aws():
        yield Organization()


def rules_for(org: Organization, *, scope: Any = "all", on_drift: Any = "restore", listed: tuple[str, ...] = ()) -> Any:
    return parse(
        document(
            scope=scope,
            on_drift=on_drift,
            defaults={T.SECURITY: SOC, T.OPERATIONS: OPS},
            units={org.payments: ({T.OPERATIONS: PAY_OPS}, ()), org.sandbox: ({}, (T.SECURITY,))},
            unit_names={org.payments: "payments"},
            listed=listed,
        )
    )


def deadline(fake_time: FakeTime) -> dict[str, Any]:
    return {"deadline": fake_time.deadline(), "policy": fake_time.policy()}


def run_to_the_end(org: Organization, rules: Any, first: list[dict[str, Any]], fake_time: FakeTime) -> list[Any]:
    """Every message a run leads to, handled in turn as the queue would deliver them; the accounts' reports."""
    pending, reports = list(first), []
    while pending:
        step = coverage.handle(org.clients(), rules, pending.pop(0), **deadline(fake_time))
        pending += step.send
        if step.report is not None:
            reports.append(step.report)
    return reports


def test_a_full_run_walks_the_organization_page_by_page_and_applies_each_units_rules(
    org: Organization, fake_time: FakeTime
) -> None:
    # GIVEN 25 accounts in payments (more than a page), one in workloads, one in sandbox, one in the root
    paying = [org.new_account(f"pay{i}", org.payments) for i in range(25)]
    tool, play, loose = (
        org.new_account("tools", org.workloads),
        org.new_account("play", org.sandbox),
        org.new_account("x"),
    )
    rules = rules_for(org)
    # WHEN a run starts (as the deploy or the schedule starts it) and every message is handled
    reports = run_to_the_end(org, rules, [{"action": "start", "reason": "deploy"}], fake_time)
    # THEN every account was applied once, the management account too, each under its deepest rule
    by_account = {r.account_id: r for r in reports}
    assert len(reports) == len(by_account) == 25 + 3 + 1
    assert {by_account[a].rule for a in paying} == {org.payments}
    assert by_account[tool].rule == by_account[loose].rule == by_account[org.management].rule == "defaults"
    # AND each holds what the rules say: payments' operations, sandbox without security (left alone)
    assert org.contact(paying[24], "OPERATIONS") == PAY_OPS and org.contact(paying[0], "SECURITY") == SOC
    assert org.contact(tool, "OPERATIONS") == OPS and org.contact(org.management, "SECURITY") == SOC
    assert org.contact(play, "SECURITY") is None and org.contact(play, "OPERATIONS") == OPS
    assert {r.outcome for r in reports} == {coverage.WRITTEN}
    # WHEN it runs again THEN every account is in sync and nothing is written
    again = run_to_the_end(org, rules, [{"action": "start", "reason": "schedule"}], fake_time)
    assert {r.outcome for r in again} == {coverage.IN_SYNC}


def test_a_scope_of_units_covers_only_their_accounts_and_a_unit_inside_another_once(
    org: Organization, fake_time: FakeTime
) -> None:
    inside, outside = org.new_account("pay", org.payments), org.new_account("play", org.sandbox)
    tool = org.new_account("tools", org.workloads)
    rules = rules_for(org, scope=[org.payments, org.workloads])
    reports = run_to_the_end(org, rules, [{"action": "start"}], fake_time)
    assert sorted(r.account_id for r in reports) == sorted([inside, tool])
    assert org.contact(outside, "OPERATIONS") is None
    # AND an event for an account outside the scope leaves it as it is, and says so
    step = coverage.handle(
        org.clients(), rules, {"action": "apply", "account": outside, "path": None}, **deadline(fake_time)
    )
    assert step.report is not None and (step.report.outcome, step.report.why) == (
        coverage.SKIPPED,
        "outside the coverage's units",
    )


def test_drift_is_put_back_with_restore_and_only_reported_with_report(org: Organization, fake_time: FakeTime) -> None:
    account = org.new_account("pay", org.payments)
    hand_made = {**PAY_OPS, "Name": "Someone by hand"}
    for on_drift, expected_live, expected_outcome in (
        ("report", hand_made, coverage.DRIFTED),
        ("restore", PAY_OPS, coverage.DRIFTED),
    ):
        org.account.put_alternate_contact(AccountId=account, AlternateContactType="OPERATIONS", **hand_made)
        rules = rules_for(org, on_drift=on_drift)
        report = coverage.apply_account(org.clients(), rules, account, None, **deadline(fake_time))
        assert (report.outcome, report.types["OPERATIONS"]) == (expected_outcome, coverage.DRIFTED)
        assert org.contact(account, "OPERATIONS") == expected_live


def test_each_contact_decision_is_the_one_plan_predicts() -> None:
    # GIVEN the rules' details, and a live contact that is absent, the same (but for white space), or different
    spaced = {**PAY_OPS, "EmailAddress": f" {PAY_OPS['EmailAddress']} "}
    other = {**PAY_OPS, "Name": "Someone by hand"}
    # THEN an absent contact is written whatever on_drift says; a different one is put back or only reported
    for on_drift, different in (("restore", coverage.Decision.RESTORE), ("report", coverage.Decision.REPORT)):
        assert coverage.decide(PAY_OPS, None, on_drift=on_drift) is coverage.Decision.CREATE
        assert coverage.decide(PAY_OPS, spaced, on_drift=on_drift) is coverage.Decision.IN_SYNC
        assert coverage.decide(PAY_OPS, other, on_drift=on_drift) is different
    assert [d for d in coverage.Decision if d.writes] == [coverage.Decision.CREATE, coverage.Decision.RESTORE]


def test_listed_and_inactive_accounts_are_skipped_and_left_as_they_are(org: Organization, fake_time: FakeTime) -> None:
    listed, closed = org.new_account("listed", org.payments), org.new_account("closed", org.payments)
    org.organizations.close_account(AccountId=closed)
    rules = rules_for(org, listed=(listed,))
    for account, why in ((listed, "listed: its CloudFormation resource owns it"), (closed, "not ACTIVE (SUSPENDED)")):
        report = coverage.apply_account(org.clients(), rules, account, None, **deadline(fake_time))
        assert (report.outcome, report.why) == (coverage.SKIPPED, why)
        assert org.contact(account, "SECURITY") is None


def test_older_rules_than_the_deployed_ones_write_nothing(org: Organization, fake_time: FakeTime) -> None:
    account = org.new_account("pay", org.payments)
    with pytest.raises(StaleRulesError):
        coverage.apply_account(
            org.clients(), rules_for(org), account, None, current_digest=lambda: "0" * 64, **deadline(fake_time)
        )
    assert org.contact(account, "SECURITY") is None


@pytest.mark.parametrize(
    "fixture",
    ["create_account_result", "accept_handshake", "move_account", "create_managed_account", "update_managed_account"],
)
def test_each_account_event_applies_the_rules_to_its_account(
    org: Organization, fake_time: FakeTime, fixture: str
) -> None:
    # GIVEN an account in payments and the recorded event about it
    account = org.new_account("new", org.payments)
    text = (EVENTS / f"{fixture}.json").read_text()
    event = json.loads(
        text.replace("__ACCOUNT__", account).replace("__SOURCE__", org.root).replace("__DESTINATION__", org.payments)
    )
    # WHEN the event arrives through the queue
    step = coverage.handle(org.clients(), rules_for(org), event, **deadline(fake_time))
    # THEN the account holds payments' rule (its path read with ListParents)
    assert step.report is not None and step.report.outcome == coverage.WRITTEN, step.report
    assert org.contact(account, "OPERATIONS") == PAY_OPS


def test_events_that_are_not_about_a_created_or_joined_account_do_nothing(
    org: Organization, fake_time: FakeTime
) -> None:
    account = org.new_account("new", org.payments)
    failed = json.loads((EVENTS / "create_account_result.json").read_text().replace("__ACCOUNT__", account))
    failed["detail"]["serviceEventDetails"]["createAccountStatus"]["state"] = "FAILED"
    other = {**failed, "detail": {**failed["detail"], "eventName": "TagResource"}}
    for event in (failed, other):
        assert coverage.handle(org.clients(), rules_for(org), event, **deadline(fake_time)).report is None
    assert org.contact(account, "SECURITY") is None


def test_a_scheduled_event_starts_a_full_run(org: Organization, fake_time: FakeTime) -> None:
    event = json.loads((EVENTS / "scheduled_event.json").read_text())
    step = coverage.handle(org.clients(), rules_for(org), event, new_run=lambda: "run-1", **deadline(fake_time))
    assert step.send == [{"action": "list", "parent": org.root, "path": [], "run": "run-1", "reason": "schedule"}]


def test_reports_and_logs_carry_no_contact_detail(
    org: Organization, fake_time: FakeTime, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="cdk_alternate_contacts_handler")  # botocore's own DEBUG is off in Lambda
    org.new_account("pay", org.payments)
    reports = run_to_the_end(org, rules_for(org), [{"action": "start"}], fake_time)
    text = caplog.text + json.dumps([r.log_record("run-1") for r in reports])
    for details in (SOC, OPS, PAY_OPS):
        for value in details.values():
            assert value not in text


def test_the_rules_document_round_trips_and_its_digest_tells_versions_apart() -> None:
    made = document(
        scope="all", on_drift="report", defaults={T.SECURITY: SOC}, units={}, unit_names={}, listed=["1" * 12]
    )
    rules = parse(made)
    assert (rules.scope, rules.on_drift, rules.listed) == ("all", "report", frozenset({"1" * 12}))
    assert rules.desired(()) == {T.SECURITY: SOC}
    assert rules.digest == digest_of(made) != digest_of({**made, "onDrift": "restore"})
    for broken, problem in (
        ({**made, "version": 2}, "not a version 1"),
        ({**made, "scope": []}, "scope must be"),
        ({**made, "defaults": {"SECURITY": {"EmailAddress": "x"}}}, "defaults.SECURITY: must hold exactly"),
    ):
        with pytest.raises(RulesError, match=problem):
            parse(broken)
