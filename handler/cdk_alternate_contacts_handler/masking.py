"""Contact details shown masked: enough to recognise a contact, not enough to harvest it.

Every contact field is marked sensitive in the Account API's model, and what shows them often ends up in CI
logs: the command-line tool (whose ``--show-details`` turns masking off), the local engine's reports and its
demo all mask with these functions, the one masking of the project.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Final

from . import spec

#: Shown for a value too short to mask meaningfully.
HIDDEN: Final = "***"

#: A country code written apart from the rest of the number: ``+1 206 ...``, ``+44-20 ...``, ``+49(30)...``.
_COUNTRY_CODE = re.compile(r"^\+\d{1,3}(?=[\s(-])", re.ASCII)


def mask_email(value: str) -> str:
    """``jane.doe@example.com`` -> ``j***@example.com``: the first character and the domain."""
    local, at, domain = value.strip().rpartition("@")
    if not at or not local:
        return HIDDEN
    return f"{local[0]}{HIDDEN}@{domain}"


def mask_phone(value: str) -> str:
    """``+1 206 555 0147`` -> ``+1 *** ***0147``: the country code and the last four digits.

    The middle is always shown as ``*** ***`` whatever its length, so the mask tells nothing about it.
    """
    digits = re.sub(r"\D", "", value)
    if len(digits) < 7:
        return HIDDEN
    country = _COUNTRY_CODE.match(value.strip())
    prefix = f"{country.group(0)} " if country else ""
    return f"{prefix}{HIDDEN} {HIDDEN}{digits[-4:]}"


def initials(value: str) -> str:
    """``Jane Doe`` -> ``J. D.``: the first character of each word."""
    words = value.split()
    return " ".join(f"{word[0]}." for word in words) if words else HIDDEN


#: How each detail field is masked.
MASKS: Final[Mapping[str, Callable[[str], str]]] = {
    spec.EMAIL_ADDRESS: mask_email,
    spec.NAME: initials,
    spec.PHONE_NUMBER: mask_phone,
    spec.TITLE: initials,
}


def mask(field: str, value: str) -> str:
    """The masked value of detail ``field``: ``s***@example.com``, ``+1 *** ***0100``, initials."""
    return MASKS[field](value)


#: Anything shaped like an email address, for masking free text such as a failure reason.
EMAIL_LIKE: Final = re.compile(r"([^\s@<>()\"']+)@([\w.-]+\.\w+)")


def mask_text(text: str) -> str:
    """Mask every email address in free text (reasons and messages shown to a reader)."""
    return EMAIL_LIKE.sub(lambda match: mask_email(match.group(0)), text)


def show(field: str, value: str, *, reveal: bool) -> str:
    """The value of detail ``field`` as the user sees it: itself with ``reveal``, masked otherwise."""
    return value if reveal else mask(field, value)


def show_details(details: Mapping[str, str], *, reveal: bool) -> dict[str, str]:
    """Every detail field of a contact, masked unless ``reveal``."""
    return {field: show(field, str(details.get(field, "")), reveal=reveal) for field in spec.DETAIL_FIELDS}
