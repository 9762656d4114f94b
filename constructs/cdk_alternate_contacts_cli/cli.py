"""``cdk-alternate-contacts plan | drift | audit | import``: argument parsing, the commands, exit codes.

Only the standard library and the shared spec are imported at start-up, so ``--help`` and argument errors
are instant; boto3 and the modules that use it are imported when a command runs. ``import`` also uses the
construct library's data-file reader and model, which load without aws_cdk, to check the file it writes.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, NoReturn

from cdk_alternate_contacts_handler import spec

if TYPE_CHECKING:
    from cdk_alternate_contacts.structure import OrganizationStructure
    from cdk_alternate_contacts_handler.organizations import OrgAccount, Organization

    from .assembly import Declaration
    from .aws import Aws, Caller, ContactReader, Reading
    from .cloud_assembly import StackArtifact
    from .coverage import CoverageFunction
    from .progress import Progress

PROG: Final = "cdk-alternate-contacts"

EXIT_OK: Final = 0
EXIT_FINDINGS: Final = 1
EXIT_CHANGES: Final = 2
EXIT_ERROR: Final = 3
EXIT_UNCHECKED: Final = 4

#: The formats of the contacts file ``import`` writes, as ``OrganizationContacts.from_file`` reads them.
FILE_FORMATS: Final = ("toml", "json")

EXIT_CODES: Final = f"""\
exit codes:
  {EXIT_OK}  success: plan finished; drift found every contact in sync; audit found no account missing a contact;
     lookup recorded the structure; import wrote the file
  {EXIT_FINDINGS}  drift found a live contact that differs from its declaration (or its coverage's rules) or is
     missing; audit found an ACTIVE account missing a contact
  {EXIT_CHANGES}  plan --detailed-exitcode: a deploy would create or update a contact, or create the resource
     of a contact whose account only the deploy knows (its stack or resource is not deployed yet), or a
     coverage would write a contact (one it only reports is not a change)
  {EXIT_ERROR}  error: bad arguments, no cloud assembly, a coverage whose rules file is missing or unreadable,
     no or rejected credentials, access denied, a contact or a deployed stack that could not be read, or a
     declared value the API would reject (the rest is
     still reported); an error outranks findings and changes; import: an account whose contacts could not be
     read, or an existing FILE without --force (nothing is written)
  {EXIT_UNCHECKED}  drift found nothing drifted or missing but could not check every contact: a value only the
     deploy knows that the deployed stack does not tell (a contact detail from a parameter, SSM or another
     resource), or a contact whose account only the deploy knows and whose resource is not deployed;
     drift never calls such a contact in sync; findings (1) outrank this
"""

DESCRIPTION: Final = """\
Read-only checks of AWS account alternate contacts (BILLING, OPERATIONS, SECURITY) declared with the
cdk-alternate-contacts constructs. Nothing is ever written to AWS.

  plan    what a deploy of the synthesized app (cdk.out) would create, update or leave alone, and what
          its coverages would write to the accounts they keep
  drift   after a deploy: do the live contacts still match the app? (exit 1 when not)
  audit   which ACTIVE accounts of the organization have no contact of a type (exit 1 when any); with
          --cdk-out, which rule of the app keeps each
  lookup  record which organizational unit holds each account (cdk.context.json), for units' rules
  import  write the organization's live contacts to a contacts file for OrganizationContacts.from_file
          that, deployed, changes nothing

An account id known only at deploy time (a CfnParameter, an AWS::Organizations::Account's AccountId) is
read from the deployed stack: its contact resource's physical id, <account>/<TYPE>[+<TYPE>...], names it
(CloudFormation ListStackResources, nested stacks included, only for such contacts).

AWS access uses the standard credential chain (environment, profile, SSO, role), --profile and --region;
AWS_ENDPOINT_URL (or AWS_ENDPOINT_URL_ACCOUNT, _CLOUDFORMATION, _ORGANIZATIONS, _STS) points it at a local
emulator.
Reading another account's contacts needs the organization's management account or the delegated
administrator for account.amazonaws.com, with trusted access enabled. Reads are paced below the Account
API's quota (GetAlternateContact: 10 a second, bursts of 15) and retried with backoff when throttled.
"""


def _coverage_cost(command: str) -> str:
    """What a coverage costs ``command`` (``plan``): its reads, at the Account API's quota."""
    return (
        f"a {command} of 10,000 covered accounts reads 30,000 contacts: about 50 minutes at the "
        "GetAlternateContact quota"
    )


COVERAGE_PLAN: Final = f"""\
A coverage (OrganizationContacts with coverage=Coverage(...)) keeps every ACTIVE account in its scope that its
[[accounts]] does not list. After the declared contacts, plan shows what each coverage would write to each
covered account today, decided as its function decides, with the rules bundled in it: CREATE (no live
contact), UPDATE (the live one differs: the rules' one is written back), NO CHANGE, or DRIFT (reported) when
its on_drift is report (never written, so not a change). DECLARED BY names the coverage and the account's
rule: the deepest organizational unit with a rule on its path, or defaults. Suspended accounts and accounts
outside its units are not covered. It reads the organization (Organizations ListAccounts, DescribeOrganization,
ListRoots, ListOrganizationalUnitsForParent, ListAccountsForParent) and each covered account's contacts of
the types the rules give:
{_coverage_cost("plan")}.
--no-coverage leaves the coverages out."""

COVERAGE_DRIFT: Final = f"""\
The accounts a coverage keeps are compared with its rules too (DRIFTED, MISSING, IN SYNC; DRIFTED (reported)
under a coverage whose on_drift is report), counted like the declared contacts. This reads the organization
and each covered account's contacts:
{_coverage_cost("drift check")}.
--no-coverage leaves them out."""


def _no_coverage_option(parser: argparse.ArgumentParser, command: str) -> None:
    parser.add_argument(
        "--no-coverage",
        dest="coverage",
        action="store_false",
        help="leave out the accounts the app's coverages keep and the Organizations reads they need "
        f"({_coverage_cost(command)})",
    )


class _Parser(argparse.ArgumentParser):
    """An argument parser whose usage errors exit with EXIT_ERROR: 2 means "changes" for plan."""

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(EXIT_ERROR, f"{self.prog}: error: {message}\n")


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be more than 0 (got {text})")
    return value


def _positive_int(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number of 1 or more (got {text!r})")
    return int(text)


IMPORT_DESCRIPTION: Final = """\
Read the organization's ACTIVE accounts (Organizations ListAccounts; SUSPENDED and PENDING_CLOSURE accounts
are skipped) and their BILLING, OPERATIONS and SECURITY contacts, and write a contacts file that
OrganizationContacts.from_file reads and that, deployed, changes nothing (`plan --detailed-exitcode` exits 0):

  defaults   each type's most common complete value among the accounts; a tie goes to the value of the
             lowest account id; no default when more accounts lack the type than hold that value
  overrides  an account with another value overrides only the fields that differ (all four when the type
             has no default)
  opt_out    an account without a contact of a type that has a default opts out of it

With --organizational-units, values shared by an organizational unit's accounts become that unit's rule
([[organizational_units]]), units taken top down (parents first, siblings by id): per type, when the most
common value among the unit's accounts (at any depth; no contact counts as a value) is not the one they
would inherit (the units above, then the default), is held by at least 2 of them and by more than the
inherited one, the unit overrides it (the fields that differ from the default) or opts out of it. Ties keep
the inherited value, then go to the value of the lowest account id. Accounts then override or opt out only
where their live contact differs from what their units give them. The structure used is recorded in
--context-file as `lookup` records it, so that the next synth places every account as the file assumes.

Every ACTIVE account is listed by id, with its Organizations name as a label, the management account
included: run it from the management account (its own contacts are read without AccountId). If any
contact cannot be read, nothing is written. The file is created atomically, readable by its owner only
(0600), and checked with the construct library's own reader first. It holds contact details, which are
never shown on the terminal (the summary masks them): keep it where such data belongs, not in a public
repository.
"""


def _common_options(*, report: bool) -> _Parser:
    """The AWS, output and pacing options; ``report``: with ``--format table|json`` for a report on stdout."""
    from .ratelimit import GET_CONTACT_RATE  # noqa: PLC0415 - standard library only, kept beside its meaning

    common = _Parser(add_help=False)
    aws = common.add_argument_group("AWS")
    aws.add_argument("--profile", help="named profile from ~/.aws/config (default: the standard credential chain)")
    aws.add_argument("--region", help="region of the API clients (default: the configured one, else us-east-1)")
    output = common.add_argument_group("output")
    if report:
        output.add_argument(
            "--format", choices=("table", "json"), default="table", help="table for people, json for programs"
        )
    output.add_argument(
        "--progress",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="show progress on stderr (default: only when stderr is a terminal)",
    )
    pacing = common.add_argument_group("pacing")
    pacing.add_argument(
        "--max-rate",
        type=_positive_float,
        default=GET_CONTACT_RATE,
        metavar="PER_SECOND",
        help="GetAlternateContact calls a second at most (default: %(default)g, the API's quota; "
        "lower it when other tools use the same account's quota)",
    )
    pacing.add_argument(
        "--concurrency", type=_positive_int, default=4, help="reads in flight at once (default: %(default)s)"
    )
    return common


def build_parser() -> argparse.ArgumentParser:
    """The command line: four sub-commands sharing the AWS, output and pacing options."""
    common = _common_options(report=True)
    declared = _Parser(add_help=False)
    app = declared.add_argument_group("app")
    app.add_argument(
        "--cdk-out",
        type=Path,
        default=Path("cdk.out"),
        metavar="DIR",
        help="the synthesized cloud assembly (default: %(default)s; run `cdk synth` first)",
    )
    app.add_argument(
        "--stack",
        action="extend",
        nargs="+",
        default=[],
        metavar="NAME",
        help="only these stacks (glob patterns as in the CDK CLI; nested stacks follow their parent; "
        "default: every stack)",
    )
    app.add_argument("--show-details", action="store_true", help="show contact details in clear (default: masked)")

    parser = _Parser(
        prog=PROG,
        description=DESCRIPTION,
        epilog=EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    commands = parser.add_subparsers(title="commands", dest="command", required=True, metavar="COMMAND")

    plan = commands.add_parser(
        "plan",
        parents=[declared, common],
        help="what a deploy would create, update or leave alone",
        description=(
            "Compare the contacts declared in a synthesized app with the live ones, per account and type:\n"
            "CREATE (no live contact), UPDATE (names the fields that differ), NO CHANGE, or UNKNOWN when a\n"
            "declared value is only known during the deploy. An account only the deploy knows is read from the\n"
            "deployed stack (the resource's physical id); while the stack or the resource is not deployed, the\n"
            "contact is NEW: a deploy creates it. Contact details are masked unless --show-details.\n\n"
            f"{COVERAGE_PLAN}"
        ),
        epilog=EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    plan.add_argument(
        "--detailed-exitcode",
        action="store_true",
        help=f"exit {EXIT_CHANGES} when a deploy would create or update a contact, NEW ones included (as "
        "`terraform plan` does), or a coverage would write one",
    )
    _no_coverage_option(plan, "plan")
    plan.set_defaults(run=run_plan)

    drift = commands.add_parser(
        "drift",
        parents=[declared, common],
        help="after a deploy: live contacts that differ from the app (exit 1)",
        description=(
            "Compare the live contacts with the ones the deployed app declares, per account and type:\n"
            "DRIFTED (names the fields that differ), MISSING, IN SYNC. Exits 1 when any contact drifted or is\n"
            "missing. An account only the deploy knows is read from the deployed stack (the resource's physical\n"
            "id). A contact that cannot be checked is UNKNOWN (a value the deployed stack does not tell) or NOT\n"
            f"DEPLOYED, never IN SYNC: exit {EXIT_UNCHECKED} when nothing else is wrong. Contact details are masked\n"
            "unless --show-details.\n\n"
            f"{COVERAGE_DRIFT}"
        ),
        epilog=EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _no_coverage_option(drift, "drift check")
    drift.set_defaults(run=run_drift, detailed_exitcode=False)

    audit = commands.add_parser(
        "audit",
        parents=[common],
        help="ACTIVE accounts of the organization missing a contact (exit 1)",
        description=(
            "List the organization's ACTIVE accounts (Organizations ListAccounts; SUSPENDED and PENDING_CLOSURE\n"
            "accounts are skipped) and report those without a contact of the given types. Run it from the\n"
            "management account (its own contacts are read without AccountId) or a delegated administrator.\n\n"
            "With --cdk-out, every ACTIVE account is listed with the RULE that keeps it: listed (<stack>) when a\n"
            "stack declares its contacts, coverage: <unit id | defaults> when a coverage keeps it (the deepest\n"
            "unit with a rule on its path; the organization's structure is read for it: Organizations ListRoots,\n"
            "ListOrganizationalUnitsForParent, ListAccountsForParent, DescribeOrganization), or not covered."
        ),
        epilog=EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    audit.add_argument(
        "--type",
        dest="types",
        action="extend",
        nargs="+",
        type=str.upper,
        choices=spec.CONTACT_TYPES,
        metavar="TYPE",
        help=f"contact types to require, of {', '.join(spec.CONTACT_TYPES)} (default: SECURITY)",
    )
    audit_app = audit.add_argument_group("app")
    audit_app.add_argument(
        "--cdk-out",
        type=Path,
        metavar="DIR",
        help="a synthesized cloud assembly: show which rule keeps each ACTIVE account (default: none, no RULE)",
    )
    audit_app.add_argument(
        "--stack",
        action="extend",
        nargs="+",
        default=[],
        metavar="NAME",
        help="with --cdk-out: only these stacks (glob patterns; default: every stack)",
    )
    audit.set_defaults(run=run_audit)

    lookup = commands.add_parser(
        "lookup",
        parents=[common],
        help="record which organizational unit holds each account, for units' rules (cdk.context.json)",
        description=(
            "Read the organization's structure (Organizations ListRoots, ListOrganizationalUnitsForParent,\n"
            "ListAccountsForParent) and record it in the app's cdk.context.json, as CDK's context lookups do:\n"
            "OrganizationContacts applies [[organizational_units]] rules to listed accounts by the unit that\n"
            "holds them, read from there at synth. Run it again when accounts move or join. Only ids and\n"
            "the units' names are recorded. Nothing is written to AWS."
        ),
        epilog=EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    lookup.add_argument(
        "--context-file",
        type=Path,
        default=Path("cdk.context.json"),
        metavar="FILE",
        help="the app's context file (default: %(default)s in the current folder; other keys are kept)",
    )
    lookup.set_defaults(run=run_lookup)

    importing = commands.add_parser(
        "import",
        parents=[_common_options(report=False)],
        help="write the organization's live contacts to a contacts file that, deployed, changes nothing",
        description=IMPORT_DESCRIPTION,
        epilog=EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    file = importing.add_argument_group("file")
    file.add_argument(
        "--out",
        type=Path,
        metavar="FILE",
        help="the contacts file to write, .toml or .json (default: contacts.toml, or contacts.json with "
        "--format json); never the terminal: it holds contact details",
    )
    file.add_argument(
        "--format",
        dest="file_format",
        type=str.lower,
        choices=FILE_FORMATS,
        help="the file's format (default: from --out's suffix, else toml)",
    )
    file.add_argument("--force", action="store_true", help="replace FILE if it exists (default: refuse, exit 3)")
    units = importing.add_argument_group("organizational units")
    units.add_argument(
        "--organizational-units",
        action="store_true",
        help="give values an organizational unit's accounts share to the unit's rule (default: only defaults "
        "and accounts); reads the organization's structure (as `lookup` does) and records it in --context-file",
    )
    units.add_argument(
        "--context-file",
        type=Path,
        metavar="FILE",
        help="with --organizational-units: the app's context file the structure is recorded in (default: "
        "cdk.context.json in the current folder; other keys are kept)",
    )
    importing.set_defaults(run=run_import)
    return parser


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version  # noqa: PLC0415 - only for --version

    try:
        return version("cdk-alternate-contacts")
    except PackageNotFoundError:
        return "unknown"


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code (see ``--help``)."""
    args = build_parser().parse_args(argv)
    try:
        code: int = args.run(args)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader went away (`| head`): stop quietly, and keep Python from complaining at exit.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_ERROR
    except _CommandError as error:
        print(f"{PROG}: error: {error}", file=sys.stderr)
        return EXIT_ERROR
    return code


class _CommandError(Exception):
    """A failure that ends the command with EXIT_ERROR and one message."""


def _fatal(run: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    """Turn the errors of the assembly and AWS layers into :class:`_CommandError`."""

    def wrapper(args: argparse.Namespace) -> int:
        from .aws import AwsError  # noqa: PLC0415 - keeps start-up free of boto3
        from .cloud_assembly import AssemblyError  # noqa: PLC0415

        try:
            return run(args)
        except (AssemblyError, AwsError) as error:
            raise _CommandError(str(error)) from None

    wrapper.__doc__ = run.__doc__
    return wrapper


def _progress(args: argparse.Namespace, total: int, *, verb: str, noun: str) -> Progress:
    """Progress on stderr: shown on a terminal, or anywhere with --progress, never with --no-progress."""
    from .progress import Progress  # noqa: PLC0415

    interactive = sys.stderr.isatty()
    enabled = interactive if args.progress is None else bool(args.progress)
    return Progress(sys.stderr, total, verb=verb, noun=noun, enabled=enabled, interactive=interactive)


def _reader(args: argparse.Namespace, aws: Aws, caller_account: str) -> ContactReader:
    """A reader of live contacts paced by --max-rate."""
    from .aws import ContactReader  # noqa: PLC0415
    from .ratelimit import RateLimiter  # noqa: PLC0415

    # Botocore's own retries are off for this client: every attempt has to pass the shared rate limiter.
    return ContactReader(aws.client("account", attempts=1), caller_account, RateLimiter(args.max_rate))


def _emit(args: argparse.Namespace, text: Callable[[], str], data: Callable[[], Mapping[str, Any]]) -> None:
    """The report on stdout, as --format asks."""
    from .report import dump_json  # noqa: PLC0415

    output = dump_json(data()) if args.format == "json" else text()
    sys.stdout.write(output + "\n")
    sys.stdout.flush()


@_fatal
def run_plan(args: argparse.Namespace) -> int:
    """``plan``: what a deploy would do to each declared contact."""
    return _compare(args, "plan")


@_fatal
def run_drift(args: argparse.Namespace) -> int:
    """``drift``: whether the live contacts still match the declared ones."""
    return _compare(args, "drift")


def _compare(args: argparse.Namespace, command: str) -> int:
    from .assembly import read_declarations  # noqa: PLC0415
    from .aws import Aws, StackReader, run_all  # noqa: PLC0415
    from .cloud_assembly import CloudAssembly  # noqa: PLC0415
    from .compare import DRIFT_WORDS, PLAN_WORDS, UNCHECKED, Outcome, compare, duplicates, slot  # noqa: PLC0415
    from .coverage import read_coverages  # noqa: PLC0415
    from .deployed import resolve_deployed  # noqa: PLC0415
    from .report import ContactReport  # noqa: PLC0415

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
    readings = {}
    if slots:
        reader = _reader(args, aws, caller.account)
        progress = _progress(args, len(slots), verb="read", noun="contacts")
        try:
            results = run_all(lambda s: reader.read(*s), slots, concurrency=args.concurrency, on_done=progress.advance)
        finally:
            progress.close()
        readings = dict(zip(slots, results, strict=True))

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
    _emit(args, report.text, report.data)

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


@_fatal
def run_audit(args: argparse.Namespace) -> int:
    """``audit``: the organization's ACTIVE accounts without a contact of the given types (and, with
    ``--cdk-out``, the rule that keeps each)."""
    from .aws import Aws, list_accounts, run_all, split_active  # noqa: PLC0415
    from .report import AuditReport  # noqa: PLC0415

    wanted = set(args.types or [spec.AlternateContactType.SECURITY.value])
    types = [contact_type for contact_type in spec.CONTACT_TYPES if contact_type in wanted]
    app = _audited_app(args)
    aws = Aws(profile=args.profile, region=args.region, concurrency=args.concurrency)
    caller = aws.caller()
    organizations = aws.client("organizations", attempts=1)
    active, skipped = split_active(list_accounts(organizations))
    rules = None if app is None else _account_rules(app, active, caller, organizations)
    reader = _reader(args, aws, caller.account)
    progress = _progress(args, len(active), verb="checked", noun="accounts")

    def read_account(account_id: str) -> list[tuple[tuple[str, str], Reading]]:
        return [((account_id, t), reader.read(account_id, t)) for t in types]

    try:
        results = run_all(
            read_account, [a.account_id for a in active], concurrency=args.concurrency, on_done=progress.advance
        )
    finally:
        progress.close()
    readings = {key: reading for pairs in results for key, reading in pairs}
    report = AuditReport(
        caller=caller.account, types=types, checked=active, skipped=skipped, readings=readings, rules=rules
    )
    _emit(args, report.text, report.data)
    if report.errors():
        return EXIT_ERROR
    return EXIT_FINDINGS if report.missing() else EXIT_OK


def _audited_app(args: argparse.Namespace) -> tuple[list[StackArtifact], list[CoverageFunction]] | None:
    """With ``--cdk-out``: the selected stacks and their coverages, read before any AWS call."""
    from .cloud_assembly import CloudAssembly  # noqa: PLC0415
    from .coverage import read_coverages  # noqa: PLC0415

    if args.cdk_out is None:
        if args.stack:
            raise _CommandError("--stack selects stacks of a cloud assembly: give it with --cdk-out DIR")
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


@_fatal
def run_lookup(args: argparse.Namespace) -> int:
    """``lookup``: record the organization's structure in the app's context file."""
    from .aws import Aws  # noqa: PLC0415
    from .lookup import read_structure, record, summary  # noqa: PLC0415

    aws = Aws(profile=args.profile, region=args.region, concurrency=args.concurrency)
    aws.caller()  # credentials are checked first, with the same messages as the other commands
    structure = read_structure(aws.client("organizations", attempts=1))
    record(args.context_file, structure)
    print(summary(structure, args.context_file))
    return EXIT_OK


def _import_target(args: argparse.Namespace) -> tuple[Path, str]:
    """The file ``import`` writes and its format, checked before any AWS call.

    Raises
    ------
    _CommandError
        When the suffix and ``--format`` disagree, the suffix is neither .toml nor .json, the folder is
        missing, or the file exists without ``--force``.
    """
    out: Path | None = args.out
    file_format: str | None = args.file_format
    if out is None:
        file_format = file_format or FILE_FORMATS[0]
        out = Path(f"contacts.{file_format}")
    suffix = out.suffix.lower().lstrip(".")
    if suffix not in FILE_FORMATS:
        raise _CommandError(
            f"--out {out}: OrganizationContacts.from_file reads a file by its suffix: name it .toml or .json"
        )
    if file_format is not None and file_format != suffix:
        raise _CommandError(
            f"--out {out} would be read as {suffix.upper()} (its suffix) but --format {file_format} was asked: "
            f"name it .{file_format}, or leave out --format"
        )
    if out.is_dir():
        raise _CommandError(f"--out {out} is a folder: name the file to write, such as {out / 'contacts.toml'}")
    if not out.parent.is_dir():
        raise _CommandError(f"--out {out}: the folder {out.parent} does not exist")
    if out.exists() and not args.force:
        raise _CommandError(f"{out} exists: pass --force to replace it, or choose another --out")
    return out, suffix


def _import_context_file(args: argparse.Namespace) -> Path | None:
    """The context file ``import --organizational-units`` records the structure in, checked before any AWS
    call (it must be absent or hold a JSON object); ``None`` without the flag.

    Raises
    ------
    _CommandError
        When ``--context-file`` is given without ``--organizational-units``.
    AwsError
        When the file exists but is not a JSON object (as ``lookup`` says it).
    """
    from .lookup import read_context  # noqa: PLC0415

    if not args.organizational_units:
        if args.context_file is not None:
            raise _CommandError(
                "--context-file is where --organizational-units records the structure: pass both, or neither"
            )
        return None
    context_file: Path = args.context_file or Path("cdk.context.json")
    read_context(context_file)
    return context_file


@_fatal
def run_import(args: argparse.Namespace) -> int:
    """``import``: the organization's live contacts, written to a contacts file that, deployed, changes nothing."""
    from .aws import Aws, describe_organization, list_accounts, run_all, split_active  # noqa: PLC0415

    # The files are checked before any AWS call: an existing file should not wait for a whole organization's reads.
    out, file_format = _import_target(args)
    context_file = _import_context_file(args)
    try:
        from cdk_alternate_contacts.model import ContactsModelError  # noqa: PLC0415

        from . import importer  # noqa: PLC0415
        from .report import ImportReport  # noqa: PLC0415
    except ImportError as error:
        raise _CommandError(
            f"import needs {error.name} (the construct library's file reader, tomli-w): install "
            "cdk-alternate-contacts with its dependencies"
        ) from None

    aws = Aws(profile=args.profile, region=args.region, concurrency=args.concurrency)
    caller = aws.caller()
    organizations = aws.client("organizations", attempts=1)
    active, skipped = split_active(list_accounts(organizations))
    organization = describe_organization(organizations)
    structure = None
    if context_file is not None:
        from .lookup import read_structure  # noqa: PLC0415

        # Read before the contacts: a caller who may not read the structure learns it before a long read.
        structure = read_structure(aws.client("organizations", attempts=1))
        _refuse_unplaced(active, structure)
    reader = _reader(args, aws, caller.account)
    progress = _progress(args, len(active), verb="read", noun="accounts")

    def read_account(account_id: str) -> list[tuple[tuple[str, str], Reading]]:
        return [((account_id, t), reader.read(account_id, t)) for t in spec.CONTACT_TYPES]

    try:
        results = run_all(
            read_account, [a.account_id for a in active], concurrency=args.concurrency, on_done=progress.advance
        )
    finally:
        progress.close()
    readings = {key: reading for pairs in results for key, reading in pairs}
    _refuse_partial(active, readings)

    live = {key: reading.contact for key, reading in readings.items()}
    imported = importer.choose(active, live, structure)
    header = _file_header(
        out, organization, caller.account, active=len(active), skipped=len(skipped), context_file=context_file
    )
    text = importer.render(imported, file_format, header)
    account_ids = [a.account_id for a in active]

    def verify(path: Path) -> None:
        importer.check(path, live, account_ids, source=str(out), structure=structure)

    try:
        importer.write_private(out, text, replace=args.force, verify=verify)
    except importer.OutputExistsError:
        raise _CommandError(f"{out} appeared while the contacts were read: pass --force to replace it") from None
    except (ContactsModelError, importer.ImportCheckError) as error:
        raise _CommandError(f"nothing was written: {error}") from None
    except OSError as error:
        raise _CommandError(f"cannot write {out}: {error.strerror or error}") from None
    recorded = None
    if context_file is not None and structure is not None:
        recorded = _record_structure(out, context_file, structure)

    report = ImportReport(
        organization=organization.organization_id,
        management_account=organization.management_account_id,
        caller=caller.account,
        imported=imported,
        skipped=skipped,
        path=str(out),
        file_format=file_format,
        recorded=recorded,
    )
    sys.stdout.write(report.text() + "\n")
    sys.stdout.flush()
    return EXIT_OK


def _refuse_unplaced(active: Sequence[OrgAccount], structure: OrganizationStructure) -> None:
    """Stop, before reading any contact, when an ACTIVE account is not in the structure: it left or moved
    between the two reads, and the file's units' rules could not be checked for it."""
    unplaced = [a.account_id for a in active if structure.path_of(a.account_id) is None]
    if unplaced:
        raise _CommandError(
            f"{_listed(unplaced)} listed as ACTIVE but not found under the organization's root when its structure "
            "was read (an account that left or was moved meanwhile): run the import again; nothing was written"
        )


def _listed(account_ids: Sequence[str]) -> str:
    shown = ", ".join(account_ids[:10]) + (f" and {len(account_ids) - 10} more" if len(account_ids) > 10 else "")
    return f"account {shown} is" if len(account_ids) == 1 else f"accounts {shown} are"


def _record_structure(out: Path, context_file: Path, structure: OrganizationStructure) -> str:
    """Record the structure ``out`` assumes in the context file, as ``lookup`` does; what was recorded."""
    from .aws import AwsError  # noqa: PLC0415
    from .lookup import record, recorded  # noqa: PLC0415

    try:
        record(context_file, structure)
    except (AwsError, OSError) as error:
        reason = error.strerror if isinstance(error, OSError) and error.strerror else str(error)
        raise _CommandError(
            f"{out} was written, but the structure it assumes was not recorded in {context_file}: {reason}; "
            f"run `{PROG} lookup --context-file {context_file}` before the next synth"
        ) from None
    return recorded(structure, context_file)


def _refuse_partial(active: Sequence[OrgAccount], readings: Mapping[tuple[str, str], Reading]) -> None:
    """Stop, writing nothing, when any contact could not be read: an account left out of the file is no longer
    managed, and one written with guessed contacts would get the wrong ones."""
    failed: dict[str, list[str]] = {}
    names = {a.account_id: a.name for a in active}
    for (account_id, contact_type), reading in readings.items():
        if reading.failed:
            failed.setdefault(f"{reading.code}: {reading.message}", []).append(f"{account_id}/{contact_type}")
    if not failed:
        return
    accounts = sorted({slot.split("/")[0] for slots in failed.values() for slot in slots})
    listed = ", ".join(f"{a} ({names[a]})" for a in accounts)
    reasons = "\n".join(f"  {', '.join(slots)}: {reason}" for reason, slots in failed.items())
    raise _CommandError(
        f"could not read the contacts of {len(accounts)} of {len(active)} ACTIVE accounts ({listed}); nothing was "
        f"written: a file without them would silently stop managing them\n{reasons}"
    )


def _file_header(
    out: Path, organization: Organization, caller: str, *, active: int, skipped: int, context_file: Path | None
) -> list[str]:
    """The TOML file's opening comment: what wrote it, when, from where, and what it holds."""
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    organization_id, management_account_id = organization.organization_id, organization.management_account_id
    header = [
        f"Alternate contacts of AWS organization {organization_id} (management account {management_account_id}),",
        f"written by `{PROG} import` {_version()} on {when}, read as account {caller}:",
        f"{active} ACTIVE accounts; {skipped} not ACTIVE, left out.",
        "",
        "THIS FILE HOLDS CONTACT DETAILS (names, email addresses, phone numbers): keep it where such data belongs",
        "(a private repository, a secrets store), never in a public repository.",
        "",
        "Deployed as it is, it changes no contact:",
        f'    OrganizationContacts.from_file(stack, "Organization", "{out.name}",',
        f'                                   organization_id="{organization_id}",',
        f'                                   management_account_id="{management_account_id}")',
        "Each type's default is its most common value; an account that differs overrides only the fields that",
        "differ (the others come from the default); an account without a contact of a type opts out of it.",
    ]
    if context_file is not None:
        header += [
            "An organizational unit's rule holds what most of its accounts share beyond what they inherit. It",
            f"applies by the structure recorded in {context_file.name}, as `{PROG} lookup` records it:",
            "run that again after accounts move.",
        ]
    return header


if __name__ == "__main__":
    raise SystemExit(main())
