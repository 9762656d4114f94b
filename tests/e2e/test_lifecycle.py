"""The lifecycle of an alternate contact through CloudFormation, run by the synthesized asset for real.

Each test deploys synthesized templates with the local CloudFormation engine; the requests reach the
handler code in the asset under awslambdaric, and the outcome is read back from moto_server through the
Account API.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from e2e_support import (
    EXAMPLE,
    EXAMPLE_STACK,
    EXAMPLE_UPDATED,
    STACK,
    Assemblies,
    assert_answered_exactly_once,
    declared,
    details_of,
    explain,
    without_token,
)

from localdeploy.cloud import LocalCloud
from localdeploy.contacts import Details, Slot
from localdeploy.engine import Engine

pytestmark = pytest.mark.e2e

OWN = "123456789012"


def test_create_sets_declared_contacts_with_account_type_identity(
    engine: Engine, assemblies: Assemblies, contacts: Callable[[], dict[Slot, Details]], cloud: LocalCloud
) -> None:
    # GIVEN the three-contact example, and accounts without contacts
    example = assemblies.lifecycle
    security_id, security = declared(example, EXAMPLE, "Security")
    operations_id, operations = declared(example, EXAMPLE, "Operations")
    billing_id, billing = declared(example, EXAMPLE, "MemberBilling")

    # WHEN the stack is deployed
    result = engine.deploy(example, EXAMPLE_STACK, artifact=EXAMPLE)

    # THEN each contact got one Create, answered with its <account>/<TYPE> identity
    assert result.status == "CREATE_COMPLETE", explain(result)
    assert result.problems == []
    answered = {r.logical_id: (r.request_type, r.status, r.answered_physical_id) for r in result.requests}
    assert answered == {
        security_id: ("Create", "SUCCESS", f"{OWN}/SECURITY"),
        operations_id: ("Create", "SUCCESS", f"{OWN}/OPERATIONS"),
        billing_id: ("Create", "SUCCESS", "111111111111/BILLING"),
    }
    # AND the Account API holds exactly the declared values, in the declared accounts
    assert contacts() == {
        (OWN, "SECURITY"): details_of(security),
        (OWN, "OPERATIONS"): details_of(operations),
        ("111111111111", "BILLING"): details_of(billing),
    }
    # AND the code that ran is the asset of the synthesized assembly
    assert [path.rsplit("/", 1)[0] for path in result.code_dirs] == [str(example.directory)]
    assert_answered_exactly_once(cloud, result)


def test_update_in_place_changes_values_and_keeps_identity(
    engine: Engine, assemblies: Assemblies, contacts: Callable[[], dict[Slot, Details]], cloud: LocalCloud
) -> None:
    # GIVEN the three-contact example deployed with its defaults
    deployed = engine.deploy(assemblies.lifecycle, EXAMPLE_STACK, artifact=EXAMPLE)
    assert deployed.status == "CREATE_COMPLETE", explain(deployed)
    security_id, old_security = declared(assemblies.lifecycle, EXAMPLE, "Security")
    _, new_security = declared(assemblies.lifecycle, EXAMPLE_UPDATED, "Security")
    operations_id, _ = declared(assemblies.lifecycle, EXAMPLE, "Operations")

    # WHEN it is deployed again with a new security email
    updated = engine.deploy(assemblies.lifecycle, EXAMPLE_STACK, artifact=EXAMPLE_UPDATED)

    # THEN the SECURITY contact got one Update carrying the old values, answered with the same identity
    assert updated.status == "UPDATE_COMPLETE", explain(updated)
    [request] = updated.requests_for(security_id)
    assert request.request_type == "Update"
    assert request.physical_id == request.answered_physical_id == f"{OWN}/SECURITY"
    assert request.event["OldResourceProperties"]["EmailAddress"] == old_security["EmailAddress"]
    # AND the contact now holds the new email
    assert contacts()[(OWN, "SECURITY")] == details_of(new_security)
    # AND the unchanged OPERATIONS contact was not touched
    assert updated.requests_for(operations_id) == []
    assert_answered_exactly_once(cloud, deployed, updated)


def test_replacement_cleanup_delete_removes_old_accounts_contact(
    engine: Engine, assemblies: Assemblies, contacts: Callable[[], dict[Slot, Details]], cloud: LocalCloud
) -> None:
    # GIVEN the three-contact example deployed with the BILLING contact of member 111111111111
    deployed = engine.deploy(assemblies.lifecycle, EXAMPLE_STACK, artifact=EXAMPLE)
    assert deployed.status == "CREATE_COMPLETE", explain(deployed)
    billing_id, old_billing = declared(assemblies.lifecycle, EXAMPLE, "MemberBilling")
    _, new_billing = declared(assemblies.lifecycle, EXAMPLE_UPDATED, "MemberBilling")

    # WHEN the contact moves to member 222222222222 (a new identity: a replacement)
    updated = engine.deploy(assemblies.lifecycle, EXAMPLE_STACK, artifact=EXAMPLE_UPDATED)

    # THEN the Update was answered with the new identity, and the cleanup phase deleted the OLD identity
    # with the OLD properties
    assert updated.status == "UPDATE_COMPLETE", explain(updated)
    update, delete = updated.requests_for(billing_id)
    assert (update.phase, update.request_type, update.physical_id, update.answered_physical_id) == (
        "deploy",
        "Update",
        "111111111111/BILLING",
        "222222222222/BILLING",
    )
    assert (delete.phase, delete.request_type, delete.physical_id, delete.status) == (
        "cleanup",
        "Delete",
        "111111111111/BILLING",
        "SUCCESS",
    )
    assert without_token(delete.event["ResourceProperties"]) == old_billing
    # AND the old account has no BILLING contact any more while the new one has the declared contact
    live = contacts()
    assert ("111111111111", "BILLING") not in live
    assert live[("222222222222", "BILLING")] == details_of(new_billing)
    assert_answered_exactly_once(cloud, deployed, updated)


def test_destroy_deletes_every_managed_contact(
    engine: Engine, assemblies: Assemblies, contacts: Callable[[], dict[Slot, Details]], cloud: LocalCloud
) -> None:
    # GIVEN the three-contact example deployed
    deployed = engine.deploy(assemblies.lifecycle, EXAMPLE_STACK, artifact=EXAMPLE)
    assert deployed.status == "CREATE_COMPLETE", explain(deployed)
    assert len(contacts()) == 3

    # WHEN the stack is destroyed
    destroyed = engine.destroy(EXAMPLE_STACK)

    # THEN every contact got a Delete for its identity, and none is left
    assert destroyed.status == "DELETE_COMPLETE", explain(destroyed)
    assert sorted((r.request_type, r.physical_id, r.status) for r in destroyed.requests) == [
        ("Delete", "111111111111/BILLING", "SUCCESS"),
        ("Delete", f"{OWN}/OPERATIONS", "SUCCESS"),
        ("Delete", f"{OWN}/SECURITY", "SUCCESS"),
    ]
    assert contacts() == {}
    # AND the stack is forgotten
    assert engine.store.load(EXAMPLE_STACK) is None
    assert_answered_exactly_once(cloud, deployed, destroyed)


def test_removing_a_contact_from_the_app_deletes_it_in_cleanup(
    engine: Engine, assemblies: Assemblies, contacts: Callable[[], dict[Slot, Details]], cloud: LocalCloud
) -> None:
    # GIVEN a stack with SECURITY and OPERATIONS contacts
    deployed = engine.deploy(assemblies.lifecycle, STACK, artifact="E2eBase")
    assert deployed.status == "CREATE_COMPLETE", explain(deployed)
    operations_id, _ = declared(assemblies.lifecycle, "E2eBase", "Operations")

    # WHEN OPERATIONS is removed from the app and the stack deployed again
    updated = engine.deploy(assemblies.lifecycle, STACK, artifact="E2eSecurityOnly")

    # THEN its resource got a Delete in the cleanup phase, and only SECURITY is left
    assert updated.status == "UPDATE_COMPLETE", explain(updated)
    assert [(r.phase, r.request_type, r.physical_id) for r in updated.requests] == [
        ("cleanup", "Delete", f"{OWN}/OPERATIONS")
    ]
    assert updated.requests[0].logical_id == operations_id
    assert set(contacts()) == {(OWN, "SECURITY")}
    assert_answered_exactly_once(cloud, deployed, updated)


def test_rename_keeps_contact_after_cleanup_delete_of_old_logical_id(
    engine: Engine, assemblies: Assemblies, contacts: Callable[[], dict[Slot, Details]], cloud: LocalCloud
) -> None:
    # GIVEN a stack whose SECURITY contact is the construct "Security"
    deployed = engine.deploy(assemblies.lifecycle, STACK, artifact="E2eBase")
    assert deployed.status == "CREATE_COMPLETE", explain(deployed)
    old_id, security = declared(assemblies.lifecycle, "E2eBase", "Security")
    new_id, _ = declared(assemblies.lifecycle, "E2eRenamed", "SecurityContact")
    calls_before = len(cloud.cfn_api.calls)

    # WHEN the construct is renamed (new logical id, same account and type) and the stack deployed again
    renamed = engine.deploy(assemblies.lifecycle, STACK, artifact="E2eRenamed")

    # THEN CloudFormation created the new resource first (same identity), then deleted the old logical id
    assert renamed.status == "UPDATE_COMPLETE", explain(renamed)
    assert [
        (r.phase, r.request_type, r.logical_id, r.physical_id, r.answered_physical_id) for r in renamed.requests
    ] == [
        ("deploy", "Create", new_id, None, f"{OWN}/SECURITY"),
        ("cleanup", "Delete", old_id, f"{OWN}/SECURITY", f"{OWN}/SECURITY"),
    ]
    assert renamed.requests[1].status == "SUCCESS"
    # AND when the handler listed the stack during that Delete, it saw the old resource DELETE_IN_PROGRESS
    # and its successor CREATE_COMPLETE with the same physical id
    [call] = [c for c in cloud.cfn_api.calls[calls_before:] if c.action == "ListStackResources"]
    assert call.view is not None
    seen = {row.logical_id: (row.physical_id, row.status) for row in call.view.resources}
    assert seen[old_id] == (f"{OWN}/SECURITY", "DELETE_IN_PROGRESS")
    assert seen[new_id] == (f"{OWN}/SECURITY", "CREATE_COMPLETE")
    # AND the contact is still there, with its values
    assert contacts()[(OWN, "SECURITY")] == details_of(security)
    assert_answered_exactly_once(cloud, deployed, renamed)


def test_retain_keeps_contact_after_destroy(
    engine: Engine, assemblies: Assemblies, contacts: Callable[[], dict[Slot, Details]], cloud: LocalCloud
) -> None:
    # GIVEN a stack whose SECURITY contact has RemovalPolicy.RETAIN
    deployed = engine.deploy(assemblies.lifecycle, STACK, artifact="E2eRetain")
    assert deployed.status == "CREATE_COMPLETE", explain(deployed)
    security_id, security = declared(assemblies.lifecycle, "E2eRetain", "Security")
    operations_id, _ = declared(assemblies.lifecycle, "E2eRetain", "Operations")

    # WHEN the stack is destroyed
    destroyed = engine.destroy(STACK)

    # THEN the handler was never called for the retained contact, only for the other one
    assert destroyed.status == "DELETE_COMPLETE", explain(destroyed)
    assert [(r.request_type, r.logical_id) for r in destroyed.requests] == [("Delete", operations_id)]
    assert any(e.logical_id == security_id and e.status == "DELETE_SKIPPED" for e in destroyed.events)
    # AND the retained contact is still in the account, unchanged
    assert contacts() == {(OWN, "SECURITY"): details_of(security)}
    assert_answered_exactly_once(cloud, deployed, destroyed)


def test_restore_on_delete_puts_back_the_contact_from_before_the_stack(
    engine: Engine,
    assemblies: Assemblies,
    contacts: Callable[[], dict[Slot, Details]],
    seed_contacts: Callable[[dict[Slot, Details]], None],
    cloud: LocalCloud,
) -> None:
    # GIVEN an account whose SECURITY contact predates the stack
    before = {
        "EmailAddress": "soc.before.restore@example.com",
        "Name": "Katherine Johnson",
        "PhoneNumber": "+1 757 555 0123",
        "Title": "Security operations",
    }
    seed_contacts({(OWN, "SECURITY"): before})
    _, security = declared(assemblies.lifecycle, "E2eRestore", "Security")
    ssm = cloud.client("ssm")

    # WHEN a stack whose SECURITY contact has restore_on_delete is deployed
    deployed = engine.deploy(assemblies.lifecycle, STACK, artifact="E2eRestore")

    # THEN the declared contact replaced the old one, which the handler recorded in an encrypted parameter
    # named after the stack and the slot
    assert deployed.status == "CREATE_COMPLETE", explain(deployed)
    assert contacts() == {(OWN, "SECURITY"): details_of(security)}
    stack_uuid = deployed.stack_id.rsplit("/", 1)[-1]
    records = ssm.get_parameters_by_path(Path="/cdk-alternate-contacts", Recursive=True)["Parameters"]
    assert [(r["Name"], r["Type"]) for r in records] == [
        (f"/cdk-alternate-contacts/{stack_uuid}/{OWN}/SECURITY", "SecureString")
    ]

    # WHEN the stack is destroyed
    destroyed = engine.destroy(STACK)

    # THEN the contact from before the stack is back, and the record is gone
    assert destroyed.status == "DELETE_COMPLETE", explain(destroyed)
    assert contacts() == {(OWN, "SECURITY"): before}
    assert ssm.get_parameters_by_path(Path="/cdk-alternate-contacts", Recursive=True)["Parameters"] == []
    # AND the remembered contact never reached the function's log
    log = cloud.log_text()
    assert [value for value in before.values() if value in log] == []
    assert_answered_exactly_once(cloud, deployed, destroyed)


@pytest.mark.denials_expected
def test_engine_runs_the_cleanup_delete_under_the_updated_policy_as_aws_does(
    engine: Engine, assemblies: Assemblies, contacts: Callable[[], dict[Slot, Details]], cloud: LocalCloud
) -> None:
    # GIVEN a stack with SECURITY and OPERATIONS, and a next version that removes OPERATIONS and, like a
    # policy derived from what the template declares, narrows the role to SECURITY
    deployed = engine.deploy(assemblies.lifecycle, STACK, artifact="E2eBase")
    assert deployed.status == "CREATE_COMPLETE", explain(deployed)
    narrowed = assemblies.lifecycle.template("E2eSecurityOnlyNarrowed")
    statements = [
        s
        for r in narrowed["Resources"].values()
        if r["Type"] == "AWS::IAM::Policy"
        for s in r["Properties"]["PolicyDocument"]["Statement"]
    ]
    assert statements[1]["Condition"]["ForAllValues:StringEquals"] == {"account:AlternateContactTypes": ["SECURITY"]}
    assert cloud.iam is not None
    judged = len(cloud.iam.decisions)

    # WHEN that version is deployed
    updated = engine.deploy(assemblies.lifecycle, STACK, artifact="E2eSecurityOnlyNarrowed")

    # THEN the policy changed in the update phase, so the cleanup Delete of OPERATIONS was refused by IAM;
    # CloudFormation tried it three times, then completed the update and left the contact behind
    deletes = [r for r in updated.requests if r.request_type == "Delete"]
    assert [(r.phase, r.physical_id, r.status) for r in deletes] == [("cleanup", f"{OWN}/OPERATIONS", "FAILED")] * 3
    assert "AccessDenied" in deletes[0].reason
    denied = [d.authorization for d in cloud.iam.decisions[judged:] if not d.allowed]
    assert denied and {d.context["account:AlternateContactTypes"][0] for d in denied} == {"OPERATIONS"}
    assert updated.status == "UPDATE_COMPLETE"
    stack_events = [e for e in updated.events if e.logical_id == STACK and e.status == "UPDATE_COMPLETE"]
    assert stack_events[-1].reason == "Update successful. One or more resources could not be deleted."
    assert (OWN, "OPERATIONS") in contacts()


def test_changing_the_type_deletes_the_old_type_in_cleanup_under_the_new_policy(
    engine: Engine, assemblies: Assemblies, contacts: Callable[[], dict[Slot, Details]], cloud: LocalCloud
) -> None:
    # GIVEN a stack with SECURITY and OPERATIONS contacts
    deployed = engine.deploy(assemblies.lifecycle, STACK, artifact="E2eBase")
    assert deployed.status == "CREATE_COMPLETE", explain(deployed)
    operations_id, _ = declared(assemblies.lifecycle, "E2eBase", "Operations")

    # WHEN the construct "Operations" declares BILLING instead
    updated = engine.deploy(assemblies.lifecycle, STACK, artifact="E2eOperationsRetyped")

    # THEN its Update answered the new identity (a replacement), the cleanup Delete removed OPERATIONS, and the
    # account holds SECURITY and BILLING
    assert updated.status == "UPDATE_COMPLETE", explain(updated)
    assert [
        (r.phase, r.request_type, r.physical_id, r.answered_physical_id) for r in updated.requests_for(operations_id)
    ] == [
        ("deploy", "Update", f"{OWN}/OPERATIONS", f"{OWN}/BILLING"),
        ("cleanup", "Delete", f"{OWN}/OPERATIONS", f"{OWN}/OPERATIONS"),
    ]
    assert set(contacts()) == {(OWN, "SECURITY"), (OWN, "BILLING")}
    assert_answered_exactly_once(cloud, deployed, updated)


def test_a_rename_with_changed_values_leaves_the_new_values(
    engine: Engine, assemblies: Assemblies, contacts: Callable[[], dict[Slot, Details]], cloud: LocalCloud
) -> None:
    # GIVEN a stack whose SECURITY contact is the construct "Security"
    deployed = engine.deploy(assemblies.lifecycle, STACK, artifact="E2eBase")
    assert deployed.status == "CREATE_COMPLETE", explain(deployed)
    old_id, _ = declared(assemblies.lifecycle, "E2eBase", "Security")
    new_id, renamed = declared(assemblies.lifecycle, "E2eRenamedChanged", "SecurityContact")

    # WHEN it is renamed with a new title
    updated = engine.deploy(assemblies.lifecycle, STACK, artifact="E2eRenamedChanged")

    # THEN the new resource put the new values, the old one's cleanup Delete saw the new claim and kept them
    assert updated.status == "UPDATE_COMPLETE", explain(updated)
    assert [(r.phase, r.request_type, r.status) for r in updated.requests_for(new_id)] == [
        ("deploy", "Create", "SUCCESS")
    ]
    assert [(r.phase, r.request_type, r.status) for r in updated.requests_for(old_id)] == [
        ("cleanup", "Delete", "SUCCESS")
    ]
    assert contacts()[(OWN, "SECURITY")] == details_of(renamed)
    assert_answered_exactly_once(cloud, deployed, updated)
