"""The one source of truth for alternate contacts: types, field rules, property keys and identity.

The construct imports this module at synth time and the Lambda handler at deploy time, so a value that
passes one passes the other. ``tests/unit/test_spec_matches_botocore.py`` holds these rules against
botocore's ``account`` service model so an API change fails a test instead of leaving a stale copy here.

This module must stay importable with nothing but the standard library: it ships alone in the asset.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
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

ACCOUNT_ID: Final = "AccountId"
CONTACT_TYPE: Final = "AlternateContactType"
EMAIL_ADDRESS: Final = "EmailAddress"
NAME: Final = "Name"
PHONE_NUMBER: Final = "PhoneNumber"
TITLE: Final = "Title"

#: The contact's details: personal data, never logged, never echoed in an error message.
DETAIL_FIELDS: Final[tuple[str, ...]] = (EMAIL_ADDRESS, NAME, PHONE_NUMBER, TITLE)


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
                return f"must be {self.description} (got {len(value)} characters)"
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

#: Physical id of a managed contact: ``<12-digit account>/<TYPE>``; nothing else was issued by this handler.
PHYSICAL_ID_PATTERN: Final = re.compile(r"^(\d{12})/(BILLING|OPERATIONS|SECURITY)$", re.ASCII)


def physical_id(account_id: str, contact_type: str) -> str:
    """Return the identity of the contact of ``contact_type`` in ``account_id``."""
    return f"{account_id}/{contact_type}"


def parse_physical_id(value: object) -> tuple[str, str] | None:
    """Return ``(account_id, contact_type)`` for an id this handler issued, or ``None`` for any other."""
    if not isinstance(value, str):
        return None
    match = PHYSICAL_ID_PATTERN.fullmatch(value)
    return (match.group(1), match.group(2)) if match else None


def field_errors(properties: Mapping[str, Any], *, skip: frozenset[str] = frozenset()) -> list[str]:
    """Check resource properties against the API's rules.

    Parameters
    ----------
    properties:
        The resource's properties, keyed as the API names them. ``AccountId`` may be absent (the
        deploying account); every other field is required.
    skip:
        Keys whose values are not known yet (CDK tokens) and are checked at deploy time instead.

    Returns
    -------
    list[str]
        One message per bad field, starting with the field's name and stating the rule; empty when all is well. Contact
        details are never quoted; the account id and the type are, since they are not personal data.
    """
    errors = []
    contact_type = properties.get(CONTACT_TYPE)
    if CONTACT_TYPE not in skip:
        if contact_type is None:
            errors.append(f"{CONTACT_TYPE} is required")
        elif contact_type not in CONTACT_TYPES:
            shown = repr(contact_type)[:40]
            errors.append(f"{CONTACT_TYPE} must be one of {', '.join(CONTACT_TYPES)} (got {shown})")
    for field, rule in FIELD_RULES.items():
        if field in skip:
            continue
        value = properties.get(field)
        if value is None:
            if field != ACCOUNT_ID:
                errors.append(f"{field} is required")
            continue
        if not isinstance(value, str):
            errors.append(f"{field} must be a string (got {type(value).__name__})")
            continue
        problem = rule.violation(value)
        if problem is not None:
            shown = f" (got {value[:20]!r})" if field == ACCOUNT_ID else ""
            errors.append(f"{field} {problem}{shown}")
    return errors


def same_contact(declared: Mapping[str, Any], live: Mapping[str, Any]) -> bool:
    """Tell whether a contact read back from the API carries the declared details.

    The API's email pattern admits surrounding white space, which it may or may not keep; compare
    without it so a legitimate value does not look like a mismatch forever.
    """
    return all(str(declared.get(f, "")).strip() == str(live.get(f, "")).strip() for f in DETAIL_FIELDS)
