"""The provider's Lambda asset, built without Docker: the handler package plus the installed crhelper.

``cdk synth`` therefore works offline and on machines without a Docker engine, from this repository or
from a pip-installed copy of the library.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import importlib.util
import shutil
from pathlib import Path
from typing import Any

import jsii
from aws_cdk import AssetHashType, BundlingOptions, DockerImage, ILocalBundling
from aws_cdk import aws_lambda as lambda_

import cdk_alternate_contacts_handler
from cdk_alternate_contacts_handler.coverage_rules import FUNCTION_HANDLER

#: The Lambda handler, as the runtime imports it from the asset's root.
HANDLER = "cdk_alternate_contacts_handler.index.handler"

_IGNORED = shutil.ignore_patterns("__pycache__", "*.pyc", "*.pyi", "py.typed")


def handler_source() -> Path:
    """The folder of the handler package as installed (or, in a checkout, the repository's handler/)."""
    return Path(cdk_alternate_contacts_handler.__file__).resolve().parent


def crhelper_files() -> tuple[Path, Path]:
    """The installed crhelper package folder and its dist-info folder (kept so the version is visible)."""
    found = importlib.util.find_spec("crhelper")
    if found is None or found.origin is None:
        raise RuntimeError("crhelper is not installed: pip install cdk-alternate-contacts pulls it in")
    distribution = importlib.metadata.distribution("crhelper")
    dist_info = Path(str(distribution.locate_file(""))) / f"crhelper-{distribution.version}.dist-info"
    return Path(found.origin).parent, dist_info


@jsii.implements(ILocalBundling)
class CopyHandlerWithCrhelper:
    """Local bundler that copies the handler package and crhelper into the asset folder."""

    def try_bundle(self, output_dir: str, options: Any) -> bool:
        """Write the asset into ``output_dir``; returning True tells the CDK that Docker is not needed."""
        out = Path(output_dir)
        shutil.copytree(handler_source(), out / "cdk_alternate_contacts_handler", ignore=_IGNORED)
        package, dist_info = crhelper_files()
        shutil.copytree(package, out / "crhelper", ignore=_IGNORED)
        if dist_info.is_dir():
            shutil.copytree(dist_info, out / dist_info.name, ignore=_IGNORED)
        return True


def _local_code(bundler: Any, environment: dict[str, str] | None = None) -> lambda_.Code:
    """The handler package's folder as a function's code, bundled by ``bundler`` (Docker is never used)."""
    return lambda_.Code.from_asset(
        str(handler_source()),
        exclude=["__pycache__", "*.pyc"],
        asset_hash_type=AssetHashType.OUTPUT,
        bundling=BundlingOptions(
            # Required by the type; never pulled, because the local bundler always succeeds.
            image=DockerImage.from_registry("cdk-alternate-contacts-local-bundling-only"),
            environment=environment,
            local=bundler,
        ),
    )


def handler_code() -> lambda_.Code:
    """The provider function's code: the handler package and crhelper."""
    return _local_code(CopyHandlerWithCrhelper())


#: The coverage function's handler, in the same package.
COVERAGE_HANDLER = FUNCTION_HANDLER


@jsii.implements(ILocalBundling)
class CopyHandlerWithRules:
    """Local bundler of the coverage function: the handler package and the rules document beside it."""

    def __init__(self, rules_file: str, rules: str) -> None:
        self.rules_file = rules_file
        self.rules = rules

    def try_bundle(self, output_dir: str, options: Any) -> bool:
        """Write the asset into ``output_dir`` (the rules file readable by its owner only)."""
        out = Path(output_dir)
        shutil.copytree(handler_source(), out / "cdk_alternate_contacts_handler", ignore=_IGNORED)
        target = out / self.rules_file
        target.write_text(self.rules, encoding="utf-8")
        return True


def coverage_code(rules_file: str, rules: str) -> lambda_.Code:
    """The coverage function's code: its asset's hash covers the rules, so new rules are new code."""
    # The CDK caches bundles by source and options, not by the local bundler: the rules' digest in the
    # options keeps this asset apart from the provider's (same source folder) and from older rules.
    digest = hashlib.sha256(rules.encode()).hexdigest()
    return _local_code(CopyHandlerWithRules(rules_file, rules), {"CDK_ALTERNATE_CONTACTS_RULES_DIGEST": digest})
