"""The main job (``make demo``): deploy, update and destroy app.py on this machine, and check the outcome.

Steps, each followed by an account of the CloudFormation requests sent and of the contacts read back:

DEPLOY
    app.py as it is: SECURITY and OPERATIONS of the deploying account, BILLING of member 111111111111.
UPDATE
    ``-c security_email=security-team@example.com -c member_account=222222222222``: the SECURITY contact
    is updated in place; the BILLING contact moves to another account, which is a replacement whose
    cleanup Delete removes 111111111111's contact.
DESTROY
    Every contact is deleted.

The exit code is 0 only if every check holds.
"""

from __future__ import annotations

import re
import shutil
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cdk_alternate_contacts_handler import spec

from .assembly import REPO, CloudAssembly, synth
from .cloud import LocalCloud
from .contacts import Details, Slot, account_client, read_contacts
from .custom_resources import RequestRecord
from .engine import OperationResult
from .moto import DEPLOYING_ACCOUNT
from .report import render_contacts, render_operation

STACK = "AlternateContactsExample"
UPDATE_CONTEXT = {"security_email": "security-team@example.com", "member_account": "222222222222"}
OLD_MEMBER, NEW_MEMBER = "111111111111", "222222222222"


def shown_path(path: Path) -> Path:
    """A path as the reader knows it: relative to the repository when inside it."""
    return path.relative_to(REPO) if path.is_relative_to(REPO) else path


@dataclass
class Checks:
    """Named checks, each passed or failed with a detail."""

    results: list[tuple[str, bool, str]] = field(default_factory=list)

    def check(self, name: str, passed: bool, detail: str = "") -> bool:
        """Record one check; returns whether it passed."""
        self.results.append((name, passed, detail))
        return passed

    @property
    def failed(self) -> list[tuple[str, bool, str]]:
        """The checks that did not hold."""
        return [result for result in self.results if not result[1]]


def declared_contacts(assembly: CloudAssembly, stack: str) -> dict[str, tuple[Slot, Details]]:
    """Each AlternateContact of the template by construct id: its slot and its declared details."""
    template = assembly.template(stack)
    found: dict[str, tuple[Slot, Details]] = {}
    for resource in template["Resources"].values():
        if resource["Type"] != spec.RESOURCE_TYPE:
            continue
        properties = resource["Properties"]
        construct_id = resource["Metadata"]["aws:cdk:path"].split("/")[1]
        slot = (properties.get(spec.ACCOUNT_ID, DEPLOYING_ACCOUNT), properties[spec.CONTACT_TYPE])
        found[construct_id] = (slot, {key: properties[key] for key in spec.DETAIL_FIELDS})
    return found


def logical_ids(assembly: CloudAssembly, stack: str) -> dict[str, str]:
    """Logical id of each AlternateContact, by construct id."""
    template = assembly.template(stack)
    return {
        resource["Metadata"]["aws:cdk:path"].split("/")[1]: logical_id
        for logical_id, resource in template["Resources"].items()
        if resource["Type"] == spec.RESOURCE_TYPE
    }


def _only(requests: list[RequestRecord]) -> RequestRecord | None:
    return requests[0] if len(requests) == 1 else None


def _check_step(checks: Checks, step: str, result: OperationResult, expected_status: str) -> None:
    checks.check(f"{step}: stack ends {expected_status}", result.status == expected_status, result.status)
    checks.check(
        f"{step}: every request answered SUCCESS exactly once",
        bool(result.requests) and all(r.succeeded and r.answers == 1 for r in result.requests),
        "; ".join(f"{r.request_type} {r.logical_id}: {r.status} x{r.answers}" for r in result.requests),
    )
    checks.check(f"{step}: no problems reported", not result.problems, "; ".join(result.problems))


def _check_contacts(checks: Checks, step: str, live: Mapping[Slot, Details], expected: Mapping[Slot, Details]) -> None:
    missing = sorted(set(expected) - set(live))
    extra = sorted(set(live) - set(expected))
    wrong = sorted(slot for slot in set(expected) & set(live) if not spec.same_contact(expected[slot], live[slot]))
    checks.check(
        f"{step}: the accounts hold exactly the declared contacts",
        not (missing or extra or wrong),
        f"missing {missing}, unexpected {extra}, different {wrong}",
    )


def run(workdir: Path, *, concurrency: int, out: Callable[[str], None] = print) -> int:
    """Run the demo; returns the process exit code (0: every check held)."""
    started = time.monotonic()
    shutil.rmtree(workdir, ignore_errors=True)
    workdir.mkdir(parents=True)
    checks = Checks()
    out("localdeploy demo: app.py deployed, updated and destroyed through the synthesized Lambda asset,")
    out("against moto_server (Account API), a local HTTPS ResponseURL listener and a local CloudFormation.\n")

    with ThreadPoolExecutor(max_workers=2) as pool:
        # Both syntheses at once: the CLI and jsii spend most of their time starting up.
        first = pool.submit(synth, workdir / "cdk.out.deploy")
        second = pool.submit(synth, workdir / "cdk.out.update", context=UPDATE_CONTEXT)
        with LocalCloud(workdir / "cloud", concurrency=concurrency, answer_timeout_cap_s=120) as cloud:
            deploy_assembly, update_assembly = first.result(), second.result()
            out(f"synthesized with the pinned CDK CLI in {time.monotonic() - started:.1f} s:")
            out(f"  {shown_path(deploy_assembly.directory)}  (app defaults)")
            out(
                f"  {shown_path(update_assembly.directory)}  (-c "
                + " -c ".join(f"{k}={v}" for k, v in UPDATE_CONTEXT.items())
                + ")"
            )
            out(
                f"emulators: moto_server {cloud.moto.endpoint}, "
                f"ResponseURL listener https://127.0.0.1:{cloud.responses.port}, "
                f"CloudFormation API {cloud.cfn_api.endpoint}"
            )
            out(
                f"Lambda runtime: awslambdaric in {shown_path(cloud.lambda_python.parent.parent)} "
                f"(boto3 and awslambdaric only), up to {concurrency} execution environments\n"
            )
            code = _steps(
                cloud=cloud,
                workdir=workdir,
                deploy_assembly=deploy_assembly,
                update_assembly=update_assembly,
                checks=checks,
                out=out,
            )
    out("\nchecks:")
    for name, passed, detail in checks.results:
        out(f"  {'ok  ' if passed else 'FAIL'} {name}{'' if passed or not detail else f' ({detail})'}")
    elapsed = time.monotonic() - started
    if code == 0 and not checks.failed:
        out(
            f"\nVERDICT: PASS, all {len(checks.results)} checks held: deploy, update (in place and replacement) and "
            f"destroy ended as declared, every request answered once ({elapsed:.1f} s)"
        )
        return 0
    out(f"\nVERDICT: FAIL, {len(checks.failed)} of {len(checks.results)} checks failed ({elapsed:.1f} s)")
    return 1


def _steps(
    *,
    cloud: LocalCloud,
    workdir: Path,
    deploy_assembly: CloudAssembly,
    update_assembly: CloudAssembly,
    checks: Checks,
    out: Callable[[str], None],
) -> int:
    engine = cloud.engine(workdir / "state")
    reader = account_client(cloud.moto.endpoint)
    before = declared_contacts(deploy_assembly, STACK)
    after = declared_contacts(update_assembly, STACK)
    accounts = {DEPLOYING_ACCOUNT} | {slot[0] for slot, _ in [*before.values(), *after.values()]}
    slots = {slot for slot, _ in [*before.values(), *after.values()]}
    ids = logical_ids(deploy_assembly, STACK)

    def show(step: str, result: OperationResult) -> dict[Slot, Details]:
        out(f"== {step} " + "=" * (70 - len(step)))
        for line in render_operation(result):
            out(line)
        for path in result.code_dirs:
            shown = shown_path(Path(path))
            contents = ", ".join(sorted(p.name + ("/" if p.is_dir() else "") for p in Path(path).iterdir()))
            out(f"  function code (the deployed asset): {shown}  ({contents})")
        live = read_contacts(reader, accounts)
        out("  contacts read back from the Account API emulator (masked):")
        for line in render_contacts(live, slots):
            out("  " + line)
        out("")
        return live

    # DEPLOY ------------------------------------------------------------------------------------------
    deployed = engine.deploy(deploy_assembly, STACK)
    live = show("DEPLOY", deployed)
    _check_step(checks, "deploy", deployed, "CREATE_COMPLETE")
    checks.check(
        "deploy: one Create per contact, each answered with its <account>/<TYPE> identity",
        sorted((r.request_type, r.logical_id, r.answered_physical_id) for r in deployed.requests)
        == sorted(("Create", ids[cid], f"{slot[0]}/{slot[1]}") for cid, (slot, _) in before.items()),
    )
    checks.check(
        "deploy: the function code run is the synthesized asset",
        bool(deployed.code_dirs)
        and all(
            Path(p).parent == deploy_assembly.directory and Path(p).name.startswith("asset.")
            for p in deployed.code_dirs
        ),
        ", ".join(deployed.code_dirs),
    )
    _check_contacts(checks, "deploy", live, dict(before.values()))

    # UPDATE ------------------------------------------------------------------------------------------
    updated = engine.deploy(update_assembly, STACK)
    live = show("UPDATE", updated)
    _check_step(checks, "update", updated, "UPDATE_COMPLETE")
    security = _only(updated.requests_for(ids["Security"]))
    checks.check(
        "update: Security updated in place (one Update, same physical id)",
        security is not None
        and security.request_type == "Update"
        and security.physical_id == security.answered_physical_id == f"{DEPLOYING_ACCOUNT}/SECURITY",
    )
    checks.check("update: Operations unchanged, so no request", not updated.requests_for(ids["Operations"]))
    billing = updated.requests_for(ids["MemberBilling"])
    checks.check(
        "update: MemberBilling replaced: Update answered with the new account's identity",
        len(billing) == 2
        and billing[0].request_type == "Update"
        and billing[0].physical_id == f"{OLD_MEMBER}/BILLING"
        and billing[0].answered_physical_id == f"{NEW_MEMBER}/BILLING",
    )
    old_properties: dict[str, Any] = billing[1].event.get("ResourceProperties", {}) if len(billing) == 2 else {}
    checks.check(
        "update: then a cleanup Delete of the OLD id carrying the OLD properties",
        len(billing) == 2
        and billing[1].phase == "cleanup"
        and billing[1].request_type == "Delete"
        and billing[1].physical_id == f"{OLD_MEMBER}/BILLING"
        and old_properties.get(spec.ACCOUNT_ID) == OLD_MEMBER,
    )
    _check_contacts(checks, "update", live, dict(after.values()))

    # DESTROY -----------------------------------------------------------------------------------------
    destroyed = engine.destroy(STACK)
    live = show("DESTROY", destroyed)
    _check_step(checks, "destroy", destroyed, "DELETE_COMPLETE")
    checks.check(
        "destroy: one Delete per contact",
        sorted((r.request_type, r.logical_id) for r in destroyed.requests)
        == sorted(("Delete", ids[cid]) for cid in after),
    )
    _check_contacts(checks, "destroy", live, {})
    checks.check("destroy: the stack's state is gone", not engine.store.path(STACK).exists())

    # ACROSS THE RUN -----------------------------------------------------------------------------------
    counts = cloud.responses.answer_counts()
    checks.check(
        "every ResponseURL issued got exactly one answer, and nothing else was PUT",
        bool(counts) and all(n == 1 for n in counts.values()) and not cloud.responses.rejected,
        f"{sum(1 for n in counts.values() if n != 1)} of {len(counts)} wrong, {len(cloud.responses.rejected)} rejected",
    )
    log = cloud.log_text()
    secrets = {v for _, details in [*before.values(), *after.values()] for v in details.values()}
    leaked = sorted(field_ for field_ in secrets if field_ in log and not field_.isdigit())
    signatures = [issued.signature for issued in cloud.responses.issued() if issued.signature in log]
    checks.check(
        "the function log holds no contact detail and no ResponseURL signature",
        bool(log) and not leaked and not signatures and not re.search(r"X-Amz-Signature", log),
        f"{len(leaked)} contact details, {len(signatures)} signatures",
    )
    log_dir = cloud.workdir / "logs"
    shown = shown_path(log_dir)
    out(f"function log (local CloudWatch Logs): {shown}")
    return 0
