"""``import``: the organization's live contacts as a contacts file that, deployed, changes nothing.

What the file says, per contact type (:func:`choose`):

- **default**: the type's most common complete value (all four fields set) among the ACTIVE accounts; a tie
  goes to the value held by the lowest account id. No default when more accounts lack the type than hold
  that value: the accounts that have a contact of the type then get it as an override, and the others need
  no opt-out.
- **overrides**: an account whose contact differs from the default lists only the fields that differ (the
  file takes the others from the default); without a default, all four.
- **opt_out**: an account without a contact of a type that has a default opts out of it.

With the organization's structure (``import --organizational-units``), values an organizational unit's accounts
share become that unit's rule ([[organizational_units]], :func:`unit_rules`), the units taken top down
(parents first, siblings by id). For each unit and type, the value the unit's accounts (at any depth) would
get from above (the rules of the units over it, then the default, through the one
:func:`~cdk_alternate_contacts_handler.rules.cascade`) is held against the most common live value among them;
having no contact counts as a value. The unit gets a rule when that value is another one, held by at least
two of its accounts and by more of them than the inherited value: an override (the fields that differ from
the default, all four without one) or, when most have no contact, an opt-out. Ties go to the inherited value
(no rule), then to the value of the lowest account id. Each account then overrides or opts out only where its
live contact differs from what its path gives it. Units without a rule are not written.

An override lists the fields that differ from the type's default, since the file takes the others from the
default (not from a unit's rule); one that equals the default in every field (an account or unit under a
rule, given the default back) lists all four, as an empty table would say nothing to a reader.

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
from cdk_alternate_contacts.structure import OrganizationStructure
from cdk_alternate_contacts_handler import spec
from cdk_alternate_contacts_handler.organizations import OrgAccount
from cdk_alternate_contacts_handler.rules import Layer, cascade, layers_for
from cdk_alternate_contacts_handler.spec import AlternateContactType

#: Contact details keyed as the API names them (``EmailAddress``, ...).
Details = Mapping[str, str]

#: The file's name of each API field: ``EmailAddress`` -> ``email_address``.
FILE_FIELDS: Final[Mapping[str, str]] = {api: spec.USER_NAMES[api] for api in spec.DETAIL_FIELDS}


#: A contact as the import compares it: its details in :data:`spec.DETAIL_FIELDS` order, or ``None`` for
#: no contact of the type (a value like any other when units' rules are chosen).
Value = tuple[str, ...] | None


def type_key(contact_type: str) -> str:
    """How a type is written in the file: ``security``, as in examples/contacts.toml."""
    return contact_type.lower()


def _overridden_fields(overrides: Mapping[str, Mapping[str, str]], contact_type: str) -> list[str]:
    return [FILE_FIELDS[api] for api in overrides.get(contact_type, {})]


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
        return _overridden_fields(self.overrides, contact_type)


@dataclass(frozen=True)
class UnitEntry:
    """One organizational unit's rule in the file: what most of its accounts share beyond what they inherit.

    Attributes
    ----------
    unit_id, name:
        The unit, and its Organizations name (the rule's label; empty when unknown).
    accounts:
        How many ACTIVE accounts it holds, at any depth: those its rule applies to.
    overrides:
        Type -> the fields (API names) that differ from the type's default, with the unit's values.
    opt_out:
        The types most of its accounts have no contact of.
    """

    unit_id: str
    name: str
    accounts: int
    overrides: dict[str, dict[str, str]] = field(default_factory=dict)
    opt_out: tuple[str, ...] = ()

    def overridden_fields(self, contact_type: str) -> list[str]:
        """The file's names of the fields this unit overrides for ``contact_type``."""
        return _overridden_fields(self.overrides, contact_type)


def _file_rule(item: dict[str, Any], overrides: Mapping[str, Mapping[str, str]], opt_out: Sequence[str]) -> None:
    if opt_out:
        item["opt_out"] = [type_key(t) for t in opt_out]
    if overrides:
        item["overrides"] = {
            type_key(t): {FILE_FIELDS[api]: value for api, value in fields.items()} for t, fields in overrides.items()
        }


@dataclass(frozen=True)
class ImportedContacts:
    """The contacts file to write: one choice per type, the units' rules (top down), one entry per ACTIVE
    account (by id)."""

    types: tuple[TypeChoice, ...]
    accounts: tuple[AccountEntry, ...]
    units: tuple[UnitEntry, ...] = ()

    def data(self) -> dict[str, Any]:
        """The file's content, as ``load_contacts_model`` reads it."""
        defaults = {
            type_key(choice.contact_type): {FILE_FIELDS[api]: value for api, value in choice.default.items()}
            for choice in self.types
            if choice.default is not None
        }
        units = []
        for unit in self.units:
            rule: dict[str, Any] = {"id": unit.unit_id, **({"name": unit.name} if unit.name else {})}
            _file_rule(rule, unit.overrides, unit.opt_out)
            units.append(rule)
        accounts = []
        for entry in self.accounts:
            item: dict[str, Any] = {"account_id": entry.account.account_id, "name": entry.account.name}
            _file_rule(item, entry.overrides, entry.opt_out)
            accounts.append(item)
        return {"defaults": defaults, **({"organizational_units": units} if units else {}), "accounts": accounts}


def _complete(details: Details) -> bool:
    return all(str(details.get(api, "")).strip() for api in spec.DETAIL_FIELDS)


def _value(details: Details | None) -> Value:
    return None if details is None else tuple(str(details.get(api, "")) for api in spec.DETAIL_FIELDS)


def _override(value: tuple[str, ...], default: Mapping[str, str] | None) -> dict[str, str]:
    """The fields of ``value`` the file has to give: those that differ from ``default`` (all without one, and
    all when none differs)."""
    fields = dict(zip(spec.DETAIL_FIELDS, value, strict=True))
    differing = {api: v for api, v in fields.items() if default is None or v != default[api]}
    return differing or fields


def _layer(contacts: Mapping[str, tuple[str, ...] | None]) -> Layer[tuple[str, ...]]:
    """Type -> value (``None``: opted out) as a layer of the one precedence."""
    return Layer(
        contacts={AlternateContactType(t): v for t, v in contacts.items() if v is not None},
        opt_out=frozenset(AlternateContactType(t) for t, v in contacts.items() if v is None),
    )


def _default_layer(defaults: Mapping[str, Mapping[str, str] | None]) -> Layer[tuple[str, ...]]:
    return _layer({t: _value(d) for t, d in defaults.items() if d is not None})


def _winner(held: Sequence[Value], inherited: Value) -> Value:
    """The value a unit's rule should give, or ``inherited`` when it needs none (see this module's rule).

    ``held`` is the unit's accounts' values in account id order; only a complete value or no contact can be
    a rule.
    """
    counts = Counter(held)
    # Counter keeps first-seen order, and max() the first of equals: a tie goes to the lowest account id.
    candidates = [v for v in counts if v is None or all(part.strip() for part in v)]
    if not candidates:
        return inherited
    best = max(candidates, key=counts.__getitem__)
    if counts[best] == counts[inherited] or counts[best] < 2:
        return inherited  # a tie keeps the inherited value; one account is an override, not a rule
    return best


def unit_rules(
    accounts: Sequence[OrgAccount],
    values: Mapping[tuple[str, str], Value],
    structure: OrganizationStructure,
    defaults: Mapping[str, Mapping[str, str] | None],
) -> tuple[tuple[UnitEntry, ...], dict[str, Layer[tuple[str, ...]]]]:
    """The units' rules for ``accounts`` (sorted by id) with live ``values``, given the types' ``defaults``.

    Returns
    -------
    tuple
        The units that get a rule, top down, as the file writes them; and each one's rule as a layer of the
        precedence, for the accounts' own entries to be chosen against.
    """
    default_layer = _default_layer(defaults)
    paths = {a.account_id: structure.path_of(a.account_id) or () for a in accounts}
    layers: dict[str, Layer[tuple[str, ...]]] = {}
    entries = []
    for unit in structure.units_top_down():
        members = [a.account_id for a in accounts if unit in paths[a.account_id]]
        if not members:
            continue
        above = cascade(layers_for(None, structure.path_of(unit) or (), layers, default_layer))
        rule: dict[str, Value] = {}
        for contact_type in spec.CONTACT_TYPES:
            inherited = above.get(AlternateContactType(contact_type))
            best = _winner([values[(m, contact_type)] for m in members], inherited)
            if best != inherited:
                rule[contact_type] = best
        if not rule:
            continue
        layers[unit] = _layer(rule)
        entries.append(
            UnitEntry(
                unit_id=unit,
                name=structure.unit_names.get(unit, ""),
                accounts=len(members),
                overrides={t: _override(v, defaults[t]) for t, v in rule.items() if v is not None},
                opt_out=tuple(t for t, v in rule.items() if v is None),
            )
        )
    return tuple(entries), layers


def choose(
    accounts: Sequence[OrgAccount],
    live: Mapping[tuple[str, str], Details | None],
    structure: OrganizationStructure | None = None,
) -> ImportedContacts:
    """The file that reproduces ``live`` (account id, type -> details, ``None`` for no contact) for
    ``accounts``, with the fewest departures from the defaults (see this module's rule).

    Parameters
    ----------
    structure:
        Which organizational unit holds each account. Default: none, the file has no units' rules. Given, every
        account must be in it (an account it does not hold is taken to be in the root).
    """
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

    slots = {key: _value(details) for key, details in live.items()}
    units: tuple[UnitEntry, ...] = ()
    layers: dict[str, Layer[tuple[str, ...]]] = {}
    if structure is not None:
        units, layers = unit_rules(ordered, slots, structure, defaults)
    default_layer = _default_layer(defaults)

    entries = []
    for account in ordered:
        path = (structure.path_of(account.account_id) if structure is not None else None) or ()
        given = cascade(layers_for(None, path, layers, default_layer))
        overrides: dict[str, dict[str, str]] = {}
        opt_out: list[str] = []
        for contact_type in spec.CONTACT_TYPES:
            value = slots[(account.account_id, contact_type)]
            if value == given.get(AlternateContactType(contact_type)):
                continue
            if value is None:
                opt_out.append(contact_type)
            else:
                overrides[contact_type] = _override(value, defaults[contact_type])
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
    return ImportedContacts(choices, tuple(entries), units)


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
    path: Path,
    live: Mapping[tuple[str, str], Details | None],
    account_ids: Sequence[str],
    *,
    source: str,
    structure: OrganizationStructure | None = None,
) -> None:
    """Read ``path`` back as ``OrganizationContacts.from_file`` does and hold what it gives each account
    against ``live``; ``source`` names the file in errors (the file it is about to become). ``structure``
    places the accounts under the units' rules, as the recorded lookup does at synth.

    Raises
    ------
    ContactsModelError
        When the library refuses the file (its message names the account and field, never a value).
    ImportCheckError
        When the file loads but gives an account other contacts than the live ones (names the slots only).
    """
    resolved = parse_contacts_model(read_data(path), source).resolve(source, structure)
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
