"""The lifecycle of an alternate contact through CloudFormation, run by the synthesized asset for real.

Each test deploys synthesized templates with the local CloudFormation engine; the requests reach the
handler code in the asset under awslambdaric, and the outcome is read back from moto_server through the
Account API.
"""

from __future__ import annotations

import pytest
from e2e_steps import E2e, Stack, assert_replaced
from e2e_support import EXAMPLE, EXAMPLE_UPDATED, STACK, details_of

pytestmark = pytest.mark.e2e

OWN = "123456789012"

#: A SECURITY contact the deploying account had before any stack: restore_on_delete must put it back.
SECURITY_BEFORE = {
    "EmailAddress": "soc.before.restore@example.com",
    "Name": "Katherine Johnson",
    "PhoneNumber": "+1 757 555 0123",
    "Title": "Security operations",
}


def test_create_sets_declared_contacts_with_account_type_identity(e2e: E2e, example_stack: Stack) -> None:
    # GIVEN the three-contact example, and accounts without contacts
    security_id, security = example_stack.declared(EXAMPLE, "Security")
    operations_id, operations = example_stack.declared(EXAMPLE, "Operations")
    billing_id, billing = example_stack.declared(EXAMPLE, "MemberBilling")

    # WHEN the stack is deployed
    result = example_stack.deploy(EXAMPLE)

    # THEN each contact got one Create, answered with its <account>/<TYPE> identity
    assert result.problems == []
    answered = {r.logical_id: (r.request_type, r.status, r.answered_physical_id) for r in result.requests}
    assert answered == {
        security_id: ("Create", "SUCCESS", f"{OWN}/SECURITY"),
        operations_id: ("Create", "SUCCESS", f"{OWN}/OPERATIONS"),
        billing_id: ("Create", "SUCCESS", "111111111111/BILLING"),
    }
    # AND the Account API holds exactly the declared values, in the declared accounts
    assert e2e.contacts() == {
        (OWN, "SECURITY"): details_of(security),
        (OWN, "OPERATIONS"): details_of(operations),
        ("111111111111", "BILLING"): details_of(billing),
    }
    # AND the code that ran is the asset of the synthesized assembly
    assert [path.rsplit("/", 1)[0] for path in result.code_dirs] == [str(example_stack.assembly.directory)]


def test_update_in_place_changes_values_and_keeps_identity(e2e: E2e, example_stack: Stack) -> None:
    # GIVEN the three-contact example deployed with its defaults
    example_stack.deploy(EXAMPLE)
    security_id, old_security = example_stack.declared(EXAMPLE, "Security")
    _, new_security = example_stack.declared(EXAMPLE_UPDATED, "Security")
    operations_id, _ = example_stack.declared(EXAMPLE, "Operations")

    # WHEN it is deployed again with a new security email
    updated = example_stack.deploy(EXAMPLE_UPDATED)

    # THEN the SECURITY contact got one Update carrying the old values, answered with the same identity
    [request] = updated.requests_for(security_id)
    assert request.request_type == "Update"
    assert request.physical_id == request.answered_physical_id == f"{OWN}/SECURITY"
    assert request.event["OldResourceProperties"]["EmailAddress"] == old_security["EmailAddress"]
    # AND the contact now holds the new email
    assert e2e.contacts()[(OWN, "SECURITY")] == details_of(new_security)
    # AND the unchanged OPERATIONS contact was not touched
    assert updated.requests_for(operations_id) == []


def test_replacement_cleanup_delete_removes_old_accounts_contact(e2e: E2e, example_stack: Stack) -> None:
    # GIVEN the three-contact example deployed with the BILLING contact of member 111111111111
    example_stack.deploy(EXAMPLE)
    billing_id, old_billing = example_stack.declared(EXAMPLE, "MemberBilling")
    _, new_billing = example_stack.declared(EXAMPLE_UPDATED, "MemberBilling")

    # WHEN the contact moves to member 222222222222 (a new identity: a replacement)
    updated = example_stack.deploy(EXAMPLE_UPDATED)

    # THEN the Update was answered with the new identity, and the cleanup phase deleted the OLD identity
    # with the OLD properties
    assert_replaced(updated.requests_for(billing_id), "111111111111/BILLING", "222222222222/BILLING", old_billing)
    # AND the old account has no BILLING contact any more while the new one has the declared contact
    live = e2e.contacts()
    assert ("111111111111", "BILLING") not in live
    assert live[("222222222222", "BILLING")] == details_of(new_billing)


def test_destroy_deletes_every_managed_contact(e2e: E2e, example_stack: Stack) -> None:
    # GIVEN the three-contact example deployed
    example_stack.deploy(EXAMPLE)
    assert len(e2e.contacts()) == 3

    # WHEN the stack is destroyed
    destroyed = example_stack.destroy()

    # THEN every contact got a Delete for its identity, and none is left
    assert sorted((r.request_type, r.physical_id, r.status) for r in destroyed.requests) == [
        ("Delete", "111111111111/BILLING", "SUCCESS"),
        ("Delete", f"{OWN}/OPERATIONS", "SUCCESS"),
        ("Delete", f"{OWN}/SECURITY", "SUCCESS"),
    ]
    assert e2e.contacts() == {}
    # AND the stack is forgotten
    assert example_stack.state_is_gone()


def test_removing_a_contact_from_the_app_deletes_it_in_cleanup(e2e: E2e, lifecycle_stack: Stack) -> None:
    # GIVEN a stack with SECURITY and OPERATIONS contacts
    lifecycle_stack.deploy("E2eBase")
    operations_id, _ = lifecycle_stack.declared("E2eBase", "Operations")

    # WHEN OPERATIONS is removed from the app and the stack deployed again
    updated = lifecycle_stack.deploy("E2eSecurityOnly")

    # THEN its resource got a Delete in the cleanup phase, and only SECURITY is left
    assert [(r.phase, r.request_type, r.physical_id) for r in updated.requests] == [
        ("cleanup", "Delete", f"{OWN}/OPERATIONS")
    ]
    assert updated.requests[0].logical_id == operations_id
    assert set(e2e.contacts()) == {(OWN, "SECURITY")}


def test_rename_keeps_contact_after_cleanup_delete_of_old_logical_id(e2e: E2e, lifecycle_stack: Stack) -> None:
    # GIVEN a stack whose SECURITY contact is the construct "Security"
    lifecycle_stack.deploy("E2eBase")
    old_id, security = lifecycle_stack.declared("E2eBase", "Security")
    new_id, _ = lifecycle_stack.declared("E2eRenamed", "SecurityContact")
    calls_before = len(e2e.cloud.cfn_api.calls)

    # WHEN the construct is renamed (new logical id, same account and type) and the stack deployed again
    renamed = lifecycle_stack.deploy("E2eRenamed")

    # THEN CloudFormation created the new resource first (same identity), then deleted the old logical id
    assert [
        (r.phase, r.request_type, r.logical_id, r.physical_id, r.answered_physical_id) for r in renamed.requests
    ] == [
        ("deploy", "Create", new_id, None, f"{OWN}/SECURITY"),
        ("cleanup", "Delete", old_id, f"{OWN}/SECURITY", f"{OWN}/SECURITY"),
    ]
    assert renamed.requests[1].status == "SUCCESS"
    # AND when the handler listed the stack during that Delete, it saw the old resource DELETE_IN_PROGRESS
    # and its successor CREATE_COMPLETE with the same physical id
    [call] = [c for c in e2e.cloud.cfn_api.calls[calls_before:] if c.action == "ListStackResources"]
    assert call.view is not None
    seen = {row.logical_id: (row.physical_id, row.status) for row in call.view.resources}
    assert seen[old_id] == (f"{OWN}/SECURITY", "DELETE_IN_PROGRESS")
    assert seen[new_id] == (f"{OWN}/SECURITY", "CREATE_COMPLETE")
    # AND the contact is still there, with its values
    assert e2e.contacts()[(OWN, "SECURITY")] == details_of(security)


def test_retain_keeps_contact_after_destroy(e2e: E2e, lifecycle_stack: Stack) -> None:
    # GIVEN a stack whose SECURITY contact has RemovalPolicy.RETAIN
    lifecycle_stack.deploy("E2eRetain")
    security_id, security = lifecycle_stack.declared("E2eRetain", "Security")
    operations_id, _ = lifecycle_stack.declared("E2eRetain", "Operations")

    # WHEN the stack is destroyed
    destroyed = lifecycle_stack.destroy()

    # THEN the handler was never called for the retained contact, only for the other one
    assert [(r.request_type, r.logical_id) for r in destroyed.requests] == [("Delete", operations_id)]
    assert any(e.logical_id == security_id and e.status == "DELETE_SKIPPED" for e in destroyed.events)
    # AND the retained contact is still in the account, unchanged
    assert e2e.contacts() == {(OWN, "SECURITY"): details_of(security)}


def test_restore_on_delete_puts_back_the_contact_from_before_the_stack(e2e: E2e, lifecycle_stack: Stack) -> None:
    # GIVEN an account whose SECURITY contact predates the stack
    e2e.seed({(OWN, "SECURITY"): SECURITY_BEFORE})
    _, security = lifecycle_stack.declared("E2eRestore", "Security")

    # WHEN a stack whose SECURITY contact has restore_on_delete is deployed
    deployed = lifecycle_stack.deploy("E2eRestore")

    # THEN the declared contact replaced the old one, which the handler recorded in an encrypted parameter
    # named after the stack and the slot
    assert e2e.contacts() == {(OWN, "SECURITY"): details_of(security)}
    stack_uuid = deployed.stack_id.rsplit("/", 1)[-1]
    assert [(r["Name"], r["Type"]) for r in e2e.restore_records()] == [
        (f"/cdk-alternate-contacts/{stack_uuid}/{OWN}/SECURITY", "SecureString")
    ]

    # WHEN the stack is destroyed
    lifecycle_stack.destroy()

    # THEN the contact from before the stack is back, and the record is gone
    assert e2e.contacts() == {(OWN, "SECURITY"): SECURITY_BEFORE}
    assert e2e.restore_records() == []
    # AND the remembered contact never reached the function's log
    log = e2e.cloud.log_text()
    assert [value for value in SECURITY_BEFORE.values() if value in log] == []


@pytest.mark.denials_expected
def test_engine_runs_the_cleanup_delete_under_the_updated_policy_as_aws_does(e2e: E2e, lifecycle_stack: Stack) -> None:
    # GIVEN a stack with SECURITY and OPERATIONS, and a next version that removes OPERATIONS and, like a
    # policy derived from what the template declares, narrows the role to SECURITY
    lifecycle_stack.deploy("E2eBase")
    narrowed = lifecycle_stack.assembly.template("E2eSecurityOnlyNarrowed")
    statements = [
        s
        for r in narrowed["Resources"].values()
        if r["Type"] == "AWS::IAM::Policy"
        for s in r["Properties"]["PolicyDocument"]["Statement"]
    ]
    assert statements[1]["Condition"]["ForAllValues:StringEquals"] == {"account:AlternateContactTypes": ["SECURITY"]}
    judged = e2e.judged()

    # WHEN that version is deployed
    updated = lifecycle_stack.deploy("E2eSecurityOnlyNarrowed")

    # THEN the policy changed in the update phase, so the cleanup Delete of OPERATIONS was refused by IAM;
    # CloudFormation tried it three times, then completed the update and left the contact behind
    deletes = [r for r in updated.requests if r.request_type == "Delete"]
    assert [(r.phase, r.physical_id, r.status) for r in deletes] == [("cleanup", f"{OWN}/OPERATIONS", "FAILED")] * 3
    assert "AccessDenied" in deletes[0].reason
    assert e2e.cloud.iam is not None
    denied = [d.authorization for d in e2e.cloud.iam.decisions[judged:] if not d.allowed]
    assert denied and {d.context["account:AlternateContactTypes"][0] for d in denied} == {"OPERATIONS"}
    stack_events = [e for e in updated.events if e.logical_id == STACK and e.status == "UPDATE_COMPLETE"]
    assert stack_events[-1].reason == "Update successful. One or more resources could not be deleted."
    assert (OWN, "OPERATIONS") in e2e.contacts()


def test_changing_the_type_deletes_the_old_type_in_cleanup_under_the_new_policy(
    e2e: E2e, lifecycle_stack: Stack
) -> None:
    # GIVEN a stack with SECURITY and OPERATIONS contacts
    lifecycle_stack.deploy("E2eBase")
    operations_id, operations = lifecycle_stack.declared("E2eBase", "Operations")

    # WHEN the construct "Operations" declares BILLING instead
    updated = lifecycle_stack.deploy("E2eOperationsRetyped")

    # THEN its Update answered the new identity (a replacement), the cleanup Delete removed OPERATIONS, and the
    # account holds SECURITY and BILLING
    assert_replaced(updated.requests_for(operations_id), f"{OWN}/OPERATIONS", f"{OWN}/BILLING", operations)
    assert set(e2e.contacts()) == {(OWN, "SECURITY"), (OWN, "BILLING")}


def test_a_rename_with_changed_values_leaves_the_new_values(e2e: E2e, lifecycle_stack: Stack) -> None:
    # GIVEN a stack whose SECURITY contact is the construct "Security"
    lifecycle_stack.deploy("E2eBase")
    old_id, _ = lifecycle_stack.declared("E2eBase", "Security")
    new_id, renamed = lifecycle_stack.declared("E2eRenamedChanged", "SecurityContact")

    # WHEN it is renamed with a new title
    updated = lifecycle_stack.deploy("E2eRenamedChanged")

    # THEN the new resource put the new values, the old one's cleanup Delete saw the new claim and kept them
    assert [(r.phase, r.request_type, r.status) for r in updated.requests_for(new_id)] == [
        ("deploy", "Create", "SUCCESS")
    ]
    assert [(r.phase, r.request_type, r.status) for r in updated.requests_for(old_id)] == [
        ("cleanup", "Delete", "SUCCESS")
    ]
    assert e2e.contacts()[(OWN, "SECURITY")] == details_of(renamed)
