"""``plan`` and ``drift``: the contacts a synthesized app declares, and those its coverages keep, compared with
the live ones; the two commands differ only in their words and their exit codes."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import TYPE_CHECKING

from .command import EXIT_CHANGES, EXIT_ERROR, EXIT_FINDINGS, EXIT_OK, EXIT_UNCHECKED, Slot, emit, fatal, read_live

if TYPE_CHECKING:
    from cdk_alternate_contacts.structure import OrganizationStructure
    from cdk_alternate_contacts_handler.organizations import OrgAccount

    from .assembly import Declaration
    from .aws import Aws, Reading
    from .coverage import CoverageFunction


@fatal
def run_plan(args: argparse.Namespace) -> int:
    """``plan``: what a deploy would do to each declared contact."""
    return _compare(args, "plan")


@fatal
def run_drift(args: argparse.Namespace) -> int:
    """``drift``: whether the live contacts still match the declared ones."""
    return _compare(args, "drift")


def _compare(args: argparse.Namespace, command: str) -> int:
    from .assembly import read_declarations  # noqa: PLC0415
    from .aws import Aws, StackReader  # noqa: PLC0415
    from .cloud_assembly import CloudAssembly  # noqa: PLC0415
    from .compare import DRIFT_WORDS, PLAN_WORDS, UNCHECKED, Outcome, compare, duplicates, slot  # noqa: PLC0415
    from .contact_report import ContactReport  # noqa: PLC0415
    from .coverage import read_coverages  # noqa: PLC0415
    from .deployed import resolve_deployed  # noqa: PLC0415

    # The assembly is checked before any AWS call: a missing cdk.out should not wait for credentials.
    assembly = CloudAssembly(args.cdk_out)
    stacks = assembly.select(args.stack)
    coverages = read_coverages(stacks)
    aws = Aws(profile=args.profile, region=args.region, concurrency=args.concurrency)
    caller = aws.caller()
    declared = read_declarations(stacks, caller_account=caller.account, partition=caller.partition)
    # Accounts that only the deploy knows are read from the deployed stacks (only those that hold one).
    resolved = resolve_deployed(
        declared.contacts, StackReader(aws).resources, caller_account=caller.account, region=aws.region
    )
    contacts = [declaration for declaration, _ in resolved]
    resolutions = [resolution for _, resolution in resolved]
    notes = list(declared.notes)
    if coverages and not args.coverage:
        notes += [f"{c.declared_by} coverage: its accounts are left out (--no-coverage)" for c in coverages]
    elif coverages:
        covered, coverage_notes = _covered(aws, coverages)
        contacts += covered
        resolutions += [None] * len(covered)
        notes += coverage_notes

    slots = sorted({key for key in map(slot, contacts) if key is not None})
    readings: dict[Slot, Reading] = {}
    if slots:
        readings = read_live(args, aws, caller.account, [[s] for s in slots], verb="read", noun="contacts")

    report = ContactReport(
        command=command,
        words=PLAN_WORDS if command == "plan" else DRIFT_WORDS,
        assembly=str(args.cdk_out),
        stacks=[stack.name for stack in stacks],
        caller=caller.account,
        comparisons=compare(contacts, readings, resolutions),
        notes=[*notes, *duplicates(contacts)],
        reveal=args.show_details,
    )
    emit(args, report.text, report.data)

    counts = report.counts()
    if counts[Outcome.ERROR] or counts[Outcome.INVALID]:
        return EXIT_ERROR
    pending = counts[Outcome.ABSENT] + counts[Outcome.DIFFERENT]
    if command == "drift":
        # A contact a coverage only reports has drifted all the same.
        if pending or counts[Outcome.REPORTED]:
            return EXIT_FINDINGS
        return EXIT_UNCHECKED if any(counts[outcome] for outcome in UNCHECKED) else EXIT_OK
    # A resource not deployed yet is created by the deploy, whatever its account turns out to be. A contact a
    # coverage only reports is never written: not a change.
    return EXIT_CHANGES if (pending or counts[Outcome.NEW]) and args.detailed_exitcode else EXIT_OK


def _organization(aws: Aws) -> tuple[list[OrgAccount], list[OrgAccount], OrganizationStructure]:
    """The organization's ACTIVE accounts, the others, and where each sits: what a coverage needs."""
    from .aws import list_accounts, split_active  # noqa: PLC0415
    from .lookup import read_structure  # noqa: PLC0415 - loads the construct library's structure module

    organizations = aws.client("organizations", attempts=1)
    active, inactive = split_active(list_accounts(organizations))
    return active, inactive, read_structure(organizations)


def _covered(aws: Aws, coverages: Sequence[CoverageFunction]) -> tuple[list[Declaration], list[str]]:
    """What each coverage would write to the accounts it keeps, and a note per coverage of whom it keeps."""
    from .coverage import covered_accounts  # noqa: PLC0415

    active, inactive, structure = _organization(aws)
    declarations: list[Declaration] = []
    notes = []
    for coverage in coverages:
        kept = covered_accounts(coverage, active, structure)
        declarations += kept.declarations()
        notes.append(kept.note(active=len(active), inactive=len(inactive)))
    return declarations, notes
