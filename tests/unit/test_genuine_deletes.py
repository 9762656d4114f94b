"""A Delete proves it is genuine before it deletes, and checks the claims of every stack of the app.

The Account API is moto's, in-process. CloudFormation's DescribeStacks and ListStackResources are stubbed
with botocore's Stubber: moto keeps no stack of the handler's, and what the stacks show is what each case is
about. A Delete that is not genuine answers SUCCESS with a note (see ``lifecycle.delete`` for why not FAILED).
"""

from __future__ import annotations

from collections.abc import Callable
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
    live,
    load_event,
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


def created(clients: Clients, fake_time: FakeTime) -> str:
    """The own account's SECURITY contact, created by CloudFormation's recorded Create; returns its id."""
    return lifecycle.create(load_event("contact_create"), clients, fake_time.deadline())


#: ``delete_shown(listings, ...)``: see the fixture.
DeleteShown = Callable[..., dict[str, str] | None]


@pytest.fixture
def delete_shown(clients: Clients, cloudformation: tuple[Any, Stubber], fake_time: FakeTime) -> DeleteShown:
    """Create the own account's SECURITY contact, then run CloudFormation's recorded Delete of it while the
    app's stacks show ``listings``; returns the contact left in the account.

    ``delete_shown(listings, stack=STACK_ID, root=None, root_status=..., **fields)``: ``listings`` are the
    (stack, ListStackResources page) the Delete may read, ``stack`` the stack the Delete comes from, ``root``
    its root stack (``None``: it is the root) in ``root_status``, ``fields`` other fields of the request. The
    Stubber answers only the reads listed, and each listed read must have been made.
    """

    def run(
        listings: list[tuple[str, dict[str, Any]]],
        stack: str = STACK_ID,
        root: str | None = None,
        root_status: str = "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS",
        **fields: str,
    ) -> dict[str, str] | None:
        assert created(clients, fake_time) == SECURITY
        stubber = cloudformation[1]
        status = root_status if root is None else "DELETE_IN_PROGRESS"
        stubber.add_response("describe_stacks", described(stack, root, status), {"StackName": stack})
        if root is not None:
            stubber.add_response("describe_stacks", described(root, status=root_status), {"StackName": root})
        for listed, page in listings:
            stubber.add_response("list_stack_resources", page, {"StackName": listed})
        lifecycle.delete(load_event("contact_delete", StackId=stack, **fields), clients, fake_time.deadline())
        stubber.assert_no_pending_responses()
        return live(clients.account, "SECURITY")

    return run


# -- item 6: the event's own properties and its stack must vouch for it -------------------------------


def test_genuine_delete_listed_as_being_deleted_removes_the_contact(
    clients: Clients, delete_shown: DeleteShown
) -> None:
    # GIVEN a contact and its stack showing the resource DELETE_IN_PROGRESS, as CloudFormation does
    listing = summaries(contact("SecurityContact", SECURITY, "DELETE_IN_PROGRESS"))
    # WHEN its Delete arrives with the properties the id was issued for
    left = delete_shown([(STACK_ID, listing)])
    # THEN the contact is gone and nothing was noted
    assert left is None
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
    created(clients, fake_time)
    # WHEN a Delete of its id arrives carrying properties of another contact (no stack call is stubbed:
    # the properties alone refuse it)
    lifecycle.delete(load_event("contact_delete", ResourceProperties=forged_properties), clients, fake_time.deadline())
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
    clients: Clients, delete_shown: DeleteShown
) -> None:
    # GIVEN a contact owned by SecurityContact, live in the stack
    listing = summaries(contact("SecurityContact", SECURITY))
    # WHEN a forged Delete names a logical id the stack does not have
    left = delete_shown([(STACK_ID, listing)], LogicalResourceId="Forged")
    # THEN the contact stays (it is claimed anyway, and the event is not vouched for by its stack)
    assert left == DETAILS
    assert "lists no resource of its logical id" in clients.notes[0]


def test_delete_of_a_resource_its_stack_shows_live_with_that_id_deletes_nothing(
    clients: Clients, delete_shown: DeleteShown
) -> None:
    # GIVEN the resource that owns the contact, CREATE_COMPLETE with this very id (not being deleted);
    # WHEN a Delete for it arrives that CloudFormation did not send (sent straight to the function)
    left = delete_shown([(STACK_ID, summaries(contact("SecurityContact", SECURITY)))])
    # THEN the contact stays
    assert left == DETAILS
    assert "not DELETE_IN_PROGRESS" in clients.notes[0]


def test_forged_delete_of_a_contact_another_resource_owns_deletes_nothing(delete_shown: DeleteShown) -> None:
    # GIVEN SECURITY owned by Owner, and another resource Victim being deleted
    listing = summaries(contact("Owner", SECURITY), contact("Victim", f"{OWN_ACCOUNT}/BILLING", "DELETE_IN_PROGRESS"))
    # WHEN a Delete under Victim's logical id carries the id (and properties) of Owner's contact
    # THEN Owner's claim keeps the contact
    assert delete_shown([(STACK_ID, listing)], LogicalResourceId="Victim") == DETAILS


# -- item 3 (handler part): claims of every stack of the app ------------------------------------------


def test_contact_moved_to_a_nested_stack_is_kept_when_the_parent_deletes_its_old_resource(
    clients: Clients, delete_shown: DeleteShown
) -> None:
    # GIVEN the contact moved from the root stack into nested stack A (created there first)
    root = summaries(contact("SecurityContact", SECURITY, "DELETE_IN_PROGRESS"), nested("NestedA", NESTED_A))
    moved = summaries(contact("Moved", SECURITY))
    # WHEN the root's cleanup deletes the old resource
    left = delete_shown([(STACK_ID, root), (NESTED_A, moved)])
    # THEN the contact stays: the nested stack's resource claims it
    assert left == DETAILS
    assert clients.notes == []


def test_contact_moved_between_nested_stacks_is_kept(delete_shown: DeleteShown) -> None:
    # GIVEN the contact moved from nested stack A to nested stack B (nested_stacks changed)
    listings = [
        (STACK_ID, summaries(nested("NestedA", NESTED_A), nested("NestedB", NESTED_B))),
        (NESTED_A, summaries(contact("SecurityContact", SECURITY, "DELETE_IN_PROGRESS"))),
        (NESTED_B, summaries(contact("SecurityContact", SECURITY))),
    ]
    # WHEN nested stack A deletes its old resource (the event's StackId is A's)
    # THEN B's resource, under the same logical id but in another stack, still claims it
    assert delete_shown(listings, stack=NESTED_A, root=STACK_ID) == DETAILS


def test_nested_stacks_being_deleted_or_without_id_are_not_read_and_claim_nothing(delete_shown: DeleteShown) -> None:
    # GIVEN a root whose nested stacks are being deleted or not created yet (no physical id)
    root = summaries(
        contact("SecurityContact", SECURITY, "DELETE_IN_PROGRESS"),
        nested("Gone", NESTED_A, "DELETE_IN_PROGRESS"),
        nested("NotYet", None, "CREATE_IN_PROGRESS"),
    )
    # WHEN the root's resource is deleted THEN only the root was listed and the contact is deleted
    assert delete_shown([(STACK_ID, root)]) is None


def test_nested_stack_being_deleted_is_still_read_for_its_own_delete(delete_shown: DeleteShown) -> None:
    # GIVEN a nested stack being deleted with its parent's operation (so the tree walk skips it)
    root = summaries(nested("NestedA", NESTED_A, "DELETE_IN_PROGRESS"))
    own = summaries(contact("SecurityContact", SECURITY, "DELETE_IN_PROGRESS"))
    # WHEN its resource's Delete arrives
    left = delete_shown([(STACK_ID, root), (NESTED_A, own)], stack=NESTED_A, root=STACK_ID)
    # THEN its own stack is read on its own, vouches for it, and the contact is deleted
    assert left is None


def test_a_delete_while_the_whole_app_is_deleted_reads_only_its_own_stack(delete_shown: DeleteShown) -> None:
    # GIVEN the root stack being deleted, and a Delete from one of its nested stacks (the Stubber answers only
    # the calls listed: any read of the root's or another nested stack's resources would fail the test)
    own = summaries(contact("SecurityContact", SECURITY, "DELETE_IN_PROGRESS"))
    # WHEN the Delete arrives
    left = delete_shown([(NESTED_A, own)], stack=NESTED_A, root=STACK_ID, root_status="DELETE_IN_PROGRESS")
    # THEN three reads sufficed (its stack, the root, its stack's resources), and the contact is deleted
    assert left is None


def test_a_root_delete_while_the_whole_app_is_deleted_does_not_read_its_nested_stacks(
    delete_shown: DeleteShown,
) -> None:
    # GIVEN the root stack being deleted, its listing showing a nested stack not deleted yet (the Stubber
    # answers only the calls listed: a read of the nested stack would fail the test)
    own = summaries(contact("SecurityContact", SECURITY, "DELETE_IN_PROGRESS"), nested("NestedA", NESTED_A))
    # WHEN the root's resource is deleted THEN two reads sufficed and the contact is deleted
    assert delete_shown([(STACK_ID, own)], root_status="DELETE_IN_PROGRESS") is None


def test_a_delete_while_the_whole_app_is_deleted_still_keeps_a_claim_of_its_own_stack(
    delete_shown: DeleteShown,
) -> None:
    # GIVEN the root stack being deleted, its own listing showing another live resource claiming the slot
    own = summaries(
        contact("SecurityContact", SECURITY, "DELETE_IN_PROGRESS"), contact("Retained", SECURITY, "CREATE_COMPLETE")
    )
    # WHEN the Delete arrives THEN the contact stays with the resource that still claims it
    assert delete_shown([(STACK_ID, own)], root_status="DELETE_IN_PROGRESS") == DETAILS


@pytest.mark.parametrize("action", ["describe_stacks", "list_stack_resources"])
def test_delete_fails_naming_the_action_when_a_stack_of_the_app_cannot_be_read(
    clients: Clients, cloudformation: tuple[Any, Stubber], fake_time: FakeTime, action: str
) -> None:
    # GIVEN a role that may not read the app's stacks (past IAM's propagation time: the denial is final)
    created(clients, fake_time)
    stubber = cloudformation[1]
    if action == "list_stack_resources":
        stubber.add_response("describe_stacks", described(STACK_ID), {"StackName": STACK_ID})
    stubber.add_client_error(action, "AccessDenied", "not authorized", 403)
    settled = Deadline(fake_time.remaining_ms, clock=lambda: fake_time.now, access_denied_grace_s=0.0)
    # WHEN the Delete runs
    with pytest.raises(ContactError) as raised:
        lifecycle.delete(load_event("contact_delete"), clients, settled)
    # THEN it fails naming the action the role needs, and nothing was deleted
    expected = {"describe_stacks": "DescribeStacks", "list_stack_resources": "ListStackResources"}[action]
    assert f"cloudformation:{expected}" in str(raised.value) and len(str(raised.value)) <= 256
    assert live(clients.account, "SECURITY") == DETAILS
