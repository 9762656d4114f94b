#!/usr/bin/env python3
"""Synthesis at organization scale: this project's constructs against the hand-written AwsCustomResource recipe.

Builds, in this one run and on the same generated accounts (three contacts each):

- recipe: the aws-cdk-lib recipe, one ``AwsCustomResource`` per contact calling Account PutAlternateContact
  (DeleteAlternateContact on delete) with the policy it generates from its calls;
- AlternateContacts: one ``AlternateContacts`` resource per account, in one stack;
- OrganizationContacts: the same model as defaults for every account, spread over nested stacks.

Prints two tables:

(a) per approach: resources and template bytes per contact (marginal, from 40 and 80 accounts), the largest
    number of accounts one stack can hold (computed from CloudFormation's 500-resource limit, then
    synthesized at that number and one more to check it), and the synth time for 80 accounts;
(b) OrganizationContacts with 1,000 accounts: synth time, number of templates, the largest template's
    resources and bytes, and the provider role's inline policy as IAM counts it;
(c) with ``--policy-sizes``: the provider role's inline policy at 1, 10, 100, 1,000 and 5,000 accounts (the
    role's scope does not follow the declarations, so the figure must not grow);
(d) with ``--organization-sizes 1000,5000,10000``: OrganizationContacts with its defaults at each size, each
    in a process of its own under cdk-nag's AwsSolutionsChecks: synth time, peak memory (the high-water mark
    of this Python process, and the sum of those of jsii's two Node processes), nested stacks, the largest
    template's resources and bytes, the policy's characters, cdk-nag's findings (none: synthesis fails on
    one) and cfn-lint's findings over every template (errors, warnings and informational ones).

Synth times are wall-clock seconds for building the app and ``app.synth()`` in this process, the median of
``--repeat`` runs after a warm-up (the jsii runtime and the CDK's asset cache are warm, as in a long
``cdk watch``; a cold ``cdk synth`` adds a few seconds of process start). Context mirrors ``cdk synth``:
path and asset metadata, version reporting (the ``AWS::CDK::Metadata`` resource counts towards the 500).

    python benchmarks/synth_scale.py                 # about three minutes on two cores
    python benchmarks/synth_scale.py --repeat 1      # quicker, noisier
    python benchmarks/synth_scale.py --policy-sizes  # only (c), about a minute
    python benchmarks/synth_scale.py --organization-sizes 1000,5000,10000   # only (d), about 10 minutes

This is a measurement, not a test.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmark_support import (
    REPO,
    cdk_version,
    cores,
    descendants_of,
    high_water_kib,
    load,
    print_table,
    python_version,
)

NODE = REPO / "node_modules" / ".bin" / "node"
if NODE.exists():
    os.environ.setdefault("JSII_NODE", str(NODE))
os.environ.setdefault("JSII_SILENCE_WARNING_UNTESTED_NODE_VERSION", "1")
sys.path[:0] = [str(REPO / "constructs"), str(REPO / "handler")]

import aws_cdk as cdk  # noqa: E402 - after the jsii settings above
from aws_cdk import custom_resources as cr  # noqa: E402
from cdk_nag import AwsSolutionsChecks  # noqa: E402

from cdk_alternate_contacts import (  # noqa: E402
    AccountContacts,
    AlternateContacts,
    ContactDetails,
    OrganizationContacts,
)
from cdk_alternate_contacts.organization import MAX_ACCOUNTS_PER_STACK  # noqa: E402
from cdk_alternate_contacts_cli.intrinsics import Scope, resolve  # noqa: E402

MAX_RESOURCES = 500
MAX_ROLE_POLICY = 10_240
CONTACTS_PER_ACCOUNT = 3

DETAILS = {
    "SECURITY": ContactDetails(
        email_address="security@example.com",
        name="Security Operations Center",
        phone_number="+1 206 555 0100",
        title="Security team",
    ),
    "OPERATIONS": ContactDetails(
        email_address="cloud-ops@example.com",
        name="Platform on-call",
        phone_number="+1 206 555 0101",
        title="Operations team",
    ),
    "BILLING": ContactDetails(
        email_address="finance@example.com",
        name="Finance Department",
        phone_number="+1 206 555 0102",
        title="Accounts payable",
    ),
}


def account_ids(count: int) -> list[str]:
    """``count`` distinct 12-digit ids, the same in every run (leading zeros included)."""
    ids = [f"{int(hashlib.sha256(str(i).encode()).hexdigest(), 16) % 10**12:012d}" for i in range(count)]
    assert len(set(ids)) == count
    return ids


def machine() -> str:
    """The interpreter, the CDK and the machine the figures were measured on, and its load."""
    return f"{python_version()}, aws-cdk-lib {cdk_version()}, {cores()}, load {load()}"


# --- the three ways to declare the contacts ---------------------------------------------------------------


def recipe(stack: cdk.Stack, accounts: list[str]) -> None:
    """The aws-cdk-lib recipe: one AwsCustomResource per contact, each with its generated policy."""
    for account in accounts:
        for contact_type, details in DETAILS.items():
            put = cr.AwsSdkCall(
                service="Account",
                action="PutAlternateContact",
                parameters={
                    "AccountId": account,
                    "AlternateContactType": contact_type,
                    "EmailAddress": details.email_address,
                    "Name": details.name,
                    "PhoneNumber": details.phone_number,
                    "Title": details.title,
                },
                physical_resource_id=cr.PhysicalResourceId.of(f"{account}/{contact_type}"),
            )
            cr.AwsCustomResource(
                stack,
                f"{contact_type.title()}{account}",
                on_create=put,
                on_update=put,
                on_delete=cr.AwsSdkCall(
                    service="Account",
                    action="DeleteAlternateContact",
                    parameters={"AccountId": account, "AlternateContactType": contact_type},
                ),
                policy=cr.AwsCustomResourcePolicy.from_sdk_calls(resources=cr.AwsCustomResourcePolicy.ANY_RESOURCE),
                install_latest_aws_sdk=False,
            )


def alternate_contacts(stack: cdk.Stack, accounts: list[str]) -> None:
    """This project, one stack: one AlternateContacts resource per account."""
    for account in accounts:
        AlternateContacts(
            stack,
            f"Account{account}",
            account_id=account,
            security=DETAILS["SECURITY"],
            operations=DETAILS["OPERATIONS"],
            billing=DETAILS["BILLING"],
        )


def organization(stack: cdk.Stack, accounts: list[str], **settings: Any) -> None:
    """This project, nested stacks: the contacts as organization-wide defaults."""
    OrganizationContacts(
        stack,
        "Organization",
        defaults={t.lower(): d for t, d in DETAILS.items()},
        accounts=[AccountContacts(a) for a in accounts],
        **settings,
    )


# --- measuring --------------------------------------------------------------------------------------------


@dataclass
class Synth:
    """What one synthesis produced: seconds, and per template its resources and bytes."""

    seconds: float
    templates: dict[str, tuple[int, int]]
    parent: dict[str, Any]

    @property
    def resources(self) -> int:
        return sum(r for r, _ in self.templates.values())

    @property
    def bytes(self) -> int:
        return sum(b for _, b in self.templates.values())

    @property
    def largest(self) -> tuple[int, int]:
        return max(self.templates.values())


def new_app(outdir: str) -> cdk.App:
    """An app whose context mirrors ``cdk synth``: path and asset metadata, version reporting."""
    return cdk.App(
        outdir=outdir,
        context={
            "aws:cdk:enable-path-metadata": True,
            "aws:cdk:enable-asset-metadata": True,
            "aws:cdk:version-reporting": True,
        },
    )


def synth(build: Callable[..., None], accounts: list[str], **settings: Any) -> Synth:
    """Build one app with ``accounts`` in stack "Contacts" and synthesize it into a fresh folder."""
    with tempfile.TemporaryDirectory(prefix="synth-scale-") as outdir:
        started = time.perf_counter()
        app = new_app(outdir)
        build(cdk.Stack(app, "Contacts"), accounts, **settings)
        app.synth()
        seconds = time.perf_counter() - started
        templates, parent = measure_templates(Path(outdir))
    return Synth(seconds, templates, parent)


def measure_templates(outdir: Path) -> tuple[dict[str, tuple[int, int]], dict[str, Any]]:
    """Each template of a cloud assembly with its resources and bytes, and the parent stack's template."""
    templates = {
        path.name: (len(json.loads(path.read_text()).get("Resources", {})), path.stat().st_size)
        for path in sorted(outdir.glob("*.template.json"))
    }
    return templates, json.loads((outdir / "Contacts.template.json").read_text())


def timed(build: Callable[..., None], accounts: list[str], repeat: int, **settings: Any) -> tuple[float, Synth]:
    runs = [synth(build, accounts, **settings) for _ in range(repeat)]
    return statistics.median(r.seconds for r in runs), runs[-1]


def inline_policy_characters(template: dict[str, Any], stack_name: str) -> int:
    """The provider role's inline policies as IAM counts them: resolved, white space excluded (GovCloud values)."""
    govcloud = Scope(
        account="123456789012",
        partition="aws-us-gov",
        region="us-gov-west-1",
        stack_name=stack_name,
        stack_id=f"arn:aws-us-gov:cloudformation:us-gov-west-1:123456789012:stack/{stack_name}/{'0' * 36}",
        get_att=lambda logical_id, _: (
            f"arn:aws-us-gov:logs:us-gov-west-1:123456789012:log-group:{stack_name}-{logical_id}-X:*"
        ),
        strict=True,
    )

    documents = [
        r["Properties"]["PolicyDocument"] for r in template["Resources"].values() if r["Type"] == "AWS::IAM::Policy"
    ]
    return len(re.sub(r"\s", "", "".join(json.dumps(resolve(d, govcloud)) for d in documents)))


@dataclass
class Row:
    name: str
    resources_per_contact: float
    bytes_per_contact: float
    computed_max: int
    measured: str
    seconds_80: float


def per_account_row(name: str, build: Callable[..., None], repeat: int, **settings: Any) -> Row:
    """Marginal cost per contact from 40 and 80 accounts; the largest stack computed, then synthesized."""
    half = synth(build, account_ids(40), **settings)
    seconds, full = timed(build, account_ids(80), repeat, **settings)
    contacts = 40 * CONTACTS_PER_ACCOUNT
    if "nested" in name:
        # Accounts sit in nested stacks that hold nothing else: one resource per account in each.
        resources = (full.resources - half.resources) / contacts
        byte_cost = (full.bytes - half.bytes) / contacts
        fits = synth(
            build, account_ids(MAX_ACCOUNTS_PER_STACK), nested_stacks=1, accounts_per_stack=MAX_ACCOUNTS_PER_STACK
        )
        nested = [r for n, (r, _) in fits.templates.items() if "nested" in n]
        try:
            synth(
                build,
                account_ids(MAX_ACCOUNTS_PER_STACK + 1),
                nested_stacks=1,
                accounts_per_stack=MAX_ACCOUNTS_PER_STACK,
            )
            refused = "NOT refused"
        except ValueError:
            refused = "refused at synth"
        measured = f"{MAX_ACCOUNTS_PER_STACK}: {max(nested)} res; {MAX_ACCOUNTS_PER_STACK + 1}: {refused}"
        return Row(name, resources, byte_cost, MAX_ACCOUNTS_PER_STACK, measured, seconds)
    per_account = (full.resources - half.resources) / 40
    fixed = full.resources - per_account * 80
    byte_cost = (full.bytes - half.bytes) / contacts
    computed = int((MAX_RESOURCES - fixed) // per_account)
    at_max = synth(build, account_ids(computed), **settings).resources
    try:
        beyond = f"{synth(build, account_ids(computed + 1), **settings).resources} res"
    except RuntimeError as error:  # the CDK refuses a stack of more than 500 resources
        beyond = "refused at synth" if "TooManyResourcesInStack" in str(error) else f"failed: {error}"
    measured = f"{computed}: {at_max} res; {computed + 1}: {beyond}"
    return Row(name, per_account / CONTACTS_PER_ACCOUNT, byte_cost, computed, measured, seconds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=3, help="synth runs per timing; the median is shown")
    parser.add_argument("--accounts", type=int, default=1_000, help="accounts of the large organization")
    parser.add_argument("--policy-sizes", action="store_true", help="only the policy size per organization size")
    parser.add_argument("--organization-sizes", default=None, help="only (d), at these sizes (comma-separated)")
    parser.add_argument("--one-organization", type=int, default=None, help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.policy_sizes:
        policy_sizes()
        return
    if arguments.one_organization is not None:
        print(json.dumps(one_organization(arguments.one_organization)))
        return
    if arguments.organization_sizes:
        organization_sizes([int(n) for n in arguments.organization_sizes.split(",")])
        return

    print(machine())
    for build in (recipe, alternate_contacts, organization):  # warm-up: jsii runtime, asset cache
        synth(build, account_ids(2))

    rows = [
        per_account_row("AwsCustomResource recipe", recipe, arguments.repeat),
        per_account_row("AlternateContacts (one stack)", alternate_contacts, arguments.repeat),
        per_account_row("OrganizationContacts (nested)", organization, arguments.repeat),
    ]
    print("\n(a) per contact, 3 contacts per account")
    header = (
        "approach",
        "resources/contact",
        "bytes/contact",
        "max accounts/stack",
        "synthesized at max, max+1",
        "synth 80 accts",
    )
    cells = [
        (
            row.name,
            f"{row.resources_per_contact:.3f}",
            f"{row.bytes_per_contact:.0f}",
            str(row.computed_max),
            row.measured,
            f"{row.seconds_80:.1f} s",
        )
        for row in rows
    ]
    print_table([header, *cells], widths=(30, 17, 13, 18, 44, 14), justify=str.ljust)

    repeat = max(1, min(arguments.repeat, 2))
    seconds, big = timed(organization, account_ids(arguments.accounts), repeat)
    name, (resources, size) = max(big.templates.items(), key=lambda item: item[1])
    print(f"\n(b) OrganizationContacts, {arguments.accounts:,} accounts x 3 contacts (default placement)")
    print(f"  synth time                  {seconds:.1f} s (median of {repeat})")
    print(f"  templates                   {len(big.templates)} (1 parent + {len(big.templates) - 1} nested)")
    print(f"  largest template            {resources} resources, {size:,} bytes ({name})")
    print(f"  parent template             {big.templates['Contacts.template.json'][0]} resources")
    print(f"  all templates               {big.resources} resources, {big.bytes:,} bytes")
    policy = inline_policy_characters(big.parent, "Contacts")
    functions = sum(1 for r in big.parent["Resources"].values() if r["Type"] == "AWS::Lambda::Function")
    print(f"  provider role inline policy {policy:,} of {MAX_ROLE_POLICY:,} characters")
    print(f"  Lambda functions            {functions} (in the parent; the nested stacks get its ARN)")


def policy_sizes() -> None:
    """(c): the provider role's inline policy as the organization grows."""
    print(machine())
    print("\n(c) provider role inline policy, OrganizationContacts x 3 contacts per account")
    print("  accounts  nested stacks  templates  policy characters (of 10,240)")
    for count in (1, 10, 100, 1_000, 5_000):
        # Enough nested stacks that a hash placement never overfills one (at most 499 accounts each).
        nested = max(1, -(-count // 350))
        result = synth(
            organization, account_ids(count), nested_stacks=nested, accounts_per_stack=MAX_ACCOUNTS_PER_STACK
        )
        policy = inline_policy_characters(result.parent, "Contacts")
        print(f"  {count:>8,}  {nested:>13}  {len(result.templates):>9}  {policy:,}")


def one_organization(count: int) -> dict[str, Any]:
    """(d) for one size, in this process: synthesize with the defaults and cdk-nag, lint, measure."""
    with tempfile.TemporaryDirectory(prefix="synth-org-") as outdir:
        started = time.perf_counter()
        app = new_app(outdir)
        stack = cdk.Stack(app, "Contacts")
        organization(stack, account_ids(count))
        cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app))
        nag = "clean"
        try:
            app.synth()
        except RuntimeError as error:  # a cdk-nag finding fails synthesis
            nag = f"FAILED: {str(error)[:200]}"
        seconds = time.perf_counter() - started
        node_kib = sum(high_water_kib(pid) for pid in descendants_of(os.getpid()))
        python_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        paths = sorted(Path(outdir).glob("*.template.json"))
        templates, parent = measure_templates(Path(outdir))
        linted = time.perf_counter()
        lint = subprocess.run(
            [str(Path(sys.executable).with_name("cfn-lint")), "--format", "json", "--include-checks", "I", "--"]
            + [str(p) for p in paths],
            capture_output=True,
            text=True,
            check=False,
        )
        found = json.loads(lint.stdout) if lint.stdout.strip() else []
        # aws-cdk-lib always writes the function's DependsOn on its role, which a GetAtt enforces already.
        findings = [f for f in found if not (f["Rule"]["Id"] == "W3005" and "ProviderFunction" in str(f["Location"]))]
        lint_s = time.perf_counter() - linted
    largest = max(templates.values())
    return {
        "accounts": count,
        "seconds": seconds,
        "python_mib": python_kib / 1024,
        "node_mib": node_kib / 1024,
        "nested": len(templates) - 1,
        "largest_resources": largest[0],
        "largest_bytes": max(b for _, b in templates.values()),
        "policy": inline_policy_characters(parent, "Contacts"),
        "nag": nag,
        "lint_findings": len(findings),
        "lint_rules": sorted({f.get("Rule", {}).get("Id", "?") for f in findings}),
        "lint_s": lint_s,
        "lint_rc": lint.returncode,
    }


def organization_sizes(sizes: list[int]) -> None:
    """(d): each size in a fresh process, so that each peak memory is that size's own."""
    print(machine())
    print("\n(d) OrganizationContacts with its defaults, 3 contacts per account, under cdk-nag AwsSolutionsChecks")
    header = (
        "accounts",
        "synth s",
        "peak MiB (python, node)",
        "nested stacks",
        "largest template",
        "policy chars",
        "cdk-nag",
        "cfn-lint findings",
    )
    print("  ".join(header))
    for count in sizes:
        proc = subprocess.run(
            [sys.executable, __file__, "--one-organization", str(count)], capture_output=True, text=True, check=False
        )
        if proc.returncode != 0:
            print(f"  {count:>8,}  failed: {proc.stderr[-500:]}")
            continue
        r = json.loads(proc.stdout.strip().splitlines()[-1])
        rules = ",".join(r["lint_rules"]) or "-"
        lint = f"{r['lint_findings']} ({rules}; {r['lint_s']:.0f} s)"
        print(
            f"  {r['accounts']:>8,}  {r['seconds']:7.1f}  {r['python_mib']:6.0f}, {r['node_mib']:6.0f}"
            f"  {r['nested']:>13}  {r['largest_resources']} res, {r['largest_bytes']:,} B"
            f"  {r['policy']:,} of {MAX_ROLE_POLICY:,}  {r['nag']}  {lint}",
            flush=True,
        )
    print(
        "\nsynth s: building the app and app.synth() in a fresh process, jsii start-up included; peak MiB: the "
        f"high-water mark of resident memory; limits: {MAX_RESOURCES} resources and 1 MB per template, "
        f"{MAX_ROLE_POLICY:,} characters of inline policy per role; cfn-lint findings leave out the one W3005 "
        "aws-cdk-lib always writes (the function's DependsOn on its role, which its GetAtt enforces already)"
    )


if __name__ == "__main__":
    main()
