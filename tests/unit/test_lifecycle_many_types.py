"""``Custom::AlternateContacts``: several types of one account in one resource, against moto.

CloudFormation's ListStackResources is stubbed (botocore Stubber): there is no stack in moto.
"""

from __future__ import annotations

from typing import Any

import pytest
from cfn_events import (
    DETAILS,
    MEMBER_ACCOUNT,
    OWN_ACCOUNT,
    FakeTime,
    Listing,
    account_calls,
    contacts_event,
    contacts_properties,
)
from sample_contacts import BILLING, OPERATIONS

from cdk_alternate_contacts_handler import lifecycle
from cdk_alternate_contacts_handler.clients import Clients
from cdk_alternate_contacts_handler.errors import ContactError


def live_types(client: Any, account_id: str) -> dict[str, dict[str, str]]:
    found = {}
    for contact_type in ("BILLING", "OPERATIONS", "SECURITY"):
        arguments = {"AlternateContactType": contact_type, "AccountId": account_id}
        try:
            contact = client.get_alternate_contact(**arguments)["AlternateContact"]
        except client.exceptions.ResourceNotFoundException:
            continue
        found[contact_type] = {k: contact[k] for k in DETAILS}
    return found


def test_create_puts_every_declared_type_and_names_them_in_the_id(clients: Clients, fake_time: FakeTime) -> None:
    props = contacts_properties({"SECURITY": DETAILS, "BILLING": BILLING}, MEMBER_ACCOUNT)
    physical = lifecycle.create(contacts_event("Create", props), clients, fake_time.deadline())
    assert physical == f"{MEMBER_ACCOUNT}/BILLING+SECURITY"
    assert live_types(clients.account, MEMBER_ACCOUNT) == {"BILLING": BILLING, "SECURITY": DETAILS}


def test_update_puts_only_changed_and_added_types(clients: Clients, fake_time: FakeTime) -> None:
    # GIVEN SECURITY and BILLING managed
    old = contacts_properties({"SECURITY": DETAILS, "BILLING": BILLING}, MEMBER_ACCOUNT)
    old_id = lifecycle.create(contacts_event("Create", old), clients, fake_time.deadline())
    puts = account_calls(clients.account, "PutAlternateContact")
    # WHEN BILLING changes and OPERATIONS is added (SECURITY unchanged)
    new = contacts_properties(
        {"SECURITY": DETAILS, "BILLING": {**BILLING, "Title": "Finance"}, "OPERATIONS": OPERATIONS}, MEMBER_ACCOUNT
    )
    request = contacts_event("Update", new, physical_id=old_id, old=old)
    physical = lifecycle.update(request, clients, fake_time.deadline())
    # THEN only BILLING and OPERATIONS were written, and the id names all three types
    assert sorted(put["AlternateContactType"] for put in puts) == ["BILLING", "OPERATIONS"]
    assert physical == f"{MEMBER_ACCOUNT}/BILLING+OPERATIONS+SECURITY"
    assert live_types(clients.account, MEMBER_ACCOUNT)["BILLING"]["Title"] == "Finance"


def test_type_removed_on_update_is_deleted_in_cleanup_and_the_others_stay(
    clients: Clients, expect_listing: Listing, fake_time: FakeTime
) -> None:
    # GIVEN three types managed, then an update that drops OPERATIONS
    old = contacts_properties({"SECURITY": DETAILS, "BILLING": BILLING, "OPERATIONS": OPERATIONS}, MEMBER_ACCOUNT)
    old_id = lifecycle.create(contacts_event("Create", old), clients, fake_time.deadline())
    new = contacts_properties({"SECURITY": DETAILS, "BILLING": BILLING}, MEMBER_ACCOUNT)
    new_id = lifecycle.update(contacts_event("Update", new, physical_id=old_id, old=old), clients, fake_time.deadline())
    assert new_id != old_id
    # WHEN CloudFormation's cleanup deletes the old id; the same logical id now shows the new id
    expect_listing(("SecurityContact", new_id, "UPDATE_COMPLETE"))
    lifecycle.delete(contacts_event("Delete", old, physical_id=old_id), clients, fake_time.deadline())
    # THEN only OPERATIONS is gone
    assert set(live_types(clients.account, MEMBER_ACCOUNT)) == {"BILLING", "SECURITY"}


def test_account_change_moves_every_type_and_cleanup_empties_the_old_account(
    clients: Clients, expect_listing: Listing, fake_time: FakeTime
) -> None:
    old = contacts_properties({"SECURITY": DETAILS, "BILLING": BILLING}, MEMBER_ACCOUNT)
    old_id = lifecycle.create(contacts_event("Create", old), clients, fake_time.deadline())
    new = contacts_properties({"SECURITY": DETAILS, "BILLING": BILLING}, "333333333333")
    new_id = lifecycle.update(contacts_event("Update", new, physical_id=old_id, old=old), clients, fake_time.deadline())
    expect_listing(("SecurityContact", new_id, "UPDATE_COMPLETE"))
    lifecycle.delete(contacts_event("Delete", old, physical_id=old_id), clients, fake_time.deadline())
    assert live_types(clients.account, MEMBER_ACCOUNT) == {}
    assert set(live_types(clients.account, "333333333333")) == {"BILLING", "SECURITY"}


def test_switching_from_single_contacts_to_one_resource_keeps_the_contacts(
    clients: Clients, expect_listing: Listing, fake_time: FakeTime
) -> None:
    # GIVEN a stack that replaced two AlternateContact resources by one AlternateContacts (created first)
    new = contacts_properties({"SECURITY": DETAILS, "BILLING": BILLING}, MEMBER_ACCOUNT)
    new_id = lifecycle.create(contacts_event("Create", new, logical_id="Member"), clients, fake_time.deadline())
    old_single = {"ServiceToken": "x", "AlternateContactType": "SECURITY", "AccountId": MEMBER_ACCOUNT, **DETAILS}
    expect_listing(
        ("SecurityContact", f"{MEMBER_ACCOUNT}/SECURITY", "DELETE_IN_PROGRESS"),
        ("Member", new_id, "CREATE_COMPLETE"),
    )
    # WHEN the old single resource is deleted
    request = {**contacts_event("Delete", old_single, physical_id=f"{MEMBER_ACCOUNT}/SECURITY")}
    request["ResourceType"] = "Custom::AlternateContact"
    lifecycle.delete(request, clients, fake_time.deadline())
    # THEN the new resource's SECURITY contact is still there
    assert set(live_types(clients.account, MEMBER_ACCOUNT)) == {"BILLING", "SECURITY"}


def test_stack_deletion_deletes_every_type(clients: Clients, expect_listing: Listing, fake_time: FakeTime) -> None:
    props = contacts_properties({"SECURITY": DETAILS, "BILLING": BILLING, "OPERATIONS": OPERATIONS}, MEMBER_ACCOUNT)
    physical = lifecycle.create(contacts_event("Create", props), clients, fake_time.deadline())
    expect_listing(("SecurityContact", physical, "DELETE_IN_PROGRESS"))
    lifecycle.delete(contacts_event("Delete", props, physical_id=physical), clients, fake_time.deadline())
    assert live_types(clients.account, MEMBER_ACCOUNT) == {}


def test_invalid_type_details_fail_before_any_write(fake_time: FakeTime) -> None:
    clients = Clients(account=object(), cloudformation=object(), own_account_id=OWN_ACCOUNT)
    props = contacts_properties({"SECURITY": DETAILS, "BILLING": {**BILLING, "PhoneNumber": "ask finance"}})
    with pytest.raises(ContactError, match=r"AlternateContacts\.BILLING\.PhoneNumber must be digits") as raised:
        lifecycle.create(contacts_event("Create", props), clients, fake_time.deadline())
    assert "ask finance" not in str(raised.value)


def test_update_from_unreadable_old_properties_puts_everything(clients: Clients, fake_time: FakeTime) -> None:
    # Properties written by an older version of the construct may not parse: nothing is assumed unchanged.
    props = contacts_properties({"SECURITY": DETAILS}, MEMBER_ACCOUNT)
    request = contacts_event("Update", props, physical_id=f"{MEMBER_ACCOUNT}/SECURITY", old={"Legacy": "shape"})
    assert lifecycle.update(request, clients, fake_time.deadline()) == f"{MEMBER_ACCOUNT}/SECURITY"
    assert live_types(clients.account, MEMBER_ACCOUNT) == {"SECURITY": DETAILS}
