"""``AWS::Lambda::EventSourceMapping`` from an SQS queue through the engine (localdeploy/event_source_mapping.py
names its sources): the checks Lambda makes at creation, each failing with Lambda's message as CloudFormation
shows it, and a mapping that passes them being polled. No function runs here: nothing is sent to the queue."""

from __future__ import annotations

from typing import Any

import pytest

from tests.engine.conftest import Kinds
from tests.engine.tiny_apps import consume, queue_worker

CODE = "def handler(event, context):\n    return None\n"


def template(
    *,
    mapping: dict[str, Any] | None = None,
    statements: list[dict[str, Any]] | None = None,
    visibility: int = 30,
    timeout: int = 10,
) -> dict[str, Any]:
    return {
        "Resources": {
            "Queue": {"Type": "AWS::SQS::Queue", "Properties": {"VisibilityTimeout": visibility}},
            **queue_worker(CODE, timeout=timeout, mapping=mapping, statements=statements),
        },
        "Outputs": {
            "Id": {"Value": {"Ref": "Mapping"}},
            "Arn": {"Value": {"Fn::GetAtt": ["Mapping", "EventSourceMappingArn"]}},
        },
    }


def failure(kinds: Kinds, document: dict[str, Any]) -> str:
    result = kinds.deploy("Coverage", document, {"worker": CODE})
    assert result.status == "ROLLBACK_COMPLETE", result.problems
    (failed,) = [e for e in result.events if e.logical_id == "Mapping" and e.status == "CREATE_FAILED"]
    assert kinds.pollers.mappings() == []
    return failed.reason


def test_a_mapping_that_passes_lambdas_checks_is_polled_with_its_configuration(kinds: Kinds) -> None:
    # WHEN a function that may consume the queue is mapped to it, partial batch responses on
    mapping = {
        "BatchSize": 100,
        "MaximumBatchingWindowInSeconds": 1,
        "FunctionResponseTypes": ["ReportBatchItemFailures"],
        "ScalingConfig": {"MaximumConcurrency": 2},
    }
    result = kinds.deploy("Coverage", template(mapping=mapping), {"worker": CODE})
    # THEN the mapping exists, Ref is its UUID, and its pollers run with that configuration
    assert result.status == "CREATE_COMPLETE", result.problems
    (polled,) = kinds.pollers.mappings()
    assert result.outputs["Id"] == polled.uuid
    assert result.outputs["Arn"] == f"arn:aws:lambda:us-east-1:123456789012:event-source-mapping:{polled.uuid}"
    assert (polled.batch_size, polled.window_s, polled.report_failures, polled.maximum_concurrency) == (100, 1, True, 2)
    # WHEN it is disabled  THEN it is updated in place and no longer polled; destroyed, it is gone
    disabled = kinds.deploy("Coverage", template(mapping={**mapping, "Enabled": False}), {"worker": CODE})
    assert disabled.status == "UPDATE_COMPLETE", disabled.problems
    assert disabled.outputs["Id"] == polled.uuid and not kinds.pollers.mappings()[0].enabled
    assert kinds.destroy("Coverage").status == "DELETE_COMPLETE"
    assert kinds.pollers.mappings() == []


@pytest.mark.parametrize("missing", ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"])
def test_a_role_that_cannot_consume_the_queue_fails_the_mapping_as_lambda_does(kinds: Kinds, missing: str) -> None:
    # GIVEN a role allowed everything CDK's grant gives but one action
    grant = consume("Queue")
    statements = [{**grant, "Action": [a for a in grant["Action"] if a != missing]}]
    # WHEN the mapping is created  THEN Lambda's InvalidParameterValueException names the call
    reason = failure(kinds, template(statements=statements))
    action = missing.split(":")[1]
    assert (
        f"Invalid request provided: The provided execution role does not have permissions to call {action} on SQS"
        in reason
    )
    assert "(Service: Lambda, Status Code: 400" in reason and "HandlerErrorCode: InvalidRequest" in reason


def test_a_role_granted_another_queue_fails_the_mapping(kinds: Kinds) -> None:
    elsewhere = {**consume("Queue"), "Resource": "arn:aws:sqs:us-east-1:123456789012:other"}
    assert "does not have permissions to call ReceiveMessage on SQS" in failure(kinds, template(statements=[elsewhere]))


def test_a_visibility_timeout_shorter_than_the_functions_timeout_fails_the_mapping(kinds: Kinds) -> None:
    reason = failure(kinds, template(visibility=30, timeout=60))
    assert (
        "Invalid request provided: Queue visibility timeout: 30 seconds is less than Function timeout: 60 seconds"
        in reason
    )


@pytest.mark.parametrize(
    ("mapping", "message"),
    [
        (
            {"BatchSize": 11},
            "Maximum batch window in seconds must be greater than 0 if maximum batch size is greater than 10",
        ),
        ({"BatchSize": 10001}, "#/BatchSize: 10001 is not less or equal to 10000"),
        ({"BatchSize": 0}, "#/BatchSize: 0 is not greater or equal to 1"),
        (
            {"ScalingConfig": {"MaximumConcurrency": 1}},
            "#/ScalingConfig/MaximumConcurrency: 1 is not greater or equal to 2",
        ),
        ({"StartingPosition": "LATEST"}, "StartingPosition is not valid for SQS event sources."),
        ({"FilterCriteria": {"Filters": [{"Pattern": '{"body": "x"}'}]}}, "Invalid filter pattern definition."),
    ],
)
def test_settings_lambda_refuses_fail_the_mapping(kinds: Kinds, mapping: dict[str, Any], message: str) -> None:
    assert message in failure(kinds, template(mapping=mapping))


def test_a_role_with_awss_sqs_execution_policy_may_consume_any_queue_and_an_unknown_managed_policy_is_refused(
    kinds: Kinds,
) -> None:
    # GIVEN a role that consumes through the AWS managed policy made for it, and no statement of its own
    document = template(statements=[{"Effect": "Allow", "Action": "logs:PutLogEvents", "Resource": "*"}])
    managed = "arn:aws:iam::aws:policy/service-role/AWSLambdaSQSQueueExecutionRole"
    document["Resources"]["WorkerRole"]["Properties"]["ManagedPolicyArns"] = [managed]
    # WHEN the mapping is created  THEN the policy's published statements let it pass
    assert kinds.deploy("Coverage", document, {"worker": CODE}).status == "CREATE_COMPLETE"
    # AND a managed policy whose statements localdeploy does not know fails the mapping instead of being guessed
    other = template(statements=[consume("Queue")])
    other["Resources"]["WorkerRole"]["Properties"]["ManagedPolicyArns"] = ["arn:aws:iam::aws:policy/PowerUserAccess"]
    result = kinds.deploy("Other", other, {"worker": CODE})
    assert result.status == "ROLLBACK_COMPLETE"
    assert any("cannot judge the execution role's permissions" in e.reason for e in result.events)
