"""plan, deploy through the real handler, drift: the tool reads exactly what the provider writes.

The stack is deployed by localdeploy's engine: the synthesized asset runs under awslambdaric against a
moto_server of its own, as in tests/e2e. Nothing else in tests/cli deploys: the other tests set contacts
directly, which is quicker and says the same for the tool.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from cli_support import CALLER, SECURITY, Assemblies, Cli, moto_environment, put, rows

from localdeploy.assembly import CloudAssembly
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
