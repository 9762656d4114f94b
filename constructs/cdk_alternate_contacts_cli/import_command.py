"""``import``: the organization's live contacts, written to a contacts file for
``OrganizationContacts.from_file`` that, deployed, changes nothing.

The files are checked before any AWS call, every contact is read before anything is written, and the file
is checked with the construct library's own reader (:mod:`.importer`) before it takes its name.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Final

from cdk_alternate_contacts_handler import spec

from .command import EXIT_OK, PROG, CommandError, Slot, fatal, read_live, version

if TYPE_CHECKING:
    from cdk_alternate_contacts.structure import OrganizationStructure
    from cdk_alternate_contacts_handler.organizations import OrgAccount, Organization

    from .aws import Reading

#: The formats of the contacts file ``import`` writes, as ``OrganizationContacts.from_file`` reads them.
FILE_FORMATS: Final = ("toml", "json")


def _import_target(args: argparse.Namespace) -> tuple[Path, str]:
    """The file ``import`` writes and its format, checked before any AWS call.

    Raises
    ------
    CommandError
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
        raise CommandError(
            f"--out {out}: OrganizationContacts.from_file reads a file by its suffix: name it .toml or .json"
        )
    if file_format is not None and file_format != suffix:
        raise CommandError(
            f"--out {out} would be read as {suffix.upper()} (its suffix) but --format {file_format} was asked: "
            f"name it .{file_format}, or leave out --format"
        )
    if out.is_dir():
        raise CommandError(f"--out {out} is a folder: name the file to write, such as {out / 'contacts.toml'}")
    if not out.parent.is_dir():
        raise CommandError(f"--out {out}: the folder {out.parent} does not exist")
    if out.exists() and not args.force:
        raise CommandError(f"{out} exists: pass --force to replace it, or choose another --out")
    return out, suffix


def _import_context_file(args: argparse.Namespace) -> Path | None:
    """The context file ``import --organizational-units`` records the structure in, checked before any AWS
    call (it must be absent or hold a JSON object); ``None`` without the flag.

    Raises
    ------
    CommandError
        When ``--context-file`` is given without ``--organizational-units``.
    AwsError
        When the file exists but is not a JSON object (as ``lookup`` says it).
    """
    from .lookup import read_context  # noqa: PLC0415

    if not args.organizational_units:
        if args.context_file is not None:
            raise CommandError(
                "--context-file is where --organizational-units records the structure: pass both, or neither"
            )
        return None
    context_file: Path = args.context_file or Path("cdk.context.json")
    read_context(context_file)
    return context_file


@fatal
def run_import(args: argparse.Namespace) -> int:
    """``import``: the organization's live contacts, written to a contacts file that, deployed, changes nothing."""
    from .aws import Aws, describe_organization, list_accounts, split_active  # noqa: PLC0415

    # The files are checked before any AWS call: an existing file should not wait for a whole organization's reads.
    out, file_format = _import_target(args)
    context_file = _import_context_file(args)
    try:
        from cdk_alternate_contacts.model import ContactsModelError  # noqa: PLC0415

        from . import importer  # noqa: PLC0415
        from .import_report import ImportReport  # noqa: PLC0415
    except ImportError as error:
        raise CommandError(
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
    groups = [[(a.account_id, t) for t in spec.CONTACT_TYPES] for a in active]
    readings = read_live(args, aws, caller.account, groups, verb="read", noun="accounts")
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
        raise CommandError(f"{out} appeared while the contacts were read: pass --force to replace it") from None
    except (ContactsModelError, importer.ImportCheckError) as error:
        raise CommandError(f"nothing was written: {error}") from None
    except OSError as error:
        raise CommandError(f"cannot write {out}: {error.strerror or error}") from None
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
        raise CommandError(
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
        raise CommandError(
            f"{out} was written, but the structure it assumes was not recorded in {context_file}: {reason}; "
            f"run `{PROG} lookup --context-file {context_file}` before the next synth"
        ) from None
    return recorded(structure, context_file)


def _refuse_partial(active: Sequence[OrgAccount], readings: Mapping[Slot, Reading]) -> None:
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
    raise CommandError(
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
        f"written by `{PROG} import` {version()} on {when}, read as account {caller}:",
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
