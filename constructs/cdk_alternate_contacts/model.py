"""Organization-wide default contacts with per-account overrides and opt-outs: the model, free of the CDK.

The model is what :class:`~cdk_alternate_contacts.OrganizationContacts` deploys and what a contacts file
(:func:`~cdk_alternate_contacts.load_contacts_model`) holds. Each account gets the defaults, replaced type
by type by its overrides, minus the types it opts out of.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import KW_ONLY, dataclass, field
from types import MappingProxyType
from typing import Any, TypeVar

from cdk_alternate_contacts_handler import spec
from cdk_alternate_contacts_handler.rules import Layer, cascade, layers_for
from cdk_alternate_contacts_handler.spec import AlternateContactType

from .coverage_model import Coverage, coverage_problems
from .details import AlternateContactValidationError, ContactDetails, is_unresolved
from .structure import LOOKUP_COMMAND, ORGANIZATIONAL_UNIT_ID, ROOT_ID, OrganizationStructure

T = TypeVar("T")

#: A contact type as the API names it, or its name in any case (``"security"``).
ContactTypeLike = AlternateContactType | str

#: The fields of :class:`ContactDetails`, in the user's terms, and the API field whose rule each follows.
DETAIL_FIELDS: Mapping[str, str] = {spec.USER_NAMES[api]: api for api in spec.DETAIL_FIELDS}

#: The types in the user's terms, for messages: ``billing, operations or security``.
TYPE_NAMES = ", ".join(t.lower() for t in spec.CONTACT_TYPES[:-1]) + f" or {spec.CONTACT_TYPES[-1].lower()}"

#: At most this many problems are spelled out in one error; the count of the rest follows.
MAX_PROBLEMS_SHOWN = 20


class ContactsModelError(AlternateContactValidationError):
    """The organization's contacts model is not valid; one error names every problem found.

    Each problem starts with where it is (``accounts[3] (111122223333).overrides.security.email_address``)
    and says what is allowed. Contact details are never quoted: synth output ends up in CI logs.

    Attributes
    ----------
    source:
        What was being read: a file's path or a construct's path; the message starts with it
        (``invalid contacts file examples/contacts.toml: ...``).
    problems:
        Every problem found, each ``<where>: <what is wrong>``.
    """

    def __init__(self, source: str, problems: Sequence[str], *, what: str = "contacts model") -> None:
        self.source = source
        self.problems = tuple(problems)
        shown = list(self.problems[:MAX_PROBLEMS_SHOWN])
        if len(self.problems) > MAX_PROBLEMS_SHOWN:
            shown.append(f"and {len(self.problems) - MAX_PROBLEMS_SHOWN} more problems")
        if len(shown) == 1:
            message = f"invalid {what} {source}: {shown[0]}"
        else:
            message = f"invalid {what} {source} ({len(self.problems)} problems):\n" + "\n".join(
                f"  {problem}" for problem in shown
            )
        super().__init__(message)


def contact_type_of(value: object) -> AlternateContactType | None:
    """The contact type ``value`` names, in any case (``"security"``, ``"SECURITY"``); ``None`` if none.

    The same rule as :class:`~cdk_alternate_contacts.AlternateContact`'s (:func:`spec.normalized_type`).
    """
    return spec.normalized_type(value)


def type_label(contact_type: AlternateContactType) -> str:
    """How a type appears in a problem's location: lower case, as in a contacts file."""
    return contact_type.value.lower()


@dataclass(frozen=True)
class _Departures:
    """What an entry of the model, an account or a unit, changes from the defaults: its keyword-only fields
    (see :class:`AccountContacts` and :class:`OrganizationalUnitContacts`)."""

    _: KW_ONLY
    overrides: Mapping[ContactTypeLike, ContactDetails] = field(default_factory=dict)
    opt_out: Collection[ContactTypeLike] = ()
    name: str | None = None

    def __post_init__(self) -> None:
        # Frozen for real: a model shared between stacks must not change under one of them.
        object.__setattr__(self, "overrides", MappingProxyType(dict(self.overrides)))
        object.__setattr__(self, "opt_out", tuple(self.opt_out))


@dataclass(frozen=True)
class AccountContacts(_Departures):
    """One account of the organization, and where its contacts depart from the organization's defaults.

    Parameters
    ----------
    account_id:
        The account's 12-digit id, as a string (an integer would lose leading zeros). A literal value: the
        account's nested stack is chosen from it at synth time.
    overrides:
        Contact details that replace the default of their type for this account. Default: none, the account
        gets the defaults. A type the organization has no default for may be overridden too: this account
        then has a contact of that type and the others do not.
    opt_out:
        Types this account does not get. Default: none. A type may be opted out of even when the
        organization has no default for it (yet); the same type may not be both overridden and opted out.
        Opting out of every type gives the account no resource at all.
    name:
        A label for people reading the model (``"payments-prod"``). Default: none. It changes nothing in
        the deployment.

    Types are :class:`AlternateContactType` values or their names in any case (``"security"``). The
    fields are checked together, with the rest of the model, by :class:`ContactsModel`.
    """

    account_id: str


@dataclass(frozen=True)
class OrganizationalUnitContacts(_Departures):
    """The rule of one organizational unit: contacts that replace the defaults for every account under it.

    Parameters
    ----------
    organizational_unit_id:
        The unit's id (``ou-ab12-34cd56ef``). Its rule applies to every account in the unit and in the
        units below it, unless a deeper unit's rule or the account's own entry names the same type.
    overrides:
        Contact details that replace the default of their type for the unit's accounts. Default: none.
    opt_out:
        Types the unit's accounts do not get. Default: none. A type may not be both overridden and opted
        out of; a deeper unit (or an account) may give it back.
    name:
        A label for people reading the model (``"payments"``). Default: none. It changes nothing.

    Precedence, per type: the account's entry, then the deepest unit on its path that names the type, then
    the defaults (:func:`cdk_alternate_contacts_handler.rules.cascade`).
    """

    organizational_unit_id: str


def each_type(
    where: str, entries: Mapping[Any, T], check: Callable[[str, AlternateContactType, T], list[str]]
) -> list[str]:
    """Check a table keyed by contact type (defaults, an entry's overrides) found at ``where``.

    A key that names no type, or a type that an earlier key named already, is a problem; every other entry is
    checked with ``check(its place, its type, its value)``. Returns every problem, in the table's order.
    """
    named: set[AlternateContactType] = set()
    problems: list[str] = []
    for key, value in entries.items():
        contact_type = contact_type_of(key)
        if contact_type is None:
            problems.append(f"{where}: {str(key)[:40]!r} is not a contact type; use {TYPE_NAMES}")
        elif contact_type in named:
            problems.append(f"{where}.{type_label(contact_type)}: given twice")
        else:
            named.add(contact_type)
            problems += check(f"{where}.{type_label(contact_type)}", contact_type, value)
    return problems


def _details_problems(where: str, details: object) -> list[str]:
    """What is wrong with one ContactDetails (never quoting a value); tokens are left to the handler."""
    if not isinstance(details, ContactDetails):
        return [f"{where}: must be a ContactDetails (got {type(details).__name__})"]
    problems = []
    for attribute, api_field in DETAIL_FIELDS.items():
        value = getattr(details, attribute)
        if is_unresolved(value):
            continue
        if not isinstance(value, str):
            problems.append(f"{where}.{attribute}: must be a string (got {type(value).__name__})")
            continue
        violation = spec.FIELD_RULES[api_field].violation(value)
        if violation is not None:
            problems.append(f"{where}.{attribute}: {violation}")
    return problems


def account_label(index: int, account_id: object) -> str:
    """Where an account is in the model: ``accounts[3] (111122223333)``, or ``accounts[3]`` if its id is bad."""
    valid = isinstance(account_id, str) and spec.FIELD_RULES[spec.ACCOUNT_ID].violation(account_id) is None
    return f"accounts[{index}] ({account_id})" if valid else f"accounts[{index}]"


def account_id_problem(where: str, account_id: object) -> str | None:
    """What is wrong with an account id (the id is shown: it is not personal data)."""
    if isinstance(account_id, str) and is_unresolved(account_id):
        return (
            f"{where}.account_id: must be a literal 12-digit id, not a token: the account's nested stack is "
            "chosen from its id at synth time; for an account known only at deploy time (a CfnAccount's "
            "attr_account_id, a parameter), declare its contacts with AlternateContacts(account_id=...)"
        )
    if not isinstance(account_id, str):
        hint = ": write it in quotes, a number loses leading zeros" if isinstance(account_id, int) else ""
        return f"{where}.account_id: must be a string of exactly 12 digits (got {type(account_id).__name__}){hint}"
    violation = spec.FIELD_RULES[spec.ACCOUNT_ID].violation(account_id)
    return f"{where}.account_id: {violation} (got {account_id[:20]!r})" if violation else None


def defaults_problems(defaults: object) -> list[str]:
    """What is wrong with the organization's defaults."""
    if not isinstance(defaults, Mapping):
        return [f"defaults: must map contact types to ContactDetails (got {type(defaults).__name__})"]
    problems = []
    seen: dict[AlternateContactType, object] = {}
    for key, details in defaults.items():
        contact_type = contact_type_of(key)
        if contact_type is None:
            problems.append(f"defaults: {str(key)[:40]!r} is not a contact type; use {TYPE_NAMES}")
            continue
        if contact_type in seen:
            problems.append(f"defaults.{type_label(contact_type)}: given twice ({seen[contact_type]!r} and {key!r})")
            continue
        seen[contact_type] = key
        problems += _details_problems(f"defaults.{type_label(contact_type)}", details)
    return problems


def account_problems(index: int, account: object) -> list[str]:
    """What is wrong with one account's entry, duplicates aside (see :func:`duplicate_problems`)."""
    if not isinstance(account, AccountContacts):
        return [f"accounts[{index}]: must be an AccountContacts (got {type(account).__name__})"]
    where = account_label(index, account.account_id)
    problems = []
    id_problem = account_id_problem(where, account.account_id)
    if id_problem:
        problems.append(id_problem)
    return problems + _rule_problems(where, account.name, account.overrides, account.opt_out, "an account")


def unit_label(index: int, unit_id: object) -> str:
    """Where a unit's rule is in the model: ``organizational_units[0] (ou-ab12-34cd56ef)``."""
    valid = isinstance(unit_id, str) and ORGANIZATIONAL_UNIT_ID.fullmatch(unit_id) is not None
    return f"organizational_units[{index}] ({unit_id})" if valid else f"organizational_units[{index}]"


def unit_problems(index: int, unit: object) -> list[str]:
    """What is wrong with one organizational unit's rule, duplicates aside."""
    if not isinstance(unit, OrganizationalUnitContacts):
        return [f"organizational_units[{index}]: must be an OrganizationalUnitContacts (got {type(unit).__name__})"]
    where = unit_label(index, unit.organizational_unit_id)
    unit_id = unit.organizational_unit_id
    problems = []
    if not isinstance(unit_id, str):
        problems.append(f"{where}.id: must be a string, an organizational unit id (got {type(unit_id).__name__})")
    elif ROOT_ID.fullmatch(unit_id):
        problems.append(f"{where}.id: {unit_id} is the organization's root; put what every account gets in defaults")
    elif not ORGANIZATIONAL_UNIT_ID.fullmatch(unit_id):
        problems.append(
            f"{where}.id: must be an organizational unit id, ou- then 4 to 32 and 8 to 32 lower-case letters or "
            f"digits (ou-ab12-34cd56ef; got {unit_id[:70]!r})"
        )
    return problems + _rule_problems(where, unit.name, unit.overrides, unit.opt_out, "a unit")


def _rule_problems(
    where: str, name: object, overrides: Mapping[Any, object], opt_out: Collection[object], who: str
) -> list[str]:
    """What is wrong with the name, overrides and opt-outs an account or a unit gives."""
    problems = []
    if name is not None and not isinstance(name, str):
        problems.append(f"{where}.name: must be a string (got {type(name).__name__})")
    problems += each_type(f"{where}.overrides", overrides, lambda place, _, details: _details_problems(place, details))
    overridden = {t for t in map(contact_type_of, overrides) if t is not None}
    opted_out: set[AlternateContactType] = set()
    for position, value in enumerate(opt_out):
        contact_type = contact_type_of(value)
        if contact_type is None:
            # Not quoted: a list of strings is where a contact detail could end up by mistake.
            problems.append(f"{where}.opt_out[{position}]: not a contact type; use {TYPE_NAMES}")
        elif contact_type in overridden:
            problems.append(
                f"{where}.opt_out[{position}]: {type_label(contact_type)} is also overridden; {who} either "
                "overrides a type or opts out of it"
            )
        elif contact_type in opted_out:
            problems.append(f"{where}.opt_out[{position}]: {type_label(contact_type)} is listed twice")
        else:
            opted_out.add(contact_type)
    return problems


def duplicate_unit_problems(indexed_ids: Sequence[tuple[int, object]]) -> list[str]:
    """One problem per organizational unit given more than one rule."""
    first: dict[str, int] = {}
    problems = []
    for index, unit_id in indexed_ids:
        if not isinstance(unit_id, str):
            continue
        if unit_id in first:
            problems.append(
                f"organizational_units[{index}] ({unit_id}): the same unit as organizational_units[{first[unit_id]}]; "
                "give each unit one rule (merge the two)"
            )
        else:
            first.setdefault(unit_id, index)
    return problems


def duplicate_problems(indexed_ids: Sequence[tuple[int, object]]) -> list[str]:
    """One problem per account declared more than once: two resources would fight over its contacts."""
    first: dict[str, int] = {}
    problems = []
    for index, account_id in indexed_ids:
        if not isinstance(account_id, str) or is_unresolved(account_id):
            continue
        if account_id in first:
            problems.append(
                f"accounts[{index}] ({account_id}): the same account as accounts[{first[account_id]}]; declare each "
                "account once (merge the two entries)"
            )
        else:
            first[account_id] = index
    return problems


@dataclass(frozen=True)
class ContactsModel:
    """The organization's default contacts, its organizational units' rules and its accounts.

    Parameters
    ----------
    defaults:
        The contact details every account gets, per type. A type left out has no default: only the
        accounts that override it get a contact of that type. May be empty.
    accounts:
        The accounts, in any order (the order changes nothing in the deployment). Each account once.
    organizational_units:
        Rules of organizational units (:class:`OrganizationalUnitContacts`), in any order, each unit once.
        Default: none. With rules, resolving the accounts needs the organization's structure (which unit
        holds each account): see :mod:`cdk_alternate_contacts.structure`.
    coverage:
        The accounts kept beyond the listed ones (:class:`Coverage`). Default: none, only the listed
        accounts are managed.
    """

    defaults: Mapping[ContactTypeLike, ContactDetails]
    accounts: Sequence[AccountContacts]
    organizational_units: Sequence[OrganizationalUnitContacts] = ()
    coverage: Coverage | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "defaults", MappingProxyType(dict(self.defaults)))
        object.__setattr__(self, "accounts", tuple(self.accounts))
        object.__setattr__(self, "organizational_units", tuple(self.organizational_units))

    def problems(self) -> list[str]:
        """Every problem of the model, each ``<where>: <what is wrong>``; empty when it is valid."""
        problems = defaults_problems(self.defaults)
        if self.coverage is not None:
            problems += coverage_problems(self.coverage)
        for index, unit in enumerate(self.organizational_units):
            problems += unit_problems(index, unit)
        unit_ids = [
            (i, u.organizational_unit_id)
            for i, u in enumerate(self.organizational_units)
            if isinstance(u, OrganizationalUnitContacts)
        ]
        problems += duplicate_unit_problems(unit_ids)
        for index, account in enumerate(self.accounts):
            problems += account_problems(index, account)
        indexed_ids = [(i, a.account_id) for i, a in enumerate(self.accounts) if isinstance(a, AccountContacts)]
        return problems + duplicate_problems(indexed_ids)

    def validate(self, source: str) -> None:
        """Raise :class:`ContactsModelError` naming ``source`` and every problem, if there is any."""
        problems = self.problems()
        if problems:
            raise ContactsModelError(source, problems)

    def structure_problems(self, structure: OrganizationStructure | None) -> list[str]:
        """What keeps the accounts from being resolved with these organizational units' rules.

        Without rules nothing is needed. With rules, every listed account must be in ``structure`` (the
        lookup the user refreshes), so that its unit is known.
        """
        if not self.organizational_units or not self.accounts:
            return []
        if structure is None:
            return [
                "organizational_units: a unit's rule applies to the listed accounts under it, and which unit holds "
                f"each account is not known: run `{LOOKUP_COMMAND}` in the app's folder (it records the "
                "organization's structure in cdk.context.json, as CDK's context lookups do), then synthesize again"
            ]
        when = f" looked up at {structure.looked_up_at}" if structure.looked_up_at else ""
        return [
            f"{account_label(index, account.account_id)}: not in the organization's structure{when} "
            f"({structure.organization_id}): run `{LOOKUP_COMMAND}` again if it joined since, or check the id"
            for index, account in enumerate(self.accounts)
            if structure.path_of(account.account_id) is None
        ]

    def unknown_units(self, structure: OrganizationStructure) -> list[str]:
        """The rules' units that were not in the organization when ``structure`` was looked up."""
        return [
            unit.organizational_unit_id
            for unit in self.organizational_units
            if not structure.knows_unit(unit.organizational_unit_id)
        ]

    def resolve(
        self, source: str = "(in code)", structure: OrganizationStructure | None = None
    ) -> dict[str, dict[AlternateContactType, ContactDetails]]:
        """What each account gets: per type, its own entry, then the deepest unit's rule, then the defaults.

        Parameters
        ----------
        source:
            Names the model in an error.
        structure:
            Which organizational unit holds each account; needed when the model has units' rules.

        Returns
        -------
        dict
            Account id -> contact type -> details, in the order the accounts were declared; an account
            that ends up with no type maps to an empty dict.

        Raises
        ------
        ContactsModelError
            When the model is not valid (see :meth:`problems`), or has units' rules and ``structure`` does not
            place every account (:meth:`structure_problems`); ``source`` names it in the message.
        """
        self.validate(source)
        problems = self.structure_problems(structure)
        if problems:
            raise ContactsModelError(source, problems)
        defaults = _layer(self.defaults, ())
        units = {u.organizational_unit_id: _layer(u.overrides, u.opt_out) for u in self.organizational_units}
        resolved: dict[str, dict[AlternateContactType, ContactDetails]] = {}
        for account in self.accounts:
            path = () if structure is None or not units else (structure.path_of(account.account_id) or ())
            layers = layers_for(_layer(account.overrides, account.opt_out), path, units, defaults)
            resolved[account.account_id] = cascade(layers)
        return resolved


def _layer(
    overrides: Mapping[ContactTypeLike, ContactDetails], opt_out: Collection[ContactTypeLike]
) -> Layer[ContactDetails]:
    """A validated entry as a layer of the precedence (types normalized)."""
    contacts = {contact_type_of(k): v for k, v in overrides.items()}
    opted_out = frozenset(contact_type_of(v) for v in opt_out)
    return Layer(
        contacts={t: v for t, v in contacts.items() if t is not None},
        opt_out=frozenset(t for t in opted_out if t is not None),
    )
