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
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TypeVar

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
    contact_type_of,
    defaults_problems,
    duplicate_problems,
    duplicate_unit_problems,
    type_label,
    unit_label,
    unit_problems,
)

T = TypeVar("T")

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


def _defaults(data: object) -> tuple[dict[ContactTypeLike, ContactDetails], list[str]]:
    if not isinstance(data, Mapping):
        return {}, [f"defaults: must be a table of contact types ({TYPE_NAMES})"]
    defaults: dict[ContactTypeLike, ContactDetails] = {}
    problems: list[str] = []
    for key, table in data.items():
        contact_type = contact_type_of(key)
        if contact_type is None:
            problems.append(f"defaults: {str(key)[:40]!r} is not a contact type; use {TYPE_NAMES}")
        elif contact_type in defaults:
            problems.append(f"defaults.{type_label(contact_type)}: given twice")
        else:
            details, found = _details(f"defaults.{type_label(contact_type)}", table, None, contact_type)
            problems += found
            if details is not None:
                defaults[contact_type] = details
    return defaults, problems


def _overrides(
    where: str, raw: object, defaults: Mapping[ContactTypeLike, ContactDetails]
) -> tuple[dict[ContactTypeLike, ContactDetails], list[str]]:
    """An entry's overrides table; each override's missing fields come from the default of its type."""
    if not isinstance(raw, Mapping):
        return {}, [f"{where}.overrides: must be a table of contact types ({TYPE_NAMES})"]
    overrides: dict[ContactTypeLike, ContactDetails] = {}
    problems: list[str] = []
    for key, table in raw.items():
        contact_type = contact_type_of(key)
        if contact_type is None:
            problems.append(f"{where}.overrides: {str(key)[:40]!r} is not a contact type; use {TYPE_NAMES}")
        elif contact_type in overrides:
            problems.append(f"{where}.overrides.{type_label(contact_type)}: given twice")
        else:
            details, found = _details(
                f"{where}.overrides.{type_label(contact_type)}", table, defaults.get(contact_type), contact_type
            )
            problems += found
            if details is not None:
                overrides[contact_type] = details
    return overrides, problems


def _opt_out(where: str, entry: Mapping[Any, Any]) -> tuple[list[Any], list[str]]:
    opt_out = entry.get("opt_out", [])
    if not isinstance(opt_out, list):
        return [], [f"{where}.opt_out: must be a list of contact types ({TYPE_NAMES})"]
    return opt_out, []


def _account(
    index: int, entry: object, defaults: Mapping[ContactTypeLike, ContactDetails]
) -> tuple[AccountContacts | None, list[str]]:
    if not isinstance(entry, Mapping):
        return None, [f"accounts[{index}]: must be a table with account_id (and name, overrides, opt_out)"]
    where = account_label(index, entry.get("account_id"))
    problems = [
        f"{where}.{str(key)[:40]}: unknown key; use {', '.join(ACCOUNT_KEYS)}"
        for key in entry
        if key not in ACCOUNT_KEYS
    ]
    if "account_id" not in entry:
        problems.append(f"{where}.account_id: required")
    overrides, found = _overrides(where, entry.get("overrides", {}), defaults)
    opt_out, found_too = _opt_out(where, entry)
    problems += found + found_too
    if "account_id" not in entry:
        return None, problems
    # Built from whatever is well formed, so that its values are checked in the same pass.
    return AccountContacts(entry["account_id"], overrides=overrides, opt_out=opt_out, name=entry.get("name")), problems


def _unit(
    index: int, entry: object, defaults: Mapping[ContactTypeLike, ContactDetails]
) -> tuple[OrganizationalUnitContacts | None, list[str]]:
    if not isinstance(entry, Mapping):
        return None, [f"organizational_units[{index}]: must be a table with id (and name, overrides, opt_out)"]
    where = unit_label(index, entry.get("id"))
    problems = [
        f"{where}.{str(key)[:40]}: unknown key; use {', '.join(UNIT_KEYS)}" for key in entry if key not in UNIT_KEYS
    ]
    if "id" not in entry:
        problems.append(f"{where}.id: required (the organizational unit's id, ou-...)")
    overrides, found = _overrides(where, entry.get("overrides", {}), defaults)
    opt_out, found_too = _opt_out(where, entry)
    problems += found + found_too
    if "id" not in entry:
        return None, problems
    unit = OrganizationalUnitContacts(entry["id"], overrides=overrides, opt_out=opt_out, name=entry.get("name"))
    return unit, problems


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


def _each(
    entries: list[Any],
    build: Callable[[int, object], tuple[T | None, list[str]]],
    check: Callable[[int, T], list[str]],
) -> tuple[list[T], list[str]]:
    """Build each entry of a list (an account, a unit) and check what was built; every problem, in order."""
    built: list[T] = []
    problems: list[str] = []
    for index, entry in enumerate(entries):
        item, found = build(index, entry)
        problems += found
        if item is not None:
            problems += check(index, item)
            built.append(item)
    return built, problems


def _entries(data: Mapping[Any, Any], key: str, toml: str) -> tuple[list[Any], list[str]]:
    entries = data.get(key, [])
    if not isinstance(entries, list):
        return [], [f"{key}: must be a list of tables (TOML: [[{toml}]])"]
    return entries, []


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
    defaults, found = _defaults(data.get("defaults", {}))
    problems += found + defaults_problems(defaults)
    unit_entries, found = _entries(data, "organizational_units", "organizational_units")
    problems += found
    units, found = _each(unit_entries, lambda i, e: _unit(i, e, defaults), unit_problems)
    problems += found
    problems += duplicate_unit_problems(
        [(index, entry.get("id")) for index, entry in enumerate(unit_entries) if isinstance(entry, Mapping)]
    )
    entries, found = _entries(data, "accounts", "accounts")
    problems += found
    accounts, found = _each(entries, lambda i, e: _account(i, e, defaults), account_problems)
    problems += found
    problems += duplicate_problems(
        [(index, entry.get("account_id")) for index, entry in enumerate(entries) if isinstance(entry, Mapping)]
    )
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
