"""A coverage end to end on the local engine: deployed, fed by the organization's events and the schedule,
through the queue and the event source mapping to the coverage function's synthesized asset.

The versions of stack ``E2eCovered`` are in tests/e2e/apps/coverage_app.py, synthesized here for the
organization this test makes in moto (the unit's id and the structure exist only then). The engine delivers
the Organizations events as AWS does (us-east-1 only, to queues whose policy lets the rule send); every call
the functions make is judged by their role's policy (no denial allowed).
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from e2e_support import explain
from sample_contacts import OPERATIONS, SECURITY

from cdk_alternate_contacts.structure import CONTEXT_KEY
from cdk_alternate_contacts_cli.cloud_assembly import CloudAssembly
from cdk_alternate_contacts_cli.lookup import read_structure
from localdeploy.assembly import synth
from localdeploy.cloud import LocalCloud
from localdeploy.contacts import account_client
from localdeploy.engine import Engine
from localdeploy.moto import DEPLOYING_ACCOUNT

pytestmark = pytest.mark.e2e

COVERED = "E2eCovered"
APP = Path(__file__).parent / "apps" / "coverage_app.py"

UNIT_OPERATIONS = {
    "EmailAddress": "payments-ops@example.com",
    "Name": "Payments on-call",
    "PhoneNumber": "+1 206 555 0130",
    "Title": "Payments ops",
}
LISTED_SECURITY = {
    "EmailAddress": "listed-soc@example.com",
    "Name": "Listed SOC",
    "PhoneNumber": "+1 206 555 0131",
    "Title": "Security team",
}
MANAGEMENT_SECURITY = {
    "EmailAddress": "root-soc@example.com",
    "Name": "Root owners",
    "PhoneNumber": "+1 206 555 0132",
    "Title": "Security team",
}
BY_HAND = {
    "EmailAddress": "someone@example.com",
    "Name": "Set by hand",
    "PhoneNumber": "+1 206 555 0199",
    "Title": "Whoever",
}


class Contacts:
    """The Account API as the management account sees it (its own contacts without AccountId)."""

    def __init__(self, cloud: LocalCloud) -> None:
        self.client = account_client(cloud.moto.endpoint)

    def _target(self, account: str) -> dict[str, str]:
        return {} if account == DEPLOYING_ACCOUNT else {"AccountId": account}

    def get(self, account: str, contact_type: str) -> dict[str, str] | None:
        try:
            found = self.client.get_alternate_contact(AlternateContactType=contact_type, **self._target(account))
        except self.client.exceptions.ResourceNotFoundException:
            return None
        return {k: found["AlternateContact"][k] for k in SECURITY}

    def put(self, account: str, contact_type: str, details: dict[str, str]) -> None:
        self.client.put_alternate_contact(AlternateContactType=contact_type, **self._target(account), **details)


def synthesized(
    out: Path, unit: str, listed: str, structure: dict[str, Any], versions: tuple[str, ...] = ("listed", "unlisted")
) -> dict[str, CloudAssembly]:
    """The versions asked for, synthesized at once (jsii's start-up dominates)."""
    context = {"unit": unit, "listed": listed, CONTEXT_KEY: json.dumps(structure)}
    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = {
            version: pool.submit(
                synth, out / version, app=f"{sys.executable} {APP}", context={**context, "version": version}
            )
            for version in versions
        }
        return {version: future.result() for version, future in futures.items()}


def organization_with_payments(cloud: LocalCloud) -> tuple[Any, str, str]:
    """moto's organization with a unit "payments" and a listed account: (Organizations client, unit, account)."""
    organizations = cloud.client("organizations")
    root = organizations.list_roots()["Roots"][0]["Id"]
    payments = organizations.create_organizational_unit(ParentId=root, Name="payments")["OrganizationalUnit"]["Id"]
    return organizations, payments, cloud.create_account("listed", "listed@example.com")


class CoverageLog:
    """The coverage function's log lines written since this was made (the session's cloud keeps every test's)."""

    def __init__(self, cloud: LocalCloud) -> None:
        self.cloud = cloud
        self.seen = {path: len(path.read_text(encoding="utf-8")) for path in cloud.functions.log_files()}

    def each_run_summarized_once(self) -> dict[str, dict[str, Any]]:
        """The run summaries by run id, once each is checked against the accounts' own lines: exactly one
        summary per run, whose counts per rule and outcome are those of its lines."""
        lines = [
            json.loads(text)
            for path in self.cloud.functions.log_files()
            for line in path.read_text(encoding="utf-8")[self.seen.get(path, 0) :].splitlines()
            if (text := line.split("\t")[-1]).startswith(('{"run"', '{"summary"'))
        ]
        summaries = [line for line in lines if "summary" in line]
        by_run = {s["run"]: s for s in summaries}
        assert len(by_run) == len(summaries), "a run was summarized more than once"
        counted = Counter(
            (line["run"], line["rule"] or "none", line["outcome"]) for line in lines if "summary" not in line
        )
        assert {run for run, _, _ in counted} <= set(by_run), "a run that applied accounts was never summarized"
        for run, summary in by_run.items():
            in_summary = {
                (rule, outcome): n
                for rule, row in summary["rules"].items()
                for outcome, n in row.items()
                if n and outcome != "covered"
            }
            assert in_summary == {(r, o): n for (found, r, o), n in counted.items() if found == run}, summary
        return by_run


def reconcile_rule(cloud: LocalCloud) -> str:
    (rule,) = [r["Name"] for r in cloud.client("events").list_rules()["Rules"] if r.get("ScheduleExpression")]
    return str(rule)


def test_the_coverage_keeps_every_account_from_deploy_events_and_schedule_and_takes_over_an_unlisted_one(
    engine: Engine, cloud: LocalCloud, tmp_path: Path
) -> None:
    # GIVEN an organization with a unit "payments", a listed account and an account holding a hand-made contact
    log = CoverageLog(cloud)
    organizations, payments, listed = organization_with_payments(cloud)
    old = cloud.create_account("old", "old@example.com")
    contacts = Contacts(cloud)
    contacts.put(old, "SECURITY", BY_HAND)
    cloud.settle()
    structure = read_structure(organizations).to_context()
    versions = synthesized(tmp_path, payments, listed, structure)

    # WHEN the stack with the coverage is deployed
    created = engine.deploy(versions["listed"], COVERED)
    assert created.ok, explain(created)
    cloud.settle(timeout_s=120)
    # THEN the deploy's full run put every ACTIVE unlisted account to the rules, the management account too,
    # and the hand-made contact back (on_drift restore); the listed account is its resource's
    assert contacts.get(old, "SECURITY") == SECURITY and contacts.get(old, "OPERATIONS") == OPERATIONS
    # AND the management account, whose SECURITY a resource of the stack declares, is that resource's: the
    # coverage leaves the whole account to it, as it leaves a listed one (no OPERATIONS either)
    assert contacts.get(DEPLOYING_ACCOUNT, "SECURITY") == MANAGEMENT_SECURITY
    assert contacts.get(DEPLOYING_ACCOUNT, "OPERATIONS") is None
    assert contacts.get(listed, "SECURITY") == LISTED_SECURITY and contacts.get(listed, "OPERATIONS") == OPERATIONS
    assert contacts.get(old, "BILLING") is None  # a type no rule gives is left alone
    # AND the run ended with one summary line counting what its accounts' lines say: the old account written
    # (drifted: its hand-made contact put back), the management and the listed account skipped
    (deploy_run,) = [s for s in log.each_run_summarized_once().values() if s["reason"] == "deploy (Create)"]
    assert (deploy_run["totals"]["drifted"], deploy_run["totals"]["skipped"], deploy_run["incomplete"]) == (1, 2, 0)

    # WHEN an account is created in the organization THEN its CreateAccountResult event gives it the defaults
    fresh = cloud.create_account("fresh", "fresh@example.com")
    cloud.settle()
    assert contacts.get(fresh, "SECURITY") == SECURITY and contacts.get(fresh, "OPERATIONS") == OPERATIONS
    # WHEN it moves into payments THEN MoveAccount gives it the unit's operations contact
    cloud.move_account(fresh, payments)
    cloud.settle()
    assert contacts.get(fresh, "OPERATIONS") == UNIT_OPERATIONS and contacts.get(fresh, "SECURITY") == SECURITY
    # WHEN someone changes it by hand and the reconciliation runs THEN it is put back
    contacts.put(fresh, "OPERATIONS", BY_HAND)
    assert cloud.fire_schedule(reconcile_rule(cloud)) is not None
    cloud.settle(timeout_s=120)
    assert contacts.get(fresh, "OPERATIONS") == UNIT_OPERATIONS
    # AND the scheduled run has its one summary: the account put back under payments' rule
    (scheduled,) = [s for s in log.each_run_summarized_once().values() if s["reason"] == "schedule"]
    assert scheduled["rules"][payments]["drifted"] == 1
    # WHEN an account joins by invitation (AcceptHandshake) or through Control Tower's Account Factory into
    # payments (CreateManagedAccount) THEN each gets what its place in the organization says
    invited = cloud.invite_account("invited", "invited@example.com")
    managed = cloud.create_managed_account("managed", "managed@example.com", payments)
    cloud.settle(timeout_s=120)
    assert contacts.get(invited, "SECURITY") == SECURITY and contacts.get(invited, "OPERATIONS") == OPERATIONS
    assert contacts.get(managed, "OPERATIONS") == UNIT_OPERATIONS
    # AND a suspended account is not written
    closed = cloud.create_account("closed", "closed@example.com")
    cloud.settle()
    contacts.put(closed, "SECURITY", BY_HAND)
    organizations.close_account(AccountId=closed)
    cloud.fire_schedule(reconcile_rule(cloud))
    cloud.settle(timeout_s=120)
    assert contacts.get(closed, "SECURITY") == BY_HAND

    # WHEN the listed account leaves [[accounts]] THEN its resource's Delete removes its contacts and hands it
    # over: the coverage gives it the defaults (SECURITY is the default's now, not the entry's)
    updated = engine.deploy(versions["unlisted"], COVERED)
    assert updated.ok, explain(updated)
    cloud.settle(timeout_s=120)
    assert contacts.get(listed, "SECURITY") == SECURITY and contacts.get(listed, "OPERATIONS") == OPERATIONS
    # AND every run so far (deploys, events, schedules, the hand-over: a run of one) was summarized once
    reasons = Counter(s["reason"] for s in log.each_run_summarized_once().values())
    assert (reasons["deploy (Create)"], reasons["schedule"], reasons["hand-over from a deleted resource"]) == (1, 2, 1)

    # WHEN the stack is destroyed THEN the covered accounts keep their contacts
    destroyed = engine.destroy(COVERED)
    assert destroyed.ok, explain(destroyed)
    cloud.settle()
    assert contacts.get(fresh, "OPERATIONS") == UNIT_OPERATIONS and contacts.get(old, "SECURITY") == SECURITY


def test_a_coverage_of_a_unit_writes_only_under_it_and_its_role_may_not_write_elsewhere(
    engine: Engine, cloud: LocalCloud, tmp_path: Path
) -> None:
    # GIVEN an account inside the unit and one outside it, and the coverage of that unit only
    log = CoverageLog(cloud)
    organizations, payments, listed = organization_with_payments(cloud)
    inside = cloud.create_account("inside", "inside@example.com", parent_id=payments)
    outside = cloud.create_account("outside", "outside@example.com")
    cloud.settle()
    versions = synthesized(tmp_path, payments, listed, read_structure(organizations).to_context(), ("unit",))
    # WHEN deployed (its full run) THEN the unit's account has the rules, the other none, and no call was denied
    # (the engine gives each Account API call its account's organization path, as AWS does)
    created = engine.deploy(versions["unit"], COVERED)
    assert created.ok, explain(created)
    cloud.settle(timeout_s=120)
    contacts = Contacts(cloud)
    assert contacts.get(inside, "OPERATIONS") == UNIT_OPERATIONS and contacts.get(inside, "SECURITY") == SECURITY
    assert contacts.get(outside, "SECURITY") is None and contacts.get(outside, "OPERATIONS") is None
    (deploy_run,) = log.each_run_summarized_once().values()
    assert deploy_run["totals"]["written"] == 1  # the unit's account; the outside one is no part of the run
    # WHEN the outside account moves into the unit THEN it is covered from then on
    cloud.move_account(outside, payments)
    cloud.settle()
    assert contacts.get(outside, "OPERATIONS") == UNIT_OPERATIONS
    assert engine.destroy(COVERED).ok
