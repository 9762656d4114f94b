"""The scale model of creating and destroying a large organization, run by ``python benchmarks/fanout.py
--organization`` (its docstring says what is modelled and printed).

A real OrganizationContacts app is synthesized, its contacts resources' ServiceTimeout scaled down, and the
local engine creates and destroys it under the Account API's quotas, with the nested stacks chained (as the
construct synthesizes them) and all at once. Imported by fanout.py once it has put the repository on
``sys.path``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmark_support import cores, handler_version, print_outcome, python_version

from cdk_alternate_contacts_cli.cloud_assembly import CloudAssembly
from localdeploy.assembly import synth
from localdeploy.cloud import LocalCloud
from localdeploy.contacts import account_client, read_contacts
from localdeploy.quotas import DOCUMENTED_QUOTAS

ORGANIZATION_APP = """
import hashlib
import aws_cdk as cdk
from cdk_alternate_contacts import AccountContacts, ContactDetails, OrganizationContacts

app = cdk.App()
ids = [f"{{int(hashlib.sha256(f'scale{{i}}'.encode()).hexdigest(), 16) % 10**12:012d}}" for i in range({accounts})]
details = {{
    kind: ContactDetails(email_address=f"{{kind}}@example.com", name=f"{{kind.title()}} team",
                         phone_number="+1 206 555 0100", title="Scale model")
    for kind in ("security", "operations", "billing")
}}
OrganizationContacts(
    cdk.Stack(app, "{stack}"), "Organization", defaults=details, accounts=[AccountContacts(a) for a in ids],
    nested_stacks={stacks},
)
app.synth()
"""

ORGANIZATION_STACK = "OrganizationScale"


@dataclass
class ModelRun:
    """One operation of the scale model: what failed, how long it took, the longest wait for an answer."""

    variant: str
    operation: str
    status: str
    requests: int
    failed: int
    total_s: float
    longest_wait_s: float
    reasons: Counter[str]


def scale_templates(assembly: CloudAssembly, service_timeout_s: int, *, chained: bool) -> tuple[int, list[int]]:
    """Set every contacts resource's ServiceTimeout; unchained, drop the nested stacks' DependsOn on each other.

    Returns the number of nested stacks and the accounts each holds.
    """
    stack = assembly.stack(ORGANIZATION_STACK)
    parent_path = stack.template_path
    parent = json.loads(parent_path.read_text(encoding="utf-8"))
    nested = [k for k, v in parent["Resources"].items() if v["Type"] == "AWS::CloudFormation::Stack"]
    if not chained:
        for logical_id in nested:
            resource = parent["Resources"][logical_id]
            resource["DependsOn"] = [d for d in resource.get("DependsOn", []) if d not in nested]
        parent_path.write_text(json.dumps(parent, indent=1), encoding="utf-8")
    sizes = []
    for path in stack.nested_template_paths().values():
        template = json.loads(path.read_text(encoding="utf-8"))
        contacts = [r for r in template["Resources"].values() if r["Type"] == "Custom::AlternateContacts"]
        for resource in contacts:
            resource["Properties"]["ServiceTimeout"] = str(service_timeout_s)
        sizes.append(len(contacts))
        path.write_text(json.dumps(template, indent=1), encoding="utf-8")
    return len(nested), sorted(sizes, reverse=True)


def model_run(variant: str, operation: str, result: Any) -> ModelRun:
    records = result.requests
    failed = [r for r in records if not r.succeeded]
    began = min((r.sent_at for r in records), default=0.0)
    ended = max(((r.answered_at or time.time()) for r in records), default=0.0)
    return ModelRun(
        variant=variant,
        operation=operation,
        status=result.status,
        requests=len(records),
        failed=len(failed),
        total_s=ended - began,
        longest_wait_s=max(((r.answered_at or ended) - r.sent_at for r in records), default=0.0),
        reasons=Counter(r.reason[:100] for r in failed),
    )


def organization_model(arguments: argparse.Namespace) -> int:
    """The scale model of creating and destroying a large organization (see the module's docstring)."""
    workdir = Path(arguments.workdir or tempfile.mkdtemp(prefix="fanout-org-")).resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    accounts = arguments.stacks * arguments.per_stack
    contacts = 3 * accounts
    print(
        f"scale model: {accounts} accounts x 3 contacts in {arguments.stacks} nested stacks, ServiceTimeout "
        f"{arguments.service_timeout} s, function limited to 5 executions, quotas Put 5/s, Get 10/s, Delete 1/s"
    )
    print(f"{python_version()}, {cores()}, handler {handler_version()}")
    app = workdir / "organization_app.py"
    app.write_text(
        ORGANIZATION_APP.format(accounts=accounts, stack=ORGANIZATION_STACK, stacks=arguments.stacks), encoding="utf-8"
    )
    ids = [f"{int(hashlib.sha256(f'scale{i}'.encode()).hexdigest(), 16) % 10**12:012d}" for i in range(accounts)]
    runs: list[ModelRun] = []
    for variant, chained in (("chained", True), ("all at once", False)):
        assembly = synth(workdir / f"cdk.out-{'chained' if chained else 'parallel'}", app=f"{sys.executable} {app}")
        stacks, sizes = scale_templates(assembly, arguments.service_timeout, chained=chained)
        print(f"\n{variant}: {stacks} nested stacks holding {sizes} accounts", flush=True)
        with LocalCloud(workdir / f"cloud-{variant[:3]}", concurrency=5, account_quotas=DOCUMENTED_QUOTAS) as cloud:
            engine = cloud.engine(workdir / f"state-{variant[:3]}")
            client = account_client(cloud.moto.endpoint)
            created = model_run(variant, "create", engine.deploy(assembly, ORGANIZATION_STACK))
            runs.append(created)
            _print_model_run(created, contacts, len(read_contacts(client, set(ids))))
            if created.status == "CREATE_COMPLETE":
                destroyed = model_run(variant, "destroy", engine.destroy(ORGANIZATION_STACK, assembly=assembly))
                runs.append(destroyed)
                _print_model_run(destroyed, contacts, len(read_contacts(client, set(ids))))
    per_real_stack = 10_000 / 40
    print(
        "\nat full size (arithmetic, the same design): 10,000 accounts grow to 40 nested stacks of about "
        f"{per_real_stack:.0f} accounts (the fullest about 290); one nested stack's Deletes take about "
        f"{3 * per_real_stack:.0f} s (at most 870 s), within the 1,560 s ServiceTimeout; the whole destroy "
        "takes the quota's 30,000 s (8 h 20 min) one nested stack after another; the create, 30,000 Puts at "
        "5 a second with 2 Gets each at 10 a second, 6,000 s (100 min)."
    )
    chained_ok = all(r.failed == 0 for r in runs if r.variant == "chained")
    return 0 if chained_ok else 1


def _print_model_run(run: ModelRun, contacts: int, live: int) -> None:
    rate = 5.0 if run.operation == "create" else 1.0
    floor = contacts / rate
    print_outcome(
        f"  {run.operation:<7} {run.status:<18} {run.requests} requests, {run.failed} failed, {run.total_s:.0f} s "
        f"(x{run.total_s / floor:.2f} of the {floor:.0f} s floor), longest wait {run.longest_wait_s:.0f} s; "
        f"{live} of {contacts} contacts live after it",
        run.reasons,
        most=2,
    )
