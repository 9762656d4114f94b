"""The report of ``plan`` and ``drift``: one row per contact, its outcome, and what would change or differs."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from cdk_alternate_contacts_handler import spec
from cdk_alternate_contacts_handler.masking import show, show_details

from .assembly import CoveredBy, Declaration
from .compare import UNCHECKED, Comparison, Outcome
from .deployed import Found, Resolution
from .report import table

#: The CHANGES line of a covered contact that differs under a coverage whose on_drift is report.
REPORTED_PLAN: Final = "not written: the coverage's on_drift is report"
REPORTED_DRIFT: Final = "reported only, never restored (on_drift report)"

#: Shown in the ACCOUNT or TYPE column when only the deploy knows the value.
DEPLOY_TIME: Final = "(deploy time)"


def _account(declaration: Declaration) -> str:
    return declaration.account if isinstance(declaration.account, str) else DEPLOY_TIME


def _type(declaration: Declaration) -> str:
    return declaration.contact_type if isinstance(declaration.contact_type, str) else DEPLOY_TIME


def _slot_name(declaration: Declaration) -> str:
    return f"{_account(declaration)}/{_type(declaration)}"


@dataclass
class ContactReport:
    """The result of ``plan`` or ``drift``, ready to print.

    Attributes
    ----------
    command:
        ``plan`` or ``drift``.
    words:
        The outcome names of that command (CREATE or MISSING, ...).
    assembly, stacks, caller:
        What was read, and as whom.
    comparisons:
        One per declared contact, ordered by account and type; then one per contact a coverage would write
        to a covered account (the rows whose DECLARED BY names the coverage and its rule).
    notes:
        Things the user should know that are not rows (a nested stack out of reach, an access hint).
    reveal:
        Show contact details unmasked (``--show-details``).
    """

    command: str
    words: Mapping[Outcome, str]
    assembly: str
    stacks: Sequence[str]
    caller: str
    comparisons: Sequence[Comparison]
    notes: list[str] = field(default_factory=list)
    reveal: bool = False

    def counts(self) -> Counter[Outcome]:
        """How many contacts had each outcome."""
        return Counter(comparison.outcome for comparison in self.comparisons)

    def error_notes(self) -> list[str]:
        """One note per distinct read failure, naming the contacts it hit."""
        by_message: dict[str, list[str]] = {}
        for comparison in self.comparisons:
            reading = comparison.reading
            if reading is not None and reading.failed:
                text = f"{reading.code}: {reading.message}"
                by_message.setdefault(text, []).append(_slot_name(comparison.declaration))
        return [f"{', '.join(slots)}: {text}" for text, slots in by_message.items()]

    def changes(self, comparison: Comparison) -> list[str]:
        """The lines of the CHANGES column for one contact."""
        return [*self._outcome_lines(comparison), *self._deployed_lines(comparison)]

    def _outcome_lines(self, comparison: Comparison) -> list[str]:
        declaration = comparison.declaration
        outcome = comparison.outcome
        # Values known only at deploy time are listed whatever the outcome: they may change it.
        if outcome is Outcome.ABSENT:
            return ["no live contact", *declaration.unresolved]
        if outcome in (Outcome.DIFFERENT, Outcome.REPORTED) and comparison.live is not None:
            lines = [self._difference(key, declaration, comparison.live) for key in comparison.changed]
            if outcome is Outcome.REPORTED:
                lines.append(REPORTED_PLAN if self.command == "plan" else REPORTED_DRIFT)
            return [*lines, *declaration.unresolved]
        if outcome in (Outcome.UNKNOWN, Outcome.NEW):
            return list(declaration.unresolved)
        if outcome is Outcome.INVALID:
            return list(declaration.invalid)
        if outcome is Outcome.ERROR and comparison.reading is not None:
            return [str(comparison.reading.code)]
        return []

    def _deployed_lines(self, comparison: Comparison) -> list[str]:
        """What the deployed stack told (or could not tell) of an account only the deploy knows."""
        resolution = comparison.resolution
        if resolution is None:
            return []
        location = comparison.declaration.location
        condition = location.condition if location is not None else None
        return [deployed_line(resolution, command=self.command, condition=condition)]

    def _difference(self, key: str, declaration: Declaration, live: Mapping[str, str]) -> str:
        was = show(key, live.get(key, ""), reveal=self.reveal)
        wanted = show(key, declaration.details.get(key, ""), reveal=self.reveal)
        hidden = "" if was != wanted else " (differs in masked characters; --show-details shows them)"
        if self.command == "drift":
            source = "declared" if declaration.covered_by is None else "rules"
            return f"{key}: live {was}, {source} {wanted}{hidden}"
        return f"{key}: {was} -> {wanted}{hidden}"

    def text(self) -> str:
        """The table, a summary line, and the notes."""
        heading = (
            f"{self.command.capitalize()} of {self.assembly} (stacks: {', '.join(self.stacks) or 'none'}), "
            f"live contacts read as account {self.caller}"
        )
        if not self.comparisons:
            return "\n".join([heading, "", "No alternate contacts are declared in these stacks.", *self._notes()])
        column = "ACTION" if self.command == "plan" else "STATUS"
        rows = [
            [
                _account(c.declaration),
                _type(c.declaration),
                self.words[c.outcome],
                c.declaration.declared_by,
                self.changes(c),
            ]
            for c in self.comparisons
        ]
        body = table(["ACCOUNT", "TYPE", column, "DECLARED BY", "CHANGES"], rows)
        return "\n".join([heading, "", body, "", self.summary(), *self._notes()])

    def summary(self) -> str:
        """``Plan: 2 to create, 1 to update, 3 unchanged.`` or ``Drift: 1 drifted, ...``."""
        counts = self.counts()
        if self.command == "plan":
            parts = [
                f"{counts[Outcome.ABSENT]} to create",
                f"{counts[Outcome.DIFFERENT]} to update",
                f"{counts[Outcome.SAME]} unchanged",
            ]
        else:
            parts = [
                f"{counts[Outcome.DIFFERENT]} drifted",
                f"{counts[Outcome.ABSENT]} missing",
                f"{counts[Outcome.SAME]} in sync",
            ]
        if counts[Outcome.NEW]:
            parts.append(
                f"{counts[Outcome.NEW]} to create in "
                f"{'an account' if counts[Outcome.NEW] == 1 else 'accounts'} known only at deploy time"
                if self.command == "plan"
                else f"{counts[Outcome.NEW]} not deployed"
            )
        if counts[Outcome.UNKNOWN]:
            parts.append(
                f"{counts[Outcome.UNKNOWN]} known only at deploy time"
                if self.command == "plan"
                else f"{counts[Outcome.UNKNOWN]} not checked (known only at deploy time)"
            )
        if counts[Outcome.REPORTED]:
            reported = counts[Outcome.REPORTED]
            parts.append(
                f"{reported} drifted, left as {'it is' if reported == 1 else 'they are'} (on_drift report)"
                if self.command == "plan"
                else f"{reported} drifted, reported only (on_drift report)"
            )
        if counts[Outcome.INVALID]:
            parts.append(f"{counts[Outcome.INVALID]} invalid")
        if counts[Outcome.ERROR]:
            parts.append(f"{counts[Outcome.ERROR]} not readable")
        return f"{self.command.capitalize()}: {', '.join(parts)}."

    def unchecked_notes(self) -> list[str]:
        """For drift: a note when some contacts could not be compared with a live one (never "in sync")."""
        unchecked = sum(1 for comparison in self.comparisons if comparison.outcome in UNCHECKED)
        if self.command != "drift" or not unchecked:
            return []
        noun = "contact" if unchecked == 1 else "contacts"
        return [
            f"{unchecked} {noun} could not be checked (see CHANGES): drift does not call "
            f"{'it' if unchecked == 1 else 'them'} in sync"
        ]

    def _notes(self) -> list[str]:
        notes = [*self.notes, *self.error_notes(), *self.unchecked_notes()]
        return ["", *(f"note: {note}" for note in notes)] if notes else []

    def data(self) -> dict[str, Any]:
        """The report as JSON-ready data; the outcome under ``Action`` (plan) or ``Status`` (drift)."""
        key = "Action" if self.command == "plan" else "Status"
        contacts = []
        for comparison in self.comparisons:
            declaration = comparison.declaration
            reading = comparison.reading
            contacts.append(
                {
                    spec.ACCOUNT_ID: declaration.account if isinstance(declaration.account, str) else None,
                    spec.CONTACT_TYPE: declaration.contact_type if isinstance(declaration.contact_type, str) else None,
                    key: self.words[comparison.outcome],
                    "Stack": declaration.stack,
                    "DeclaredBy": declaration.declared_by,
                    "ChangedFields": list(comparison.changed),
                    "Declared": _known_details(declaration.details, reveal=self.reveal),
                    "Live": show_details(comparison.live, reveal=self.reveal) if comparison.live is not None else None,
                    "Unresolved": list(declaration.unresolved),
                    "DeployedResource": _deployed_data(comparison.resolution),
                    "Coverage": _coverage_data(declaration.covered_by),
                    "Invalid": list(declaration.invalid),
                    "Error": (
                        {"Code": reading.code, "Message": reading.message}
                        if reading is not None and reading.failed
                        else None
                    ),
                }
            )
        counts = self.counts()
        return {
            "Command": self.command,
            "CloudAssembly": self.assembly,
            "Stacks": list(self.stacks),
            "CallerAccount": self.caller,
            "Summary": {self.words[outcome]: counts[outcome] for outcome in Outcome},
            "Contacts": contacts,
            "Notes": [*self.notes, *self.error_notes(), *self.unchecked_notes()],
        }


def deployed_line(resolution: Resolution, *, command: str, condition: str | None) -> str:
    """One line of the CHANGES column: what the deployed stack said of the resource, or why it could not say.

    Parameters
    ----------
    command:
        ``plan`` says what a deploy would do; ``drift`` what it could not compare.
    condition:
        The resource's template condition: a deploy creates it only if the condition holds.
    """
    if resolution.found in (Found.NO_STACK, Found.NO_RESOURCE):
        return _not_deployed_line(resolution, command=command, condition=condition)
    stack = resolution.stack
    lines = {
        Found.ACCOUNT: f"{spec.ACCOUNT_ID} from the deployed resource: {resolution.physical_id}"
        + (" (a deploy may give another)" if command == "plan" else ""),
        Found.OTHER_ACCOUNT: (
            f"stack {stack} deploys to account {resolution.account}: read it with that account's credentials "
            "(--profile) to learn the account id"
        ),
        Found.FOREIGN_ID: (
            f"the deployed resource {resolution.resource} ({resolution.status}) has physical id "
            f"{resolution.physical_id}, not one the handler issues: its account is not known"
        ),
        Found.UNREADABLE: f"stack {stack} could not be read in {resolution.region}",
    }
    return lines[resolution.found]


def _not_deployed_line(resolution: Resolution, *, command: str, condition: str | None) -> str:
    if resolution.found is Found.NO_STACK:
        where = f"stack {resolution.stack} is not deployed (none in account {resolution.account}, {resolution.region})"
    else:
        status = f" ({resolution.status})" if resolution.status else ""
        where = f"stack {resolution.stack} has no resource {resolution.resource}{status} yet"
    if command != "plan":
        return f"{where}: nothing deployed to compare"
    if condition is not None:
        return f"{where}: a deploy creates it if condition {condition} holds"
    return f"{where}: a deploy creates it (counted as a change)"


def _deployed_data(resolution: Resolution | None) -> dict[str, Any] | None:
    if resolution is None:
        return None
    return {
        "Found": resolution.found.value,
        "StackName": resolution.stack,
        "Region": resolution.region,
        "LogicalIdPath": resolution.resource,
        "PhysicalResourceId": resolution.physical_id,
        "ResourceStatus": resolution.status or None,
    }


def _coverage_data(covered_by: CoveredBy | None) -> dict[str, Any] | None:
    """For a contact a coverage would write: which coverage and rule; ``None`` for one a resource declares."""
    if covered_by is None:
        return None
    return {
        "DeclaredBy": covered_by.coverage,
        "Rule": covered_by.rule,
        "UnitName": covered_by.unit_name,
        "OnDrift": covered_by.on_drift,
    }


def _known_details(details: Mapping[str, str], *, reveal: bool) -> dict[str, str]:
    return {key: show(key, details[key], reveal=reveal) for key in spec.DETAIL_FIELDS if key in details}
