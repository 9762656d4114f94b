"""Resources that are recorded, not emulated (roles, policies, log groups, the function itself):
the physical ids and attributes CloudFormation would report for them.

Generated names follow CloudFormation's pattern ``<stack>-<logical id>-<12 characters>``. The suffix is
derived from the stack and logical id instead of being random, so the same stack gets the same function
name on every run and its warm execution environments can be reused.
"""

from __future__ import annotations

import hashlib
import string

from .template import TemplateError

#: Properties that, when set, are the resource's name (and Ref value).
NAME_PROPERTIES = {
    "AWS::Lambda::Function": "FunctionName",
    "AWS::IAM::Role": "RoleName",
    "AWS::Logs::LogGroup": "LogGroupName",
}

_ALPHABET = string.ascii_letters + string.digits


def generated_name(stack_name: str, logical_id: str, max_length: int = 64) -> str:
    """A name as CloudFormation generates one, cut to ``max_length`` the way it does (both parts shortened)."""
    digest = hashlib.sha256(f"{stack_name}/{logical_id}".encode()).digest()
    suffix = "".join(_ALPHABET[b % len(_ALPHABET)] for b in digest[:12])
    room = max_length - len(suffix) - 2
    stack_part = stack_name[: max(room // 2, room - len(logical_id))]
    logical_part = logical_id[: room - len(stack_part)]
    return f"{stack_part}-{logical_part}-{suffix}"


def physical_id(resource_type: str, stack_name: str, logical_id: str, properties: dict[str, object]) -> str:
    """The physical id of a recorded resource: its declared name, else a generated one."""
    declared = properties.get(NAME_PROPERTIES.get(resource_type, ""))
    if isinstance(declared, str) and declared:
        return declared
    return generated_name(stack_name, logical_id)


def attribute(resource_type: str, physical: str, name: str, *, region: str, account_id: str) -> str:
    """``Fn::GetAtt`` of a recorded resource.

    Raises
    ------
    TemplateError
        For an attribute this module does not know: better to stop than to invent a value.
    """
    if name == "Arn":
        if resource_type == "AWS::Lambda::Function":
            return f"arn:aws:lambda:{region}:{account_id}:function:{physical}"
        if resource_type == "AWS::IAM::Role":
            return f"arn:aws:iam::{account_id}:role/{physical}"
        if resource_type == "AWS::Logs::LogGroup":
            return f"arn:aws:logs:{region}:{account_id}:log-group:{physical}:*"
        service = resource_type.split("::")[1].lower() if resource_type.count("::") == 2 else "unknown"
        return f"arn:aws:{service}:{region}:{account_id}:{physical}"
    if resource_type == "AWS::IAM::Role" and name == "RoleId":
        return "AROA" + hashlib.sha256(physical.encode()).hexdigest()[:17].upper()
    raise TemplateError(f"Fn::GetAtt {name} of {resource_type} is not emulated by localdeploy")
