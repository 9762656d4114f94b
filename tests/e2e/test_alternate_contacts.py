"""``AlternateContacts`` (several types of one account in ONE resource) through the synthesized asset.

The versions of stack ``E2eMulti`` are in tests/e2e/apps/contacts_app.py. A change of the set of types or
of the account is a new identity (``<account>/<TYPE>+<TYPE>``), so CloudFormation replaces the resource and
deletes the old identity in its cleanup phase: the handler must delete only what the new identity no
longer declares, and nothing at all if the update rolls back.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from e2e_support import (
    Assemblies,
    assert_answered_exactly_once,
    declared_contacts,
    explain,
    slots_of,
    without_token,
)

from localdeploy.cloud import LocalCloud
from localdeploy.contacts import Details, Slot
from localdeploy.engine import Engine

pytestmark = pytest.mark.e2e

STACK = "E2eMulti"
OWN = "123456789012"

#: Contacts the deploying account had before any stack: a failed create must leave them as they were.
EXISTING = {
    (OWN, "SECURITY"): {
        "EmailAddress": "soc.before.multi@example.com",
        "Name": "Evelyn Boyd Granville",
        "PhoneNumber": "+1 757 555 0190",
        "Title": "Security operations",
    },
    (OWN, "OPERATIONS"): {
        "EmailAddress": "noc.before.multi@example.com",
        "Name": "Christine Darden",
        "PhoneNumber": "+1 757 555 0191",
        "Title": "Network operations",
    },
}


def test_create_puts_every_declared_type_and_destroy_deletes_them(
    engine: Engine, assemblies: Assemblies, contacts: Callable[[], dict[Slot, Details]], cloud: LocalCloud
) -> None:
    # GIVEN a stack with two AlternateContacts: two types of the deploying account, two of a member account
    own_id, own = declared_contacts(assemblies.contacts, "MultiBase", "Own")
    member_id, member = declared_contacts(assemblies.contacts, "MultiBase", "Member")

    # WHEN it is deployed
    deployed = engine.deploy(assemblies.contacts, STACK, artifact="MultiBase")

    # THEN each resource got one Create, answered with its account and sorted types as identity
    assert deployed.status == "CREATE_COMPLETE", explain(deployed)
    assert sorted((r.request_type, r.logical_id, r.answered_physical_id) for r in deployed.requests) == sorted(
        [
            ("Create", own_id, f"{OWN}/OPERATIONS+SECURITY"),
            ("Create", member_id, "111111111111/BILLING+SECURITY"),
        ]
    )
    # AND the accounts hold exactly the declared contacts
    assert contacts() == {**slots_of(own), **slots_of(member)}

    # WHEN the stack is destroyed
    destroyed = engine.destroy(STACK)

    # THEN each identity got one Delete, and no contact is left
    assert destroyed.status == "DELETE_COMPLETE", explain(destroyed)
    assert sorted((r.request_type, r.physical_id, r.status) for r in destroyed.requests) == [
        ("Delete", "111111111111/BILLING+SECURITY", "SUCCESS"),
        ("Delete", f"{OWN}/OPERATIONS+SECURITY", "SUCCESS"),
    ]
    assert contacts() == {}
    assert_answered_exactly_once(cloud, deployed, destroyed)


def test_adding_a_type_puts_it_and_the_old_identitys_cleanup_keeps_the_others(
    engine: Engine, assemblies: Assemblies, contacts: Callable[[], dict[Slot, Details]], cloud: LocalCloud
) -> None:
    # GIVEN the deploying account's SECURITY and OPERATIONS in one resource
    deployed = engine.deploy(assemblies.contacts, STACK, artifact="MultiBase")
    assert deployed.status == "CREATE_COMPLETE", explain(deployed)
    own_id, own = declared_contacts(assemblies.contacts, "MultiAdded", "Own")
    _, member = declared_contacts(assemblies.contacts, "MultiAdded", "Member")

    # WHEN BILLING is added to it
    updated = engine.deploy(assemblies.contacts, STACK, artifact="MultiAdded")

    # THEN the Update answered the new identity, and the cleanup Delete of the old one succeeded
    assert updated.status == "UPDATE_COMPLETE", explain(updated)
    assert [(r.phase, r.request_type, r.physical_id, r.answered_physical_id) for r in updated.requests] == [
        ("deploy", "Update", f"{OWN}/OPERATIONS+SECURITY", f"{OWN}/BILLING+OPERATIONS+SECURITY"),
        ("cleanup", "Delete", f"{OWN}/OPERATIONS+SECURITY", f"{OWN}/OPERATIONS+SECURITY"),
    ]
    assert updated.requests[1].logical_id == own_id
    # AND the cleanup kept SECURITY and OPERATIONS (the new identity still declares them) and BILLING is set
    assert contacts() == {**slots_of(own), **slots_of(member)}
    assert_answered_exactly_once(cloud, deployed, updated)


def test_changing_a_type_updates_it_in_place(
    engine: Engine, assemblies: Assemblies, contacts: Callable[[], dict[Slot, Details]], cloud: LocalCloud
) -> None:
    # GIVEN the stack deployed
    deployed = engine.deploy(assemblies.contacts, STACK, artifact="MultiBase")
    assert deployed.status == "CREATE_COMPLETE", explain(deployed)
    own_id, old_own = declared_contacts(assemblies.contacts, "MultiBase", "Own")
    _, new_own = declared_contacts(assemblies.contacts, "MultiChanged", "Own")
    _, member = declared_contacts(assemblies.contacts, "MultiChanged", "Member")

    # WHEN the SECURITY details of the deploying account change
    updated = engine.deploy(assemblies.contacts, STACK, artifact="MultiChanged")

    # THEN one Update, carrying the old properties, kept the identity: no replacement, no cleanup Delete
    assert updated.status == "UPDATE_COMPLETE", explain(updated)
    [request] = updated.requests
    assert (request.logical_id, request.request_type) == (own_id, "Update")
    assert request.physical_id == request.answered_physical_id == f"{OWN}/OPERATIONS+SECURITY"
    assert without_token(request.event["OldResourceProperties"]) == old_own
    # AND the contacts hold the new SECURITY details, OPERATIONS as it was
    assert contacts() == {**slots_of(new_own), **slots_of(member)}
    assert_answered_exactly_once(cloud, deployed, updated)


def test_removing_a_type_deletes_it_only_in_the_cleanup_phase(
    engine: Engine, assemblies: Assemblies, contacts: Callable[[], dict[Slot, Details]], cloud: LocalCloud
) -> None:
    # GIVEN the deploying account's SECURITY and OPERATIONS in one resource
    deployed = engine.deploy(assemblies.contacts, STACK, artifact="MultiBase")
    assert deployed.status == "CREATE_COMPLETE", explain(deployed)
    _, own = declared_contacts(assemblies.contacts, "MultiRemoved", "Own")
    _, member = declared_contacts(assemblies.contacts, "MultiRemoved", "Member")

    # WHEN OPERATIONS is removed from it
    updated = engine.deploy(assemblies.contacts, STACK, artifact="MultiRemoved")

    # THEN the Update only answered the new identity; the old identity's Delete came in the cleanup phase
    assert updated.status == "UPDATE_COMPLETE", explain(updated)
    assert [(r.phase, r.request_type, r.physical_id, r.answered_physical_id) for r in updated.requests] == [
        ("deploy", "Update", f"{OWN}/OPERATIONS+SECURITY", f"{OWN}/SECURITY"),
        ("cleanup", "Delete", f"{OWN}/OPERATIONS+SECURITY", f"{OWN}/OPERATIONS+SECURITY"),
    ]
    # AND that Delete removed OPERATIONS only: SECURITY is claimed by the resource's new identity
    assert contacts() == {**slots_of(own), **slots_of(member)}
    assert (OWN, "OPERATIONS") not in contacts()
    assert_answered_exactly_once(cloud, deployed, updated)


def test_removing_a_type_in_a_failed_update_keeps_it(
    engine: Engine, assemblies: Assemblies, contacts: Callable[[], dict[Slot, Details]], cloud: LocalCloud
) -> None:
    # GIVEN the stack deployed
    deployed = engine.deploy(assemblies.contacts, STACK, artifact="MultiBase")
    assert deployed.status == "CREATE_COMPLETE", explain(deployed)
    own_id, _ = declared_contacts(assemblies.contacts, "MultiBase", "Own")
    before = contacts()

    # WHEN an update removes OPERATIONS while a new resource's Create fails
    result = engine.deploy(assemblies.contacts, STACK, artifact="MultiRemovedBadUpdate")

    # THEN the stack rolled back: an Update back to the old identity, then a rollback-cleanup Delete of
    # the new one, which the handler saw claimed again by the restored identity
    assert result.status == "UPDATE_ROLLBACK_COMPLETE", explain(result)
    assert [(r.phase, r.request_type, r.physical_id, r.answered_physical_id) for r in result.requests_for(own_id)] == [
        ("deploy", "Update", f"{OWN}/OPERATIONS+SECURITY", f"{OWN}/SECURITY"),
        ("rollback", "Update", f"{OWN}/SECURITY", f"{OWN}/OPERATIONS+SECURITY"),
        ("rollback cleanup", "Delete", f"{OWN}/SECURITY", f"{OWN}/SECURITY"),
    ]
    # AND no Delete of the old identity was ever sent: the cleanup phase never came
    assert not [r for r in result.requests if r.phase == "cleanup"]
    # AND every contact is as before the failed update, OPERATIONS included
    assert contacts() == before
    assert_answered_exactly_once(cloud, deployed, result)


def test_changing_the_account_moves_every_type(
    engine: Engine, assemblies: Assemblies, contacts: Callable[[], dict[Slot, Details]], cloud: LocalCloud
) -> None:
    # GIVEN BILLING and SECURITY of member 111111111111 in one resource
    deployed = engine.deploy(assemblies.contacts, STACK, artifact="MultiBase")
    assert deployed.status == "CREATE_COMPLETE", explain(deployed)
    member_id, old_member = declared_contacts(assemblies.contacts, "MultiBase", "Member")
    _, new_member = declared_contacts(assemblies.contacts, "MultiMoved", "Member")
    _, own = declared_contacts(assemblies.contacts, "MultiMoved", "Own")

    # WHEN the resource's account changes to 222222222222
    updated = engine.deploy(assemblies.contacts, STACK, artifact="MultiMoved")

    # THEN the Update put both types in the new account, and the cleanup Delete of the old identity,
    # carrying the old properties, removed both from the old account
    assert updated.status == "UPDATE_COMPLETE", explain(updated)
    steps = [(r.phase, r.request_type, r.physical_id, r.answered_physical_id) for r in updated.requests_for(member_id)]
    assert steps == [
        ("deploy", "Update", "111111111111/BILLING+SECURITY", "222222222222/BILLING+SECURITY"),
        ("cleanup", "Delete", "111111111111/BILLING+SECURITY", "111111111111/BILLING+SECURITY"),
    ]
    assert without_token(updated.requests_for(member_id)[1].event["ResourceProperties"]) == old_member
    assert contacts() == {**slots_of(own), **slots_of(new_member)}
    assert_answered_exactly_once(cloud, deployed, updated)


def test_delete_after_failed_create_keeps_the_contacts_that_existed_before(
    engine: Engine,
    assemblies: Assemblies,
    contacts: Callable[[], dict[Slot, Details]],
    seed_contacts: Callable[[dict[Slot, Details]], None],
    cloud: LocalCloud,
) -> None:
    # GIVEN an account whose SECURITY and OPERATIONS contacts predate the stack
    seed_contacts(EXISTING)
    own_id, _ = declared_contacts(assemblies.contacts, "MultiBadCreate", "Own")
    member_id, _ = declared_contacts(assemblies.contacts, "MultiBadCreate", "Member")

    # WHEN a new stack is deployed whose resource for them has a SECURITY email the API rejects
    result = engine.deploy(assemblies.contacts, STACK, artifact="MultiBadCreate")

    # THEN the Create failed naming the type and field, not the value
    assert result.status == "ROLLBACK_COMPLETE", explain(result)
    create, delete = result.requests_for(own_id)
    assert (create.request_type, create.status) == ("Create", "FAILED")
    assert "SECURITY.EmailAddress" in create.reason
    assert "not-an-email-address" not in create.reason
    # AND the rollback's Delete carried crhelper's invented id, so the handler deleted nothing
    assert re.fullmatch(rf"{STACK}_{own_id}_[A-Z0-9]{{8}}", str(create.answered_physical_id))
    assert (delete.phase, delete.request_type, delete.physical_id, delete.status) == (
        "rollback",
        "Delete",
        create.answered_physical_id,
        "SUCCESS",
    )
    # AND the member account's resource, created alongside, was deleted again
    assert [r.request_type for r in result.requests_for(member_id)] == ["Create", "Delete"]
    # AND the contacts from before the stack are still there, unchanged, and nothing else is
    assert contacts() == EXISTING
    assert engine.store.load(STACK) is None
    assert_answered_exactly_once(cloud, result)


#: A BILLING contact the deploying account had before any stack.
EXISTING_BILLING = {
    "EmailAddress": "ap.before.multi@example.com",
    "Name": "Katherine Johnson",
    "PhoneNumber": "+1 757 555 0192",
    "Title": "Accounts payable",
}


def contact_calls(cloud: LocalCloud, judged: int) -> list[tuple[str, str, bool]]:
    """The contact calls IAM judged since ``judged``: action, type, and whether it was allowed."""
    assert cloud.iam is not None
    return [
        (d.authorization.action.split(":")[1], d.authorization.context["account:AlternateContactTypes"][0], d.allowed)
        for d in cloud.iam.decisions[judged:]
        if d.authorization.action.startswith("account:")
    ]


def wrote_then_was_refused(calls: list[tuple[str, str, bool]], written: str, refused: str) -> bool:
    """Whether ``written`` was put before a call on ``refused`` was denied, and put again (the undo) after."""
    puts = [i for i, call in enumerate(calls) if call == ("PutAlternateContact", written, True)]
    denied = [i for i, (_, kind, allowed) in enumerate(calls) if kind == refused and not allowed]
    return len(puts) >= 2 and bool(denied) and puts[0] < denied[0] < puts[-1]


@pytest.mark.denials_expected
@pytest.mark.parametrize("artifact", ["MultiHalfDenied", "MultiHalfDeniedRestore"])
def test_a_create_that_fails_half_way_puts_back_what_it_overwrote(
    engine: Engine,
    assemblies: Assemblies,
    contacts: Callable[[], dict[Slot, Details]],
    seed_contacts: Callable[[dict[Slot, Details]], None],
    cloud: LocalCloud,
    artifact: str,
) -> None:
    # GIVEN an account whose BILLING contact predates the stack, and a new stack declaring BILLING and SECURITY
    # whose role IAM lets write BILLING only (without, then with restore_on_delete)
    seed_contacts({(OWN, "BILLING"): EXISTING_BILLING})
    assert cloud.iam is not None
    judged = len(cloud.iam.decisions)

    # WHEN it is deployed: the Create puts BILLING, then SECURITY is refused
    result = engine.deploy(assemblies.contacts, STACK, artifact=artifact)

    # THEN the Create failed after writing BILLING, and put back the contact it had overwritten, from memory
    # or from its restore record; the rollback's Delete (of crhelper's id) did nothing
    assert result.status == "ROLLBACK_COMPLETE", explain(result)
    calls = contact_calls(cloud, judged)
    assert wrote_then_was_refused(calls, "BILLING", "SECURITY"), calls
    create = next(r for r in result.requests if r.request_type == "Create")
    assert create.status == "FAILED" and "AccessDenied" in create.reason
    assert contacts() == {(OWN, "BILLING"): EXISTING_BILLING}
    # AND no restore record outlives the failed stack
    records = cloud.client("ssm").get_parameters_by_path(Path="/cdk-alternate-contacts", Recursive=True)
    assert records["Parameters"] == []
    assert_answered_exactly_once(cloud, result)


@pytest.mark.denials_expected
def test_an_update_that_fails_after_adding_a_type_puts_that_slot_back(
    engine: Engine,
    assemblies: Assemblies,
    contacts: Callable[[], dict[Slot, Details]],
    seed_contacts: Callable[[dict[Slot, Details]], None],
    cloud: LocalCloud,
) -> None:
    # GIVEN an account whose BILLING contact predates the stack, and the stack managing SECURITY and OPERATIONS
    seed_contacts({(OWN, "BILLING"): EXISTING_BILLING})
    deployed = engine.deploy(assemblies.contacts, STACK, artifact="MultiBase")
    assert deployed.status == "CREATE_COMPLETE", explain(deployed)
    before = contacts()
    assert cloud.iam is not None
    judged = len(cloud.iam.decisions)

    # WHEN an update adds BILLING and changes SECURITY while its policy lets the role write BILLING and
    # OPERATIONS only: the Update puts BILLING, a slot it did not manage before, then SECURITY is refused
    result = engine.deploy(assemblies.contacts, STACK, artifact="MultiAddedDenied")

    # THEN the failed Update put BILLING back as it was, the rollback (under the old policy again) brought
    # the resource back, and the account holds exactly what it held before the update
    assert result.status == "UPDATE_ROLLBACK_COMPLETE", explain(result)
    calls = contact_calls(cloud, judged)
    assert wrote_then_was_refused(calls, "BILLING", "SECURITY"), calls
    assert contacts() == before
    assert contacts()[(OWN, "BILLING")] == EXISTING_BILLING
    assert_answered_exactly_once(cloud, deployed, result)
