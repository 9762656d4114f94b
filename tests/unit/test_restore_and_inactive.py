"""Restore on delete (records in SSM) and skipping inactive accounts (Organizations), against moto.

moto emulates SSM SecureString parameters and Organizations (accounts, close_account) in-process;
CloudFormation's ListStackResources is stubbed.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import boto3
import pytest
from cfn_events import (
    BEFORE,
    DETAILS,
    OWN_ACCOUNT,
    STACK_ID,
    FakeTime,
    Listing,
    contacts_event,
    contacts_properties,
    live,
    load_event,
    records,
)

from cdk_alternate_contacts_handler import lifecycle
from cdk_alternate_contacts_handler.account_api import Target
from cdk_alternate_contacts_handler.clients import Clients
from cdk_alternate_contacts_handler.errors import ContactError
from cdk_alternate_contacts_handler.restore import parameter_name


@pytest.fixture(autouse=True)
def member(with_ssm: Clients) -> str:
    """Every test's clients get SSM and Organizations, with one ACTIVE member account of a new organization.

    Returns that member account's id.
    """
    organizations = boto3.client("organizations", region_name="us-east-1")
    organizations.create_organization(FeatureSet="ALL")
    created = organizations.create_account(AccountName="member", Email="member@example.com")
    with_ssm.organizations = organizations
    return str(created["CreateAccountStatus"]["AccountId"])


def restoring(name: str, with_properties: Mapping[str, Any] | None = None, **fields: Any) -> dict[str, Any]:
    """CloudFormation's recorded request ``name``, of a resource that opts in to restore on delete."""
    return load_event(name, {**(with_properties or {}), "RestoreOnDelete": "true"}, **fields)


def test_delete_puts_back_the_contact_from_before_the_stack(
    clients: Clients, expect_listing: Listing, fake_time: FakeTime
) -> None:
    # GIVEN a SECURITY contact set before the stack, and a resource that opts in to restore on delete
    clients.account.put_alternate_contact(AlternateContactType="SECURITY", **BEFORE)
    physical = lifecycle.create(restoring("contact_create"), clients, fake_time.deadline())
    assert live(clients.account, "SECURITY") == DETAILS
    # THEN the record is an encrypted parameter whose name holds no contact detail
    [name] = records(clients.ssm)
    assert name == parameter_name(STACK_ID, Target(OWN_ACCOUNT, "SECURITY", own_account=True))
    assert clients.ssm.get_parameter(Name=name)["Parameter"]["Type"] == "SecureString"
    assert not any(value in name for value in (*BEFORE.values(), *DETAILS.values()))
    # WHEN the resource is deleted
    expect_listing(("SecurityContact", physical, "DELETE_IN_PROGRESS"))
    lifecycle.delete(restoring("contact_delete"), clients, fake_time.deadline())
    # THEN the previous contact is back and the record is gone
    assert live(clients.account, "SECURITY") == BEFORE
    assert records(clients.ssm) == []


def test_delete_removes_the_contact_when_there_was_none_before(
    clients: Clients, expect_listing: Listing, fake_time: FakeTime
) -> None:
    operations = {"AlternateContactType": "OPERATIONS"}
    physical = lifecycle.create(restoring("contact_create", operations), clients, fake_time.deadline())
    expect_listing(("SecurityContact", physical, "DELETE_IN_PROGRESS"))
    lifecycle.delete(
        restoring("contact_delete", operations, PhysicalResourceId=physical), clients, fake_time.deadline()
    )
    assert live(clients.account, "OPERATIONS") is None
    assert records(clients.ssm) == []


def test_renames_keep_the_first_record_so_the_original_contact_comes_back(
    clients: Clients, expect_listing: Listing, fake_time: FakeTime
) -> None:
    clients.account.put_alternate_contact(AlternateContactType="SECURITY", **BEFORE)
    # GIVEN the resource was created, then renamed (the new logical id is created first)
    physical = lifecycle.create(restoring("contact_create"), clients, fake_time.deadline())
    lifecycle.create(restoring("contact_create", LogicalResourceId="Renamed"), clients, fake_time.deadline())
    expect_listing(("SecurityContact", physical, "DELETE_IN_PROGRESS"), ("Renamed", physical, "CREATE_COMPLETE"))
    lifecycle.delete(restoring("contact_delete"), clients, fake_time.deadline())
    assert live(clients.account, "SECURITY") == DETAILS  # the renamed resource still owns it
    # WHEN the renamed resource is deleted in turn
    expect_listing(("Renamed", physical, "DELETE_IN_PROGRESS"))
    lifecycle.delete(restoring("contact_delete", LogicalResourceId="Renamed"), clients, fake_time.deadline())
    # THEN the contact from before the stack is back, not the stack's own value
    assert live(clients.account, "SECURITY") == BEFORE


def test_failed_create_puts_back_what_it_had_overwritten(clients: Clients, fake_time: FakeTime) -> None:
    clients.account.put_alternate_contact(AlternateContactType="BILLING", **BEFORE)

    # GIVEN an API that refuses the second type's write
    def refuse_security(params: dict[str, Any], **_: Any) -> None:
        if params["AlternateContactType"] == "SECURITY":
            raise ContactError("PutAlternateContact refused")

    clients.account.meta.events.register("provide-client-params.account.PutAlternateContact", refuse_security)
    props = contacts_properties({"BILLING": DETAILS, "SECURITY": DETAILS})
    props["RestoreOnDelete"] = "true"
    # WHEN the Create fails part way
    with pytest.raises(ContactError):
        lifecycle.create(contacts_event("Create", props), clients, fake_time.deadline())
    # THEN BILLING holds its previous value again and no record is left behind
    assert live(clients.account, "BILLING") == BEFORE
    assert records(clients.ssm) == []


def test_update_adding_a_type_records_what_that_type_held(
    clients: Clients, member: str, expect_listing: Listing, fake_time: FakeTime
) -> None:
    clients.account.put_alternate_contact(AlternateContactType="OPERATIONS", AccountId=member, **BEFORE)
    old = {**contacts_properties({"BILLING": DETAILS}, member), "RestoreOnDelete": "true"}
    old_id = lifecycle.create(contacts_event("Create", old), clients, fake_time.deadline())
    new = {**contacts_properties({"BILLING": DETAILS, "OPERATIONS": DETAILS}, member), "RestoreOnDelete": "true"}
    new_id = lifecycle.update(contacts_event("Update", new, physical_id=old_id, old=old), clients, fake_time.deadline())
    assert live(clients.account, "OPERATIONS", member) == DETAILS
    expect_listing(("SecurityContact", new_id, "UPDATE_COMPLETE"))
    lifecycle.delete(contacts_event("Delete", old, physical_id=old_id), clients, fake_time.deadline())  # cleanup
    expect_listing(("SecurityContact", new_id, "DELETE_IN_PROGRESS"))
    lifecycle.delete(contacts_event("Delete", new, physical_id=new_id), clients, fake_time.deadline())
    assert live(clients.account, "OPERATIONS", member) == BEFORE
    assert live(clients.account, "BILLING", member) is None


def skipping(name: str, account_id: str, **fields: Any) -> dict[str, Any]:
    """CloudFormation's recorded request ``name`` for ``account_id``, opted in to skipping inactive accounts."""
    return load_event(name, {"AccountId": account_id, "SkipInactiveAccount": "true"}, **fields)


def test_inactive_member_account_is_skipped_with_a_note_when_opted_in(
    clients: Clients, member: str, fake_time: FakeTime
) -> None:
    clients.organizations.close_account(AccountId=member)
    state = clients.organizations.describe_account(AccountId=member)["Account"]
    assert (state.get("State") or state.get("Status")) != "ACTIVE"
    physical = lifecycle.create(skipping("contact_create", member), clients, fake_time.deadline())
    assert physical == f"{member}/SECURITY"
    assert live(clients.account, "SECURITY", member) is None
    assert len(clients.notes) == 1 and f"account {member} is " in clients.notes[0]


def test_unknown_account_counts_as_inactive(clients: Clients, fake_time: FakeTime) -> None:
    lifecycle.create(skipping("contact_create", "999999999999"), clients, fake_time.deadline())
    assert "is NOT_FOUND" in clients.notes[0]


def test_active_account_is_managed_even_when_skipping_is_on(clients: Clients, member: str, fake_time: FakeTime) -> None:
    lifecycle.create(skipping("contact_create", member), clients, fake_time.deadline())
    assert live(clients.account, "SECURITY", member) == DETAILS
    assert clients.notes == []


def test_delete_for_an_inactive_account_is_skipped(
    clients: Clients, member: str, expect_listing: Listing, fake_time: FakeTime
) -> None:
    physical = lifecycle.create(skipping("contact_create", member), clients, fake_time.deadline())
    clients.organizations.close_account(AccountId=member)
    # The Delete proves itself genuine (its stack lists it) before anything, skipping included.
    expect_listing(("SecurityContact", physical, "DELETE_IN_PROGRESS"))
    lifecycle.delete(skipping("contact_delete", member, PhysicalResourceId=physical), clients, fake_time.deadline())
    assert live(clients.account, "SECURITY", member) == DETAILS  # untouched
    assert clients.notes and "Delete skipped" in clients.notes[0]


@pytest.mark.parametrize("flag", ["RestoreOnDelete", "SkipInactiveAccount"])
def test_flags_must_be_true_or_false(flag: str, fake_time: FakeTime) -> None:
    clients = Clients(account=object(), cloudformation=object(), own_account_id=OWN_ACCOUNT)
    with pytest.raises(ContactError, match=f"{flag} must be true or false"):
        lifecycle.create(load_event("contact_create", {flag: "yes"}), clients, fake_time.deadline())
