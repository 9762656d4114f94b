"""``cdk-alternate-contacts plan | drift | audit | lookup | import``: the argument parser, its help, and the
dispatch to the commands (``plan_command``, ``audit_command``, ``lookup_command``, ``import_command``).

Only the standard library and the shared spec are imported at start-up, so ``--help`` and argument errors
are instant; boto3 and the modules that use it are imported when a command runs. ``import`` also uses the
construct library's data-file reader and model, which load without aws_cdk, to check the file it writes.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Final, NoReturn

from cdk_alternate_contacts_handler import spec

from .audit_command import run_audit
from .command import (
    EXIT_CHANGES,
    EXIT_ERROR,
    EXIT_FINDINGS,
    EXIT_OK,
    EXIT_UNCHECKED,
    PROG,
    CommandError,
    version,
)
from .import_command import FILE_FORMATS, run_import
from .lookup_command import run_lookup
from .plan_command import run_drift, run_plan

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

PLAN_DESCRIPTION: Final = (
    "Compare the contacts declared in a synthesized app with the live ones, per account and type:\n"
    "CREATE (no live contact), UPDATE (names the fields that differ), NO CHANGE, or UNKNOWN when a\n"
    "declared value is only known during the deploy. An account only the deploy knows is read from the\n"
    "deployed stack (the resource's physical id); while the stack or the resource is not deployed, the\n"
    "contact is NEW: a deploy creates it. Contact details are masked unless --show-details.\n\n"
    f"{COVERAGE_PLAN}"
)

DRIFT_DESCRIPTION: Final = (
    "Compare the live contacts with the ones the deployed app declares, per account and type:\n"
    "DRIFTED (names the fields that differ), MISSING, IN SYNC. Exits 1 when any contact drifted or is\n"
    "missing. An account only the deploy knows is read from the deployed stack (the resource's physical\n"
    "id). A contact that cannot be checked is UNKNOWN (a value the deployed stack does not tell) or NOT\n"
    f"DEPLOYED, never IN SYNC: exit {EXIT_UNCHECKED} when nothing else is wrong. Contact details are masked\n"
    "unless --show-details.\n\n"
    f"{COVERAGE_DRIFT}"
)

AUDIT_DESCRIPTION: Final = (
    "List the organization's ACTIVE accounts (Organizations ListAccounts; SUSPENDED and PENDING_CLOSURE\n"
    "accounts are skipped) and report those without a contact of the given types. Run it from the\n"
    "management account (its own contacts are read without AccountId) or a delegated administrator.\n\n"
    "With --cdk-out, every ACTIVE account is listed with the RULE that keeps it: listed (<stack>) when a\n"
    "stack declares its contacts, coverage: <unit id | defaults> when a coverage keeps it (the deepest\n"
    "unit with a rule on its path; the organization's structure is read for it: Organizations ListRoots,\n"
    "ListOrganizationalUnitsForParent, ListAccountsForParent, DescribeOrganization), or not covered."
)

LOOKUP_DESCRIPTION: Final = (
    "Read the organization's structure (Organizations ListRoots, ListOrganizationalUnitsForParent,\n"
    "ListAccountsForParent) and record it in the app's cdk.context.json, as CDK's context lookups do:\n"
    "OrganizationContacts applies [[organizational_units]] rules to listed accounts by the unit that\n"
    "holds them, read from there at synth. Run it again when accounts move or join. Only ids and\n"
    "the units' names are recorded. Nothing is written to AWS."
)


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


def _command(
    commands: argparse._SubParsersAction[_Parser],
    name: str,
    run: Callable[[argparse.Namespace], int],
    *,
    parents: list[_Parser],
    summary: str,
    description: str,
) -> _Parser:
    """A sub-command that runs ``run``: its description keeps its line breaks, its help ends with the exit codes."""
    command = commands.add_parser(
        name,
        parents=parents,
        help=summary,
        description=description,
        epilog=EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    command.set_defaults(run=run)
    return command


def _stack_option(group: argparse._ActionsContainer, help_text: str) -> None:
    """``--stack NAME...``: the stacks of the cloud assembly to read, glob patterns (default: every stack)."""
    group.add_argument("--stack", action="extend", nargs="+", default=[], metavar="NAME", help=help_text)


def _path_option(
    group: argparse._ActionsContainer, flag: str, metavar: str, default: Path | None = None, *, help_text: str
) -> None:
    """A folder or file option (``--cdk-out DIR``, ``--context-file FILE``), read as a :class:`Path`."""
    group.add_argument(flag, type=Path, default=default, metavar=metavar, help=help_text)


def build_parser() -> argparse.ArgumentParser:
    """The command line: four sub-commands sharing the AWS, output and pacing options."""
    common = _common_options(report=True)
    declared = _Parser(add_help=False)
    app = declared.add_argument_group("app")
    _path_option(
        app,
        "--cdk-out",
        "DIR",
        default=Path("cdk.out"),
        help_text="the synthesized cloud assembly (default: %(default)s; run `cdk synth` first)",
    )
    _stack_option(
        app,
        "only these stacks (glob patterns as in the CDK CLI; nested stacks follow their parent; default: every stack)",
    )
    app.add_argument("--show-details", action="store_true", help="show contact details in clear (default: masked)")

    parser = _Parser(
        prog=PROG,
        description=DESCRIPTION,
        epilog=EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {version()}")
    commands = parser.add_subparsers(title="commands", dest="command", required=True, metavar="COMMAND")

    plan = _command(
        commands,
        "plan",
        run_plan,
        parents=[declared, common],
        summary="what a deploy would create, update or leave alone",
        description=PLAN_DESCRIPTION,
    )
    plan.add_argument(
        "--detailed-exitcode",
        action="store_true",
        help=f"exit {EXIT_CHANGES} when a deploy would create or update a contact, NEW ones included (as "
        "`terraform plan` does), or a coverage would write one",
    )
    _no_coverage_option(plan, "plan")

    drift = _command(
        commands,
        "drift",
        run_drift,
        parents=[declared, common],
        summary="after a deploy: live contacts that differ from the app (exit 1)",
        description=DRIFT_DESCRIPTION,
    )
    _no_coverage_option(drift, "drift check")
    drift.set_defaults(detailed_exitcode=False)

    audit = _command(
        commands,
        "audit",
        run_audit,
        parents=[common],
        summary="ACTIVE accounts of the organization missing a contact (exit 1)",
        description=AUDIT_DESCRIPTION,
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
    _path_option(
        audit_app,
        "--cdk-out",
        "DIR",
        help_text="a synthesized cloud assembly: show which rule keeps each ACTIVE account (default: none, no RULE)",
    )
    _stack_option(audit_app, "with --cdk-out: only these stacks (glob patterns; default: every stack)")

    lookup = _command(
        commands,
        "lookup",
        run_lookup,
        parents=[common],
        summary="record which organizational unit holds each account, for units' rules (cdk.context.json)",
        description=LOOKUP_DESCRIPTION,
    )
    _path_option(
        lookup,
        "--context-file",
        "FILE",
        default=Path("cdk.context.json"),
        help_text="the app's context file (default: %(default)s in the current folder; other keys are kept)",
    )

    importing = _command(
        commands,
        "import",
        run_import,
        parents=[_common_options(report=False)],
        summary="write the organization's live contacts to a contacts file that, deployed, changes nothing",
        description=IMPORT_DESCRIPTION,
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
    _path_option(
        units,
        "--context-file",
        "FILE",
        help_text="with --organizational-units: the app's context file the structure is recorded in (default: "
        "cdk.context.json in the current folder; other keys are kept)",
    )
    return parser


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
    except CommandError as error:
        print(f"{PROG}: error: {error}", file=sys.stderr)
        return EXIT_ERROR
    return code


if __name__ == "__main__":
    raise SystemExit(main())
