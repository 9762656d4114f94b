"""Fixtures of the command-line tool's tests: one moto_server and the synthesized apps, per session.

The tool runs as users run it, as the installed console script in a subprocess, against a real
moto_server on 127.0.0.1 (reset before each test). The CDK apps it reads are synthesized once, in one
process, since jsii's start-up is most of the cost.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
# cli_support sits here (localdeploy is a development package installed by scripts/setup.sh).
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

from cli_support import CONSOLE_SCRIPT, Assemblies, Cli, Synthesizer, moto_environment  # noqa: E402

from localdeploy.moto import MotoServer  # noqa: E402


@pytest.fixture(scope="session")
def moto(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MotoServer]:
    """moto_server on a free 127.0.0.1 port, for the session."""
    if not CONSOLE_SCRIPT.exists():
        pytest.fail(f"{CONSOLE_SCRIPT} not found: run `.venv/bin/pip install --no-deps -e .`", pytrace=False)
    server = MotoServer(tmp_path_factory.mktemp("moto") / "moto_server.log").start()
    yield server
    server.stop()


@pytest.fixture
def endpoint(moto: MotoServer) -> str:
    """moto_server's URL, every account emptied first."""
    moto.reset()
    return moto.endpoint


@pytest.fixture
def cli(endpoint: str) -> Cli:
    """The console script, run against a freshly reset moto_server."""
    return Cli(moto_environment(endpoint))


@pytest.fixture
def aws(endpoint: str) -> Any:
    """boto3 clients on moto_server, for a test to arrange accounts and contacts: ``aws("account")``."""
    session = boto3.Session(aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-east-1")
    return lambda service: session.client(service, endpoint_url=endpoint)


def _toolchain_environment() -> dict[str, str]:
    """What the Makefile gives the CDK: the pinned Node for jsii, no version check, no network."""
    node_bin = REPO / "node_modules" / ".bin"
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join([str(node_bin), str(Path(sys.executable).parent), env.get("PATH", "")])
    env["JSII_NODE"] = str(node_bin / "node")
    env["JSII_SILENCE_WARNING_UNTESTED_NODE_VERSION"] = "1"
    env["CDK_DISABLE_VERSION_CHECK"] = "1"
    return env


@pytest.fixture(scope="session", autouse=True)
def _synthesis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Synthesizer, Path]]:
    """Start synthesizing tests/cli/apps/cli_apps.py as the session starts, so that it overlaps the start of
    moto_server and the tests that need no app; :func:`assemblies` waits for it. It then stays up for
    :func:`synthesizer`'s requests until the session ends."""
    out = tmp_path_factory.mktemp("cli-assemblies")
    process = subprocess.Popen(
        [sys.executable, str(HERE / "apps" / "cli_apps.py"), str(out), "--serve"],
        cwd=REPO,
        env=_toolchain_environment(),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    synthesizer = Synthesizer(process)
    yield synthesizer, out
    synthesizer.stop()


@pytest.fixture(scope="session")
def assemblies(_synthesis: tuple[Synthesizer, Path]) -> Assemblies:
    """The ``basic``, ``nested``, ``deploy_time`` and ``vended`` cloud assemblies of tests/cli/apps/cli_apps.py,
    synthesized once."""
    synthesizer, out = _synthesis
    try:
        synthesizer.wait_for("@@ready", timeout_s=300)
    except AssertionError as error:
        pytest.fail(f"synthesis of tests/cli/apps/cli_apps.py failed: {error}", pytrace=False)
    return Assemblies(
        basic=out / "basic", nested=out / "nested", deploy_time=out / "deploy_time", vended=out / "vended"
    )


@pytest.fixture(scope="session")
def synthesizer(_synthesis: tuple[Synthesizer, Path], assemblies: Assemblies) -> Synthesizer:
    """The session's synthesis process, ready to synthesize an app from a contacts file
    (:meth:`Synthesizer.from_file`)."""
    return _synthesis[0]
