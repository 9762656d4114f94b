"""``python -m localdeploy deploy`` and ``destroy``: two separate runs, state carried in the state folder."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from e2e_support import EXAMPLE_STACK, REPO, Assemblies

pytestmark = pytest.mark.e2e


def _run(command: str, assemblies: Assemblies, state_dir: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "localdeploy",
            command,
            "--app",
            str(assemblies.example.directory),
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
    # GIVEN an empty state folder and app.py already synthesized (--app accepts an assembly, as cdk does)
    state_dir = tmp_path / "state"

    # WHEN one run deploys
    deployed = _run("deploy", assemblies, state_dir)

    # THEN it succeeds, keeps the stack's state and the accounts' contacts for the next run
    assert deployed.returncode == 0, deployed.stdout + deployed.stderr
    assert f"deploy {EXAMPLE_STACK}: CREATE_COMPLETE" in deployed.stdout
    stack = json.loads((state_dir / "stacks" / f"{EXAMPLE_STACK}.json").read_text())
    assert sorted(
        r["physical_id"] for r in stack["resources"].values() if r["resource_type"].startswith("Custom::")
    ) == [
        "111111111111/BILLING",
        "123456789012/OPERATIONS",
        "123456789012/SECURITY",
    ]
    saved = json.loads((state_dir / "account-api.json").read_text())
    assert len(saved) == 3
    # AND it shows the contacts masked, never in clear
    assert "s*******@example.com" in deployed.stdout
    assert "security@example.com" not in deployed.stdout

    # WHEN a second run destroys
    destroyed = _run("destroy", assemblies, state_dir)

    # THEN it finds the stack and its contacts where the first run left them, and deletes them all
    assert destroyed.returncode == 0, destroyed.stdout + destroyed.stderr
    assert "restored 3 contacts" in destroyed.stdout
    assert f"destroy {EXAMPLE_STACK}: DELETE_COMPLETE" in destroyed.stdout
    assert destroyed.stdout.count("Delete ") == 3
    assert not (state_dir / "stacks" / f"{EXAMPLE_STACK}.json").exists()
    assert json.loads((state_dir / "account-api.json").read_text()) == []
