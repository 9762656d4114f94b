"""Plain helpers shared by handler tests: CloudFormation events, stack listings, fake Lambda time."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

from cdk_alternate_contacts_handler.retry import Deadline, RetryPolicy

OWN_ACCOUNT = "123456789012"  # moto's default account: the one the function runs in
MEMBER_ACCOUNT = "210987654321"
STACK_ID = f"arn:aws:cloudformation:us-east-1:{OWN_ACCOUNT}:stack/Contacts/5b0a2f10-0000-4000-8000-000000000001"

DETAILS = {
    "EmailAddress": "grace.hopper@example.com",
    "Name": "Grace Hopper",
    "PhoneNumber": "+1 206 555 0147",
    "Title": "Rear Admiral of Security",
}

#: A contact the account held before any stack wrote to the slot.
BEFORE = {
    "EmailAddress": "before@example.com",
    "Name": "Ada Lovelace",
    "PhoneNumber": "+44 20 7946 0018",
    "Title": "Analyst",
}


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


def properties(contact_type: str = "SECURITY", account_id: str | None = None, **overrides: str) -> dict[str, Any]:
    props: dict[str, Any] = {
        "ServiceToken": f"arn:aws:lambda:us-east-1:{OWN_ACCOUNT}:function:provider",
        "ServiceTimeout": "420",
        "AlternateContactType": contact_type,
        **DETAILS,
        **overrides,
    }
    if account_id is not None:
        props["AccountId"] = account_id
    return props


_request_ids = itertools.count(1)


def event(
    request_type: str,
    props: dict[str, Any],
    *,
    physical_id: str | None = None,
    old: dict[str, Any] | None = None,
    logical_id: str = "SecurityContact",
) -> dict[str, Any]:
    """A CloudFormation custom resource request, as CloudFormation sends it."""
    request: dict[str, Any] = {
        "RequestType": request_type,
        "ServiceToken": props["ServiceToken"],
        "ResponseURL": "https://127.0.0.1:1/response?X-Amz-Signature=0123abcd",
        "StackId": STACK_ID,
        "RequestId": f"request-{next(_request_ids)}",
        "LogicalResourceId": logical_id,
        "ResourceType": "Custom::AlternateContact",
        "ResourceProperties": props,
    }
    if physical_id is not None:
        request["PhysicalResourceId"] = physical_id
    if old is not None:
        request["OldResourceProperties"] = old
    return request


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
    props: dict[str, Any] = {
        "ServiceToken": f"arn:aws:lambda:us-east-1:{OWN_ACCOUNT}:function:provider",
        "ServiceTimeout": "420",
        "AlternateContacts": contacts,
    }
    if account_id is not None:
        props["AccountId"] = account_id
    return props


def contacts_event(request_type: str, props: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    """A request for a ``Custom::AlternateContacts`` resource."""
    request = event(request_type, props, **kwargs)
    request["ResourceType"] = "Custom::AlternateContacts"
    return request


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
