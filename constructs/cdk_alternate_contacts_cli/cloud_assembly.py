"""The one reader of a synthesized cloud assembly (``cdk.out``), without loading aws_cdk.

A cloud assembly is a folder holding ``manifest.json``, which lists the stacks (and the assemblies of CDK
Stages, in sub-folders), one template per stack, and an assets manifest per stack. A nested stack is an
``AWS::CloudFormation::Stack`` resource whose ``TemplateURL`` names a file asset of its top-level stack: its
object key (``<hash>.json``) leads, through the assets manifest, to the template in the assembly. A Lambda
function's ``Code.S3Key`` (``<hash>.zip``) names its asset the same way; the asset's ``source.path`` is the
folder that would be zipped and uploaded.

Used by the command-line tool (the contacts an app declares), by localdeploy (the templates and code it
deploys) and by the tests.
"""

from __future__ import annotations

import fnmatch
import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

STACK_ARTIFACT: Final = "aws:cloudformation:stack"
NESTED_ASSEMBLY_ARTIFACT: Final = "cdk:cloud-assembly"
ASSET_MANIFEST_ARTIFACT: Final = "cdk:asset-manifest"
NESTED_STACK_TYPE: Final = "AWS::CloudFormation::Stack"

#: Stages and nested stacks deeper than this are reported, not followed (CloudFormation allows few levels).
MAX_NESTING: Final = 10

#: The environment CDK writes for an environment-agnostic stack.
UNKNOWN_ACCOUNT: Final = "unknown-account"
UNKNOWN_REGION: Final = "unknown-region"


class AssemblyError(Exception):
    """The cloud assembly is missing or unreadable, or lacks a stack, template or asset asked for."""


@dataclass(frozen=True)
class StackArtifact:
    """One top-level stack of the assembly.

    Attributes
    ----------
    name:
        The name the CDK CLI shows and ``--stack`` matches: ``Contacts``, or ``Prod/Contacts`` inside a Stage.
    stack_name:
        The CloudFormation stack name.
    artifact_id:
        The manifest's key for the stack.
    template_path:
        The template file.
    account, region:
        The stack's environment when the app fixes it; ``None`` for an environment-agnostic stack.
    assets_path:
        The stack's assets manifest (it lists the templates of every nested stack below it, and the code of
        its functions); ``None`` when the stack has none.
    """

    name: str
    stack_name: str
    artifact_id: str
    template_path: Path
    account: str | None
    region: str | None
    assets_path: Path | None

    def matches(self, pattern: str) -> bool:
        """Whether ``--stack pattern`` selects this stack (a glob on any of its names, as the CDK CLI does)."""
        return any(fnmatch.fnmatchcase(name, pattern) for name in (self.name, self.stack_name, self.artifact_id))

    def template(self) -> dict[str, Any]:
        """The stack's CloudFormation template."""
        return read_json(self.template_path, f"template of stack {self.name}")

    def nested_template_path(self, resource: Mapping[str, Any]) -> Path | None:
        """The template of the nested stack ``resource`` in the assembly, ``None`` when it is not there: by the
        object key of its TemplateURL, else by the CDK's ``aws:asset:path`` metadata."""
        key = object_key((resource.get("Properties") or {}).get("TemplateURL"))
        found = self._file_asset(key, packaging="file") if key else None
        if found is not None and found.is_file():
            return found
        asset_path = (resource.get("Metadata") or {}).get("aws:asset:path")
        directory = self.template_path.parent
        if isinstance(asset_path, str) and (directory / asset_path).is_file():
            return (directory / asset_path).resolve()
        return None

    def nested_template(self, template_url: Any) -> dict[str, Any]:
        """The template a nested stack's ``TemplateURL`` names (a string, or the CDK's ``Fn::Join``).

        Raises
        ------
        AssemblyError
            When no file asset of the stack is uploaded under its object key (a template from elsewhere).
        """
        key = object_key(template_url)
        path = self._file_asset(key, packaging="file") if key else None
        if path is None:
            raise AssemblyError(
                f"TemplateURL {template_url}: no nested template uploaded as {key} in the assets of {self.name}"
            )
        return read_json(path, f"nested template {key} of stack {self.name}")

    def nested_template_paths(self) -> dict[str, Path]:
        """Every nested stack's template below this stack, by the path of logical ids (``Members/Inner``).

        Raises
        ------
        AssemblyError
            When a nested stack's template is not in the assembly.
        """
        found: dict[str, Path] = {}
        pending: list[tuple[str, dict[str, Any]]] = [("", self.template())]
        while pending:
            prefix, template = pending.pop(0)
            for logical_id, resource in (template.get("Resources") or {}).items():
                if resource.get("Type") != NESTED_STACK_TYPE:
                    continue
                where = f"{prefix}{logical_id}"
                path = self.nested_template_path(resource)
                if path is None:
                    raise AssemblyError(f"nested stack {self.name}/{where}: its template is not in the assembly")
                found[where] = path
                if where.count("/") < MAX_NESTING:
                    pending.append((f"{where}/", read_json(path, f"template of nested stack {where}")))
        return found

    def nested_templates(self) -> dict[str, dict[str, Any]]:
        """Every nested stack's template below this stack, read, by the path of logical ids."""
        return {
            where: read_json(path, f"template of nested stack {where}")
            for where, path in self.nested_template_paths().items()
        }

    def asset_dir(self, key: str) -> Path:
        """The folder of the file asset uploaded as ``key`` (a Lambda function's ``Code.S3Key``).

        Raises
        ------
        AssemblyError
            When the key is not in the stack's assets manifest or the asset is not an unpacked folder.
        """
        folder = self._file_asset(key, packaging="zip")
        if folder is None:
            raise AssemblyError(f"no folder to zip uploaded as {key} in the assets of {self.name}")
        if not folder.is_dir():
            raise AssemblyError(f"asset {key} is not a folder to zip: {folder}")
        return folder

    def _file_asset(self, key: str, *, packaging: str) -> Path | None:
        """The source of the stack's file asset uploaded as ``key`` and packaged so (``file``, ``zip``)."""
        if self.assets_path is None or not self.assets_path.is_file():
            return None
        assets = read_json(self.assets_path, f"assets manifest of stack {self.name}")
        for asset in (assets.get("files") or {}).values():
            keys = {d.get("objectKey") for d in (asset.get("destinations") or {}).values()}
            source = asset.get("source") or {}
            if key in keys and source.get("packaging", "file") == packaging and source.get("path"):
                return (self.assets_path.parent / str(source["path"])).resolve()
        return None


def read_json(path: Path, what: str) -> dict[str, Any]:
    """The JSON object in ``path``; ``what`` names it in the :class:`AssemblyError` raised when it cannot be read."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise AssemblyError(f"{what} not found: {path}") from None
    except (OSError, ValueError) as error:
        raise AssemblyError(f"cannot read {what} {path}: {error}") from None
    if not isinstance(document, dict):
        raise AssemblyError(f"{what} {path} is not a JSON object")
    return document


def object_key(template_url: Any) -> str | None:
    """The object key a nested stack's ``TemplateURL`` ends with: of a string, or of the last literal of the
    ``Fn::Join`` the CDK writes (``https://s3.<region>.<suffix>/<bucket>/<hash>.json``) before the deploy."""
    tail = template_url
    if isinstance(template_url, Mapping) and isinstance(template_url.get("Fn::Join"), list):
        parts = template_url["Fn::Join"][1] if len(template_url["Fn::Join"]) == 2 else None
        tail = parts[-1] if isinstance(parts, list) and parts else None
    return tail.rsplit("/", 1)[-1] if isinstance(tail, str) and tail else None


class CloudAssembly:
    """A synthesized cloud assembly on disk.

    Parameters
    ----------
    directory:
        The folder holding ``manifest.json`` (``cdk.out``).

    Raises
    ------
    AssemblyError
        When there is no readable manifest: the app has not been synthesized there.
    """

    def __init__(self, directory: Path) -> None:
        self.directory = directory.resolve()
        #: Every stack, those of Stages included, in manifest order (CDK writes them in dependency order).
        self.stacks: list[StackArtifact] = list(_stacks(self.directory, prefix="", depth=0))

    def select(self, patterns: Sequence[str]) -> list[StackArtifact]:
        """The stacks that ``--stack`` patterns select, in manifest order; all of them without patterns.

        Raises
        ------
        AssemblyError
            When a pattern selects no stack; the message lists the stacks there are.
        """
        if not patterns:
            return list(self.stacks)
        for pattern in patterns:
            if not any(stack.matches(pattern) for stack in self.stacks):
                raise AssemblyError(f"no stack matches {pattern!r} in {self.directory} (stacks: {self._names()})")
        return [stack for stack in self.stacks if any(stack.matches(p) for p in patterns)]

    def stack(self, name: str | StackArtifact) -> StackArtifact:
        """The stack whose CloudFormation name is ``name`` (else whose display name or artifact id is).

        Raises
        ------
        AssemblyError
            Naming the stacks that do exist.
        """
        if isinstance(name, StackArtifact):
            return name
        found = [s for s in self.stacks if s.stack_name == name] or [
            s for s in self.stacks if name in (s.name, s.artifact_id)
        ]
        if found:
            return found[0]
        raise AssemblyError(f"no stack {name} in {self.directory} (stacks: {self._names()})")

    def template(self, stack: str | StackArtifact) -> dict[str, Any]:
        """The CloudFormation template of a stack (:meth:`StackArtifact.template`)."""
        return self.stack(stack).template()

    def nested_template(self, stack: str | StackArtifact, template_url: Any) -> dict[str, Any]:
        """The template a nested stack of ``stack`` names (:meth:`StackArtifact.nested_template`)."""
        return self.stack(stack).nested_template(template_url)

    def asset_dir(self, stack: str | StackArtifact, key: str) -> Path:
        """The folder of a file asset of ``stack`` (:meth:`StackArtifact.asset_dir`)."""
        return self.stack(stack).asset_dir(key)

    def _names(self) -> str:
        return ", ".join(stack.name for stack in self.stacks) or "none"


def _stacks(directory: Path, *, prefix: str, depth: int) -> Iterator[StackArtifact]:
    manifest_path = directory / "manifest.json"
    if not manifest_path.is_file():
        raise AssemblyError(
            f"{directory} is not a cloud assembly (no manifest.json): run `cdk synth` first, or point --cdk-out "
            "at the folder it writes"
        )
    artifacts = read_json(manifest_path, "cloud assembly manifest").get("artifacts", {})
    for artifact_id, artifact in artifacts.items():
        kind = artifact.get("type")
        properties = artifact.get("properties", {})
        if kind == NESTED_ASSEMBLY_ARTIFACT and depth < MAX_NESTING:
            # A CDK Stage: its stacks live in an assembly of their own, named "<Stage>/<Stack>" by the CDK CLI.
            stage = properties.get("displayName") or artifact_id
            yield from _stacks(directory / properties["directoryName"], prefix=f"{prefix}{stage}/", depth=depth + 1)
        elif kind == STACK_ARTIFACT:
            account, region = _environment(str(artifact.get("environment", "")))
            assets = None
            for dependency in artifact.get("dependencies", []):
                dependent = artifacts.get(dependency, {})
                if dependent.get("type") == ASSET_MANIFEST_ARTIFACT:
                    assets = directory / dependent["properties"]["file"]
            display = artifact.get("displayName") or artifact_id
            yield StackArtifact(
                name=display if "/" in display else f"{prefix}{display}",
                stack_name=str(properties.get("stackName") or artifact_id),
                artifact_id=artifact_id,
                template_path=directory / properties["templateFile"],
                account=account,
                region=region,
                assets_path=assets,
            )


def _environment(environment: str) -> tuple[str | None, str | None]:
    """``aws://123456789012/eu-west-1`` -> the account and the region, ``None`` where CDK wrote unknown."""
    account, _, region = environment.removeprefix("aws://").partition("/")
    return (
        account if account and account != UNKNOWN_ACCOUNT else None,
        region if region and region != UNKNOWN_REGION else None,
    )
