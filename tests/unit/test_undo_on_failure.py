"""A failure undoes what it did: a Create or Update failing part way, and the rollback Update after it.

moto's Account API and SSM, in-process. moto cannot fail a call on purpose, so a ``before-send`` hook on the
account client answers the chosen PutAlternateContact with the API's ValidationException (botocore parses
it into the real error) and keeps moto from carrying it out.
"""

from __future__ import annotations

from typing import Any

import pytest
from cfn_events import (
    BEFORE,
    DETAILS,
    OWN_ACCOUNT,
    STACK_ID,
    FakeTime,
    contacts_event,
    contacts_properties,
    live,
    records,
)
from handler_harness import api_error_response

from cdk_alternate_contacts_handler import lifecycle
from cdk_alternate_contacts_handler.account_api import Target
from cdk_alternate_contacts_handler.clients import Clients
from cdk_alternate_contacts_handler.errors import ContactError
from cdk_alternate_contacts_handler.restore import remember_previous
from cdk_alternate_contacts_handler.undo import Journal, Write, undo

NEW = {**DETAILS, "Title": "Incident commander"}

#: Every test keeps restore records in moto's SSM.
pytestmark = pytest.mark.usefixtures("with_ssm")


def fail_put_of(clients: Clients, contact_type: str) -> None:
    """Make every PutAlternateContact of ``contact_type`` fail as the API would refuse it."""

    def hook(request: Any, **_: Any) -> Any:
        if f'"AlternateContactType": "{contact_type}"' in (request.body or b"").decode():
            request.url = "https://fault-injected.invalid/"
            return api_error_response(400, "ValidationException", "injected refusal")
        return None

    clients.account.meta.events.register_first("before-send.account.PutAlternateContact", hook)


def holding(clients: Clients, **contacts: dict[str, str]) -> None:
    """The own account holding these contacts (keyword: type), set straight through the API."""
    for contact_type, details in contacts.items():
        clients.account.put_alternate_contact(AlternateContactType=contact_type, **details)


@pytest.mark.parametrize("restore", [False, True], ids=["without-restore", "with-restore"])
def test_create_failing_part_way_puts_back_what_it_overwrote_and_deletes_what_it_created(
    clients: Clients, fake_time: FakeTime, restore: bool
) -> None:
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
    assert records(clients.ssm) == []


def test_update_failing_after_writing_a_new_slot_puts_that_slot_back(clients: Clients, fake_time: FakeTime) -> None:
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


def test_undo_leaves_a_slot_another_writer_set_since(clients: Clients, fake_time: FakeTime) -> None:
    # GIVEN a failed Create whose BILLING write was replaced by another writer before the undo
    journal = Journal([Write(Target(OWN_ACCOUNT, "BILLING", own_account=True), None, DETAILS)])
    clients.account.put_alternate_contact(AlternateContactType="BILLING", **BEFORE)
    # WHEN the undo runs
    problems = undo(journal, {"StackId": STACK_ID}, clients, fake_time.deadline())
    # THEN the other writer's contact stays
    assert problems == [] and live(clients.account, "BILLING") == BEFORE


# -- the rollback Update: ResourceProperties = the old ones, OldResourceProperties = the failed ones ---------


def rollback(clients: Clients, fake_time: FakeTime, *, restore: bool = False) -> str:
    """CloudFormation's rollback Update after an Update adding SECURITY (``NEW``) to BILLING failed; its answer.

    ResourceProperties are the old ones (BILLING), OldResourceProperties the failed ones, and the id is the old.
    """
    flags = {"RestoreOnDelete": "true"} if restore else {}
    old = {**contacts_properties({"BILLING": DETAILS}), **flags}
    failed = {**contacts_properties({"BILLING": DETAILS, "SECURITY": NEW}), **flags}
    request = contacts_event("Update", old, physical_id=f"{OWN_ACCOUNT}/BILLING", old=failed)
    return lifecycle.update(request, clients, fake_time.deadline())


def test_rollback_update_restores_a_slot_the_failed_update_could_not_undo(
    clients: Clients, fake_time: FakeTime
) -> None:
    # GIVEN a failed Update (with restore on delete) that wrote SECURITY, recorded what it held, and ran out
    # of time before its undo: the record is still there and the slot holds the failed values
    holding(clients, BILLING=DETAILS, SECURITY=BEFORE)
    target = Target(OWN_ACCOUNT, "SECURITY", own_account=True)
    remember_previous(clients, STACK_ID, target, deadline=fake_time.deadline())
    holding(clients, SECURITY=NEW)
    # WHEN CloudFormation's rollback Update arrives with the old id
    assert rollback(clients, fake_time, restore=True) == f"{OWN_ACCOUNT}/BILLING"
    # THEN SECURITY holds what it held before the stack, and the record is gone
    assert live(clients.account, "SECURITY") == BEFORE
    assert records(clients.ssm) == []


def test_rollback_update_leaves_a_slot_the_failed_update_already_undid(clients: Clients, fake_time: FakeTime) -> None:
    # GIVEN SECURITY holding its pre-stack contact again (the failed Update's own undo put it back)
    holding(clients, BILLING=DETAILS, SECURITY=BEFORE)
    # WHEN the rollback Update arrives THEN SECURITY is not touched
    rollback(clients, fake_time)
    assert live(clients.account, "SECURITY") == BEFORE
    assert clients.notes == []


def test_rollback_update_without_restore_keeps_values_that_may_predate_the_stack(
    clients: Clients, fake_time: FakeTime
) -> None:
    # GIVEN SECURITY holding the failed update's values, with no way to tell whether they were there before
    holding(clients, BILLING=DETAILS, SECURITY=NEW)
    # WHEN the rollback Update arrives
    rollback(clients, fake_time)
    # THEN the contact is kept (deleting could lose one that predates the stack), and the reason says so
    assert live(clients.account, "SECURITY") == NEW
    assert "left as is" in clients.notes[0]


def test_forward_update_removing_a_type_leaves_it_for_the_cleanup_delete(clients: Clients, fake_time: FakeTime) -> None:
    # GIVEN a forward Update removing SECURITY (its id changes: the cleanup Delete removes the type later)
    holding(clients, BILLING=DETAILS, SECURITY=NEW)
    old = contacts_properties({"BILLING": DETAILS, "SECURITY": NEW})
    new = contacts_properties({"BILLING": DETAILS})
    request = contacts_event("Update", new, physical_id="123456789012/BILLING+SECURITY", old=old)
    # WHEN it runs
    assert lifecycle.update(request, clients, fake_time.deadline()) == "123456789012/BILLING"
    # THEN SECURITY is left for the cleanup Delete
    assert live(clients.account, "SECURITY") == NEW
