"""``python -m localdeploy deploy`` and ``destroy``: two separate runs, state carried in the state folder."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from e2e_support import REPO, Assemblies

from localdeploy.demo_model import ACCOUNTS_FILE, STACK, management_contacts, read_model, vended_accounts

pytestmark = pytest.mark.e2e


def _run(command: str, assemblies: Assemblies, state_dir: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "localdeploy",
            command,
            "--app",
            str(assemblies.app.directory),
            "--state-dir",
            str(state_dir),
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_deploy_then_destroy_in_separate_runs(assemblies: Assemblies, tmp_path: Path) -> None:
    # GIVEN an empty state folder and app.py already synthesized (--app accepts an assembly, as cdk does):
    # the management account's contacts, the member accounts' in nested stacks, and the contacts of the
    # account the stack vends
    state_dir = tmp_path / "state"
    model = read_model(ACCOUNTS_FILE)
    vended = vended_accounts(assemblies.app, STACK)
    assert vended, "app.py vends an account"
    contacts = (
        len(model.slots()) + len(management_contacts(assemblies.app, STACK)) + sum(len(v.contacts) for v in vended)
    )
    resources = 1 + sum(1 for types in model.contacts.values() if types) + len(vended)

    # WHEN one run deploys
    deployed = _run("deploy", assemblies, state_dir)

    # THEN it succeeds, keeps the state of the stack and of each nested stack, and the accounts' contacts
    assert deployed.returncode == 0, deployed.stdout + deployed.stderr
    assert f"deploy {STACK}: CREATE_COMPLETE" in deployed.stdout
    states = [json.loads(path.read_text()) for path in (state_dir / "stacks").glob("*.json")]
    nested = [state for state in states if state["parent_id"]]
    assert nested and {state["stack_name"] for state in states} - {s["stack_name"] for s in nested} == {STACK}
    assert (
        sum(1 for state in states for r in state["resources"].values() if r["resource_type"].startswith("Custom::"))
        == resources
    )
    saved = json.loads((state_dir / "account-api.json").read_text())
    assert len(saved) == contacts
    # AND it shows the contacts masked, never in clear
    assert "s***@example.com" in deployed.stdout  # masked as cdk-alternate-contacts masks it
    assert "security@example.com" not in deployed.stdout

    # WHEN a second run destroys (a new moto_server, whose organization no longer knows the vended account)
    destroyed = _run("destroy", assemblies, state_dir)

    # THEN it finds the stacks and the contacts where the first run left them, and deletes them all; the
    # vended account's CloseAccount finds no such account, which CloudFormation counts as deleted
    assert destroyed.returncode == 0, destroyed.stdout + destroyed.stderr
    assert f"restored {contacts} contacts" in destroyed.stdout
    assert f"destroy {STACK}: DELETE_COMPLETE" in destroyed.stdout
    assert destroyed.stdout.count(" Delete ") == resources
    assert list((state_dir / "stacks").glob("*.json")) == []
    assert json.loads((state_dir / "account-api.json").read_text()) == []
