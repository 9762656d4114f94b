"""Contacts of an account the stack vends itself: ``AlternateContacts(account_id=CfnAccount(...).attr_account_id)``.

The versions of stack ``E2eVending`` are in tests/e2e/apps/contacts_app.py. The engine creates the account in
moto's Organizations as CloudFormation's handler for ``AWS::Organizations::Account`` does
(localdeploy/organizations.py); the contacts resource gets the new id once the account exists.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from e2e_steps import EXISTING_SECURITY, E2e
from e2e_support import explain

from localdeploy.contacts import Details, Slot, account_client, read_contacts
from localdeploy.engine import EngineSettings, OperationResult

pytestmark = pytest.mark.e2e

VENDING = "E2eVending"
OWN = "123456789012"
MEMBER = "111111111111"

#: The vended account's own email address (tests/e2e/apps/contacts_app.py).
VENDED_EMAIL = "aws-e2e-vended@example.com"

#: How long CreateAccount runs in the failure test (AWS's takes minutes): long enough for the stack's other
#: contacts to be created first, as they are on AWS.
CREATION_S = 8.0


def vended_slots(account: str, properties: dict[str, Any]) -> dict[Slot, Details]:
    """What a contacts resource declares, in ``account`` (its AccountId is the account's GetAtt, a token)."""
    return {(account, kind): dict(details) for kind, details in properties["AlternateContacts"].items()}


def statuses(result: OperationResult) -> list[tuple[str, str]]:
    """The resource events of an operation, in order: (logical id, status)."""
    return [(e.logical_id, e.status) for e in result.events]


def test_a_vended_accounts_contacts_are_put_updated_and_deleted_before_the_account_is_closed(e2e: E2e) -> None:
    # GIVEN a stack that vends an account and declares that account's SECURITY and OPERATIONS contacts
    vending = e2e.stack(VENDING, e2e.assemblies.contacts)
    vended_id, declared = vending.declared_contacts("VendingBase", "VendedContacts")
    _, changed = vending.declared_contacts("VendingChanged", "VendedContacts")
    assert changed["AlternateContacts"]["SECURITY"] != declared["AlternateContacts"]["SECURITY"]
    cloud = e2e.cloud
    organizations = cloud.client("organizations")
    reader = account_client(cloud.moto.endpoint)
    judged_from = e2e.judged()

    # WHEN it is deployed
    deployed = vending.deploy("VendingBase")

    # THEN the account is a new ACTIVE member of the organization, and its contacts resource was created
    # with the new account's id and holds exactly the declared contacts
    state = e2e.engine.store.load(VENDING)
    assert state is not None
    account = str(state.resources["Vended"].physical_id)
    described = organizations.describe_account(AccountId=account)["Account"]
    assert (described["Email"], described["Status"], described["JoinedMethod"]) == (VENDED_EMAIL, "ACTIVE", "CREATED")
    (create,) = deployed.requests_for(vended_id)
    assert create.event["ResourceProperties"]["AccountId"] == account
    assert create.answered_physical_id == f"{account}/OPERATIONS+SECURITY"
    assert read_contacts(reader, [account]) == vended_slots(account, declared)
    # AND IAM allowed the function's writes on the new account's member ARN (management account, organization)
    organization = cloud.organization()
    assert organization is not None
    member_arn = f"arn:aws:account::{OWN}:account/{organization.organization_id}/{account}"
    assert cloud.iam is not None
    puts = [d for d in cloud.iam.decisions[judged_from:] if d.authorization.action == "account:PutAlternateContact"]
    assert {(d.authorization.resource, d.allowed) for d in puts if account in d.authorization.resource} == {
        (member_arn, True)
    }

    # WHEN an update changes the vended account's SECURITY details
    updated = vending.deploy("VendingChanged")

    # THEN its contacts resource alone got an Update, in place, and the account itself was not touched
    assert [(r.logical_id, r.request_type, r.physical_id, r.answered_physical_id) for r in updated.requests] == [
        (vended_id, "Update", f"{account}/OPERATIONS+SECURITY", f"{account}/OPERATIONS+SECURITY")
    ]
    assert [s for s in statuses(updated) if s[0] == "Vended"] == []
    assert read_contacts(reader, [account]) == vended_slots(account, changed)

    # WHEN the stack is destroyed
    destroyed = vending.destroy()

    # THEN the vended account's contacts were deleted before CloudFormation deleted the account, which closed it
    order = statuses(destroyed)
    assert order.index((vended_id, "DELETE_COMPLETE")) < order.index(("Vended", "DELETE_IN_PROGRESS"))
    assert organizations.describe_account(AccountId=account)["Account"]["Status"] == "SUSPENDED"
    # AND no account holds a contact of the stack any more
    assert read_contacts(reader, [account]) == {}
    assert e2e.contacts() == {}


def test_a_vended_account_that_fails_to_create_holds_up_no_other_contact_and_leaves_every_account_as_it_was(
    e2e: E2e, tmp_path: Path
) -> None:
    # GIVEN a member whose SECURITY contact predates the stack, and an address already held by an AWS account
    # outside the organization, which CreateAccount refuses once it has run (EMAIL_ALREADY_EXISTS)
    e2e.seed({(MEMBER, "SECURITY"): EXISTING_SECURITY})
    before = e2e.contacts()
    e2e.cloud.emails_elsewhere.add(VENDED_EMAIL)
    slow = e2e.cloud.engine(tmp_path / "state", settings=EngineSettings(account_creation_s=CREATION_S))
    vending = e2e.stack(VENDING, e2e.assemblies.contacts, engine=slow)
    own_id, _ = vending.declared_contacts("VendingBase", "Own")
    member_id, _ = vending.declared_contacts("VendingBase", "Member")
    vended_id, _ = vending.declared_contacts("VendingBase", "VendedContacts")

    # WHEN a new stack vends an account with that address beside the other contacts
    result = vending.deploy("VendingBase", expect="ROLLBACK_COMPLETE")

    # THEN the account failed with CreateAccount's reason, which names no address
    (failed,) = [e for e in result.events if e.logical_id == "Vended" and e.status == "CREATE_FAILED"]
    assert "Account creation failed with reason [EMAIL_ALREADY_EXISTS]" in failed.reason
    assert VENDED_EMAIL not in failed.reason
    # AND the other contacts did not wait for it: both were created before the account failed
    order = statuses(result)
    for logical_id in (own_id, member_id):
        assert order.index((logical_id, "CREATE_COMPLETE")) < order.index(("Vended", "CREATE_FAILED")), explain(result)
    # AND the rollback deleted them again, while the vended account's contacts were never sent anything
    for logical_id in (own_id, member_id):
        assert [(r.phase, r.request_type, r.status) for r in result.requests_for(logical_id)] == [
            ("deploy", "Create", "SUCCESS"),
            ("rollback", "Delete", "SUCCESS"),
        ]
    assert result.requests_for(vended_id) == []
    assert [s for s in order if s[0] == vended_id] == []
    # AND every account holds what it held before: the member's old contact is back, no account was made
    assert e2e.contacts() == before == {(MEMBER, "SECURITY"): EXISTING_SECURITY}
    emails = [a["Email"] for a in e2e.cloud.client("organizations").list_accounts()["Accounts"]]
    assert VENDED_EMAIL not in emails and len(emails) == 1
    assert vending.state_is_gone()
