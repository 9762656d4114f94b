"""``import``: the organization's live contacts as a contacts file that, deployed, changes nothing.

What the file says, per contact type (:func:`choose`):

- **default**: the type's most common complete value (all four fields set) among the ACTIVE accounts; a tie
  goes to the value held by the lowest account id. No default when more accounts lack the type than hold
  that value: the accounts that have a contact of the type then get it as an override, and the others need
  no opt-out.
- **overrides**: an account whose contact differs from the default lists only the fields that differ (the
  file takes the others from the default); without a default, all four.
- **opt_out**: an account without a contact of a type that has a default opts out of it.

The file is written in the construct library's own terms (its field names are
:data:`cdk_alternate_contacts_handler.spec.USER_NAMES`) and, before it is put in place, read back with the
library's own reader (:func:`~cdk_alternate_contacts.contacts_file.read_data` and
:func:`~cdk_alternate_contacts.contacts_file.parse_contacts_model`, what ``load_contacts_model`` does) and
resolved (:func:`check`): each account
must get exactly the contacts that were read, or nothing is written. Those modules load without aws_cdk.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import tomli_w

from cdk_alternate_contacts.contacts_file import parse_contacts_model, read_data
from cdk_alternate_contacts_handler import spec

from .aws import OrgAccount

#: Contact details keyed as the API names them (``EmailAddress``, ...).
Details = Mapping[str, str]

#: The file's name of each API field: ``EmailAddress`` -> ``email_address``.
FILE_FIELDS: Final[Mapping[str, str]] = {api: spec.USER_NAMES[api] for api in spec.DETAIL_FIELDS}


def type_key(contact_type: str) -> str:
    """How a type is written in the file: ``security``, as in examples/contacts.toml."""
    return contact_type.lower()


@dataclass(frozen=True)
class TypeChoice:
    """What the file says about one contact type, in counts.

    Attributes
    ----------
    contact_type:
        ``BILLING``, ``OPERATIONS`` or ``SECURITY``.
    default:
        The default's details, or ``None`` when the type has none.
    most_common:
        How many accounts hold the type's most common complete value (the default, when there is one).
    lacking:
        How many accounts have no contact of the type.
    overriding, opting_out:
        How many accounts override the type, and opt out of it.
    """

    contact_type: str
    default: dict[str, str] | None
    most_common: int
    lacking: int
    overriding: int
    opting_out: int


@dataclass(frozen=True)
class AccountEntry:
    """One account's entry in the file: where it departs from the defaults.

    Attributes
    ----------
    account:
        The account, as Organizations lists it (its name is the entry's label).
    overrides:
        Type -> the fields (API names) that differ from the type's default, with this account's values.
    opt_out:
        The types it has no contact of while the organization has a default.
    """

    account: OrgAccount
    overrides: dict[str, dict[str, str]] = field(default_factory=dict)
    opt_out: tuple[str, ...] = ()

    def overridden_fields(self, contact_type: str) -> list[str]:
        """The file's names of the fields this account overrides for ``contact_type``."""
        return [FILE_FIELDS[api] for api in self.overrides.get(contact_type, {})]


@dataclass(frozen=True)
class ImportedContacts:
    """The contacts file to write: one choice per type, one entry per ACTIVE account (by id)."""

    types: tuple[TypeChoice, ...]
    accounts: tuple[AccountEntry, ...]

    def data(self) -> dict[str, Any]:
        """The file's content, as ``load_contacts_model`` reads it."""
        defaults = {
            type_key(choice.contact_type): {FILE_FIELDS[api]: value for api, value in choice.default.items()}
            for choice in self.types
            if choice.default is not None
        }
        accounts = []
        for entry in self.accounts:
            item: dict[str, Any] = {"account_id": entry.account.account_id, "name": entry.account.name}
            if entry.opt_out:
                item["opt_out"] = [type_key(t) for t in entry.opt_out]
            if entry.overrides:
                item["overrides"] = {
                    type_key(t): {FILE_FIELDS[api]: value for api, value in fields.items()}
                    for t, fields in entry.overrides.items()
                }
            accounts.append(item)
        return {"defaults": defaults, "accounts": accounts}


def _complete(details: Details) -> bool:
    return all(str(details.get(api, "")).strip() for api in spec.DETAIL_FIELDS)


def choose(accounts: Sequence[OrgAccount], live: Mapping[tuple[str, str], Details | None]) -> ImportedContacts:
    """The file that reproduces ``live`` (account id, type -> details, ``None`` for no contact) for
    ``accounts``, with the fewest departures from the defaults (see this module's rule)."""
    ordered = sorted(accounts, key=lambda a: a.account_id)
    defaults: dict[str, dict[str, str] | None] = {}
    counts: dict[str, tuple[int, int]] = {}
    for contact_type in spec.CONTACT_TYPES:
        held = [live[(a.account_id, contact_type)] for a in ordered]
        # Counter keeps first-seen order, and max() the first of equals: a tie goes to the lowest account id.
        values = Counter(tuple(d[api] for api in spec.DETAIL_FIELDS) for d in held if d is not None and _complete(d))
        best = max(values, key=values.__getitem__) if values else None
        most_common = values[best] if best is not None else 0
        lacking = sum(1 for d in held if d is None)
        keep = best is not None and lacking <= most_common
        defaults[contact_type] = dict(zip(spec.DETAIL_FIELDS, best, strict=True)) if keep and best else None
        counts[contact_type] = (most_common, lacking)

    entries = []
    for account in ordered:
        overrides: dict[str, dict[str, str]] = {}
        opt_out: list[str] = []
        for contact_type in spec.CONTACT_TYPES:
            details = live[(account.account_id, contact_type)]
            default = defaults[contact_type]
            if details is None:
                if default is not None:
                    opt_out.append(contact_type)
                continue
            differing = {
                api: str(details.get(api, ""))
                for api in spec.DETAIL_FIELDS
                if default is None or str(details.get(api, "")) != default[api]
            }
            if differing:
                overrides[contact_type] = differing
        entries.append(AccountEntry(account, overrides, tuple(opt_out)))

    choices = tuple(
        TypeChoice(
            contact_type=t,
            default=defaults[t],
            most_common=counts[t][0],
            lacking=counts[t][1],
            overriding=sum(1 for e in entries if t in e.overrides),
            opting_out=sum(1 for e in entries if t in e.opt_out),
        )
        for t in spec.CONTACT_TYPES
    )
    return ImportedContacts(choices, tuple(entries))


def render(imported: ImportedContacts, file_format: str, header: Sequence[str]) -> str:
    """The file's text: TOML with ``header`` as its opening comment, or JSON (which has no comments)."""
    data = imported.data()
    if file_format == "json":
        return json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    comment = "".join(f"# {line}\n" if line else "#\n" for line in header)
    return comment + "\n" + tomli_w.dumps(data)


class ImportCheckError(Exception):
    """The file about to be written would not reproduce the live contacts (a bug: nothing is written)."""


def check(
    path: Path, live: Mapping[tuple[str, str], Details | None], account_ids: Sequence[str], *, source: str
) -> None:
    """Read ``path`` back as ``OrganizationContacts.from_file`` does and hold what it gives each account
    against ``live``; ``source`` names the file in errors (the file it is about to become).

    Raises
    ------
    ContactsModelError
        When the library refuses the file (its message names the account and field, never a value).
    ImportCheckError
        When the file loads but gives an account other contacts than the live ones (names the slots only).
    """
    resolved = parse_contacts_model(read_data(path), source).resolve(source)
    wrong = []
    for account_id in account_ids:
        got = {t.value: details.to_properties() for t, details in resolved.get(account_id, {}).items()}
        for contact_type in spec.CONTACT_TYPES:
            expected = live[(account_id, contact_type)]
            if got.get(contact_type) != (dict(expected) if expected is not None else None):
                wrong.append(f"{account_id}/{contact_type}")
    if set(resolved) != set(account_ids):
        wrong.append("the file's accounts are not the organization's ACTIVE accounts")
    if wrong:
        raise ImportCheckError(
            "the file would not reproduce the live contacts of " + ", ".join(wrong) + ": nothing was written; "
            "please report this as a bug"
        )


class OutputExistsError(Exception):
    """The output file exists and ``--force`` was not given."""


def write_private(path: Path, text: str, *, replace: bool, verify: Callable[[Path], None]) -> None:
    """Write ``text`` to ``path`` atomically, readable and writable by its owner only (0600).

    The text goes to a temporary file in the same folder (created 0600, whatever the umask), which ``verify``
    reads first; only then is it put in place in one step, so a failed or interrupted import leaves no
    partial file and never a file with wider permissions. Without ``replace``, an existing ``path`` is never
    replaced, even one that appeared while the contacts were being read.

    Raises
    ------
    OutputExistsError
        Without ``replace``, when ``path`` exists.
    """
    descriptor, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=path.suffix, dir=path.parent)
    temporary = Path(name)
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8", newline="\n") as stream:
            stream.write(text)
            stream.flush()
            os.fsync(stream.fileno())
        verify(temporary)
        if replace:
            os.replace(temporary, path)
            return
        try:
            # A hard link, unlike a rename, fails when the name is taken: no file is ever replaced by surprise.
            os.link(temporary, path)
        except FileExistsError:
            raise OutputExistsError(str(path)) from None
        except OSError:
            # A file system without hard links: checked, then renamed.
            if path.exists():
                raise OutputExistsError(str(path)) from None
            os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)
