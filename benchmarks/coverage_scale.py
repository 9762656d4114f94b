#!/usr/bin/env python3
"""A coverage's full run at the Account API's quotas: a scale model of a 10,000-account organization.

What runs: tests/e2e/apps/coverage_app.py (defaults for SECURITY and OPERATIONS, one unit's rule, one listed
account, ``[coverage]`` of every account), synthesized with the pinned CDK CLI for an organization made in
moto (``--accounts`` members spread over ``--units`` organizational units), deployed by the local engine,
whose Lambda service runs the coverage function's synthesized asset under awslambdaric, fed by its SQS queue
through the event source mapping (at most 2 batches at once, as synthesized). In front of moto, the Account
API's documented quotas (Put 5/s burst 8, Get 10/s burst 15), scaled by ``--quota-scale`` for a quicker model.

Two runs are timed:

- the deploy's first run (every account written: per contact a Get, a Put and the Get that confirms it);
- a scheduled reconciliation right after (every contact in sync: a Get each).

Printed per run: accounts applied, their outcomes, total time against the quota's floor (the Gets and Puts
accepted over their quota's rate), the 429s, the longest invocation against the function's timeout (120 s),
records delivered again (partial batch failures); whether each run's ledger printed exactly one summary line
whose totals equal its account lines; messages left in the dead-letter queue; then the same arithmetic for
10,000 accounts at the documented quotas.

    python benchmarks/coverage_scale.py                      # 300 accounts at the documented quotas, ~4 min
    python benchmarks/coverage_scale.py --accounts 2000 --quota-scale 10
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from cdk_alternate_contacts_cli.lookup import read_structure  # noqa: E402
from localdeploy.assembly import synth  # noqa: E402
from localdeploy.cloud import LocalCloud  # noqa: E402
from localdeploy.quotas import DOCUMENTED_QUOTAS, Quota  # noqa: E402

APP = REPO / "tests" / "e2e" / "apps" / "coverage_app.py"
STACK = "E2eCovered"
FUNCTION_TIMEOUT_S = 120.0
FULL_SIZE = 10_000


def organization(cloud: LocalCloud, accounts: int, units: int) -> tuple[str, str, dict[str, object]]:
    """Members spread over ``units`` units (the first one has the rule); returns the unit, a listed account
    and the structure as the lookup records it."""
    cloud.wait_bootstrapped()  # the organization is made in the background as the cloud starts
    client = cloud.client("organizations")
    root = client.list_roots()["Roots"][0]["Id"]
    unit_ids = [
        client.create_organizational_unit(ParentId=root, Name=f"unit{i}")["OrganizationalUnit"]["Id"]
        for i in range(units)
    ]
    listed = ""
    for index in range(accounts):
        status = client.create_account(Email=f"member{index}@example.com", AccountName=f"member{index}")
        account = status["CreateAccountStatus"]["AccountId"]
        listed = listed or account
        target = unit_ids[index % len(unit_ids)] if unit_ids else root
        if target != root:
            client.move_account(AccountId=account, SourceParentId=root, DestinationParentId=target)
    return unit_ids[0], listed, read_structure(client).to_context()


@dataclass
class Run:
    """What one run did: from the quota front's counts, the mapping's batches and the function's log lines."""

    name: str
    seconds: float
    accepted: dict[str, int]
    throttled: dict[str, int]
    longest_invocation: float
    batches: int
    delivered_again: int
    outcomes: Counter[str] = field(default_factory=Counter)

    @property
    def floor(self) -> float:
        """The quota's floor: the accepted Gets and Puts at their quota's rate (the documented one, scaled)."""
        return max(
            self.accepted.get("GetAlternateContact", 0) / QUOTAS["GetAlternateContact"].rate_per_s,
            self.accepted.get("PutAlternateContact", 0) / QUOTAS["PutAlternateContact"].rate_per_s,
        )

    def show(self) -> None:
        ratio = self.seconds / self.floor if self.floor else float("nan")
        print(f"{self.name}: {sum(self.outcomes.values())} accounts applied {dict(self.outcomes)}")
        print(f"  {self.seconds:.1f} s, floor {self.floor:.1f} s (x{ratio:.2f})")
        print(f"  calls accepted {self.accepted}, 429s {self.throttled}")
        print(
            f"  longest invocation {self.longest_invocation:.1f} s of {FUNCTION_TIMEOUT_S:.0f} s; "
            f"{self.batches} batches, {self.delivered_again} records delivered again"
        )

    def at_full_size(self, members: int) -> str:
        """The same run for 10,000 accounts at the documented quotas, at the ratio measured here."""
        gets = self.accepted.get("GetAlternateContact", 0) / members * FULL_SIZE
        puts = self.accepted.get("PutAlternateContact", 0) / members * FULL_SIZE
        floor = max(
            gets / DOCUMENTED_QUOTAS["GetAlternateContact"].rate_per_s,
            puts / DOCUMENTED_QUOTAS["PutAlternateContact"].rate_per_s,
        )
        ratio = self.seconds / self.floor if self.floor else 1.0
        return (
            f"{FULL_SIZE:,} accounts, {self.name}: {gets:,.0f} Gets, {puts:,.0f} Puts: floor {floor / 60:.0f} min, "
            f"x{ratio:.2f} as measured: {floor * ratio / 60:.0f} min"
        )


#: The quotas in force (the documented ones times --quota-scale), set by main().
QUOTAS: dict[str, Quota] = dict(DOCUMENTED_QUOTAS)


def measure(cloud: LocalCloud, name: str, started: float, first_batch: int) -> Run:
    """The run that began at ``started`` and whose batches start at ``first_batch``, once settled."""
    assert cloud.quotas is not None
    counts = cloud.quotas.counts()
    (mapping,) = cloud.events.pollers.mappings()
    batches = mapping.batches[first_batch:]
    durations = [
        a.ended_at - a.started_at for b in batches if b.invocation for a in b.invocation.attempts if a.ended_at
    ]
    return Run(
        name=name,
        seconds=time.monotonic() - started,
        accepted={op: len(c.accepted_at) for op, c in counts.items()},
        throttled={op: c.throttled for op, c in counts.items() if c.throttled},
        longest_invocation=max(durations, default=0.0),
        batches=len(batches),
        delivered_again=sum(len(b.message_ids) - len(b.deleted) for b in batches),
    )


def log_lines(cloud: LocalCloud) -> list[dict[str, object]]:
    """The coverage function's JSON lines: one per account applied (``{"run": ...}``) and one per run
    (``{"summary": ...}``, the run ledger's)."""
    lines: list[dict[str, object]] = []
    for path in cloud.functions.log_files():
        if "OrganizationCoverage" not in str(path):
            continue
        for line in path.read_text().splitlines():
            text = line.split("\t")[-1]
            if text.startswith(('{"run"', '{"summary"')):
                lines.append(json.loads(text))
    return lines


def outcomes_by_run(cloud: LocalCloud) -> dict[str, Counter[str]]:
    """The account lines, counted by run id and outcome."""
    runs: dict[str, Counter[str]] = {}
    for record in log_lines(cloud):
        if "summary" not in record:
            runs.setdefault(str(record["run"]), Counter())[str(record["outcome"])] += 1
    return runs


def summaries_by_run(cloud: LocalCloud) -> dict[str, list[dict[str, object]]]:
    """The run ledger's summary lines, by run id (a run must have exactly one)."""
    runs: dict[str, list[dict[str, object]]] = {}
    for record in log_lines(cloud):
        if "summary" in record:
            runs.setdefault(str(record["run"]), []).append(record)
    return runs


def check_summaries(cloud: LocalCloud, runs: dict[str, Counter[str]]) -> str:
    """One summary line per run whose totals are what its account lines count; the line that says so."""
    summaries = summaries_by_run(cloud)
    problems = []
    for run, outcomes in runs.items():
        found = summaries.get(run, [])
        if len(found) != 1:
            problems.append(f"run {run}: {len(found)} summary lines")
            continue
        totals = found[0]["totals"]
        assert isinstance(totals, dict)
        if any(totals.get(outcome, 0) != count for outcome, count in outcomes.items()):
            problems.append(f"run {run}: summary {totals} but account lines {dict(outcomes)}")
    if problems:
        return "run summaries WRONG: " + "; ".join(problems)
    seconds = ", ".join(f"{found[0]['seconds']} s" for run, found in summaries.items() if run in runs)
    return f"run summaries: one per run, totals equal to the account lines (runs took {seconds} by the ledger)"


def dead_letters(cloud: LocalCloud) -> int:
    """Messages in the coverage's dead-letter queue."""
    sqs = cloud.client("sqs")
    for url in sqs.list_queues().get("QueueUrls", []):
        if "DeadLetters" in url:
            attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])
            return int(attributes["Attributes"]["ApproximateNumberOfMessages"])
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--accounts", type=int, default=300, help="member accounts (default 300)")
    parser.add_argument("--units", type=int, default=5, help="organizational units they are spread over (default 5)")
    parser.add_argument("--quota-scale", type=float, default=1.0, help="multiply the documented quotas (default 1)")
    parser.add_argument("--workdir", default=None, help="scratch folder (default: a temporary one)")
    arguments = parser.parse_args()
    scale = arguments.quota_scale
    QUOTAS.update(
        {name: Quota(q.rate_per_s * scale, max(1, int(q.burst * scale))) for name, q in DOCUMENTED_QUOTAS.items()}
    )
    workdir = Path(arguments.workdir or tempfile.mkdtemp(prefix="coverage-scale-"))
    with LocalCloud(workdir / "cloud", concurrency=2, account_quotas=QUOTAS) as cloud:
        made = time.monotonic()
        unit, listed, structure = organization(cloud, arguments.accounts, arguments.units)
        print(
            f"organization: {arguments.accounts} members in {arguments.units} units ({time.monotonic() - made:.1f} s)"
        )
        # The structure goes in a file: for 10,000 accounts it is longer than a command line may be.
        structure_file = workdir / "structure.json"
        structure_file.write_text(json.dumps(structure), encoding="utf-8")
        context = {"unit": unit, "listed": listed, "version": "listed", "structure_file": str(structure_file)}
        assembly = synth(workdir / "assembly", app=f"{sys.executable} {APP}", context=context)
        engine = cloud.engine(workdir / "state")
        assert cloud.quotas is not None
        cloud.quotas.reset()
        started = time.monotonic()
        result = engine.deploy(assembly, STACK)
        if not result.ok:
            print(f"deploy failed: {result.stack_status}", file=sys.stderr)
            return 1
        cloud.settle(timeout_s=6 * 3600)
        first = measure(cloud, "first run (deploy)", started, 0)
        first_runs = outcomes_by_run(cloud)
        first.outcomes = sum(first_runs.values(), Counter())

        (mapping,) = cloud.events.pollers.mappings()
        seen = len(mapping.batches)
        cloud.quotas.reset()
        rule = next(r["Name"] for r in cloud.client("events").list_rules()["Rules"] if r.get("ScheduleExpression"))
        started = time.monotonic()
        cloud.fire_schedule(rule)
        cloud.settle(timeout_s=6 * 3600)
        second = measure(cloud, "reconciliation (schedule)", started, seen)
        second.outcomes = sum((c for run, c in outcomes_by_run(cloud).items() if run not in first_runs), Counter())
        first.show()
        second.show()
        print(check_summaries(cloud, outcomes_by_run(cloud)))
        print(f"dead-letter queue: {dead_letters(cloud)} messages")
        members = arguments.accounts + 1  # the management account is covered too
        for run in (first, second):
            print(run.at_full_size(members))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
