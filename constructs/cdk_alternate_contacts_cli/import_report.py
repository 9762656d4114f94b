"""The summary ``import`` prints: counts, masked defaults and field names, never a contact's value."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from cdk_alternate_contacts_handler import spec
from cdk_alternate_contacts_handler.masking import show_details
from cdk_alternate_contacts_handler.organizations import OrgAccount

from .report import counted, skipped_line, table

if TYPE_CHECKING:
    # Types only: the importer loads the construct library, which plan, drift and audit never need.
    from .importer import ImportedContacts

#: Said of a JSON contacts file, which cannot carry the TOML file's opening comment.
_JSON_NOTICE: Final = " JSON has no comments: unlike a TOML file, this one does not say so itself."

#: The accounts an import summary lists by name (those with overrides or opt-outs); the rest are counted.
MAX_DEPARTURES: Final = 20


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
            f"Imported the alternate contacts of {counted(count, 'ACTIVE account')} of organization "
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
                f"{counted(same, 'account')} {'needs' if same == 1 else 'need'} no override or opt-out: the defaults "
                "and the units' rules give them their contacts."
            )
        else:
            lines.append(f"{counted(same, 'account')} {'takes' if same == 1 else 'take'} every default as it is.")
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
            lines.append(skipped_line(self.skipped))
        lines += [
            "",
            f"Wrote {self.path} ({self.file_format.upper()}, {counted(count, 'account')}, readable by its owner only).",
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
