"""Contacts that move between the stacks of one app keep their values.

CloudFormation creates a moved resource in its new stack during the update phase and deletes it from the old
one in the cleanup phase, and that Delete carries the same physical id (``<account>/<TYPE>+<TYPE>``). The
handler's Delete must see the other claim wherever it is in the app (the root stack and every nested stack),
or it removes what the new resource has just written. Run through the synthesized asset, under IAM as
CloudFormation has it at each step (the ``engine`` fixture fails a test on any denied call).
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from e2e_support import Assemblies, assert_answered_exactly_once, explain

from cdk_alternate_contacts.placement import nested_stack_index
from localdeploy.cloud import LocalCloud
from localdeploy.contacts import Details, Slot
from localdeploy.engine import Engine

pytestmark = pytest.mark.e2e

STACK = "E2eMoves"
ACCOUNTS = ("111111111111", "222222222222", "333333333333")
#: The one account that jump consistent hash places in the second nested stack when there are two.
MOVED = "111111111111"
SLOTS = {(account, kind) for account in ACCOUNTS for kind in ("BILLING", "SECURITY")}


def deletes(result: object) -> list[tuple[str, str, str]]:
    return [
        (r.phase, r.stack_path or "(parent)", str(r.physical_id)) for r in result.requests if r.request_type == "Delete"
    ]  # type: ignore[attr-defined]


def test_changing_nested_stacks_and_back_keeps_every_contact(
    engine: Engine, assemblies: Assemblies, contacts: Callable[[], dict[Slot, Details]], cloud: LocalCloud
) -> None:
    # GIVEN three accounts in one nested stack
    deployed = engine.deploy(assemblies.contacts, STACK, artifact="MovesOne")
    assert deployed.status == "CREATE_COMPLETE", explain(deployed)
    before = contacts()
    assert set(before) == SLOTS

    # WHEN nested_stacks goes from 1 to 2: 111111111111 is created in the second nested stack, then its old
    # resource is deleted from the first in the cleanup phase, with the same physical id
    grown = engine.deploy(assemblies.contacts, STACK, artifact="MovesTwo")

    # THEN that Delete found the new claim in the other nested stack and left the contacts in place
    assert grown.status == "UPDATE_COMPLETE", explain(grown)
    assert grown.problems == []
    assert [a for a in ACCOUNTS if nested_stack_index(a, 2) == 1] == [MOVED]
    assert deletes(grown) == [("cleanup", "OrganizationAccounts00", f"{MOVED}/BILLING+SECURITY")]
    assert contacts() == before

    # WHEN it goes back to 1: the second nested stack is deleted in the cleanup phase, after the first got the
    # account back in the update phase
    shrunk = engine.deploy(assemblies.contacts, STACK, artifact="MovesOne")

    # THEN again nothing was deleted from the account
    assert shrunk.status == "UPDATE_COMPLETE", explain(shrunk)
    assert shrunk.problems == []
    assert deletes(shrunk) == [("cleanup", "OrganizationAccounts01", f"{MOVED}/BILLING+SECURITY")]
    assert contacts() == before
    assert_answered_exactly_once(cloud, deployed, grown, shrunk)


def test_an_account_leaving_organization_contacts_for_its_own_resource_keeps_its_contacts(
    engine: Engine, assemblies: Assemblies, contacts: Callable[[], dict[Slot, Details]], cloud: LocalCloud
) -> None:
    # GIVEN three accounts in OrganizationContacts
    deployed = engine.deploy(assemblies.contacts, STACK, artifact="MovesOne")
    assert deployed.status == "CREATE_COMPLETE", explain(deployed)
    before = contacts()

    # WHEN 333333333333 is declared with its own AlternateContacts in the parent stack instead
    moved = engine.deploy(assemblies.contacts, STACK, artifact="MovesOut")

    # THEN its new resource was created in the parent, the nested stack's old one deleted in the cleanup phase
    # without touching the account, and every contact still holds its values
    assert moved.status == "UPDATE_COMPLETE", explain(moved)
    assert moved.problems == []
    creates = [
        (r.stack_path or "(parent)", r.answered_physical_id) for r in moved.requests if r.request_type == "Create"
    ]
    assert creates == [("(parent)", "333333333333/BILLING+SECURITY")]
    assert deletes(moved) == [("cleanup", "OrganizationAccounts00", "333333333333/BILLING+SECURITY")]
    assert contacts() == before

    # AND a destroy removes every contact, nested stacks' included
    destroyed = engine.destroy(STACK)
    assert destroyed.status == "DELETE_COMPLETE", explain(destroyed)
    assert contacts() == {}
    assert_answered_exactly_once(cloud, deployed, moved, destroyed)


def test_nested_stacks_are_created_one_after_another_and_deleted_in_the_reverse_order(
    engine: Engine, assemblies: Assemblies, contacts: Callable[[], dict[Slot, Details]], cloud: LocalCloud
) -> None:
    # GIVEN the accounts in two chained nested stacks (OrganizationAccounts01 depends on ...00)
    # WHEN the stack is created, then destroyed
    deployed = engine.deploy(assemblies.contacts, STACK, artifact="MovesTwo")
    assert deployed.status == "CREATE_COMPLETE", explain(deployed)
    assert set(contacts()) == SLOTS
    destroyed = engine.destroy(STACK)
    assert destroyed.status == "DELETE_COMPLETE", explain(destroyed)

    # THEN no request of the second nested stack was sent before every request of the first was answered, and
    # on destroy the other way round: one nested stack's fan-out at a time in Lambda's queue
    def window(result: object, nested: str) -> tuple[float, float]:
        records = [r for r in result.requests if r.stack_path == nested]  # type: ignore[attr-defined]
        assert records, nested
        return min(r.sent_at for r in records), max(r.answered_at or 0.0 for r in records)

    first, second = "OrganizationAccounts00", "OrganizationAccounts01"
    assert window(deployed, first)[1] <= window(deployed, second)[0]
    assert window(destroyed, second)[1] <= window(destroyed, first)[0]
    assert contacts() == {}
    assert_answered_exactly_once(cloud, deployed, destroyed)
