"""The handler's decisions for Create, Update and Delete, against moto's Account API in-process.

CloudFormation's ListStackResources is stubbed (botocore Stubber): there is no stack in moto, and the
answer is what each case is about.
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
    described,
    event,
    properties,
    stack_resources,
)

from cdk_alternate_contacts_handler import lifecycle
from cdk_alternate_contacts_handler.clients import Clients
from cdk_alternate_contacts_handler.errors import ContactError
from cdk_alternate_contacts_handler.retry import Deadline


def live(client: Any, contact_type: str, account_id: str | None = None) -> dict[str, Any] | None:
    arguments = {"AlternateContactType": contact_type, **({"AccountId": account_id} if account_id else {})}
    try:
        contact: dict[str, Any] = client.get_alternate_contact(**arguments)["AlternateContact"]
    except client.exceptions.ResourceNotFoundException:
        return None
    return contact


def put_existing(client: Any, contact_type: str, account_id: str | None = None) -> dict[str, str]:
    existing = {
        "EmailAddress": "before@example.com",
        "Name": "Set before the stack",
        "PhoneNumber": "+44 20 7946 0000",
        "Title": "Previous owner",
    }
    arguments = {"AlternateContactType": contact_type, **({"AccountId": account_id} if account_id else {})}
    client.put_alternate_contact(**arguments, **existing)
    return existing


def expect_listing(stubber: Stubber, *pages: dict[str, Any]) -> None:
    # A Delete first asks for the root of its app (DescribeStacks), then lists it: a root stack here.
    stubber.add_response("describe_stacks", described(), {"StackName": STACK_ID})
    for index, page in enumerate(pages):
        expected = {"StackName": STACK_ID, **({"NextToken": f"page-{index}"} if index else {})}
        stubber.add_response("list_stack_resources", page, expected)


def test_create_puts_the_contact_and_returns_account_slash_type(clients: Clients, fake_time: FakeTime) -> None:
    # GIVEN a Create for the deploying account's SECURITY contact (no AccountId)
    request = event("Create", properties("SECURITY"))
    # WHEN the handler runs
    physical = lifecycle.create(request, clients, fake_time.deadline())
    # THEN the id names the account the function runs in, and the API returns the declared details
    assert physical == f"{OWN_ACCOUNT}/SECURITY"
    contact = live(clients.account, "SECURITY")
    assert contact is not None
    assert {k: contact[k] for k in DETAILS} == DETAILS


def test_create_for_a_member_account_passes_its_account_id(clients: Clients, fake_time: FakeTime) -> None:
    sent: list[dict[str, Any]] = []
    clients.account.meta.events.register(
        "provide-client-params.account.PutAlternateContact", lambda params, **_: sent.append(dict(params))
    )
    physical = lifecycle.create(event("Create", properties("BILLING", MEMBER_ACCOUNT)), clients, fake_time.deadline())
    assert physical == f"{MEMBER_ACCOUNT}/BILLING"
    assert sent[0]["AccountId"] == MEMBER_ACCOUNT
    assert live(clients.account, "BILLING", MEMBER_ACCOUNT) is not None


def test_own_account_named_explicitly_is_left_out_of_the_call(clients: Clients, fake_time: FakeTime) -> None:
    # GIVEN AccountId equal to the account the function runs in (the management account may not name itself)
    sent: list[dict[str, Any]] = []
    clients.account.meta.events.register(
        "provide-client-params.account.*", lambda params, **_: sent.append(dict(params))
    )
    # WHEN it is created
    physical = lifecycle.create(event("Create", properties("OPERATIONS", OWN_ACCOUNT)), clients, fake_time.deadline())
    # THEN no call carried AccountId, and the id still names the account
    assert physical == f"{OWN_ACCOUNT}/OPERATIONS"
    assert sent and all("AccountId" not in params for params in sent)


def test_update_in_place_keeps_the_id_and_writes_new_values(clients: Clients, fake_time: FakeTime) -> None:
    old = properties("SECURITY")
    lifecycle.create(event("Create", old), clients, fake_time.deadline())
    new = properties("SECURITY", EmailAddress="soc@example.com", Title="SOC lead")
    physical = lifecycle.update(
        event("Update", new, physical_id=f"{OWN_ACCOUNT}/SECURITY", old=old), clients, fake_time.deadline()
    )
    assert physical == f"{OWN_ACCOUNT}/SECURITY"
    contact = live(clients.account, "SECURITY")
    assert contact is not None
    assert (contact["EmailAddress"], contact["Title"]) == ("soc@example.com", "SOC lead")


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


def test_delete_removes_the_contact(clients: Clients, cloudformation: tuple[Any, Stubber], fake_time: FakeTime) -> None:
    physical = lifecycle.create(event("Create", properties("SECURITY")), clients, fake_time.deadline())
    expect_listing(cloudformation[1], stack_resources(("SecurityContact", physical, "DELETE_IN_PROGRESS")))
    lifecycle.delete(event("Delete", properties("SECURITY"), physical_id=physical), clients, fake_time.deadline())
    assert live(clients.account, "SECURITY") is None


def test_cleanup_delete_after_replacement_removes_only_the_old_contact(
    clients: Clients, cloudformation: tuple[Any, Stubber], fake_time: FakeTime
) -> None:
    # GIVEN a replacement moved BILLING from the member account to another one
    old, new = properties("BILLING", MEMBER_ACCOUNT), properties("BILLING", "333333333333")
    old_id = lifecycle.create(event("Create", old), clients, fake_time.deadline())
    new_id = lifecycle.update(event("Update", new, physical_id=old_id, old=old), clients, fake_time.deadline())
    # WHEN CloudFormation's cleanup sends the Delete for the old id (the stack lists the new id now)
    expect_listing(cloudformation[1], stack_resources(("SecurityContact", new_id, "UPDATE_COMPLETE")))
    lifecycle.delete(event("Delete", old, physical_id=old_id), clients, fake_time.deadline())
    # THEN the old account's contact is gone and the new one stays
    assert live(clients.account, "BILLING", MEMBER_ACCOUNT) is None
    assert live(clients.account, "BILLING", "333333333333") is not None


def test_delete_after_failed_create_keeps_existing_contact(
    clients: Clients, cloudformation: tuple[Any, Stubber], fake_time: FakeTime
) -> None:
    # GIVEN an account whose SECURITY contact was set before the stack, and a Create that failed
    existing = put_existing(clients.account, "SECURITY")
    invalid = properties("SECURITY", EmailAddress="not-an-email")
    with pytest.raises(ContactError, match="EmailAddress"):
        lifecycle.create(event("Create", invalid), clients, fake_time.deadline())
    # WHEN the rollback's Delete arrives with crhelper's invented id
    request = event("Delete", invalid, physical_id="Contacts_SecurityContact_Q7W2ZP0K")
    lifecycle.delete(request, clients, fake_time.deadline())
    # THEN the contact that existed before is untouched (and the stack was not even listed)
    contact = live(clients.account, "SECURITY")
    assert contact is not None and {k: contact[k] for k in existing} == existing


def test_delete_keeps_contact_claimed_by_a_renamed_resource(
    clients: Clients, cloudformation: tuple[Any, Stubber], fake_time: FakeTime
) -> None:
    # GIVEN the construct was renamed: the new logical id was created first, with the same physical id
    physical = lifecycle.create(event("Create", properties("SECURITY")), clients, fake_time.deadline())
    renamed = event("Create", properties("SECURITY"), logical_id="SecurityContactV2")
    assert lifecycle.create(renamed, clients, fake_time.deadline()) == physical
    expect_listing(
        cloudformation[1],
        stack_resources(
            ("SecurityContact", physical, "DELETE_IN_PROGRESS"),
            ("SecurityContactV2", physical, "CREATE_COMPLETE"),
        ),
    )
    # WHEN the old logical id's Delete arrives in the cleanup phase
    lifecycle.delete(event("Delete", properties("SECURITY"), physical_id=physical), clients, fake_time.deadline())
    # THEN the account keeps the contact the new resource set
    assert live(clients.account, "SECURITY") is not None


def test_claims_are_found_on_later_pages_of_the_stack_listing(
    clients: Clients, cloudformation: tuple[Any, Stubber], fake_time: FakeTime
) -> None:
    physical = lifecycle.create(event("Create", properties("SECURITY")), clients, fake_time.deadline())
    filler = [("SecurityContact", physical, "DELETE_IN_PROGRESS")]
    filler += [(f"Other{i}", f"other-{i}", "CREATE_COMPLETE") for i in range(99)]
    expect_listing(
        cloudformation[1],
        stack_resources(*filler, next_token="page-1"),
        stack_resources(("Renamed", physical, "UPDATE_COMPLETE")),
    )
    lifecycle.delete(event("Delete", properties("SECURITY"), physical_id=physical), clients, fake_time.deadline())
    assert live(clients.account, "SECURITY") is not None


def test_resources_being_deleted_do_not_count_as_claims(
    clients: Clients, cloudformation: tuple[Any, Stubber], fake_time: FakeTime
) -> None:
    # Stack deletion: every resource is on its way out, so none keeps the contact alive.
    physical = lifecycle.create(event("Create", properties("SECURITY")), clients, fake_time.deadline())
    expect_listing(
        cloudformation[1],
        stack_resources(
            ("SecurityContact", physical, "DELETE_IN_PROGRESS"),
            ("Twin", physical, "DELETE_COMPLETE"),
            ("FailedTwin", physical, "CREATE_FAILED"),
        ),
    )
    lifecycle.delete(event("Delete", properties("SECURITY"), physical_id=physical), clients, fake_time.deadline())
    assert live(clients.account, "SECURITY") is None


def test_delete_fails_without_deleting_when_the_stack_cannot_be_listed(
    clients: Clients, cloudformation: tuple[Any, Stubber], fake_time: FakeTime
) -> None:
    physical = lifecycle.create(event("Create", properties("SECURITY")), clients, fake_time.deadline())
    cloudformation[1].add_response("describe_stacks", described(), {"StackName": STACK_ID})
    cloudformation[1].add_client_error("list_stack_resources", "AccessDenied", "not authorized", 403)
    # (past IAM's propagation time, so the AccessDenied is final at once)
    settled = Deadline(fake_time.remaining_ms, clock=lambda: fake_time.now, access_denied_grace_s=0.0)
    with pytest.raises(ContactError, match="cloudformation:ListStackResources") as raised:
        lifecycle.delete(event("Delete", properties("SECURITY"), physical_id=physical), clients, settled)
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
    contact = live(clients.account, "SECURITY")
    assert contact is not None and contact["PhoneNumber"] == DETAILS["PhoneNumber"]
