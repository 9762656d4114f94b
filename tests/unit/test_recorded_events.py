"""The recorded CloudFormation requests (tests/events/) hold to CloudFormation's shape and to the handler.

Each is sent to ``index.handler`` as CloudFormation would send it: the Account API and SQS are moto's,
in-process, and the answers go to the project's real ResponseURL listener. moto keeps no stack of the
handler's, so the reads a Delete makes to prove itself genuine (DescribeStacks, ListStackResources) are
stubbed with botocore's Stubber to show the resource being deleted, as CloudFormation does.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from cfn_events import MEMBER_ACCOUNT, OWN_ACCOUNT, STACK_ID, Send, described, event_names, load_event, stack_resources
from moto import mock_aws

from cdk_alternate_contacts_handler import index, spec

COVERAGE_ID = "coverage/Contacts-CoverageQueue-1A2B3C4D5E6F"

#: The physical id of the one answer each recorded request gets, SUCCESS every time: each is a request of
#: a deploy that works (a failed Create's Delete included).
ANSWERED_IDS = {
    f"{OWN_ACCOUNT}/SECURITY": ("contact_create", "contact_update", "contact_update_rollback", "contact_delete"),
    f"{MEMBER_ACCOUNT}/SECURITY": ("contact_update_replace",),
    "Contacts_SecurityContact_Q7W2ZP0K": ("contact_delete_after_failed_create",),
    f"{MEMBER_ACCOUNT}/BILLING+OPERATIONS": ("contacts_create", "contacts_update", "contacts_delete"),
    f"{MEMBER_ACCOUNT}/BILLING+OPERATIONS+SECURITY": ("contacts_update_replace",),
    COVERAGE_ID: ("coverage_create", "coverage_update", "coverage_delete"),
}
EXPECTED = {name: ("SUCCESS", physical) for physical, names in ANSWERED_IDS.items() for name in names}

ENVELOPE = ("RequestType", "ServiceToken", "ResponseURL", "StackId", "RequestId", "LogicalResourceId", "ResourceType")


def scalars(value: Any) -> list[Any]:
    """Every value that is not a map inside a property value."""
    if isinstance(value, dict):
        return [leaf for item in value.values() for leaf in scalars(item)]
    return [value]


def test_every_recorded_request_has_an_expected_answer() -> None:
    assert event_names() == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_a_recorded_request_has_every_field_cloudformation_sends(name: str) -> None:
    request = load_event(name)
    # THEN the envelope is whole, with a physical id except on a Create and old properties on an Update only
    assert all(isinstance(request[key], str) and request[key] for key in ENVELOPE)
    assert ("PhysicalResourceId" in request) == (request["RequestType"] != "Create")
    assert ("OldResourceProperties" in request) == (request["RequestType"] == "Update")
    assert request["RequestType"] in index.REQUEST_TYPES and request["StackId"] == STACK_ID
    assert request["ResourceType"] in (spec.RESOURCE_TYPE, spec.CONTACTS_RESOURCE_TYPE, spec.COVERAGE_RESOURCE_TYPE)
    # AND the properties carry the ServiceToken, every value a string as CloudFormation passes them
    for props in (request["ResourceProperties"], request.get("OldResourceProperties", request["ResourceProperties"])):
        assert props["ServiceToken"] == request["ServiceToken"]
        assert all(isinstance(leaf, str) for leaf in scalars(props))
    # AND each load is a fresh copy with a RequestId of its own
    again = load_event(name)
    assert again["RequestId"] != request["RequestId"]
    assert again["ResourceProperties"] is not request["ResourceProperties"]


def test_fields_given_to_the_loader_replace_or_leave_out_the_recorded_ones() -> None:
    request = load_event("contact_delete", LogicalResourceId="Renamed", PhysicalResourceId=None)
    assert request["LogicalResourceId"] == "Renamed" and "PhysicalResourceId" not in request
    # AND properties given are set on top of the recorded ones
    recorded = load_event("contact_delete")["ResourceProperties"]
    moved = load_event("contact_delete", {"AccountId": MEMBER_ACCOUNT})["ResourceProperties"]
    assert moved == {**recorded, "AccountId": MEMBER_ACCOUNT}


@pytest.fixture
def world(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Any, Stubber]]:
    """moto in-process with the coverage's queue, and the handler's CloudFormation client stubbed."""
    with mock_aws():
        sqs = boto3.client("sqs", region_name="us-east-1")
        sqs.create_queue(QueueName=COVERAGE_ID.removeprefix("coverage/"))
        cloudformation = boto3.client("cloudformation", region_name="us-east-1")
        made = index.make_clients

        def clients(context: Any, deadline: Any) -> Any:
            real = made(context, deadline)
            real.cloudformation = cloudformation
            return real

        monkeypatch.setattr(index, "make_clients", clients)
        with Stubber(cloudformation) as stubber:
            yield boto3.client("account", region_name="us-east-1"), stubber
            stubber.assert_no_pending_responses()


def declared(props: dict[str, Any]) -> dict[tuple[str, str], dict[str, str]]:
    """The contacts a resource's properties declare, by (account, type)."""
    account_id = props.get(spec.ACCOUNT_ID, OWN_ACCOUNT)
    contacts = props.get(spec.CONTACTS) or {props[spec.CONTACT_TYPE]: props}
    return {(account_id, kind): {key: details[key] for key in spec.DETAIL_FIELDS} for kind, details in contacts.items()}


def live(account: Any, slot: tuple[str, str]) -> dict[str, str]:
    contact = account.get_alternate_contact(AccountId=slot[0], AlternateContactType=slot[1])["AlternateContact"]
    return {key: contact[key] for key in spec.DETAIL_FIELDS}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_the_handler_answers_a_recorded_request_once_as_expected(
    name: str, send: Send, world: tuple[Any, Stubber]
) -> None:
    account, stubber = world
    request = load_event(name)
    contacts = request["ResourceType"] != spec.COVERAGE_RESOURCE_TYPE
    # GIVEN the account holding what the previous deploy declared, for an Update of contacts
    previous = request.get("OldResourceProperties") if contacts else None
    for (account_id, kind), details in (declared(previous) if previous else {}).items():
        account.put_alternate_contact(AccountId=account_id, AlternateContactType=kind, **details)
    # AND the stack showing the resource being deleted, for a Delete of an id the handler issued
    if request["RequestType"] == "Delete" and spec.parse_physical_id(request["PhysicalResourceId"]):
        being_deleted = (request["LogicalResourceId"], request["PhysicalResourceId"], "DELETE_IN_PROGRESS")
        stubber.add_response("describe_stacks", described(status="UPDATE_COMPLETE_CLEANUP_IN_PROGRESS"))
        stubber.add_response("list_stack_resources", stack_resources(being_deleted), {"StackName": STACK_ID})
    # WHEN the handler gets the request as CloudFormation sends it
    answers = send(request)
    # THEN it answers once, with the expected status and physical id
    assert [(a["Status"], a["PhysicalResourceId"]) for a in answers] == [EXPECTED[name]], answers
    # AND a Create or Update leaves the account holding the contacts its properties declare
    if contacts and request["RequestType"] != "Delete":
        for slot, details in declared(request["ResourceProperties"]).items():
            assert live(account, slot) == details
