"""``AlternateContacts`` (several types of one account in ONE resource) through the synthesized asset.

The versions of stack ``E2eMulti`` are in tests/e2e/apps/contacts_app.py. A change of the set of types or
of the account is a new identity (``<account>/<TYPE>+<TYPE>``), so CloudFormation replaces the resource and
deletes the old identity in its cleanup phase: the handler must delete only what the new identity no
longer declares, and nothing at all if the update rolls back.
"""

from __future__ import annotations

import pytest
from e2e_steps import (
    E2e,
    Stack,
    assert_failed_create_deleted_nothing,
    assert_replaced,
    assert_replacement_rolled_back,
)
from e2e_support import slots_of, without_token

from localdeploy.cloud import LocalCloud

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


@pytest.fixture
def multi(e2e: E2e) -> Stack:
    """Stack ``E2eMulti``, its versions in contacts_app.py."""
    return e2e.stack(STACK, e2e.assemblies.contacts)


def test_create_puts_every_declared_type_and_destroy_deletes_them(e2e: E2e, multi: Stack) -> None:
    # GIVEN a stack with two AlternateContacts: two types of the deploying account, two of a member account
    own_id, own = multi.declared_contacts("MultiBase", "Own")
    member_id, member = multi.declared_contacts("MultiBase", "Member")

    # WHEN it is deployed
    deployed = multi.deploy("MultiBase")

    # THEN each resource got one Create, answered with its account and sorted types as identity
    assert sorted((r.request_type, r.logical_id, r.answered_physical_id) for r in deployed.requests) == sorted(
        [
            ("Create", own_id, f"{OWN}/OPERATIONS+SECURITY"),
            ("Create", member_id, "111111111111/BILLING+SECURITY"),
        ]
    )
    # AND the accounts hold exactly the declared contacts
    assert e2e.contacts() == {**slots_of(own), **slots_of(member)}

    # WHEN the stack is destroyed
    destroyed = multi.destroy()

    # THEN each identity got one Delete, and no contact is left
    assert sorted((r.request_type, r.physical_id, r.status) for r in destroyed.requests) == [
        ("Delete", "111111111111/BILLING+SECURITY", "SUCCESS"),
        ("Delete", f"{OWN}/OPERATIONS+SECURITY", "SUCCESS"),
    ]
    assert e2e.contacts() == {}


#: Updates of MultiBase that give one resource a new identity, so CloudFormation replaces it: the version,
#: the construct, its identity before and after, and the slots the old identity held that the new one does not.
REPLACEMENTS = [
    pytest.param(
        "MultiAdded",
        "Own",
        f"{OWN}/OPERATIONS+SECURITY",
        f"{OWN}/BILLING+OPERATIONS+SECURITY",
        set(),
        id="adding a type puts it, the cleanup keeps the others",
    ),
    pytest.param(
        "MultiRemoved",
        "Own",
        f"{OWN}/OPERATIONS+SECURITY",
        f"{OWN}/SECURITY",
        {(OWN, "OPERATIONS")},
        id="removing a type deletes it in the cleanup only, SECURITY claimed by the new identity stays",
    ),
    pytest.param(
        "MultiMoved",
        "Member",
        "111111111111/BILLING+SECURITY",
        "222222222222/BILLING+SECURITY",
        {("111111111111", "BILLING"), ("111111111111", "SECURITY")},
        id="changing the account moves every type",
    ),
]


@pytest.mark.parametrize(("artifact", "construct_id", "old", "new", "gone"), REPLACEMENTS)
def test_a_new_identity_is_answered_by_the_update_and_the_old_one_deleted_in_the_cleanup_phase(
    e2e: E2e, multi: Stack, artifact: str, construct_id: str, old: str, new: str, gone: set[tuple[str, str]]
) -> None:
    # GIVEN the deploying account's SECURITY and OPERATIONS, and member 111111111111's BILLING and SECURITY
    multi.deploy("MultiBase")
    logical_id, old_properties = multi.declared_contacts("MultiBase", construct_id)
    _, own = multi.declared_contacts(artifact, "Own")
    _, member = multi.declared_contacts(artifact, "Member")

    # WHEN one resource's types or account change
    updated = multi.deploy(artifact)

    # THEN its Update answered the new identity, and the cleanup Delete of the old one, carrying the old
    # properties, succeeded; no other resource was sent anything
    assert_replaced(updated.requests_for(logical_id), old, new, old_properties)
    assert updated.requests == updated.requests_for(logical_id)
    # AND the accounts hold what the new version declares: the cleanup deleted only what it no longer declares
    assert e2e.contacts() == {**slots_of(own), **slots_of(member)}
    assert not gone & e2e.contacts().keys()


def test_changing_a_type_updates_it_in_place(e2e: E2e, multi: Stack) -> None:
    # GIVEN the stack deployed
    multi.deploy("MultiBase")
    own_id, old_own = multi.declared_contacts("MultiBase", "Own")
    _, new_own = multi.declared_contacts("MultiChanged", "Own")
    _, member = multi.declared_contacts("MultiChanged", "Member")

    # WHEN the SECURITY details of the deploying account change
    updated = multi.deploy("MultiChanged")

    # THEN one Update, carrying the old properties, kept the identity: no replacement, no cleanup Delete
    [request] = updated.requests
    assert (request.logical_id, request.request_type) == (own_id, "Update")
    assert request.physical_id == request.answered_physical_id == f"{OWN}/OPERATIONS+SECURITY"
    assert without_token(request.event["OldResourceProperties"]) == old_own
    # AND the contacts hold the new SECURITY details, OPERATIONS as it was
    assert e2e.contacts() == {**slots_of(new_own), **slots_of(member)}


def test_removing_a_type_in_a_failed_update_keeps_it(e2e: E2e, multi: Stack) -> None:
    # GIVEN the stack deployed
    multi.deploy("MultiBase")
    own_id, _ = multi.declared_contacts("MultiBase", "Own")
    before = e2e.contacts()

    # WHEN an update removes OPERATIONS while a new resource's Create fails
    result = multi.deploy("MultiRemovedBadUpdate", expect="UPDATE_ROLLBACK_COMPLETE")

    # THEN the stack rolled back: an Update back to the old identity, then a rollback-cleanup Delete of
    # the new one, which the handler saw claimed again by the restored identity
    assert_replacement_rolled_back(result.requests_for(own_id), f"{OWN}/OPERATIONS+SECURITY", f"{OWN}/SECURITY")
    # AND no Delete of the old identity was ever sent: the cleanup phase never came
    assert not [r for r in result.requests if r.phase == "cleanup"]
    # AND every contact is as before the failed update, OPERATIONS included
    assert e2e.contacts() == before


def test_delete_after_failed_create_keeps_the_contacts_that_existed_before(e2e: E2e, multi: Stack) -> None:
    # GIVEN an account whose SECURITY and OPERATIONS contacts predate the stack
    e2e.seed(EXISTING)
    own_id, _ = multi.declared_contacts("MultiBadCreate", "Own")
    member_id, _ = multi.declared_contacts("MultiBadCreate", "Member")

    # WHEN a new stack is deployed whose resource for them has a SECURITY email the API rejects
    result = multi.deploy("MultiBadCreate", expect="ROLLBACK_COMPLETE")

    # THEN the Create failed naming the type and field, not the value; the rollback's Delete carried
    # crhelper's invented id, so the handler deleted nothing
    assert_failed_create_deleted_nothing(result.requests_for(own_id), STACK, own_id, naming="SECURITY.EmailAddress")
    # AND the member account's resource, created alongside, was deleted again
    assert [r.request_type for r in result.requests_for(member_id)] == ["Create", "Delete"]
    # AND the contacts from before the stack are still there, unchanged, and nothing else is
    assert e2e.contacts() == EXISTING
    assert multi.state_is_gone()


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
def test_a_create_that_fails_half_way_puts_back_what_it_overwrote(e2e: E2e, multi: Stack, artifact: str) -> None:
    # GIVEN an account whose BILLING contact predates the stack, and a new stack declaring BILLING and SECURITY
    # whose role IAM lets write BILLING only (without, then with restore_on_delete)
    e2e.seed({(OWN, "BILLING"): EXISTING_BILLING})
    judged = e2e.judged()

    # WHEN it is deployed: the Create puts BILLING, then SECURITY is refused
    result = multi.deploy(artifact, expect="ROLLBACK_COMPLETE")

    # THEN the Create failed after writing BILLING, and put back the contact it had overwritten, from memory
    # or from its restore record; the rollback's Delete (of crhelper's id) did nothing
    calls = contact_calls(e2e.cloud, judged)
    assert wrote_then_was_refused(calls, "BILLING", "SECURITY"), calls
    create = next(r for r in result.requests if r.request_type == "Create")
    assert create.status == "FAILED" and "AccessDenied" in create.reason
    assert e2e.contacts() == {(OWN, "BILLING"): EXISTING_BILLING}
    # AND no restore record outlives the failed stack
    assert e2e.restore_records() == []


@pytest.mark.denials_expected
def test_an_update_that_fails_after_adding_a_type_puts_that_slot_back(e2e: E2e, multi: Stack) -> None:
    # GIVEN an account whose BILLING contact predates the stack, and the stack managing SECURITY and OPERATIONS
    e2e.seed({(OWN, "BILLING"): EXISTING_BILLING})
    multi.deploy("MultiBase")
    before = e2e.contacts()
    judged = e2e.judged()

    # WHEN an update adds BILLING and changes SECURITY while its policy lets the role write BILLING and
    # OPERATIONS only: the Update puts BILLING, a slot it did not manage before, then SECURITY is refused
    multi.deploy("MultiAddedDenied", expect="UPDATE_ROLLBACK_COMPLETE")

    # THEN the failed Update put BILLING back as it was, the rollback (under the old policy again) brought
    # the resource back, and the account holds exactly what it held before the update
    calls = contact_calls(e2e.cloud, judged)
    assert wrote_then_was_refused(calls, "BILLING", "SECURITY"), calls
    assert e2e.contacts() == before
    assert e2e.contacts()[(OWN, "BILLING")] == EXISTING_BILLING
