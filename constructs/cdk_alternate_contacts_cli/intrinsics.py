"""The one evaluator of CloudFormation values: intrinsic functions, conditions and references.

A template synthesized by the CDK holds literals where the app gave literals, and intrinsic functions where
it gave tokens. :func:`resolve` evaluates them against a :class:`Scope`: what the caller knows at its time.
The command-line tool knows little before a deploy (literals, the deploying account, the parameters a parent
passes to a nested stack); the local engine knows everything a deploy knows (every parameter, the resources
created so far, through callbacks). Whatever the scope does not know comes back as :class:`Unresolved`,
carrying the reason in words, never guessed; with ``Scope(strict=True)`` it raises :class:`TemplateError`
instead, as CloudFormation fails a deploy.

Supported: Ref (parameters, pseudo parameters, resources), Fn::GetAtt, Fn::Join, Fn::Sub (both forms),
Fn::Select, Fn::Split, Fn::FindInMap, Fn::If and the condition functions (Fn::Equals, Fn::And, Fn::Or,
Fn::Not, Condition), the rule functions (Fn::Contains, Fn::EachMemberEquals, Fn::EachMemberIn), Fn::GetAZs,
Fn::Base64, ``AWS::NoValue``; Fn::ImportValue and any other function are only known during the deploy.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final


@dataclass(frozen=True)
class Unresolved:
    """A value the scope does not know: only CloudFormation knows it, during the deploy.

    Attributes
    ----------
    reason:
        Where the value comes from, for the user: ``SSM parameter /contacts/email (read at deploy time)``.
    """

    reason: str


class TemplateError(ValueError):
    """The template is invalid, or (strict scope) uses a value or function that cannot be evaluated."""


class _NoValue:
    """``{"Ref": "AWS::NoValue"}``: the property is left out."""

    def __repr__(self) -> str:
        return "AWS::NoValue"


#: The property is absent (``Ref AWS::NoValue``).
NO_VALUE: Final = _NoValue()

#: Nested intrinsics deeper than this are reported instead of followed (a condition may refer to itself).
MAX_DEPTH: Final = 32

#: Pseudo parameters a Ref may name: the :class:`Scope` attribute holding each one's value, and why it is
#: unknown when the scope does not hold it.
_PSEUDO: Final[Mapping[str, tuple[str, str]]] = {
    "AWS::AccountId": ("account", "Ref AWS::AccountId (the deploying account)"),
    "AWS::Partition": ("partition", "Ref AWS::Partition"),
    "AWS::Region": ("region", "Ref AWS::Region (the stack's region is not fixed)"),
    "AWS::URLSuffix": ("url_suffix", "Ref AWS::URLSuffix (known after deploy)"),
    "AWS::StackName": ("stack_name", "Ref AWS::StackName (known after deploy)"),
    "AWS::StackId": ("stack_id", "Ref AWS::StackId (known after deploy)"),
    "AWS::NotificationARNs": ("notification_arns", "Ref AWS::NotificationARNs (known after deploy)"),
}

_SUB_VARIABLE = re.compile(r"\$\{([^}]*)\}")


@dataclass(frozen=True)
class Scope:
    """What a template's values can refer to, as far as the caller knows it.

    Attributes
    ----------
    account, partition, region, url_suffix, stack_name, stack_id, notification_arns:
        The pseudo parameters (``AWS::AccountId``, ...); default: unknown (a Ref to it is :class:`Unresolved`).
    parameters:
        The template's ``Parameters`` section, to say where a parameter's value comes from.
    parameter_values:
        Values of the parameters known (a value may itself be :class:`Unresolved`, with its reason); default:
        none, every parameter is given at deploy time.
    mappings, conditions:
        The template's ``Mappings`` and ``Conditions`` sections.
    resources:
        The template's ``Resources`` section, so that a Ref to a name that is nothing is an error; default:
        not known, any other name is taken for a resource.
    ref, get_att:
        A resource's Ref value and attributes; default: known after deploy.
    availability_zones:
        The zones of a region, for ``Fn::GetAZs``; default: known at deploy time.
    strict:
        Raise :class:`TemplateError` where a value is not known, instead of returning :class:`Unresolved`.
    """

    account: str | None = None
    partition: str | None = None
    region: str | None = None
    url_suffix: str | None = None
    stack_name: str | None = None
    stack_id: str | None = None
    notification_arns: Sequence[str] | None = None
    parameters: Mapping[str, Any] = field(default_factory=dict)
    parameter_values: Mapping[str, Any] = field(default_factory=dict)
    mappings: Mapping[str, Any] = field(default_factory=dict)
    conditions: Mapping[str, Any] = field(default_factory=dict)
    resources: Mapping[str, Any] | None = None
    ref: Callable[[str], Any] | None = None
    get_att: Callable[[str, str], Any] | None = None
    availability_zones: Callable[[str], list[str]] | None = None
    strict: bool = False


class _UnknownError(Exception):
    """Raised inside the evaluation where the scope does not know a value; never leaves this module."""

    def __init__(self, unresolved: Unresolved, strict_message: str | None = None) -> None:
        super().__init__(unresolved.reason)
        self.unresolved = unresolved
        self.strict_message = strict_message or unresolved.reason


def resolve(value: Any, scope: Scope) -> Any:
    """Evaluate ``value`` as far as ``scope`` allows.

    Returns
    -------
    Any
        The literal value (a string, number, list or map, with every intrinsic inside evaluated and
        ``AWS::NoValue`` items dropped), :data:`NO_VALUE`, or an :class:`Unresolved` for the first part the
        scope does not know or the template gets wrong.

    Raises
    ------
    TemplateError
        With a strict scope, instead of returning an :class:`Unresolved`.
    """
    return _outcome(lambda: _value(value, scope, 0), scope)


def condition(name: str, scope: Scope) -> bool | Unresolved:
    """The value of the template condition ``name`` (strict scope: raises :class:`TemplateError` instead of
    returning an :class:`Unresolved`)."""
    result: bool | Unresolved = _outcome(lambda: _condition(name, scope, 0), scope)
    return result


def holds(value: Any, scope: Scope) -> bool | Unresolved:
    """Whether a condition expression (``Fn::Equals ...``, ``{"Condition": name}``, a rule's assertion) holds."""
    result: bool | Unresolved = _outcome(lambda: _truth(value, scope, 0), scope)
    return result


def included(logical_id: str, scope: Scope) -> bool | Unresolved:
    """Whether the resource ``logical_id`` of ``scope.resources`` is created: its Condition, if any, holds."""
    name = (scope.resources or {}).get(logical_id, {}).get("Condition")
    return True if name is None else condition(str(name), scope)


def _outcome(evaluate: Callable[[], Any], scope: Scope) -> Any:
    try:
        return evaluate()
    except _UnknownError as unknown:
        if scope.strict:
            raise TemplateError(unknown.strict_message) from None
        return unknown.unresolved
    except TemplateError as error:
        if scope.strict:
            raise
        return Unresolved(str(error))


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


def references(value: Any) -> set[str]:
    """The names ``value`` refers to: by Ref, by Fn::GetAtt (either form) and in Fn::Sub's ``${X}``."""
    found: set[str] = set()
    if isinstance(value, Mapping):
        if len(value) == 1:
            ((key, argument),) = value.items()
            if key == "Ref" and isinstance(argument, str):
                return {argument}
            if key == "Fn::GetAtt":
                return {str(argument.split(".", 1)[0] if isinstance(argument, str) else argument[0])}
            if key == "Fn::Sub":
                text, variables = (argument, {}) if isinstance(argument, str) else argument
                found.update(
                    name.split(".", 1)[0]
                    for name in _SUB_VARIABLE.findall(str(text))
                    if not name.startswith("!") and name not in variables
                )
                return found | references(variables)
        for item in value.values():
            found |= references(item)
    elif isinstance(value, list):
        for item in value:
            found |= references(item)
    return found


def scalar_text(value: Any) -> str:
    """How CloudFormation writes a scalar into a string (numbers as digits, booleans in lower case)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def stringify(value: Any) -> Any:
    """A resolved property value as a custom resource receives it: every scalar a string, structure kept."""
    if isinstance(value, Mapping):
        return {k: stringify(v) for k, v in value.items()}
    if isinstance(value, list):
        return [stringify(v) for v in value]
    return scalar_text(value) if value is not None else ""


# -- evaluation --------------------------------------------------------------------------------------------


def _known(value: Any) -> Any:
    """``value``, unless it is an :class:`Unresolved` (a parameter's, a callback's)."""
    if isinstance(value, Unresolved):
        raise _UnknownError(value)
    return value


def _value(value: Any, scope: Scope, depth: int) -> Any:
    if depth > MAX_DEPTH:
        raise TemplateError("an expression nested too deeply to evaluate")
    if isinstance(value, list):
        return [item for item in (_value(v, scope, depth + 1) for v in value) if item is not NO_VALUE]
    if not isinstance(value, Mapping):
        return _known(value)
    if len(value) == 1:
        ((key, argument),) = value.items()
        function = _FUNCTIONS.get(key)
        if function is not None:
            return function(argument, scope, depth + 1)
        if isinstance(key, str) and key.startswith("Fn::"):
            raise _UnknownError(Unresolved(f"{describe(value)} (known after deploy)"), f"{key} is not supported")
    resolved = {k: _value(v, scope, depth + 1) for k, v in value.items()}
    return {k: v for k, v in resolved.items() if v is not NO_VALUE}


def _ref(name: Any, scope: Scope, depth: int) -> Any:
    if not isinstance(name, str):
        raise TemplateError(f"Ref needs a name (got {name!r})")
    if name == "AWS::NoValue":
        return NO_VALUE
    if name in _PSEUDO:
        attribute, unknown = _PSEUDO[name]
        found = getattr(scope, attribute)
        if found is None or found == "":
            raise _UnknownError(Unresolved(unknown))
        return found
    if name in scope.parameter_values:
        return _known(scope.parameter_values[name])
    definition = scope.parameters.get(name)
    if isinstance(definition, Mapping):
        if str(definition.get("Type", "")).startswith("AWS::SSM::Parameter::Value"):
            raise _UnknownError(Unresolved(f"SSM parameter {definition.get('Default', name)} (read at deploy time)"))
        raise _UnknownError(Unresolved(f"parameter {name} (given at deploy time)"))
    if scope.resources is not None:
        if name not in scope.resources:
            raise TemplateError(f"Unresolved resource dependencies [{name}] in the Resources block of the template")
        created = scope.resources[name].get("Condition")
        if created is not None and not _condition(str(created), scope, depth + 1):
            raise TemplateError(f"Ref {name}: the resource's condition is false")
    if scope.ref is None:
        raise _UnknownError(Unresolved(f"Ref {name} (known after deploy)"))
    return _known(scope.ref(name))


def _attribute(logical_id: str, attribute: str, scope: Scope, *, unknown: str) -> Any:
    if scope.resources is not None and logical_id not in scope.resources:
        raise TemplateError(f"Fn::GetAtt: no resource {logical_id}")
    if scope.get_att is None:
        raise _UnknownError(Unresolved(unknown))
    return _known(scope.get_att(logical_id, attribute))


def _get_att(argument: Any, scope: Scope, depth: int) -> Any:
    if isinstance(argument, str) and "." in argument:
        logical_id, attribute = argument.split(".", 1)
    elif isinstance(argument, list) and len(argument) == 2:
        logical_id, attribute = str(argument[0]), scalar_text(_value(argument[1], scope, depth))
    else:
        raise TemplateError(f"Fn::GetAtt needs a resource and an attribute (got {argument!r})")
    unknown = f"{describe({'Fn::GetAtt': argument})} (known after deploy)"
    return _attribute(logical_id, attribute, scope, unknown=unknown)


def _arguments(name: str, argument: Any, count: int, scope: Scope, depth: int) -> list[Any]:
    """A function's ``count`` arguments, evaluated in order."""
    if not isinstance(argument, list) or len(argument) != count:
        raise TemplateError(f"{name} needs a list of {count} arguments (got {argument!r})")
    return [_value(item, scope, depth) for item in argument]


def _join(argument: Any, scope: Scope, depth: int) -> str:
    delimiter, parts = _arguments("Fn::Join", argument, 2, scope, depth)
    if not isinstance(delimiter, str) or not isinstance(parts, list):
        raise TemplateError("Fn::Join needs a delimiter and a list of values")
    return delimiter.join(scalar_text(part) for part in parts)


def _select(argument: Any, scope: Scope, depth: int) -> Any:
    index, items = _arguments("Fn::Select", argument, 2, scope, depth)
    text = scalar_text(index)
    if not isinstance(items, list) or not text.isdigit() or int(text) >= len(items):
        raise TemplateError(f"Fn::Select index {index} out of range")
    return items[int(text)]


def _split(argument: Any, scope: Scope, depth: int) -> list[str]:
    delimiter, text = _arguments("Fn::Split", argument, 2, scope, depth)
    return scalar_text(text).split(scalar_text(delimiter))


def _sub(argument: Any, scope: Scope, depth: int) -> str:
    if isinstance(argument, list) and len(argument) == 2 and isinstance(argument[1], Mapping):
        text, variables = argument
    else:
        text, variables = argument, {}
    if not isinstance(text, str):
        raise TemplateError("Fn::Sub of a value that is not a string")

    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        if name.startswith("!"):
            return "${" + name[1:] + "}"
        if name in variables:
            # Evaluated when used: a variable the text never names does not decide the result.
            return scalar_text(_value(variables[name], scope, depth))
        if "." in name and not name.startswith("AWS::"):
            logical_id, attribute = name.split(".", 1)
            unknown = f"Fn::Sub ${{{name}}} (known after deploy)"
            return scalar_text(_attribute(logical_id, attribute, scope, unknown=unknown))
        return scalar_text(_ref(name, scope, depth))

    return _SUB_VARIABLE.sub(replace, text)


def _find_in_map(argument: Any, scope: Scope, depth: int) -> Any:
    keys = [scalar_text(key) for key in _arguments("Fn::FindInMap", argument, 3, scope, depth)]
    found: Any = scope.mappings
    for key in keys:
        found = found.get(key) if isinstance(found, Mapping) else None
    if found is None:
        raise TemplateError(f"Fn::FindInMap: no {'/'.join(keys)}")
    return _value(found, scope, depth)


def _base64(argument: Any, scope: Scope, depth: int) -> str:
    return base64.b64encode(scalar_text(_value(argument, scope, depth)).encode()).decode()


def _get_azs(argument: Any, scope: Scope, depth: int) -> list[str]:
    if scope.availability_zones is None:
        raise _UnknownError(Unresolved("Fn::GetAZs (known after deploy)"), "Fn::GetAZs is not supported")
    region = scalar_text(_value(argument, scope, depth)) or scalar_text(_ref("AWS::Region", scope, depth))
    return scope.availability_zones(region)


def _import_value(argument: Any, scope: Scope, depth: int) -> Any:
    raise _UnknownError(Unresolved("Fn::ImportValue (known after deploy)"), "Fn::ImportValue is not supported")


# -- conditions --------------------------------------------------------------------------------------------


def _condition(name: str, scope: Scope, depth: int) -> bool:
    if depth > MAX_DEPTH:
        raise TemplateError(f"condition {name} is nested too deeply to evaluate (does it refer to itself?)")
    if name not in scope.conditions:
        raise TemplateError(f"Unresolved condition dependency {name}")
    return _truth(scope.conditions[name], scope, depth + 1)


def _truth(value: Any, scope: Scope, depth: int) -> bool:
    # ``{"Condition": name}`` is a function only where a condition is expected; elsewhere (an IAM
    # statement's Condition block, say) it is plain data.
    if isinstance(value, Mapping) and len(value) == 1 and "Condition" in value:
        return _condition(str(value["Condition"]), scope, depth + 1)
    result = _value(value, scope, depth)
    return result.lower() == "true" if isinstance(result, str) else bool(result)


def _if(argument: Any, scope: Scope, depth: int) -> Any:
    if not isinstance(argument, list) or len(argument) != 3:
        raise TemplateError("Fn::If needs a condition name, a value if true and a value if false")
    name, when_true, when_false = argument
    return _value(when_true if _condition(str(name), scope, depth) else when_false, scope, depth)


def _equals(argument: Any, scope: Scope, depth: int) -> bool:
    left, right = _arguments("Fn::Equals", argument, 2, scope, depth)
    return scalar_text(left) == scalar_text(right)


def _not(argument: Any, scope: Scope, depth: int) -> bool:
    if not isinstance(argument, list) or len(argument) != 1:
        raise TemplateError("Fn::Not needs a list of one condition")
    return not _truth(argument[0], scope, depth)


def _decided_by(argument: Any, scope: Scope, depth: int, *, decisive: bool) -> bool:
    """Fn::Or (``decisive`` True) or Fn::And (False): one decisive condition settles it, known or not the rest."""
    if not isinstance(argument, list):
        raise TemplateError(f"{'Fn::Or' if decisive else 'Fn::And'} needs a list of conditions")
    unknown: _UnknownError | None = None
    for item in argument:
        try:
            if _truth(item, scope, depth) is decisive:
                return decisive
        except _UnknownError as error:
            unknown = unknown or error
    if unknown is not None:
        raise unknown
    return not decisive


def _and(argument: Any, scope: Scope, depth: int) -> bool:
    return _decided_by(argument, scope, depth, decisive=False)


def _or(argument: Any, scope: Scope, depth: int) -> bool:
    return _decided_by(argument, scope, depth, decisive=True)


def _contains(argument: Any, scope: Scope, depth: int) -> bool:
    items, value = _arguments("Fn::Contains", argument, 2, scope, depth)
    return scalar_text(value) in [scalar_text(v) for v in items]


def _each_member_equals(argument: Any, scope: Scope, depth: int) -> bool:
    items, value = _arguments("Fn::EachMemberEquals", argument, 2, scope, depth)
    return all(scalar_text(v) == scalar_text(value) for v in items)


def _each_member_in(argument: Any, scope: Scope, depth: int) -> bool:
    items, allowed = _arguments("Fn::EachMemberIn", argument, 2, scope, depth)
    return all(scalar_text(v) in [scalar_text(a) for a in allowed] for v in items)


_FUNCTIONS: Final[Mapping[str, Callable[[Any, Scope, int], Any]]] = {
    "Ref": _ref,
    "Fn::GetAtt": _get_att,
    "Fn::Join": _join,
    "Fn::Select": _select,
    "Fn::Split": _split,
    "Fn::Sub": _sub,
    "Fn::FindInMap": _find_in_map,
    "Fn::Base64": _base64,
    "Fn::GetAZs": _get_azs,
    "Fn::ImportValue": _import_value,
    "Fn::If": _if,
    "Fn::Equals": _equals,
    "Fn::Not": _not,
    "Fn::And": _and,
    "Fn::Or": _or,
    "Fn::Contains": _contains,
    "Fn::EachMemberEquals": _each_member_equals,
    "Fn::EachMemberIn": _each_member_in,
}
