"""What EventBridge sends a target: the event, or the target's Input, InputPath or InputTransformer applied.

From "Amazon EventBridge input transformation" (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-transform-target-input.html):

- ``Input``: the given JSON text, whatever the event;
- ``InputPath``: the part of the event a JSON path selects (``$.detail``), as JSON;
- ``InputTransformer``: each ``InputPathsMap`` variable takes the value its path selects (a missing path
  gives nothing), and ``<variable>`` placeholders of ``InputTemplate`` are replaced. In a JSON template a
  placeholder outside quotes is replaced by the value as JSON (a string gets its quotes), one inside quotes by
  the value's text; a template that is not JSON is filled with the values' text. The predefined variables
  ``aws.events.rule-arn``, ``aws.events.rule-name``, ``aws.events.event.ingestion-time``, ``aws.events.event``
  (the event without its detail) and ``aws.events.event.json`` (the whole event) are known.

JSON paths are those EventBridge supports: dot notation and array indices (``$.detail.items[0].id``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

_MISSING = object()
_STEP = re.compile(r"\.([^.\[\]]+)|\[(\d+)\]")
_PLACEHOLDER = re.compile(r"<([A-Za-z0-9_.\-]+)>")


def select(document: Any, path: str) -> Any:
    """The value a JSON path selects in ``document``; :data:`_MISSING` when there is none."""
    if not path.startswith("$"):
        return _MISSING
    position, value = 1, document
    while position < len(path):
        step = _STEP.match(path, position)
        if step is None:
            return _MISSING
        key, index = step.group(1), step.group(2)
        if key is not None:
            if not isinstance(value, dict) or key not in value:
                return _MISSING
            value = value[key]
        else:
            if not isinstance(value, list) or int(index) >= len(value):
                return _MISSING
            value = value[int(index)]
        position = step.end()
    return value


def _as_text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def _fill_json(template: str, values: Mapping[str, Any]) -> str:
    out: list[str] = []
    in_string = escaped = False
    position = 0
    while position < len(template):
        char = template[position]
        placeholder = _PLACEHOLDER.match(template, position) if char == "<" else None
        if placeholder is not None and placeholder.group(1) in values:
            value = values[placeholder.group(1)]
            if in_string:
                text = "" if value is _MISSING else _as_text(value)
                out.append(json.dumps(text)[1:-1] if isinstance(value, str) else text)
            else:
                out.append("null" if value is _MISSING else json.dumps(value))
            position = placeholder.end()
            continue
        out.append(char)
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        position += 1
    return "".join(out)


def transform(transformer: Mapping[str, Any], event: Mapping[str, Any], *, rule_arn: str, rule_name: str) -> str:
    """Apply an InputTransformer to ``event``."""
    values: dict[str, Any] = {
        name: select(event, str(path)) for name, path in (transformer.get("InputPathsMap") or {}).items()
    }
    without_detail = {k: v for k, v in event.items() if k != "detail"}
    values.update(
        {
            "aws.events.rule-arn": rule_arn,
            "aws.events.rule-name": rule_name,
            "aws.events.event.ingestion-time": event.get("time", ""),
            "aws.events.event": without_detail,
            "aws.events.event.json": dict(event),
        }
    )
    template = str(transformer.get("InputTemplate", ""))
    if template.lstrip()[:1] in ("{", "[", '"'):
        return _fill_json(template, values)
    return _PLACEHOLDER.sub(
        lambda m: (
            ""
            if values.get(m.group(1), _MISSING) is _MISSING
            else _as_text(values[m.group(1)])
            if m.group(1) in values
            else m.group(0)
        ),
        template,
    )


def render(target: Mapping[str, Any], event: Mapping[str, Any], *, rule_arn: str, rule_name: str) -> str:
    """The payload a target gets for ``event``."""
    if target.get("Input"):
        return str(target["Input"])
    if target.get("InputPath"):
        selected = select(event, str(target["InputPath"]))
        return "null" if selected is _MISSING else json.dumps(selected)
    if target.get("InputTransformer"):
        return transform(target["InputTransformer"], event, rule_arn=rule_arn, rule_name=rule_name)
    return json.dumps(event)
