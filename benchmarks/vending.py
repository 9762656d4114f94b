#!/usr/bin/env python3
"""Vending one account: what CloudFormation changes when one account is added, removed or changed.

For each organization size N (``--sizes``, default 100, 1,000 and 10,000 accounts of three contacts, with
OrganizationContacts' defaults), the app is synthesized with the pinned CDK CLI as four versions of one
stack: N accounts; N + 1 (one added); N - 1 (one removed); N with one account's security contact
overridden (one changed). "added*" compares N - 1 with N: an account added where the organization grows
no nested stack. Each later version is compared with the first as CloudFormation compares two
templates of one stack: resource by resource in the parent, and, for each nested stack whose template
changed, resource by resource inside it. Printed per size and change:

- nested stacks CloudFormation updates (their template changed) and creates or deletes;
- contacts resources created, updated and deleted: each one an invocation of the function, so the goal is
  one: the vended account's;
- other parent resources changed (the provider, its role and policy: the goal is none).

When N + 1 crosses a multiple of 250 (1,000 and 10,000 do), the organization grows by one nested stack and
about N / (n + 1) accounts move into it (created there, their old resources deleted without touching the
contacts): the table shows that case as it is.

``--engine`` also deploys, with the local engine (the synthesized asset under awslambdaric, moto behind the
IAM front), the N - 1-account version and then the N-account one, for N = 10 and N = 1,000
(``--engine-sizes``), and prints the wall time of that second deploy: vending one account into a large
organization should cost what it costs in a small one.

    python benchmarks/vending.py                      # about 8 minutes (10,000 accounts: 4 synths of ~1 min)
    python benchmarks/vending.py --sizes 100,1000 --engine

This is a measurement, not a test.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "handler")]

from cdk_alternate_contacts_cli.cloud_assembly import CloudAssembly  # noqa: E402
from localdeploy.assembly import synth  # noqa: E402
from localdeploy.cloud import LocalCloud  # noqa: E402

STACK = "Vending"
CONTACTS = "Custom::AlternateContacts"

APP = """
import hashlib
import aws_cdk as cdk
from cdk_alternate_contacts import AccountContacts, ContactDetails, OrganizationContacts

app = cdk.App()
count = int(app.node.try_get_context("accounts"))
change = app.node.try_get_context("change") or "none"
ids = [f"{{int(hashlib.sha256(str(i).encode()).hexdigest(), 16) % 10**12:012d}}" for i in range(count + 1)]
accounts, extra = ids[:count], ids[count]
details = {{
    kind: ContactDetails(email_address=f"{{kind}}@example.com", name=f"{{kind.title()}} team",
                         phone_number="+1 206 555 0100", title="Contacts")
    for kind in ("security", "operations", "billing")
}}
models = [AccountContacts(a) for a in accounts]
if change == "added":
    models.append(AccountContacts(extra))
elif change == "removed":
    models = models[:-1]
elif change == "changed":
    models[-1] = AccountContacts(accounts[-1], overrides={{"security": details["operations"]}})
OrganizationContacts(cdk.Stack(app, "{stack}"), "Organization", defaults=details, accounts=models)
app.synth()
"""


@dataclass
class Changes:
    """What CloudFormation would do to go from one version of the stack to the next."""

    nested_updated: int = 0
    nested_created: int = 0
    nested_deleted: int = 0
    contacts: dict[str, int] = field(default_factory=lambda: {"created": 0, "updated": 0, "deleted": 0})
    other_parent: list[str] = field(default_factory=list)


def compare(resources_before: dict[str, Any], resources_after: dict[str, Any]) -> dict[str, list[str]]:
    """Logical ids created, updated (anything of the resource differs) and deleted."""
    return {
        "created": [k for k in resources_after if k not in resources_before],
        "updated": [k for k in resources_after if k in resources_before and resources_after[k] != resources_before[k]],
        "deleted": [k for k in resources_before if k not in resources_after],
    }


def changes(before: CloudAssembly, after: CloudAssembly) -> Changes:
    """Compare two versions of the stack: its parent template, and each nested template that changed."""
    parent_before, parent_after = before.template(STACK), after.template(STACK)
    result = Changes()
    diff = compare(parent_before["Resources"], parent_after["Resources"])
    for kind, logical_ids in diff.items():
        for logical_id in logical_ids:
            resource = (parent_after if kind != "deleted" else parent_before)["Resources"][logical_id]
            if resource["Type"] != "AWS::CloudFormation::Stack":
                result.other_parent.append(f"{kind} {logical_id}")
                continue
            setattr(result, f"nested_{kind}", getattr(result, f"nested_{kind}") + 1)
            old = _nested(before, parent_before, logical_id) if kind != "created" else {"Resources": {}}
            new = _nested(after, parent_after, logical_id) if kind != "deleted" else {"Resources": {}}
            inner = compare(old["Resources"], new["Resources"])
            for inner_kind, ids in inner.items():
                source = new if inner_kind != "deleted" else old
                result.contacts[inner_kind] += sum(1 for i in ids if source["Resources"][i]["Type"] == CONTACTS)
    return result


def _nested(assembly: CloudAssembly, parent: dict[str, Any], logical_id: str) -> dict[str, Any]:
    return assembly.nested_template(STACK, parent["Resources"][logical_id]["Properties"]["TemplateURL"])


def synthesize(workdir: Path, accounts: int, change: str) -> tuple[CloudAssembly, float]:
    app = workdir / "vending_app.py"
    app.write_text(APP.format(stack=STACK), encoding="utf-8")
    started = time.monotonic()
    assembly = synth(
        workdir / f"cdk.out-{accounts}-{change}",
        app=f"{sys.executable} {app}",
        context={"accounts": str(accounts), "change": change},
    )
    return assembly, time.monotonic() - started


def engine_times(workdir: Path, sizes: list[int]) -> list[tuple[int, float, float, int]]:
    """(N, seconds to deploy N - 1 accounts, seconds to deploy the N-account version, requests it sent).

    N - 1 to N, so that the organization grows no nested stack (1,000 to 1,001 would move 192 accounts).
    """
    rows = []
    for n in sizes:
        before, _ = synthesize(workdir, n, "removed")
        added, _ = synthesize(workdir, n, "none")
        with LocalCloud(workdir / f"cloud-{n}") as cloud:
            engine = cloud.engine(workdir / f"state-{n}")
            first = engine.deploy(before, STACK)
            if not first.ok:
                raise SystemExit(f"N = {n}: the first deploy failed: {first.status} {first.problems[:3]}")
            second = engine.deploy(added, STACK)
            if not second.ok:
                raise SystemExit(f"N = {n}: vending one account failed: {second.status} {second.problems[:3]}")
            rows.append((n, first.duration_s, second.duration_s, len(second.requests)))
        print(
            f"  N = {n:,}: deploy N - 1 accounts {first.duration_s:.1f} s ({len(first.requests)} requests to the "
            f"function); vend the N-th {second.duration_s:.1f} s ({len(second.requests)} request)",
            flush=True,
        )
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="100,1000,10000", help="organization sizes N (comma-separated, or none)")
    parser.add_argument("--engine", action="store_true", help="also time the local engine's vending deploy")
    parser.add_argument("--engine-sizes", default="10,1000", help="sizes for --engine (comma-separated)")
    parser.add_argument("--workdir", default=None, help="scratch folder (default: a temporary one)")
    arguments = parser.parse_args()
    workdir = Path(arguments.workdir or tempfile.mkdtemp(prefix="vending-")).resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    print(f"python {platform.python_version()}, {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}")
    print("\nsize N, change  nested stacks (updated/created/deleted)  contacts resources (created/updated/deleted)")
    ok = True
    for n in (int(v) for v in arguments.sizes.split(",") if v.strip() and v != "none"):
        base, seconds = synthesize(workdir, n, "none")
        print(f"  N = {n:,}: synthesized in {seconds:.0f} s, {len(base.template(STACK)['Resources'])} parent resources")
        versions = {change: synthesize(workdir, n, change)[0] for change in ("added", "removed", "changed")}
        # The N - 1 version then the N one: an account added without the organization growing a nested stack.
        rows = [
            ("added", base, versions["added"]),
            ("added*", versions["removed"], base),
            ("removed", base, versions["removed"]),
            ("changed", base, versions["changed"]),
        ]
        for change, old, new in rows:
            found = changes(old, new)
            crosses = change == "added" and n % 250 == 0
            note = "  (N + 1 crosses a multiple of 250: one more nested stack, accounts move into it)" * crosses
            print(
                f"  {n:>6,} {change:<8}  {found.nested_updated}/{found.nested_created}/{found.nested_deleted}"
                f"{'':<32}{found.contacts['created']}/{found.contacts['updated']}/{found.contacts['deleted']}"
                f"{'  other parent: ' + ', '.join(found.other_parent) if found.other_parent else ''}{note}",
                flush=True,
            )
            if not crosses:
                ok &= sum(found.contacts.values()) == 1 and not found.other_parent and found.nested_updated <= 1
    if arguments.engine:
        print("\nlocal engine, vending one account (the stack of N - 1 accounts deployed first)")
        engine_times(workdir, [int(v) for v in arguments.engine_sizes.split(",")])
    print(
        "\nadded*: the N - 1 version, then the N one (an account added where the organization grows no nested "
        "stack); contacts resources: each created, updated or deleted one is an invocation of the function; the "
        "goal is 1 (the vended account's) and at most 1 nested stack updated, nothing else of the parent"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
