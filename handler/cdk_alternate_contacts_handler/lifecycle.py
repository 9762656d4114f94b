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


def target_from_properties(properties: Mapping[str, Any], own_account_id: str) -> Target:
    """Validate the properties with the API's rules and return the contact slot they name.

    Raises
    ------
    ContactError
        Naming every bad field and its rule (never the contact details themselves).
    """
    errors = spec.field_errors(properties)
    if errors:
        reason = "Invalid properties: " + "; ".join(errors)
        if len(reason) > MAX_REASON:
            # CloudFormation shows 256 characters: name every field there, the rules go to the log.
            logger.error("%s", reason)
            fields = ", ".join(error.split(" ", 1)[0] for error in errors)
            reason = f"Invalid properties: {fields} break the API's rules (details in the function's log)"
        raise ContactError(fit_reason(reason))
    account_id = properties.get(spec.ACCOUNT_ID) or own_account_id
    return Target(account_id, properties[spec.CONTACT_TYPE], own_account=account_id == own_account_id)


def details_of(properties: Mapping[str, Any]) -> dict[str, str]:
    """The contact's details, keyed as the API names them."""
    return {key: properties[key] for key in spec.DETAIL_FIELDS}


def create(event: Mapping[str, Any], clients: Clients, deadline: Deadline) -> str:
    """Put the declared contact and return its identity ``<account>/<TYPE>``."""
    properties = properties_of(event)
    target = target_from_properties(properties, clients.own_account_id)
    logger.info("Create %s: putting the contact", target.physical_id)
    put_contact(clients.account, target, details_of(properties), deadline=deadline, policy=clients.policy)
    return target.physical_id


def update(event: Mapping[str, Any], clients: Clients, deadline: Deadline) -> str:
    """Put the new values; a changed account or type yields a new identity, so CloudFormation replaces
    the resource and later sends a Delete for the old identity."""
    properties = properties_of(event)
    target = target_from_properties(properties, clients.own_account_id)
    previous = event.get("PhysicalResourceId")
    if previous != target.physical_id:
        logger.info("Update %s -> %s: replacement, putting the contact", previous, target.physical_id)
    else:
        logger.info("Update %s: putting the new values", target.physical_id)
    put_contact(clients.account, target, details_of(properties), deadline=deadline, policy=clients.policy)
    return target.physical_id


def delete(event: Mapping[str, Any], clients: Clients, deadline: Deadline) -> None:
    """Delete the contact this resource manages, unless doing so would destroy what it does not own.

    Nothing is deleted when the physical id was not issued by this handler (a Delete after a failed
    Create carries crhelper's invented id: the account's contact predates the stack) or when another
    live resource of the same stack claims the same id (the construct was renamed: the new resource was
    created first and now owns the contact).
    """
    physical = event.get("PhysicalResourceId")
    slot = spec.parse_physical_id(physical)
    if slot is None:
        logger.info("Delete of an id this handler did not issue (failed create?): nothing to delete")
        return
    account_id, contact_type = slot
    target = Target(account_id, contact_type, own_account=account_id == clients.own_account_id)
    claimant = other_claimant(event, clients, deadline, target.physical_id)
    if claimant is not None:
        logger.info("Delete %s: still claimed by %s in this stack; left in place", target.physical_id, claimant)
        return
    properties = properties_of(event)
    known = all(isinstance(properties.get(key), str) for key in spec.DETAIL_FIELDS)
    existed = delete_contact(
        clients.account,
        target,
        deadline=deadline,
        policy=clients.policy,
        deleted=details_of(properties) if known else None,
    )
    logger.info("Delete %s: %s", target.physical_id, "deleted" if existed else "there was no contact")


def other_claimant(event: Mapping[str, Any], clients: Clients, deadline: Deadline, physical: str) -> str | None:
    """Return the logical id of another live resource in the event's stack with the same physical id.

    ListStackResources is used rather than DescribeStackResources, which stops at 100 resources.

    Raises
    ------
    ContactError
        When the stack cannot be read: deleting without knowing could remove a contact that a renamed
        resource has just set, so the Delete fails instead, with the reason.
    """
    stack_id = event.get("StackId")
    own_logical_id = event.get("LogicalResourceId")
    pages: list[dict[str, Any]] = []
    token: str | None = None
    try:
        while True:
            arguments = {"StackName": stack_id, **({"NextToken": token} if token else {})}
            page = call_with_retry(
                lambda arguments=arguments: clients.cloudformation.list_stack_resources(**arguments),  # type: ignore[misc]
                what="ListStackResources",
                deadline=deadline,
                policy=clients.policy,
            )
            pages.append(page)
            token = page.get("NextToken")
            if not token:
                break
    except ClientError as error:
        raise ContactError(
            fit_reason(
                f"Delete {physical}: cannot list this stack's resources ({error_code(error)}) to check that "
                "no renamed resource still owns the contact; the role needs cloudformation:ListStackResources"
            )
        ) from None
    for page in pages:
        for resource in page.get("StackResourceSummaries", []):
            if (
                resource.get("PhysicalResourceId") == physical
                and resource.get("LogicalResourceId") != own_logical_id
                and resource.get("ResourceStatus") not in GONE_STATES
            ):
                return str(resource.get("LogicalResourceId"))
    return None
