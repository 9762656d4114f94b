"""Readable accounts of what an operation did and of what the accounts hold, contact details masked."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from cdk_alternate_contacts_handler import spec

from .contacts import Details, Slot, mask, mask_text
from .custom_resources import RequestRecord
from .engine import OperationResult


def _physical(record: RequestRecord) -> str:
    sent, answered = record.physical_id, record.answered_physical_id
    if record.request_type == "Create":
        return f"-> {answered or '(none)'}"
    if record.request_type == "Update" and answered and answered != sent:
        return f"{sent} -> {answered}"
    return str(sent)


def _table(rows: list[list[str]], indent: str = "  ") -> list[str]:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return [
        indent + "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip() for row in rows
    ]


def render_requests(requests: Iterable[RequestRecord]) -> list[str]:
    """One line per CloudFormation request: phase, type, logical id, physical id, outcome and reason.

    A resource of a nested stack is shown as ``<nested stack's logical id>/<logical id>``.
    """
    rows = [["phase", "request", "logical id", "physical id", "answer", "reason"]]
    for record in requests:
        outcome = record.status
        if record.answers > 1:
            outcome += f" (answered {record.answers} times!)"
        rows.append(
            [
                record.phase,
                record.request_type,
                f"{record.stack_path}/{record.logical_id}" if record.stack_path else record.logical_id,
                _physical(record),
                outcome,
                mask_text(record.reason)[:160],
            ]
        )
    if len(rows) == 1:
        return ["  (no custom resource requests)"]
    return _table(rows)


def render_operation(result: OperationResult) -> list[str]:
    """The requests sent, the final status, and anything that went wrong."""
    lines = [
        f"{result.operation} {result.stack_name}: {result.status} in {result.duration_s:.1f} s"
        f"{'' if result.changed else ' (no changes)'}"
    ]
    nested = {name: status for name, status in result.stacks.items() if name != result.stack_name}
    if nested:
        lines.append(f"  nested stacks: {len(nested)} ({', '.join(f'{n} {c}' for n, c in _tally(nested.values()))})")
    lines += render_requests(result.requests)
    lines += [f"  note: {mask_text(note)}" for note in result.notes]
    lines += [f"  PROBLEM: {mask_text(problem)}" for problem in result.problems]
    return lines


def render_contacts(contacts: Mapping[Slot, Details], slots: Iterable[Slot]) -> list[str]:
    """The contact in each slot (those asked for, and any other found), masked, or ``(none)``."""
    rows = [["account", "type", "email", "name", "phone", "title"]]
    for slot in sorted(set(slots) | set(contacts)):
        details = contacts.get(slot)
        if details is None:
            rows.append([*slot, "(none)", "", "", ""])
        else:
            rows.append([*slot, *(mask(field, details[field]) for field in spec.DETAIL_FIELDS)])
    return _table(rows)


def _tally(statuses: Iterable[str]) -> list[tuple[int, str]]:
    counts: dict[str, int] = {}
    for status in statuses:
        counts[status] = counts.get(status, 0) + 1
    return [(count, status) for status, count in sorted(counts.items())]
