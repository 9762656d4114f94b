"""Accounts known only at deploy time (CfnParameters) before their stack is deployed, and what drift cannot check.

CloudFormation here is moto_server's, where stack ``DeployTime`` does not exist: what CloudFormation answers
before a deploy. After a deploy (through the local engine) the accounts are read from the deployed stack:
test_after_deploy.py.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from cli_support import (
    CALLER,
    CLEAR_DETAILS,
    CONTACTS_STACK,
    DEPLOY_TIME_STACK,
    OPERATIONS,
    SECURITY,
    TOKEN_CONTACTS_ROWS,
    Assemblies,
    Cli,
    RefusingCloudFormation,
    put,
    rows,
)

DEPLOY_TIME = "(deploy time)"
NOT_DEPLOYED = f"stack DeployTime is not deployed (none in account {CALLER}, us-east-1)"


@pytest.fixture
def refusing() -> Iterator[RefusingCloudFormation]:
    """A CloudFormation endpoint that denies every read."""
    front = RefusingCloudFormation()
    yield front
    front.stop()


def test_plan_before_the_deploy_counts_a_contact_whose_account_only_the_deploy_knows_as_a_change(
    cli: Cli, aws: Any, assemblies: Assemblies
) -> None:
    # GIVEN the accounts already hold what the app declares: only the deploy knows which accounts those are
    put(aws, DEPLOY_TIME_STACK)

    # WHEN the not yet deployed stack is planned with --detailed-exitcode
    result = cli("plan", "--cdk-out", assemblies.deploy_time, "--detailed-exitcode")

    # THEN it exits 2: a deploy creates each resource; each row says why, naming the parameter
    assert result.returncode == 2, result.stdout + result.stderr
    found = rows(result.stdout)
    because = f"{NOT_DEPLOYED}: a deploy creates it (counted as a change)"
    assert found[(DEPLOY_TIME, "BILLING", "DeployTime/Member")] == [
        "NEW",
        "AccountId: parameter MemberAccount (given at deploy time)",
        because,
    ]
    assert found[(DEPLOY_TIME, "SECURITY", "DeployTime/Member")] == found[(DEPLOY_TIME, "BILLING", "DeployTime/Member")]
    nested = found[(DEPLOY_TIME, "SECURITY", "DeployTime/Members/Security")]
    assert nested[0] == "NEW" and nested[-1] == because
    assert "parameter NestedMemberAccount (given at deploy time)" in nested[1]
    assert "Plan: 0 to create, 0 to update, 0 unchanged, 3 to create in accounts known only at deploy time." in (
        result.stdout
    )
    assert [value for value in CLEAR_DETAILS if value in result.stdout] == []

    # AND without --detailed-exitcode the plan exits 0, as any plan does
    assert cli("plan", "--cdk-out", assemblies.deploy_time).returncode == 0


def test_drift_before_the_deploy_does_not_call_contacts_it_could_not_locate_in_sync(
    cli: Cli, aws: Any, assemblies: Assemblies
) -> None:
    # GIVEN the accounts hold exactly what the app declares, but the stack is not deployed
    put(aws, DEPLOY_TIME_STACK)

    # WHEN the user checks for drift, in a table and in JSON
    result = cli("drift", "--cdk-out", assemblies.deploy_time)
    as_json = cli("drift", "--cdk-out", assemblies.deploy_time, "--format", "json")

    # THEN it exits 4 (not checked): every contact is NOT DEPLOYED, none IN SYNC, and it says why
    assert result.returncode == 4, result.stdout + result.stderr
    assert {key: lines[0] for key, lines in rows(result.stdout).items()} == {
        (DEPLOY_TIME, "BILLING", "DeployTime/Member"): "NOT DEPLOYED",
        (DEPLOY_TIME, "SECURITY", "DeployTime/Member"): "NOT DEPLOYED",
        (DEPLOY_TIME, "SECURITY", "DeployTime/Members/Security"): "NOT DEPLOYED",
    }
    assert f"{NOT_DEPLOYED}: nothing deployed to compare" in result.stdout
    assert "Drift: 0 drifted, 0 missing, 0 in sync, 3 not deployed." in result.stdout
    assert "note: 3 contacts could not be checked (see CHANGES): drift does not call them in sync" in result.stdout
    assert as_json.returncode == 4
    report = json.loads(as_json.stdout)
    assert (report["Summary"]["IN SYNC"], report["Summary"]["NOT DEPLOYED"]) == (0, 3)
    assert {c["DeployedResource"]["Found"] for c in report["Contacts"]} == {"no stack"}


def test_drift_of_a_contact_with_a_detail_only_the_deploy_knows_exits_4_not_0(
    cli: Cli, aws: Any, assemblies: Assemblies
) -> None:
    # GIVEN a contact whose email is an SSM parameter, and a live contact matching every other field
    put(aws, {(CALLER, "SECURITY"): SECURITY})

    # WHEN the user checks for drift
    result = cli("drift", "--cdk-out", assemblies.basic, "--stack", "TokenContacts")

    # THEN the email could not be checked: UNKNOWN, never IN SYNC, and exit 4
    assert result.returncode == 4, result.stdout + result.stderr
    assert rows(result.stdout) == TOKEN_CONTACTS_ROWS
    assert "Drift: 0 drifted, 0 missing, 0 in sync, 1 not checked (known only at deploy time)." in result.stdout
    assert "note: 1 contact could not be checked (see CHANGES): drift does not call it in sync" in result.stdout


def test_drift_found_outranks_what_could_not_be_checked(cli: Cli, aws: Any, assemblies: Assemblies) -> None:
    # GIVEN both stacks of the app: one contact changed by hand, one with a detail only the deploy knows
    put(aws, {**CONTACTS_STACK, (CALLER, "OPERATIONS"): {**OPERATIONS, "Title": "Night shift"}})

    # WHEN the user checks every stack for drift
    result = cli("drift", "--cdk-out", assemblies.basic)

    # THEN the drift found decides the exit code (1), and the unchecked contact is still said
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Drift: 1 drifted, 0 missing, 3 in sync, 1 not checked (known only at deploy time)." in result.stdout


def test_a_deployed_stack_that_cannot_be_read_is_an_error_naming_the_permission(
    cli: Cli, aws: Any, assemblies: Assemblies, refusing: RefusingCloudFormation
) -> None:
    # GIVEN credentials without cloudformation:ListStackResources (moto never denies: a front refuses)
    env = {"AWS_ENDPOINT_URL_CLOUDFORMATION": refusing.endpoint}
    put(aws, CONTACTS_STACK)

    # WHEN a stack whose accounts are all in its template is planned
    known = cli("plan", "--cdk-out", assemblies.basic, "--stack", "Contacts", env=env)

    # THEN CloudFormation is not asked at all
    assert known.returncode == 0, known.stdout + known.stderr
    assert refusing.requests == []

    # WHEN the stack whose accounts only the deploy knows is planned
    result = cli("plan", "--cdk-out", assemblies.deploy_time, "--detailed-exitcode", env=env)

    # THEN it is an error (exit 3, not a change nor a success), each row ERROR, and the note names the permission
    assert result.returncode == 3, result.stdout + result.stderr
    assert {lines[0] for lines in rows(result.stdout).values()} == {"ERROR"}
    assert rows(result.stdout)[(DEPLOY_TIME, "BILLING", "DeployTime/Member")][1:] == [
        "AccessDenied",
        "stack DeployTime could not be read in us-east-1",
    ]
    assert (
        "AccessDenied: the credentials need cloudformation:ListStackResources on stack DeployTime in us-east-1"
        in result.stdout
    )
    # AND the stack was read once, however many contacts it declares
    assert len(refusing.requests) == 1


def test_help_documents_the_exit_code_of_contacts_drift_could_not_check(cli: Cli) -> None:
    shown = cli("drift", "--help")

    assert shown.returncode == 0
    assert "4  drift found nothing drifted or missing but could not check every contact" in shown.stdout
    assert "never IN SYNC" in " ".join(shown.stdout.split())
