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
import functools
import json
import os
import re
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

from benchmark_support import (
    REPO,
    cores,
    cpu_seconds,
    handler_version,
    load,
    print_outcome,
    print_table,
    python_version,
)

sys.path[:0] = [str(REPO), str(REPO / "handler")]

from organization_model import organization_model  # noqa: E402

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

    # What every request of the run shares: the phase, its type and the stack.
    phase = "deploy" if request_type == "Create" else "destroy"
    send_to_stack = functools.partial(
        client.send, phase=phase, request_type=request_type, stack_id=stack_id, stack_name=STACK
    )

    def send(request: tuple[str, str, dict[str, Any]]) -> RequestRecord:
        logical_id, resource_type, properties = request
        physical = physical_id(properties) if request_type == "Delete" else None
        start.wait()
        return send_to_stack(
            logical_id=logical_id, resource_type=resource_type, properties=properties, physical_id=physical
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
    print(f"{python_version()}, {cores()}, load {load(1)}, handler {handler_version()}; N / {rate:g} s = {floor:.0f} s")
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
            print_outcome(
                f"  concurrency {limit:>3}: {run.successes} ok, {run.failures} failed, {run.total_s:.1f} s "
                f"(x{run.total_s / floor:.2f}), {operation} 429s {run.write_throttled}, Get 429s {run.get_throttled}, "
                f"CPU {run.cpu_s:.0f} s, started {limit} environments in {run.warm_s:.0f} s",
                run.failure_reasons,
                most=3,
            )

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
    print_table([header, *rows])
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
