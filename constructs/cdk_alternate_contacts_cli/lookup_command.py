"""``lookup``: the organization's structure, recorded in the app's context file for units' rules."""

from __future__ import annotations

import argparse

from .command import EXIT_OK, fatal


@fatal
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
