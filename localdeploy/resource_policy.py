"""Resource-based policies (a queue's ``Policy``, a function's permissions), evaluated for an AWS service.

When EventBridge delivers to an SQS queue or invokes a function, no identity policy is involved: the
queue's policy, or the function's resource policy, must allow the service principal
``events.amazonaws.com``, and its conditions (``aws:SourceArn``: the rule) must hold. Otherwise the delivery
fails and EventBridge counts a FailedInvocation (EventBridge user guide, "Using resource-based policies for
Amazon EventBridge": https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-use-resource-based.html).

The evaluation is IAM's for one statement list: an explicit Deny wins, else any Allow whose principal,
action, resource and every condition match, else no. Condition keys are case-insensitive, as in IAM
(Lambda writes ``AWS:SourceArn``, SQS policies ``aws:SourceArn``). ``NotPrincipal`` and ``NotAction`` are not
modelled: a policy with them raises :class:`~.iam.UnsupportedPolicyError` instead of being guessed at.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from .iam import Context, UnsupportedPolicyError, condition_holds, glob_match


@dataclass(frozen=True)
class Caller:
    """Who asks: an AWS service principal (``events.amazonaws.com``) or an IAM principal's ARN."""

    service: str | None = None
    arn: str | None = None
    account: str | None = None


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def statements(document: str | Mapping[str, Any] | None) -> list[dict[str, Any]]:
    """The statements of a policy given as JSON text or as an object (none for an empty policy)."""
    if not document:
        return []
    parsed = json.loads(document) if isinstance(document, str) else dict(document)
    return [dict(s) for s in _as_list(parsed.get("Statement", [])) if isinstance(s, Mapping)]


def _principal_matches(principal: Any, caller: Caller) -> bool:  # noqa: PLR0911 - one return per principal form
    if principal == "*":
        return True
    if not isinstance(principal, Mapping):
        return False
    if caller.service is not None and caller.service in [str(p) for p in _as_list(principal.get("Service", []))]:
        return True
    for entry in (str(p) for p in _as_list(principal.get("AWS", []))):
        if entry == "*":
            return True
        if caller.arn is not None and entry == caller.arn:
            return True
        if caller.account is not None and entry in (caller.account, f"arn:aws:iam::{caller.account}:root"):
            return True
    return False


def _statement_matches(
    statement: Mapping[str, Any], caller: Caller, action: str, resource: str, context: Context
) -> bool:
    unsupported = {"NotPrincipal", "NotAction", "NotResource"} & set(statement)
    if unsupported:
        raise UnsupportedPolicyError(f"resource policy elements {sorted(unsupported)}")
    if not _principal_matches(statement.get("Principal"), caller):
        return False
    if not any(glob_match(str(p), action, ignore_case=True) for p in _as_list(statement.get("Action", []))):
        return False
    if "Resource" in statement and not any(glob_match(str(p), resource) for p in _as_list(statement["Resource"])):
        return False
    lowered = {key.lower(): values for key, values in context.items()}
    for operator, keys in (statement.get("Condition") or {}).items():
        for key, expected in keys.items():
            if not condition_holds(operator, key.lower(), [str(v) for v in _as_list(expected)], lowered):
                return False
    return True


def allows(
    document: str | Mapping[str, Any] | Iterable[Mapping[str, Any]] | None,
    caller: Caller,
    action: str,
    resource: str,
    context: Context | None = None,
) -> bool:
    """Whether the resource policy ``document`` (or a list of its statements) lets ``caller`` do ``action``
    on ``resource`` with the request's ``context`` (``{"aws:SourceArn": [...]}``)."""
    found = list(document) if isinstance(document, list) else statements(document)  # type: ignore[arg-type]
    matching = [s for s in found if _statement_matches(s, caller, action, resource, context or {})]
    if any(s.get("Effect") == "Deny" for s in matching):
        return False
    return any(s.get("Effect") == "Allow" for s in matching)
