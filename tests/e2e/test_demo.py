"""The demo's steps (``make demo``) on app.py, the account-vending example: deploy, update, destroy, checked.

The demo's own checks are the assertions: every request answered once, each step's requests as the data
files' changes imply, the accounts holding exactly what the data files say, nothing personal in the logs.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from e2e_support import Assemblies

from localdeploy.cloud import LocalCloud
from localdeploy.demo import Checks, steps

pytestmark = pytest.mark.e2e


def test_app_deploys_updates_and_destroys_as_its_data_files_say(
    cloud: LocalCloud, assemblies: Assemblies, tmp_path: Path
) -> None:
    # GIVEN app.py synthesized with examples/accounts.toml, and with examples/accounts-updated.toml
    cloud.reset()
    checks = Checks()
    shown: list[str] = []

    # WHEN the demo deploys the first, updates to the second and destroys the stack
    steps(
        cloud=cloud,
        state_dir=tmp_path / "state",
        deploy_assembly=assemblies.app,
        update_assembly=assemblies.app_updated,
        checks=checks,
        out=shown.append,
    )

    # THEN every one of its checks held
    assert checks.failed == [], "\n".join(shown)
    assert len(checks.results) >= 20
    # AND the account it printed names the nested stacks and masks every contact detail
    text = "\n".join(shown)
    assert "nested stacks:" in text
    assert "security@example.com" not in text
