"""What each CloudFormation request means for alternate contacts: the decisions, free of crhelper.

Every function takes the event, a :class:`Clients` bundle and a :class:`~.account_api.Deadline`, and
returns the physical id to answer with (or raises :class:`~.account_api.ContactError`). Notes for the
answer's reason (a skipped inactive account) are left in ``Clients.notes``.
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
    inactive_state,
    put_contact,
)
from .restore import remember_previous, restore_previous

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
    ssm:
        boto3 ``ssm`` client, used only when a resource asks for restore on delete.
    organizations:
        boto3 ``organizations`` client, used only when a resource asks to skip inactive accounts.
    policy:
        Retry timing; tests shorten it.
    notes:
        What the answer's reason should tell besides success (filled by the steps).
    """

    account: Any
    cloudformation: Any
    own_account_id: str
    ssm: Any = None
    organizations: Any = None
    policy: RetryPolicy = field(default_factory=RetryPolicy)
    notes: list[str] = field(default_factory=list)


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
    return Declaration(
        account_id,
        account_id == own_account_id,
        contacts,
        restore_on_delete=bool(spec.flag_value(properties.get(spec.RESTORE_ON_DELETE, False))),
        skip_inactive_account=bool(spec.flag_value(properties.get(spec.SKIP_INACTIVE_ACCOUNT, False))),
    )


def skipped_as_inactive(declared: Declaration, clients: Clients, deadline: Deadline, action: str) -> bool:
    """True when the resource opted in to skipping inactive accounts and its (member) account is not ACTIVE."""
    if not declared.skip_inactive_account or declared.own_account:
        return False
    state = inactive_state(clients.organizations, declared.account_id, deadline=deadline, policy=clients.policy)
    if state is None:
        return False
    note = f"{action} skipped: account {declared.account_id} is {state} in the organization"
    logger.warning("%s", note)
    clients.notes.append(note)
    return True


def _put_remembering(
    declared: Declaration,
    contact_type: str,
    event: Mapping[str, Any],
    clients: Clients,
    deadline: Deadline,
    *,
    recorded: list[str] | None = None,
) -> None:
    """Record what the slot held before (restore on delete), then put; a record this call wrote is added
    to ``recorded`` before the put, so a failed put can still be undone."""
    target = declared.target(contact_type)
    if declared.restore_on_delete:
        stack_id = str(event.get("StackId"))
        wrote = remember_previous(
            clients.ssm, clients.account, stack_id, target, deadline=deadline, policy=clients.policy
        )
        if wrote and recorded is not None:
            recorded.append(contact_type)
    put_contact(clients.account, target, declared.contacts[contact_type], deadline=deadline, policy=clients.policy)


def create(event: Mapping[str, Any], clients: Clients, deadline: Deadline) -> str:
    """Put every declared contact and return the identity ``<account>/<TYPE>[+<TYPE>...]``.

    With restore on delete, a Create that fails part way puts back what it had already overwritten, so
    the failed deployment (whose Delete does nothing) leaves the account as it found it.
    """
    declared = declaration_of(event, clients.own_account_id)
    if skipped_as_inactive(declared, clients, deadline, "Create"):
        return declared.physical_id
    recorded: list[str] = []
    try:
        for contact_type in declared.contacts:
            logger.info("Create %s: putting the contact", declared.target(contact_type).physical_id)
            _put_remembering(declared, contact_type, event, clients, deadline, recorded=recorded)
    except Exception:
        _undo_create(declared, recorded, event, clients, deadline)
        raise
    return declared.physical_id


def _undo_create(
    declared: Declaration, recorded: list[str], event: Mapping[str, Any], clients: Clients, deadline: Deadline
) -> None:
    """Best effort after a failed Create: put back each recorded slot's previous contact, drop the records."""
    for contact_type in recorded:
        target = declared.target(contact_type)
        try:
            outcome = restore_previous(
                clients.ssm,
                clients.account,
                str(event.get("StackId")),
                target,
                deadline=deadline,
                policy=clients.policy,
            )
            logger.info("Create failed: %s %s", target.physical_id, outcome)
        except Exception as error:
            logger.error("Create failed and %s could not be put back (%s)", target.physical_id, type(error).__name__)


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
    if skipped_as_inactive(declared, clients, deadline, "Update"):
        return declared.physical_id
    for contact_type, details in declared.contacts.items():
        target = declared.target(contact_type)
        same_slot = before is not None and before.account_id == declared.account_id and contact_type in before.contacts
        if same_slot and before is not None and spec.same_contact(details, before.contacts[contact_type]):
            logger.info("Update %s: unchanged", target.physical_id)
            continue
        logger.info("Update %s: putting the new values", target.physical_id)
        if same_slot:
            put_contact(clients.account, target, details, deadline=deadline, policy=clients.policy)
        else:
            # A slot this resource did not manage before: remember what it held, as a Create would.
            _put_remembering(declared, contact_type, event, clients, deadline)
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
    flags = properties_of(event)
    restore = bool(spec.flag_value(flags.get(spec.RESTORE_ON_DELETE, False)))
    skip_inactive = bool(spec.flag_value(flags.get(spec.SKIP_INACTIVE_ACCOUNT, False)))
    own = account_id == clients.own_account_id
    declared = Declaration(account_id, own, {}, restore_on_delete=restore, skip_inactive_account=skip_inactive)
    if skipped_as_inactive(declared, clients, deadline, "Delete"):
        return
    claimed = claimed_slots(event, clients, deadline, str(physical))
    written = _written_details(event)
    stack_id = str(event.get("StackId"))
    for contact_type in contact_types:
        target = Target(account_id, contact_type, own_account=own)
        if target.physical_id in claimed:
            logger.info(
                "Delete %s: still claimed by %s; left in place", target.physical_id, claimed[target.physical_id]
            )
            continue
        if restore:
            outcome = restore_previous(
                clients.ssm,
                clients.account,
                stack_id,
                target,
                deadline=deadline,
                policy=clients.policy,
                deleted=written.get(contact_type),
            )
        else:
            existed = delete_contact(
                clients.account, target, deadline=deadline, policy=clients.policy, deleted=written.get(contact_type)
            )
            outcome = "deleted" if existed else "there was no contact"
        logger.info("Delete %s: %s", target.physical_id, outcome)


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
