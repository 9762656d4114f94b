"""What each CloudFormation request means for one alternate contact: the decisions, free of crhelper.

Every function takes the event, a :class:`Clients` bundle and a :class:`~.account_api.Deadline`, and
returns the physical id to answer with (or raises :class:`~.account_api.ContactError`).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError

from . import spec
from .account_api import (
    MAX_REASON,
    ContactError,
    Deadline,
    RetryPolicy,
    Target,
    call_with_retry,
    delete_contact,
    error_code,
    fit_reason,
    put_contact,
)

logger = logging.getLogger(__name__)

#: Stack resource states in which a resource no longer holds its physical id.
GONE_STATES = frozenset({"DELETE_IN_PROGRESS", "DELETE_COMPLETE", "DELETE_SKIPPED", "CREATE_FAILED"})


@dataclass
class Clients:
    """The AWS clients a request may use, and the account the function runs in.

    Attributes
    ----------
    account:
        boto3 ``account`` client.
    cloudformation:
        boto3 ``cloudformation`` client, used only to list the resources of the event's own stack.
    own_account_id:
        The account of the function (from its ARN): the target when AccountId is left out.
    policy:
        Retry timing; tests shorten it.
    """

    account: Any
    cloudformation: Any
    own_account_id: str
    policy: RetryPolicy = field(default_factory=RetryPolicy)


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
    errors = spec.contacts_errors(properties) if many else spec.field_errors(properties)
    if errors:
        reason = "Invalid properties: " + "; ".join(errors)
        if len(reason) > MAX_REASON:
            # CloudFormation shows 256 characters: name every field there, the rules go to the log.
            logger.error("%s", reason)
            fields = ", ".join(error.split(" ", 1)[0] for error in errors)
            reason = f"Invalid properties: {fields} break the API's rules (details in the function's log)"
        raise ContactError(fit_reason(reason))
    if many:
        contacts = {t: {k: d[k] for k in spec.DETAIL_FIELDS} for t, d in properties[spec.CONTACTS].items()}
    else:
        contacts = {properties[spec.CONTACT_TYPE]: {k: properties[k] for k in spec.DETAIL_FIELDS}}
    account_id = properties.get(spec.ACCOUNT_ID) or own_account_id
    return Declaration(account_id, account_id == own_account_id, contacts)


def create(event: Mapping[str, Any], clients: Clients, deadline: Deadline) -> str:
    """Put every declared contact and return the identity ``<account>/<TYPE>[+<TYPE>...]``."""
    declared = declaration_of(event, clients.own_account_id)
    for contact_type, details in declared.contacts.items():
        target = declared.target(contact_type)
        logger.info("Create %s: putting the contact", target.physical_id)
        put_contact(clients.account, target, details, deadline=deadline, policy=clients.policy)
    return declared.physical_id


def update(event: Mapping[str, Any], clients: Clients, deadline: Deadline) -> str:
    """Put what changed and return the (possibly new) identity.

    A changed account, or a changed set of types, yields a new identity: CloudFormation then sends a
    Delete for the old identity in its cleanup phase, which removes what is no longer declared (and
    nothing before the whole update has succeeded). Contacts whose details did not change are not put
    again, which spares the API's write quota.
    """
    declared = declaration_of(event, clients.own_account_id)
    try:
        before: Declaration | None = declaration_of(event, clients.own_account_id, "OldResourceProperties")
    except ContactError:
        before = None  # written by an older version or invalid: put everything
    for contact_type, details in declared.contacts.items():
        target = declared.target(contact_type)
        unchanged = (
            before is not None
            and before.account_id == declared.account_id
            and spec.same_contact(details, before.contacts.get(contact_type, {}))
        )
        if unchanged:
            logger.info("Update %s: unchanged", target.physical_id)
            continue
        logger.info("Update %s: putting the new values", target.physical_id)
        put_contact(clients.account, target, details, deadline=deadline, policy=clients.policy)
    previous = event.get("PhysicalResourceId")
    if previous != declared.physical_id:
        logger.info("Update %s -> %s: replacement; the old id is deleted in cleanup", previous, declared.physical_id)
    return declared.physical_id


def delete(event: Mapping[str, Any], clients: Clients, deadline: Deadline) -> None:
    """Delete the contacts this resource manages, except what it does not own.

    Nothing is deleted when the physical id was not issued by this handler (a Delete after a failed
    Create carries crhelper's invented id: the account's contacts predate the stack). A contact that
    another live resource of the same stack claims is kept: the construct was renamed (the new resource
    was created first and owns it now) or, after a replacement, the resource still declares that type.
    """
    physical = event.get("PhysicalResourceId")
    parsed = spec.parse_physical_id(physical)
    if parsed is None:
        logger.info("Delete of an id this handler did not issue (failed create?): nothing to delete")
        return
    account_id, contact_types = parsed
    claimed = claimed_slots(event, clients, deadline, str(physical))
    written = _written_details(event)
    for contact_type in contact_types:
        target = Target(account_id, contact_type, own_account=account_id == clients.own_account_id)
        if target.physical_id in claimed:
            logger.info(
                "Delete %s: still claimed by %s; left in place", target.physical_id, claimed[target.physical_id]
            )
            continue
        existed = delete_contact(
            clients.account,
            target,
            deadline=deadline,
            policy=clients.policy,
            deleted=written.get(contact_type),
        )
        logger.info("Delete %s: %s", target.physical_id, "deleted" if existed else "there was no contact")


def _written_details(event: Mapping[str, Any]) -> dict[str, Mapping[str, str]]:
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


def claimed_slots(event: Mapping[str, Any], clients: Clients, deadline: Deadline, deleting: str) -> dict[str, str]:
    """Map each ``<account>/<TYPE>`` that another live resource of the event's stack claims to its logical id.

    "Another" excludes only the resource being deleted, listed under its own logical id with the very
    id being deleted; after a replacement, its logical id shows the new id, which does claim its types.
    ListStackResources is used rather than DescribeStackResources, which stops at 100 resources.

    Raises
    ------
    ContactError
        When the stack cannot be read: deleting without knowing could remove a contact that a renamed
        resource has just set, so the Delete fails instead, with the reason.
    """
    stack_id = event.get("StackId")
    own_logical_id = event.get("LogicalResourceId")
    claimed: dict[str, str] = {}
    token: str | None = None
    while True:
        arguments = {"StackName": stack_id, **({"NextToken": token} if token else {})}
        try:
            page = call_with_retry(
                lambda arguments=arguments: clients.cloudformation.list_stack_resources(**arguments),  # type: ignore[misc]
                what="ListStackResources",
                deadline=deadline,
                policy=clients.policy,
            )
        except ClientError as error:
            raise ContactError(
                fit_reason(
                    f"Delete {deleting}: cannot list this stack's resources ({error_code(error)}) to check that "
                    "no renamed resource still owns the contact; the role needs cloudformation:ListStackResources"
                )
            ) from None
        for resource in page.get("StackResourceSummaries", []):
            logical_id, physical = resource.get("LogicalResourceId"), resource.get("PhysicalResourceId")
            if resource.get("ResourceStatus") in GONE_STATES or (logical_id, physical) == (own_logical_id, deleting):
                continue
            parsed = spec.parse_physical_id(physical)
            if parsed is not None:
                for contact_type in parsed[1]:
                    claimed.setdefault(spec.physical_id(parsed[0], contact_type), str(logical_id))
        token = page.get("NextToken")
        if not token:
            return claimed
