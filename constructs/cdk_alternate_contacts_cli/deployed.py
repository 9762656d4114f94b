"""Values only the deploy knows, read back from the deployed stack: the account in a resource's physical id.

A contact whose AccountId is a token at synth time (a CfnParameter, the AccountId attribute of an
``AWS::Organizations::Account``) cannot be compared before CloudFormation resolves it. Once its stack is
deployed, the resource's physical id tells the account and the types the handler manages there,
``<account>/<TYPE>[+<TYPE>...]`` (:func:`cdk_alternate_contacts_handler.spec.physical_id`). This module finds
that resource, through the nested stacks that hold it, and returns what it found as facts; the report words
them. Nothing here calls AWS: the stacks are listed by the function it is given (:class:`.aws.StackReader`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Final

from cdk_alternate_contacts_handler import spec

from .assembly import Declaration, ResourceLocation
from .aws import StackReadError, StackResource
from .intrinsics import Unresolved

#: A stack's resources (by name or StackId, in a region); ``None`` when there is no such stack.
ListResources = Callable[[str, str], list[StackResource] | None]

#: A resource CloudFormation still lists after deleting it (a stack whose creation rolled back).
DELETED: Final = "DELETE_COMPLETE"


class Found(Enum):
    """What the deployed stack says about a contact's resource."""

    ACCOUNT = "account"  #: its physical id names the account (and the types)
    NO_STACK = "no stack"  #: the top-level stack is not deployed, in the caller's account and that region
    NO_RESOURCE = "no resource"  #: the stack is deployed, the resource (or a nested stack above it) not yet
    OTHER_ACCOUNT = "other account"  #: the stack deploys to another account: its stacks are not the caller's
    FOREIGN_ID = "foreign id"  #: the resource's physical id is not one the handler issues
    UNREADABLE = "unreadable"  #: CloudFormation refused the read or could not be reached


#: The findings that mean a deploy would create the resource.
NOT_DEPLOYED: Final = frozenset({Found.NO_STACK, Found.NO_RESOURCE})


@dataclass(frozen=True)
class Resolution:
    """What was found in the deployed stack for one declaration.

    Attributes
    ----------
    found:
        The kind of finding.
    stack, region, account:
        The top-level stack looked in, its region, and the account whose stacks were read (the stack's own
        account for :attr:`Found.OTHER_ACCOUNT`).
    resource:
        The logical ids down to the resource, ``/``-separated (nested stacks first); for
        :attr:`Found.NO_RESOURCE`, down to the first one missing.
    physical_id, status:
        The resource's physical id and status, when it is listed.
    error_code, error_message:
        Why the stack could not be read (:attr:`Found.UNREADABLE`).
    """

    found: Found
    stack: str
    region: str
    account: str
    resource: str = ""
    physical_id: str | None = None
    status: str = ""
    error_code: str | None = None
    error_message: str | None = None


def needs_deployed_stack(declaration: Declaration) -> bool:
    """Whether the deployed stack can tell something the template does not: the account, or the type of a
    ``Custom::AlternateContact`` (its physical id names that one type)."""
    location = declaration.location
    if location is None or declaration.invalid:
        return False
    if isinstance(declaration.account, Unresolved):
        return True
    return isinstance(declaration.contact_type, Unresolved) and location.resource_type == spec.RESOURCE_TYPE


def resolve_deployed(
    declarations: Sequence[Declaration], list_resources: ListResources, *, caller_account: str, region: str
) -> list[tuple[Declaration, Resolution | None]]:
    """Each declaration, with the account (and type) its deployed resource names filled in where only the
    deploy knew them, and what the deployed stack said (``None`` when it was not needed).

    Parameters
    ----------
    list_resources:
        Lists a stack's resources (:meth:`.aws.StackReader.resources`); called only for the stacks that
        hold a declaration needing it, once per stack if it caches.
    caller_account:
        The credentials' account: only its stacks can be listed.
    region:
        Where an environment-agnostic stack is looked for (``--region``, else the configured one).
    """
    found: list[tuple[Declaration, Resolution | None]] = []
    for declaration in declarations:
        if not needs_deployed_stack(declaration) or declaration.location is None:
            found.append((declaration, None))
            continue
        resolution = locate(declaration.location, list_resources, caller_account=caller_account, region=region)
        parsed = spec.parse_physical_id(resolution.physical_id) if resolution.found is Found.ACCOUNT else None
        known = declaration
        if parsed is not None:
            account, types = parsed
            single = declaration.location.resource_type == spec.RESOURCE_TYPE and len(types) == 1
            known = declaration.known_as(account=account, contact_type=types[0] if single else None)
        found.append((known, resolution))
    return found


def locate(
    location: ResourceLocation, list_resources: ListResources, *, caller_account: str, region: str
) -> Resolution:
    """Find the resource at ``location`` in the deployed stacks: down the nested stacks, by logical id."""
    where = location.region or region
    if location.account is not None and location.account != caller_account:
        return Resolution(Found.OTHER_ACCOUNT, location.stack_name, where, location.account)
    walked: list[str] = []
    try:
        row = _walk(location, list_resources, where, walked)
    except StackReadError as error:
        return Resolution(
            Found.UNREADABLE,
            location.stack_name,
            where,
            caller_account,
            resource="/".join(walked),
            error_code=error.code,
            error_message=str(error),
        )
    resolution = Resolution(Found.NO_RESOURCE, location.stack_name, where, caller_account, resource="/".join(walked))
    if row is None:
        return dataclasses.replace(resolution, found=Found.NO_RESOURCE if walked else Found.NO_STACK)
    if spec.parse_physical_id(row.physical_id) is None:
        # A Create that failed or has not answered yet holds no id of the handler's: nothing is deployed.
        kind = Found.NO_RESOURCE if row.status.startswith("CREATE_") else Found.FOREIGN_ID
    else:
        kind = Found.ACCOUNT
    return dataclasses.replace(resolution, found=kind, physical_id=row.physical_id, status=row.status)


def _walk(
    location: ResourceLocation, list_resources: ListResources, region: str, walked: list[str]
) -> StackResource | None:
    """The resource at ``location``, down its nested stacks; ``None`` when it, or a stack on the way, is not
    deployed. ``walked`` receives the logical ids looked for, down to the first one missing; it stays empty
    when the top-level stack itself does not exist."""
    listing = list_resources(location.stack_name, region)
    row: StackResource | None = None
    for depth, logical_id in enumerate(location.logical_ids):
        if depth:
            # Into the nested stack found one step up: its physical id is the nested stack's StackId.
            listing = list_resources(row.physical_id, region) if row is not None and row.physical_id else None
        if listing is None:
            return None
        walked.append(logical_id)
        row = _listed(listing, logical_id)
    return row


def _listed(listing: Sequence[StackResource], logical_id: str) -> StackResource | None:
    """The resource listed under ``logical_id``, unless CloudFormation lists it only as deleted."""
    return next((row for row in listing if row.logical_id == logical_id and row.status != DELETED), None)
