"""The statements of a synthesized template's role, resolved for one concrete deployment.

They are evaluated with the project's one IAM evaluator, :mod:`localdeploy.iam`, the same the local engine
applies to every call a function makes.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

_REPO = Path(__file__).resolve().parents[2]
if str(_REPO) not in sys.path:
    sys.path.insert(0, str(_REPO))

from localdeploy.iam import Context, IdentityPolicy, UnsupportedPolicyError  # noqa: E402

__all__ = ["Context", "IdentityPolicy", "UnsupportedPolicyError", "resolve", "role_statements"]


def resolve(value: Any, refs: Mapping[str, str], attributes: Mapping[tuple[str, str], str]) -> Any:
    """Replace Ref, Fn::GetAtt, Fn::Join and Fn::Sub with their values in one deployment."""
    if isinstance(value, list):
        return [resolve(item, refs, attributes) for item in value]
    if not isinstance(value, dict):
        return value
    if set(value) == {"Ref"}:
        if value["Ref"] not in refs:
            raise UnsupportedPolicyError(f"no value for Ref {value['Ref']}")
        return refs[value["Ref"]]
    if set(value) == {"Fn::GetAtt"}:
        resource, attribute = value["Fn::GetAtt"]
        if (resource, attribute) not in attributes:
            raise UnsupportedPolicyError(f"no value for Fn::GetAtt {resource}.{attribute}")
        return attributes[(resource, attribute)]
    if set(value) == {"Fn::Join"}:
        delimiter, parts = value["Fn::Join"]
        return str(delimiter).join(str(resolve(part, refs, attributes)) for part in parts)
    if set(value) == {"Fn::Sub"} and isinstance(value["Fn::Sub"], str):
        return re.sub(r"\$\{([^}!]+)\}", lambda m: refs[m.group(1)], value["Fn::Sub"])
    if len(value) == 1 and next(iter(value)).startswith("Fn::"):
        raise UnsupportedPolicyError(f"intrinsic function {next(iter(value))}")
    return {key: resolve(item, refs, attributes) for key, item in value.items()}


def role_statements(template: Mapping[str, Any], role_id: str) -> list[dict[str, Any]]:
    """Every statement attached to ``role_id`` in the template: inline policies and AWS::IAM::Policy."""
    role = template["Resources"][role_id]["Properties"]
    if role.get("ManagedPolicyArns"):
        raise UnsupportedPolicyError("managed policies: their statements are not in the template")
    statements = [s for policy in role.get("Policies", []) for s in policy["PolicyDocument"]["Statement"]]
    for resource in template["Resources"].values():
        if resource["Type"] == "AWS::IAM::Policy" and {"Ref": role_id} in resource["Properties"].get("Roles", []):
            statements.extend(resource["Properties"]["PolicyDocument"]["Statement"])
        if resource["Type"] == "AWS::IAM::ManagedPolicy" and {"Ref": role_id} in resource["Properties"].get(
            "Roles", []
        ):
            statements.extend(resource["Properties"]["PolicyDocument"]["Statement"])
    return statements
