"""Nested stacks in the local CloudFormation engine, driven through the synthesized asset.

The versions of stack ``E2eNested`` are in tests/e2e/apps/contacts_app.py: the parent holds the provider
function and passes its ARN to the nested stack ``Members`` as a parameter, as OrganizationContacts does.
What CloudFormation does and the handler relies on: each nested stack has its own StackId (the events of
its resources carry it, and a Delete lists that stack's resources, not the parent's); an updated nested
stack's cleanup waits for the top-level stack's cleanup phase, so a failure anywhere rolls it back; a
failed nested stack rolls itself back and fails its resource in the parent.
"""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from e2e_steps import E2e, Stack, assert_failed_create_deleted_nothing, assert_replaced, assert_replacement_rolled_back
from e2e_support import slots_of

from localdeploy.cloud import LocalCloud
from localdeploy.engine import OperationResult

pytestmark = pytest.mark.e2e

STACK = "E2eNested"
OWN = "123456789012"
NESTED = "AWS::CloudFormation::Stack"

#: A SECURITY contact member 111111111111 had before any stack: a failed nested create must leave it.
EXISTING = {
    "EmailAddress": "soc.before.nested@example.com",
    "Name": "Melba Roy Mouton",
    "PhoneNumber": "+1 757 555 0192",
    "Title": "Security operations",
}


def nested_resource(result: OperationResult) -> tuple[str, str]:
    """The logical id of the parent's nested stack resource, and the nested stack's name."""
    [name] = [n for n in result.stacks if n != STACK]
    [logical_id] = {
        e.logical_id for e in result.events_of(STACK) if e.resource_type == NESTED and e.logical_id != STACK
    }
    return logical_id, name


@pytest.fixture
def nested(e2e: E2e) -> Stack:
    """Stack ``E2eNested``, its versions in contacts_app.py."""
    return e2e.stack(STACK, e2e.assemblies.contacts)


def stack_statuses(result: OperationResult, stack_name: str) -> list[str]:
    """The statuses a stack went through, in order."""
    return [e.status for e in result.events_of(stack_name) if e.logical_id == stack_name]


def cloudformation(cloud: LocalCloud) -> Any:
    """An unmodified boto3 client of the local CloudFormation API."""
    return boto3.client(
        "cloudformation",
        endpoint_url=cloud.cfn_api.endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def test_nested_stack_is_a_stack_of_its_own_fed_by_parameters_read_through_outputs(e2e: E2e, nested: Stack) -> None:
    # GIVEN a parent whose provider function serves a nested stack's contacts too
    _, own = nested.declared_contacts("NestedBase", "Own")
    member_id, member = nested.declared_contacts("NestedBase", "Member")

    # WHEN it is deployed
    deployed = nested.deploy("NestedBase")

    # THEN both stacks were created, the nested one named <parent>-<logical id>-<suffix>
    logical_id, name = nested_resource(deployed)
    assert name.startswith(f"{STACK}-{logical_id}-")
    assert deployed.stacks == {STACK: "CREATE_COMPLETE", name: "CREATE_COMPLETE"}
    nested_state = e2e.engine.store.load(name)
    parent_state = e2e.engine.store.load(STACK)
    assert nested_state is not None and parent_state is not None
    # AND the nested stack's id is its resource's physical id in the parent, and is not the parent's
    assert parent_state.resources[logical_id].physical_id == nested_state.stack_id != deployed.stack_id
    assert nested_state.parent_id == deployed.stack_id
    # AND the nested Create carried the nested StackId and the parent's function ARN, passed as a parameter
    [create] = deployed.requests_for(member_id)
    function = parent_state.resources["CdkAlternateContactsProviderFunction25138139"]
    assert create.stack_id == nested_state.stack_id
    assert create.event["ServiceToken"] == f"arn:aws:lambda:us-east-1:{OWN}:function:{function.physical_id}"
    assert create.stack_path == logical_id
    # AND the nested stack's events carry its own StackId; it completed before its resource in the parent
    assert {e.stack_id for e in deployed.events_of(name)} == {nested_state.stack_id}
    parent_events = [(e.logical_id, e.status) for e in deployed.events_of(STACK)]
    assert parent_events.index((logical_id, "CREATE_IN_PROGRESS")) > parent_events.index(
        ("CdkAlternateContactsProviderFunction25138139", "CREATE_COMPLETE")
    )
    assert max(e.timestamp for e in deployed.events_of(name)) <= next(
        e.timestamp for e in deployed.events_of(STACK) if (e.logical_id, e.status) == (logical_id, "CREATE_COMPLETE")
    )
    # AND the parent's output read the nested stack's output (Fn::GetAtt <Nested>.Outputs.<Name>)
    assert deployed.outputs == {"MemberIdentity": "111111111111/BILLING+SECURITY"}
    # AND ListStackResources of the nested stack lists its own resources only
    listed = cloudformation(e2e.cloud).list_stack_resources(StackName=nested_state.stack_id)["StackResourceSummaries"]
    assert {r["LogicalResourceId"] for r in listed} == {member_id, "CDKMetadata"}
    assert e2e.contacts() == {**slots_of(own), **slots_of(member)}

    # WHEN the stack is destroyed
    destroyed = nested.destroy()

    # THEN the nested stack and its contacts went first, then the function they depend on
    assert destroyed.stacks == {STACK: "DELETE_COMPLETE", name: "DELETE_COMPLETE"}
    [delete] = destroyed.requests_for(member_id)
    assert (delete.stack_id, delete.physical_id, delete.status) == (
        nested_state.stack_id,
        "111111111111/BILLING+SECURITY",
        "SUCCESS",
    )
    parent_events = [(e.logical_id, e.status) for e in destroyed.events_of(STACK)]
    assert parent_events.index((logical_id, "DELETE_COMPLETE")) < parent_events.index(
        ("CdkAlternateContactsProviderFunction25138139", "DELETE_IN_PROGRESS")
    )
    assert e2e.contacts() == {}
    assert e2e.engine.store.load(name) is None
    assert nested.state_is_gone()


def test_nested_update_leaves_its_cleanup_to_the_top_level_cleanup_phase(e2e: E2e, nested: Stack) -> None:
    # GIVEN the stack deployed with member 111111111111 in its nested stack
    _, name = nested_resource(nested.deploy("NestedBase"))
    member_id, old_member = nested.declared_contacts("NestedBase", "Member")
    _, new_member = nested.declared_contacts("NestedMoved", "Member")
    extra_id, extra = nested.declared_contacts("NestedMoved", "Extra")
    _, own = nested.declared_contacts("NestedMoved", "Own")
    calls_before = len(e2e.cloud.cfn_api.calls)

    # WHEN the nested stack's member moves to 222222222222 (a replacement) and gains an account
    updated = nested.deploy("NestedMoved")

    # THEN the nested stack was updated in place, waited in UPDATE_COMPLETE_CLEANUP_IN_PROGRESS, and
    # completed in the top-level stack's cleanup phase, where the member's old identity was deleted
    assert stack_statuses(updated, name) == [
        "UPDATE_IN_PROGRESS",
        "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS",
        "UPDATE_COMPLETE",
    ]
    moved = updated.requests_for(member_id)
    assert_replaced(moved, "111111111111/BILLING+SECURITY", "222222222222/BILLING+SECURITY", old_member)
    # AND the cleanup Delete was sent only after the parent's resources had all completed
    parent_cleanup = next(
        e.timestamp
        for e in updated.events_of(STACK)
        if (e.logical_id, e.status) == (STACK, "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS")
    )
    assert moved[1].sent_at >= parent_cleanup
    # AND the handler read the whole app: the root stack, then the nested stack (its own StackId, which the
    # event carried), where it saw the new identity
    nested_state = e2e.engine.store.load(name)
    assert nested_state is not None
    assert moved[1].stack_id == nested_state.stack_id
    listed = [c for c in e2e.cloud.cfn_api.calls[calls_before:] if c.action == "ListStackResources"]
    assert [c.view.stack_name for c in listed if c.view is not None] == [STACK, name]
    call = listed[1]
    assert call.view is not None
    seen = {row.logical_id: (row.physical_id, row.status) for row in call.view.resources}
    assert seen[member_id] == ("222222222222/BILLING+SECURITY", "UPDATE_COMPLETE")
    assert seen[extra_id] == ("333333333333/OPERATIONS", "CREATE_COMPLETE")
    # AND the parent's output follows the nested stack's, and the accounts hold what the new version declares
    assert updated.outputs == {"MemberIdentity": "222222222222/BILLING+SECURITY"}
    assert e2e.contacts() == {**slots_of(own), **slots_of(new_member), **slots_of(extra)}


def test_failed_parent_update_rolls_back_a_nested_stack_that_had_succeeded(e2e: E2e, nested: Stack) -> None:
    # GIVEN the stack deployed with member 111111111111 in its nested stack
    _, name = nested_resource(nested.deploy("NestedBase"))
    member_id, _ = nested.declared_contacts("NestedMovedBadUpdate", "Member")
    extra_id, _ = nested.declared_contacts("NestedMovedBadUpdate", "Extra")
    before = e2e.contacts()

    # WHEN the nested stack's update succeeds (the member moves, an account is added) while the parent's
    # own resource fails (an email the API rejects)
    result = nested.deploy("NestedMovedBadUpdate", expect="UPDATE_ROLLBACK_COMPLETE")

    # THEN the top-level stack rolled back, and with it the nested stack, whose cleanup had not run
    assert stack_statuses(result, name) == [
        "UPDATE_IN_PROGRESS",
        "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS",
        "UPDATE_ROLLBACK_IN_PROGRESS",
        "UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS",
        "UPDATE_ROLLBACK_COMPLETE",
    ]
    assert_replacement_rolled_back(
        result.requests_for(member_id), "111111111111/BILLING+SECURITY", "222222222222/BILLING+SECURITY"
    )
    assert [(r.phase, r.request_type) for r in result.requests_for(extra_id)] == [
        ("deploy", "Create"),
        ("rollback cleanup", "Delete"),
    ]
    assert not [r for r in result.requests if r.phase == "cleanup"]
    # AND the accounts are as before: 111111111111 kept its contacts throughout, the others have none
    assert e2e.contacts() == before
    state = e2e.engine.store.load(name)
    assert state is not None
    assert state.status == "UPDATE_ROLLBACK_COMPLETE"
    assert state.resources[member_id].physical_id == "111111111111/BILLING+SECURITY"
    assert extra_id not in state.resources


def test_failed_nested_create_rolls_itself_back_then_the_parent(e2e: E2e, nested: Stack) -> None:
    # GIVEN a member account whose SECURITY contact predates the stack
    e2e.seed({("111111111111", "SECURITY"): EXISTING})
    member_id, _ = nested.declared_contacts("NestedBadCreate", "Member")
    own_id, _ = nested.declared_contacts("NestedBadCreate", "Own")

    # WHEN a new stack is deployed whose nested stack's resource has an email the API rejects
    result = nested.deploy("NestedBadCreate", expect="ROLLBACK_COMPLETE")

    # THEN the nested stack rolled itself back, its resource failed in the parent naming it, and the
    # parent rolled back, deleting the nested stack
    logical_id, name = nested_resource(result)
    assert stack_statuses(result, name) == [
        "CREATE_IN_PROGRESS",
        "ROLLBACK_IN_PROGRESS",
        "ROLLBACK_COMPLETE",
        "DELETE_IN_PROGRESS",
        "DELETE_COMPLETE",
    ]
    [failure] = [e for e in result.events_of(STACK) if (e.logical_id, e.status) == (logical_id, "CREATE_FAILED")]
    assert failure.reason.startswith("Embedded stack arn:aws:cloudformation:")
    assert f"The following resource(s) failed to create: [{member_id}]." in failure.reason
    # AND the failed Create's rollback Delete (crhelper's id, of the nested stack) deleted nothing; the
    # parent's own went too
    assert_failed_create_deleted_nothing(result.requests_for(member_id), name, member_id, naming="BILLING.EmailAddress")
    assert [r.request_type for r in result.requests_for(own_id)] == ["Create", "Delete"]
    # AND the contact from before the stack is still there, and nothing else; no state is left
    assert e2e.contacts() == {("111111111111", "SECURITY"): EXISTING}
    assert nested.state_is_gone()
    assert e2e.engine.store.load(name) is None


def test_removing_a_nested_stack_deletes_its_contacts_in_the_cleanup_phase(e2e: E2e, nested: Stack) -> None:
    # GIVEN the stack deployed with its nested stack
    logical_id, name = nested_resource(nested.deploy("NestedBase"))
    member_id, _ = nested.declared_contacts("NestedBase", "Member")
    _, own = nested.declared_contacts("NestedRemoved", "Own")

    # WHEN the nested stack is removed from the app
    updated = nested.deploy("NestedRemoved")

    # THEN the nested stack was deleted in the cleanup phase, its contacts with it
    assert [(r.phase, r.request_type, r.physical_id) for r in updated.requests] == [
        ("cleanup", "Delete", "111111111111/BILLING+SECURITY")
    ]
    assert updated.requests_for(member_id)[0].stack_id != updated.stack_id
    assert stack_statuses(updated, name) == ["DELETE_IN_PROGRESS", "DELETE_COMPLETE"]
    state = e2e.engine.store.load(STACK)
    assert state is not None and logical_id not in state.resources
    assert e2e.engine.store.load(name) is None
    assert e2e.contacts() == slots_of(own)
