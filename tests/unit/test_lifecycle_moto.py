"""The handler's decisions for Create, Update and Delete, against moto's Account API in-process.

CloudFormation's requests are the recorded ones (tests/events/) where a case is one CloudFormation sends as
recorded, and built from them where a case varies the properties. CloudFormation's DescribeStacks and
ListStackResources are stubbed (botocore Stubber): there is no stack in moto, and the answer is what each
case is about.
"""

from __future__ import annotations

from typing import Any

import pytest
from botocore.stub import Stubber
from cfn_events import (
    BEFORE,
    DETAILS,
    MEMBER_ACCOUNT,
    OWN_ACCOUNT,
    STACK_ID,
    FakeTime,
    Listing,
    account_calls,
    described,
    event,
    live,
    load_event,
    properties,
)

from cdk_alternate_contacts_handler import lifecycle
from cdk_alternate_contacts_handler.clients import Clients
from cdk_alternate_contacts_handler.errors import ContactError
from cdk_alternate_contacts_handler.retry import Deadline

SECURITY = f"{OWN_ACCOUNT}/SECURITY"


def test_create_puts_the_contact_and_returns_account_slash_type(clients: Clients, fake_time: FakeTime) -> None:
    # GIVEN CloudFormation's Create for the deploying account's SECURITY contact (no AccountId)
    request = load_event("contact_create")
    # WHEN the handler runs
    physical = lifecycle.create(request, clients, fake_time.deadline())
    # THEN the id names the account the function runs in, and the API returns the declared details
    assert physical == SECURITY
    assert live(clients.account, "SECURITY") == DETAILS


def test_create_for_a_member_account_passes_its_account_id(clients: Clients, fake_time: FakeTime) -> None:
    sent = account_calls(clients.account, "PutAlternateContact")
    physical = lifecycle.create(event("Create", properties("BILLING", MEMBER_ACCOUNT)), clients, fake_time.deadline())
    assert physical == f"{MEMBER_ACCOUNT}/BILLING"
    assert sent[0]["AccountId"] == MEMBER_ACCOUNT
    assert live(clients.account, "BILLING", MEMBER_ACCOUNT) is not None


def test_own_account_named_explicitly_is_left_out_of_the_call(clients: Clients, fake_time: FakeTime) -> None:
    # GIVEN AccountId equal to the account the function runs in (the management account may not name itself)
    sent = account_calls(clients.account)
    # WHEN it is created
    physical = lifecycle.create(event("Create", properties("OPERATIONS", OWN_ACCOUNT)), clients, fake_time.deadline())
    # THEN no call carried AccountId, and the id still names the account
    assert physical == f"{OWN_ACCOUNT}/OPERATIONS"
    assert sent and all("AccountId" not in params for params in sent)


def test_update_in_place_keeps_the_id_and_writes_new_values(clients: Clients, fake_time: FakeTime) -> None:
    # GIVEN the contact as the previous deploy declared it, and CloudFormation's Update to a new phone number
    request = load_event("contact_update")
    lifecycle.create(event("Create", request["OldResourceProperties"]), clients, fake_time.deadline())
    assert live(clients.account, "SECURITY") != DETAILS
    # WHEN the Update runs
    physical = lifecycle.update(request, clients, fake_time.deadline())
    # THEN the id is the same and the account holds the new values
    assert physical == SECURITY
    assert live(clients.account, "SECURITY") == DETAILS


@pytest.mark.parametrize(
    ("old", "new", "new_id"),
    [
        (properties("BILLING", MEMBER_ACCOUNT), properties("BILLING", "333333333333"), "333333333333/BILLING"),
        (properties("BILLING"), properties("OPERATIONS"), f"{OWN_ACCOUNT}/OPERATIONS"),
    ],
    ids=["account-changed", "type-changed"],
)
def test_update_that_changes_account_or_type_returns_a_new_id_and_leaves_the_old_contact_for_cleanup(
    clients: Clients, fake_time: FakeTime, old: dict[str, Any], new: dict[str, Any], new_id: str
) -> None:
    # GIVEN a contact created from the old properties
    old_id = lifecycle.create(event("Create", old), clients, fake_time.deadline())
    # WHEN the account or type changes
    physical = lifecycle.update(event("Update", new, physical_id=old_id, old=old), clients, fake_time.deadline())
    # THEN a new id tells CloudFormation to replace; the old contact stays until its cleanup Delete
    assert physical == new_id
    assert live(clients.account, new["AlternateContactType"], new.get("AccountId")) is not None
    assert live(clients.account, old["AlternateContactType"], old.get("AccountId")) is not None


def test_delete_removes_the_contact(clients: Clients, expect_listing: Listing, fake_time: FakeTime) -> None:
    physical = lifecycle.create(load_event("contact_create"), clients, fake_time.deadline())
    expect_listing(("SecurityContact", physical, "DELETE_IN_PROGRESS"))
    lifecycle.delete(load_event("contact_delete"), clients, fake_time.deadline())
    assert live(clients.account, "SECURITY") is None


def test_cleanup_delete_after_replacement_removes_only_the_old_contact(
    clients: Clients, expect_listing: Listing, fake_time: FakeTime
) -> None:
    # GIVEN a replacement moved SECURITY from the deploying account to a member account
    assert lifecycle.create(load_event("contact_create"), clients, fake_time.deadline()) == SECURITY
    new_id = lifecycle.update(load_event("contact_update_replace"), clients, fake_time.deadline())
    assert new_id == f"{MEMBER_ACCOUNT}/SECURITY"
    # WHEN CloudFormation's cleanup sends the Delete for the old id (the stack lists the new id now)
    expect_listing(("SecurityContact", new_id, "UPDATE_COMPLETE"))
    lifecycle.delete(load_event("contact_delete"), clients, fake_time.deadline())
    # THEN the old account's contact is gone and the new one stays
    assert live(clients.account, "SECURITY") is None
    assert live(clients.account, "SECURITY", MEMBER_ACCOUNT) == DETAILS


def test_delete_after_failed_create_keeps_existing_contact(
    clients: Clients, cloudformation: tuple[Any, Stubber], fake_time: FakeTime
) -> None:
    # GIVEN an account whose SECURITY contact was set before the stack, and a Create that failed
    clients.account.put_alternate_contact(AlternateContactType="SECURITY", **BEFORE)
    invalid = properties("SECURITY", EmailAddress="not-an-email")
    with pytest.raises(ContactError, match="EmailAddress"):
        lifecycle.create(event("Create", invalid), clients, fake_time.deadline())
    # WHEN the rollback's Delete arrives with crhelper's invented id
    request = load_event("contact_delete_after_failed_create", ResourceProperties=invalid)
    lifecycle.delete(request, clients, fake_time.deadline())
    # THEN the contact that existed before is untouched (and the stack was not even listed)
    assert live(clients.account, "SECURITY") == BEFORE


def test_delete_keeps_contact_claimed_by_a_renamed_resource(
    clients: Clients, expect_listing: Listing, fake_time: FakeTime
) -> None:
    # GIVEN the construct was renamed: the new logical id was created first, with the same physical id
    physical = lifecycle.create(load_event("contact_create"), clients, fake_time.deadline())
    renamed = load_event("contact_create", LogicalResourceId="SecurityContactV2")
    assert lifecycle.create(renamed, clients, fake_time.deadline()) == physical
    expect_listing(
        ("SecurityContact", physical, "DELETE_IN_PROGRESS"), ("SecurityContactV2", physical, "CREATE_COMPLETE")
    )
    # WHEN the old logical id's Delete arrives in the cleanup phase
    lifecycle.delete(load_event("contact_delete"), clients, fake_time.deadline())
    # THEN the account keeps the contact the new resource set
    assert live(clients.account, "SECURITY") is not None


#: A full first page of the listing: the resource being deleted and 99 others.
FIRST_PAGE = [("SecurityContact", SECURITY, "DELETE_IN_PROGRESS")]
FIRST_PAGE += [(f"Other{i}", f"other-{i}", "CREATE_COMPLETE") for i in range(99)]


@pytest.mark.parametrize(
    ("first_page", "next_pages", "kept"),
    [
        (FIRST_PAGE, ([("Renamed", SECURITY, "UPDATE_COMPLETE")],), True),
        (
            # Stack deletion: every resource is on its way out, so none keeps the contact alive.
            [
                ("SecurityContact", SECURITY, "DELETE_IN_PROGRESS"),
                ("Twin", SECURITY, "DELETE_COMPLETE"),
                ("FailedTwin", SECURITY, "CREATE_FAILED"),
            ],
            (),
            False,
        ),
    ],
    ids=["claim-on-a-later-page-keeps-it", "resources-being-deleted-claim-nothing"],
)
def test_only_a_live_resource_of_the_listing_keeps_the_contact(
    clients: Clients,
    expect_listing: Listing,
    fake_time: FakeTime,
    first_page: list[tuple[str, str, str]],
    next_pages: tuple[list[tuple[str, str, str]], ...],
    kept: bool,
) -> None:
    # GIVEN the contact, and its stack listing other resources with its id on every page
    assert lifecycle.create(load_event("contact_create"), clients, fake_time.deadline()) == SECURITY
    expect_listing(*first_page, next_pages=next_pages)
    # WHEN its Delete arrives
    lifecycle.delete(load_event("contact_delete"), clients, fake_time.deadline())
    # THEN the contact stays only while a resource that is not being deleted claims it
    assert (live(clients.account, "SECURITY") is not None) == kept


def test_delete_fails_without_deleting_when_the_stack_cannot_be_listed(
    clients: Clients, cloudformation: tuple[Any, Stubber], fake_time: FakeTime
) -> None:
    lifecycle.create(load_event("contact_create"), clients, fake_time.deadline())
    cloudformation[1].add_response("describe_stacks", described(), {"StackName": STACK_ID})
    cloudformation[1].add_client_error("list_stack_resources", "AccessDenied", "not authorized", 403)
    # (past IAM's propagation time, so the AccessDenied is final at once)
    settled = Deadline(fake_time.remaining_ms, clock=lambda: fake_time.now, access_denied_grace_s=0.0)
    with pytest.raises(ContactError, match="cloudformation:ListStackResources") as raised:
        lifecycle.delete(load_event("contact_delete"), clients, settled)
    assert len(str(raised.value)) <= 256
    assert live(clients.account, "SECURITY") is not None


def test_invalid_properties_fail_naming_each_field_before_any_call(fake_time: FakeTime) -> None:
    # GIVEN clients that would fail the test on any call
    clients = Clients(account=object(), cloudformation=object(), own_account_id=OWN_ACCOUNT)
    bad = properties("SECURITY", EmailAddress="x", PhoneNumber="call me", AccountId="12")
    with pytest.raises(ContactError) as raised:
        lifecycle.create(event("Create", bad), clients, fake_time.deadline())
    reason = str(raised.value)
    assert reason.startswith("Invalid properties:")
    for field in ("EmailAddress", "PhoneNumber", "AccountId"):
        assert field in reason
    assert "call me" not in reason and len(reason) <= 256


@pytest.mark.parametrize("request_properties", [None, "not a mapping", ["SECURITY"], {}])
def test_malformed_properties_are_a_clear_failure(fake_time: FakeTime, request_properties: Any) -> None:
    clients = Clients(account=object(), cloudformation=object(), own_account_id=OWN_ACCOUNT)
    request = event("Create", properties())
    request["ResourceProperties"] = request_properties
    with pytest.raises(ContactError, match="AlternateContactType is required"):
        lifecycle.create(request, clients, fake_time.deadline())


def test_update_with_invalid_new_values_changes_nothing(clients: Clients, fake_time: FakeTime) -> None:
    old = properties("SECURITY")
    physical = lifecycle.create(event("Create", old), clients, fake_time.deadline())
    new = properties("SECURITY", PhoneNumber="not a phone")
    with pytest.raises(ContactError, match="PhoneNumber"):
        lifecycle.update(event("Update", new, physical_id=physical, old=old), clients, fake_time.deadline())
    assert live(clients.account, "SECURITY") == DETAILS
