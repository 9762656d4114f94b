"""Set-up shared by the robustness tests: the repository's app.py, synthesized once per session.

The security review reads its templates (nested stacks included); the runtime tests run the Lambda asset it
bundled. The synthesis
is the one ``cdk synth`` performs (app.py run as a script, cdk-nag included) into the CDK's own temporary
cloud assembly; jsii is only started when a test asks for it.
"""

from __future__ import annotations

import runpy
from pathlib import Path

import pytest
from app_synth import SynthesizedApp, synthesized_app


@pytest.fixture(scope="session")
def example_synth() -> SynthesizedApp:
    """Run app.py as ``cdk synth`` does, into a temporary cloud assembly."""
    # Imported here, not at the top: it starts jsii (Node), which only the tests using this fixture need, and
    # it points jsii at the repository's pinned Node before aws_cdk loads.
    import construct_synth  # noqa: PLC0415

    namespace = runpy.run_path(str(construct_synth.REPO / "app.py"), run_name="__main__")
    # app.py has synthesized already (into a temporary folder of the CDK's); synth() returns that assembly.
    return synthesized_app(Path(namespace["app"].synth().directory))
