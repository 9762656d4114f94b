"""Who else claims a slot being deleted: the app's stacks as CloudFormation lists them, read for a Delete.

A contact moved to another resource of the app (renamed, moved between stacks, replaced) is created under
its new owner before the old resource is deleted; the old resource's Delete must leave it. Every read is
retried by :func:`~.retry.call_with_retry`, and a read that fails fails the Delete, with the permission it
needs.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError

from . import spec
from .clients import Clients
from .errors import ContactError, error_code, fit_reason, iam_hint
from .retry import Deadline, RetryPolicy, call_with_retry

#: Stack resource states in which a resource no longer holds its physical id.
GONE_STATES = frozenset({"DELETE_IN_PROGRESS", "DELETE_COMPLETE", "DELETE_SKIPPED", "CREATE_FAILED"})


#: Resource type of a nested stack: its PhysicalResourceId is the nested stack's ARN.
NESTED_STACK_TYPE = "AWS::CloudFormation::Stack"


#: The status CloudFormation shows for a resource while it sends that resource's Delete.
DELETING = "DELETE_IN_PROGRESS"


#: At most this many stacks are read for one Delete (an app has one root and, at most, a few hundred nested).
MAX_STACKS = 2500


@dataclass
class Claims:
    """What the stacks of the app say about a Delete.

    Attributes
    ----------
    claimed:
        Each ``<account>/<TYPE>`` that another live resource claims, mapped to its stack-qualified logical id.
    own_problem:
        Why the event's own stack does not show this resource being deleted, or ``None`` when it does.
    """

    claimed: dict[str, str] = field(default_factory=dict)
    own_problem: str | None = None
    #: For each claimed slot, the claiming resource: (its stack's id, its logical id).
    owners: dict[str, tuple[str, str]] = field(default_factory=dict)
    #: Whether the event's stack is rolling back an update.
    rolling_back: bool = False


def _cloudformation_error(error: ClientError, action: str, deleting: str, what: str) -> ContactError:
    return ContactError(
        fit_reason(
            f"Delete {deleting}: cannot {what} ({action}: {error_code(error)}) to check that no other resource "
            f"of the app still owns the contact; the role needs cloudformation:{action}{iam_hint(error)}"
        )
    )


def stack_resources(
    cloudformation: Any, stack: str, *, deleting: str, deadline: Deadline, policy: RetryPolicy
) -> list[dict[str, Any]]:
    """Every resource summary of ``stack`` (ListStackResources, all pages; DescribeStackResources stops at 100).

    Raises
    ------
    ContactError
        When the stack cannot be listed, naming the action the role needs.
    """
    resources: list[dict[str, Any]] = []
    token: str | None = None
    while True:
        arguments = {"StackName": stack, **({"NextToken": token} if token else {})}
        try:
            page = call_with_retry(
                lambda arguments=arguments: cloudformation.list_stack_resources(**arguments),  # type: ignore[misc]
                what="ListStackResources",
                deadline=deadline,
                policy=policy,
            )
        except ClientError as error:
            raise _cloudformation_error(error, "ListStackResources", deleting, "list the stack's resources") from None
        resources.extend(page.get("StackResourceSummaries", []))
        token = page.get("NextToken")
        if not token:
            return resources


@dataclass(frozen=True)
class StackFacts:
    """What DescribeStacks tells of a stack: the root of its app, and what its status means for a Delete."""

    root: str
    #: Whether the stack is rolling back an update (its rollback's cleanup phase included).
    rolling_back: bool
    #: Whether the stack itself is being deleted (DELETE_IN_PROGRESS).
    being_deleted: bool


def root_stack(
    cloudformation: Any, stack_id: str, *, deleting: str, deadline: Deadline, policy: RetryPolicy
) -> StackFacts:
    """The root stack of the app ``stack_id`` belongs to (its RootId, or itself when it has none), and its status.

    Raises
    ------
    ContactError
        When the stack cannot be described, naming the action the role needs.
    """
    try:
        response = call_with_retry(
            lambda: cloudformation.describe_stacks(StackName=stack_id),
            what="DescribeStacks",
            deadline=deadline,
            policy=policy,
        )
    except ClientError as error:
        raise _cloudformation_error(error, "DescribeStacks", deleting, "describe the stack") from None
    stacks = response.get("Stacks") or [{}]
    root = stacks[0].get("RootId")
    status = str(stacks[0].get("StackStatus", ""))
    return StackFacts(
        str(root) if root else stack_id,
        rolling_back=status.startswith("UPDATE_ROLLBACK"),
        being_deleted=status == DELETING,
    )


def claimed_slots(event: Mapping[str, Any], clients: Clients, deadline: Deadline, deleting: str) -> Claims:
    """Read every stack of the app and tell which slots other live resources claim, and whether this Delete shows.

    The app is the root stack (the event's stack's RootId, or the event's stack itself) and, recursively,
    every nested stack (``AWS::CloudFormation::Stack`` with a physical id, not being deleted) below it: a
    contact moved between the parent and a nested stack, or between nested stacks, is created in its new
    stack before its old resource is deleted, so the new one's claim must be seen wherever it is.

    "Another" excludes only the resource being deleted, listed under its own logical id in its own stack
    with the very id being deleted; after a replacement, its logical id shows the new id, which does
    claim its types.

    Raises
    ------
    ContactError
        When a stack cannot be read: deleting without knowing could remove a contact that a renamed or
        moved resource has just set, so the Delete fails instead, with the reason.
    """
    stack_id = str(event.get("StackId"))
    own_logical_id = event.get("LogicalResourceId")
    cloudformation, policy = clients.cloudformation, clients.policy
    facts = root_stack(cloudformation, stack_id, deleting=deleting, deadline=deadline, policy=policy)
    claims = Claims(rolling_back=facts.rolling_back)
    # While the whole app is deleted, every other resource of it is being deleted too, so none keeps a claim
    # except within the event's own stack, which is read anyway: reading every other stack for each of
    # 30,000 Deletes would cost millions of CloudFormation reads for nothing.
    whole_app = not _app_being_deleted(
        facts, stack_id, cloudformation, deleting=deleting, deadline=deadline, policy=policy
    )
    pending: list[str] = [facts.root if whole_app else stack_id]
    seen: set[str] = set()
    own_listing: list[dict[str, Any]] | None = None
    while pending and len(seen) < MAX_STACKS:
        stack = pending.pop(0)
        if stack in seen:
            continue
        seen.add(stack)
        resources = stack_resources(cloudformation, stack, deleting=deleting, deadline=deadline, policy=policy)
        own_stack = stack == stack_id
        if own_stack:
            own_listing = resources
        for resource in resources:
            logical_id, physical = resource.get("LogicalResourceId"), resource.get("PhysicalResourceId")
            status = resource.get("ResourceStatus")
            if status in GONE_STATES:
                continue
            if resource.get("ResourceType") == NESTED_STACK_TYPE and physical:
                if whole_app:
                    pending.append(str(physical))
                continue
            if own_stack and (logical_id, physical) == (own_logical_id, deleting):
                continue
            parsed = spec.parse_physical_id(physical)
            if parsed is not None:
                where = logical_id if own_stack else f"{logical_id} of stack {_stack_name(stack)}"
                for contact_type in parsed[1]:
                    slot = spec.physical_id(parsed[0], contact_type)
                    claims.claimed.setdefault(slot, str(where))
                    claims.owners.setdefault(slot, (stack, str(logical_id)))
    if own_listing is None:
        # The event's stack is not in the tree (a nested stack being deleted): read it on its own.
        own_listing = stack_resources(cloudformation, stack_id, deleting=deleting, deadline=deadline, policy=policy)
    claims.own_problem = _own_listing_problem(own_listing, own_logical_id, deleting)
    return claims


def _app_being_deleted(
    facts: StackFacts, stack_id: str, cloudformation: Any, *, deleting: str, deadline: Deadline, policy: RetryPolicy
) -> bool:
    """Whether the app's root stack is being deleted (a stack delete, not an update's cleanup phase).

    A nested stack is DELETE_IN_PROGRESS both when its parent is deleted and when an update removed it,
    so for a nested stack the root's own status decides (one more DescribeStacks).
    """
    if facts.root == stack_id:
        return facts.being_deleted
    return root_stack(cloudformation, facts.root, deleting=deleting, deadline=deadline, policy=policy).being_deleted


def _stack_name(stack: str) -> str:
    """The name part of a stack ARN (``arn:...:stack/<name>/<uuid>``), or the value as it is."""
    parts = stack.split("/")
    return parts[1] if len(parts) > 2 else stack


def _own_listing_problem(resources: list[dict[str, Any]], logical_id: object, deleting: str) -> str | None:
    """Why the event's stack does not show its resource being deleted, or ``None`` when it does."""
    mine = [r for r in resources if r.get("LogicalResourceId") == logical_id]
    if not mine:
        return "its stack lists no resource of its logical id"
    if any(
        r.get("PhysicalResourceId") == deleting and r.get("ResourceStatus") not in (DELETING, *GONE_STATES)
        for r in mine
    ):
        return f"its stack shows it live with this id, not {DELETING}"
    return None


def declared_in_template(
    cloudformation: Any, stack: str, logical_id: str, contact_type: str, *, deadline: Deadline, policy: RetryPolicy
) -> dict[str, str] | None:
    """The details ``logical_id`` declares for ``contact_type`` in ``stack``'s template, if literal and valid.

    Raises
    ------
    ContactError
        When the template cannot be read (the role needs cloudformation:GetTemplate on the stack).
    """
    try:
        response = call_with_retry(
            lambda: cloudformation.get_template(StackName=stack, TemplateStage="Original"),
            what="GetTemplate",
            deadline=deadline,
            policy=policy,
        )
    except ClientError as error:
        raise ContactError(
            fit_reason(f"GetTemplate: {error_code(error)}; the role needs cloudformation:GetTemplate{iam_hint(error)}")
        ) from None
    body = response.get("TemplateBody")
    if isinstance(body, str):
        try:
            body = json.loads(body)
        except ValueError:
            return None  # a YAML template: CDK never writes one
    resources = body.get("Resources") if isinstance(body, Mapping) else None
    resource = resources.get(logical_id) if isinstance(resources, Mapping) else None
    if not isinstance(resource, Mapping) or not isinstance(resource.get("Properties"), Mapping):
        return None
    properties = resource["Properties"]
    if resource.get("Type") == spec.CONTACTS_RESOURCE_TYPE:
        contacts = properties.get(spec.CONTACTS)
        details = contacts.get(contact_type) if isinstance(contacts, Mapping) else None
    else:
        details = properties if properties.get(spec.CONTACT_TYPE) == contact_type else None
    if not isinstance(details, Mapping):
        return None
    values = {key: details.get(key) for key in spec.DETAIL_FIELDS}
    if any(spec.value_error(key, value) for key, value in values.items()):
        return None
    return {key: str(value) for key, value in values.items()}
