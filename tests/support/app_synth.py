"""The repository's app as synthesized for the robustness tests: its template and its Lambda asset."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class SynthesizedApp:
    """app.py's cloud assembly: its stack template and the provider's asset folder."""

    outdir: Path
    stack_name: str
    template: dict[str, Any]
    asset: Path


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
