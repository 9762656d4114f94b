"""The repository's app as synthesized for the robustness tests: its template and its Lambda asset.

The cloud assembly is read with the project's one reader, :mod:`cdk_alternate_contacts_cli.cloud_assembly`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cdk_alternate_contacts_cli.cloud_assembly import CloudAssembly


@dataclass(frozen=True)
class SynthesizedApp:
    """app.py's cloud assembly: its stack's template, its nested stacks' templates, the provider's asset."""

    outdir: Path
    stack_name: str
    template: dict[str, Any]
    asset: Path
    #: The nested stacks' templates, by the path of logical ids from the stack down.
    nested: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def templates(self) -> list[dict[str, Any]]:
        """The stack's template and every nested stack's."""
        return [self.template, *self.nested.values()]


def synthesized_app(outdir: Path) -> SynthesizedApp:
    """The one stack of the cloud assembly in ``outdir``, its nested stacks and its provider's asset."""
    (stack,) = CloudAssembly(outdir).stacks
    return SynthesizedApp(
        outdir, stack.stack_name, stack.template(), function_asset(outdir, stack.stack_name), stack.nested_templates()
    )


def function_asset(outdir: Path, stack_name: str) -> Path:
    """The folder the provider function's code is zipped from, found as localdeploy finds it: by S3 key."""
    stack = CloudAssembly(outdir).stack(stack_name)
    (function,) = [r for r in stack.template()["Resources"].values() if r["Type"] == "AWS::Lambda::Function"]
    return stack.asset_dir(function["Properties"]["Code"]["S3Key"])
