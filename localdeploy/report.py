"""Readable accounts of what an operation did and of what the accounts hold, contact details masked."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import KW_ONLY, dataclass, field
from typing import ClassVar

from cdk_alternate_contacts_handler import spec
from cdk_alternate_contacts_handler.masking import mask, mask_text

from .contacts import Details, Slot
from .custom_resources import RequestRecord
from .engine import NESTED_STACK, OperationResult, StackEvent


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
    lines += render_failure(result)
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


#: Reasons CloudFormation gives to resources that failed only because another one did.
_CASCADE_REASONS = ("Resource creation cancelled", "Resource update cancelled", "The following resource(s) failed")


def first_failure(result: OperationResult) -> StackEvent | None:
    """The event CloudFormation's console leads with: the earliest ``*_FAILED`` of a resource (not a stack),
    leaving out the cancellations that follow it; ``None`` when nothing failed."""
    failures = [
        event
        for event in result.events
        if event.status.endswith("_FAILED") and not event.reason.startswith(_CASCADE_REASONS)
    ]
    resources = [event for event in failures if event.resource_type != NESTED_STACK]
    found = resources or failures
    return min(found, key=lambda event: event.timestamp) if found else None


def render_failure(result: OperationResult) -> list[str]:
    """The first failure's stack, logical id, type, status and reason (masked), or nothing."""
    event = first_failure(result)
    if event is None:
        return []
    where = event.logical_id if event.stack_name == result.stack_name else f"{event.stack_name}/{event.logical_id}"
    return [f"  first failure: {where} ({event.resource_type}) {event.status}: {mask_text(event.reason)[:400]}"]


@dataclass(eq=False)
class Progress:
    """Reports how the operations on stack ``stack_name`` are going, at most once every ``interval_s``: an
    engine's ``on_event``.

    Each operation starts afresh (the stack's own CREATE_, UPDATE_ or DELETE_IN_PROGRESS). A line counts the
    resources finished, in progress and failed so far (nested stacks' included) and the time since the
    operation began; it names no contact detail. ``out`` receives each line.
    """

    STARTS: ClassVar[tuple[str, ...]] = ("CREATE_IN_PROGRESS", "UPDATE_IN_PROGRESS", "DELETE_IN_PROGRESS")

    stack_name: str
    out: Callable[[str], None] = print
    _: KW_ONLY
    interval_s: float = 10.0
    clock: Callable[[], float] = time.monotonic
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False)
    _operation: str = field(default="", init=False)
    _status: dict[tuple[str, str], str] = field(default_factory=dict, init=False)

    def __post_init__(self) -> None:
        self._started = self._last = self.clock()

    def __call__(self, event: StackEvent) -> None:
        with self._lock:
            now = self.clock()
            own = event.logical_id == event.stack_name
            if own and event.stack_name == self.stack_name and event.status in self.STARTS:
                self._operation = event.status.removesuffix("_IN_PROGRESS").lower()
                self._started = self._last = now
                self._status.clear()
            if not own:
                self._status[(event.stack_id, event.logical_id)] = event.status
            if now - self._last < self.interval_s:
                return
            self._last = now
            line = self.line(now)
        self.out(line)

    def line(self, now: float | None = None) -> str:
        """The progress of the current operation, as one line."""
        statuses = list(self._status.values())
        done = sum(1 for status in statuses if status.endswith(("_COMPLETE", "_SKIPPED")))
        failed = sum(1 for status in statuses if status.endswith("_FAILED"))
        going = sum(1 for status in statuses if status.endswith("_IN_PROGRESS"))
        elapsed = (now if now is not None else self.clock()) - self._started
        return (
            f"  ... {self._operation or 'operation'} {self.stack_name}: {done} resources done, {going} in progress, "
            f"{failed} failed, {elapsed:.0f} s"
        )
