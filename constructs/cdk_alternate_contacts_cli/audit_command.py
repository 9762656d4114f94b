"""``audit``: the organization's ACTIVE accounts without a contact of the given types, and, with ``--cdk-out``,
the rule of the app that keeps each."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from cdk_alternate_contacts_handler import spec

from .command import EXIT_ERROR, EXIT_FINDINGS, EXIT_OK, CommandError, emit, fatal, read_live

if TYPE_CHECKING:
    from cdk_alternate_contacts_handler.organizations import OrgAccount

    from .aws import Caller
    from .cloud_assembly import StackArtifact
    from .coverage import CoverageFunction


@fatal
def run_audit(args: argparse.Namespace) -> int:
    """``audit``: the organization's ACTIVE accounts without a contact of the given types (and, with
    ``--cdk-out``, the rule that keeps each)."""
    from .audit_report import AuditReport  # noqa: PLC0415
    from .aws import Aws, list_accounts, split_active  # noqa: PLC0415

    wanted = set(args.types or [spec.AlternateContactType.SECURITY.value])
    types = [contact_type for contact_type in spec.CONTACT_TYPES if contact_type in wanted]
    app = _audited_app(args)
    aws = Aws(profile=args.profile, region=args.region, concurrency=args.concurrency)
    caller = aws.caller()
    organizations = aws.client("organizations", attempts=1)
    active, skipped = split_active(list_accounts(organizations))
    rules = None if app is None else _account_rules(app, active, caller, organizations)
    groups = [[(a.account_id, t) for t in types] for a in active]
    readings = read_live(args, aws, caller.account, groups, verb="checked", noun="accounts")
    report = AuditReport(
        caller=caller.account, types=types, checked=active, skipped=skipped, readings=readings, rules=rules
    )
    emit(args, report.text, report.data)
    if report.errors():
        return EXIT_ERROR
    return EXIT_FINDINGS if report.missing() else EXIT_OK


def _audited_app(args: argparse.Namespace) -> tuple[list[StackArtifact], list[CoverageFunction]] | None:
    """With ``--cdk-out``: the selected stacks and their coverages, read before any AWS call."""
    from .cloud_assembly import CloudAssembly  # noqa: PLC0415
    from .coverage import read_coverages  # noqa: PLC0415

    if args.cdk_out is None:
        if args.stack:
            raise CommandError("--stack selects stacks of a cloud assembly: give it with --cdk-out DIR")
        return None
    stacks = CloudAssembly(args.cdk_out).select(args.stack)
    return stacks, read_coverages(stacks)


def _account_rules(
    app: tuple[list[StackArtifact], list[CoverageFunction]],
    active: Sequence[OrgAccount],
    caller: Caller,
    organizations: Any,
) -> dict[str, str]:
    """What keeps each ACTIVE account: the stacks that list it, the coverages that keep it."""
    from .assembly import read_declarations  # noqa: PLC0415
    from .coverage import account_rules  # noqa: PLC0415

    stacks, coverages = app
    listed_by: dict[str, set[str]] = {}
    for declaration in read_declarations(stacks, caller_account=caller.account, partition=caller.partition).contacts:
        if isinstance(declaration.account, str):
            listed_by.setdefault(declaration.account, set()).add(declaration.stack)
    for coverage in coverages:
        for account_id in coverage.rules.listed:
            listed_by.setdefault(account_id, set()).add(coverage.stack)
    structure = None
    if coverages:
        from .lookup import read_structure  # noqa: PLC0415 - loads the construct library's structure module

        structure = read_structure(organizations)
    return account_rules(active, {a: sorted(s) for a, s in listed_by.items()}, coverages, structure)
