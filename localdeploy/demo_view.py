"""What ``make demo`` prints: each operation's requests, the events delivered, what the coverage function
did, and the contacts read back (details masked).

Nothing here decides whether a step passed (:mod:`.demo_model` does); it only shows the reader what happened.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .assembly import REPO
from .contacts import Details, Slot, read_contacts
from .engine import OperationResult
from .event_bus import Delivery
from .report import render_contacts, render_operation


def shown_path(path: Path) -> Path:
    """A path as the reader knows it: relative to the repository when inside it."""
    return path.relative_to(REPO) if path.is_relative_to(REPO) else path


@dataclass
class View:
    """Prints the steps of one demo run, and reads the accounts back for each.

    Attributes
    ----------
    out:
        Receives each line.
    reader:
        An Account API client of the emulator.
    accounts:
        The accounts read back after each step (more join as the demo goes on).
    slots:
        The slots always shown, ``(none)`` when empty: every slot some step gives a contact.
    """

    out: Callable[[str], None]
    reader: Any
    accounts: set[str]
    slots: set[Slot]

    def heading(self, step: str) -> None:
        """A step's title line."""
        self.out(f"== {step} " + "=" * (70 - len(step)))

    def operation(self, result: OperationResult) -> None:
        """The requests an operation sent, its outcome, and the function code it ran."""
        for line in render_operation(result):
            self.out(line)
        for path in result.code_dirs:
            shown = shown_path(Path(path))
            contents = ", ".join(sorted(p.name + ("/" if p.is_dir() else "") for p in Path(path).iterdir()))
            self.out(f"  function code (the deployed asset): {shown}  ({contents})")

    def contacts(
        self, accounts: Iterable[str] | None = None, *, title: str = "contacts read back"
    ) -> dict[Slot, Details]:
        """Read every account back (all three types) and print those of ``accounts`` (default: all), masked."""
        live = read_contacts(self.reader, self.accounts)
        shown = set(self.accounts if accounts is None else accounts)
        self.out(f"  {title} from the Account API emulator (masked):")
        rows = render_contacts(
            {slot: details for slot, details in live.items() if slot[0] in shown},
            {slot for slot in self.slots if slot[0] in shown},
        )
        for line in rows:
            self.out("  " + line)
        return live

    def show(self, step: str, result: OperationResult) -> dict[Slot, Details]:
        """A step that is one operation: its title, its requests, every account read back."""
        self.heading(step)
        self.operation(result)
        live = self.contacts()
        self.out("")
        return live


def render_events(events: Iterable[Mapping[str, Any]], deliveries: Iterable[Delivery]) -> list[str]:
    """One line per event sent on a bus (its source, detail type and API name) and where each went."""
    by_event: dict[str, list[Delivery]] = {}
    for delivery in deliveries:
        by_event.setdefault(delivery.event_id, []).append(delivery)
    lines = []
    for event in events:
        detail = event.get("detail") or {}
        name = detail.get("eventName") or event.get("detail-type")
        went = [
            f"rule {d.rule_arn.rsplit('/', 1)[-1]} -> {d.target_arn.rsplit(':', 1)[-1]}"
            + ("" if d.ok else f" FAILED ({d.error_code})")
            for d in by_event.get(str(event.get("id")), [])
        ]
        lines.append(
            f"  event: {event.get('source')} {name} ({event.get('detail-type')}, {event.get('region')}): "
            + ("; ".join(went) or "matched no rule")
        )
    return lines


def coverage_reports(log_files: Iterable[Path]) -> list[dict[str, Any]]:
    """The coverage function's report of each account it handled (one JSON log line each: run, account, rule,
    outcome, why, types), oldest first."""
    found: list[tuple[str, dict[str, Any]]] = []
    for path in log_files:
        for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
            fields = line.split("\t")
            if len(fields) == 4 and fields[3].startswith('{"run":'):
                found.append((fields[1], json.loads(fields[3])))
    return [record for _, record in sorted(found, key=lambda pair: pair[0])]


def render_report(record: Mapping[str, Any], names: Mapping[str, str]) -> str:
    """One account's coverage report as a sentence (ids, rule and outcomes: the log holds no contact detail);
    ``names`` labels the accounts and units it knows."""
    account = str(record.get("account"))
    label = f"{account} {names[account]}" if account in names else account
    types = ", ".join(f"{kind} {outcome}" for kind, outcome in sorted((record.get("types") or {}).items()))
    why = f": {record['why']}" if record.get("why") else ""
    rule = str(record.get("rule") or "")
    rule = f", rule {rule}" + (f" ({names[rule]})" if rule in names else "") if rule else ""
    return f"  coverage function: {label}{rule}: {record.get('outcome')}{why}{f' ({types})' if types else ''}"
