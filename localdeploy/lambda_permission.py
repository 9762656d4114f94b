"""``AWS::Lambda::Permission``: statements of a function's resource-based policy, as Lambda's AddPermission
writes them, kept for the local Lambda service (whose functions moto does not hold).

From the resource type's reference (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-resource-lambda-permission.html)
and Lambda's AddPermission (https://docs.aws.amazon.com/lambda/latest/api/API_AddPermission.html):

Create
    The function must exist ("Function not found: <arn>", NotFound). The statement gets a generated id and
    reads ``{"Effect": "Allow", "Principal": {"Service": <principal>}, "Action": <action>, "Resource":
    <function arn>, "Condition": {"ArnLike": {"AWS:SourceArn": ...}, "StringEquals": {"AWS:SourceAccount":
    ...}}}`` (an account id as principal becomes ``{"AWS": "arn:aws:iam::<id>:root"}``).
Update
    Every property is create-only: any change replaces the permission (a new statement, the old one removed
    in cleanup).
Delete
    RemovePermission; a statement or a function already gone counts as deleted.

``Ref`` is ``<FunctionName>|<statement id>`` (the two parts of the CDK's PermissionReference); ``Fn::GetAtt Id``
the statement id. When EventBridge invokes a function (:mod:`.event_bus`), these statements decide whether it
may: ``events.amazonaws.com``, ``lambda:InvokeFunction``, with the rule as ``AWS:SourceArn``.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Mapping
from typing import Any

from . import native
from .native import Created, ResourceError
from .resource_policy import Caller, allows

PERMISSION_TYPE = "AWS::Lambda::Permission"

_ACCOUNT = re.compile(r"^\d{12}$")


def function_arn(name: str, *, region: str, account_id: str) -> str:
    """The ARN a FunctionName names: a name, a partial ARN (``<account>:function:<name>``) or an ARN."""
    if name.startswith("arn:"):
        return name
    if ":function:" in name:
        return f"arn:aws:lambda:{region}:{name}"
    return f"arn:aws:lambda:{region}:{account_id}:function:{name}"


def unqualified(arn: str) -> str:
    """A function ARN without its version or alias (``...:function:name:alias`` -> ``...:function:name``)."""
    head, _, rest = arn.partition(":function:")
    return f"{head}:function:{rest.split(':', 1)[0]}" if rest else arn


class FunctionPolicies:
    """The resource-based policy statements of every local function, by unqualified function ARN."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._statements: dict[str, dict[str, dict[str, Any]]] = {}

    def add(self, arn: str, sid: str, statement: Mapping[str, Any]) -> None:
        """Add a statement; Lambda refuses a statement id already used on that function.

        Raises
        ------
        ResourceError
            With Lambda's ResourceConflictException message.
        """
        with self._lock:
            found = self._statements.setdefault(unqualified(arn), {})
            if sid in found:
                message = (
                    f"The statement id ({sid}) provided already exists. Please provide a new statement id, or remove "
                    "the existing statement."
                )
                raise ResourceError(native.service_reason(message, "Lambda", "AlreadyExists", status=409))
            found[sid] = dict(statement)

    def remove(self, arn: str, sid: str) -> None:
        """Remove a statement (nothing happens if it is not there)."""
        with self._lock:
            self._statements.get(unqualified(arn), {}).pop(sid, None)

    def statements(self, arn: str) -> list[dict[str, Any]]:
        """The function's statements now."""
        with self._lock:
            return [dict(s) for s in self._statements.get(unqualified(arn), {}).values()]

    def allows(self, arn: str, caller: Caller, action: str, context: Mapping[str, list[str]]) -> bool:
        """Whether the function's policy lets ``caller`` call ``action`` on it (``arn``, qualified or not)."""
        return allows(self.statements(arn), caller, action, arn, context) or allows(
            self.statements(arn), caller, action, unqualified(arn), context
        )

    def clear(self) -> None:
        """Forget every statement (a clean slate between tests)."""
        with self._lock:
            self._statements.clear()


def statement_for(properties: Mapping[str, Any], sid: str, arn: str) -> dict[str, Any]:
    """The statement AddPermission writes for these properties."""
    principal = str(properties["Principal"])
    if principal == "*":
        principal_element: Any = "*"
    elif _ACCOUNT.match(principal):
        principal_element = {"AWS": f"arn:aws:iam::{principal}:root"}
    elif principal.startswith("arn:"):
        principal_element = {"AWS": principal}
    else:
        principal_element = {"Service": principal}
    statement: dict[str, Any] = {
        "Sid": sid,
        "Effect": "Allow",
        "Principal": principal_element,
        "Action": str(properties["Action"]),
        "Resource": arn,
    }
    condition: dict[str, dict[str, str]] = {}
    if properties.get("SourceArn"):
        condition.setdefault("ArnLike", {})["AWS:SourceArn"] = str(properties["SourceArn"])
    if properties.get("SourceAccount"):
        condition.setdefault("StringEquals", {})["AWS:SourceAccount"] = str(properties["SourceAccount"])
    if properties.get("PrincipalOrgID"):
        condition.setdefault("StringEquals", {})["aws:PrincipalOrgID"] = str(properties["PrincipalOrgID"])
    if properties.get("EventSourceToken"):
        condition.setdefault("StringEquals", {})["lambda:EventSourceToken"] = str(properties["EventSourceToken"])
    if condition:
        statement["Condition"] = condition
    return statement


class PermissionEmulator:
    """Adds and removes function policy statements as CloudFormation does for ``AWS::Lambda::Permission``.

    Parameters
    ----------
    policies:
        Where the statements are kept.
    function_exists:
        Whether a function ARN (unqualified) is deployed on the local Lambda service.
    region, account_id:
        Where the stack is deployed (a bare FunctionName is resolved there).
    """

    resource_type = PERMISSION_TYPE

    def __init__(
        self, policies: FunctionPolicies, function_exists: Callable[[str], bool], *, region: str, account_id: str
    ) -> None:
        self.policies = policies
        self.function_exists = function_exists
        self.region = region
        self.account_id = account_id

    def replaces(self, old: Mapping[str, Any], new: Mapping[str, Any]) -> bool:
        """Every property of the type is create-only."""
        return dict(old) != dict(new)

    def create(self, logical_id: str, properties: Mapping[str, Any], *, stack_name: str = "") -> Created:
        """AddPermission."""
        missing = [key for key in ("Action", "FunctionName", "Principal") if not properties.get(key)]
        if missing:
            problems = ", ".join(f"#: required key [{key}] not found" for key in missing)
            raise ResourceError(f"Properties validation failed for resource {logical_id} with message: [{problems}]")
        name = str(properties["FunctionName"])
        arn = function_arn(name, region=self.region, account_id=self.account_id)
        if not self.function_exists(unqualified(arn)):
            raise ResourceError(native.service_reason(f"Function not found: {arn}", "Lambda", "NotFound", status=404))
        sid = native.unique_name(stack_name or "stack", logical_id, 100)
        self.policies.add(arn, sid, statement_for(properties, sid, arn))
        return Created(f"{name}|{sid}", {"Id": sid})

    def update(self, physical_id: str, old: Mapping[str, Any], new: Mapping[str, Any]) -> dict[str, Any]:
        """Never in place (see :meth:`replaces`); an unchanged permission keeps its statement."""
        return {"Id": physical_id.rsplit("|", 1)[-1]}

    def delete(self, physical_id: str, properties: Mapping[str, Any]) -> None:
        """RemovePermission; one already gone counts as deleted."""
        name, _, sid = physical_id.rpartition("|")
        self.policies.remove(function_arn(name, region=self.region, account_id=self.account_id), sid)
