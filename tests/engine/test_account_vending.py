"""``AWS::Organizations::Account`` through the engine, against moto's Organizations in this process.

The templates hold only accounts (no function is started): what is checked is the engine's path for an
emulated type and what CloudFormation's handler for that type does (localdeploy/organizations.py names its
source): ids and attributes, in-place updates, refused changes, rollback, delete closing the account.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any, cast

import boto3
import pytest
from moto import mock_aws

from cdk_alternate_contacts_cli.cloud_assembly import CloudAssembly
from localdeploy.engine import Engine
from localdeploy.organizations import ACCOUNT_TYPE, AccountVending
from localdeploy.registry import StackRegistry
from localdeploy.state import StateStore

STACK = "Vending"
SANDBOX = {"AccountName": "sandbox", "Email": "aws-sandbox@example.com", "Tags": [{"Key": "team", "Value": "platform"}]}
LOGS = {"AccountName": "log-archive", "Email": "aws-logs@example.com"}
SRE_TAGS = [{"Key": "team", "Value": "sre"}]
KEPT = {"AccountName": "kept", "Email": "aws-kept@example.com"}


def account(properties: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"Type": ACCOUNT_TYPE, "Properties": properties, **extra}


OUTPUTS = {
    "Id": {"Value": {"Ref": "Sandbox"}},
    "Arn": {"Value": {"Fn::GetAtt": ["Sandbox", "Arn"]}},
    "Status": {"Value": {"Fn::GetAtt": ["Sandbox", "Status"]}},
    "JoinedMethod": {"Value": {"Fn::GetAtt": ["Sandbox", "JoinedMethod"]}},
}
PARENT = {"Parent": {"Type": "String"}}

#: The versions of the stack, each an artifact of one assembly.
VERSIONS: dict[str, dict[str, Any]] = {
    "Base": {"Resources": {"Sandbox": account(SANDBOX), "Logs": account(LOGS)}, "Outputs": OUTPUTS},
    "Moved": {
        "Parameters": PARENT,
        "Resources": {
            "Sandbox": account({**SANDBOX, "ParentIds": [{"Ref": "Parent"}], "Tags": SRE_TAGS}),
            "Logs": account(LOGS),
        },
        "Outputs": OUTPUTS,
    },
    "MovedLogsRenamed": {
        "Parameters": PARENT,
        "Resources": {
            "Sandbox": account({**SANDBOX, "ParentIds": [{"Ref": "Parent"}]}),
            "Logs": account({**LOGS, "Email": "aws-log-archive@example.com"}, DependsOn="Sandbox"),
        },
    },
    "Duplicate": {"Resources": {"Sandbox": account(SANDBOX), "Again": account({**LOGS, "Email": SANDBOX["Email"]})}},
    "Retained": {"Resources": {"Kept": account(KEPT, DeletionPolicy="Retain")}},
}


@pytest.fixture(scope="module")
def assembly(tmp_path_factory: pytest.TempPathFactory) -> CloudAssembly:
    """A cloud assembly with one artifact per version (no assets: nothing here runs a function)."""
    folder = tmp_path_factory.mktemp("vending-assembly")
    artifacts = {}
    for name, template in VERSIONS.items():
        (folder / f"{name}.template.json").write_text(json.dumps(template))
        artifacts[name] = {"type": "aws:cloudformation:stack", "properties": {"templateFile": f"{name}.template.json"}}
    (folder / "manifest.json").write_text(json.dumps({"version": "36.0.0", "artifacts": artifacts}))
    return CloudAssembly(folder)


@pytest.fixture
def organizations() -> Iterator[Any]:
    """moto's Organizations in this process, the deploying account managing an organization."""
    with mock_aws():
        client = boto3.client("organizations", region_name="us-east-1")
        client.create_organization(FeatureSet="ALL")
        yield client


def engine_for(vending: AccountVending, tmp_path: Path) -> Engine:
    # Templates of accounts alone: the engine never reaches the Lambda service or custom resource requests.
    return Engine(
        functions=cast(Any, None),
        requests=cast(Any, None),
        registry=StackRegistry(),
        store=StateStore(tmp_path / "state"),
        emulators={ACCOUNT_TYPE: vending},
    )


def root_and_unit(organizations: Any) -> tuple[str, str]:
    """The organization's root, and a new OU under it (Sandboxes)."""
    root = organizations.list_roots()["Roots"][0]["Id"]
    unit = organizations.create_organizational_unit(ParentId=root, Name="Sandboxes")["OrganizationalUnit"]["Id"]
    return str(root), str(unit)


def parent_of(organizations: Any, account_id: str) -> str:
    return str(organizations.list_parents(ChildId=account_id)["Parents"][0]["Id"])


def test_a_vended_account_is_created_moved_in_place_and_closed_on_destroy(
    organizations: Any, assembly: CloudAssembly, tmp_path: Path
) -> None:
    # GIVEN an organization with an OU, and an engine that vends accounts in it
    root, unit = root_and_unit(organizations)
    engine = engine_for(AccountVending(organizations), tmp_path)

    # WHEN a stack vending two accounts is created
    created = engine.deploy(assembly, STACK, artifact="Base")

    # THEN both are members of the organization, under the root, and Ref / GetAtt give what CloudFormation's do
    assert created.status == "CREATE_COMPLETE", created.problems
    sandbox = created.outputs["Id"]
    described = organizations.describe_account(AccountId=sandbox)["Account"]
    assert (described["Name"], described["Email"]) == ("sandbox", SANDBOX["Email"])
    assert parent_of(organizations, sandbox) == root
    assert created.outputs == {"Id": sandbox, "Arn": described["Arn"], "Status": "ACTIVE", "JoinedMethod": "CREATED"}
    assert organizations.list_tags_for_resource(ResourceId=sandbox)["Tags"] == [{"Key": "team", "Value": "platform"}]

    # WHEN an update moves the sandbox to the OU and changes its tag
    moved = engine.deploy(assembly, STACK, artifact="Moved", parameters={"Parent": unit})

    # THEN it is the same account, updated in place (no replacement), now in the OU with the new tag
    assert moved.status == "UPDATE_COMPLETE", moved.problems
    assert moved.outputs["Id"] == sandbox
    assert parent_of(organizations, sandbox) == unit
    assert organizations.list_tags_for_resource(ResourceId=sandbox)["Tags"] == SRE_TAGS
    assert [e.status for e in moved.events if e.logical_id == "Sandbox"] == ["UPDATE_IN_PROGRESS", "UPDATE_COMPLETE"]

    # WHEN the stack is destroyed
    destroyed = engine.destroy(STACK)

    # THEN both accounts are closed: still in the organization, SUSPENDED
    assert destroyed.status == "DELETE_COMPLETE", destroyed.problems
    statuses = {a["Name"]: a["Status"] for a in organizations.list_accounts()["Accounts"]}
    assert statuses == {"master": "ACTIVE", "sandbox": "SUSPENDED", "log-archive": "SUSPENDED"}


def test_a_refused_email_change_rolls_back_the_move_that_succeeded_beside_it(
    organizations: Any, assembly: CloudAssembly, tmp_path: Path
) -> None:
    # GIVEN a deployed stack of two accounts under the root
    root, unit = root_and_unit(organizations)
    engine = engine_for(AccountVending(organizations), tmp_path)
    sandbox = engine.deploy(assembly, STACK, artifact="Base").outputs["Id"]

    # WHEN an update moves the sandbox to the OU, then changes the other account's email
    result = engine.deploy(assembly, STACK, artifact="MovedLogsRenamed", parameters={"Parent": unit})

    # THEN the email change fails as AWS's handler fails it, and the rollback moves the sandbox back
    assert result.status == "UPDATE_ROLLBACK_COMPLETE", result.problems
    (failed,) = [e for e in result.events if e.logical_id == "Logs" and e.status == "UPDATE_FAILED"]
    assert "you must sign in as the root user" in failed.reason
    assert "HandlerErrorCode: InvalidRequest" in failed.reason
    assert "aws-log-archive@example.com" not in failed.reason
    assert parent_of(organizations, sandbox) == root
    # AND no account was made or lost on the way
    assert sorted(a["Email"] for a in organizations.list_accounts()["Accounts"]) == sorted(
        [SANDBOX["Email"], LOGS["Email"], "master@example.com"]
    )


def test_an_email_the_organization_already_holds_fails_the_create_before_any_account_is_made(
    organizations: Any, assembly: CloudAssembly, tmp_path: Path
) -> None:
    # GIVEN an engine whose account creations take a while (AWS's take minutes)
    waits: list[float] = []
    engine = engine_for(AccountVending(organizations, creation_s=30.0, sleep=waits.append), tmp_path)

    # WHEN a new stack declares two accounts with one email
    result = engine.deploy(assembly, STACK, artifact="Duplicate")

    # THEN one is created and the other fails at the handler's pre-existence check, naming no address in clear
    assert result.status == "ROLLBACK_COMPLETE"
    (failed,) = [e for e in result.events if e.status == "CREATE_FAILED"]
    assert "already exists." in failed.reason and "HandlerErrorCode: AlreadyExists" in failed.reason
    assert SANDBOX["Email"] not in failed.reason
    # AND only the first creation waited: the check comes before CreateAccount
    assert waits == [30.0]
    # AND the rollback closed the account it had made; the organization holds no second one with the address
    accounts = [a for a in organizations.list_accounts()["Accounts"] if a["Email"] == SANDBOX["Email"]]
    assert [a["Status"] for a in accounts] == ["SUSPENDED"]


def test_an_email_held_outside_the_organization_fails_once_the_creation_has_run(
    organizations: Any, assembly: CloudAssembly, tmp_path: Path
) -> None:
    # GIVEN an address that an AWS account outside the organization holds (invisible to moto)
    waits: list[float] = []
    elsewhere = {"AWS-Kept@example.com"}
    vending = AccountVending(organizations, creation_s=5.0, emails_elsewhere=elsewhere, sleep=waits.append)
    engine = engine_for(vending, tmp_path)

    # WHEN a stack vends an account with it
    result = engine.deploy(assembly, STACK, artifact="Retained")

    # THEN the creation runs its course, then fails with CreateAccount's reason, and no account exists
    assert result.status == "ROLLBACK_COMPLETE"
    (failed,) = [e for e in result.events if e.status == "CREATE_FAILED"]
    assert "Account creation failed with reason [EMAIL_ALREADY_EXISTS] for request id: car-" in failed.reason
    assert waits == [5.0]
    assert [a["Email"] for a in organizations.list_accounts()["Accounts"]] == ["master@example.com"]


def test_retain_leaves_the_account_open_and_an_account_already_gone_counts_as_deleted(
    organizations: Any, assembly: CloudAssembly, tmp_path: Path
) -> None:
    # GIVEN a retained account in one stack, and two accounts that are not retained in another
    engine = engine_for(AccountVending(organizations), tmp_path)
    retained = engine.deploy(assembly, "Keeper", artifact="Retained")
    base = engine.deploy(assembly, STACK, artifact="Base")
    assert (retained.status, base.status) == ("CREATE_COMPLETE", "CREATE_COMPLETE")
    logs = engine.store.load(STACK).resources["Logs"].physical_id  # type: ignore[union-attr]
    # AND one of the second stack's accounts closed out of band
    organizations.close_account(AccountId=logs)

    # WHEN both stacks are destroyed
    kept, gone = engine.destroy("Keeper"), engine.destroy(STACK)

    # THEN the retained account is still open, and closing an already-closed account did not fail the delete
    assert (kept.status, gone.status) == ("DELETE_COMPLETE", "DELETE_COMPLETE"), gone.problems
    assert [e.status for e in kept.events if e.logical_id == "Kept"] == ["DELETE_SKIPPED"]
    statuses = {a["Name"]: a["Status"] for a in organizations.list_accounts()["Accounts"]}
    assert statuses == {"master": "ACTIVE", "kept": "ACTIVE", "sandbox": "SUSPENDED", "log-archive": "SUSPENDED"}
