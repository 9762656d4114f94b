"""Set-up shared by the robustness tests: the repository's app.py, synthesized once per session.

The security review reads its templates (nested stacks included); the runtime tests run the Lambda asset it
bundled. The synthesis is tests/conftest.py's ``example_app``, the one the construct tests read too: app.py
run as ``cdk synth`` runs it (cdk-nag included) into the CDK's own temporary cloud assembly; jsii is only
started when a test asks for it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from app_synth import SynthesizedApp, synthesized_app

if TYPE_CHECKING:
    from construct_synth import Synthesized


@pytest.fixture(scope="session")
def example_synth(example_app: Synthesized) -> SynthesizedApp:
    """app.py's cloud assembly, read as the security review and the runtime tests read it (the one session
    synthesis of app.py, tests/conftest.py's ``example_app``)."""
    if example_app.error is not None:
        pytest.fail(f"app.py did not synthesize: {example_app.error}", pytrace=False)
    return synthesized_app(example_app.outdir)
