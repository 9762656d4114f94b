"""What every command shares: the exit codes, the one error that ends a command, progress, the paced read of
live contacts and the report on stdout.

Only the standard library and the shared spec are imported here, so that the parser starts instantly; boto3
and the modules that use it are imported when a command runs.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
    from .aws import Aws, ContactReader, Reading
    from .progress import Progress

PROG: Final = "cdk-alternate-contacts"

EXIT_OK: Final = 0
EXIT_FINDINGS: Final = 1
EXIT_CHANGES: Final = 2
EXIT_ERROR: Final = 3
EXIT_UNCHECKED: Final = 4

#: A contact to read: (account id, contact type).
Slot = tuple[str, str]


class CommandError(Exception):
    """A failure that ends the command with EXIT_ERROR and one message."""


def fatal(run: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    """Turn the errors of the assembly and AWS layers into :class:`CommandError`."""

    def wrapper(args: argparse.Namespace) -> int:
        from .aws import AwsError  # noqa: PLC0415 - keeps start-up free of boto3
        from .cloud_assembly import AssemblyError  # noqa: PLC0415

        try:
            return run(args)
        except (AssemblyError, AwsError) as error:
            raise CommandError(str(error)) from None

    wrapper.__doc__ = run.__doc__
    return wrapper


def version() -> str:
    """The installed distribution's version, or ``unknown`` when run from the sources."""
    from importlib.metadata import PackageNotFoundError  # noqa: PLC0415 - only for --version and import
    from importlib.metadata import version as installed  # noqa: PLC0415

    try:
        return installed("cdk-alternate-contacts")
    except PackageNotFoundError:
        return "unknown"


def progress(args: argparse.Namespace, total: int, *, verb: str, noun: str) -> Progress:
    """Progress on stderr: shown on a terminal, or anywhere with --progress, never with --no-progress."""
    from .progress import Progress  # noqa: PLC0415

    interactive = sys.stderr.isatty()
    enabled = interactive if args.progress is None else bool(args.progress)
    return Progress(sys.stderr, total, verb=verb, noun=noun, enabled=enabled, interactive=interactive)


def contact_reader(args: argparse.Namespace, aws: Aws, caller_account: str) -> ContactReader:
    """A reader of live contacts paced by --max-rate."""
    from .aws import ContactReader  # noqa: PLC0415
    from .ratelimit import RateLimiter  # noqa: PLC0415

    # Botocore's own retries are off for this client: every attempt has to pass the shared rate limiter.
    return ContactReader(aws.client("account", attempts=1), caller_account, RateLimiter(args.max_rate))


def read_live(
    args: argparse.Namespace,
    aws: Aws,
    caller_account: str,
    groups: Sequence[Sequence[Slot]],
    *,
    verb: str,
    noun: str,
) -> dict[Slot, Reading]:
    """The live contact of every slot, read at --max-rate on --concurrency threads.

    Each group of slots is read on one thread and counted as one of the progress line's ``noun`` (an
    account's types for ``audit`` and ``import``, one contact for ``plan``); ``verb`` is what the line says
    of them (``checked``).
    """
    from .aws import run_all  # noqa: PLC0415

    reader = contact_reader(args, aws, caller_account)
    shown = progress(args, len(groups), verb=verb, noun=noun)

    def read_group(group: Sequence[Slot]) -> list[tuple[Slot, Reading]]:
        return [(slot, reader.read(*slot)) for slot in group]

    try:
        results = run_all(read_group, groups, concurrency=args.concurrency, on_done=shown.advance)
    finally:
        shown.close()
    return {slot: reading for pairs in results for slot, reading in pairs}


def emit(args: argparse.Namespace, text: Callable[[], str], data: Callable[[], Mapping[str, Any]]) -> None:
    """The report on stdout, as --format asks."""
    from .report import dump_json  # noqa: PLC0415

    output = dump_json(data()) if args.format == "json" else text()
    sys.stdout.write(output + "\n")
    sys.stdout.flush()
