"""EventBridge's pattern matching and checking, schedule expressions and target input, as the EventBridge
user guide describes them (eb-create-pattern-operators.html, eb-scheduled-rule-pattern.html,
eb-transform-target-input.html). Pure functions: no emulator runs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from localdeploy.event_pattern import EventPatternError, matches, parse
from localdeploy.schedule_expression import ScheduleExpressionError, validate
from localdeploy.target_input import render

EVENTS = Path(__file__).parent / "events"


def event(name: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((EVENTS / f"{name}.json").read_text())
    return document


MOVE = event("move_account")
CREATED = event("create_account_result")


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ({"source": ["aws.organizations"]}, True),
        ({"source": ["aws.controltower"]}, False),
        ({"detail": {"eventName": ["MoveAccount", "AcceptHandshake"]}}, True),
        ({"detail": {"requestParameters": {"destinationParentId": [{"prefix": "ou-examplerootid111-"}]}}}, True),
        ({"detail": {"requestParameters": {"destinationParentId": [{"suffix": "222"}]}}}, True),
        ({"detail": {"eventName": [{"anything-but": ["MoveAccount"]}]}}, False),
        ({"detail": {"eventName": [{"anything-but": {"prefix": "Create"}}]}}, True),
        ({"detail": {"errorCode": [{"exists": False}]}}, True),
        ({"detail": {"errorCode": [{"exists": True}]}}, False),
        # exists matches leaves only: requestParameters is an object
        ({"detail": {"requestParameters": [{"exists": True}]}}, False),
        # anything-but needs the field
        ({"detail": {"errorCode": [{"anything-but": "AccessDenied"}]}}, False),
        ({"detail": {"eventName": [{"equals-ignore-case": "moveaccount"}]}}, True),
        ({"detail": {"userAgent": [{"wildcard": "aws-cli/*"}]}}, True),
        ({"detail": {"sourceIPAddress": [{"cidr": "192.0.2.0/24"}]}}, True),
        ({"detail": {"readOnly": [False]}}, True),
        # false is not 0, "false" is not false
        ({"detail": {"readOnly": [0]}}, False),
        ({"detail": {"readOnly": ["false"]}}, False),
        ({"detail": {"responseElements": [None]}}, True),
        ({"$or": [{"source": ["aws.controltower"]}, {"detail-type": ["AWS API Call via CloudTrail"]}]}, True),
    ],
)
def test_patterns_match_as_eventbridge_matches(pattern: dict[str, Any], expected: bool) -> None:
    # GIVEN a recorded MoveAccount event  WHEN the pattern is checked and matched  THEN EventBridge's answer
    assert matches(parse(pattern), MOVE) is expected


def test_numeric_matching_applies_to_numbers_only_and_arrays_of_objects_are_flattened() -> None:
    # GIVEN an event whose detail holds numbers, a numeric string and an array of objects
    detail = {"count": 5, "text": "5", "items": [{"id": "a", "size": 1}, {"id": "b", "size": 10}]}
    envelope = {"source": "custom", "detail": detail}
    # THEN numeric ranges see numbers, not strings, and 5 equals 5.0
    assert matches(parse({"detail": {"count": [{"numeric": [">", 0, "<=", 5]}]}}), envelope)
    assert not matches(parse({"detail": {"text": [{"numeric": [">", 0]}]}}), envelope)
    assert matches(parse({"detail": {"count": [5.0]}}), envelope)
    # AND a field of an array of objects matches any element (EventBridge flattens arrays)
    assert matches(parse({"detail": {"items": {"id": ["b"]}}}), envelope)
    assert matches(parse({"detail": {"items": {"size": [{"numeric": [">=", 10]}]}}}), envelope)
    assert not matches(parse({"detail": {"items": {"id": ["c"]}}}), envelope)


@pytest.mark.parametrize(
    "pattern",
    [
        '{"source": "aws.organizations"}',  # a leaf must be an array
        {"source": []},
        {"detail": {"n": [{"numeric": [">>", 1]}]}},
        {"detail": {"n": [{"exists": "yes"}]}},
        {"detail": {"n": [{"unknown-filter": 1}]}},
        "not json",
        "[]",
    ],
)
def test_invalid_patterns_are_refused_with_eventbridges_message(pattern: Any) -> None:
    with pytest.raises(EventPatternError, match=r"^Event pattern is not valid\. Reason: "):
        parse(pattern)


@pytest.mark.parametrize(
    ("expression", "valid"),
    [
        ("rate(1 minute)", True),
        ("rate(5 minutes)", True),
        ("rate(1 minutes)", False),
        ("rate(5 minute)", False),
        ("rate(0 minutes)", False),
        ("rate(1 day)", True),
        ("rate(7 days)", True),
        ("rate(2 weeks)", False),
        ("cron(0 12 * * ? *)", True),
        ("cron(0/15 9-17 ? * MON-FRI *)", True),
        ("cron(0 8 1 * ? 2026)", True),
        ("cron(0 8 ? * 6#3 *)", True),
        ("cron(0 8 L * ? *)", True),
        ("cron(0 12 * * *)", False),  # five fields, as Unix cron has
        ("cron(0 12 * * * *)", False),  # both day fields set
        ("cron(0 12 ? * ? *)", False),  # neither day field set
        ("cron(60 12 * * ? *)", False),
        ("cron(0 24 * * ? *)", False),
        ("every day", False),
    ],
)
def test_schedule_expressions_follow_eventbridges_rules(expression: str, valid: bool) -> None:
    if valid:
        validate(expression)
    else:
        with pytest.raises(ScheduleExpressionError, match=r"^Parameter ScheduleExpression is not valid\.$"):
            validate(expression)


def test_target_input_input_path_and_transformer() -> None:
    # GIVEN the recorded CreateAccountResult event
    rule = {"rule_arn": "arn:aws:events:us-east-1:111122223333:rule/r", "rule_name": "r"}
    # THEN no input setting sends the event itself; Input sends its text; InputPath the selected part
    assert json.loads(render({}, CREATED, **rule)) == CREATED
    assert render({"Input": '{"sweep": true}'}, CREATED, **rule) == '{"sweep": true}'
    status = CREATED["detail"]["serviceEventDetails"]["createAccountStatus"]
    assert (
        json.loads(render({"InputPath": "$.detail.serviceEventDetails.createAccountStatus"}, CREATED, **rule)) == status
    )
    # AND a JSON template quotes a string value placed outside quotes, and inserts its text inside quotes
    transformer = {
        "InputPathsMap": {"account": "$.detail.serviceEventDetails.createAccountStatus.accountId", "gone": "$.nope"},
        "InputTemplate": '{"account": <account>, "text": "account <account> by <aws.events.rule-name>", "x": <gone>}',
    }
    rendered = json.loads(render({"InputTransformer": transformer}, CREATED, **rule))
    assert rendered == {"account": "444455556666", "text": "account 444455556666 by r", "x": None}
    # AND a plain-text template gets the values' text
    plain = {
        "InputPathsMap": {"state": "$.detail.serviceEventDetails.createAccountStatus.state"},
        "InputTemplate": "now <state>",
    }
    assert render({"InputTransformer": plain}, CREATED, **rule) == "now SUCCEEDED"
