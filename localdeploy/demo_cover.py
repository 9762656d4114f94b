"""The demo's COVER step: a coverage added to app.py's data file, then the organization's own events at work.

The data file is ``examples/accounts-updated.toml`` (the UPDATE step's) with two additions, written here
because an organizational unit's id is made by moto only at run time:

- ``[[organizational_units]]``: unit ``payments``, made in moto's Organizations, whose rule gives its
  accounts another OPERATIONS contact (email and name; phone and title from the default);
- ``[coverage]``: every ACTIVE unlisted account of the organization, kept with the defaults and the rule.

With units' rules, synth needs the organization's structure in the CDK context: it is read from moto as
``cdk-alternate-contacts lookup`` reads it (``read_structure``). moto cannot hold accounts with chosen ids, so
the data file's fixed-id accounts are recorded at the root, where no unit's rule reaches them.

After the deploy (an update of the same stack, whose new run trigger starts a full run), an account is created
outside the data file (CreateAccountResult), moved into the unit (MoveAccount), and has a contact changed by
hand that the scheduled reconciliation puts back. The accounts whose contacts app.py declares in code (the
management account, the experiments account the stack vends) are not in the data file: the stack's other
resources own them, so the synthesized ``OwnedAccounts`` parameter lists them and the coverage leaves them
alone, as it leaves the file's listed accounts. What it must hold at each point is worked out from the
data file (:meth:`.demo_model.Model.covered`), not from the constructs.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from cdk_alternate_contacts.structure import CONTEXT_KEY
from cdk_alternate_contacts_cli.cloud_assembly import CloudAssembly
from cdk_alternate_contacts_cli.lookup import read_structure
from cdk_alternate_contacts_handler import spec

from .cloud import LocalCloud
from .contacts import Details, Slot, account_client, put_contacts
from .demo_model import STACK, Checks, Model, check_contacts, check_step, differences, read_model
from .demo_view import View, coverage_reports, render_events, render_report, shown_path
from .engine import Engine, OperationResult

#: The organizational unit the demo makes, and its rule: the payments team's on-call for OPERATIONS.
UNIT_NAME = "payments"
UNIT_OPERATIONS = {"email_address": "payments-ops@example.com", "name": "Payments on-call"}

#: The account created in the organization outside the data file.
NEWCOMER_NAME, NEWCOMER_EMAIL = "analytics", "aws-analytics@example.com"

#: A contact someone sets by hand in the console.
BY_HAND: Details = {
    "EmailAddress": "someone@example.com",
    "Name": "Set by hand",
    "PhoneNumber": "+1 206 555 0199",
    "Title": "Whoever",
}

#: The coverage's function runs a full run in a few batches: allow it more than one event's delivery.
RUN_TIMEOUT_S = 120.0

#: The type the demo changes by hand, and that the unit's rule gives.
CHANGED = "OPERATIONS"


def cover_tables(unit_id: str) -> str:
    """The TOML the COVER step adds to the UPDATE step's data file."""
    lines = ["", "# Added by `make demo` for its COVER step (the unit's id is made by moto at run time)."]
    lines += ["", "[[organizational_units]]", f'id = "{unit_id}"', f'name = "{UNIT_NAME}"']
    lines.append("# Phone number and title come from the default.")
    lines.append("[organizational_units.overrides.operations]")
    lines += [f"{key} = {json.dumps(value)}" for key, value in UNIT_OPERATIONS.items()]
    lines += ["", "[coverage]", 'accounts = "all"', 'reconcile = "rate(1 day)"', 'on_drift = "restore"', ""]
    return "\n".join(lines)


@dataclass(frozen=True)
class CoverPlan:
    """The COVER step's data file, the model read from it and the context to synthesize it with.

    Attributes
    ----------
    file, model:
        The data file written, and what it says.
    unit_id:
        The organizational unit made in moto.
    context:
        ``-c`` values for app.py: ``accounts_file`` and the organization's structure.
    kept_in_code:
        The accounts whose contacts app.py declares in code (not in the data file: the coverage must leave
        them to the stack's resources that own them).
    at_root:
        The data file's accounts that moto does not hold, recorded at the root of the structure.
    """

    file: Path
    model: Model
    unit_id: str
    context: dict[str, str]
    kept_in_code: dict[str, str]
    at_root: list[str]


def prepare(cloud: LocalCloud, workdir: Path, base: Path, kept_in_code: Mapping[str, str]) -> CoverPlan:
    """Make the unit in moto's Organizations, write the data file and read the organization's structure."""
    organizations = cloud.client("organizations")
    root = organizations.list_roots()["Roots"][0]["Id"]
    unit = organizations.create_organizational_unit(ParentId=root, Name=UNIT_NAME)["OrganizationalUnit"]["Id"]
    path = workdir / "accounts-covered.toml"
    path.write_text(base.read_text(encoding="utf-8") + cover_tables(unit), encoding="utf-8")
    looked_up = read_structure(organizations)
    listed = read_model(path).contacts
    at_root = sorted(account for account in listed if account not in looked_up.parents)
    structure = replace(looked_up, parents={**dict.fromkeys(at_root, looked_up.root_id), **looked_up.parents})
    model = read_model(path, {account: structure.path_of(account) or () for account in listed})
    context = {"accounts_file": str(path), CONTEXT_KEY: json.dumps(structure.to_context())}
    return CoverPlan(path, model, unit, context, dict(kept_in_code), at_root)


@dataclass(frozen=True)
class Covered:
    """What the COVER step left: its deploy, the account created outside the file and its contacts."""

    deployed: OperationResult
    newcomer: str
    newcomer_contacts: dict[Slot, Details]


def reconcile_rule(cloud: LocalCloud) -> str:
    """The coverage's scheduled rule (the only rule with a ScheduleExpression); empty when there is none."""
    rules = [r["Name"] for r in cloud.client("events").list_rules()["Rules"] if r.get("ScheduleExpression")]
    return str(rules[0]) if len(rules) == 1 else ""


def slots_of(account: str, contacts: Mapping[str, Details]) -> dict[Slot, Details]:
    """One account's contacts (type -> details) by slot."""
    return {(account, kind): details for kind, details in contacts.items()}


class _Walk:
    """Prints what happened since the last look (events, the coverage function's reports) and checks it."""

    def __init__(self, cloud: LocalCloud, view: View, checks: Checks, names: Mapping[str, str]) -> None:
        self.cloud, self.view, self.checks, self.names = cloud, view, checks, names
        #: The name of the coverage's queue, once the deploy's run trigger has answered with it.
        self.queue = ""
        self.events = len(cloud.events.bus.events)
        self.reports = len(coverage_reports(cloud.functions.log_files()))

    def happened(self) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """Print, and return, the events sent and the coverage's reports since the last call."""
        bus = self.cloud.events.bus
        events = bus.events[self.events :]
        reports = coverage_reports(self.cloud.functions.log_files())
        for line in render_events(events, bus.deliveries):
            self.view.out(line)
        for record in reports[self.reports :]:
            self.view.out(render_report(record, self.names))
        self.events, new = len(bus.events), reports[self.reports :]
        self.reports = len(reports)
        return events, new

    def delivered(self, events: list[dict[str, Any]], name: str) -> bool:
        """Whether an event named ``name`` (its API name or detail type) reached the coverage's queue."""
        ids = {e["id"] for e in events if name in ((e.get("detail") or {}).get("eventName"), e.get("detail-type"))}
        deliveries = self.cloud.events.bus.deliveries
        return bool(self.queue) and any(
            d.ok and d.event_id in ids and d.target_arn.split(":")[2:3] == ["sqs"] and d.target_arn.endswith(self.queue)
            for d in deliveries
        )

    def step(
        self,
        number: str,
        claim: str,
        event: tuple[str, str],
        account: str,
        expected: Mapping[Slot, Details],
        *,
        meaningful: bool = True,
    ) -> None:
        """After one step: what happened, the account read back, and the check that the event (its name, and
        how to say it) reached the coverage's queue and that every account holds exactly ``expected``
        (``meaningful``: the step's expectation differs from the one before, else it shows nothing)."""
        events, _ = self.happened()
        live = self.view.contacts([account])
        found = differences(live, expected)
        reached = self.delivered(events, event[0])
        self.checks.check(
            f"cover {number}: {claim} ({event[1]} reached the coverage's queue); every other account as before "
            f"({len(expected)} contacts)",
            meaningful and reached and not found,
            found
            or ("" if reached else f"no {event[0]} delivered to {self.queue or 'the coverage queue'}")
            or "the data file gives this step nothing to change",
        )


def cover(
    *,
    cloud: LocalCloud,
    engine: Engine,
    view: View,
    checks: Checks,
    plan: CoverPlan,
    synthesized: tuple[CloudAssembly, float],
    declared: Mapping[Slot, Details],
    names: dict[str, str],
) -> Covered:
    """Deploy the coverage, then follow one account from its creation through a move and a change by hand.

    ``synthesized`` is app.py synthesized with ``plan.context``, and how long that took; ``declared`` is what
    app.py's code gives the accounts it keeps (the management and vended accounts).
    """
    assembly, synth_s = synthesized
    out, model = view.out, plan.model
    view.heading("COVER")
    out(f"  organizational unit {UNIT_NAME} made in moto's Organizations: {plan.unit_id}")
    out(f"  data file {shown_path(plan.file)}: the UPDATE's file, plus")
    kept = ", ".join(f"{account} {label}" for account, label in sorted(plan.kept_in_code.items()))
    out(f"    [[organizational_units]] {plan.unit_id} ({UNIT_NAME}): OPERATIONS email and name (phone, title: default)")
    out(f"    [coverage] {', '.join(f'{key} = {json.dumps(value)}' for key, value in (model.coverage or {}).items())}")
    out(
        f"  {kept}: not in the data file; app.py's code declares their contacts, so the template's OwnedAccounts "
        "parameter names them and the coverage leaves them to those resources"
    )
    out(
        f"  organization structure in -c {CONTEXT_KEY}: read from moto as `cdk-alternate-contacts lookup` reads "
        f"it; the file's {len(plan.at_root)} fixed-id accounts, which moto cannot hold, recorded at the root"
    )
    out(f"  synthesized: {shown_path(assembly.directory)} in {synth_s:.1f} s (while UPDATE deployed)")
    out(
        f"  the deploy creates the coverage's run trigger ({spec.COVERAGE_RESOURCE_TYPE}), whose Create starts a "
        "full run; the coverage function logs one line per account: written (it had no contact), drifted (it "
        "differed from the rules: put back, on_drift = 'restore'), in_sync, skipped (and why)"
    )
    expected = {**declared, **model.slots()}
    names[plan.unit_id] = UNIT_NAME  # the reports name a unit's rule by its id
    walk = _Walk(cloud, view, checks, names)

    # The deploy: an update of the stack, and the full run its new run trigger starts.
    deployed = engine.deploy(assembly, STACK)
    cloud.settle(RUN_TIMEOUT_S)
    view.operation(deployed)
    trigger = [str(r.answered_physical_id) for r in deployed.requests if r.resource_type == spec.COVERAGE_RESOURCE_TYPE]
    walk.queue = trigger[0].removeprefix("coverage/") if trigger else ""
    _, full_run = walk.happened()
    live = view.contacts()
    # The listed accounts' nested stack is not touched: its contacts are the same.
    check_step(checks, "cover", deployed, "UPDATE_COMPLETE", nested_stacks=False)
    checks.check(
        "cover: the deploy sent one request, the Create of the coverage's run trigger (the listed accounts' "
        "contacts are unchanged)",
        [(r.request_type, r.resource_type) for r in deployed.requests] == [("Create", spec.COVERAGE_RESOURCE_TYPE)],
        "; ".join(f"{r.request_type} {r.logical_id}" for r in deployed.requests),
    )
    left = {str(r["account"]) for r in full_run if r["outcome"] == "skipped" and str(r["why"]).startswith("listed")}
    checks.check(
        "cover: the deploy's full run left the accounts app.py keeps in code to their resources (listed: skipped)",
        bool(full_run) and set(plan.kept_in_code) <= left and all(r["outcome"] == "skipped" for r in full_run),
        "; ".join(f"{r['account']}: {r['outcome']}" for r in full_run) or "no report",
    )
    check_contacts(
        checks, "cover", live, expected, name="after the deploy, the accounts hold what the data file and app.py say"
    )
    out("")

    # 1. An account created in the organization, outside the data file.
    out(f"  -- 1. CreateAccount {NEWCOMER_NAME}: a new account of the organization, not in the data file")
    newcomer = cloud.create_account(NEWCOMER_NAME, NEWCOMER_EMAIL)
    names[newcomer] = f"{NEWCOMER_NAME} (not in the data file)"
    view.accounts.add(newcomer)
    view.slots.update((newcomer, kind) for kind in spec.CONTACT_TYPES)
    cloud.settle()
    got = slots_of(newcomer, model.covered())
    walk.step(
        "1",
        f"{NEWCOMER_NAME}, created outside the data file, got the defaults",
        ("CreateAccountResult", "its CreateAccountResult event"),
        newcomer,
        {**expected, **got},
    )

    # 2. Moved into the unit with a rule.
    out(f"  -- 2. MoveAccount {NEWCOMER_NAME} into {UNIT_NAME} ({plan.unit_id})")
    cloud.move_account(newcomer, plan.unit_id)
    cloud.settle()
    defaults, got = got, slots_of(newcomer, model.covered((plan.unit_id,)))
    # The rule must give another contact than the default, or this step would show nothing.
    differs = got.get((newcomer, CHANGED)) != defaults.get((newcomer, CHANGED))
    walk.step(
        "2",
        f"moved into {UNIT_NAME}, {NEWCOMER_NAME} got the unit's {CHANGED}",
        ("MoveAccount", "its MoveAccount event"),
        newcomer,
        {**expected, **got},
        meaningful=differs,
    )

    # 3. A contact changed by hand, put back by the scheduled reconciliation.
    out(f"  -- 3. PutAlternateContact {CHANGED} of {NEWCOMER_NAME} by hand, then the schedule fires")
    put_contacts(account_client(cloud.moto.endpoint), {(newcomer, CHANGED): BY_HAND})
    by_hand = view.contacts([newcomer], title="after the change by hand, read back")
    rule = reconcile_rule(cloud)
    fired = cloud.fire_schedule(rule) if rule else None
    out(f"  fired the schedule of rule {rule or '(none found)'}")
    cloud.settle(RUN_TIMEOUT_S)
    checks.check(
        f"cover 3: the change by hand held until the reconciliation ({CHANGED} read back as set by hand)",
        fired is not None and spec.same_contact(by_hand.get((newcomer, CHANGED), {}), BY_HAND),
    )
    walk.step(
        "3",
        f"the reconciliation put {NEWCOMER_NAME}'s {CHANGED} back",
        ("Scheduled Event", "the schedule's Scheduled Event"),
        newcomer,
        {**expected, **got},
    )
    out("")
    return Covered(deployed, newcomer, got)
