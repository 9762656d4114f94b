"""The repository's app as synthesized for the robustness tests: its template and its Lambda asset."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class SynthesizedApp:
    """app.py's cloud assembly: its stack's template, its nested stacks' templates, the provider's asset."""

    outdir: Path
    stack_name: str
    template: dict[str, Any]
    asset: Path
    nested: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def templates(self) -> list[dict[str, Any]]:
        """The stack's template and every nested stack's."""
        return [self.template, *self.nested.values()]


def nested_templates(outdir: Path, template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The templates of the nested stacks a template declares (recursively), by file name.

    The CDK writes each next to the parent's and names the file in the resource's ``aws:asset:path``
    metadata; without it, the cloud assembly's ``*.nested.template.json`` files are all of them.
    """
    found: dict[str, dict[str, Any]] = {}
    names = [
        r.get("Metadata", {}).get("aws:asset:path")
        for r in template["Resources"].values()
        if r["Type"] == "AWS::CloudFormation::Stack"
    ]
    if names and not all(names):
        names = [path.name for path in outdir.glob("*.nested.template.json")]
    for name in names:
        child = json.loads((outdir / str(name)).read_text())
        found[str(name)] = child
        found.update(nested_templates(outdir, child))
    return found


def function_asset(outdir: Path, stack_name: str, template: dict[str, Any]) -> Path:
    """The folder the provider function's code is zipped from, found as the CLI finds it: by S3 key."""
    (function,) = [r for r in template["Resources"].values() if r["Type"] == "AWS::Lambda::Function"]
    key = function["Properties"]["Code"]["S3Key"]
    assets = json.loads((outdir / f"{stack_name}.assets.json").read_text())["files"]
    (source,) = [
        str(asset["source"]["path"])
        for asset in assets.values()
        if any(d["objectKey"] == key for d in asset["destinations"].values())
    ]
    return outdir / source
