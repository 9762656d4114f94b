"""The demo's steps (``make demo``) on app.py, the account-vending example: deploy, update, cover, destroy, checked.

The demo's own checks are the assertions: every request answered once, each step's requests as the data
files' changes imply, the accounts holding exactly what the data files say (the coverage's account through
its creation, its move into a unit and a change by hand), nothing personal in the logs.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from e2e_support import Assemblies

from localdeploy.cloud import LocalCloud
from localdeploy.demo import Checks, steps, verdict

pytestmark = pytest.mark.e2e


def test_app_deploys_updates_covers_and_destroys_as_its_data_files_say(
    cloud: LocalCloud, assemblies: Assemblies, tmp_path: Path
) -> None:
    # GIVEN app.py synthesized with examples/accounts.toml, and with examples/accounts-updated.toml
    cloud.reset()
    checks = Checks()
    shown: list[str] = []

    # WHEN the demo deploys the first, updates to the second, adds a coverage (synthesized here, once the unit
    # exists), follows an account created outside the data file, and destroys the stack
    steps(
        cloud=cloud,
        workdir=tmp_path,
        deploy_assembly=assemblies.app,
        update_assembly=assemblies.app_updated,
        checks=checks,
        out=shown.append,
    )

    # THEN every one of its checks held, and the demo would exit 0
    text = "\n".join(shown)
    assert checks.failed == [], text
    assert len(checks.results) >= 35
    assert verdict(checks, 0.0, shown.append) == 0
    assert "VERDICT: PASS" in shown[-1]
    # AND among them the COVER step's: the account created outside the data file got the defaults, moved into
    # the unit its rule, changed by hand it was put back, and it kept its contacts when the stack went
    names = [name for name, _, _ in checks.results]
    for step in ("cover 1: ", "cover 2: ", "cover 3: the reconciliation"):
        assert [name for name in names if name.startswith(step)], f"no check {step!r}"
    assert [name for name in names if name.startswith("destroy: ") and "kept by the coverage" in name]
    # AND the account it printed names the nested stacks, the events and masks every contact detail
    assert "nested stacks:" in text
    assert "CreateAccountResult" in text and "MoveAccount" in text and "Scheduled Event" in text
    assert "security@example.com" not in text and "payments-ops@example.com" not in text


def test_a_failed_check_fails_the_demo() -> None:
    # GIVEN checks of which one failed
    checks = Checks()
    checks.check("held", True)
    checks.check("did not hold", False, "why")
    shown: list[str] = []

    # WHEN the verdict is given THEN the exit code is 1, and the failed check is shown with its detail
    assert verdict(checks, 0.0, shown.append) == 1
    assert "  FAIL did not hold (why)" in shown and "VERDICT: FAIL, 1 of 2" in shown[-1]
