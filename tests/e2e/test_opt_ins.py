"""Restore on delete when there was no contact before, and skipping inactive accounts, end to end.

Through the synthesized asset under awslambdaric against moto_server, which emulates SSM and
Organizations (create_account, close_account) as well as the Account API.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from e2e_support import STACK, Assemblies, assert_answered_exactly_once, declared, details_of, explain

from cdk_alternate_contacts_cli.cloud_assembly import CloudAssembly
from localdeploy.assembly import synth
from localdeploy.cloud import LocalCloud
from localdeploy.contacts import Details, Slot
from localdeploy.engine import Engine
from localdeploy.moto import DEPLOYING_ACCOUNT as OWN

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def opt_in_app(tmp_path_factory: pytest.TempPathFactory) -> CloudAssembly:
    app = Path(__file__).parent / "apps" / "opt_in_app.py"
    return synth(tmp_path_factory.mktemp("opt-in"), app=f"{sys.executable} {app}")


def records(cloud: LocalCloud) -> list[dict[str, Any]]:
    parameters: list[dict[str, Any]] = cloud.client("ssm").get_parameters_by_path(
        Path="/cdk-alternate-contacts", Recursive=True
    )["Parameters"]
    return parameters


def test_restore_on_delete_deletes_a_contact_that_did_not_exist_before(
    engine: Engine, assemblies: Assemblies, contacts: Callable[[], dict[Slot, Details]], cloud: LocalCloud
) -> None:
    # GIVEN an account with no SECURITY contact, and a stack whose SECURITY contact has restore_on_delete
    _, security = declared(assemblies.lifecycle, "E2eRestore", "Security")
    deployed = engine.deploy(assemblies.lifecycle, STACK, artifact="E2eRestore")
    assert deployed.status == "CREATE_COMPLETE", explain(deployed)
    assert contacts() == {(OWN, "SECURITY"): details_of(security)}
    assert len(records(cloud)) == 1
    # WHEN the stack is destroyed
    destroyed = engine.destroy(STACK)
    # THEN the account is back to having no SECURITY contact, and the record is gone
    assert destroyed.status == "DELETE_COMPLETE", explain(destroyed)
    assert contacts() == {}
    assert records(cloud) == []
    assert_answered_exactly_once(cloud, deployed, destroyed)


@pytest.mark.parametrize("closed", [True, False], ids=["suspended", "active"])
def test_inactive_member_account_is_skipped_with_a_reason_and_an_active_one_is_managed(
    engine: Engine, opt_in_app: CloudAssembly, cloud: LocalCloud, closed: bool
) -> None:
    # GIVEN a member account of the organization (the local cloud's account manages one), closed (SUSPENDED) or not
    organizations = cloud.client("organizations")
    member = organizations.create_account(AccountName="project", Email="project@example.com")
    member_id = member["CreateAccountStatus"]["AccountId"]
    if closed:
        organizations.close_account(AccountId=member_id)
    account = cloud.client("account")
    # WHEN a stack declaring its BILLING contact with skip_inactive_account is deployed, then destroyed
    deployed = engine.deploy(opt_in_app, "E2eSkipInactive", parameters={"MemberAccount": member_id})
    assert deployed.status == "CREATE_COMPLETE", explain(deployed)
    try:
        live = account.get_alternate_contact(AlternateContactType="BILLING", AccountId=member_id)["AlternateContact"]
    except account.exceptions.ResourceNotFoundException:
        live = None
    destroyed = engine.destroy("E2eSkipInactive")
    assert destroyed.status == "DELETE_COMPLETE", explain(destroyed)
    # THEN a suspended account was left alone, and the answer said why; an active one got the contact
    answers = [r for r in deployed.requests if r.request_type == "Create"]
    assert len(answers) == 1 and answers[0].status == "SUCCESS"
    if closed:
        assert live is None
        assert f"account {member_id} is SUSPENDED" in (answers[0].reason or "")
    else:
        assert live is not None and live["Name"] == "Mary Jackson"
        assert not answers[0].reason
    assert_answered_exactly_once(cloud, deployed, destroyed)
