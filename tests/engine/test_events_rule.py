"""``AWS::Events::Rule`` through the engine, in moto's EventBridge (localdeploy/events_rule.py names its
sources): rules and targets stored, EventBridge's refusals as CloudFormation shows them, targets diffed on
update, a rename replacing the rule."""

from __future__ import annotations

from typing import Any

import pytest

from tests.engine.conftest import Kinds

QUEUE = {"Type": "AWS::SQS::Queue", "Properties": {}}
TARGET = {"Id": "Work", "Arn": {"Fn::GetAtt": ["Queue", "Arn"]}}
ACCOUNTS_JOINING = {
    "source": ["aws.organizations"],
    "detail": {"eventName": ["CreateAccountResult", "AcceptHandshake", "MoveAccount"]},
}


def template(rule: dict[str, Any]) -> dict[str, Any]:
    return {
        "Resources": {"Queue": QUEUE, "Rule": {"Type": "AWS::Events::Rule", "Properties": rule}},
        "Outputs": {"Ref": {"Value": {"Ref": "Rule"}}, "Arn": {"Value": {"Fn::GetAtt": ["Rule", "Arn"]}}},
    }


def test_a_rule_and_its_targets_are_stored_with_cloudformations_ref_and_arn(kinds: Kinds) -> None:
    # WHEN a stack declares a rule on Organizations' events with a queue target and a transformer
    transformer = {"InputPathsMap": {"id": "$.detail.eventName"}, "InputTemplate": '{"event": <id>}'}
    result = kinds.deploy(
        "Coverage",
        template({"EventPattern": ACCOUNTS_JOINING, "Targets": [{**TARGET, "InputTransformer": transformer}]}),
    )
    # THEN the rule exists, enabled, on the default bus, with its generated name as Ref and its ARN
    assert result.status == "CREATE_COMPLETE", result.problems
    name = result.outputs["Ref"]
    assert name.startswith("Coverage-Rule-")
    assert result.outputs["Arn"] == f"arn:aws:events:us-east-1:123456789012:rule/{name}"
    described = kinds.events.describe_rule(Name=name)
    assert described["State"] == "ENABLED"
    (target,) = kinds.events.list_targets_by_rule(Rule=name)["Targets"]
    assert target["Id"] == "Work" and target["InputTransformer"] == transformer


def test_targets_are_diffed_on_update_and_a_new_name_replaces_the_rule(kinds: Kinds) -> None:
    # GIVEN a rule with one target
    first = kinds.deploy("Coverage", template({"EventPattern": ACCOUNTS_JOINING, "Targets": [TARGET]}))
    name = first.outputs["Ref"]
    # WHEN the target is replaced by another id and the rule disabled
    other = {"Id": "Other", "Arn": {"Fn::GetAtt": ["Queue", "Arn"]}, "Input": '{"sweep": true}'}
    second = kinds.deploy(
        "Coverage", template({"EventPattern": ACCOUNTS_JOINING, "Targets": [other], "State": "DISABLED"})
    )
    # THEN it is the same rule, now disabled, with only the new target
    assert second.status == "UPDATE_COMPLETE", second.problems
    assert second.outputs["Ref"] == name
    assert kinds.events.describe_rule(Name=name)["State"] == "DISABLED"
    assert [t["Id"] for t in kinds.events.list_targets_by_rule(Rule=name)["Targets"]] == ["Other"]
    # WHEN it is given a name  THEN a new rule replaces it, the old one deleted with its targets
    third = kinds.deploy(
        "Coverage", template({"Name": "coverage", "EventPattern": ACCOUNTS_JOINING, "Targets": [TARGET]})
    )
    assert third.status == "UPDATE_COMPLETE", third.problems
    assert [r["Name"] for r in kinds.events.list_rules()["Rules"]] == ["coverage"]


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        ({"ScheduleExpression": "rate(1 minutes)"}, "Parameter ScheduleExpression is not valid."),
        ({"ScheduleExpression": "rate(7 day)"}, "Parameter ScheduleExpression is not valid."),
        ({"ScheduleExpression": "cron(0 12 * * *)"}, "Parameter ScheduleExpression is not valid."),
        ({"Targets": [TARGET]}, "Parameter(s) EventPattern or ScheduleExpression must be specified."),
        ({"EventPattern": {"source": "aws.organizations"}}, "Event pattern is not valid. Reason: "),
        (
            {"ScheduleExpression": "rate(7 days)", "EventBusName": "custom"},
            "ScheduleExpression is supported only on the default event bus.",
        ),
        (
            {"EventPattern": ACCOUNTS_JOINING, "Targets": [{**TARGET, "Input": "{}", "InputPath": "$.detail"}]},
            "Only one of Input, InputPath, or InputTransformer",
        ),
        (
            {"EventPattern": ACCOUNTS_JOINING, "Targets": [{**TARGET, "RetryPolicy": {"MaximumRetryAttempts": 186}}]},
            "MaximumRetryAttempts must be between 0 and 185.",
        ),
        (
            {"EventPattern": ACCOUNTS_JOINING, "Targets": [{**TARGET, "Id": f"t{i}"} for i in range(6)]},
            "exceeds the maximum number allowed",
        ),
    ],
)
def test_eventbridge_refuses_what_it_refuses_with_its_message(kinds: Kinds, rule: dict[str, Any], message: str) -> None:
    # WHEN a rule EventBridge would refuse is created
    result = kinds.deploy("Coverage", template(rule))
    # THEN the resource fails with EventBridge's message, as CloudFormation shows it, and the stack rolls back
    assert result.status == "ROLLBACK_COMPLETE"
    (failed,) = [e for e in result.events if e.logical_id == "Rule" and e.status == "CREATE_FAILED"]
    assert message in failed.reason
    assert failed.reason.startswith('Resource handler returned message: "')
    assert "(Service: EventBridge, Status Code: 400" in failed.reason
    assert kinds.events.list_rules()["Rules"] == []


def test_a_weekly_schedule_is_accepted(kinds: Kinds) -> None:
    result = kinds.deploy("Coverage", template({"ScheduleExpression": "rate(7 days)", "Targets": [TARGET]}))
    assert result.status == "CREATE_COMPLETE", result.problems
    assert kinds.events.describe_rule(Name=result.outputs["Ref"])["ScheduleExpression"] == "rate(7 days)"
