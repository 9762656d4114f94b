"""Declared contacts against live ones: the decisions behind ``plan`` and ``drift``, free of I/O.

A contact a coverage would write (:attr:`.assembly.Declaration.covered_by`) is decided by the coverage
function's own :func:`~cdk_alternate_contacts_handler.coverage.decide`: ``plan`` shows what it would do.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Final

from cdk_alternate_contacts_handler import spec
from cdk_alternate_contacts_handler.coverage import Decision, decide

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
    #: a covered account's contact differs from the rules and its coverage only reports drift: never written
    REPORTED = "reported"


#: The words ``plan`` uses, as a deploy would act.
PLAN_WORDS: Final[Mapping[Outcome, str]] = {
    Outcome.ABSENT: "CREATE",
    Outcome.DIFFERENT: "UPDATE",
    Outcome.SAME: "NO CHANGE",
    Outcome.UNKNOWN: "UNKNOWN",
    Outcome.NEW: "NEW",
    Outcome.INVALID: "INVALID",
    Outcome.ERROR: "ERROR",
    Outcome.REPORTED: "DRIFT (reported)",
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
    Outcome.REPORTED: "DRIFTED (reported)",
}

#: Outcomes of contacts that were not checked against a live contact: drift cannot call them in sync.
UNCHECKED: Final = frozenset({Outcome.UNKNOWN, Outcome.NEW})

#: What each decision of a coverage is, as an outcome: ``plan`` counts those the function writes as changes.
COVERAGE_OUTCOMES: Final[Mapping[Decision, Outcome]] = {
    Decision.CREATE: Outcome.ABSENT,
    Decision.RESTORE: Outcome.DIFFERENT,
    Decision.REPORT: Outcome.REPORTED,
    Decision.IN_SYNC: Outcome.SAME,
}

#: Contacts a note names one by one; the rest are counted.
MAX_SHOWN: Final = 10

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
    A coverage's contact gets the outcome of the function's own decision (:data:`COVERAGE_OUTCOMES`).
    Declared contacts come first, then the coverages' ones.
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
        elif (covered_by := declaration.covered_by) is not None:
            live = readings[key].contact
            outcome = COVERAGE_OUTCOMES[decide(declaration.details, live, on_drift=covered_by.on_drift)]
            changed = changed_fields(declaration.details, live) if live is not None else ()
            found.append(Comparison(declaration, outcome, changed, live, readings[key]))
        elif (live := readings[key].contact) is None:
            found.append(Comparison(declaration, Outcome.ABSENT, reading=readings[key], resolution=resolution))
        else:
            changed = changed_fields(declaration.details, live)
            outcome = Outcome.DIFFERENT if changed else Outcome.UNKNOWN if declaration.unresolved else Outcome.SAME
            found.append(Comparison(declaration, outcome, changed, live, readings[key], resolution))
    return sorted(found, key=_order)


def _order(comparison: Comparison) -> tuple[bool, int, str, int, str]:
    declaration = comparison.declaration
    account = declaration.account if isinstance(declaration.account, str) else ""
    contact_type = declaration.contact_type if isinstance(declaration.contact_type, str) else ""
    return (
        declaration.covered_by is not None,
        0 if account else 1,
        account,
        _TYPE_ORDER.get(contact_type, len(_TYPE_ORDER)),
        declaration.declared_by,
    )


def duplicates(declarations: Sequence[Declaration]) -> list[str]:
    """Notes for contacts declared more than once (in several stacks, or also kept by a coverage that does not
    list the account): each deploy, or each coverage run, overwrites the other.

    Contacts a coverage keeps are grouped by who else writes them, one note per group: two coverages of the
    same accounts would otherwise make a note per contact.
    """
    by_slot: dict[tuple[str, str], set[str]] = defaultdict(set)
    for declaration in declarations:
        key = slot(declaration)
        if key is not None:
            covered_by = declaration.covered_by
            by_slot[key].add(declaration.declared_by if covered_by is None else f"{covered_by.coverage} coverage")
    notes = []
    by_writers: dict[tuple[str, ...], list[str]] = defaultdict(list)
    for (account, contact_type), writers in sorted(by_slot.items()):
        if len(writers) < 2:
            continue
        if not any(writer.endswith(" coverage") for writer in writers):
            notes.append(
                f"{account}/{contact_type} is declared by {' and '.join(sorted(writers))}: "
                "each deploy overwrites the other"
            )
        else:
            by_writers[tuple(sorted(writers))].append(f"{account}/{contact_type}")
    for group, slots in by_writers.items():
        shown = ", ".join(slots[:MAX_SHOWN]) + (f" and {len(slots) - MAX_SHOWN} more" if len(slots) > MAX_SHOWN else "")
        notes.append(
            f"{shown} {'is' if len(slots) == 1 else 'are'} written by {' and '.join(group)}: each overwrites "
            "the other (list the account in the coverage's [[accounts]], or narrow its units)"
        )
    return notes
