"""A rolled-back rename with changed values leaves the values of the resource that remains (issue 8 item 5).

A rename creates the new logical id first (with the new values), and deletes the old one in cleanup.
Rolled back, CloudFormation deletes the new resource and does not call the old one at all. The Delete
then reads the remaining resource's values from its stack's template (GetTemplate) and puts them.

moto's Account API in-process; CloudFormation (DescribeStacks, ListStackResources, GetTemplate) stubbed with
botocore's Stubber: moto holds no stack of the handler's.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.stub import Stubber
from cfn_events import DETAILS, OWN_ACCOUNT, STACK_ID, FakeTime, event, live, properties, stack_resources

from cdk_alternate_contacts_handler import lifecycle
from cdk_alternate_contacts_handler.claims import declared_in_template
from cdk_alternate_contacts_handler.clients import Clients
from cdk_alternate_contacts_handler.retry import Deadline

PHYSICAL = f"{OWN_ACCOUNT}/SECURITY"
NEW = {**DETAILS, "EmailAddress": "soc-lead@example.com", "Title": "SOC lead"}


def expect_stack(stubber: Stubber, status: str, *entries: tuple[str, str, str]) -> None:
    stack = {
        "StackName": "Contacts",
        "StackId": STACK_ID,
        "CreationTime": "2026-11-22T00:00:00Z",
        "StackStatus": status,
    }
    stubber.add_response("describe_stacks", {"Stacks": [stack]}, {"StackName": STACK_ID})
    stubber.add_response("list_stack_resources", stack_resources(*entries), {"StackName": STACK_ID})


def template_of(old_properties: dict[str, Any]) -> dict[str, Any]:
    """The template rolled back to: the old logical id, as CDK writes it (the service token is a reference)."""
    props = {**old_properties, "ServiceToken": {"Fn::GetAtt": ["ProviderFunction", "Arn"]}}
    body = {"Resources": {"SecurityContact": {"Type": "Custom::AlternateContact", "Properties": props}}}
    return {"TemplateBody": json.dumps(body)}


def renamed_and_rolled_back(clients: Clients, fake_time: FakeTime) -> dict[str, Any]:
    """SecurityContact (DETAILS) renamed to Renamed with NEW values; the Create of Renamed wrote NEW."""
    lifecycle.create(event("Create", properties("SECURITY")), clients, fake_time.deadline())
    renamed = event("Create", properties("SECURITY", **NEW), logical_id="Renamed")
    lifecycle.create(renamed, clients, fake_time.deadline())
    assert live(clients.account, "SECURITY") == NEW
    return event("Delete", properties("SECURITY", **NEW), physical_id=PHYSICAL, logical_id="Renamed")


ROLLBACK_CLEANUP = "UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS"
LISTING = (("SecurityContact", PHYSICAL, "UPDATE_COMPLETE"), ("Renamed", PHYSICAL, "DELETE_IN_PROGRESS"))


def test_rolled_back_rename_puts_back_the_values_of_the_resource_that_remains(
    clients: Clients, cloudformation: tuple[Any, Stubber], fake_time: FakeTime
) -> None:
    # GIVEN a rename with changed values, rolled back: the new resource's Delete comes in the rollback cleanup
    delete = renamed_and_rolled_back(clients, fake_time)
    expect_stack(cloudformation[1], ROLLBACK_CLEANUP, *LISTING)
    cloudformation[1].add_response(
        "get_template", template_of(properties("SECURITY")), {"StackName": STACK_ID, "TemplateStage": "Original"}
    )
    # WHEN it runs
    lifecycle.delete(delete, clients, fake_time.deadline())
    # THEN the account holds what the remaining resource declares
    assert live(clients.account, "SECURITY") == DETAILS


def test_forward_rename_reads_no_template(
    clients: Clients, cloudformation: tuple[Any, Stubber], fake_time: FakeTime
) -> None:
    # GIVEN a rename with unchanged values, going forward: the old resource's cleanup Delete
    lifecycle.create(event("Create", properties("SECURITY")), clients, fake_time.deadline())
    lifecycle.create(event("Create", properties("SECURITY"), logical_id="Renamed"), clients, fake_time.deadline())
    expect_stack(
        cloudformation[1],
        "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS",
        ("SecurityContact", PHYSICAL, "DELETE_IN_PROGRESS"),
        ("Renamed", PHYSICAL, "CREATE_COMPLETE"),
    )
    # WHEN it runs (no GetTemplate is stubbed: a call would fail the test)
    lifecycle.delete(event("Delete", properties("SECURITY"), physical_id=PHYSICAL), clients, fake_time.deadline())
    # THEN the renamed resource keeps the contact
    assert live(clients.account, "SECURITY") == DETAILS


def test_rolled_back_rename_with_values_that_are_not_literal_leaves_the_slot_and_says_so(
    clients: Clients, cloudformation: tuple[Any, Stubber], fake_time: FakeTime
) -> None:
    # GIVEN the remaining resource's email comes from a parameter (its value is not in the template)
    delete = renamed_and_rolled_back(clients, fake_time)
    expect_stack(cloudformation[1], ROLLBACK_CLEANUP, *LISTING)
    old = {**properties("SECURITY"), "EmailAddress": {"Ref": "SecurityEmail"}}
    cloudformation[1].add_response("get_template", template_of(old))
    # WHEN the Delete runs
    lifecycle.delete(delete, clients, fake_time.deadline())
    # THEN the slot is left as it is, and the reason says why
    assert live(clients.account, "SECURITY") == NEW
    assert "not literal" in clients.notes[0]


def test_rolled_back_rename_without_get_template_permission_answers_success_with_a_note(
    clients: Clients, cloudformation: tuple[Any, Stubber], fake_time: FakeTime
) -> None:
    delete = renamed_and_rolled_back(clients, fake_time)
    expect_stack(cloudformation[1], ROLLBACK_CLEANUP, *LISTING)
    cloudformation[1].add_client_error("get_template", "AccessDenied", "not authorized", 403)
    settled = Deadline(fake_time.remaining_ms, clock=lambda: fake_time.now, access_denied_grace_s=0.0)
    lifecycle.delete(delete, clients, settled)
    assert live(clients.account, "SECURITY") == NEW
    assert "not checked" in clients.notes[0]


@pytest.mark.parametrize("kind", ["yaml", "no-resource", "other-type"])
def test_unusable_templates_give_no_values(kind: str, fake_time: FakeTime, cloudformation: tuple[Any, Stubber]) -> None:
    client, stubber = cloudformation
    body: Any = {
        "yaml": "Resources:\n  SecurityContact: {}\n",
        "no-resource": json.dumps({"Resources": {}}),
        "other-type": json.dumps(
            {
                "Resources": {
                    "SecurityContact": {"Type": "Custom::AlternateContact", "Properties": properties("BILLING")}
                }
            }
        ),
    }[kind]
    stubber.add_response("get_template", {"TemplateBody": body})
    found = declared_in_template(
        client, STACK_ID, "SecurityContact", "SECURITY", deadline=fake_time.deadline(), policy=fake_time.policy()
    )
    assert found is None
