"""Shared test set-up: no test may reach AWS, so every process gets fake credentials and a region; and the
repository's app.py, synthesized in this process once per session for every folder that reads it."""

from __future__ import annotations

import os
import runpy
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from construct_synth import Synthesized

# Set before any test module imports boto3 or the handler (crhelper builds clients at import time).
for _key in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN", "AWS_ENDPOINT_URL"):
    os.environ.pop(_key, None)
os.environ["AWS_ACCESS_KEY_ID"] = "testing"
os.environ["AWS_SECRET_ACCESS_KEY"] = "testing"
os.environ["AWS_REGION"] = "us-east-1"
os.environ["AWS_DEFAULT_REGION"] = "us-east-1"


@pytest.fixture(scope="session")
def example_app() -> Synthesized:
    """The repository's app.py run in this process, its cdk-nag check included, as ``cdk synth`` runs it.

    Used by tests/construct (its templates, cdk-nag's verdict) and tests/robustness (its templates and the
    Lambda asset it bundled). A failed cdk-nag check is kept for the test that reports it.
    """
    # Imported here, not at the top: it starts jsii (Node), which only the tests using this fixture need, and
    # it points jsii at the repository's pinned Node before aws_cdk loads.
    import construct_synth  # noqa: PLC0415

    # isort: split
    import aws_cdk as cdk  # noqa: PLC0415

    try:
        namespace = runpy.run_path(str(construct_synth.REPO / "app.py"), run_name="__main__")
    except RuntimeError as error:
        return construct_synth.Synthesized(cdk.App(), Path(), error)
    app = namespace["app"]
    # app.py has synthesized already; without force, synth() returns that same assembly.
    return construct_synth.Synthesized(app, Path(app.synth().directory), None, {"stack": namespace["stack"]})
