"""The report of ``audit``: the ACTIVE accounts missing a contact of the checked types, and what keeps each."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from cdk_alternate_contacts_handler import spec
from cdk_alternate_contacts_handler.organizations import OrgAccount

from .aws import Reading
from .report import counted, skipped_line, table


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
            lines.append(skipped_line(self.skipped))
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
        return f"{missing} of {counted(len(self.checked), 'ACTIVE account')} {verb} {lacking}."

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


def _group_errors(errors: Sequence[tuple[OrgAccount, str, Reading]]) -> dict[str, list[str]]:
    grouped: dict[str, list[str]] = {}
    for account, contact_type, reading in errors:
        grouped.setdefault(f"{reading.code}: {reading.message}", []).append(f"{account.account_id}/{contact_type}")
    return grouped
