"""The tool starts without aws_cdk or jsii, runs where only boto3 is installed, and is reachable with -m."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

from cli_support import REPO, Assemblies, moto_environment

#: What the Lambda runtime provides: Python with boto3 (and awslambdaric), no aws_cdk (scripts/setup.sh).
BOTO3_ONLY_PYTHON = REPO / ".venv-lambda" / "bin" / "python"

#: Source roots of the two packages the tool needs, for an interpreter that has not installed them.
SOURCE_ROOTS = os.pathsep.join([str(REPO / "constructs"), str(REPO / "handler")])


def _imported(stderr: str) -> set[str]:
    """Module names from ``python -X importtime`` output."""
    names = set()
    for line in stderr.splitlines():
        if line.startswith("import time:") and "|" in line:
            names.add(line.rsplit("|", 1)[1].strip())
    return names


def _python(
    *args: str | Path,
    env: Mapping[str, str] | None,
    python: str | Path = sys.executable,
    timeout: float = 60,
) -> subprocess.CompletedProcess[str]:
    """``python`` run with ``args`` in ``env`` (``None``: this process's), its output captured as text."""
    return subprocess.run(
        [str(python), *map(str, args)], env=env, capture_output=True, text=True, timeout=timeout, check=False
    )


def test_a_full_run_never_imports_aws_cdk_jsii_or_the_construct_library(endpoint: str, assemblies: Assemblies) -> None:
    # WHEN the tool plans an app, with Python reporting every import
    result = _python(
        "-X",
        "importtime",
        "-m",
        "cdk_alternate_contacts_cli",
        "plan",
        "--cdk-out",
        assemblies.basic,
        env=moto_environment(endpoint),
    )

    # THEN it worked, with boto3 and the shared spec, and without the CDK or the construct package
    assert result.returncode == 0, result.stderr[-2000:]
    imported = _imported(result.stderr)
    assert {"boto3", "cdk_alternate_contacts_handler.spec", "cdk_alternate_contacts_cli.assembly"} <= imported
    assert (
        sorted(
            name
            for name in imported
            if name.split(".")[0] in {"aws_cdk", "jsii", "constructs", "cdk_alternate_contacts"}
        )
        == []
    )


def test_help_imports_neither_boto3_nor_the_cdk() -> None:
    result = _python("-X", "importtime", "-m", "cdk_alternate_contacts_cli", "--help", env=None)

    assert result.returncode == 0
    assert (
        sorted(
            name for name in _imported(result.stderr) if name.split(".")[0] in {"boto3", "botocore", "aws_cdk", "jsii"}
        )
        == []
    )


def test_the_tool_runs_where_only_boto3_is_installed(endpoint: str, assemblies: Assemblies) -> None:
    # GIVEN an interpreter with boto3 and without aws_cdk
    assert BOTO3_ONLY_PYTHON.exists(), "run `make setup`: it creates .venv-lambda"
    no_cdk = subprocess.run([str(BOTO3_ONLY_PYTHON), "-c", "import aws_cdk"], capture_output=True, check=False)
    assert no_cdk.returncode != 0

    # WHEN it runs the tool from the sources
    result = _python(
        "-m",
        "cdk_alternate_contacts_cli",
        "plan",
        "--cdk-out",
        assemblies.basic,
        "--stack",
        "Contacts",
        env=moto_environment(endpoint, PYTHONPATH=SOURCE_ROOTS),
        python=BOTO3_ONLY_PYTHON,
    )

    # THEN the plan is complete
    assert result.returncode == 0, result.stderr
    assert "Plan: 4 to create, 0 to update, 0 unchanged." in result.stdout


def test_python_m_cdk_alternate_contacts_runs_the_same_tool(endpoint: str, assemblies: Assemblies) -> None:
    # WHEN the user runs the tool through the construct package, as the issue asks (its import loads aws_cdk)
    env = moto_environment(
        endpoint,
        JSII_NODE=str(REPO / "node_modules" / ".bin" / "node"),
        JSII_SILENCE_WARNING_UNTESTED_NODE_VERSION="1",
    )
    args = ["plan", "--cdk-out", str(assemblies.basic), "--stack", "Contacts"]
    through_package = _python("-m", "cdk_alternate_contacts", *args, env=env, timeout=120)
    console = _python("-m", "cdk_alternate_contacts_cli", *args, env=env)

    # THEN it prints the same plan and exits the same way
    assert through_package.returncode == console.returncode == 0, through_package.stderr
    assert through_package.stdout == console.stdout
