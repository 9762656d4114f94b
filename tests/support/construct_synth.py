"""Helpers and constants for tests/construct (tests/support is on pytest's pythonpath).

Importing this module first points jsii at the repository's pinned Node: jsii reads its settings once, when
the first aws_cdk import starts its Node process.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
NODE_BIN = REPO / "node_modules" / ".bin"

if (NODE_BIN / "node").exists():
    os.environ.setdefault("JSII_NODE", str(NODE_BIN / "node"))
os.environ.setdefault("JSII_SILENCE_WARNING_UNTESTED_NODE_VERSION", "1")
os.environ.setdefault("CDK_DISABLE_VERSION_CHECK", "1")

import aws_cdk as cdk  # noqa: E402 - after the jsii settings above
from aws_cdk.assertions import Template  # noqa: E402
from constructs import Construct  # noqa: E402

from cdk_alternate_contacts import AlternateContactType  # noqa: E402
from cdk_alternate_contacts_cli.cloud_assembly import CloudAssembly  # noqa: E402
from cdk_alternate_contacts_cli.intrinsics import Scope, resolve  # noqa: E402

#: Closes every network route of a subprocess: a proxy on a closed local port, no instance metadata.
OFFLINE_ENV = {
    "HTTP_PROXY": "http://127.0.0.1:9",
    "HTTPS_PROXY": "http://127.0.0.1:9",
    "http_proxy": "http://127.0.0.1:9",
    "https_proxy": "http://127.0.0.1:9",
    "NO_PROXY": "",
    "no_proxy": "",
    "AWS_EC2_METADATA_DISABLED": "true",
}

MEMBER_BILLING_ACCOUNT = "111111111111"
MEMBER_SECURITY_ACCOUNT = "222222222222"

#: A valid contact; tests override one field at a time.
CONTACT: dict[str, Any] = {
    "contact_type": AlternateContactType.SECURITY,
    "email_address": "security@example.com",
    "name": "Security team",
    "phone_number": "+1 206 555 0100",
    "title": "CISO office",
}


def new_app(outdir: Path, *, bundle: bool = True) -> cdk.App:
    """An app that writes to ``outdir`` and, like ``cdk synth``, records construct paths and asset folders.

    ``bundle=False`` skips building the provider's asset, for tests that only construct.
    """
    context: dict[str, Any] = {"aws:cdk:enable-path-metadata": True, "aws:cdk:enable-asset-metadata": True}
    if not bundle:
        context["aws:cdk:bundling-stacks"] = []
    return cdk.App(outdir=str(outdir), context=context)


def toolchain_env(**extra: str) -> dict[str, str]:
    """The environment the Makefile gives its commands: the venv's Python, the pinned Node and CDK CLI."""
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join([str(NODE_BIN), str(Path(sys.executable).parent), env.get("PATH", "")])
    env["JSII_NODE"] = str(NODE_BIN / "node")
    env["CDK_DISABLE_VERSION_CHECK"] = "1"
    env["JSII_SILENCE_WARNING_UNTESTED_NODE_VERSION"] = "1"
    env.update(extra)
    return env


def run(command: list[str], *, cwd: Path, env: dict[str, str], timeout: float = 300) -> str:
    """Run a command and return its stdout; fail the test with both streams when it does not succeed."""
    proc = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False)
    if proc.returncode != 0:
        pytest.fail(
            f"{' '.join(command)} exited {proc.returncode}\n--- stdout\n{proc.stdout[-4000:]}\n"
            f"--- stderr\n{proc.stderr[-4000:]}",
            pytrace=False,
        )
    return proc.stdout


#: Every reference kept as a placeholder: ``{"Ref": X}`` (pseudo parameters too) as ``${X}``, an attribute as
#: its ``Fn::GetAtt``.
PLACEHOLDERS = Scope(
    account="${AWS::AccountId}",
    partition="${AWS::Partition}",
    region="${AWS::Region}",
    url_suffix="${AWS::URLSuffix}",
    stack_name="${AWS::StackName}",
    stack_id="${AWS::StackId}",
    ref=lambda name: "${" + name + "}",
    get_att=lambda logical_id, attribute: {"Fn::GetAtt": [logical_id, attribute]},
    strict=True,
)


def render(value: Any) -> Any:
    """Make a synthesized CloudFormation value readable: evaluated by the project's resolver, with every
    reference kept as a placeholder (``Fn::Join`` joined, ``{"Ref": X}`` as ``${X}``)."""
    return resolve(value, PLACEHOLDERS)


def as_list(value: Any) -> list[Any]:
    """IAM allows one value or a list of them; always get the list."""
    return value if isinstance(value, list) else [value]


def only_resource(template: dict[str, Any], resource_type: str) -> tuple[str, dict[str, Any]]:
    """The single resource of ``resource_type`` as (logical id, definition); fails when there is not one."""
    found = [(k, v) for k, v in template["Resources"].items() if v["Type"] == resource_type]
    assert len(found) == 1, f"expected one {resource_type}, found {[k for k, _ in found]}"
    return found[0]


def validation_violations(outdir: Path) -> list[dict[str, Any]]:
    """Every violation of every policy-validation plugin (cdk-nag) recorded in the assembly's report."""
    report = json.loads((outdir / "validation-report.json").read_text())
    return [violation for plugin in report["pluginReports"] for violation in plugin.get("violations", [])]


def acknowledgements(scope: Construct) -> dict[str, dict[str, str]]:
    """Every ``Validations.of(x).acknowledge`` under ``scope``: construct path -> {rule id: reason}.

    The CDK records ids qualified as ``Annotation::<id>``; cdk-nag strips that prefix before matching.
    """
    found: dict[str, dict[str, str]] = {}
    for construct in scope.node.find_all():
        for entry in construct.node.metadata:
            if entry.type == cdk.Validations.ACKNOWLEDGED_RULES_METADATA_KEY:
                for rule, reason in entry.data.items():
                    found.setdefault(construct.node.path, {})[re.sub(r"^annotation::", "", rule, flags=re.I)] = reason
    return found


def cfn_lint(*templates: Path) -> list[dict[str, Any]]:
    """cfn-lint's findings (errors, warnings and informational ones) for the templates, in one run."""
    command = [str(Path(sys.executable).with_name("cfn-lint")), "--format", "json", "--include-checks", "I", "--"]
    proc = subprocess.run(
        [*command, *map(str, templates)], capture_output=True, text=True, env=toolchain_env(), timeout=600, check=False
    )
    # Exit codes 2, 4 and 8 flag errors, warnings and informational findings; anything else is a crash.
    if proc.returncode & ~(2 | 4 | 8):
        pytest.fail(f"cfn-lint crashed ({proc.returncode}): {proc.stderr[-2000:]}", pytrace=False)
    return json.loads(proc.stdout) if proc.stdout.strip() else []


@dataclass
class Synthesized:
    """An app synthesized into ``outdir``, or the error its synthesis raised; ``handles`` keeps constructs."""

    app: cdk.App
    outdir: Path
    error: Exception | None = None
    handles: dict[str, Any] = field(default_factory=dict)

    def template_json(self, stack_name: str) -> dict[str, Any]:
        """The stack's template as written to the cloud assembly."""
        if self.error is not None:
            pytest.fail(f"synthesis failed: {self.error}", pytrace=False)
        return CloudAssembly(self.outdir).template(stack_name)

    def template(self, stack_name: str) -> Template:
        """The stack's template, for aws_cdk.assertions."""
        return Template.from_json(self.template_json(stack_name))


def synthesize(app: cdk.App, outdir: Path, **handles: Any) -> Synthesized:
    """Synthesize once; keep the error (a failed cdk-nag check raises here) for the tests to inspect."""
    try:
        app.synth()
    except RuntimeError as error:  # jsii surfaces the CDK's ValidationFailed as a RuntimeError
        return Synthesized(app, outdir, error, handles)
    return Synthesized(app, outdir, None, handles)


def modules_under(root: Path) -> dict[str, bytes]:
    """The Python modules under ``root``, relative to it, without byte code."""
    return {
        str(path.relative_to(root)): path.read_bytes()
        for path in root.rglob("*.py")
        if "__pycache__" not in path.relative_to(root).parts
    }


@dataclass
class CliSynth:
    """``cdk synth`` of the repository's app: its cloud assembly, and the handler sources it bundled from."""

    outdir: Path
    handler_modules: dict[str, bytes]


@dataclass
class WheelApp:
    """A tiny CDK app synthesized from a pip-installed wheel of this project, outside the repository; the
    wheel was built by ``python -m build`` from the source distribution, which is kept too."""

    wheel: Path
    site: Path
    outdir: Path
    imported_from: dict[str, str]
    sdist: Path


TINY_APP = """\
import json, sys
import aws_cdk as cdk
import cdk_alternate_contacts, cdk_alternate_contacts_handler
from cdk_alternate_contacts import AlternateContact, AlternateContactType

app = cdk.App(outdir=sys.argv[1], context={"aws:cdk:enable-asset-metadata": True})
stack = cdk.Stack(app, "FromWheel")
AlternateContact(
    stack, "Security", contact_type=AlternateContactType.SECURITY, email_address="security@example.com",
    name="Security team", phone_number="+1 206 555 0100", title="CISO office",
)
app.synth()
print(json.dumps({
    "cdk_alternate_contacts": cdk_alternate_contacts.__file__,
    "cdk_alternate_contacts_handler": cdk_alternate_contacts_handler.__file__,
}))
"""
