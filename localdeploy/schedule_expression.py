"""EventBridge schedule expressions (``rate(...)``, ``cron(...)``), checked as PutRule checks them.

The rules (EventBridge user guide, "Rate expressions reference" and "Cron expressions reference":
https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-scheduled-rule-pattern.html):

- ``rate(value unit)``: a positive integer and minute(s), hour(s) or day(s); the unit is singular when the
  value is 1 and plural otherwise: ``rate(1 minute)`` and ``rate(5 minutes)`` are valid, ``rate(1 minutes)``
  and ``rate(5 minute)`` are not (confirmed against the API in buildkite/buildkite-agent-scaler #100);
- ``cron(minutes hours day-of-month month day-of-week year)``: six fields, exactly one of day-of-month and
  day-of-week is ``?``; each field takes its own values and wildcards.

An invalid expression gets EventBridge's ValidationException, "Parameter ScheduleExpression is not valid.";
CloudFormation shows it as ``Resource handler returned message: "Parameter ScheduleExpression is not valid.
(Service: EventBridge, Status Code: 400, Request ID: ...)" (..., HandlerErrorCode: GeneralServiceException)``
(aws/aws-cdk #32753).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

INVALID = "Parameter ScheduleExpression is not valid."

_RATE = re.compile(r"^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$")
_CRON = re.compile(r"^cron\((.*)\)$")

_MONTHS = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]
_DAYS = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"]


@dataclass(frozen=True)
class _Field:
    low: int
    high: int
    names: tuple[str, ...] = ()
    question: bool = False
    last: bool = False
    weekday: bool = False
    nth: bool = False


_FIELDS = (
    _Field(0, 59),
    _Field(0, 23),
    _Field(1, 31, question=True, last=True, weekday=True),
    _Field(1, 12, names=tuple(_MONTHS)),
    _Field(1, 7, names=tuple(_DAYS), question=True, last=True, nth=True),
    _Field(1970, 2199),
)


class ScheduleExpressionError(ValueError):
    """An expression EventBridge refuses; the message is EventBridge's."""

    def __init__(self) -> None:
        super().__init__(INVALID)


def validate(expression: str) -> None:
    """Raise :class:`ScheduleExpressionError` unless EventBridge accepts ``expression``."""
    rate = _RATE.match(expression)
    if rate is not None:
        value, unit = int(rate.group(1)), rate.group(2)
        if value < 1 or (value == 1) == unit.endswith("s"):
            raise ScheduleExpressionError
        return
    cron = _CRON.match(expression)
    if cron is None:
        raise ScheduleExpressionError
    fields = cron.group(1).split()
    if len(fields) != 6:
        raise ScheduleExpressionError
    day_of_month, day_of_week = fields[2], fields[4]
    if (day_of_month == "?") == (day_of_week == "?"):
        raise ScheduleExpressionError  # exactly one of the two must be "?"
    for text, field in zip(fields, _FIELDS, strict=True):
        if not _field_ok(text, field):
            raise ScheduleExpressionError


def _value(text: str, field: _Field) -> int | None:
    if text.isdigit():
        number = int(text)
        return number if field.low <= number <= field.high else None
    if text.upper() in field.names:
        return field.names.index(text.upper()) + field.low
    return None


def _field_ok(text: str, field: _Field) -> bool:
    if text == "?":
        return field.question
    if field.nth and "#" in text:
        day, _, nth = text.partition("#")
        return _value(day, field) is not None and nth.isdigit() and 1 <= int(nth) <= 5
    return all(_part_ok(part, field) for part in text.split(","))


def _part_ok(part: str, field: _Field) -> bool:  # noqa: PLR0911 - one return per wildcard form
    if not part:
        return False
    if field.last and part == "L":
        return True
    if field.weekday and part.endswith("W") and part[:-1].isdigit():
        return _value(part[:-1], field) is not None
    if field.last and part.endswith("L") and len(part) > 1:
        return _value(part[:-1], field) is not None
    base, slash, step = part.partition("/")
    if slash and not (step.isdigit() and int(step) >= 1):
        return False
    if base == "*":
        return True
    start, dash, end = base.partition("-")
    if _value(start, field) is None:
        return False
    return not dash or _value(end, field) is not None
