"""The statements of a synthesized template's role, for one concrete deployment.

Their values are resolved with the project's one resolver (:mod:`cdk_alternate_contacts_cli.intrinsics`) and
evaluated with its one IAM evaluator, :mod:`localdeploy.iam`, the same the local engine applies to every call a
function makes.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from localdeploy.iam import Context, IdentityPolicy, UnsupportedPolicyError

__all__ = ["Context", "IdentityPolicy", "UnsupportedPolicyError", "role_statements"]


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
