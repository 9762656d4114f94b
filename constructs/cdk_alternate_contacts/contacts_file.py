"""Read an organization's contacts model from a plain data file, TOML or JSON (standard library only).

A TOML file (``examples/contacts.toml`` is one to copy)::

    [defaults.security]
    email_address = "security@example.com"
    name = "Security Operations Center"
    phone_number = "+1 206 555 0100"
    title = "Security team"

    [[organizational_units]]             # every account under this unit (and the units below it)
    id = "ou-ab12-34cd56ef"
    name = "payments"
    overrides.security = { email_address = "payments-security@example.com" }
    opt_out = ["billing"]

    [[accounts]]
    account_id = "111122223333"
    name = "payments-prod"

    [accounts.overrides.security]        # this account's SECURITY contact
    email_address = "prod-security@example.com"

JSON holds the same keys: ``{"defaults": {"security": {...}}, "organizational_units": [{"id": "ou-...", ...}],
"accounts": [{"account_id": "...", ...}]}``. Types are written in any case. A field left out of an override
(an account's or a unit's) is taken from the default of that type. Per type, an account's entry wins over the
deepest unit on its path that names the type, which wins over the defaults.
"""

from __future__ import annotations

import json
import os
import re
import tomllib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, TypeVar

from cdk_alternate_contacts_handler.spec import AlternateContactType

from .coverage_model import ALL_ACCOUNTS, Coverage, coverage_problems
from .details import ContactDetails
from .model import (
    DETAIL_FIELDS,
    TYPE_NAMES,
    AccountContacts,
    ContactsModel,
    ContactsModelError,
    ContactTypeLike,
    OrganizationalUnitContacts,
    account_label,
    account_problems,
    defaults_problems,
    duplicate_problems,
    duplicate_unit_problems,
    each_type,
    type_label,
    unit_label,
    unit_problems,
)

E = TypeVar("E", AccountContacts, OrganizationalUnitContacts)

TOP_LEVEL_KEYS = ("defaults", "organizational_units", "accounts", "coverage")
COVERAGE_KEYS = ("accounts", "reconcile", "on_drift")
ACCOUNT_KEYS = ("account_id", "name", "overrides", "opt_out")
UNIT_KEYS = ("id", "name", "overrides", "opt_out")
FIELD_NAMES = ", ".join(DETAIL_FIELDS)


def read_data(path: Path) -> Any:
    """The file's data, parsed by its suffix (``.toml`` or ``.json``).

    Raises
    ------
    ContactsModelError
        When the suffix is neither, or the file is not valid TOML or JSON (the parser's position, never
        the file's text, is quoted).
    """
    suffix = path.suffix.lower()
    if suffix == ".toml":
        try:
            with path.open("rb") as stream:
                return tomllib.load(stream)
        except tomllib.TOMLDecodeError as error:
            problems = [f"not valid TOML: {error}", *_unquoted_leading_zero_ids(path)]
            raise ContactsModelError(str(path), problems, what="contacts file") from None
    if suffix == ".json":
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError) as error:
            raise ContactsModelError(str(path), [f"not valid JSON: {error}"], what="contacts file") from None
    raise ContactsModelError(
        str(path), [f"unknown file type {suffix!r}: use a .toml or .json file"], what="contacts file"
    )


#: ``account_id = 012345678901``: TOML refuses a number with a leading zero, before any field can be checked.
_LEADING_ZERO_ID = re.compile(r"^\s*account_id\s*=\s*(0\d*)\s*(#.*)?$", re.ASCII)


def _unquoted_leading_zero_ids(path: Path) -> list[str]:
    """The hint for account ids written as numbers with a leading zero (the id is shown: not personal data)."""
    hints = []
    for number, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), start=1):
        found = _LEADING_ZERO_ID.match(line)
        if found:
            hints.append(
                f"line {number}: account_id {found.group(1)[:12]} is not quoted: write it in quotes "
                f'("{found.group(1)[:12]}"), TOML does not allow a number with a leading zero and a number loses them'
            )
    return hints


def _details(
    where: str, table: object, inherited: ContactDetails | None, contact_type: AlternateContactType
) -> tuple[ContactDetails | None, list[str]]:
    """Contact details from a table; fields left out come from ``inherited`` (the type's default), if any.

    The details are built whenever every field has a value, even beside an unknown key, so that the
    values' own problems are reported in the same error.
    """
    if not isinstance(table, Mapping):
        return None, [f"{where}: must be a table of {FIELD_NAMES}"]
    problems = [
        f"{where}.{str(key)[:40]}: unknown field; use {FIELD_NAMES}" for key in table if key not in DETAIL_FIELDS
    ]
    values: dict[str, Any] = {}
    for attribute in DETAIL_FIELDS:
        if attribute in table:
            values[attribute] = table[attribute]
        elif inherited is not None:
            values[attribute] = getattr(inherited, attribute)
        elif where.startswith("defaults"):
            problems.append(f"{where}.{attribute}: required")
        else:
            problems.append(
                f"{where}.{attribute}: required (no default {type_label(contact_type)} contact to take it from)"
            )
    return (ContactDetails(**values) if len(values) == len(DETAIL_FIELDS) else None), problems


def _contact_tables(
    where: str, raw: object, inherited: Mapping[ContactTypeLike, ContactDetails]
) -> tuple[dict[ContactTypeLike, ContactDetails], list[str]]:
    """A table of contact details by type at ``where`` (the defaults, an entry's overrides); each table's
    missing fields come from ``inherited``, the default of its type (none for the defaults themselves)."""
    if not isinstance(raw, Mapping):
        return {}, [f"{where}: must be a table of contact types ({TYPE_NAMES})"]
    built: dict[ContactTypeLike, ContactDetails] = {}

    def build(place: str, contact_type: AlternateContactType, table: object) -> list[str]:
        details, problems = _details(place, table, inherited.get(contact_type), contact_type)
        if details is not None:
            built[contact_type] = details
        return problems

    return built, each_type(where, raw, build)


def _opt_out(where: str, entry: Mapping[Any, Any]) -> tuple[list[Any], list[str]]:
    opt_out = entry.get("opt_out", [])
    if not isinstance(opt_out, list):
        return [], [f"{where}.opt_out: must be a list of contact types ({TYPE_NAMES})"]
    return opt_out, []


def _coverage(data: object) -> tuple[Coverage | None, list[str]]:
    if not isinstance(data, Mapping):
        return None, ["coverage: must be a table of accounts, reconcile and on_drift"]
    problems = [
        f"coverage.{str(key)[:40]}: unknown key; use {', '.join(COVERAGE_KEYS)}"
        for key in data
        if key not in COVERAGE_KEYS
    ]
    accounts = data.get("accounts", ALL_ACCOUNTS)
    if not isinstance(accounts, (str, list)):
        problems.append('coverage.accounts: must be "all" or a list of organizational unit ids')
        accounts = ALL_ACCOUNTS
    values = {key: data[key] for key in ("reconcile", "on_drift") if key in data}
    return Coverage(accounts, **values), problems


@dataclass(frozen=True)
class _EntryKind(Generic[E]):
    """How the entries of one list of the file are read: the accounts, or the organizational units' rules."""

    #: The list's key at the top of the file (its TOML table array: ``[[accounts]]``).
    list_key: str
    #: The key of an entry's id, and what the problem of a missing one adds after ``required``.
    id_key: str
    id_hint: str
    #: Every key an entry may have.
    keys: tuple[str, ...]
    #: Where an entry is, in problems: ``accounts[3] (111122223333)``.
    label: Callable[[int, object], str]
    #: The model's class for an entry, its checks of one, and its check of ids given more than once.
    build: Callable[..., E]
    check: Callable[[int, E], list[str]]
    duplicates: Callable[[Sequence[tuple[int, object]]], list[str]]


ACCOUNTS = _EntryKind(
    "accounts", "account_id", "", ACCOUNT_KEYS, account_label, AccountContacts, account_problems, duplicate_problems
)
UNITS = _EntryKind(
    "organizational_units",
    "id",
    " (the organizational unit's id, ou-...)",
    UNIT_KEYS,
    unit_label,
    OrganizationalUnitContacts,
    unit_problems,
    duplicate_unit_problems,
)


def _entry(
    kind: _EntryKind[E], index: int, entry: object, defaults: Mapping[ContactTypeLike, ContactDetails]
) -> tuple[E | None, list[str]]:
    """One entry of the list, built from whatever is well formed, so that its values are checked in the same
    pass; ``None`` when it has no id (or is not a table)."""
    if not isinstance(entry, Mapping):
        return None, [f"{kind.list_key}[{index}]: must be a table with {kind.id_key} (and name, overrides, opt_out)"]
    where = kind.label(index, entry.get(kind.id_key))
    problems = [
        f"{where}.{str(key)[:40]}: unknown key; use {', '.join(kind.keys)}" for key in entry if key not in kind.keys
    ]
    if kind.id_key not in entry:
        problems.append(f"{where}.{kind.id_key}: required{kind.id_hint}")
    overrides, found = _contact_tables(f"{where}.overrides", entry.get("overrides", {}), defaults)
    opt_out, found_too = _opt_out(where, entry)
    problems += found + found_too
    if kind.id_key not in entry:
        return None, problems
    return kind.build(entry[kind.id_key], overrides=overrides, opt_out=opt_out, name=entry.get("name")), problems


def _entries(
    kind: _EntryKind[E], data: Mapping[Any, Any], defaults: Mapping[ContactTypeLike, ContactDetails]
) -> tuple[list[E], list[str]]:
    """Build each entry of the list and check what was built, then the ids given twice; every problem, in order."""
    entries = data.get(kind.list_key, [])
    if not isinstance(entries, list):
        return [], [f"{kind.list_key}: must be a list of tables (TOML: [[{kind.list_key}]])"]
    built: list[E] = []
    problems: list[str] = []
    for index, entry in enumerate(entries):
        item, found = _entry(kind, index, entry, defaults)
        problems += found
        if item is not None:
            problems += kind.check(index, item)
            built.append(item)
    ids = [(index, entry.get(kind.id_key)) for index, entry in enumerate(entries) if isinstance(entry, Mapping)]
    return built, problems + kind.duplicates(ids)


def parse_contacts_model(data: object, source: str) -> ContactsModel:
    """Build the model from parsed file data; ``source`` names the file in the error.

    Raises
    ------
    ContactsModelError
        Naming ``source`` and every problem: the structure's (unknown keys, missing fields) and the model's
        (:meth:`ContactsModel.problems`), each with the account and field it is about.
    """
    if not isinstance(data, Mapping):
        raise ContactsModelError(
            source,
            ["the file must hold a table with defaults, organizational_units and accounts"],
            what="contacts file",
        )
    problems = [
        f"{str(key)[:40]}: unknown key; a contacts file holds {', '.join(TOP_LEVEL_KEYS)}"
        for key in data
        if key not in TOP_LEVEL_KEYS
    ]
    defaults, found = _contact_tables("defaults", data.get("defaults", {}), {})
    problems += found + defaults_problems(defaults)
    units, found = _entries(UNITS, data, defaults)
    problems += found
    accounts, found = _entries(ACCOUNTS, data, defaults)
    problems += found
    coverage = None
    if "coverage" in data:
        coverage, found = _coverage(data["coverage"])
        problems += found + ([] if coverage is None else coverage_problems(coverage))
    if problems:
        raise ContactsModelError(source, problems, what="contacts file")
    return ContactsModel(defaults=defaults, accounts=accounts, organizational_units=units, coverage=coverage)


def load_contacts_model(path: str | os.PathLike[str]) -> ContactsModel:
    """Read an organization's contacts model from a ``.toml`` or ``.json`` file.

    Parameters
    ----------
    path:
        The file. Its suffix says how to read it. See this module's documentation for the format; every
        key is checked, so a misspelt one is an error, not a silently ignored setting.

    Returns
    -------
    ContactsModel
        The valid model, ready for :class:`~cdk_alternate_contacts.OrganizationContacts`.

    Raises
    ------
    ContactsModelError
        One error naming the file and every problem, each with its account and field
        (``accounts[3] (111122223333).overrides.security.email_address: must be ...``), never quoting a
        contact detail.
    OSError
        When the file cannot be read.
    """
    path = Path(path)
    return parse_contacts_model(read_data(path), str(path))
