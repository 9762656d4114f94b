"""A small IAM policy evaluator for the statements of a synthesized template, as IAM would evaluate them.

It resolves the template's intrinsic functions with the values of one concrete deployment, then answers
``allowed(action, resource, context)`` for identity-based statements: an explicit Deny wins, then any
matching Allow, else the implicit deny. Action names match case-insensitively, resources case-sensitively,
both with ``*`` and ``?`` wildcards. Only the condition operators this project uses are implemented; any
other raises, so a new operator in the construct fails the review instead of being misread.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

#: A request's context keys: each a list of values (IAM's multivalued keys), absent when not sent.
Context = Mapping[str, list[str]]


class UnsupportedPolicyError(NotImplementedError):
    """The policy uses something this evaluator does not model: review it by hand, then teach it here."""


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


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _glob(pattern: str, value: str, *, ignore_case: bool = False) -> bool:
    """IAM's wildcard match: ``*`` any run of characters (``/`` and ``:`` included), ``?`` one character."""
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, value, re.DOTALL | (re.IGNORECASE if ignore_case else 0)) is not None


def _condition_holds(operator: str, key: str, expected: list[str], context: Context) -> bool:
    present = key in context
    values = list(context.get(key, []))
    if operator == "Null":
        (want_absent,) = expected
        return (not present) == (str(want_absent).lower() == "true")
    qualifier, _, base = operator.rpartition(":")
    if base not in ("StringEquals", "StringLike", "ArnEquals", "ArnLike"):
        raise UnsupportedPolicyError(f"condition operator {operator}")

    def match(value: str) -> bool:
        if base == "StringEquals":
            return value in expected
        if base == "StringLike":
            return any(fnmatch.fnmatchcase(value, pattern) for pattern in expected)
        return any(_glob(pattern, value) for pattern in expected)  # ArnEquals, ArnLike

    if qualifier == "ForAllValues":
        return all(match(v) for v in values)  # also true when the key is absent: IAM's documented trap
    if qualifier == "ForAnyValue":
        return any(match(v) for v in values)
    if qualifier:
        raise UnsupportedPolicyError(f"condition qualifier {qualifier}")
    return present and any(match(v) for v in values)


@dataclass(frozen=True)
class Statement:
    """One resolved policy statement."""

    effect: str
    actions: tuple[str, ...]
    resources: tuple[str, ...]
    conditions: Mapping[str, Mapping[str, list[str]]]

    @classmethod
    def parse(cls, raw: Mapping[str, Any]) -> Statement:
        unsupported = {"NotAction", "NotResource", "NotPrincipal", "Principal"} & set(raw)
        if unsupported:
            raise UnsupportedPolicyError(f"statement elements {sorted(unsupported)}")
        conditions = {
            operator: {key: [str(v) for v in _as_list(values)] for key, values in keys.items()}
            for operator, keys in raw.get("Condition", {}).items()
        }
        return cls(
            raw["Effect"],
            tuple(str(a) for a in _as_list(raw["Action"])),
            tuple(str(r) for r in _as_list(raw["Resource"])),
            conditions,
        )

    def matches(self, action: str, resource: str, context: Context) -> bool:
        """Whether the statement applies to the request (its effect aside)."""
        return (
            any(_glob(pattern, action, ignore_case=True) for pattern in self.actions)
            and any(_glob(pattern, resource) for pattern in self.resources)
            and all(
                _condition_holds(operator, key, expected, context)
                for operator, keys in self.conditions.items()
                for key, expected in keys.items()
            )
        )


class IdentityPolicy:
    """The identity-based statements of one principal, ready to evaluate requests against."""

    def __init__(self, statements: Iterable[Mapping[str, Any]]) -> None:
        self.statements = [Statement.parse(s) for s in statements]

    def allowed(self, action: str, resource: str, context: Context | None = None) -> bool:
        """IAM's decision: explicit deny, else any allow, else implicit deny."""
        context = context or {}
        matching = [s for s in self.statements if s.matches(action, resource, context)]
        if any(s.effect == "Deny" for s in matching):
            return False
        return any(s.effect == "Allow" for s in matching)


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
