"""The CloudFormation values a plan can know before a deploy: literals and the intrinsics built from them.

A template synthesized by the CDK holds literals where the app gave literals, and intrinsic functions where
it gave tokens. Joins, substitutions, selections and map look-ups over literals and the few pseudo parameters
known before the deploy (``AWS::AccountId``, ``AWS::Partition``) are evaluated here; anything else (an
attribute of another resource, an SSM parameter, an import) is only known to CloudFormation during the
deploy and comes back as :class:`Unresolved`, carrying the reason in words.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final


@dataclass(frozen=True)
class Unresolved:
    """A value that only CloudFormation knows, during the deploy.

    Attributes
    ----------
    reason:
        Where the value comes from, for the user: ``SSM parameter /contacts/email (read at deploy time)``.
    """

    reason: str


class _NoValue:
    """``{"Ref": "AWS::NoValue"}``: the property is left out."""

    def __repr__(self) -> str:
        return "AWS::NoValue"


#: The property is absent (``Ref AWS::NoValue``).
NO_VALUE: Final = _NoValue()

#: Nested intrinsics deeper than this are reported instead of followed (a template is finite, but be safe).
MAX_DEPTH: Final = 32

_SUB_VARIABLE = re.compile(r"\$\{([^}]*)\}")


@dataclass(frozen=True)
class Scope:
    """What the template's values can refer to.

    Attributes
    ----------
    account:
        The account the stack is deployed to (``AWS::AccountId``), when known.
    partition:
        ``aws``, ``aws-cn``, ... (``AWS::Partition``), when known.
    region:
        The stack's region (``AWS::Region``), when the stack names one.
    parameters:
        The template's ``Parameters`` section, to explain where a parameter's value comes from.
    parameter_values:
        Values of parameters known before the deploy: those a parent stack passes to a nested stack.
    mappings:
        The template's ``Mappings`` section, for ``Fn::FindInMap``.
    """

    account: str | None = None
    partition: str | None = None
    region: str | None = None
    parameters: Mapping[str, Any] = field(default_factory=dict)
    parameter_values: Mapping[str, Any] = field(default_factory=dict)
    mappings: Mapping[str, Any] = field(default_factory=dict)


def describe(value: Any) -> str:
    """A short description of an intrinsic for messages: ``Fn::GetAtt Table.Arn``."""
    if isinstance(value, Mapping) and len(value) == 1:
        ((name, argument),) = value.items()
        if name == "Ref":
            return f"Ref {argument}"
        if name == "Fn::GetAtt":
            return f"Fn::GetAtt {'.'.join(map(str, argument)) if isinstance(argument, list) else argument}"
        return str(name)
    return type(value).__name__


def resolve(value: Any, scope: Scope, depth: int = 0) -> Any:
    """Evaluate ``value`` as far as possible before the deploy.

    Returns
    -------
    Any
        The literal value (a string, number, list or map, with every intrinsic inside evaluated),
        :data:`NO_VALUE`, or an :class:`Unresolved` for the first part that only the deploy can tell.
    """
    if depth > MAX_DEPTH:
        return Unresolved("an expression nested too deeply to evaluate")
    if isinstance(value, list):
        items = [resolve(item, scope, depth + 1) for item in value]
        unknown = _first_unresolved(items)
        return unknown or [item for item in items if item is not NO_VALUE]
    if not isinstance(value, Mapping):
        return value
    if len(value) == 1:
        ((name, argument),) = value.items()
        if name == "Ref":
            return _ref(argument, scope)
        if isinstance(name, str) and (name.startswith("Fn::") or name == "Condition"):
            return _function(name, argument, scope, depth)
    items_by_key = {key: resolve(item, scope, depth + 1) for key, item in value.items()}
    unknown = _first_unresolved(items_by_key.values())
    return unknown or {key: item for key, item in items_by_key.items() if item is not NO_VALUE}


def _first_unresolved(values: Any) -> Unresolved | None:
    return next((value for value in values if isinstance(value, Unresolved)), None)


def _ref(name: Any, scope: Scope) -> Any:
    if name == "AWS::NoValue":
        return NO_VALUE
    pseudo = {
        "AWS::AccountId": (scope.account, "Ref AWS::AccountId (the deploying account)"),
        "AWS::Partition": (scope.partition, "Ref AWS::Partition"),
        "AWS::Region": (scope.region, "Ref AWS::Region (the stack's region is not fixed)"),
    }
    if name in pseudo:
        value, unknown = pseudo[name]
        return value if value else Unresolved(unknown)
    if name in scope.parameter_values:
        return scope.parameter_values[name]
    definition = scope.parameters.get(name) if isinstance(name, str) else None
    if not isinstance(definition, Mapping):
        return Unresolved(f"Ref {name} (known after deploy)")
    if str(definition.get("Type", "")).startswith("AWS::SSM::Parameter::Value"):
        return Unresolved(f"SSM parameter {definition.get('Default', name)} (read at deploy time)")
    return Unresolved(f"parameter {name} (given at deploy time)")


class _Unsupported:
    """A function or a shape of arguments this module does not evaluate."""


_UNSUPPORTED: Final = _Unsupported()


def _function(name: str, argument: Any, scope: Scope, depth: int) -> Any:
    evaluate = _FUNCTIONS.get(name)
    result = evaluate(argument, scope, depth + 1) if evaluate is not None else _UNSUPPORTED
    if result is _UNSUPPORTED:
        return Unresolved(f"{describe({name: argument})} (known after deploy)")
    return result


def _arguments(argument: Any, count: int, scope: Scope, depth: int) -> list[Any] | Unresolved | _Unsupported:
    """The first ``count`` items of a function's argument list, evaluated."""
    if not isinstance(argument, list) or len(argument) < count:
        return _UNSUPPORTED
    values = [resolve(item, scope, depth) for item in argument[:count]]
    return _first_unresolved(values) or values


def _join(argument: Any, scope: Scope, depth: int) -> Any:
    values = _arguments(argument, 2, scope, depth)
    if not isinstance(values, list):
        return values
    delimiter, parts = values
    if not isinstance(delimiter, str) or not isinstance(parts, list):
        return _UNSUPPORTED
    return delimiter.join(_scalar_text(part) for part in parts)


def _select(argument: Any, scope: Scope, depth: int) -> Any:
    values = _arguments(argument, 2, scope, depth)
    if not isinstance(values, list):
        return values
    index, items = values
    if not isinstance(items, list) or not str(index).isdigit() or int(index) >= len(items):
        return _UNSUPPORTED
    return items[int(index)]


def _find_in_map(argument: Any, scope: Scope, depth: int) -> Any:
    keys = _arguments(argument, 3, scope, depth)
    if not isinstance(keys, list):
        return keys
    found: Any = scope.mappings
    for key in keys:
        found = found.get(key) if isinstance(found, Mapping) else None
    return _UNSUPPORTED if found is None else resolve(found, scope, depth)


def _sub(argument: Any, scope: Scope, depth: int) -> Any:
    if isinstance(argument, list) and len(argument) == 2 and isinstance(argument[1], Mapping):
        text, variables = argument[0], {k: resolve(v, scope, depth + 1) for k, v in argument[1].items()}
    else:
        text, variables = argument, {}
    if not isinstance(text, str):
        return Unresolved("Fn::Sub of a value that is not a string")
    problems: list[Unresolved] = []

    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        if name.startswith("!"):
            return "${" + name[1:] + "}"
        value = variables[name] if name in variables else _ref(name, scope) if "." not in name else None
        if value is None:
            problems.append(Unresolved(f"Fn::Sub ${{{name}}} (known after deploy)"))
            return ""
        if isinstance(value, Unresolved):
            problems.append(value)
            return ""
        return _scalar_text(value)

    result = _SUB_VARIABLE.sub(replace, text)
    return problems[0] if problems else result


_FUNCTIONS: Final[Mapping[str, Callable[[Any, Scope, int], Any]]] = {
    "Fn::Join": _join,
    "Fn::Sub": _sub,
    "Fn::Select": _select,
    "Fn::FindInMap": _find_in_map,
}


def _scalar_text(value: Any) -> str:
    """How CloudFormation writes a scalar into a string (numbers as digits, booleans in lower case)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def as_property_text(value: Any) -> Any:
    """A resolved property value as a custom resource receives it: CloudFormation sends scalars as strings."""
    if isinstance(value, (bool, int, float)):
        return _scalar_text(value)
    return value
