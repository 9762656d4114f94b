"""Synthesizing with the repository's pinned CDK CLI.

The cloud assembly it writes is read with the project's one reader,
:class:`cdk_alternate_contacts_cli.cloud_assembly.CloudAssembly`: the templates this tool deploys and, by
each Lambda function's ``Code.S3Key``, the asset folder whose code it runs.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping
from pathlib import Path

from cdk_alternate_contacts_cli.cloud_assembly import AssemblyError, CloudAssembly

#: The repository root (this package lives at its top level).
REPO = Path(__file__).resolve().parent.parent


def cdk_environment() -> dict[str, str]:
    """The environment the Makefile gives the CDK CLI, so that ``python -m localdeploy`` works alone too."""
    env = dict(os.environ)
    bin_dir = REPO / "node_modules" / ".bin"
    venv_bin = REPO / ".venv" / "bin"
    env["PATH"] = os.pathsep.join([str(bin_dir), str(venv_bin), env.get("PATH", "")])
    if (bin_dir / "node").exists():
        env.setdefault("JSII_NODE", str(bin_dir / "node"))
    env["CDK_DISABLE_VERSION_CHECK"] = "1"
    env.setdefault("JSII_SILENCE_WARNING_UNTESTED_NODE_VERSION", "1")
    return env


def synth(outdir: Path, *, app: str | None = None, context: Mapping[str, str] | None = None) -> CloudAssembly:
    """Synthesize with the pinned CDK CLI (``cdk synth -q -o outdir``) from the repository root.

    Parameters
    ----------
    outdir:
        Where the assembly is written.
    app:
        ``--app`` for the CLI: a command, or a folder holding an assembly already synthesized (then it is
        read as is, as ``cdk deploy --app cdk.out`` does). Default: cdk.json's app (the repository's app.py).
    context:
        ``-c key=value`` pairs.

    Raises
    ------
    AssemblyError
        When the CLI fails; the message carries its output.
    """
    if app is not None and Path(app).is_dir():
        return CloudAssembly(Path(app))
    cdk = REPO / "node_modules" / ".bin" / "cdk"
    command = [str(cdk) if cdk.exists() else "cdk", "synth", "-q", "-o", str(outdir)]
    if app is not None:
        command += ["--app", app]
    for key, value in (context or {}).items():
        command += ["-c", f"{key}={value}"]
    result = subprocess.run(command, cwd=REPO, env=cdk_environment(), capture_output=True, text=True, check=False)
    if result.returncode != 0:
        output = (result.stdout + result.stderr).strip().splitlines()
        raise AssemblyError(f"cdk synth failed ({result.returncode}):\n" + "\n".join(output[-30:]))
    return CloudAssembly(outdir)
