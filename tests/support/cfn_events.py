"""Plain helpers shared by handler tests: CloudFormation's requests, stack listings, fake Lambda time.

The requests come from the recorded ones in tests/events/ (see its README): :func:`load_event` returns one
as CloudFormation sends it, and :func:`event` gives a recorded envelope the properties a test varies.
"""

from __future__ import annotations

import itertools
import json
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sample_contacts import SECURITY

from cdk_alternate_contacts_handler.retry import Deadline, RetryPolicy

OWN_ACCOUNT = "123456789012"  # moto's default account: the one the function runs in
MEMBER_ACCOUNT = "210987654321"
STACK_ID = f"arn:aws:cloudformation:us-east-1:{OWN_ACCOUNT}:stack/Contacts/5b0a2f10-0000-4000-8000-000000000001"

#: The recorded CloudFormation requests, one JSON file each.
EVENTS = Path(__file__).resolve().parents[1] / "events"

#: The contact the tests declare: the sample SECURITY contact, as the recorded requests carry it.
DETAILS = dict(SECURITY)

#: ``send(request)`` (a fixture of tests/unit): invoke the handler, return the answers that arrived.
Send = Callable[..., list[dict[str, Any]]]

#: ``expect_listing(*entries, next_pages=())`` (a fixture of tests/unit): the root stack a Delete reads.
Listing = Callable[..., None]

#: A contact the account held before any stack wrote to the slot.
BEFORE = {
    "EmailAddress": "before@example.com",
    "Name": "Ada Lovelace",
    "PhoneNumber": "+44 20 7946 0018",
    "Title": "Analyst",
}


def load_event(name: str, with_properties: Mapping[str, Any] | None = None, **fields: Any) -> dict[str, Any]:
    """The recorded request ``tests/events/<name>.json``, as a fresh dict with a RequestId of its own.

    Parameters
    ----------
    name
        The file's name without ``.json``: ``"contact_create"``, ``"contacts_update_replace"``, ...
    with_properties
        Resource properties to set on top of the recorded ones (``{"AccountId": "210987654321"}``).
        default: the recorded ResourceProperties.
    **fields
        Top-level fields to replace (``PhysicalResourceId="..."``, ``ResourceProperties={...}``); a field
        given as ``None`` is left out, as CloudFormation leaves PhysicalResourceId out of a Create.
        default: the recorded request, with a new RequestId, as CloudFormation gives every request.
    """
    request: dict[str, Any] = json.loads((EVENTS / f"{name}.json").read_text())
    request["RequestId"] = str(uuid.uuid4())
    for key, value in fields.items():
        if value is None:
            request.pop(key, None)
        else:
            request[key] = value
    if with_properties:
        request["ResourceProperties"] = {**request["ResourceProperties"], **with_properties}
    return request


def event_names() -> list[str]:
    """The names of every recorded request, for :func:`load_event`."""
    return sorted(path.stem for path in EVENTS.glob("*.json"))


@dataclass
class FakeTime:
    """A clock that only moves when the code under test sleeps, with a Lambda-style remaining time."""

    budget_ms: int = 300_000
    now: float = 0.0
    sleeps: list[float] = field(default_factory=list)

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    def remaining_ms(self) -> int:
        return int(self.budget_ms - self.now * 1000)

    def deadline(self) -> Deadline:
        return Deadline(self.remaining_ms, clock=lambda: self.now)

    def policy(self) -> RetryPolicy:
        # Jitter is replaced by its ceiling so the expected delays are exact.
        return RetryPolicy(sleep=self.sleep, uniform=lambda low, high: high)


class FakeContext:
    """The parts of the Lambda context the handler and crhelper use, with a real running clock."""

    def __init__(self, seconds: float) -> None:
        self.deadline = time.monotonic() + seconds
        self.invoked_function_arn = f"arn:aws:lambda:us-east-1:{OWN_ACCOUNT}:function:provider"
        self.function_name = "provider"
        self.aws_request_id = "c0ffee00-0000-4000-8000-000000000000"

    def get_remaining_time_in_millis(self) -> int:
        return int((self.deadline - time.monotonic()) * 1000)


def _with_account(props: dict[str, Any], account_id: str | None) -> dict[str, Any]:
    if account_id is not None:
        props["AccountId"] = account_id
    return props


def properties(contact_type: str = "SECURITY", account_id: str | None = None, **overrides: str) -> dict[str, Any]:
    """Properties of a ``Custom::AlternateContact`` resource: the recorded Create's, with the type and fields given."""
    recorded = load_event("contact_create")["ResourceProperties"]
    return _with_account({**recorded, "AlternateContactType": contact_type, **DETAILS, **overrides}, account_id)


_request_ids = itertools.count(1)


def event(
    request_type: str,
    props: dict[str, Any],
    *,
    physical_id: str | None = None,
    old: dict[str, Any] | None = None,
    logical_id: str = "SecurityContact",
    recorded: str = "contact_create",
    **fields: Any,
) -> dict[str, Any]:
    """A CloudFormation custom resource request: the ``recorded`` one's envelope, with the fields given.

    ``fields`` replace other top-level fields (``StackId=...``), as :func:`load_event`'s do.
    """
    return load_event(
        recorded,
        RequestType=request_type,
        RequestId=f"request-{next(_request_ids)}",
        LogicalResourceId=logical_id,
        PhysicalResourceId=physical_id,
        ResourceProperties=props,
        OldResourceProperties=old,
        **fields,
    )


def live(client: Any, contact_type: str, account_id: str | None = None) -> dict[str, str] | None:
    """The details of ``contact_type`` the Account API ``client`` holds for ``account_id``, or ``None``.

    default: the contact of the client's own account (no AccountId in the call).
    """
    arguments = {"AlternateContactType": contact_type, **({"AccountId": account_id} if account_id else {})}
    try:
        contact = client.get_alternate_contact(**arguments)["AlternateContact"]
    except client.exceptions.ResourceNotFoundException:
        return None
    return {key: contact[key] for key in DETAILS}


def account_calls(client: Any, operation: str = "*") -> list[dict[str, Any]]:
    """The parameters of every call of ``operation`` the Account API ``client`` makes from now on, in order."""
    sent: list[dict[str, Any]] = []
    client.meta.events.register(
        f"provide-client-params.account.{operation}", lambda params, **_: sent.append(dict(params))
    )
    return sent


def records(ssm: Any) -> list[str]:
    """The names of the restore-on-delete records (SSM parameters) ``ssm`` holds."""
    return [p["Name"] for p in ssm.describe_parameters()["Parameters"]]


def stack_resources(*resources: tuple[str, str, str], next_token: str | None = None) -> dict[str, Any]:
    """A ListStackResources page from (logical id, physical id, status) triples."""
    page: dict[str, Any] = {
        "StackResourceSummaries": [
            {
                "LogicalResourceId": logical,
                "PhysicalResourceId": physical,
                "ResourceType": "Custom::AlternateContact",
                "ResourceStatus": status,
                "LastUpdatedTimestamp": "2026-11-22T00:00:00Z",
            }
            for logical, physical, status in resources
        ]
    }
    if next_token:
        page["NextToken"] = next_token
    return page


def contacts_properties(contacts: dict[str, dict[str, str]], account_id: str | None = None) -> dict[str, Any]:
    """Properties of a ``Custom::AlternateContacts`` resource (several types of one account)."""
    recorded = load_event("contacts_create")["ResourceProperties"]
    props = {key: value for key, value in recorded.items() if key != "AccountId"}
    return _with_account({**props, "AlternateContacts": contacts}, account_id)


def contacts_event(request_type: str, props: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    """A request for a ``Custom::AlternateContacts`` resource."""
    return event(request_type, props, recorded="contacts_create", **kwargs)


def described(
    stack_id: str = STACK_ID, root_id: str | None = None, status: str = "UPDATE_IN_PROGRESS"
) -> dict[str, Any]:
    """A DescribeStacks answer for ``stack_id``: a root stack, or a nested one of ``root_id``."""
    stack: dict[str, Any] = {
        "StackName": stack_id.split("/")[1],
        "StackId": stack_id,
        "CreationTime": "2026-11-22T00:00:00Z",
        "StackStatus": status,
    }
    if root_id:
        stack.update(RootId=root_id, ParentId=root_id)
    return {"Stacks": [stack]}
