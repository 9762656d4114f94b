"""Restore records are exact: taken at the first real write, and none outlives its need, in any path.

moto's Account API and SSM, in-process; each test checks the end state in SSM. Organizations is a small
fake here: moto can close (suspend) an account but never reactivate it, and reactivation is the case.
CloudFormation's DescribeStacks and ListStackResources are stubbed (botocore Stubber).
"""

from __future__ import annotations

from typing import Any

import pytest
from cfn_events import (
    BEFORE,
    DETAILS,
    MEMBER_ACCOUNT,
    FakeTime,
    Listing,
    contacts_event,
    contacts_properties,
    event,
    live,
    properties,
)
from handler_harness import api_error_response

from cdk_alternate_contacts_handler import lifecycle
from cdk_alternate_contacts_handler.clients import Clients
from cdk_alternate_contacts_handler.errors import ContactError
from cdk_alternate_contacts_handler.retry import Deadline

NEW = {**DETAILS, "Title": "Incident commander"}


class Organization:
    """Organizations' DescribeAccount for one member account whose state a test sets (moto cannot reactivate)."""

    def __init__(self, state: str = "ACTIVE") -> None:
        self.state = state

    def describe_account(self, AccountId: str) -> dict[str, Any]:
        return {"Account": {"Id": AccountId, "State": self.state}}


@pytest.fixture
def org(with_ssm: Clients) -> Organization:
    organization = Organization()
    with_ssm.organizations = organization
    return organization


def records(clients: Clients) -> list[str]:
    return sorted(
        p["Name"].rsplit("/", 2)[-2] + "/" + p["Name"].rsplit("/", 1)[-1]
        for p in clients.ssm.describe_parameters()["Parameters"]
    )


def opted_in(contact_type: str = "SECURITY", **overrides: str) -> dict[str, Any]:
    return properties(contact_type, MEMBER_ACCOUNT, RestoreOnDelete="true", SkipInactiveAccount="true", **overrides)


@pytest.mark.parametrize("values_change", [True, False], ids=["values-changed", "values-unchanged"])
def test_account_skipped_while_suspended_gets_its_record_at_the_first_real_write(
    clients: Clients, org: Organization, expect_listing: Listing, fake_time: FakeTime, values_change: bool
) -> None:
    # GIVEN a member account holding a contact from before the stack, suspended when the stack is created
    clients.account.put_alternate_contact(AlternateContactType="SECURITY", AccountId=MEMBER_ACCOUNT, **BEFORE)
    org.state = "SUSPENDED"
    old = opted_in()
    physical = lifecycle.create(event("Create", old), clients, fake_time.deadline())
    assert live(clients.account, "SECURITY", MEMBER_ACCOUNT) == BEFORE and records(clients) == []
    # WHEN it is reactivated and the resource updated (new values, or only another ServiceTimeout)
    org.state = "ACTIVE"
    new = opted_in(Title=NEW["Title"]) if values_change else opted_in(ServiceTimeout="600")
    lifecycle.update(event("Update", new, physical_id=physical, old=old), clients, fake_time.deadline())
    assert live(clients.account, "SECURITY", MEMBER_ACCOUNT) == (
        {**DETAILS, "Title": NEW["Title"]} if values_change else DETAILS
    )
    # AND later deleted
    expect_listing(("SecurityContact", physical, "DELETE_IN_PROGRESS"))
    lifecycle.delete(event("Delete", new, physical_id=physical), clients, fake_time.deadline())
    # THEN the account has what it had before the stack, and no record is left
    assert live(clients.account, "SECURITY", MEMBER_ACCOUNT) == BEFORE
    assert records(clients) == []


def test_failed_update_leaves_no_record_of_the_slot_it_tried_to_add(
    clients: Clients, org: Organization, fake_time: FakeTime
) -> None:
    # GIVEN a resource with restore on delete managing BILLING (one record)
    old = {**contacts_properties({"BILLING": DETAILS}, MEMBER_ACCOUNT), "RestoreOnDelete": "true"}
    physical = lifecycle.create(contacts_event("Create", old), clients, fake_time.deadline())
    assert records(clients) == [f"{MEMBER_ACCOUNT}/BILLING"]

    def refuse_security(request: Any, **_: Any) -> Any:
        if b'"SECURITY"' in (request.body or b""):
            request.url = "https://fault-injected.invalid/"
            return api_error_response(400, "ValidationException", "injected refusal")
        return None

    clients.account.meta.events.register_first("before-send.account.PutAlternateContact", refuse_security)
    # WHEN an Update adds OPERATIONS and SECURITY and the SECURITY write is refused
    new = {
        **contacts_properties({"BILLING": DETAILS, "OPERATIONS": NEW, "SECURITY": NEW}, MEMBER_ACCOUNT),
        "RestoreOnDelete": "true",
    }
    with pytest.raises(ContactError):
        lifecycle.update(contacts_event("Update", new, physical_id=physical, old=old), clients, fake_time.deadline())
    # THEN only BILLING's record is left, and the added slots are empty again
    assert records(clients) == [f"{MEMBER_ACCOUNT}/BILLING"]
    assert (
        live(clients.account, "OPERATIONS", MEMBER_ACCOUNT) is None
        and live(clients.account, "SECURITY", MEMBER_ACCOUNT) is None
    )


def test_turning_restore_off_drops_the_records(clients: Clients, org: Organization, fake_time: FakeTime) -> None:
    # GIVEN a resource with restore on delete (a record), updated to turn it off
    old = properties("SECURITY", MEMBER_ACCOUNT, RestoreOnDelete="true")
    physical = lifecycle.create(event("Create", old), clients, fake_time.deadline())
    assert records(clients) == [f"{MEMBER_ACCOUNT}/SECURITY"]
    new = properties("SECURITY", MEMBER_ACCOUNT)
    # WHEN the Update runs
    lifecycle.update(event("Update", new, physical_id=physical, old=old), clients, fake_time.deadline())
    # THEN nothing will restore from the record, and it is gone
    assert records(clients) == []


def test_skipped_delete_drops_the_records(
    clients: Clients, org: Organization, expect_listing: Listing, fake_time: FakeTime
) -> None:
    # GIVEN a resource with restore on delete and skipping, whose account is suspended before its Delete
    props = opted_in()
    physical = lifecycle.create(event("Create", props), clients, fake_time.deadline())
    assert records(clients) == [f"{MEMBER_ACCOUNT}/SECURITY"]
    org.state = "SUSPENDED"
    # WHEN the Delete is skipped
    expect_listing(("SecurityContact", physical, "DELETE_IN_PROGRESS"))
    lifecycle.delete(event("Delete", props, physical_id=physical), clients, fake_time.deadline())
    # THEN the resource is gone and so is its record
    assert "Delete skipped" in clients.notes[0]
    assert records(clients) == []


def test_claimed_slot_keeps_its_record_until_the_claimer_is_deleted_without_restore(
    clients: Clients, org: Organization, expect_listing: Listing, fake_time: FakeTime
) -> None:
    # GIVEN a resource with restore on delete, renamed to one without it (the new one is created first)
    with_restore = properties("SECURITY", MEMBER_ACCOUNT, RestoreOnDelete="true")
    without = properties("SECURITY", MEMBER_ACCOUNT)
    physical = lifecycle.create(event("Create", with_restore), clients, fake_time.deadline())
    lifecycle.create(event("Create", without, logical_id="Renamed"), clients, fake_time.deadline())
    # WHEN the old one's Delete finds the slot claimed
    expect_listing(("SecurityContact", physical, "DELETE_IN_PROGRESS"), ("Renamed", physical, "CREATE_COMPLETE"))
    lifecycle.delete(event("Delete", with_restore, physical_id=physical), clients, fake_time.deadline())
    # THEN the record stays (a rollback of the rename brings the old resource back, which needs it)
    assert records(clients) == [f"{MEMBER_ACCOUNT}/SECURITY"]
    # AND WHEN the new one is deleted in turn, without restore
    expect_listing(("Renamed", physical, "DELETE_IN_PROGRESS"))
    lifecycle.delete(
        event("Delete", without, physical_id=physical, logical_id="Renamed"), clients, fake_time.deadline()
    )
    # THEN the contact is deleted and the record with it
    assert live(clients.account, "SECURITY", MEMBER_ACCOUNT) is None
    assert records(clients) == []


def test_turning_restore_off_without_ssm_access_any_more_still_succeeds_and_says_so(
    clients: Clients, org: Organization, fake_time: FakeTime
) -> None:
    # GIVEN a record, and a role whose new policy no longer reaches SSM (restore off in the same update)
    old = properties("SECURITY", MEMBER_ACCOUNT, RestoreOnDelete="true")
    physical = lifecycle.create(event("Create", old), clients, fake_time.deadline())

    def deny(request: Any, **_: Any) -> Any:
        request.url = "https://fault-injected.invalid/"
        return api_error_response(400, "AccessDeniedException", "not authorized")

    clients.ssm.meta.events.register_first("before-send.ssm.DeleteParameter", deny)
    settled = Deadline(fake_time.remaining_ms, clock=lambda: fake_time.now, access_denied_grace_s=0.0)
    # WHEN the Update turns restore off
    new = properties("SECURITY", MEMBER_ACCOUNT)
    lifecycle.update(event("Update", new, physical_id=physical, old=old), clients, settled)
    # THEN it succeeds, and the reason tells that the record stayed
    assert "was not dropped" in clients.notes[0]
