"""Organization-wide default contacts with per-account overrides and opt-outs: the model, free of the CDK.

The model is what :class:`~cdk_alternate_contacts.OrganizationContacts` deploys and what a contacts file
(:func:`~cdk_alternate_contacts.load_contacts_model`) holds. Each account gets the defaults, replaced type
by type by its overrides, minus the types it opts out of.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import KW_ONLY, dataclass, field
from types import MappingProxyType

from cdk_alternate_contacts_handler import spec
from cdk_alternate_contacts_handler.spec import AlternateContactType

from .details import AlternateContactValidationError, ContactDetails, is_unresolved

#: A contact type as the API names it, or its name in any case (``"security"``).
ContactTypeLike = AlternateContactType | str

#: The fields of :class:`ContactDetails`, in the user's terms, and the API field whose rule each follows.
DETAIL_FIELDS: Mapping[str, str] = {
    "email_address": spec.EMAIL_ADDRESS,
    "name": spec.NAME,
    "phone_number": spec.PHONE_NUMBER,
    "title": spec.TITLE,
}

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
class AccountContacts:
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
    _: KW_ONLY
    overrides: Mapping[ContactTypeLike, ContactDetails] = field(default_factory=dict)
    opt_out: Collection[ContactTypeLike] = ()
    name: str | None = None

    def __post_init__(self) -> None:
        # Frozen for real: a model shared between stacks must not change under one of them.
        object.__setattr__(self, "overrides", MappingProxyType(dict(self.overrides)))
        object.__setattr__(self, "opt_out", tuple(self.opt_out))


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
    if account.name is not None and not isinstance(account.name, str):
        problems.append(f"{where}.name: must be a string (got {type(account.name).__name__})")
    overridden: set[AlternateContactType] = set()
    for key, details in account.overrides.items():
        contact_type = contact_type_of(key)
        if contact_type is None:
            problems.append(f"{where}.overrides: {str(key)[:40]!r} is not a contact type; use {TYPE_NAMES}")
        elif contact_type in overridden:
            problems.append(f"{where}.overrides.{type_label(contact_type)}: given twice")
        else:
            overridden.add(contact_type)
            problems += _details_problems(f"{where}.overrides.{type_label(contact_type)}", details)
    opted_out: set[AlternateContactType] = set()
    for position, value in enumerate(account.opt_out):
        contact_type = contact_type_of(value)
        if contact_type is None:
            # Not quoted: a list of strings is where a contact detail could end up by mistake.
            problems.append(f"{where}.opt_out[{position}]: not a contact type; use {TYPE_NAMES}")
        elif contact_type in overridden:
            problems.append(
                f"{where}.opt_out[{position}]: {type_label(contact_type)} is also overridden; an account either "
                "overrides a type or opts out of it"
            )
        elif contact_type in opted_out:
            problems.append(f"{where}.opt_out[{position}]: {type_label(contact_type)} is listed twice")
        else:
            opted_out.add(contact_type)
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
    """The organization's default contacts and its accounts, each with its overrides and opt-outs.

    Parameters
    ----------
    defaults:
        The contact details every account gets, per type. A type left out has no default: only the
        accounts that override it get a contact of that type. May be empty.
    accounts:
        The accounts, in any order (the order changes nothing in the deployment). Each account once.
    """

    defaults: Mapping[ContactTypeLike, ContactDetails]
    accounts: Sequence[AccountContacts]

    def __post_init__(self) -> None:
        object.__setattr__(self, "defaults", MappingProxyType(dict(self.defaults)))
        object.__setattr__(self, "accounts", tuple(self.accounts))

    def problems(self) -> list[str]:
        """Every problem of the model, each ``<where>: <what is wrong>``; empty when it is valid."""
        problems = defaults_problems(self.defaults)
        for index, account in enumerate(self.accounts):
            problems += account_problems(index, account)
        indexed_ids = [(i, a.account_id) for i, a in enumerate(self.accounts) if isinstance(a, AccountContacts)]
        return problems + duplicate_problems(indexed_ids)

    def validate(self, source: str) -> None:
        """Raise :class:`ContactsModelError` naming ``source`` and every problem, if there is any."""
        problems = self.problems()
        if problems:
            raise ContactsModelError(source, problems)

    def resolve(self, source: str = "(in code)") -> dict[str, dict[AlternateContactType, ContactDetails]]:
        """What each account gets: the defaults, replaced by its overrides, minus its opt-outs.

        Returns
        -------
        dict
            Account id -> contact type -> details, in the order the accounts were declared; an account
            that ends up with no type maps to an empty dict.

        Raises
        ------
        ContactsModelError
            When the model is not valid (see :meth:`problems`); ``source`` names it in the message.
        """
        self.validate(source)
        defaults = {contact_type_of(k): v for k, v in self.defaults.items()}
        resolved: dict[str, dict[AlternateContactType, ContactDetails]] = {}
        for account in self.accounts:
            overrides = {contact_type_of(k): v for k, v in account.overrides.items()}
            opted_out = {contact_type_of(v) for v in account.opt_out}
            merged: dict[AlternateContactType, ContactDetails] = {}
            for contact_type in AlternateContactType:
                details = overrides.get(contact_type, defaults.get(contact_type))
                if details is not None and contact_type not in opted_out:
                    merged[contact_type] = details
            resolved[account.account_id] = merged
        return resolved
