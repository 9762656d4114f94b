"""The main job (``make demo``): deploy, update, cover and destroy app.py on this machine, and check the outcome.

app.py is an account-vending app: the management account's own contacts, every member account's from a
data file (``OrganizationContacts``: defaults, per-account overrides and opt-outs, accounts spread over
nested stacks that share the parent's one provider function), and an experiments account that the stack
vends itself (``AWS::Organizations::Account``, created in moto's Organizations) with its contacts. Steps,
each followed by an account of the CloudFormation requests sent and of the contacts read back:

DEPLOY
    app.py as it is, with ``examples/accounts.toml``: the parent stack and its nested stacks are created,
    the experiments account is created and its contacts are put under its new id.
UPDATE
    ``-c accounts_file=examples/accounts-updated.toml``: one account's override changes (an in-place
    Update), one account opts out of one more type (a new identity: its old identity's Delete, in the
    cleanup phase, removes that type only), and an account is added (a Create). The vended account and
    its contacts are left alone.
COVER
    The UPDATE's data file with an organizational unit's rule and ``[coverage]`` (:mod:`.demo_cover`), with
    the organization's structure in the context: the coverage is deployed (an update of the same stack), then
    an account created outside the data file gets the defaults (CreateAccountResult), moved into the unit it
    gets the unit's rule (MoveAccount), and a contact changed by hand is put back by the schedule's run.
DESTROY
    Every contact of the stack is deleted, nested stacks included; the vended account's contacts before
    CloudFormation closes that account. The account the coverage kept keeps its contacts.

What the accounts must hold after each step is worked out here from the data files themselves (defaults,
units' rules and overrides field by field, opt-outs; :mod:`.demo_model`), not from the constructs, so the
check covers the whole way from the file to the Account API. The exit code is 0 only if every check holds.
"""

from __future__ import annotations

import re
import shutil
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from cdk_alternate_contacts_cli.cloud_assembly import CloudAssembly
from cdk_alternate_contacts_handler import spec

from .assembly import synth
from .cloud import LocalCloud
from .contacts import account_client
from .demo_cover import BY_HAND, cover, prepare
from .demo_model import (
    ACCOUNTS_FILE,
    STACK,
    UPDATE_CONTEXT,
    UPDATED_FILE,
    Checks,
    Vended,
    check_contacts,
    check_step,
    describe_account,
    differences,
    identity,
    management_contacts,
    read_model,
    requests_by_account,
    vended_accounts,
)
from .demo_view import View, shown_path
from .moto import DEPLOYING_ACCOUNT
from .report import Progress


def run(workdir: Path, *, concurrency: int, out: Callable[[str], None] = print) -> int:
    """Run the demo; returns the process exit code (0: every check held)."""
    started = time.monotonic()
    shutil.rmtree(workdir, ignore_errors=True)
    workdir.mkdir(parents=True)
    checks = Checks()
    out("localdeploy demo: app.py (account vending) deployed, updated, given a coverage of the organization and")
    out("destroyed through the synthesized Lambda assets, against moto_server (Account API, Organizations), a local")
    out("HTTPS ResponseURL listener, a local CloudFormation with nested stacks and EventBridge, SQS and Lambda's")
    out("event source mapping.\n")

    with ThreadPoolExecutor(max_workers=2) as pool:
        # Both syntheses at once: the CLI and jsii spend most of their time starting up.
        first = pool.submit(synth, workdir / "cdk.out.deploy")
        second = pool.submit(synth, workdir / "cdk.out.update", context=UPDATE_CONTEXT)
        with LocalCloud(workdir / "cloud", concurrency=concurrency, answer_timeout_cap_s=120) as cloud:
            deploy_assembly, update_assembly = first.result(), second.result()
            out(f"synthesized with the pinned CDK CLI in {time.monotonic() - started:.1f} s:")
            out(f"  {shown_path(deploy_assembly.directory)}  (accounts from {shown_path(ACCOUNTS_FILE)})")
            out(f"  {shown_path(update_assembly.directory)}  (-c accounts_file={UPDATE_CONTEXT['accounts_file']})")
            out("  (COVER's assembly is synthesized while UPDATE deploys: its data file needs ids made at run time)")
            out(
                f"emulators: moto_server {cloud.moto.endpoint}, "
                f"ResponseURL listener https://127.0.0.1:{cloud.responses.port}, "
                f"CloudFormation API {cloud.cfn_api.endpoint}, "
                f"IAM front {cloud.iam.endpoint if cloud.iam else '(off)'} (every call of the function is "
                "authorized against its role's policy as CloudFormation has it at that step)"
            )
            out(
                f"Lambda runtime: awslambdaric in {shown_path(cloud.lambda_python.parent.parent)} "
                f"(boto3 and awslambdaric only), up to {concurrency} execution environments\n"
            )
            steps(
                cloud=cloud,
                workdir=workdir,
                deploy_assembly=deploy_assembly,
                update_assembly=update_assembly,
                checks=checks,
                out=out,
            )
    return verdict(checks, time.monotonic() - started, out)


def verdict(checks: Checks, elapsed_s: float, out: Callable[[str], None] = print) -> int:
    """Print every check and the verdict; returns the process exit code (0: every check held, else 1)."""
    out("\nchecks:")
    for name, passed, detail in checks.results:
        out(f"  {'ok  ' if passed else 'FAIL'} {name}{'' if passed or not detail else f' ({detail})'}")
    if checks.results and not checks.failed:
        out(
            f"\nVERDICT: PASS, all {len(checks.results)} checks held: deploy, update (in place, a type removed, an "
            "account added), cover (an account created outside the data file, moved into a unit with a rule, "
            "changed by hand and put back), destroy (the covered account kept its contacts) and the stack's own "
            f"vended account ended as the data files and app.py say, every request answered once ({elapsed_s:.1f} s)"
        )
        return 0
    out(f"\nVERDICT: FAIL, {len(checks.failed)} of {len(checks.results)} checks failed ({elapsed_s:.1f} s)")
    return 1


def _timed_synth(outdir: Path, context: Mapping[str, str]) -> tuple[CloudAssembly, float]:
    started = time.monotonic()
    return synth(outdir, context=context), time.monotonic() - started


def steps(
    *,
    cloud: LocalCloud,
    workdir: Path,
    deploy_assembly: CloudAssembly,
    update_assembly: CloudAssembly,
    checks: Checks,
    out: Callable[[str], None],
) -> None:
    """DEPLOY, UPDATE, COVER and DESTROY with their checks, on a running local cloud (the tests call this too).

    ``workdir`` holds the stack states, the COVER step's data file and its synthesized assembly.
    """
    assert cloud.iam is not None, "the demo runs under IAM"
    judged_from = len(cloud.iam.decisions)
    engine = cloud.engine(workdir / "state")
    engine.on_event = Progress(STACK, out)  # a line every 10 s while an operation runs
    reader = account_client(cloud.moto.endpoint)
    organizations = cloud.client("organizations")
    before, after = read_model(ACCOUNTS_FILE), read_model(UPDATED_FILE)
    own = management_contacts(deploy_assembly, STACK)
    management = {(DEPLOYING_ACCOUNT, kind): details for kind, details in own.items()}
    expected_before = {**management, **before.slots()}
    expected_after = {**management, **after.slots()}
    resources_before = {**{a: t for a, t in before.contacts.items() if t}, DEPLOYING_ACCOUNT: own}
    resources_after = {**{a: t for a, t in after.contacts.items() if t}, DEPLOYING_ACCOUNT: own}
    accounts = {DEPLOYING_ACCOUNT} | set(before.contacts) | set(after.contacts)
    slots = set(expected_before) | set(expected_after)
    names = {DEPLOYING_ACCOUNT: "management (this stack's account)", **before.names, **after.names}
    vended = vended_accounts(deploy_assembly, STACK)
    vended_after = {v.logical_id: v for v in vended_accounts(update_assembly, STACK)}

    out("accounts: " + ", ".join(f"{account} {names[account]}" for account in sorted(accounts)))
    out("accounts the stack vends: " + (", ".join(f"{v.account_name} ({v.logical_id})" for v in vended) or "none"))
    out("")
    view = View(out, reader, accounts, slots)

    def vended_ids() -> dict[str, str]:
        """Each vended account's id, by its resource: known from the stack's state once it was created."""
        state = engine.store.load(STACK)
        listed = state.resources if state is not None else {}
        return {v.logical_id: str(listed[v.logical_id].physical_id) for v in vended if v.logical_id in listed}

    # DEPLOY ------------------------------------------------------------------------------------------
    deployed = engine.deploy(deploy_assembly, STACK)
    created = vended_ids()
    for each in vended:
        account = created.get(each.logical_id, "(not created)")
        names[account] = f"{each.account_name} (vended by this stack)"
        accounts.add(account)
        own_slots = {(account, kind): details for kind, details in each.contacts.items()}
        expected_before.update(own_slots)
        resources_before[account] = each.contacts
        later = vended_after.get(each.logical_id)
        if later is not None:
            expected_after.update({(account, kind): details for kind, details in later.contacts.items()})
            resources_after[account] = later.contacts
        slots.update(expected_before, expected_after)
    live = view.show("DEPLOY", deployed)
    check_step(checks, "deploy", deployed, "CREATE_COMPLETE")
    checks.check(
        "deploy: one Create per account with contacts (none for an account that opts out of every type), "
        "answered <account>/<TYPE>+<TYPE>...",
        sorted((r.request_type, r.answered_physical_id) for r in deployed.requests)
        == sorted(("Create", identity(a, t)) for a, t in resources_before.items()),
        ", ".join(str(r.answered_physical_id) for r in deployed.requests),
    )
    member_requests = [
        r for r in deployed.requests if r.event.get("ResourceProperties", {}).get(spec.ACCOUNT_ID) in before.contacts
    ]
    checks.check(
        "deploy: member accounts' requests carried their nested stack's own StackId, the management account's "
        "and the vended account's the parent's",
        bool(member_requests)
        and all(r.stack_id != deployed.stack_id and r.stack_path for r in member_requests)
        and all(r.stack_id == deployed.stack_id for r in deployed.requests if r not in member_requests),
    )
    checks.check(
        "deploy: the function code run is the synthesized asset (one function for all the nested stacks)",
        len(deployed.code_dirs) == 1
        and all(
            Path(p).parent == deploy_assembly.directory and Path(p).name.startswith("asset.")
            for p in deployed.code_dirs
        ),
        ", ".join(deployed.code_dirs),
    )
    described = {lid: describe_account(organizations, account) for lid, account in created.items()}
    contacts_sent = {
        r.logical_id: r.event.get("ResourceProperties", {}).get(spec.ACCOUNT_ID)
        for r in deployed.requests
        if r.request_type == "Create"
    }
    checks.check(
        f"deploy: the stack vended {len(vended)} account ({', '.join(v.account_name for v in vended)}), ACTIVE in the "
        "organization, and its contacts resource was created with the new account's id",
        bool(vended)
        and all(
            described[v.logical_id].get("Status") == "ACTIVE"
            and described[v.logical_id].get("Name") == v.account_name
            and contacts_sent.get(v.contacts_id) == created[v.logical_id]
            for v in vended
        ),
        "; ".join(f"{lid}: {account.get('Status', 'not found')}" for lid, account in described.items()),
    )
    check_contacts(checks, "deploy", live, expected_before)

    # COVER's data file needs the unit (moto makes its id) and the vended account's id: both exist now. Its
    # synthesis runs while UPDATE deploys.
    kept_in_code = {DEPLOYING_ACCOUNT: "management", **{created[v.logical_id]: v.account_name for v in vended}}
    plan = prepare(cloud, workdir, UPDATED_FILE, kept_in_code)
    pool = ThreadPoolExecutor(max_workers=1)
    cover_synth = pool.submit(_timed_synth, workdir / "cdk.out.cover", plan.context)
    pool.shutdown(wait=False)

    # UPDATE ------------------------------------------------------------------------------------------
    updated = engine.deploy(update_assembly, STACK)
    live = view.show("UPDATE", updated)
    check_step(checks, "update", updated, "UPDATE_COMPLETE", nested_stacks=False)
    requests = requests_by_account(updated)
    old, new = before.contacts, after.contacts
    in_place = sorted(a for a in set(old) & set(new) if old[a] and set(old[a]) == set(new[a]) and old[a] != new[a])
    retyped = sorted(a for a in set(old) & set(new) if old[a] and new[a] and set(old[a]) != set(new[a]))
    added = sorted(a for a in set(new) - set(old) if new[a])
    unchanged = [*sorted(a for a in set(old) & set(new) if old[a] == new[a]), DEPLOYING_ACCOUNT]
    unchanged += [
        created[v.logical_id]
        for v in vended
        if v.logical_id in created and resources_after[created[v.logical_id]] == v.contacts
    ]
    checks.check(
        f"update: changed override ({', '.join(names[a] for a in in_place)}): one Update, same identity",
        bool(in_place)
        and all(
            [(r.request_type, r.physical_id, r.answered_physical_id) for r in requests.get(a, [])]
            == [("Update", identity(a, old[a]), identity(a, new[a]))]
            for a in in_place
        ),
    )
    checks.check(
        f"update: type opted out ({', '.join(names[a] for a in retyped)}): Update to the new identity, then "
        "the old identity's Delete in the cleanup phase",
        bool(retyped)
        and all(
            [(r.phase, r.request_type, r.physical_id, r.answered_physical_id) for r in requests.get(a, [])]
            == [
                ("deploy", "Update", identity(a, old[a]), identity(a, new[a])),
                ("cleanup", "Delete", identity(a, old[a]), identity(a, old[a])),
            ]
            for a in retyped
        ),
    )
    checks.check(
        f"update: account added ({', '.join(names[a] for a in added)}): one Create",
        bool(added)
        and all(
            [(r.request_type, r.answered_physical_id) for r in requests.get(a, [])] == [("Create", identity(a, new[a]))]
            for a in added
        ),
    )
    checks.check(
        f"update: the {len(unchanged)} unchanged accounts got no request",
        not [a for a in unchanged if requests.get(a)],
        ", ".join(a for a in unchanged if requests.get(a)),
    )
    kept = vended_ids()
    checks.check(
        "update: each vended account is the same account (CloudFormation updates one in place, never replaces it)",
        bool(created) and kept == created and not [e for e in updated.events if e.logical_id in created],
        f"before {created}, after {kept}",
    )
    check_contacts(checks, "update", live, expected_after)

    # COVER -------------------------------------------------------------------------------------------
    declared = {slot: details for slot, details in expected_after.items() if slot[0] in kept_in_code}
    covered = cover(
        cloud=cloud,
        engine=engine,
        view=view,
        checks=checks,
        plan=plan,
        synthesized=cover_synth.result(),
        declared=declared,
        names=names,
    )
    trigger = [r.answered_physical_id for r in covered.deployed.requests if r.request_type == "Create"]
    newcomer = names[covered.newcomer]

    # DESTROY -----------------------------------------------------------------------------------------
    destroyed = engine.destroy(STACK)
    cloud.settle()  # the accounts' resources hand their accounts to the coverage as they go
    view.heading("DESTROY")
    view.operation(destroyed)
    view.out(f"  the coverage goes with the stack; removing it changes no account: {newcomer} keeps what it was given")
    live = view.contacts()
    view.out("")
    check_step(checks, "destroy", destroyed, "DELETE_COMPLETE")
    checks.check(
        "destroy: one Delete per resource, the coverage's run trigger's included",
        sorted((r.request_type, r.physical_id) for r in destroyed.requests)
        == sorted([("Delete", identity(a, t)) for a, t in resources_after.items()] + [("Delete", p) for p in trigger]),
    )
    order = [(e.logical_id, e.status) for e in destroyed.events]

    def deleted_before_closed(each: Vended) -> bool:
        contacts_gone = (each.contacts_id, "DELETE_COMPLETE")
        closing = (each.logical_id, "DELETE_IN_PROGRESS")
        return contacts_gone in order and closing in order and order.index(contacts_gone) < order.index(closing)

    closed = {lid: describe_account(organizations, account).get("Status") for lid, account in kept.items()}
    checks.check(
        "destroy: each vended account's contacts were deleted before CloudFormation deleted the account, which "
        "closed it (SUSPENDED, still in the organization)",
        bool(vended) and all(deleted_before_closed(v) and closed.get(v.logical_id) == "SUSPENDED" for v in vended),
        ", ".join(f"{lid}: {status}" for lid, status in closed.items()),
    )
    still = {slot: details for slot, details in live.items() if slot[0] == covered.newcomer}
    check_contacts(checks, "destroy", {slot: d for slot, d in live.items() if slot not in still}, {})
    found = differences(still, covered.newcomer_contacts)
    checks.check(
        f"destroy: {newcomer}, kept by the coverage, keeps the {len(covered.newcomer_contacts)} contacts it gave "
        "(removing a coverage changes no account)",
        not found,
        found,
    )
    left = engine.store.stack_names()
    checks.check("destroy: no stack state is left (nested stacks' included)", not left, ", ".join(left))

    # ACROSS THE RUN -----------------------------------------------------------------------------------
    operations = (deployed, updated, covered.deployed, destroyed)
    sent = [record.request_id for result in operations for record in result.requests]
    counts = cloud.responses.answer_counts(sent)
    checks.check(
        "every ResponseURL issued got exactly one answer, and nothing else was PUT",
        bool(counts) and all(n == 1 for n in counts.values()) and not cloud.responses.rejected,
        f"{sum(1 for n in counts.values() if n != 1)} of {len(counts)} wrong, {len(cloud.responses.rejected)} rejected",
    )
    judged = cloud.iam.decisions[judged_from:]
    denied = [d.authorization for d in judged if not d.allowed]
    checks.check(
        "IAM allowed every call the functions made (the provider's and the coverage's), each judged by its role's "
        "policy as CloudFormation had it at that step (update, cleanup, destroy)",
        bool(judged) and not denied,
        f"{len(denied)} of {len(judged)} denied: " + "; ".join(f"{d.action} {d.resource}" for d in denied[:3]),
    )
    log = cloud.log_text()
    given = [*expected_before.values(), *expected_after.values(), *plan.model.slots().values(), BY_HAND]
    secrets = {v for details in [*given, *covered.newcomer_contacts.values()] for v in details.values()}
    leaked = sorted(value for value in secrets if value in log and not value.isdigit())
    signatures = [issued.signature for issued in cloud.responses.issued() if issued.signature in log]
    checks.check(
        "the function log holds no contact detail and no ResponseURL signature",
        bool(log) and not leaked and not signatures and not re.search(r"X-Amz-Signature", log),
        f"{len(leaked)} contact details, {len(signatures)} signatures",
    )
    out(f"function log (local CloudWatch Logs): {shown_path(cloud.workdir / 'logs')}")
