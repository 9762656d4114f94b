"""A failure undoes what it did: a Create or Update failing part way, and the rollback Update after it.

moto's Account API and SSM, in-process. moto cannot fail a call on purpose, so a ``before-send`` hook on the
account client answers the chosen PutAlternateContact with the API's ValidationException (botocore parses
it into the real error) and keeps moto from carrying it out.
"""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from cfn_events import (
    BEFORE,
    DETAILS,
    OWN_ACCOUNT,
    STACK_ID,
    FakeTime,
    contacts_event,
    contacts_properties,
)
from handler_harness import api_error_response

from cdk_alternate_contacts_handler import lifecycle
from cdk_alternate_contacts_handler.account_api import Target
from cdk_alternate_contacts_handler.clients import Clients
from cdk_alternate_contacts_handler.errors import ContactError
from cdk_alternate_contacts_handler.restore import remember_previous
from cdk_alternate_contacts_handler.undo import Journal, Write, undo

NEW = {**DETAILS, "Title": "Incident commander"}


def live(client: Any, contact_type: str) -> dict[str, str] | None:
    try:
        contact = client.get_alternate_contact(AlternateContactType=contact_type)["AlternateContact"]
    except client.exceptions.ResourceNotFoundException:
        return None
    return {key: contact[key] for key in DETAILS}


def fail_put_of(clients: Clients, contact_type: str) -> None:
    """Make every PutAlternateContact of ``contact_type`` fail as the API would refuse it."""

    def hook(request: Any, **_: Any) -> Any:
        if f'"AlternateContactType": "{contact_type}"' in (request.body or b"").decode():
            request.url = "https://fault-injected.invalid/"
            return api_error_response(400, "ValidationException", "injected refusal")
        return None

    clients.account.meta.events.register_first("before-send.account.PutAlternateContact", hook)


def records(clients: Clients) -> list[str]:
    return [p["Name"] for p in clients.ssm.describe_parameters()["Parameters"]]


@pytest.fixture
def with_ssm(clients: Clients) -> Clients:
    clients.ssm = boto3.client("ssm", region_name="us-east-1")
    return clients


@pytest.mark.parametrize("restore", [False, True], ids=["without-restore", "with-restore"])
def test_create_failing_part_way_puts_back_what_it_overwrote_and_deletes_what_it_created(
    with_ssm: Clients, fake_time: FakeTime, restore: bool
) -> None:
    clients = with_ssm
    # GIVEN BILLING set before the stack, OPERATIONS empty, and an API that refuses the SECURITY put
    clients.account.put_alternate_contact(AlternateContactType="BILLING", **BEFORE)
    fail_put_of(clients, "SECURITY")
    props = contacts_properties({"BILLING": DETAILS, "OPERATIONS": DETAILS, "SECURITY": DETAILS})
    if restore:
        props["RestoreOnDelete"] = "true"
    # WHEN the Create of the three types runs
    with pytest.raises(ContactError, match="SECURITY"):
        lifecycle.create(contacts_event("Create", props), clients, fake_time.deadline())
    # THEN BILLING holds its previous contact again, OPERATIONS and SECURITY are empty, and no record is left
    assert live(clients.account, "BILLING") == BEFORE
    assert live(clients.account, "OPERATIONS") is None
    assert live(clients.account, "SECURITY") is None
    assert records(clients) == []


def test_update_failing_after_writing_a_new_slot_puts_that_slot_back(with_ssm: Clients, fake_time: FakeTime) -> None:
    clients = with_ssm
    # GIVEN a resource managing BILLING, and OPERATIONS set before the stack
    old = contacts_properties({"BILLING": DETAILS})
    physical = lifecycle.create(contacts_event("Create", old), clients, fake_time.deadline())
    clients.account.put_alternate_contact(AlternateContactType="OPERATIONS", **BEFORE)
    # WHEN an Update adds OPERATIONS and SECURITY, and the SECURITY put is refused
    fail_put_of(clients, "SECURITY")
    new = contacts_properties({"BILLING": DETAILS, "OPERATIONS": NEW, "SECURITY": NEW})
    with pytest.raises(ContactError, match="SECURITY"):
        lifecycle.update(contacts_event("Update", new, physical_id=physical, old=old), clients, fake_time.deadline())
    # THEN OPERATIONS holds what it held before, SECURITY is empty, BILLING untouched
    assert live(clients.account, "OPERATIONS") == BEFORE
    assert live(clients.account, "SECURITY") is None
    assert live(clients.account, "BILLING") == DETAILS


def test_undo_leaves_a_slot_another_writer_set_since(with_ssm: Clients, fake_time: FakeTime) -> None:
    clients = with_ssm
    # GIVEN a failed Create whose BILLING write was replaced by another writer before the undo
    journal = Journal([Write(Target(OWN_ACCOUNT, "BILLING", own_account=True), None, DETAILS)])
    clients.account.put_alternate_contact(AlternateContactType="BILLING", **BEFORE)
    # WHEN the undo runs
    problems = undo(journal, {"StackId": STACK_ID}, clients, fake_time.deadline())
    # THEN the other writer's contact stays
    assert problems == [] and live(clients.account, "BILLING") == BEFORE


# -- the rollback Update: ResourceProperties = the old ones, OldResourceProperties = the failed ones ---------


def rollback(clients: Clients, fake_time: FakeTime, old: dict[str, Any], failed: dict[str, Any]) -> str:
    physical = "123456789012/BILLING"
    request = contacts_event("Update", old, physical_id=physical, old=failed)
    return lifecycle.update(request, clients, fake_time.deadline())


def test_rollback_update_restores_a_slot_the_failed_update_could_not_undo(
    with_ssm: Clients, fake_time: FakeTime
) -> None:
    clients = with_ssm
    # GIVEN a failed Update (with restore on delete) that wrote SECURITY, recorded what it held, and ran out
    # of time before its undo: the record is still there and the slot holds the failed values
    clients.account.put_alternate_contact(AlternateContactType="BILLING", **DETAILS)
    clients.account.put_alternate_contact(AlternateContactType="SECURITY", **BEFORE)
    target = Target(OWN_ACCOUNT, "SECURITY", own_account=True)
    remember_previous(clients, STACK_ID, target, deadline=fake_time.deadline())
    clients.account.put_alternate_contact(AlternateContactType="SECURITY", **NEW)
    old = {**contacts_properties({"BILLING": DETAILS}), "RestoreOnDelete": "true"}
    failed = {**contacts_properties({"BILLING": DETAILS, "SECURITY": NEW}), "RestoreOnDelete": "true"}
    # WHEN CloudFormation's rollback Update arrives with the old id
    assert rollback(clients, fake_time, old, failed) == "123456789012/BILLING"
    # THEN SECURITY holds what it held before the stack, and the record is gone
    assert live(clients.account, "SECURITY") == BEFORE
    assert records(clients) == []


def test_rollback_update_leaves_a_slot_the_failed_update_already_undid(with_ssm: Clients, fake_time: FakeTime) -> None:
    clients = with_ssm
    # GIVEN SECURITY holding its pre-stack contact again (the failed Update's own undo put it back)
    clients.account.put_alternate_contact(AlternateContactType="BILLING", **DETAILS)
    clients.account.put_alternate_contact(AlternateContactType="SECURITY", **BEFORE)
    old = contacts_properties({"BILLING": DETAILS})
    failed = contacts_properties({"BILLING": DETAILS, "SECURITY": NEW})
    # WHEN the rollback Update arrives
    rollback(clients, fake_time, old, failed)
    # THEN SECURITY is not touched
    assert live(clients.account, "SECURITY") == BEFORE
    assert clients.notes == []


def test_rollback_update_without_restore_keeps_values_that_may_predate_the_stack(
    with_ssm: Clients, fake_time: FakeTime
) -> None:
    clients = with_ssm
    # GIVEN SECURITY holding the failed update's values, with no way to tell whether they were there before
    clients.account.put_alternate_contact(AlternateContactType="BILLING", **DETAILS)
    clients.account.put_alternate_contact(AlternateContactType="SECURITY", **NEW)
    old = contacts_properties({"BILLING": DETAILS})
    failed = contacts_properties({"BILLING": DETAILS, "SECURITY": NEW})
    # WHEN the rollback Update arrives
    rollback(clients, fake_time, old, failed)
    # THEN the contact is kept (deleting could lose one that predates the stack), and the reason says so
    assert live(clients.account, "SECURITY") == NEW
    assert "left as is" in clients.notes[0]


def test_forward_update_removing_a_type_leaves_it_for_the_cleanup_delete(
    with_ssm: Clients, fake_time: FakeTime
) -> None:
    clients = with_ssm
    # GIVEN a forward Update removing SECURITY (its id changes: the cleanup Delete removes the type later)
    clients.account.put_alternate_contact(AlternateContactType="BILLING", **DETAILS)
    clients.account.put_alternate_contact(AlternateContactType="SECURITY", **NEW)
    old = contacts_properties({"BILLING": DETAILS, "SECURITY": NEW})
    new = contacts_properties({"BILLING": DETAILS})
    request = contacts_event("Update", new, physical_id="123456789012/BILLING+SECURITY", old=old)
    # WHEN it runs
    assert lifecycle.update(request, clients, fake_time.deadline()) == "123456789012/BILLING"
    # THEN SECURITY is left for the cleanup Delete
    assert live(clients.account, "SECURITY") == NEW
