"""Failed deploys: CloudFormation rolls back, and the handler must not destroy what it does not own."""

from __future__ import annotations

import pytest
from e2e_steps import (
    EXISTING_SECURITY,
    REJECTED_EMAIL,
    E2e,
    Stack,
    assert_failed_create_deleted_nothing,
    assert_replacement_rolled_back,
)
from e2e_support import STACK, details_of, without_token

from localdeploy.report import render_operation

pytestmark = pytest.mark.e2e

OWN = "123456789012"


def test_delete_after_failed_create_keeps_existing_contact(e2e: E2e, lifecycle_stack: Stack) -> None:
    # GIVEN an account whose SECURITY contact predates the stack
    e2e.seed({(OWN, "SECURITY"): EXISTING_SECURITY})
    # AND a new stack whose SECURITY email, a parameter, is one the API rejects (synth could not check it)
    security_id, _ = lifecycle_stack.declared("E2eBadCreate", "Security")
    operations_id, _ = lifecycle_stack.declared("E2eBadCreate", "Operations")

    # WHEN the stack is deployed
    result = lifecycle_stack.deploy("E2eBadCreate", expect="ROLLBACK_COMPLETE")

    # THEN the handler failed the Create with a reason naming the field, not its value; the rollback sent a
    # Delete carrying the id crhelper invented for the failed Create, which deleted nothing
    assert_failed_create_deleted_nothing(result.requests_for(security_id), STACK, security_id, naming="EmailAddress")
    # AND `python -m localdeploy deploy` leads its report with that failure, its logical id and reason, masked
    failure = [line for line in render_operation(result) if line.startswith("  first failure:")]
    assert len(failure) == 1 and f"{security_id} (Custom::AlternateContact) CREATE_FAILED:" in failure[0], failure
    assert "EmailAddress" in failure[0] and REJECTED_EMAIL not in failure[0]
    # AND the contact created alongside it was deleted again by the rollback
    assert [r.request_type for r in result.requests_for(operations_id)] == ["Create", "Delete"]
    # AND the contact that existed before the stack survived, unchanged, and nothing else is left
    assert e2e.contacts() == {(OWN, "SECURITY"): EXISTING_SECURITY}
    # AND the failed stack left no state behind
    assert lifecycle_stack.state_is_gone()


def test_failed_update_rolls_back_every_contact_to_its_old_values(e2e: E2e, lifecycle_stack: Stack) -> None:
    # GIVEN a deployed stack with SECURITY and OPERATIONS contacts
    lifecycle_stack.deploy("E2eBase")
    security_id, security = lifecycle_stack.declared("E2eBase", "Security")
    operations_id, operations = lifecycle_stack.declared("E2eBase", "Operations")
    before = e2e.contacts()

    # WHEN an update changes OPERATIONS' title (valid) and SECURITY's email to a value the API rejects
    result = lifecycle_stack.deploy("E2eBadUpdate", expect="UPDATE_ROLLBACK_COMPLETE")

    # THEN the SECURITY Update failed, the OPERATIONS Update succeeded, and both got an Update back to
    # their old properties during the rollback
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
        e2e.contacts()
        == before
        == {
            (OWN, "SECURITY"): details_of(security),
            (OWN, "OPERATIONS"): details_of(operations),
        }
    )
    # AND the stack's state is what it was before the failed update
    state = lifecycle_stack.engine.store.load(STACK)
    assert state is not None
    assert state.status == "UPDATE_ROLLBACK_COMPLETE"
    assert without_token(state.resources[operations_id].properties) == operations


def test_rollback_of_a_replacement_restores_old_account_and_deletes_new(e2e: E2e, lifecycle_stack: Stack) -> None:
    # GIVEN a stack managing the BILLING contact of member 111111111111
    lifecycle_stack.deploy("E2eMember")
    billing_id, billing = lifecycle_stack.declared("E2eMember", "MemberBilling")
    before = e2e.contacts()
    assert ("111111111111", "BILLING") in before

    # WHEN an update moves BILLING to member 222222222222 (a replacement) while another Update fails
    result = lifecycle_stack.deploy("E2eMemberMovedBadUpdate", expect="UPDATE_ROLLBACK_COMPLETE")

    # THEN the replacement's Update succeeded, then the rollback sent an Update back to the old properties
    # addressed to the NEW identity, which answered with the old identity; so the new identity was deleted
    assert_replacement_rolled_back(result.requests_for(billing_id), "111111111111/BILLING", "222222222222/BILLING")
    assert without_token(result.requests_for(billing_id)[1].event["ResourceProperties"]) == billing
    # AND the accounts are as before the failed update: 111111111111 keeps its contact, 222222222222 has none
    assert e2e.contacts() == before
    state = lifecycle_stack.engine.store.load(STACK)
    assert state is not None
    assert state.resources[billing_id].physical_id == "111111111111/BILLING"


@pytest.mark.parametrize(
    ("artifact", "values_changed"),
    [
        pytest.param("E2eRenamedBadUpdate", False, id="the same values: the contact the old resource owns stays"),
        pytest.param("E2eRenamedChangedBadUpdate", True, id="a new title: the Delete puts back the old values"),
    ],
)
def test_rollback_of_a_rename_leaves_the_contact_as_the_old_resource_declares_it(
    e2e: E2e, lifecycle_stack: Stack, artifact: str, values_changed: bool
) -> None:
    # GIVEN a stack whose SECURITY contact is the construct "Security"
    lifecycle_stack.deploy("E2eBase")
    old_id, security = lifecycle_stack.declared("E2eBase", "Security")
    new_id, renamed = lifecycle_stack.declared(artifact, "SecurityContact")
    assert (details_of(renamed) != details_of(security)) == values_changed
    before = e2e.contacts()

    # WHEN an update renames it (the new resource is created with the same identity, putting its values on
    # the slot) and another Update fails
    result = lifecycle_stack.deploy(artifact, expect="UPDATE_ROLLBACK_COMPLETE")

    # THEN the rollback's cleanup deleted the renamed resource, whose identity the old resource still holds,
    # and never called the old one...
    assert [
        (r.phase, r.request_type, r.physical_id, r.answered_physical_id, r.status) for r in result.requests_for(new_id)
    ] == [
        ("deploy", "Create", None, f"{OWN}/SECURITY", "SUCCESS"),
        ("rollback cleanup", "Delete", f"{OWN}/SECURITY", f"{OWN}/SECURITY", "SUCCESS"),
    ]
    assert result.requests_for(old_id) == []
    # ...so the contact stays, as the old resource (back in charge) declares it: that Delete, seeing the old
    # resource claim the slot, put back its values
    assert e2e.contacts() == before
    assert e2e.contacts()[(OWN, "SECURITY")] == details_of(security)
    state = lifecycle_stack.engine.store.load(STACK)
    assert state is not None
    assert new_id not in state.resources
    assert state.resources[old_id].physical_id == f"{OWN}/SECURITY"
