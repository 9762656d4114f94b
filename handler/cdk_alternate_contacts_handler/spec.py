"""The one source of truth for alternate contacts: types, field rules, property keys and identity.

The construct imports this module at synth time and the Lambda handler at deploy time, so a value that
passes one passes the other. ``tests/unit/test_spec_matches_botocore.py`` holds these rules against
botocore's ``account`` service model so an API change fails a test instead of leaving a stale copy here.

This module must stay importable with nothing but the standard library: it ships alone in the asset.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Final


class AlternateContactType(StrEnum):
    """The three kinds of alternate contact an AWS account can have."""

    BILLING = "BILLING"
    OPERATIONS = "OPERATIONS"
    SECURITY = "SECURITY"


CONTACT_TYPES: Final[tuple[str, ...]] = tuple(t.value for t in AlternateContactType)

#: CloudFormation resource type of one contact; the keys of its properties are the API's own.
RESOURCE_TYPE: Final = "Custom::AlternateContact"

#: CloudFormation resource type of several contacts of one account, in one resource.
CONTACTS_RESOURCE_TYPE: Final = "Custom::AlternateContacts"

#: CloudFormation resource type that starts a coverage's full run when the coverage is created or changed;
#: its properties name the coverage's queue and the rules' digest.
COVERAGE_RESOURCE_TYPE: Final = "Custom::AlternateContactsCoverage"
COVERAGE_QUEUE_URL: Final = "QueueUrl"
COVERAGE_RULES_DIGEST: Final = "RulesDigest"

#: The provider function's environment variable naming the coverage queue, to which a Delete hands an account
#: the stack no longer lists (the coverage then keeps it).
COVERAGE_QUEUE_VARIABLE: Final = "COVERAGE_QUEUE_URL"

#: Property of ``Custom::AlternateContacts``: a map from contact type to that contact's details.
CONTACTS: Final = "AlternateContacts"

ACCOUNT_ID: Final = "AccountId"
CONTACT_TYPE: Final = "AlternateContactType"
EMAIL_ADDRESS: Final = "EmailAddress"
NAME: Final = "Name"
PHONE_NUMBER: Final = "PhoneNumber"
TITLE: Final = "Title"

#: Optional resource properties that are not API fields: the construct's opt-in behaviours ("true"/"false").
RESTORE_ON_DELETE: Final = "RestoreOnDelete"
SKIP_INACTIVE_ACCOUNT: Final = "SkipInactiveAccount"
FLAGS: Final[tuple[str, ...]] = (RESTORE_ON_DELETE, SKIP_INACTIVE_ACCOUNT)

#: SSM parameter path under which restore-on-delete records live (the function may touch nothing else).
RESTORE_PARAMETER_PREFIX: Final = "/cdk-alternate-contacts"

#: The contact's details: personal data, never logged, never echoed in an error message.
DETAIL_FIELDS: Final[tuple[str, ...]] = (EMAIL_ADDRESS, NAME, PHONE_NUMBER, TITLE)

#: Every API field's name in the user's terms (the constructs' keywords, the data file's keys): the one
#: mapping between the two spellings.
USER_NAMES: Final[Mapping[str, str]] = {
    ACCOUNT_ID: "account_id",
    CONTACT_TYPE: "contact_type",
    EMAIL_ADDRESS: "email_address",
    NAME: "name",
    PHONE_NUMBER: "phone_number",
    TITLE: "title",
}


@dataclass(frozen=True)
class FieldRule:
    """What the Account API accepts for one string field (botocore's ``account`` model).

    Attributes
    ----------
    min_length, max_length:
        Inclusive bounds on the number of characters.
    pattern:
        The API's regular expression, compiled with ``re.ASCII`` because the API's ``\\w`` and ``\\s``
        are ASCII-only; ``None`` when the API sets no pattern.
    description:
        The pattern in words, for error messages that must not repeat the (personal) value.
    """

    min_length: int
    max_length: int
    pattern: re.Pattern[str] | None
    description: str

    def violation(self, value: str) -> str | None:
        """Describe how ``value`` breaks this rule, without quoting the value; ``None`` when it does not."""
        if not self.min_length <= len(value) <= self.max_length:
            if self.min_length == self.max_length:
                return f"must be {self.description}"
            return f"must be {self.min_length} to {self.max_length} characters long (got {len(value)})"
        if self.pattern is not None and not self.pattern.fullmatch(value):
            return f"must be {self.description}"
        return None


FIELD_RULES: Final[Mapping[str, FieldRule]] = {
    ACCOUNT_ID: FieldRule(12, 12, re.compile(r"^\d{12}$", re.ASCII), "exactly 12 digits"),
    EMAIL_ADDRESS: FieldRule(
        1,
        254,
        re.compile(r"^[\s]*[\w+=.#|!&-]+@[\w.-]+\.[\w]+[\s]*$", re.ASCII),
        "an ASCII email address, name@domain.tld",
    ),
    NAME: FieldRule(1, 64, None, "1 to 64 characters"),
    PHONE_NUMBER: FieldRule(
        1,
        25,
        re.compile(r"^[\s0-9()+-]+$", re.ASCII),
        "digits, spaces and ( ) + - only",
    ),
    TITLE: FieldRule(1, 50, None, "1 to 50 characters"),
}

_TYPE_ALTERNATION = "|".join(CONTACT_TYPES)

#: Physical id of managed contacts: ``<12-digit account>/<TYPE>[+<TYPE>...]``, types sorted and unique.
#: Nothing else was issued by this handler.
PHYSICAL_ID_PATTERN: Final = re.compile(
    rf"^(\d{{12}})/((?:{_TYPE_ALTERNATION})(?:\+(?:{_TYPE_ALTERNATION}))*)$", re.ASCII
)


def physical_id(account_id: str, contact_types: str | Iterable[str]) -> str:
    """Return the identity of the contacts of ``contact_types`` in ``account_id``: ``123456789012/SECURITY``."""
    types = [contact_types] if isinstance(contact_types, str) else sorted(set(contact_types))
    return f"{account_id}/{'+'.join(types)}"


def parse_physical_id(value: object) -> tuple[str, tuple[str, ...]] | None:
    """Return ``(account_id, contact_types)`` for an id this handler issued, or ``None`` for any other."""
    if not isinstance(value, str):
        return None
    match = PHYSICAL_ID_PATTERN.fullmatch(value)
    if not match:
        return None
    types = tuple(match.group(2).split("+"))
    return (match.group(1), types) if list(types) == sorted(set(types)) else None


def normalized_type(value: object) -> AlternateContactType | None:
    """The contact type ``value`` names, in any letter case (``"security"``, ``"Security"``); ``None`` if none.

    This is how every user-facing input (the constructs, contacts files, ``OrganizationContacts``) reads a
    type; the template then holds the API's upper-case value. Only ASCII letters count: ``str.upper``
    maps look-alikes such as the dotless i (U+0131) to ``"I"``, and such a spelling is not a type. The handler
    does not use this: CloudFormation sends what the template holds, so events must carry the exact value
    (see :func:`type_error`).
    """
    if isinstance(value, AlternateContactType):
        return value
    if isinstance(value, str) and value.isascii() and value.upper() in CONTACT_TYPES:
        return AlternateContactType(value.upper())
    return None


@dataclass(frozen=True)
class Violation:
    """One property that breaks a rule: where it is, in the resource's own keys, and the rule in words.

    Attributes
    ----------
    path:
        The keys from the resource's properties down to the value: ``("AccountId",)``,
        ``("AlternateContacts", "SECURITY", "EmailAddress")``; ``("AlternateContacts",)`` for the map itself.
    rule:
        What is allowed, never quoting a contact detail (``must be 1 to 64 characters long (got 70)``).
    kind:
        What went wrong, for renderers that word it their own way: ``required``, ``type``, ``value``,
        ``unknown-type``, ``empty``.
    """

    path: tuple[str, ...]
    rule: str
    kind: str = "value"

    def message(self) -> str:
        """The violation in the API's terms: ``AlternateContacts.SECURITY.EmailAddress must be ...``."""
        return f"{'.'.join(self.path)} {self.rule}"


def type_violation(value: object) -> Violation | None:
    """Why ``value`` is not a contact type, or ``None`` when it is one."""
    if value is None:
        return Violation((CONTACT_TYPE,), "is required", "required")
    if value not in CONTACT_TYPES:
        return Violation((CONTACT_TYPE,), f"must be one of {', '.join(CONTACT_TYPES)} (got {repr(value)[:40]})")
    return None


def type_error(value: object) -> str | None:
    """Say why ``value`` is not a contact type, or ``None`` when it is one."""
    violation = type_violation(value)
    return None if violation is None else violation.message()


def value_violation(field: str, value: object, *, where: tuple[str, ...] = ()) -> Violation | None:
    """How ``value`` breaks the rule of ``field`` (never quoting a contact detail); ``where`` prefixes the path."""
    rule = FIELD_RULES[field]
    path = (*where, field)
    if value is None:
        return None if field == ACCOUNT_ID else Violation(path, "is required", "required")
    if not isinstance(value, str):
        return Violation(path, f"must be a string (got {type(value).__name__})", "type")
    problem = rule.violation(value)
    if problem is None:
        return None
    # The account id is not personal data, and seeing it helps; the details are never echoed.
    shown = f" (got {value[:20]!r})" if field == ACCOUNT_ID else ""
    return Violation(path, f"{problem}{shown}")


def value_error(field: str, value: object) -> str | None:
    """Say how ``value`` breaks the rule of ``field`` (naming the field, never quoting a contact detail)."""
    violation = value_violation(field, value)
    return None if violation is None else violation.message()


def flag_value(value: object) -> bool | None:
    """A flag as CloudFormation passes it (the string "true"/"false"; booleans from tests), or None if invalid."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    return None


def flag_violations(properties: Mapping[str, Any]) -> list[Violation]:
    """The optional flags present with a value other than true or false."""
    return [
        Violation((flag,), "must be true or false")
        for flag in FLAGS
        if flag in properties and flag_value(properties[flag]) is None
    ]


def flag_errors(properties: Mapping[str, Any]) -> list[str]:
    """Say which optional flags are present with a value other than true or false."""
    return [violation.message() for violation in flag_violations(properties)]


def field_violations(properties: Mapping[str, Any], *, skip: frozenset[str] = frozenset()) -> list[Violation]:
    """Check the properties of a ``Custom::AlternateContact`` resource against the API's rules.

    Parameters
    ----------
    properties:
        The resource's properties, keyed as the API names them. ``AccountId`` may be absent (the
        deploying account); every other field is required.
    skip:
        Keys whose values are not known yet (CDK tokens) and are checked at deploy time instead.

    Returns
    -------
    list[Violation]
        One per bad field; empty when all is well. Contact details are never quoted; the account id and the
        type are, since they are not personal data.
    """
    found = [] if CONTACT_TYPE in skip else [type_violation(properties.get(CONTACT_TYPE))]
    found += [value_violation(field, properties.get(field)) for field in FIELD_RULES if field not in skip]
    return [v for v in found if v is not None] + flag_violations(properties)


def field_errors(properties: Mapping[str, Any], *, skip: frozenset[str] = frozenset()) -> list[str]:
    """:func:`field_violations` in the API's terms, one message per bad field."""
    return [violation.message() for violation in field_violations(properties, skip=skip)]


def contacts_violations(properties: Mapping[str, Any], *, skip: frozenset[str] = frozenset()) -> list[Violation]:
    """Check the properties of a ``Custom::AlternateContacts`` resource against the API's rules.

    ``AlternateContacts`` maps each managed type to its details; a type left out is not managed.
    ``skip`` holds ``AccountId`` and ``<TYPE>.<Field>`` keys whose values are still tokens.
    """
    found = [] if ACCOUNT_ID in skip else [value_violation(ACCOUNT_ID, properties.get(ACCOUNT_ID))]
    found += flag_violations(properties)
    contacts = properties.get(CONTACTS)
    if not isinstance(contacts, Mapping) or not contacts:
        found.append(
            Violation((CONTACTS,), f"must map at least one of {', '.join(CONTACT_TYPES)} to its details", "empty")
        )
        return [v for v in found if v is not None]
    for contact_type, details in contacts.items():
        if contact_type not in CONTACT_TYPES:
            found.append(
                Violation(
                    (CONTACTS,),
                    f"has an unknown type {str(contact_type)[:40]!r}: use {', '.join(CONTACT_TYPES)}",
                    "unknown-type",
                )
            )
        elif not isinstance(details, Mapping):
            found.append(Violation((CONTACTS, contact_type), f"must be a map of {', '.join(DETAIL_FIELDS)}", "type"))
        else:
            for field in DETAIL_FIELDS:
                if f"{contact_type}.{field}" not in skip:
                    found.append(value_violation(field, details.get(field), where=(CONTACTS, contact_type)))
    return [v for v in found if v is not None]


def contacts_errors(properties: Mapping[str, Any], *, skip: frozenset[str] = frozenset()) -> list[str]:
    """:func:`contacts_violations` in the API's terms (``AlternateContacts.SECURITY.EmailAddress must be ...``)."""
    return [violation.message() for violation in contacts_violations(properties, skip=skip)]


def same_contact(declared: Mapping[str, Any], live: Mapping[str, Any]) -> bool:
    """Tell whether a contact read back from the API carries the declared details.

    The API's email pattern admits surrounding white space, which it may or may not keep; compare
    without it so a legitimate value does not look like a mismatch forever.
    """
    return all(str(declared.get(f, "")).strip() == str(live.get(f, "")).strip() for f in DETAIL_FIELDS)
