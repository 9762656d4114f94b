"""``AWS::SQS::Queue`` and ``AWS::SQS::QueuePolicy`` through the engine, in moto's SQS (localdeploy/sqs_queue.py
and sqs_queue_policy.py name their sources): names, Ref and GetAtt, in-place updates, replacement, SQS's
refusals, and the resource policy EventBridge's delivery depends on."""

from __future__ import annotations

import json
from typing import Any

from localdeploy.resource_policy import Caller, allows
from tests.engine.conftest import Kinds
from tests.engine.tiny_apps import events_may_send

OUTPUTS = {
    "Url": {"Value": {"Ref": "Queue"}},
    "Arn": {"Value": {"Fn::GetAtt": ["Queue", "Arn"]}},
    "Name": {"Value": {"Fn::GetAtt": ["Queue", "QueueName"]}},
    "Dlq": {"Value": {"Fn::GetAtt": ["DeadLetters", "Arn"]}},
}


def template(queue: dict[str, Any], **extra: Any) -> dict[str, Any]:
    resources = {
        "DeadLetters": {"Type": "AWS::SQS::Queue", "Properties": {"MessageRetentionPeriod": 1209600}},
        "Queue": {"Type": "AWS::SQS::Queue", "Properties": queue},
        **extra,
    }
    return {"Resources": resources, "Outputs": OUTPUTS}


REDRIVE = {"deadLetterTargetArn": {"Fn::GetAtt": ["DeadLetters", "Arn"]}, "maxReceiveCount": 3}


def attributes(kinds: Kinds, url: str) -> dict[str, str]:
    found: dict[str, str] = kinds.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    return found


def test_a_queue_gets_cloudformations_name_ref_and_attributes_and_a_redrive_to_its_dead_letter_queue(
    kinds: Kinds,
) -> None:
    # WHEN a stack declares a queue without a name, with a visibility timeout and a redrive policy
    result = kinds.deploy("Coverage", template({"VisibilityTimeout": 60, "RedrivePolicy": REDRIVE}))
    # THEN the name is CloudFormation's <stack>-<logical id>-<12 characters>, Ref the URL, GetAtt the rest
    assert result.status == "CREATE_COMPLETE", result.problems
    url, name = result.outputs["Url"], result.outputs["Name"]
    assert name.startswith("Coverage-Queue-") and len(name) == len("Coverage-Queue-") + 12
    assert url.endswith(f"/123456789012/{name}")
    assert result.outputs["Arn"] == f"arn:aws:sqs:us-east-1:123456789012:{name}"
    found = attributes(kinds, url)
    assert found["VisibilityTimeout"] == "60"
    assert json.loads(found["RedrivePolicy"]) == {"deadLetterTargetArn": result.outputs["Dlq"], "maxReceiveCount": 3}


def test_an_attribute_change_is_in_place_and_keeps_the_queue_policy_a_rename_replaces_the_queue(kinds: Kinds) -> None:
    # GIVEN a queue with a policy that lets a rule send to it
    rule = {"Type": "AWS::Events::Rule", "Properties": {"EventPattern": {"source": ["aws.organizations"]}}}
    first = kinds.deploy("Coverage", template({}, Rule=rule, Policy=events_may_send("Queue", "Rule")))
    assert first.status == "CREATE_COMPLETE", first.problems
    url = first.outputs["Url"]

    # WHEN its visibility timeout changes
    second = kinds.deploy(
        "Coverage", template({"VisibilityTimeout": 120}, Rule=rule, Policy=events_may_send("Queue", "Rule"))
    )

    # THEN it is the same queue, updated in place, and its policy is still there (moto alone would drop it)
    assert second.status == "UPDATE_COMPLETE", second.problems
    assert second.outputs["Url"] == url
    assert attributes(kinds, url)["VisibilityTimeout"] == "120"
    assert "events.amazonaws.com" in attributes(kinds, url)["Policy"]

    # WHEN it is given a name (a create-only property)
    third = kinds.deploy(
        "Coverage", template({"QueueName": "coverage-work"}, Rule=rule, Policy=events_may_send("Queue", "Rule"))
    )

    # THEN a new queue replaces it and the old one is deleted in cleanup; the policy follows the new queue
    assert third.status == "UPDATE_COMPLETE", third.problems
    assert third.outputs["Url"].endswith("/coverage-work")
    urls = kinds.sqs.list_queues()["QueueUrls"]
    assert url not in urls and third.outputs["Url"] in urls
    statuses = [(e.physical_id, e.status) for e in third.events if e.logical_id == "Queue"]
    assert (url, "DELETE_COMPLETE") in statuses
    assert "events.amazonaws.com" in attributes(kinds, third.outputs["Url"])["Policy"]


def test_sqs_refuses_what_sqs_refuses_and_the_stack_rolls_back(kinds: Kinds) -> None:
    # WHEN a queue's visibility timeout is beyond SQS's 12 hours
    result = kinds.deploy("Coverage", template({"VisibilityTimeout": 43201}))
    # THEN the resource fails with SQS's message, as CloudFormation shows it, and nothing is left
    assert result.status == "ROLLBACK_COMPLETE"
    (failed,) = [e for e in result.events if e.status == "CREATE_FAILED" and e.logical_id == "Queue"]
    assert "Invalid value for the parameter VisibilityTimeout." in failed.reason
    assert "(Service: Sqs, Status Code: 400" in failed.reason
    assert kinds.sqs.list_queues().get("QueueUrls", []) == []

    # AND KMS encryption with SQS-managed encryption is refused, as SQS refuses both at once
    both = kinds.deploy("Other", template({"KmsMasterKeyId": "alias/aws/sqs", "SqsManagedSseEnabled": True}))
    assert both.status == "ROLLBACK_COMPLETE"
    assert any("one type of server-side encryption" in e.reason for e in both.events)


def test_a_redrive_policy_naming_a_queue_that_does_not_exist_fails(kinds: Kinds) -> None:
    missing = {"deadLetterTargetArn": "arn:aws:sqs:us-east-1:123456789012:nowhere", "maxReceiveCount": 3}
    result = kinds.deploy("Coverage", template({"RedrivePolicy": missing}))
    assert result.status == "ROLLBACK_COMPLETE"
    assert any("Dead letter target does not exist." in e.reason for e in result.events)


def test_the_queue_policy_moves_with_its_queues_and_is_cleared_on_delete(kinds: Kinds) -> None:
    # GIVEN a policy on one queue
    rule = {"Type": "AWS::Events::Rule", "Properties": {"EventPattern": {"source": ["aws.organizations"]}}}
    first = kinds.deploy("Coverage", template({}, Rule=rule, Policy=events_may_send("Queue", "Rule")))
    queue, dlq_url = (
        first.outputs["Url"],
        kinds.sqs.get_queue_url(QueueName=first.outputs["Dlq"].rsplit(":", 1)[-1])["QueueUrl"],
    )
    # WHEN it is moved to the other queue
    moved = events_may_send("DeadLetters", "Rule")
    second = kinds.deploy("Coverage", template({}, Rule=rule, Policy=moved))
    # THEN the first queue has no policy any more and the second has it
    assert second.status == "UPDATE_COMPLETE", second.problems
    assert "Policy" not in attributes(kinds, queue)
    assert "events.amazonaws.com" in attributes(kinds, dlq_url)["Policy"]
    # WHEN the stack is destroyed THEN every queue is gone
    assert kinds.destroy("Coverage").status == "DELETE_COMPLETE"
    assert kinds.sqs.list_queues().get("QueueUrls", []) == []


def test_a_queue_policy_allows_the_rule_it_names_and_no_other() -> None:
    # GIVEN the statement CDK's SqsQueue target writes, resolved
    queue = "arn:aws:sqs:us-east-1:123456789012:work"
    rule = "arn:aws:events:us-east-1:123456789012:rule/coverage"
    statement = {
        "Effect": "Allow",
        "Principal": {"Service": "events.amazonaws.com"},
        "Action": "sqs:SendMessage",
        "Resource": queue,
        "Condition": {"ArnEquals": {"aws:SourceArn": rule}},
    }
    events = Caller(service="events.amazonaws.com")
    # THEN EventBridge may send for that rule, not for another, and no other principal may
    assert allows({"Statement": [statement]}, events, "sqs:SendMessage", queue, {"aws:SourceArn": [rule]})
    assert not allows({"Statement": [statement]}, events, "sqs:SendMessage", queue, {"aws:SourceArn": [rule + "-x"]})
    assert not allows({"Statement": [statement]}, Caller(service="sns.amazonaws.com"), "sqs:SendMessage", queue, {})
    # AND condition keys are case-insensitive, as IAM's are; an explicit Deny wins
    assert allows({"Statement": [statement]}, events, "SQS:SendMessage", queue, {"AWS:SourceArn": [rule]})
    deny = {**statement, "Effect": "Deny", "Condition": {}}
    assert not allows({"Statement": [statement, deny]}, events, "sqs:SendMessage", queue, {"aws:SourceArn": [rule]})
