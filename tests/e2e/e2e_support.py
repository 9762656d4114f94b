"""Constants and helpers of the end-to-end tests (fixtures are in conftest.py).

A module with its own name, not ``conftest``: several test folders have a conftest, and importing one
by that name picks whichever comes first on the path.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cdk_alternate_contacts_cli.cloud_assembly import CloudAssembly
from localdeploy.cloud import LocalCloud
from localdeploy.contacts import Details
from localdeploy.engine import OperationResult
from localdeploy.moto import DEPLOYING_ACCOUNT

#: The repository root (the CDK CLI and localdeploy run from there).
REPO = Path(__file__).resolve().parents[2]

#: The stack every lifecycle test deploys its app versions to.
STACK = "E2eContacts"

#: The three-contact example's stack, and its two versions in lifecycle_app.py.
EXAMPLE_STACK = "E2eExample"
EXAMPLE, EXAMPLE_UPDATED = "E2eExample", "E2eExampleUpdated"

#: Every account the apps name: the ones read back after each step.
ACCOUNTS = (DEPLOYING_ACCOUNT, "111111111111", "222222222222", "333333333333")


@dataclass(frozen=True)
class Assemblies:
    """The synthesized apps."""

    #: app.py, with examples/accounts.toml and with the demo's update (examples/accounts-updated.toml).
    app: CloudAssembly
    app_updated: CloudAssembly
    #: tests/e2e/apps/lifecycle_app.py: AlternateContact versions, and the three-contact example.
    lifecycle: CloudAssembly
    #: tests/e2e/apps/contacts_app.py: AlternateContacts and nested stacks.
    contacts: CloudAssembly


def declared(assembly: CloudAssembly, artifact: str, construct_id: str) -> tuple[str, dict[str, Any]]:
    """The logical id and the properties of one AlternateContact of a synthesized stack, ServiceToken aside
    (in the template it is a Fn::GetAtt; compare with :func:`without_token`)."""
    for logical_id, resource in assembly.template(artifact)["Resources"].items():
        path = resource.get("Metadata", {}).get("aws:cdk:path", "")
        if resource["Type"] == "Custom::AlternateContact" and path.split("/")[1:2] == [construct_id]:
            return logical_id, without_token(resource["Properties"])
    raise KeyError(f"no AlternateContact {construct_id} in {artifact}")


def declared_contacts(assembly: CloudAssembly, artifact: str, construct_id: str) -> tuple[str, dict[str, Any]]:
    """The logical id and the properties of one AlternateContacts of a synthesized stack (or of its nested
    stack ``Members``), ServiceToken aside."""
    stack = assembly.stack(artifact)
    templates = [stack.template(), *stack.nested_templates().values()]
    for template in templates:
        for logical_id, resource in template["Resources"].items():
            path = resource.get("Metadata", {}).get("aws:cdk:path", "").split("/")
            if resource["Type"] == "Custom::AlternateContacts" and path[-3:-2] == [construct_id]:
                return logical_id, without_token(resource["Properties"])
    raise KeyError(f"no AlternateContacts {construct_id} in {artifact}")


def slots_of(properties: dict[str, Any]) -> dict[tuple[str, str], Details]:
    """The contact of each slot an AlternateContacts' properties declare (no AccountId: the deploying account)."""
    account = properties.get("AccountId", DEPLOYING_ACCOUNT)
    return {(account, kind): dict(details) for kind, details in properties["AlternateContacts"].items()}


def without_token(properties: dict[str, Any]) -> dict[str, Any]:
    """Resource properties without ServiceToken."""
    return {key: value for key, value in properties.items() if key != "ServiceToken"}


def details_of(properties: dict[str, str]) -> Details:
    """The contact details of a resource's properties."""
    return {key: properties[key] for key in ("EmailAddress", "Name", "PhoneNumber", "Title")}


def assert_answered_exactly_once(cloud: LocalCloud, *results: OperationResult) -> None:
    """Every request of ``results`` got one answer, no more, and nothing else was PUT to the listener."""
    requests = [record for result in results for record in result.requests]
    counts = cloud.responses.answer_counts([record.request_id for record in requests])
    assert requests, "no requests were sent: nothing was checked"
    assert {rid: n for rid, n in counts.items() if n != 1} == {}
    assert cloud.responses.rejected == []


def explain(*results: OperationResult) -> str:
    """An assertion message: each operation's status, requests and problems."""
    lines = []
    for result in results:
        lines.append(f"{result.operation} {result.stack_name}: {result.status}")
        lines += [
            f"  {r.phase} {r.request_type} {r.logical_id} {r.physical_id} -> {r.answered_physical_id}: "
            f"{r.status} {r.reason}"
            for r in result.requests
        ]
        lines += [f"  problem: {problem}" for problem in result.problems]
    return "\n".join(lines)
