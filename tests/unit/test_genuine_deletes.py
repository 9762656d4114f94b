"""A Delete proves it is genuine before it deletes, and checks the claims of every stack of the app.

The Account API is moto's, in-process. CloudFormation's DescribeStacks and ListStackResources are stubbed
with botocore's Stubber: moto keeps no stack of the handler's, and what the stacks show is what each case is
about. A Delete that is not genuine answers SUCCESS with a note (see ``lifecycle.delete`` for why not FAILED).
"""

from __future__ import annotations

from typing import Any

import pytest
from botocore.stub import Stubber
from cfn_events import (
    DETAILS,
    MEMBER_ACCOUNT,
    OWN_ACCOUNT,
    STACK_ID,
    FakeTime,
    contacts_event,
    contacts_properties,
    described,
    event,
    properties,
)

from cdk_alternate_contacts_handler import lifecycle
from cdk_alternate_contacts_handler.clients import Clients
from cdk_alternate_contacts_handler.errors import ContactError
from cdk_alternate_contacts_handler.retry import Deadline

NESTED_A = (
    f"arn:aws:cloudformation:us-east-1:{OWN_ACCOUNT}:stack/Contacts-NestedA-1AB/5b0a2f10-0000-4000-8000-00000000000a"
)
NESTED_B = (
    f"arn:aws:cloudformation:us-east-1:{OWN_ACCOUNT}:stack/Contacts-NestedB-2CD/5b0a2f10-0000-4000-8000-00000000000b"
)
SECURITY = f"{OWN_ACCOUNT}/SECURITY"


def live(client: Any, contact_type: str, account_id: str | None = None) -> dict[str, str] | None:
    arguments = {"AlternateContactType": contact_type, **({"AccountId": account_id} if account_id else {})}
    try:
        contact = client.get_alternate_contact(**arguments)["AlternateContact"]
    except client.exceptions.ResourceNotFoundException:
        return None
    return {key: contact[key] for key in DETAILS}


def summaries(*resources: tuple[str, str | None, str, str]) -> dict[str, Any]:
    """A ListStackResources page from (logical id, physical id, status, resource type)."""
    rows = []
    for logical, physical, status, resource_type in resources:
        row = {
            "LogicalResourceId": logical,
            "ResourceType": resource_type,
            "ResourceStatus": status,
            "LastUpdatedTimestamp": "2026-11-22T00:00:00Z",
        }
        if physical is not None:
            row["PhysicalResourceId"] = physical
        rows.append(row)
    return {"StackResourceSummaries": rows}


def contact(logical: str, physical: str, status: str = "CREATE_COMPLETE") -> tuple[str, str, str, str]:
    return (logical, physical, status, "Custom::AlternateContact")


def nested(logical: str, arn: str | None, status: str = "UPDATE_COMPLETE") -> tuple[str, str | None, str, str]:
    return (logical, arn, status, "AWS::CloudFormation::Stack")


def expect_stacks(
    stubber: Stubber,
    event_stack: str,
    root: str | None,
    listings: list[tuple[str, dict[str, Any]]],
    *,
    root_status: str = "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS",
) -> None:
    """The reads a Delete makes: its stack described, the root described (for a nested stack), the listings."""
    status = root_status if root is None else "DELETE_IN_PROGRESS"
    stubber.add_response("describe_stacks", described(event_stack, root, status), {"StackName": event_stack})
    if root is not None:
        stubber.add_response("describe_stacks", described(root, status=root_status), {"StackName": root})
    for stack, page in listings:
        stubber.add_response("list_stack_resources", page, {"StackName": stack})


def created(clients: Clients, fake_time: FakeTime, props: dict[str, Any] | None = None) -> str:
    return lifecycle.create(event("Create", props or properties("SECURITY")), clients, fake_time.deadline())


# -- item 6: the event's own properties and its stack must vouch for it -------------------------------


def test_genuine_delete_listed_as_being_deleted_removes_the_contact(
    clients: Clients, cloudformation: tuple[Any, Stubber], fake_time: FakeTime
) -> None:
    # GIVEN a contact and its stack showing the resource DELETE_IN_PROGRESS, as CloudFormation does
    physical = created(clients, fake_time)
    expect_stacks(
        cloudformation[1],
        STACK_ID,
        None,
        [(STACK_ID, summaries(contact("SecurityContact", physical, "DELETE_IN_PROGRESS")))],
    )
    # WHEN its Delete arrives with the properties the id was issued for
    lifecycle.delete(event("Delete", properties("SECURITY"), physical_id=physical), clients, fake_time.deadline())
    # THEN the contact is gone and nothing was noted
    assert live(clients.account, "SECURITY") is None
    assert clients.notes == []


@pytest.mark.parametrize(
    ("forged_properties", "why"),
    [
        (properties("BILLING"), "other contact types"),
        (properties("security"), "other contact types"),
        (properties("SECURITY", MEMBER_ACCOUNT), "another account"),
    ],
    ids=["another-type", "lower-case-type", "another-account"],
)
def test_delete_whose_properties_name_another_contact_deletes_nothing(
    clients: Clients, fake_time: FakeTime, forged_properties: dict[str, Any], why: str
) -> None:
    # GIVEN the own account's SECURITY contact
    physical = created(clients, fake_time)
    # WHEN a Delete of its id arrives carrying properties of another contact (no stack call is stubbed:
    # the properties alone refuse it)
    lifecycle.delete(event("Delete", forged_properties, physical_id=physical), clients, fake_time.deadline())
    # THEN the contact stays, and the answer's note says why nothing was deleted
    assert live(clients.account, "SECURITY") == DETAILS
    assert len(clients.notes) == 1 and "nothing deleted" in clients.notes[0] and why in clients.notes[0]


def test_delete_of_many_types_with_a_lower_case_key_deletes_nothing(clients: Clients, fake_time: FakeTime) -> None:
    # GIVEN BILLING and SECURITY set by one Custom::AlternateContacts resource
    declared = contacts_properties({"BILLING": DETAILS, "SECURITY": DETAILS})
    physical = lifecycle.create(contacts_event("Create", declared), clients, fake_time.deadline())
    # WHEN a Delete of its id names one type in lower case
    forged = contacts_properties({"BILLING": DETAILS, "security": DETAILS})
    lifecycle.delete(contacts_event("Delete", forged, physical_id=physical), clients, fake_time.deadline())
    # THEN both contacts stay
    assert live(clients.account, "BILLING") == DETAILS and live(clients.account, "SECURITY") == DETAILS
    assert "other contact types" in clients.notes[0]


def test_delete_under_a_logical_id_its_stack_does_not_list_deletes_nothing(
    clients: Clients, cloudformation: tuple[Any, Stubber], fake_time: FakeTime
) -> None:
    # GIVEN a contact owned by SecurityContact, live in the stack
    physical = created(clients, fake_time)
    expect_stacks(cloudformation[1], STACK_ID, None, [(STACK_ID, summaries(contact("SecurityContact", physical)))])
    # WHEN a forged Delete names a logical id the stack does not have
    request = event("Delete", properties("SECURITY"), physical_id=physical, logical_id="Forged")
    lifecycle.delete(request, clients, fake_time.deadline())
    # THEN the contact stays (it is claimed anyway, and the event is not vouched for by its stack)
    assert live(clients.account, "SECURITY") == DETAILS
    assert "lists no resource of its logical id" in clients.notes[0]


def test_delete_of_a_resource_its_stack_shows_live_with_that_id_deletes_nothing(
    clients: Clients, cloudformation: tuple[Any, Stubber], fake_time: FakeTime
) -> None:
    # GIVEN the resource that owns the contact, CREATE_COMPLETE with this very id (not being deleted)
    physical = created(clients, fake_time)
    expect_stacks(cloudformation[1], STACK_ID, None, [(STACK_ID, summaries(contact("SecurityContact", physical)))])
    # WHEN a Delete for it arrives that CloudFormation did not send (sent straight to the function)
    lifecycle.delete(event("Delete", properties("SECURITY"), physical_id=physical), clients, fake_time.deadline())
    # THEN the contact stays
    assert live(clients.account, "SECURITY") == DETAILS
    assert "not DELETE_IN_PROGRESS" in clients.notes[0]


def test_forged_delete_of_a_contact_another_resource_owns_deletes_nothing(
    clients: Clients, cloudformation: tuple[Any, Stubber], fake_time: FakeTime
) -> None:
    # GIVEN SECURITY owned by Owner, and another resource Victim being deleted
    physical = created(clients, fake_time)
    listing = summaries(contact("Owner", physical), contact("Victim", f"{OWN_ACCOUNT}/BILLING", "DELETE_IN_PROGRESS"))
    expect_stacks(cloudformation[1], STACK_ID, None, [(STACK_ID, listing)])
    # WHEN a Delete under Victim's logical id carries the id (and properties) of Owner's contact
    request = event("Delete", properties("SECURITY"), physical_id=physical, logical_id="Victim")
    lifecycle.delete(request, clients, fake_time.deadline())
    # THEN Owner's claim keeps the contact
    assert live(clients.account, "SECURITY") == DETAILS


# -- item 3 (handler part): claims of every stack of the app ------------------------------------------


def test_contact_moved_to_a_nested_stack_is_kept_when_the_parent_deletes_its_old_resource(
    clients: Clients, cloudformation: tuple[Any, Stubber], fake_time: FakeTime
) -> None:
    # GIVEN the contact moved from the root stack into nested stack A (created there first)
    physical = created(clients, fake_time)
    root = summaries(
        contact("SecurityContact", physical, "DELETE_IN_PROGRESS"),
        nested("NestedA", NESTED_A),
    )
    expect_stacks(
        cloudformation[1], STACK_ID, None, [(STACK_ID, root), (NESTED_A, summaries(contact("Moved", physical)))]
    )
    # WHEN the root's cleanup deletes the old resource
    lifecycle.delete(event("Delete", properties("SECURITY"), physical_id=physical), clients, fake_time.deadline())
    # THEN the contact stays: the nested stack's resource claims it
    assert live(clients.account, "SECURITY") == DETAILS
    assert clients.notes == []


def test_contact_moved_between_nested_stacks_is_kept(
    clients: Clients, cloudformation: tuple[Any, Stubber], fake_time: FakeTime
) -> None:
    # GIVEN the contact moved from nested stack A to nested stack B (nested_stacks changed)
    physical = created(clients, fake_time)
    root = summaries(nested("NestedA", NESTED_A), nested("NestedB", NESTED_B))
    expect_stacks(
        cloudformation[1],
        NESTED_A,
        STACK_ID,
        [
            (STACK_ID, root),
            (NESTED_A, summaries(contact("SecurityContact", physical, "DELETE_IN_PROGRESS"))),
            (NESTED_B, summaries(contact("SecurityContact", physical))),
        ],
    )
    # WHEN nested stack A deletes its old resource (the event's StackId is A's)
    request = event("Delete", properties("SECURITY"), physical_id=physical)
    request["StackId"] = NESTED_A
    lifecycle.delete(request, clients, fake_time.deadline())
    # THEN B's resource, under the same logical id but in another stack, still claims it
    assert live(clients.account, "SECURITY") == DETAILS


def test_nested_stacks_being_deleted_or_without_id_are_not_read_and_claim_nothing(
    clients: Clients, cloudformation: tuple[Any, Stubber], fake_time: FakeTime
) -> None:
    # GIVEN a root whose nested stacks are being deleted or not created yet (no physical id)
    physical = created(clients, fake_time)
    root = summaries(
        contact("SecurityContact", physical, "DELETE_IN_PROGRESS"),
        nested("Gone", NESTED_A, "DELETE_IN_PROGRESS"),
        nested("NotYet", None, "CREATE_IN_PROGRESS"),
    )
    expect_stacks(cloudformation[1], STACK_ID, None, [(STACK_ID, root)])
    # WHEN the root's resource is deleted
    lifecycle.delete(event("Delete", properties("SECURITY"), physical_id=physical), clients, fake_time.deadline())
    # THEN only the root was listed and the contact is deleted
    assert live(clients.account, "SECURITY") is None


def test_nested_stack_being_deleted_is_still_read_for_its_own_delete(
    clients: Clients, cloudformation: tuple[Any, Stubber], fake_time: FakeTime
) -> None:
    # GIVEN a nested stack being deleted with its parent's operation (so the tree walk skips it)
    physical = created(clients, fake_time)
    root = summaries(nested("NestedA", NESTED_A, "DELETE_IN_PROGRESS"))
    own = summaries(contact("SecurityContact", physical, "DELETE_IN_PROGRESS"))
    expect_stacks(cloudformation[1], NESTED_A, STACK_ID, [(STACK_ID, root), (NESTED_A, own)])
    # WHEN its resource's Delete arrives
    request = event("Delete", properties("SECURITY"), physical_id=physical)
    request["StackId"] = NESTED_A
    lifecycle.delete(request, clients, fake_time.deadline())
    # THEN its own stack is read on its own, vouches for it, and the contact is deleted
    assert live(clients.account, "SECURITY") is None


def test_a_delete_while_the_whole_app_is_deleted_reads_only_its_own_stack(
    clients: Clients, cloudformation: tuple[Any, Stubber], fake_time: FakeTime
) -> None:
    # GIVEN the root stack being deleted, and a Delete from one of its nested stacks (the Stubber answers only
    # the calls listed: any read of the root's or another nested stack's resources would fail the test)
    physical = created(clients, fake_time)
    own = summaries(contact("SecurityContact", physical, "DELETE_IN_PROGRESS"))
    expect_stacks(cloudformation[1], NESTED_A, STACK_ID, [(NESTED_A, own)], root_status="DELETE_IN_PROGRESS")
    # WHEN the Delete arrives
    request = event("Delete", properties("SECURITY"), physical_id=physical)
    request["StackId"] = NESTED_A
    lifecycle.delete(request, clients, fake_time.deadline())
    # THEN three reads sufficed (its stack, the root, its stack's resources), and the contact is deleted
    cloudformation[1].assert_no_pending_responses()
    assert live(clients.account, "SECURITY") is None


def test_a_root_delete_while_the_whole_app_is_deleted_does_not_read_its_nested_stacks(
    clients: Clients, cloudformation: tuple[Any, Stubber], fake_time: FakeTime
) -> None:
    # GIVEN the root stack being deleted, its listing showing a nested stack not deleted yet (the Stubber
    # answers only the calls listed: a read of the nested stack would fail the test)
    physical = created(clients, fake_time)
    own = summaries(contact("SecurityContact", physical, "DELETE_IN_PROGRESS"), nested("NestedA", NESTED_A))
    expect_stacks(cloudformation[1], STACK_ID, None, [(STACK_ID, own)], root_status="DELETE_IN_PROGRESS")
    # WHEN the root's resource is deleted
    lifecycle.delete(event("Delete", properties("SECURITY"), physical_id=physical), clients, fake_time.deadline())
    # THEN two reads sufficed and the contact is deleted
    cloudformation[1].assert_no_pending_responses()
    assert live(clients.account, "SECURITY") is None


def test_a_delete_while_the_whole_app_is_deleted_still_keeps_a_claim_of_its_own_stack(
    clients: Clients, cloudformation: tuple[Any, Stubber], fake_time: FakeTime
) -> None:
    # GIVEN the root stack being deleted, its own listing showing another live resource claiming the slot
    physical = created(clients, fake_time)
    own = summaries(
        contact("SecurityContact", physical, "DELETE_IN_PROGRESS"), contact("Retained", physical, "CREATE_COMPLETE")
    )
    expect_stacks(cloudformation[1], STACK_ID, None, [(STACK_ID, own)], root_status="DELETE_IN_PROGRESS")
    # WHEN the Delete arrives
    lifecycle.delete(event("Delete", properties("SECURITY"), physical_id=physical), clients, fake_time.deadline())
    # THEN the contact stays with the resource that still claims it
    assert live(clients.account, "SECURITY") == DETAILS


@pytest.mark.parametrize("action", ["describe_stacks", "list_stack_resources"])
def test_delete_fails_naming_the_action_when_a_stack_of_the_app_cannot_be_read(
    clients: Clients, cloudformation: tuple[Any, Stubber], fake_time: FakeTime, action: str
) -> None:
    # GIVEN a role that may not read the app's stacks (past IAM's propagation time: the denial is final)
    physical = created(clients, fake_time)
    stubber = cloudformation[1]
    if action == "list_stack_resources":
        stubber.add_response("describe_stacks", described(STACK_ID), {"StackName": STACK_ID})
    stubber.add_client_error(action, "AccessDenied", "not authorized", 403)
    settled = Deadline(fake_time.remaining_ms, clock=lambda: fake_time.now, access_denied_grace_s=0.0)
    # WHEN the Delete runs
    with pytest.raises(ContactError) as raised:
        lifecycle.delete(event("Delete", properties("SECURITY"), physical_id=physical), clients, settled)
    # THEN it fails naming the action the role needs, and nothing was deleted
    expected = {"describe_stacks": "DescribeStacks", "list_stack_resources": "ListStackResources"}[action]
    assert f"cloudformation:{expected}" in str(raised.value) and len(str(raised.value)) <= 256
    assert live(clients.account, "SECURITY") == DETAILS
