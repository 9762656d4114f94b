"""What the user sees when the tool cannot do its job: clear messages on stderr and exit code 3."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

from cli_support import (
    CALLER,
    CONTACTS_STACK,
    MEMBER,
    SECURITY,
    Assemblies,
    Cli,
    FrontedAccountApi,
    contact_resource,
    offline_environment,
    put,
    rows,
    write_assembly,
)

from cdk_alternate_contacts_handler.errors import ACCESS_DENIED_HINT


def test_help_documents_the_exit_codes() -> None:
    # WHEN the user asks for help
    result = Cli(offline_environment())("--help")

    # THEN each exit code is explained
    assert result.returncode == 0
    for line in ("0  success", "1  drift found", "2  plan --detailed-exitcode", "3  error"):
        assert line in result.stdout


def test_a_usage_error_exits_3_not_2_which_means_changes(tmp_path: Path) -> None:
    # WHEN the user gives an unknown contact type
    result = Cli(offline_environment())("audit", "--type", "LEGAL")

    # THEN argparse's usual 2 is not used: a CI job would read it as "changes pending"
    assert result.returncode == 3
    assert "invalid choice: 'LEGAL'" in result.stderr


def test_no_cloud_assembly_is_reported_before_any_aws_call(tmp_path: Path) -> None:
    # GIVEN no credentials at all, and a folder that was never synthesized into
    cli = Cli(offline_environment())

    # WHEN the user plans it
    result = cli("plan", "--cdk-out", tmp_path / "cdk.out")

    # THEN the message says to synthesize first (the missing credentials are not even reached)
    assert result.returncode == 3
    assert result.stdout == ""
    assert "is not a cloud assembly (no manifest.json): run `cdk synth` first" in result.stderr


def test_an_unknown_stack_lists_the_stacks_there_are(cli: Cli, assemblies: Assemblies) -> None:
    result = cli("drift", "--cdk-out", assemblies.basic, "--stack", "Contcts")

    assert result.returncode == 3
    assert "no stack matches 'Contcts'" in result.stderr
    assert "(stacks: Contacts, TokenContacts)" in result.stderr


def test_no_credentials_says_how_to_provide_them(assemblies: Assemblies) -> None:
    # GIVEN no credentials anywhere (no variables, no files, no instance metadata)
    cli = Cli(offline_environment())

    # WHEN the user runs each command
    for args in (("plan", "--cdk-out", assemblies.basic), ("audit",)):
        result = cli(*args)

        # THEN one line says what to do, with no traceback
        assert result.returncode == 3, result.stderr
        assert result.stderr.strip() == (
            "cdk-alternate-contacts: error: no AWS credentials found: use --profile NAME (or AWS_PROFILE), "
            "`aws sso login`, or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"
        )


def test_an_unknown_profile_is_named(assemblies: Assemblies) -> None:
    result = Cli(offline_environment())("plan", "--cdk-out", assemblies.basic, "--profile", "nope")

    assert result.returncode == 3
    assert "The config profile (nope) could not be found" in result.stderr
    assert "Traceback" not in result.stderr


def _drift_through(
    front: FrontedAccountApi, cli: Cli, assemblies: Assemblies, *options: str
) -> subprocess.CompletedProcess[str]:
    """``drift`` of stack Contacts with the Account API behind ``front``, which is stopped afterwards."""
    try:
        return cli(
            "drift",
            "--cdk-out",
            assemblies.basic,
            "--stack",
            "Contacts",
            *options,
            env={"AWS_ENDPOINT_URL_ACCOUNT": front.endpoint},
        )
    finally:
        front.stop()


def test_access_denied_on_member_accounts_gives_the_organization_guidance(
    cli: Cli, aws: Any, endpoint: str, assemblies: Assemblies
) -> None:
    # GIVEN credentials that may read their own account's contacts but not a member's: moto never denies,
    # so a local front answers AccessDeniedException to every call that names an AccountId
    put(aws, CONTACTS_STACK)
    front = FrontedAccountApi(
        endpoint, answer=lambda body: (403, "AccessDeniedException") if "AccountId" in body else None
    )
    # WHEN the user checks for drift
    result = _drift_through(front, cli, assemblies)

    # THEN the caller's contacts are still checked, the member's are errors, and it exits 3 (incomplete)
    assert result.returncode == 3, result.stdout + result.stderr
    assert rows(result.stdout) == {
        (MEMBER, "BILLING", "Contacts/Member"): ["ERROR", "AccessDeniedException"],
        (MEMBER, "SECURITY", "Contacts/Member"): ["ERROR", "AccessDeniedException"],
        (CALLER, "OPERATIONS", "Contacts/Operations"): ["IN SYNC"],
        (CALLER, "SECURITY", "Contacts/Security"): ["IN SYNC"],
    }
    # AND one note says what to do, as the handler does: management account, delegated admin, trusted access
    assert f"note: {MEMBER}/BILLING, {MEMBER}/SECURITY: AccessDeniedException: {ACCESS_DENIED_HINT}" in result.stdout
    # AND the caller's own account was read without AccountId (the management account may not name itself)
    assert [body for body in front.bodies if body.get("AccountId") == CALLER] == []


def test_throttled_reads_are_retried_until_they_succeed(
    cli: Cli, aws: Any, endpoint: str, assemblies: Assemblies
) -> None:
    # GIVEN an Account API that answers TooManyRequestsException three times before letting calls through
    # (moto never throttles: a local front plays the real API's 429)
    put(aws, CONTACTS_STACK)
    refusals = iter(range(3))
    front = FrontedAccountApi(
        endpoint, answer=lambda body: (429, "TooManyRequestsException") if next(refusals, None) is not None else None
    )
    # WHEN the user checks for drift, as JSON
    result = _drift_through(front, cli, assemblies, "--format", "json")

    # THEN every contact was read in the end: four reads and three retries
    assert result.returncode == 0, result.stdout + result.stderr
    assert json.loads(result.stdout)["Summary"]["IN SYNC"] == 4
    assert len(front.bodies) == 7


def test_a_declared_value_the_api_would_reject_fails_the_plan_with_exit_3(cli: Cli, tmp_path: Path) -> None:
    # GIVEN a template edited by hand with an email the Account API rejects (the construct would refuse it)
    template = {
        "Resources": {"Security": contact_resource("SECURITY", {**SECURITY, "EmailAddress": "security at example"})}
    }
    write_assembly(tmp_path, {"Edited": {"template": template}})

    # WHEN the user plans it
    result = cli("plan", "--cdk-out", tmp_path)

    # THEN the deploy would fail: the row says why with the shared rule's words, and the plan exits 3
    assert result.returncode == 3
    assert rows(result.stdout) == {
        (CALLER, "SECURITY", "Edited/Security"): [
            "INVALID",
            "EmailAddress must be an ASCII email address, name@domain.tld",
        ]
    }
    assert "security at example" not in result.stdout
