"""plan, deploy through the real handler, drift: the tool reads exactly what the provider writes.

The stack is deployed by localdeploy's engine: the synthesized asset runs under awslambdaric against a
moto_server of its own, as in tests/e2e, and the tool reads the deployed stacks from the engine's
CloudFormation API (ListStackResources). Nothing else in tests/cli deploys: the other tests set contacts
directly, which is quicker and says the same for the tool.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from cli_support import (
    CALLER,
    CLEAR_DETAILS,
    DEPLOY_TIME_PARAMETERS,
    MEMBER,
    NESTED_MEMBER,
    SECURITY,
    Assemblies,
    Cli,
    moto_environment,
    put,
    rows,
)

from cdk_alternate_contacts_cli.cloud_assembly import CloudAssembly
from localdeploy.cloud import LocalCloud


@pytest.fixture
def cloud(tmp_path: Path) -> Iterator[LocalCloud]:
    """moto_server, the HTTPS listener for answers, the local CloudFormation and Lambda services."""
    with LocalCloud(tmp_path / "cloud", concurrency=2, retry_delays=(0.5, 1.0), answer_timeout_cap_s=60) as local:
        yield local


# `cloud` comes before `assemblies`: the emulators start while the session's synthesis runs.
def test_plan_then_deploy_then_drift_after_a_change_by_hand(
    cloud: LocalCloud, assemblies: Assemblies, tmp_path: Path
) -> None:
    cli = Cli(moto_environment(cloud.moto.endpoint))
    plan = ["plan", "--cdk-out", str(assemblies.basic), "--stack", "Contacts", "--detailed-exitcode"]
    drift = ["drift", "--cdk-out", str(assemblies.basic), "--stack", "Contacts"]

    # GIVEN accounts without contacts: the plan shows four to create
    before = cli(*plan)
    assert before.returncode == 2, before.stdout + before.stderr
    assert "Plan: 4 to create, 0 to update, 0 unchanged." in before.stdout

    # WHEN the stack is deployed through the provider's handler
    deployed = cloud.engine(tmp_path / "state").deploy(CloudAssembly(assemblies.basic), "Contacts")
    assert deployed.ok, deployed.status

    # THEN the plan has nothing left to do and there is no drift
    after = cli(*plan)
    assert after.returncode == 0, after.stdout + after.stderr
    assert "Plan: 0 to create, 0 to update, 4 unchanged." in after.stdout
    clean = cli(*drift)
    assert clean.returncode == 0, clean.stdout + clean.stderr

    # WHEN someone changes the security contact's title by hand
    put(cloud.client, {(CALLER, "SECURITY"): {**SECURITY, "Title": "Interim CISO"}})

    # THEN drift exits 1, naming the field, masked
    drifted = cli(*drift)
    assert drifted.returncode == 1, drifted.stdout + drifted.stderr
    assert rows(drifted.stdout)[(CALLER, "SECURITY", "Contacts/Security")] == [
        "DRIFTED",
        "Title: live I. C., declared C.",
    ]


def _planned_before_deploy(cloud: LocalCloud, assembly: Path) -> tuple[Cli, list[str], list[str]]:
    """The tool against ``cloud`` and its plan and drift of ``assembly``, once the plan before the deploy has
    counted every contact as NEW (a contact whose account only the deploy knows) and so as a change."""
    cli = Cli(moto_environment(cloud.moto.endpoint, AWS_ENDPOINT_URL_CLOUDFORMATION=cloud.cfn_api.endpoint))
    plan = ["plan", "--cdk-out", str(assembly), "--detailed-exitcode"]
    drift = ["drift", "--cdk-out", str(assembly)]
    before = cli(*plan)
    assert before.returncode == 2, before.stdout + before.stderr
    assert {lines[0] for lines in rows(before.stdout).values()} == {"NEW"}
    return cli, plan, drift


def test_accounts_given_at_deploy_time_are_read_from_the_deployed_stack(
    cloud: LocalCloud, assemblies: Assemblies, tmp_path: Path
) -> None:
    # GIVEN a stack whose accounts are CfnParameters, not deployed: the plan counts its contacts as changes
    cli, plan, drift = _planned_before_deploy(cloud, assemblies.deploy_time)

    # WHEN it is deployed with the member accounts as parameters (the nested stack's passed down)
    deployed = cloud.engine(tmp_path / "state").deploy(
        CloudAssembly(assemblies.deploy_time), "DeployTime", parameters=DEPLOY_TIME_PARAMETERS
    )
    assert deployed.ok, deployed.status

    # THEN the plan knows the accounts from the resources' physical ids, nested stack included, and has
    # nothing left to do; drift finds them in sync
    after = cli(*plan)
    assert after.returncode == 0, after.stdout + after.stderr
    assert rows(after.stdout) == {
        (MEMBER, "BILLING", "DeployTime/Member"): [
            "NO CHANGE",
            f"AccountId from the deployed resource: {MEMBER}/BILLING+SECURITY (a deploy may give another)",
        ],
        (MEMBER, "SECURITY", "DeployTime/Member"): [
            "NO CHANGE",
            f"AccountId from the deployed resource: {MEMBER}/BILLING+SECURITY (a deploy may give another)",
        ],
        (NESTED_MEMBER, "SECURITY", "DeployTime/Members/Security"): [
            "NO CHANGE",
            f"AccountId from the deployed resource: {NESTED_MEMBER}/SECURITY (a deploy may give another)",
        ],
    }
    clean = cli(*drift)
    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert "Drift: 0 drifted, 0 missing, 3 in sync." in clean.stdout

    # WHEN someone changes the nested member's security phone by hand
    put(cloud.client, {(NESTED_MEMBER, "SECURITY"): {**SECURITY, "PhoneNumber": "+1 206 555 9999"}})

    # THEN drift exits 1 on that account's contact, masked, and the plan would update it
    drifted = cli(*drift)
    assert drifted.returncode == 1, drifted.stdout + drifted.stderr
    assert rows(drifted.stdout)[(NESTED_MEMBER, "SECURITY", "DeployTime/Members/Security")][:2] == [
        "DRIFTED",
        "PhoneNumber: live +1 *** ***9999, declared +1 *** ***0147",
    ]
    replan = cli(*plan)
    assert replan.returncode == 2, replan.stdout + replan.stderr
    assert "Plan: 0 to create, 1 to update, 2 unchanged." in replan.stdout
    assert [value for value in [*CLEAR_DETAILS, "+1 206 555 9999"] if value in drifted.stdout + replan.stdout] == []


def test_an_account_the_stack_creates_is_read_from_the_deployed_stack(
    cloud: LocalCloud, assemblies: Assemblies, tmp_path: Path
) -> None:
    # GIVEN a stack that creates an account (AWS::Organizations::Account) and declares its contacts with the
    # new id: before the deploy the account has no id, and the plan counts both contacts as changes
    cli, plan, drift = _planned_before_deploy(cloud, assemblies.vended)

    # WHEN the local engine deploys it (moto's Organizations creates the account)
    deployed = cloud.engine(tmp_path / "state").deploy(CloudAssembly(assemblies.vended), "Vended")
    assert deployed.ok, deployed.status
    (contacts,) = [r for r in deployed.requests if r.request_type == "Create"]
    created = str(contacts.answered_physical_id).split("/")[0]

    # THEN plan and drift read the new account's id from the resource's physical id, and find it as declared
    after = cli(*plan)
    assert after.returncode == 0, after.stdout + after.stderr
    assert {key[:2]: lines[0] for key, lines in rows(after.stdout).items()} == {
        (created, "OPERATIONS"): "NO CHANGE",
        (created, "SECURITY"): "NO CHANGE",
    }
    clean = cli(*drift)
    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert "Drift: 0 drifted, 0 missing, 2 in sync." in clean.stdout
