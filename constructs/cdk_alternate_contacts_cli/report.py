"""What the user reads: aligned tables for people, JSON for programs, contact details masked in both."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final

from cdk_alternate_contacts_handler import spec
from cdk_alternate_contacts_handler.masking import show, show_details
from cdk_alternate_contacts_handler.organizations import OrgAccount

from .assembly import CoveredBy, Declaration
from .aws import Reading
from .compare import UNCHECKED, Comparison, Outcome
from .deployed import Found, Resolution

if TYPE_CHECKING:
    # Types only: the importer loads the construct library, which plan, drift and audit never need.
    from .importer import ImportedContacts

#: Shown in the ACCOUNT or TYPE column when only the deploy knows the value.
DEPLOY_TIME: Final = "(deploy time)"

#: The CHANGES line of a covered contact that differs under a coverage whose on_drift is report.
REPORTED_PLAN: Final = "not written: the coverage's on_drift is report"
REPORTED_DRIFT: Final = "reported only, never restored (on_drift report)"

#: Lists of skipped accounts longer than this are only counted.
MAX_LISTED: Final = 10

#: Said of a JSON contacts file, which cannot carry the TOML file's opening comment.
_JSON_NOTICE: Final = " JSON has no comments: unlike a TOML file, this one does not say so itself."

#: The accounts an import summary lists by name (those with overrides or opt-outs); the rest are counted.
MAX_DEPARTURES: Final = 20


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


def _account(declaration: Declaration) -> str:
    return declaration.account if isinstance(declaration.account, str) else DEPLOY_TIME


def _type(declaration: Declaration) -> str:
    return declaration.contact_type if isinstance(declaration.contact_type, str) else DEPLOY_TIME


def _slot_name(declaration: Declaration) -> str:
    return f"{_account(declaration)}/{_type(declaration)}"


@dataclass
class AuditReport:
    """The result of ``audit``: which ACTIVE accounts lack a contact of the checked types.

    ``rules`` (with ``--cdk-out``): what keeps each ACTIVE account (:func:`.coverage.account_rules`); the
    report then lists every ACTIVE account with its RULE, not only those missing a contact.
    """

    caller: str
    types: Sequence[str]
    checked: Sequence[OrgAccount]
    skipped: Sequence[OrgAccount]
    readings: Mapping[tuple[str, str], Reading]
    rules: Mapping[str, str] | None = None

    def missing(self) -> list[tuple[OrgAccount, list[str]]]:
        """Each account missing at least one checked type, with those types."""
        found = []
        for account in self.checked:
            readings = [(t, self._reading(account, t)) for t in self.types]
            types = [t for t, reading in readings if reading.contact is None and not reading.failed]
            if types:
                found.append((account, types))
        return found

    def errors(self) -> list[tuple[OrgAccount, str, Reading]]:
        """Each (account, type) whose contact could not be read."""
        return [
            (account, t, self._reading(account, t))
            for account in self.checked
            for t in self.types
            if self._reading(account, t).failed
        ]

    def _reading(self, account: OrgAccount, contact_type: str) -> Reading:
        return self.readings[(account.account_id, contact_type)]

    def text(self) -> str:
        """A heading, the accounts missing contacts, the unreadable ones, and a summary."""
        types = ", ".join(self.types)
        lines = [f"Audit of {types} contacts in {len(self.checked)} ACTIVE accounts, read as account {self.caller}", ""]
        missing = self.missing()
        if self.rules is not None and self.checked:
            lacking = {a.account_id: types for a, types in missing}
            rows = [
                [a.account_id, a.name, self.rules[a.account_id], ", ".join(lacking.get(a.account_id, []))]
                for a in self.checked
            ]
            lines += [table(["ACCOUNT", "NAME", "RULE", "MISSING"], rows), ""]
        elif missing:
            lines.append(
                table(["ACCOUNT", "NAME", "MISSING"], [[a.account_id, a.name, ", ".join(t)] for a, t in missing])
            )
            lines.append("")
        errors = self.errors()
        if errors:
            rows = [[a.account_id, a.name, t, str(r.code)] for a, t, r in errors]
            lines.append("Not readable:")
            lines.append(table(["ACCOUNT", "NAME", "TYPE", "ERROR"], rows))
            lines.append("")
        lines.append(self.summary(len(missing)))
        if self.skipped:
            listed = ", ".join(f"{a.account_id} ({a.state})" for a in self.skipped[:MAX_LISTED])
            more = f" and {len(self.skipped) - MAX_LISTED} more" if len(self.skipped) > MAX_LISTED else ""
            verb = "is" if len(self.skipped) == 1 else "are"
            lines.append(f"Skipped {_count(len(self.skipped), 'account')} that {verb} not ACTIVE: {listed}{more}.")
        for text, accounts in _group_errors(errors).items():
            lines.append(f"note: {', '.join(accounts)}: {text}")
        return "\n".join(lines)

    def summary(self, missing: int) -> str:
        """``1 of 4 ACTIVE accounts has no SECURITY contact.``, or that every account has its contacts."""
        if not self.checked:
            return "The organization has no ACTIVE account."
        wanted = f"a {self.types[0]} contact" if len(self.types) == 1 else f"{' and '.join(self.types)} contacts"
        if not missing:
            if len(self.checked) == 1:
                return f"The only ACTIVE account has {wanted}."
            return f"All {len(self.checked)} ACTIVE accounts have {wanted}."
        verb = "lacks" if missing == 1 else "lack"
        lacking = (
            f"a {self.types[0]} contact" if len(self.types) == 1 else f"one of the {' or '.join(self.types)} contacts"
        )
        return f"{missing} of {_count(len(self.checked), 'ACTIVE account')} {verb} {lacking}."

    def data(self) -> dict[str, Any]:
        """The audit as JSON-ready data; with rules, ``Accounts`` lists every ACTIVE account and its ``Rule``."""
        rules = self.rules
        missing = self.missing()
        found: dict[str, Any] = {
            "Command": "audit",
            "CallerAccount": self.caller,
            "AlternateContactTypes": list(self.types),
            "AccountsChecked": len(self.checked),
            "Missing": [
                {
                    spec.ACCOUNT_ID: a.account_id,
                    "Name": a.name,
                    **({"Rule": rules[a.account_id]} if rules is not None else {}),
                    "MissingTypes": types,
                }
                for a, types in missing
            ],
            "Skipped": [{spec.ACCOUNT_ID: a.account_id, "Name": a.name, "State": a.state} for a in self.skipped],
            "Errors": [
                {
                    spec.ACCOUNT_ID: a.account_id,
                    "Name": a.name,
                    spec.CONTACT_TYPE: t,
                    "Code": r.code,
                    "Message": r.message,
                }
                for a, t, r in self.errors()
            ],
        }
        if rules is not None:
            lacking = {a.account_id: types for a, types in missing}
            found["Accounts"] = [
                {
                    spec.ACCOUNT_ID: a.account_id,
                    "Name": a.name,
                    "Rule": rules[a.account_id],
                    "MissingTypes": lacking.get(a.account_id, []),
                }
                for a in self.checked
            ]
        return found


@dataclass
class ImportReport:
    """The result of ``import``, for the terminal: counts, masked defaults and field names, never a value.

    Attributes
    ----------
    organization, management_account, caller:
        The organization read (``o-...``), its management account, and the credentials' account.
    imported:
        What the file holds.
    skipped:
        The accounts that are not ACTIVE, left out of the file.
    path, file_format:
        Where the file was written, and as what (``toml`` or ``json``).
    recorded:
        With ``--organizational-units``: what was recorded in the context file (lookup's own sentence).
        Default: nothing was.
    """

    organization: str
    management_account: str
    caller: str
    imported: ImportedContacts
    skipped: Sequence[OrgAccount]
    path: str
    file_format: str
    recorded: str | None = None

    def text(self) -> str:
        """A heading, one row per type, the accounts that depart from the defaults, and what to do next."""
        count = len(self.imported.accounts)
        lines = [
            f"Imported the alternate contacts of {_count(count, 'ACTIVE account')} of organization "
            f"{self.organization} (management account {self.management_account}), read as account {self.caller}",
            "",
        ]
        rows = []
        for choice in self.imported.types:
            if choice.default is None:
                rows.append([choice.contact_type, "(none)", "-", str(choice.overriding), "-"])
            else:
                masked = ", ".join(show_details(choice.default, reveal=False).values())
                counts = [choice.most_common, choice.overriding, choice.opting_out]
                rows.append([choice.contact_type, masked, *map(str, counts)])
        lines.append(table(["TYPE", "DEFAULT (masked)", "ACCOUNTS WITH IT", "OVERRIDES", "OPT-OUTS"], rows))
        lines.append("")
        units = self.recorded is not None
        if units and self.imported.units:
            listed_units = [
                [
                    unit.unit_id,
                    unit.name,
                    str(unit.accounts),
                    _overridden(unit.overrides, unit.overridden_fields),
                    ", ".join(unit.opt_out),
                ]
                for unit in self.imported.units
            ]
            lines.append(table(["ORGANIZATIONAL UNIT", "NAME", "ACCOUNTS", "OVERRIDES", "OPT-OUTS"], listed_units))
            lines.append("")
        elif units:
            lines += ["No organizational unit got a rule: none shares a value beyond what it inherits.", ""]
        departing = [entry for entry in self.imported.accounts if entry.overrides or entry.opt_out]
        if departing:
            listed = [
                [
                    entry.account.account_id,
                    entry.account.name,
                    _overridden(entry.overrides, entry.overridden_fields),
                    ", ".join(entry.opt_out),
                ]
                for entry in departing[:MAX_DEPARTURES]
            ]
            lines.append(table(["ACCOUNT", "NAME", "OVERRIDES", "OPT-OUTS"], listed))
            if len(departing) > MAX_DEPARTURES:
                lines.append(f"and {len(departing) - MAX_DEPARTURES} more accounts with overrides or opt-outs")
            lines.append("")
        same = count - len(departing)
        if units:
            lines.append(
                f"{_count(same, 'account')} {'needs' if same == 1 else 'need'} no override or opt-out: the defaults "
                "and the units' rules give them their contacts."
            )
        else:
            lines.append(f"{_count(same, 'account')} {'takes' if same == 1 else 'take'} every default as it is.")
        for choice in self.imported.types:
            if choice.default is None and choice.lacking < count:
                lines.append(
                    f"{choice.contact_type} has no default: {choice.lacking} of {count} accounts have none, more than "
                    f"the {choice.most_common} that share its most common value; the {count - choice.lacking} that "
                    + ("have one get it from a unit's rule or override it." if units else "have one override it.")
                )
            elif choice.default is None:
                lines.append(f"{choice.contact_type}: no account has a contact of this type.")
        if self.skipped:
            listed_skipped = ", ".join(f"{a.account_id} ({a.state})" for a in self.skipped[:MAX_LISTED])
            more = f" and {len(self.skipped) - MAX_LISTED} more" if len(self.skipped) > MAX_LISTED else ""
            verb = "is" if len(self.skipped) == 1 else "are"
            lines.append(
                f"Skipped {_count(len(self.skipped), 'account')} that {verb} not ACTIVE: {listed_skipped}{more}."
            )
        lines += [
            "",
            f"Wrote {self.path} ({self.file_format.upper()}, {_count(count, 'account')}, readable by its owner only).",
            "It holds contact details: keep it where such data belongs (a private repository, a secrets store),",
            "never in a public repository." + (_JSON_NOTICE if self.file_format == "json" else ""),
            f'Deploy it with OrganizationContacts.from_file(stack, "Organization", "{self.path}",',
            f'    organization_id="{self.organization}", management_account_id="{self.management_account}");',
            "`cdk synth` and `cdk-alternate-contacts plan --detailed-exitcode` then find nothing to change.",
        ]
        if self.recorded is not None:
            lines += [
                "",
                self.recorded,
                "As `cdk-alternate-contacts lookup` records it: the next synth (in the app's folder) places every",
                "account under the unit the file assumes. Run the lookup again after accounts move.",
            ]
        return "\n".join(lines)


def _overridden(overrides: Mapping[str, Mapping[str, str]], fields: Callable[[str], list[str]]) -> list[str]:
    """One line per overridden type, naming its fields (never their values)."""
    return [
        f"{t} ({', '.join(fields(t))})" if len(overrides[t]) < len(spec.DETAIL_FIELDS) else f"{t} (every field)"
        for t in overrides
    ]


def _group_errors(errors: Sequence[tuple[OrgAccount, str, Reading]]) -> dict[str, list[str]]:
    grouped: dict[str, list[str]] = {}
    for account, contact_type, reading in errors:
        grouped.setdefault(f"{reading.code}: {reading.message}", []).append(f"{account.account_id}/{contact_type}")
    return grouped


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"


def dump_json(data: Mapping[str, Any]) -> str:
    """Indented JSON, keys in the order written."""
    return json.dumps(data, indent=2)
