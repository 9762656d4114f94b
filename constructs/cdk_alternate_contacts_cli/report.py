"""What every report shares: aligned tables for people, JSON for programs, counted nouns, the sentence of
skipped accounts. The reports themselves are :mod:`.contact_report` (``plan``, ``drift``),
:mod:`.audit_report` and :mod:`.import_report`; contact details are masked in each (the handler's
:mod:`cdk_alternate_contacts_handler.masking`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
    from cdk_alternate_contacts_handler.organizations import OrgAccount

#: Lists of skipped accounts longer than this are only counted.
MAX_LISTED: Final = 10


def table(headers: Sequence[str], rows: Sequence[Sequence[str | Sequence[str]]]) -> str:
    """Columns aligned with two spaces; a cell given as a list of lines spans several lines of output."""
    cells = [[[cell] if isinstance(cell, str) else list(cell) or [""] for cell in row] for row in rows]
    widths = [len(header) for header in headers]
    for row in cells:
        for index, lines in enumerate(row):
            widths[index] = max(widths[index], *(len(line) for line in lines))
    out = ["  ".join(header.ljust(width) for header, width in zip(headers, widths, strict=True)).rstrip()]
    for row in cells:
        for line_no in range(max(len(lines) for lines in row)):
            parts = [
                (lines[line_no] if line_no < len(lines) else "").ljust(width)
                for lines, width in zip(row, widths, strict=True)
            ]
            out.append("  ".join(parts).rstrip())
    return "\n".join(out)


def counted(number: int, noun: str) -> str:
    """``1 account``, ``2 accounts``."""
    return f"{number} {noun}{'' if number == 1 else 's'}"


def skipped_line(skipped: Sequence[OrgAccount]) -> str:
    """``Skipped 2 accounts that are not ACTIVE: 111111111111 (SUSPENDED), ...``, the first few listed."""
    listed = ", ".join(f"{a.account_id} ({a.state})" for a in skipped[:MAX_LISTED])
    more = f" and {len(skipped) - MAX_LISTED} more" if len(skipped) > MAX_LISTED else ""
    verb = "is" if len(skipped) == 1 else "are"
    return f"Skipped {counted(len(skipped), 'account')} that {verb} not ACTIVE: {listed}{more}."


def dump_json(data: Mapping[str, Any]) -> str:
    """Indented JSON, keys in the order written."""
    return json.dumps(data, indent=2)
