"""Failed deploys: CloudFormation rolls back, and the handler must not destroy what it does not own."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from e2e_support import STACK, Assemblies, assert_answered_exactly_once, declared, details_of, explain, without_token

from localdeploy.cloud import LocalCloud
from localdeploy.contacts import Details, Slot
from localdeploy.engine import Engine
from localdeploy.report import render_operation

pytestmark = pytest.mark.e2e

OWN = "123456789012"

#: A contact the account had before any stack: the handler must never delete it on a failed Create.
EXISTING = {
    "EmailAddress": "soc.before@example.com",
    "Name": "Grace Hopper",
    "PhoneNumber": "+1 206 555 0199",
    "Title": "Security operations",
}


def test_delete_after_failed_create_keeps_existing_contact(
    engine: Engine,
    assemblies: Assemblies,
    contacts: Callable[[], dict[Slot, Details]],
    seed_contacts: Callable[[dict[Slot, Details]], None],
    cloud: LocalCloud,
) -> None:
    # GIVEN an account whose SECURITY contact predates the stack
    seed_contacts({(OWN, "SECURITY"): EXISTING})
    # AND a new stack whose SECURITY email, a parameter, is one the API rejects (synth could not check it)
    security_id, _ = declared(assemblies.lifecycle, "E2eBadCreate", "Security")
    operations_id, _ = declared(assemblies.lifecycle, "E2eBadCreate", "Operations")

    # WHEN the stack is deployed
    result = engine.deploy(assemblies.lifecycle, STACK, artifact="E2eBadCreate")

    # THEN the handler failed the Create with a reason naming the field, not its value
    assert result.status == "ROLLBACK_COMPLETE", explain(result)
    create = next(r for r in result.requests if r.logical_id == security_id and r.request_type == "Create")
    assert create.status == "FAILED"
    assert "EmailAddress" in create.reason
    assert "not-an-email-address" not in create.reason
    # AND `python -m localdeploy deploy` leads its report with that failure, its logical id and reason, masked
    failure = [line for line in render_operation(result) if line.startswith("  first failure:")]
    assert len(failure) == 1 and f"{security_id} (Custom::AlternateContact) CREATE_FAILED:" in failure[0], failure
    assert "EmailAddress" in failure[0] and "not-an-email-address" not in failure[0]
    # AND the rollback sent a Delete carrying the id crhelper invented for the failed Create
    delete = next(r for r in result.requests if r.logical_id == security_id and r.request_type == "Delete")
    assert re.fullmatch(rf"{STACK}_{security_id}_[A-Z0-9]{{8}}", str(create.answered_physical_id))
    assert (delete.phase, delete.physical_id, delete.status) == ("rollback", create.answered_physical_id, "SUCCESS")
    # AND the contact created alongside it was deleted again by the rollback
    assert [r.request_type for r in result.requests if r.logical_id == operations_id] == ["Create", "Delete"]
    # AND the contact that existed before the stack survived, unchanged, and nothing else is left
    assert contacts() == {(OWN, "SECURITY"): EXISTING}
    # AND the failed stack left no state behind
    assert engine.store.load(STACK) is None
    assert_answered_exactly_once(cloud, result)


def test_failed_update_rolls_back_every_contact_to_its_old_values(
    engine: Engine, assemblies: Assemblies, contacts: Callable[[], dict[Slot, Details]], cloud: LocalCloud
) -> None:
    # GIVEN a deployed stack with SECURITY and OPERATIONS contacts
    deployed = engine.deploy(assemblies.lifecycle, STACK, artifact="E2eBase")
    assert deployed.status == "CREATE_COMPLETE", explain(deployed)
    security_id, security = declared(assemblies.lifecycle, "E2eBase", "Security")
    operations_id, operations = declared(assemblies.lifecycle, "E2eBase", "Operations")
    before = contacts()

    # WHEN an update changes OPERATIONS' title (valid) and SECURITY's email to a value the API rejects
    result = engine.deploy(assemblies.lifecycle, STACK, artifact="E2eBadUpdate")

    # THEN the SECURITY Update failed, the OPERATIONS Update succeeded, and both got an Update back to
    # their old properties during the rollback
    assert result.status == "UPDATE_ROLLBACK_COMPLETE", explain(result)
    by_id = {
        lid: [(r.phase, r.request_type, r.status) for r in result.requests_for(lid)]
        for lid in (security_id, operations_id)
    }
    assert by_id[security_id] == [("deploy", "Update", "FAILED"), ("rollback", "Update", "SUCCESS")]
    assert by_id[operations_id] == [("deploy", "Update", "SUCCESS"), ("rollback", "Update", "SUCCESS")]
    rollback = result.requests_for(operations_id)[1]
    assert without_token(rollback.event["ResourceProperties"]) == operations
    assert rollback.event["OldResourceProperties"]["Title"] == "Head of operations"
    # AND the accounts hold the old values again
    assert (
        contacts()
        == before
        == {
            (OWN, "SECURITY"): details_of(security),
            (OWN, "OPERATIONS"): details_of(operations),
        }
    )
    # AND the stack's state is what it was before the failed update
    state = engine.store.load(STACK)
    assert state is not None
    assert state.status == "UPDATE_ROLLBACK_COMPLETE"
    assert without_token(state.resources[operations_id].properties) == operations
    assert_answered_exactly_once(cloud, deployed, result)


def test_rollback_of_a_replacement_restores_old_account_and_deletes_new(
    engine: Engine, assemblies: Assemblies, contacts: Callable[[], dict[Slot, Details]], cloud: LocalCloud
) -> None:
    # GIVEN a stack managing the BILLING contact of member 111111111111
    deployed = engine.deploy(assemblies.lifecycle, STACK, artifact="E2eMember")
    assert deployed.status == "CREATE_COMPLETE", explain(deployed)
    billing_id, billing = declared(assemblies.lifecycle, "E2eMember", "MemberBilling")
    before = contacts()
    assert ("111111111111", "BILLING") in before

    # WHEN an update moves BILLING to member 222222222222 (a replacement) while another Update fails
    result = engine.deploy(assemblies.lifecycle, STACK, artifact="E2eMemberMovedBadUpdate")

    # THEN the replacement's Update succeeded, then the rollback sent an Update back to the old properties
    # addressed to the NEW identity, which answered with the old identity; so the new identity was deleted
    assert result.status == "UPDATE_ROLLBACK_COMPLETE", explain(result)
    steps = [
        (r.phase, r.request_type, r.physical_id, r.answered_physical_id, r.status)
        for r in result.requests_for(billing_id)
    ]
    assert steps == [
        ("deploy", "Update", "111111111111/BILLING", "222222222222/BILLING", "SUCCESS"),
        ("rollback", "Update", "222222222222/BILLING", "111111111111/BILLING", "SUCCESS"),
        ("rollback cleanup", "Delete", "222222222222/BILLING", "222222222222/BILLING", "SUCCESS"),
    ]
    assert without_token(result.requests_for(billing_id)[1].event["ResourceProperties"]) == billing
    # AND the accounts are as before the failed update: 111111111111 keeps its contact, 222222222222 has none
    assert contacts() == before
    state = engine.store.load(STACK)
    assert state is not None
    assert state.resources[billing_id].physical_id == "111111111111/BILLING"
    assert_answered_exactly_once(cloud, deployed, result)


def test_rollback_of_a_rename_keeps_the_contact_the_old_resource_still_owns(
    engine: Engine, assemblies: Assemblies, contacts: Callable[[], dict[Slot, Details]], cloud: LocalCloud
) -> None:
    # GIVEN a stack whose SECURITY contact is the construct "Security"
    deployed = engine.deploy(assemblies.lifecycle, STACK, artifact="E2eBase")
    assert deployed.status == "CREATE_COMPLETE", explain(deployed)
    old_id, security = declared(assemblies.lifecycle, "E2eBase", "Security")
    new_id, _ = declared(assemblies.lifecycle, "E2eRenamedBadUpdate", "SecurityContact")
    before = contacts()

    # WHEN an update renames it (the new resource is created with the same identity) and another Update fails
    result = engine.deploy(assemblies.lifecycle, STACK, artifact="E2eRenamedBadUpdate")

    # THEN the rollback deleted the renamed resource, whose identity the old resource still holds...
    assert result.status == "UPDATE_ROLLBACK_COMPLETE", explain(result)
    steps = [
        (r.phase, r.request_type, r.physical_id, r.answered_physical_id, r.status) for r in result.requests_for(new_id)
    ]
    assert steps == [
        ("deploy", "Create", None, f"{OWN}/SECURITY", "SUCCESS"),
        ("rollback cleanup", "Delete", f"{OWN}/SECURITY", f"{OWN}/SECURITY", "SUCCESS"),
    ]
    assert result.requests_for(old_id) == []
    # ...so the contact stays, as the old resource (back in charge) declares it
    assert contacts() == before
    assert contacts()[(OWN, "SECURITY")] == details_of(security)
    state = engine.store.load(STACK)
    assert state is not None
    assert new_id not in state.resources
    assert state.resources[old_id].physical_id == f"{OWN}/SECURITY"
    assert_answered_exactly_once(cloud, deployed, result)


def test_rollback_of_a_rename_with_changed_values_leaves_the_values_the_stack_declares(
    engine: Engine, assemblies: Assemblies, contacts: Callable[[], dict[Slot, Details]], cloud: LocalCloud
) -> None:
    # GIVEN a stack whose SECURITY contact is the construct "Security"
    deployed = engine.deploy(assemblies.lifecycle, STACK, artifact="E2eBase")
    assert deployed.status == "CREATE_COMPLETE", explain(deployed)
    old_id, security = declared(assemblies.lifecycle, "E2eBase", "Security")
    new_id, renamed = declared(assemblies.lifecycle, "E2eRenamedChangedBadUpdate", "SecurityContact")
    assert details_of(renamed) != details_of(security)
    before = contacts()

    # WHEN an update renames it with a new title (the new resource puts the new values on the same slot) and
    # another Update fails
    result = engine.deploy(assemblies.lifecycle, STACK, artifact="E2eRenamedChangedBadUpdate")

    # THEN CloudFormation deleted the renamed resource in the rollback's cleanup and never called the old one;
    # that Delete, seeing the old resource claim the slot, put back the values the old resource declares
    assert result.status == "UPDATE_ROLLBACK_COMPLETE", explain(result)
    assert [(r.phase, r.request_type, r.status) for r in result.requests_for(new_id)] == [
        ("deploy", "Create", "SUCCESS"),
        ("rollback cleanup", "Delete", "SUCCESS"),
    ]
    assert result.requests_for(old_id) == []
    assert contacts() == before
    assert contacts()[(OWN, "SECURITY")] == details_of(security)
    assert_answered_exactly_once(cloud, deployed, result)
