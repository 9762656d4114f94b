"""``AWS::Lambda::Permission`` through the engine (localdeploy/lambda_permission.py names its sources): the
statement AddPermission writes, the function it needs, replacement on any change, removal on delete."""

from __future__ import annotations

from typing import Any

from localdeploy.resource_policy import Caller
from tests.engine.conftest import Kinds
from tests.engine.tiny_apps import function, role

CODE = "def handler(event, context):\n    return None\n"
EVENTS = Caller(service="events.amazonaws.com")


def template(permission: dict[str, Any]) -> dict[str, Any]:
    return {
        "Resources": {
            "WorkerRole": role(),
            "Worker": function(CODE),
            "Rule": {"Type": "AWS::Events::Rule", "Properties": {"ScheduleExpression": "rate(7 days)"}},
            "Allow": {"Type": "AWS::Lambda::Permission", "Properties": permission},
        },
        "Outputs": {
            "Ref": {"Value": {"Ref": "Allow"}},
            "Function": {"Value": {"Fn::GetAtt": ["Worker", "Arn"]}},
            "Rule": {"Value": {"Fn::GetAtt": ["Rule", "Arn"]}},
        },
    }


FROM_RULE = {
    "Action": "lambda:InvokeFunction",
    "FunctionName": {"Fn::GetAtt": ["Worker", "Arn"]},
    "Principal": "events.amazonaws.com",
    "SourceArn": {"Fn::GetAtt": ["Rule", "Arn"]},
}


def test_a_permission_is_the_statement_lambda_writes_and_lets_only_its_rule_invoke(kinds: Kinds) -> None:
    # WHEN a stack lets its rule invoke its function
    result = kinds.deploy("Coverage", template(FROM_RULE), {"worker": CODE})
    assert result.status == "CREATE_COMPLETE", result.problems
    arn, rule = result.outputs["Function"], result.outputs["Rule"]
    # THEN the function's policy holds AddPermission's statement, and Ref is <function>|<statement id>
    (statement,) = kinds.permissions.statements(arn)
    assert statement["Principal"] == {"Service": "events.amazonaws.com"}
    assert statement["Resource"] == arn
    assert statement["Condition"] == {"ArnLike": {"AWS:SourceArn": rule}}
    assert result.outputs["Ref"] == f"{arn}|{statement['Sid']}"
    # AND it lets that rule invoke the function, not another rule
    assert kinds.permissions.allows(arn, EVENTS, "lambda:InvokeFunction", {"aws:SourceArn": [rule]})
    assert not kinds.permissions.allows(arn, EVENTS, "lambda:InvokeFunction", {"aws:SourceArn": [rule + "x"]})


def test_any_change_replaces_the_permission_and_a_delete_removes_it(kinds: Kinds) -> None:
    # GIVEN a permission
    first = kinds.deploy("Coverage", template(FROM_RULE), {"worker": CODE})
    arn = first.outputs["Function"]
    # WHEN its source account is added (every property is create-only)
    second = kinds.deploy("Coverage", template({**FROM_RULE, "SourceAccount": "123456789012"}), {"worker": CODE})
    # THEN a new statement replaces the old one, which cleanup removed
    assert second.status == "UPDATE_COMPLETE", second.problems
    assert second.outputs["Ref"] != first.outputs["Ref"]
    (statement,) = kinds.permissions.statements(arn)
    assert statement["Condition"]["StringEquals"] == {"AWS:SourceAccount": "123456789012"}
    # WHEN the stack is destroyed  THEN the function has no statement left
    assert kinds.destroy("Coverage").status == "DELETE_COMPLETE"
    assert kinds.permissions.statements(arn) == []


def test_a_permission_on_a_function_that_does_not_exist_fails(kinds: Kinds) -> None:
    missing = {**FROM_RULE, "FunctionName": "nowhere"}
    result = kinds.deploy("Coverage", template(missing), {"worker": CODE})
    assert result.status == "ROLLBACK_COMPLETE"
    (failed,) = [e for e in result.events if e.logical_id == "Allow" and e.status == "CREATE_FAILED"]
    assert "Function not found: arn:aws:lambda:us-east-1:123456789012:function:nowhere" in failed.reason
