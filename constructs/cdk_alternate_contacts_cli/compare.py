"""Declared contacts against live ones: the decisions behind ``plan`` and ``drift``, free of I/O."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Final

from cdk_alternate_contacts_handler import spec

from .assembly import Declaration
from .aws import Reading
from .deployed import NOT_DEPLOYED, Found, Resolution
from .intrinsics import Unresolved


class Outcome(Enum):
    """How a declared contact compares with the live one."""

    ABSENT = "absent"  #: the account has no contact of that type
    DIFFERENT = "different"  #: a live field differs from the declaration
    SAME = "same"  #: every field matches
    UNKNOWN = "unknown"  #: a declared value is only known at deploy time
    NEW = "new"  #: the account is only known at deploy time and its resource is not deployed yet: a deploy creates it
    INVALID = "invalid"  #: a declared value breaks the API's rules: the deploy would fail
    ERROR = "error"  #: the live contact could not be read


#: The words ``plan`` uses, as a deploy would act.
PLAN_WORDS: Final[Mapping[Outcome, str]] = {
    Outcome.ABSENT: "CREATE",
    Outcome.DIFFERENT: "UPDATE",
    Outcome.SAME: "NO CHANGE",
    Outcome.UNKNOWN: "UNKNOWN",
    Outcome.NEW: "NEW",
    Outcome.INVALID: "INVALID",
    Outcome.ERROR: "ERROR",
}

#: The words ``drift`` uses, as the state of a deployed contact.
DRIFT_WORDS: Final[Mapping[Outcome, str]] = {
    Outcome.ABSENT: "MISSING",
    Outcome.DIFFERENT: "DRIFTED",
    Outcome.SAME: "IN SYNC",
    Outcome.UNKNOWN: "UNKNOWN",
    Outcome.NEW: "NOT DEPLOYED",
    Outcome.INVALID: "INVALID",
    Outcome.ERROR: "ERROR",
}

#: Outcomes of contacts that were not checked against a live contact: drift cannot call them in sync.
UNCHECKED: Final = frozenset({Outcome.UNKNOWN, Outcome.NEW})

_TYPE_ORDER: Final = {contact_type: index for index, contact_type in enumerate(spec.CONTACT_TYPES)}


@dataclass(frozen=True)
class Comparison:
    """One declared contact and what the live API holds for it.

    ``resolution`` is what the deployed stack said of its resource, when the template alone could not tell
    the account (see :mod:`.deployed`).
    """

    declaration: Declaration
    outcome: Outcome
    changed: tuple[str, ...] = ()
    live: Mapping[str, str] | None = None
    reading: Reading | None = None
    resolution: Resolution | None = None


def slot(declaration: Declaration) -> tuple[str, str] | None:
    """The (account, type) whose live contact to read, or ``None`` when the deploy alone knows them or the
    declaration is invalid (the deploy would fail before touching the contact)."""
    if declaration.invalid:
        return None
    if isinstance(declaration.account, Unresolved) or isinstance(declaration.contact_type, Unresolved):
        return None
    return declaration.account, declaration.contact_type


def changed_fields(declared: Mapping[str, str], live: Mapping[str, str]) -> tuple[str, ...]:
    """The declared detail fields whose live value differs, compared as the handler compares them.

    Fields missing from ``declared`` (known only at deploy time) are not compared.
    """
    return tuple(
        key
        for key in spec.DETAIL_FIELDS
        if key in declared and not spec.same_contact({key: declared[key]}, {key: live.get(key, "")})
    )


def compare(
    declarations: Sequence[Declaration],
    readings: Mapping[tuple[str, str], Reading],
    resolutions: Sequence[Resolution | None] | None = None,
) -> list[Comparison]:
    """Each declaration with its outcome, ordered by account and then type (BILLING, OPERATIONS, SECURITY).

    A declaration with values known only at deploy time is still compared on what is known: no live contact
    means CREATE (MISSING), a known field that differs means UPDATE (DRIFTED); otherwise it is UNKNOWN.
    ``resolutions`` (one per declaration, from :func:`.deployed.resolve_deployed`) tells, for an account only
    the deploy knows, that its resource is not deployed yet (NEW: a deploy creates it, unless the resource
    has a condition, which keeps it UNKNOWN), or that the deployed stack could not be read (ERROR).
    """
    found = []
    for index, declaration in enumerate(declarations):
        resolution = resolutions[index] if resolutions is not None else None
        key = slot(declaration)
        location = declaration.location
        if declaration.invalid:
            found.append(Comparison(declaration, Outcome.INVALID, resolution=resolution))
        elif key is None and resolution is not None and resolution.found is Found.UNREADABLE:
            reading = Reading(None, resolution.error_code, resolution.error_message)
            found.append(Comparison(declaration, Outcome.ERROR, reading=reading, resolution=resolution))
        elif key is None and resolution is not None and resolution.found in NOT_DEPLOYED:
            conditional = location is not None and location.condition is not None
            outcome = Outcome.UNKNOWN if conditional else Outcome.NEW
            found.append(Comparison(declaration, outcome, resolution=resolution))
        elif key is None:
            found.append(Comparison(declaration, Outcome.UNKNOWN, resolution=resolution))
        elif readings[key].failed:
            found.append(Comparison(declaration, Outcome.ERROR, reading=readings[key], resolution=resolution))
        elif (live := readings[key].contact) is None:
            found.append(Comparison(declaration, Outcome.ABSENT, reading=readings[key], resolution=resolution))
        else:
            changed = changed_fields(declaration.details, live)
            outcome = Outcome.DIFFERENT if changed else Outcome.UNKNOWN if declaration.unresolved else Outcome.SAME
            found.append(Comparison(declaration, outcome, changed, live, readings[key], resolution))
    return sorted(found, key=_order)


def _order(comparison: Comparison) -> tuple[int, str, int, str]:
    declaration = comparison.declaration
    account = declaration.account if isinstance(declaration.account, str) else ""
    contact_type = declaration.contact_type if isinstance(declaration.contact_type, str) else ""
    return (0 if account else 1, account, _TYPE_ORDER.get(contact_type, len(_TYPE_ORDER)), declaration.declared_by)


def duplicates(declarations: Sequence[Declaration]) -> list[str]:
    """Notes for contacts declared more than once (in several stacks): each deploy overwrites the other."""
    by_slot: dict[tuple[str, str], list[str]] = defaultdict(list)
    for declaration in declarations:
        key = slot(declaration)
        if key is not None:
            by_slot[key].append(declaration.declared_by)
    return [
        f"{account}/{contact_type} is declared by {' and '.join(sorted(paths))}: each deploy overwrites the other"
        for (account, contact_type), paths in sorted(by_slot.items())
        if len(paths) > 1
    ]
