"""EventBridge event patterns: validated and matched as EventBridge does.

moto's own matcher (``moto.events.models.EventPattern``) is not used: it flattens only nested objects, so a
pattern on a field of an array of objects never matches, and it knows no ``wildcard`` or ``cidr``. This
module follows the EventBridge user guide, "Creating event patterns" and "Comparison operators for use in
event patterns" (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-create-pattern-operators.html):

- every leaf of a pattern is a non-empty array; an event matches when, for every field of the pattern, one
  of the field's values matches one element of the array (values of the event's arrays are each
  candidates, arrays of objects included: EventBridge flattens them);
- exact values match by type: a string matches only a string, a number only a number (5 and 5.0 are one),
  ``null`` only a null; ``true`` is not the number 1;
- ``prefix``, ``suffix``, ``equals-ignore-case``, ``wildcard`` apply to strings; ``numeric`` to numbers;
  ``cidr`` to IP addresses; ``anything-but`` to present fields only; ``exists`` only to leaves
  (``{"exists": false}`` matches a field that is absent, ``{"exists": true}`` one that holds a value);
- ``$or`` holds a list of patterns, any of which may match.
"""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Mapping
from typing import Any

_NUMERIC_OPERATORS = {"<", "<=", "=", ">=", ">"}

_FILTERS = {"prefix", "suffix", "equals-ignore-case", "wildcard", "numeric", "anything-but", "exists", "cidr"}


class EventPatternError(ValueError):
    """A pattern EventBridge refuses (``InvalidEventPatternException``); the message is EventBridge's form."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"Event pattern is not valid. Reason: {reason}")
        self.reason = reason


def parse(text: str | Mapping[str, Any]) -> dict[str, Any]:
    """The pattern of a rule (CloudFormation gives it as an object, the API as JSON text), validated.

    Raises
    ------
    EventPatternError
        As PutRule refuses it.
    """
    if isinstance(text, str):
        try:
            pattern = json.loads(text)
        except ValueError as error:
            raise EventPatternError(f"Invalid JSON: {error}") from None
    else:
        pattern = json.loads(json.dumps(text))
    if not isinstance(pattern, dict):
        raise EventPatternError("Filter is not an object")
    _validate(pattern, "")
    return pattern


def _validate(pattern: Mapping[str, Any], where: str) -> None:
    for key, value in pattern.items():
        path = f"{where}.{key}" if where else key
        if key == "$or":
            if not isinstance(value, list) or len(value) < 2 or not all(isinstance(p, dict) for p in value):
                raise EventPatternError(f'"$or" must be a list of at least two objects at "{where or "<root>"}"')
            for alternative in value:
                _validate(alternative, where)
        elif isinstance(value, dict):
            if not value:
                raise EventPatternError(f'Empty objects are not allowed at "{path}"')
            _validate(value, path)
        elif isinstance(value, list):
            if not value:
                raise EventPatternError(f'Empty arrays are not allowed at "{path}"')
            for item in value:
                _validate_filter(item, path)
        else:
            raise EventPatternError(f'"{key}" must be an object or an array')


def _validate_filter(item: Any, path: str) -> None:
    if item is None or isinstance(item, (str, bool, int, float)):
        return
    if not isinstance(item, dict) or len(item) != 1:
        raise EventPatternError(f'Match value must be a string, number, null or one filter object at "{path}"')
    ((name, value),) = item.items()
    if name not in _FILTERS:
        raise EventPatternError(f'Unrecognized match type {name} at "{path}"')
    if name == "exists" and not isinstance(value, bool):
        raise EventPatternError(f'exists match pattern must be either true or false at "{path}"')
    if name == "numeric":
        _validate_numeric(value, path)
    if name == "cidr":
        try:
            ipaddress.ip_network(str(value), strict=False)
        except ValueError:
            raise EventPatternError(f'Malformed CIDR {value} at "{path}"') from None
    if name in ("prefix", "suffix") and not (
        isinstance(value, str) or (isinstance(value, dict) and set(value) == {"equals-ignore-case"})
    ):
        raise EventPatternError(f'{name} match pattern must be a string or an equals-ignore-case object at "{path}"')
    if name in ("equals-ignore-case", "wildcard") and not isinstance(value, str):
        raise EventPatternError(f'{name} match pattern must be a string at "{path}"')
    if name == "anything-but":
        inner = value if isinstance(value, list) else [value]
        for each in inner:
            if isinstance(each, dict):
                if len(each) != 1 or next(iter(each)) not in ("prefix", "suffix", "equals-ignore-case", "wildcard"):
                    raise EventPatternError(f'Unsupported anything-but pattern at "{path}"')
            elif not (each is None or isinstance(each, (str, int, float))) or isinstance(each, bool):
                raise EventPatternError(f'Inside anything-but list, values must be strings or numbers at "{path}"')


def _validate_numeric(value: Any, path: str) -> None:
    if not isinstance(value, list) or len(value) not in (2, 4):
        raise EventPatternError(f'Value of numeric must be an array of one or two comparisons at "{path}"')
    for operator, number in zip(value[::2], value[1::2], strict=True):
        if operator not in _NUMERIC_OPERATORS:
            raise EventPatternError(f'Unrecognized numeric range operator: {operator} at "{path}"')
        if isinstance(number, bool) or not isinstance(number, (int, float)):
            raise EventPatternError(f'Value of {operator} must be numeric at "{path}"')


# -- matching ---------------------------------------------------------------------------------------------


def matches(pattern: Mapping[str, Any], event: Mapping[str, Any]) -> bool:
    """Whether ``event`` (the envelope: source, detail-type, detail...) matches ``pattern`` (validated)."""
    return _matches_object(pattern, [event])


def _matches_object(pattern: Mapping[str, Any], nodes: list[Any]) -> bool:
    for key, expected in pattern.items():
        if key == "$or":
            if not any(_matches_object(alternative, nodes) for alternative in expected):
                return False
            continue
        children = _children(nodes, key)
        if isinstance(expected, dict):
            objects = [child for child in children if isinstance(child, dict)]
            if not objects or not _matches_object(expected, objects):
                return False
        elif not _matches_leaf(expected, [child for child in children if not isinstance(child, dict)]):
            return False
    return True


def _children(nodes: list[Any], key: str) -> list[Any]:
    """The values under ``key`` of every object in ``nodes``, the elements of arrays spread out."""
    found: list[Any] = []
    for node in nodes:
        if isinstance(node, dict) and key in node:
            found.extend(_spread(node[key]))
    return found


def _spread(value: Any) -> list[Any]:
    if isinstance(value, list):
        return [leaf for item in value for leaf in _spread(item)]
    return [value]


def _matches_leaf(filters: list[Any], values: list[Any]) -> bool:
    for item in filters:
        if isinstance(item, dict) and "exists" in item:
            if bool(values) == item["exists"]:
                return True
            continue
        if not values:
            continue  # every other filter needs the field
        if any(_matches_value(item, value) for value in values):
            return True
    return False


def _same(expected: Any, value: Any) -> bool:
    if expected is None or value is None:
        return expected is None and value is None
    if isinstance(expected, bool) or isinstance(value, bool):
        return isinstance(expected, bool) and isinstance(value, bool) and expected == value
    if isinstance(expected, (int, float)) and isinstance(value, (int, float)):
        return float(expected) == float(value)
    return isinstance(expected, str) and isinstance(value, str) and expected == value


def _matches_value(item: Any, value: Any) -> bool:  # noqa: PLR0911 - one return per kind of filter
    if not isinstance(item, dict):
        return _same(item, value)
    ((name, operand),) = item.items()
    if name == "anything-but":
        excluded = operand if isinstance(operand, list) else [operand]
        return not any(
            _matches_value(each, value) if isinstance(each, dict) else _same(each, value) for each in excluded
        )
    if name == "numeric":
        return _numeric(operand, value)
    if name == "cidr":
        return _in_cidr(str(operand), value)
    if not isinstance(value, str):
        return False
    if name in ("prefix", "suffix"):
        if isinstance(operand, dict):
            target, text = str(operand["equals-ignore-case"]).lower(), value.lower()
        else:
            target, text = str(operand), value
        return text.startswith(target) if name == "prefix" else text.endswith(target)
    if name == "equals-ignore-case":
        return value.lower() == str(operand).lower()
    if name == "wildcard":
        regex = ".*".join(re.escape(part) for part in str(operand).split("*"))
        return re.fullmatch(regex, value, re.DOTALL) is not None
    return False


def _numeric(operand: list[Any], value: Any) -> bool:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    checks = {
        "<": lambda a, b: a < b,
        "<=": lambda a, b: a <= b,
        "=": lambda a, b: a == b,
        ">=": lambda a, b: a >= b,
        ">": lambda a, b: a > b,
    }
    return all(checks[op](float(value), float(n)) for op, n in zip(operand[::2], operand[1::2], strict=True))


def _in_cidr(network: str, value: Any) -> bool:
    if not isinstance(value, str):
        return False
    try:
        return ipaddress.ip_address(value) in ipaddress.ip_network(network, strict=False)
    except ValueError:
        return False
