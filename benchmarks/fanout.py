#!/usr/bin/env python3
"""Throttle-safe fan-out: N contact writes sent at once through the real handler, under the API's quotas.

What runs:

- the provider function of a generated one-contact app, synthesized with the pinned CDK CLI and deployed
  with localdeploy: the synthesized asset under awslambdaric in ``.venv-lambda``, one process per
  execution environment, queued asynchronous invocations as Lambda has them;
- in front of moto_server, the Account API's documented quotas (localdeploy/quotas.py): Put 5/s burst 8,
  Get 10/s burst 15, Delete 1/s burst 6, a 429 ``TooManyRequestsException`` past them;
- N Create requests sent at once, as CloudFormation sends them for N resources that depend on nothing but
  the function: each an asynchronous invocation answered on its own HTTPS ResponseURL.

For each function concurrency limit (Lambda reserved concurrency: invocations beyond it wait in Lambda's
queue, they do not fail), the environments are started first (provisioned, so that this two-core machine's
cold starts, about a CPU-second each, stay out of the figures; real Lambda starts them in parallel), the
quota buckets are full, and then N requests go out together. Printed per limit: successes, failures, total
time (first request to last answer), its ratio to N / 5 s (the Put quota's floor), the 429s per operation,
the Put rate achieved, and the CPU seconds the machine spent (to tell the quota's limit from the machine's).

Shapes (``--shape``): ``single`` sends one ``Custom::AlternateContact`` per contact (N invocations of one
write each); ``account`` sends one ``Custom::AlternateContacts`` per account of three types (N / 3
invocations of three writes each), as OrganizationContacts does. Each write is one Put, a Get before it
(to put back what was there should the invocation fail) and at least one after it (to confirm it).

``--request delete`` sends Deletes instead (the contacts are put into moto first, unthrottled): the
Delete quota is 1 a second, so the floor is N / 1 s, and an invocation's clock (the function's 5-minute
timeout) runs while it waits for its turn unless the concurrency limit keeps it queued in Lambda.

``--backoff BASE:CAP`` runs the handler with other retry parameters (the synthesized asset's copy of
``RetryPolicy``'s defaults is edited before any environment starts; the repository is not touched).
``--function-timeout S`` gives the function another timeout (the synthesized template's ``Timeout``), for a
scale model of the 5-minute limit that takes less than 5 minutes to reach.

    python benchmarks/fanout.py                                  # N = 300, limits 300, 50, 20, 10, 5
    python benchmarks/fanout.py --concurrency 10,5 --shape account
    python benchmarks/fanout.py --no-quotas --concurrency 50     # the machine's own floor
    python benchmarks/fanout.py --concurrency 300 --backoff 0.5:2
    python benchmarks/fanout.py --request delete --concurrency 300,5
    python benchmarks/fanout.py --request delete --writes 100 --concurrency 100,5 --function-timeout 60
    python benchmarks/fanout.py --organization                   # the destroy/create scale model, ~12 min

``--organization`` is a scale model of creating and destroying a 10,000-account organization (30,000 contacts:
100 min of Puts at 5 a second, 8 h 20 min of Deletes at 1 a second, against CloudFormation's ServiceTimeout of
at most 3,600 s a resource). A real OrganizationContacts app (``--stacks`` nested stacks, ``--per-stack``
accounts each on average, 3 contacts per account, the construct's default 5 executions) is synthesized,
every contacts resource's ServiceTimeout is scaled down in the templates (``--service-timeout``) so that it
bears to one nested stack's Deletes about the ratio the real one (sized for a full nested stack of 400
accounts: 1,560 s) bears to a 10,000-account organization's 250-account nested stacks (750 Deletes), and
the local engine creates it and destroys it under the API's quotas, twice: with the nested stacks chained
as the construct synthesizes them (one after another), and with the chain removed from the template (all
nested stacks at once, as before). Printed per variant and operation: resources failed (goal 0), total
time against the quota's floor, and the longest any resource waited for its answer against its
ServiceTimeout; then the same arithmetic for the real 10,000 accounts.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "handler")]

from cdk_alternate_contacts_cli.cloud_assembly import CloudAssembly  # noqa: E402
from localdeploy.assembly import synth  # noqa: E402
from localdeploy.cloud import LocalCloud  # noqa: E402
from localdeploy.contacts import account_client, put_contacts, read_contacts  # noqa: E402
from localdeploy.custom_resources import CustomResourceClient, RequestRecord, RequestType  # noqa: E402
from localdeploy.functions import FunctionConfig  # noqa: E402
from localdeploy.quotas import DOCUMENTED_QUOTAS  # noqa: E402
from localdeploy.registry import ResourceSummary  # noqa: E402

STACK = "FanoutProvider"
TYPES = ("BILLING", "OPERATIONS", "SECURITY")
#: The quota that bounds each kind of request: its floor is N / rate.
RATES = {
    "Create": DOCUMENTED_QUOTAS["PutAlternateContact"].rate_per_s,
    "Delete": DOCUMENTED_QUOTAS["DeleteAlternateContact"].rate_per_s,
}
WRITE_OPERATION = {"Create": "PutAlternateContact", "Delete": "DeleteAlternateContact"}

APP = """
import aws_cdk as cdk
from cdk_alternate_contacts import AlternateContact, AlternateContactType

app = cdk.App()
stack = cdk.Stack(app, "{stack}")
AlternateContact(
    stack, "Probe", contact_type=AlternateContactType.SECURITY, email_address="probe@example.com",
    name="Fan-out probe", phone_number="+1 206 555 0100", title="Benchmark",
)
app.synth()
"""

DETAILS = {
    "BILLING": {"EmailAddress": "finance@example.com", "Name": "Finance", "PhoneNumber": "+1 206 555 0102"},
    "OPERATIONS": {"EmailAddress": "ops@example.com", "Name": "Platform on-call", "PhoneNumber": "+1 206 555 0101"},
    "SECURITY": {"EmailAddress": "security@example.com", "Name": "SOC", "PhoneNumber": "+1 206 555 0100"},
}


@dataclass
class Run:
    """The figures of one concurrency limit."""

    concurrency: int
    warm_s: float
    successes: int
    failures: int
    total_s: float
    write_accepted: int
    write_throttled: int
    get_accepted: int
    get_throttled: int
    write_rate: float
    cpu_s: float
    answered_once: bool
    contacts_ok: bool
    failure_reasons: Counter[str]
    longest_s: float
    longest_run_s: float


def requests_for(writes: int, shape: str, token: str) -> list[tuple[str, str, dict[str, Any]]]:
    """(logical id, resource type, properties) of each request: ``writes`` contact slots in all."""
    accounts = [f"{100000000001 + i:012d}" for i in range((writes + 2) // 3)]
    slots = [(account, kind) for account in accounts for kind in TYPES][:writes]
    base = {"ServiceToken": token, "ServiceTimeout": "420"}
    if shape == "single":
        return [
            (
                f"Contact{account}{kind.title()}",
                "Custom::AlternateContact",
                {**base, "AccountId": account, "AlternateContactType": kind, "Title": "Benchmark", **DETAILS[kind]},
            )
            for account, kind in slots
        ]
    grouped: dict[str, dict[str, dict[str, str]]] = {}
    for account, kind in slots:
        grouped.setdefault(account, {})[kind] = {"Title": "Benchmark", **DETAILS[kind]}
    return [
        (f"Account{account}", "Custom::AlternateContacts", {**base, "AccountId": account, "AlternateContacts": types})
        for account, types in grouped.items()
    ]


def expected_contacts(requests: list[tuple[str, str, dict[str, Any]]]) -> dict[tuple[str, str], dict[str, str]]:
    """The contact every slot should hold once every request succeeded."""
    expected: dict[tuple[str, str], dict[str, str]] = {}
    for _, _, properties in requests:
        if "AlternateContacts" in properties:
            for kind, details in properties["AlternateContacts"].items():
                expected[(properties["AccountId"], kind)] = dict(details)
        else:
            details = {k: properties[k] for k in ("EmailAddress", "Name", "PhoneNumber", "Title")}
            expected[(properties["AccountId"], properties["AlternateContactType"])] = details
    return expected


def cpu_seconds(pids: list[int]) -> float:
    """User plus system CPU seconds of live processes (and of their waited-for children)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += sum(int(value) for value in fields[11:15])
    return total / ticks


def physical_id(properties: dict[str, Any]) -> str:
    """The identity the handler gives a resource: ``<account>/<TYPE>[+<TYPE>...]``."""
    types = (
        sorted(properties["AlternateContacts"])
        if "AlternateContacts" in properties
        else [properties["AlternateContactType"]]
    )
    return f"{properties['AccountId']}/{'+'.join(types)}"


def being_deleted(cloud: LocalCloud, stack_id: str, requests: list[tuple[str, str, dict[str, Any]]]) -> None:
    """Show the stack as CloudFormation does while it deletes these resources: each listed DELETE_IN_PROGRESS
    under its logical id, so that each Delete proves genuine (its stack lists it) and is carried out."""
    view = cloud.registry.find(stack_id)
    assert view is not None
    now = datetime.now(UTC)
    rows = tuple(
        ResourceSummary(logical_id, physical_id(properties), resource_type, "DELETE_IN_PROGRESS", now)
        for logical_id, resource_type, properties in requests
    )
    cloud.registry.publish(dataclasses.replace(view, status="DELETE_IN_PROGRESS", resources=view.resources + rows))


def measure(
    cloud: LocalCloud,
    arn: str,
    stack_id: str,
    requests: list[tuple[str, str, dict[str, Any]]],
    concurrency: int,
    *,
    request_type: RequestType,
) -> Run:
    """Send every request at once with the function limited to ``concurrency``; collect the figures."""
    pool = cloud.functions.pool(arn)
    pool.resize(concurrency)
    warm_s = pool.prewarm(concurrency)
    cloud.moto.reset()
    declared = expected_contacts(requests)
    if request_type == "Delete":
        put_contacts(account_client(cloud.moto.endpoint), declared)
        being_deleted(cloud, stack_id, requests)
    if cloud.quotas is not None:
        cloud.quotas.reset()
    watched = [os.getpid(), *(s.pid for s in pool.sandboxes if s.pid), *_moto_pids(cloud)]
    cpu_before = cpu_seconds(watched)
    client = CustomResourceClient(cloud.functions, cloud.responses)
    start = threading.Barrier(len(requests) + 1)

    def send(request: tuple[str, str, dict[str, Any]]) -> RequestRecord:
        logical_id, resource_type, properties = request
        start.wait()
        return client.send(
            phase="deploy" if request_type == "Create" else "destroy",
            request_type=request_type,
            stack_id=stack_id,
            stack_name=STACK,
            logical_id=logical_id,
            resource_type=resource_type,
            properties=properties,
            physical_id=physical_id(properties) if request_type == "Delete" else None,
        )

    with ThreadPoolExecutor(max_workers=len(requests)) as senders:
        futures = [senders.submit(send, request) for request in requests]
        start.wait()
        began = time.time()
        records = [future.result() for future in futures]
    ended = max((r.answered_at or time.time()) for r in records)
    for record in records:
        if record.invocation is not None:
            record.invocation.wait(60)
    cpu_s = cpu_seconds(watched) - cpu_before
    counts = cloud.quotas.counts() if cloud.quotas is not None else {}
    writes = counts.get(WRITE_OPERATION[request_type])
    gets = counts.get("GetAlternateContact")
    times = writes.accepted_at if writes else []
    write_rate = (len(times) - 1) / (times[-1] - times[0]) if len(times) > 1 else 0.0
    answers = cloud.responses.answer_counts([r.request_id for r in records])
    succeeded = [r for r in records if r.succeeded]
    live = read_contacts(account_client(cloud.moto.endpoint), {p["AccountId"] for _, _, p in requests})
    done = expected_contacts([request for request, r in zip(requests, records, strict=True) if r.succeeded])
    wanted = done if request_type == "Create" else {slot: d for slot, d in declared.items() if slot not in done}
    return Run(
        concurrency=concurrency,
        warm_s=warm_s,
        successes=len(succeeded),
        failures=len(records) - len(succeeded),
        total_s=ended - began,
        write_accepted=writes.accepted if writes else 0,
        write_throttled=writes.throttled if writes else 0,
        get_accepted=gets.accepted if gets else 0,
        get_throttled=gets.throttled if gets else 0,
        write_rate=write_rate,
        cpu_s=cpu_s,
        answered_once=all(n == 1 for n in answers.values()),
        contacts_ok=live == wanted,
        failure_reasons=Counter(r.reason[:90] for r in records if not r.succeeded),
        longest_s=max(((r.answered_at or ended) - r.sent_at) for r in records),
        longest_run_s=max(
            (a.duration_ms / 1000 for r in records if r.invocation is not None for a in r.invocation.attempts),
            default=0.0,
        ),
    )


def patch_timeout(assembly_dir: Path, stack: str, seconds: int) -> None:
    """Set the provider function's ``Timeout`` in the synthesized template."""
    path = assembly_dir / f"{stack}.template.json"
    template = json.loads(path.read_text(encoding="utf-8"))
    functions = [r for r in template["Resources"].values() if r["Type"] == "AWS::Lambda::Function"]
    if len(functions) != 1:
        raise SystemExit(f"expected one function in {path}, found {len(functions)}")
    functions[0]["Properties"]["Timeout"] = seconds
    path.write_text(json.dumps(template, indent=1), encoding="utf-8")


def patch_backoff(assembly_dir: Path, base_s: float, cap_s: float) -> int:
    """Set RetryPolicy's defaults in the synthesized asset's copy of the handler; returns the files edited.

    Raises
    ------
    SystemExit
        When the defaults are not where expected (the handler changed: update this benchmark).
    """
    edited = 0
    for path in assembly_dir.glob("asset.*/cdk_alternate_contacts_handler/retry.py"):
        text = path.read_text(encoding="utf-8")
        text, bases = re.subn(r"(\n    base_s: float = )[0-9.]+", rf"\g<1>{base_s}", text)
        text, caps = re.subn(r"(\n    cap_s: float = )[0-9.]+", rf"\g<1>{cap_s}", text)
        if (bases, caps) != (1, 1):
            raise SystemExit(f"RetryPolicy's base_s/cap_s defaults not found once each in {path}")
        path.write_text(text, encoding="utf-8")
        edited += 1
    if not edited:
        raise SystemExit(f"no handler asset in {assembly_dir}")
    return edited


def _moto_pids(cloud: LocalCloud) -> list[int]:
    process = getattr(cloud.moto, "_process", None)
    return [process.pid] if process is not None else []


def handler_version() -> str:
    """The commit the handler code comes from, and whether the working tree changes it."""
    commit = subprocess.run(
        ["git", "log", "-1", "--format=%h", "--", "handler"], cwd=REPO, capture_output=True, text=True, check=False
    ).stdout.strip()
    dirty = subprocess.run(
        ["git", "status", "--porcelain", "--", "handler"], cwd=REPO, capture_output=True, text=True, check=False
    ).stdout.strip()
    return f"{commit or 'unknown'}{' + uncommitted changes' if dirty else ''}"


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
    print(f"python {platform.python_version()}, {os.cpu_count()} cores, handler {handler_version()}")
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
    print(
        f"  {run.operation:<7} {run.status:<18} {run.requests} requests, {run.failed} failed, {run.total_s:.0f} s "
        f"(x{run.total_s / floor:.2f} of the {floor:.0f} s floor), longest wait {run.longest_wait_s:.0f} s; "
        f"{live} of {contacts} contacts live after it",
        flush=True,
    )
    for reason, count in run.reasons.most_common(2):
        print(f"      {count} x {reason}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--writes", type=int, default=300, help="contact writes sent at once (N), default 300")
    parser.add_argument(
        "--concurrency", default="300,50,20,10,5", help="function concurrency limits, largest first (comma-separated)"
    )
    parser.add_argument("--shape", choices=("single", "account"), default="single", help="one resource per ...")
    parser.add_argument("--request", choices=("create", "delete"), default="create", help="what is sent")
    parser.add_argument("--backoff", default=None, metavar="BASE:CAP", help="the handler's retry base and cap, s")
    parser.add_argument("--function-timeout", type=int, default=None, metavar="S", help="the function's timeout, s")
    parser.add_argument("--no-quotas", action="store_true", help="let every call through (the machine's floor)")
    parser.add_argument("--workdir", default=None, help="scratch folder (default: a temporary one)")
    parser.add_argument("--organization", action="store_true", help="the create/destroy scale model instead")
    parser.add_argument("--stacks", type=int, default=6, help="--organization: nested stacks, default 6")
    parser.add_argument("--per-stack", type=int, default=10, help="--organization: accounts per nested stack")
    parser.add_argument("--service-timeout", type=int, default=60, help="--organization: ServiceTimeout, s")
    arguments = parser.parse_args()
    if arguments.organization:
        return organization_model(arguments)
    limits = sorted({int(value) for value in arguments.concurrency.split(",")}, reverse=True)
    workdir = Path(arguments.workdir or tempfile.mkdtemp(prefix="fanout-")).resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    n = arguments.writes
    request_type: RequestType = "Create" if arguments.request == "create" else "Delete"
    rate = RATES[request_type]
    floor = n / rate
    operation = WRITE_OPERATION[request_type].removesuffix("AlternateContact")

    print(
        f"fan-out of N = {n} contact {request_type.lower()}s ({arguments.shape}: "
        f"{'one resource per contact' if arguments.shape == 'single' else 'one resource per account, 3 types'}), "
        f"quotas {'OFF' if arguments.no_quotas else 'Put 5/s burst 8, Get 10/s burst 15, Delete 1/s burst 6'}"
    )
    print(
        f"python {platform.python_version()}, {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}, "
        f"handler {handler_version()}; N / {rate:g} s = {floor:.0f} s"
    )
    app = workdir / "fanout_app.py"
    app.write_text(APP.format(stack=STACK), encoding="utf-8")
    began = time.monotonic()
    assembly = synth(workdir / "cdk.out", app=f"{sys.executable} {app}")
    print(f"synthesized the provider app in {time.monotonic() - began:.0f} s")
    if arguments.backoff:
        base_s, cap_s = (float(value) for value in arguments.backoff.split(":"))
        patch_backoff(assembly.directory, base_s, cap_s)
        print(f"the asset's handler retries with base {base_s:g} s, cap {cap_s:g} s")
    if arguments.function_timeout:
        patch_timeout(assembly.directory, STACK, arguments.function_timeout)
        print(f"the function's timeout is {arguments.function_timeout} s (the app says 300 s)")

    runs: list[Run] = []
    quotas = None if arguments.no_quotas else DOCUMENTED_QUOTAS
    with LocalCloud(workdir / "cloud", concurrency=max(limits), account_quotas=quotas) as cloud:
        engine = cloud.engine(workdir / "state")
        deployed = engine.deploy(assembly, STACK)
        if not deployed.ok:
            print(f"the provider stack did not deploy: {deployed.status} {deployed.problems}")
            return 2
        state = engine.store.load(STACK)
        assert state is not None
        function = next(s.function for s in state.resources.values() if s.function is not None)
        arn = FunctionConfig.from_json(function).arn
        requests = requests_for(n, arguments.shape, arn)
        print(f"{len(requests)} requests of {n // len(requests)} contact(s) each, to {arn.rsplit(':', 1)[-1]}\n")
        for limit in limits:
            run = measure(cloud, arn, deployed.stack_id, requests, limit, request_type=request_type)
            runs.append(run)
            print(
                f"  concurrency {limit:>3}: {run.successes} ok, {run.failures} failed, {run.total_s:.1f} s "
                f"(x{run.total_s / floor:.2f}), {operation} 429s {run.write_throttled}, Get 429s {run.get_throttled}, "
                f"CPU {run.cpu_s:.0f} s, started {limit} environments in {run.warm_s:.0f} s",
                flush=True,
            )
            for reason, count in run.failure_reasons.most_common(3):
                print(f"      {count} x {reason}")

    print()
    header = [
        "concurrency",
        "successes",
        "failures",
        "total s",
        f"x N/{rate:g}s",
        "slowest s",
        "longest run s",
        f"{operation} calls",
        f"{operation} 429s",
        "Get calls",
        "Get 429s",
        f"{operation} rate/s",
        "CPU s",
        "1 answer each",
        "contacts ok",
    ]
    rows = [
        [
            str(run.concurrency),
            str(run.successes),
            str(run.failures),
            f"{run.total_s:.1f}",
            f"{run.total_s / floor:.2f}",
            f"{run.longest_s:.1f}",
            f"{run.longest_run_s:.1f}",
            str(run.write_accepted),
            str(run.write_throttled),
            str(run.get_accepted),
            str(run.get_throttled),
            f"{run.write_rate:.2f}",
            f"{run.cpu_s:.0f}",
            "yes" if run.answered_once else "NO",
            "yes" if run.contacts_ok else "NO",
        ]
        for run in runs
    ]
    widths = [max(len(cell) for cell in column) for column in zip(header, *rows, strict=True)]
    for row in [header, *rows]:
        print("  ".join(cell.rjust(width) for cell, width in zip(row, widths, strict=True)))
    print(
        f"\nN = {n}; total s: first request sent to last answer received; x N/{rate:g}s: total / {floor:.0f} s; "
        f"{operation}/Get calls: passed to the API (429s not counted); slowest s: the longest wait for one answer "
        "(CloudFormation fails a resource at its ServiceTimeout, 420 s); longest run s: the longest an invocation ran "
        "(Lambda stops it at the function's timeout; the handler gives up a few seconds before); CPU s: the "
        "environments, moto and this process."
    )
    return 0 if all(run.failures == 0 and run.answered_once and run.contacts_ok for run in runs) else 1


if __name__ == "__main__":
    sys.exit(main())
