"""Synthesizing with the repository's pinned CDK CLI, and reading the cloud assembly it writes.

A cloud assembly is a folder with ``manifest.json``, one ``<Stack>.template.json`` and
``<Stack>.assets.json`` per stack, one ``<Nested>.nested.template.json`` per nested stack (a file asset of
its top-level stack), and an ``asset.<hash>/`` folder per file asset. A Lambda function's
``Code.S3Key`` (``<hash>.zip``) names its asset in the assets manifest; the asset's ``source.path`` is
the folder that would be zipped and uploaded: the code this tool runs.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

#: The repository root (this package lives at its top level).
REPO = Path(__file__).resolve().parent.parent


class AssemblyError(RuntimeError):
    """Synthesis failed or the assembly lacks what a template refers to."""


@dataclass(frozen=True)
class StackArtifact:
    """One stack of an assembly."""

    name: str
    template_path: Path
    assets_path: Path | None


class CloudAssembly:
    """A synthesized cloud assembly on disk.

    Parameters
    ----------
    directory:
        The folder holding ``manifest.json`` (``cdk.out``).
    """

    def __init__(self, directory: Path) -> None:
        self.directory = directory.resolve()
        manifest_path = self.directory / "manifest.json"
        if not manifest_path.exists():
            raise AssemblyError(f"{self.directory} is not a cloud assembly (no manifest.json)")
        self.manifest: dict[str, Any] = json.loads(manifest_path.read_text(encoding="utf-8"))

    def stacks(self) -> list[StackArtifact]:
        """The stacks, in manifest order (CDK writes them in dependency order)."""
        artifacts = self.manifest.get("artifacts", {})
        found = []
        for artifact_id, artifact in artifacts.items():
            if artifact.get("type") != "aws:cloudformation:stack":
                continue
            properties = artifact.get("properties", {})
            name = properties.get("stackName") or artifact.get("displayName") or artifact_id
            assets = None
            for dependency in artifact.get("dependencies", []):
                dep = artifacts.get(dependency, {})
                if dep.get("type") == "cdk:asset-manifest":
                    assets = self.directory / dep["properties"]["file"]
            found.append(StackArtifact(name, self.directory / properties["templateFile"], assets))
        return found

    def stack(self, name: str) -> StackArtifact:
        """The stack called ``name``.

        Raises
        ------
        AssemblyError
            Naming the stacks that do exist.
        """
        for artifact in self.stacks():
            if artifact.name == name:
                return artifact
        names = ", ".join(a.name for a in self.stacks()) or "none"
        raise AssemblyError(f"no stack {name} in {self.directory} (stacks: {names})")

    def template(self, name: str) -> dict[str, Any]:
        """The CloudFormation template of stack ``name``."""
        document: dict[str, Any] = json.loads(self.stack(name).template_path.read_text(encoding="utf-8"))
        return document

    def asset_dir(self, stack_name: str, object_key: str) -> Path:
        """The folder of the file asset uploaded as ``object_key`` (a Lambda ``Code.S3Key``).

        Raises
        ------
        AssemblyError
            When the key is not in the stack's assets manifest or the asset is not an unpacked folder.
        """
        artifact = self.stack(stack_name)
        if artifact.assets_path is None:
            raise AssemblyError(f"stack {stack_name} has no assets manifest")
        assets = json.loads(artifact.assets_path.read_text(encoding="utf-8"))
        for asset in assets.get("files", {}).values():
            keys = {d.get("objectKey") for d in asset.get("destinations", {}).values()}
            if object_key in keys:
                source = asset.get("source", {})
                folder = (self.directory / str(source.get("path", ""))).resolve()
                if source.get("packaging") != "zip" or not folder.is_dir():
                    raise AssemblyError(f"asset {object_key} is not a folder to zip: {folder}")
                return folder
        raise AssemblyError(f"no asset uploaded as {object_key} in {artifact.assets_path.name}")

    def nested_template(self, stack_name: str, template_url: str) -> dict[str, Any]:
        """The template a nested stack's ``TemplateURL`` names, found in the stack's assets manifest.

        The CDK uploads each nested template as a file asset of the top-level stack; its URL ends in
        ``/<hash>.json``, the asset's object key, whatever the bucket part resolves to.

        Raises
        ------
        AssemblyError
            When no file asset of the stack is uploaded under that key (a template from elsewhere).
        """
        object_key = template_url.rsplit("/", 1)[-1]
        artifact = self.stack(stack_name)
        if artifact.assets_path is None:
            raise AssemblyError(f"stack {stack_name} has no assets manifest, so no nested template {object_key}")
        assets = json.loads(artifact.assets_path.read_text(encoding="utf-8"))
        for asset in assets.get("files", {}).values():
            keys = {d.get("objectKey") for d in asset.get("destinations", {}).values()}
            source = asset.get("source", {})
            if object_key in keys and source.get("packaging", "file") == "file":
                path = (self.directory / str(source.get("path", ""))).resolve()
                document: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
                return document
        raise AssemblyError(
            f"TemplateURL {template_url}: no nested template uploaded as {object_key} in {artifact.assets_path.name}"
        )


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
