"""What a CloudFormation request declares: the contacts of its properties, validated, and whether a Delete
names the slots of its physical id.

Pure functions of the event: no AWS call is made here.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from . import spec
from .account_api import Target
from .errors import MAX_REASON, ContactError, fit_reason

logger = logging.getLogger(__name__)


def properties_of(event: Mapping[str, Any], key: str = "ResourceProperties") -> dict[str, Any]:
    """The event's properties as a dict; a malformed value gives an empty one (caught by validation)."""
    properties = event.get(key)
    return dict(properties) if isinstance(properties, Mapping) else {}


@dataclass(frozen=True)
class Declaration:
    """The contacts one resource declares: an account and, per contact type, the details.

    ``Custom::AlternateContact`` declares one type, ``Custom::AlternateContacts`` up to three.
    """

    account_id: str
    own_account: bool
    contacts: Mapping[str, Mapping[str, str]]
    restore_on_delete: bool = False
    skip_inactive_account: bool = False

    @property
    def physical_id(self) -> str:
        """``<account>/<TYPE>[+<TYPE>...]``: a change of account or of the set of types is a replacement."""
        return spec.physical_id(self.account_id, self.contacts)

    def target(self, contact_type: str) -> Target:
        """The slot of one of the declared types."""
        return Target(self.account_id, contact_type, own_account=self.own_account)


def declaration_of(event: Mapping[str, Any], own_account_id: str, key: str = "ResourceProperties") -> Declaration:
    """Validate the event's properties with the API's rules and return what they declare.

    Raises
    ------
    ContactError
        Naming every bad field and its rule (never the contact details themselves).
    """
    properties = properties_of(event, key)
    many = event.get("ResourceType") == spec.CONTACTS_RESOURCE_TYPE
    violations = spec.contacts_violations(properties) if many else spec.field_violations(properties)
    if violations:
        reason = "Invalid properties: " + "; ".join(v.message() for v in violations)
        if len(reason) > MAX_REASON:
            # CloudFormation shows 256 characters: name every field there, the rules go to the log.
            logger.error("%s", reason)
            fields = ", ".join(".".join(v.path) for v in violations)
            reason = f"Invalid properties: {fields} break the API's rules (details in the function's log)"
        raise ContactError(fit_reason(reason))
    if many:
        contacts = {t: {k: d[k] for k in spec.DETAIL_FIELDS} for t, d in properties[spec.CONTACTS].items()}
    else:
        contacts = {properties[spec.CONTACT_TYPE]: {k: properties[k] for k in spec.DETAIL_FIELDS}}
    account_id = properties.get(spec.ACCOUNT_ID) or own_account_id
    return Declaration(
        account_id,
        account_id == own_account_id,
        contacts,
        restore_on_delete=bool(spec.flag_value(properties.get(spec.RESTORE_ON_DELETE, False))),
        skip_inactive_account=bool(spec.flag_value(properties.get(spec.SKIP_INACTIVE_ACCOUNT, False))),
    )


def genuine_delete_problem(
    event: Mapping[str, Any], account_id: str, contact_types: tuple[str, ...], own: str
) -> str | None:
    """Say why a Delete's own properties do not name the slots of its physical id, or ``None`` when they do.

    CloudFormation sends every Delete with the properties its id was issued for (the cleanup Delete after
    a replacement carries the old properties), so a genuine Delete always matches: the same account
    (``AccountId``, or the function's own account when absent) and exactly the same types, compared as
    issued (upper case). For ``Custom::AlternateContact`` that is its one ``AlternateContactType``, for
    ``Custom::AlternateContacts`` the set of keys of ``AlternateContacts``.
    """
    properties = properties_of(event)
    named_account = properties.get(spec.ACCOUNT_ID) or own
    if named_account != account_id:
        return "its properties name another account"
    resource_type = event.get("ResourceType")
    if resource_type == spec.RESOURCE_TYPE:
        named_type = properties.get(spec.CONTACT_TYPE)
        named: set[Any] = {named_type} if isinstance(named_type, str) else set()
    elif resource_type == spec.CONTACTS_RESOURCE_TYPE:
        contacts = properties.get(spec.CONTACTS)
        named = set(contacts) if isinstance(contacts, Mapping) else set()
    else:
        return "its ResourceType is not one this handler serves"
    if named != set(contact_types):
        return "its properties name other contact types"
    return None


def written_details(event: Mapping[str, Any]) -> dict[str, Mapping[str, str]]:
    """The details this resource wrote, per type, as far as its (old) properties still tell."""
    properties = properties_of(event)
    if event.get("ResourceType") == spec.CONTACTS_RESOURCE_TYPE:
        contacts = properties.get(spec.CONTACTS)
        candidates = dict(contacts) if isinstance(contacts, Mapping) else {}
    else:
        candidates = {str(properties.get(spec.CONTACT_TYPE)): properties}
    return {
        contact_type: {key: details[key] for key in spec.DETAIL_FIELDS}
        for contact_type, details in candidates.items()
        if isinstance(details, Mapping) and all(isinstance(details.get(key), str) for key in spec.DETAIL_FIELDS)
    }
