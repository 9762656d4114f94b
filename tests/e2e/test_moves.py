"""Contacts that move between the stacks of one app keep their values.

CloudFormation creates a moved resource in its new stack during the update phase and deletes it from the old
one in the cleanup phase, and that Delete carries the same physical id (``<account>/<TYPE>+<TYPE>``). The
handler's Delete must see the other claim wherever it is in the app (the root stack and every nested stack),
or it removes what the new resource has just written. Run through the synthesized asset, under IAM as
CloudFormation has it at each step (the ``engine`` fixture fails a test on any denied call).
"""

from __future__ import annotations

import pytest
from e2e_steps import E2e, Stack

from cdk_alternate_contacts.placement import nested_stack_index
from localdeploy.contacts import Details, Slot
from localdeploy.engine import OperationResult

pytestmark = pytest.mark.e2e

STACK = "E2eMoves"
ACCOUNTS = ("111111111111", "222222222222", "333333333333")
#: The one account that jump consistent hash places in the second nested stack when there are two.
MOVED = "111111111111"
SLOTS = {(account, kind) for account in ACCOUNTS for kind in ("BILLING", "SECURITY")}


@pytest.fixture
def moves(e2e: E2e) -> Stack:
    """Stack ``E2eMoves``, its versions in contacts_app.py."""
    return e2e.stack(STACK, e2e.assemblies.contacts)


def deletes(result: OperationResult) -> list[tuple[str, str, str]]:
    """The Deletes of an operation: phase, the nested stack sent to (or the parent), physical id."""
    return [
        (r.phase, r.stack_path or "(parent)", str(r.physical_id)) for r in result.requests if r.request_type == "Delete"
    ]


def assert_moved_keeping_contacts(
    e2e: E2e, result: OperationResult, old_place: str, account: str, before: dict[Slot, Details]
) -> None:
    """The engine saw no problem, the one Delete of ``result`` was the cleanup phase's, of ``account``'s old
    resource in ``old_place``, and every account still holds the contacts it held ``before``."""
    assert result.problems == []
    assert deletes(result) == [("cleanup", old_place, f"{account}/BILLING+SECURITY")]
    assert e2e.contacts() == before


def test_changing_nested_stacks_and_back_keeps_every_contact(e2e: E2e, moves: Stack) -> None:
    # GIVEN three accounts in one nested stack
    moves.deploy("MovesOne")
    before = e2e.contacts()
    assert set(before) == SLOTS

    # WHEN nested_stacks goes from 1 to 2: 111111111111 is created in the second nested stack, then its old
    # resource is deleted from the first in the cleanup phase, with the same physical id
    grown = moves.deploy("MovesTwo")

    # THEN that Delete found the new claim in the other nested stack and left the contacts in place
    assert [a for a in ACCOUNTS if nested_stack_index(a, 2) == 1] == [MOVED]
    assert_moved_keeping_contacts(e2e, grown, "OrganizationAccounts00", MOVED, before)

    # WHEN it goes back to 1: the second nested stack is deleted in the cleanup phase, after the first got the
    # account back in the update phase
    shrunk = moves.deploy("MovesOne")

    # THEN again nothing was deleted from the account
    assert_moved_keeping_contacts(e2e, shrunk, "OrganizationAccounts01", MOVED, before)


def test_an_account_leaving_organization_contacts_for_its_own_resource_keeps_its_contacts(
    e2e: E2e, moves: Stack
) -> None:
    # GIVEN three accounts in OrganizationContacts
    moves.deploy("MovesOne")
    before = e2e.contacts()

    # WHEN 333333333333 is declared with its own AlternateContacts in the parent stack instead
    moved = moves.deploy("MovesOut")

    # THEN its new resource was created in the parent, the nested stack's old one deleted in the cleanup phase
    # without touching the account, and every contact still holds its values
    creates = [
        (r.stack_path or "(parent)", r.answered_physical_id) for r in moved.requests if r.request_type == "Create"
    ]
    assert creates == [("(parent)", "333333333333/BILLING+SECURITY")]
    assert_moved_keeping_contacts(e2e, moved, "OrganizationAccounts00", "333333333333", before)

    # AND a destroy removes every contact, nested stacks' included
    moves.destroy()
    assert e2e.contacts() == {}


def test_nested_stacks_are_created_one_after_another_and_deleted_in_the_reverse_order(e2e: E2e, moves: Stack) -> None:
    # GIVEN the accounts in two chained nested stacks (OrganizationAccounts01 depends on ...00)
    # WHEN the stack is created, then destroyed
    deployed = moves.deploy("MovesTwo")
    assert set(e2e.contacts()) == SLOTS
    destroyed = moves.destroy()

    # THEN no request of the second nested stack was sent before every request of the first was answered, and
    # on destroy the other way round: one nested stack's fan-out at a time in Lambda's queue
    def window(result: OperationResult, nested: str) -> tuple[float, float]:
        records = [r for r in result.requests if r.stack_path == nested]
        assert records, nested
        return min(r.sent_at for r in records), max(r.answered_at or 0.0 for r in records)

    first, second = "OrganizationAccounts00", "OrganizationAccounts01"
    assert window(deployed, first)[1] <= window(deployed, second)[0]
    assert window(destroyed, second)[1] <= window(destroyed, first)[0]
    assert e2e.contacts() == {}
