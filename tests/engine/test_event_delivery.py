"""Delivery as AWS does it, on a real local cloud (moto_server, the IAM front, functions under awslambdaric):
Lambda's SQS pollers (localdeploy/sqs_poller.py), EventBridge's rules and targets (event_bus.py), schedules
fired on demand, and the events of accounts joining or moving in the regions AWS sends them.

Each test deploys a tiny stack (a queue, a rule, a small Python function) and waits with ``cloud.settle``.
Visibility timeouts and function timeouts are a few seconds, so a failed batch comes back quickly.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from localdeploy.cloud import LocalCloud
from localdeploy.engine import EngineSettings, OperationResult
from localdeploy.sqs_poller import WAIT_S
from tests.engine.tiny_apps import consume, events_may_send, function, policy, queue_worker, role, write_assembly

#: Logs every event it gets; an "explode" body raises, a "fail-item" body is reported as a batch item failure,
#: a "slow" body takes a second and a half.
WORKER = """
import json
import time

def handler(event, context):
    print("EVENT " + json.dumps(event))
    failures = []
    for record in event.get("Records", []):
        if "slow" in record["body"]:
            time.sleep(1.5)
        if "explode" in record["body"]:
            raise RuntimeError("explode")
        if "fail-item" in record["body"]:
            failures.append({"itemIdentifier": record["messageId"]})
    return {"batchItemFailures": failures}
"""

#: Puts an event of its own for each record, and tries a metric it has no permission for.
FORWARDER = """
import json
import boto3
from botocore.exceptions import ClientError

def handler(event, context):
    events = boto3.client("events")
    for record in event["Records"]:
        events.put_events(Entries=[{"Source": "coverage.worker", "DetailType": "Forwarded", "Detail": record["body"]}])
    try:
        boto3.client("cloudwatch").put_metric_data(Namespace="Coverage", MetricData=[{"MetricName": "m", "Value": 1}])
    except ClientError as error:
        print("METRIC " + error.response["Error"]["Code"])
"""

ORGANIZATIONS = {"source": ["aws.organizations"], "detail": {"eventName": ["CreateAccountResult", "MoveAccount"]}}


@pytest.fixture(scope="module")
def cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalCloud]:
    with LocalCloud(tmp_path_factory.mktemp("delivery"), concurrency=2, retry_delays=(0.2, 0.2)) as local:
        yield local


@pytest.fixture
def deploy(cloud: LocalCloud, tmp_path: Path) -> Iterator[Any]:
    """Deploys one template as a stack (in a region), a fresh moto and fresh pollers for each test."""
    cloud.reset()

    def run(name: str, template: dict[str, Any], *, region: str = "us-east-1") -> OperationResult:
        code = {"worker": WORKER, "forwarder": FORWARDER}
        assembly = write_assembly(tmp_path / f"assembly-{name}", {name: template}, code)
        engine = cloud.engine(tmp_path / f"state-{region}", settings=EngineSettings(region=region))
        result = engine.deploy(assembly, name)
        assert result.status == "CREATE_COMPLETE", (result.problems, [e.reason for e in result.events if e.reason])
        return result

    yield run
    # Whatever a test checked, the bus met nothing it could not handle.
    assert cloud.events.bus.problems == []


def worker_stack(mapping: dict[str, Any], *, visibility: int = 3, max_receive: int = 2) -> dict[str, Any]:
    return {
        "Resources": {
            "DeadLetters": {"Type": "AWS::SQS::Queue", "Properties": {}},
            "Queue": {
                "Type": "AWS::SQS::Queue",
                "Properties": {
                    "VisibilityTimeout": visibility,
                    "RedrivePolicy": {
                        "deadLetterTargetArn": {"Fn::GetAtt": ["DeadLetters", "Arn"]},
                        "maxReceiveCount": max_receive,
                    },
                },
            },
            **queue_worker(WORKER, timeout=2, mapping=mapping),
        },
        "Outputs": {
            "Queue": {"Value": {"Ref": "Queue"}},
            "QueueArn": {"Value": {"Fn::GetAtt": ["Queue", "Arn"]}},
            "DeadLetters": {"Value": {"Ref": "DeadLetters"}},
        },
    }


def events_received(cloud: LocalCloud) -> list[dict[str, Any]]:
    """Every event the workers logged (earlier tests' included: filter on what identifies this test's)."""
    found = []
    for line in cloud.log_text().splitlines():
        if line.startswith("EVENT "):
            found.append(json.loads(line.removeprefix("EVENT ")))
    return found


def records_of(cloud: LocalCloud, queue_arn: str) -> list[dict[str, Any]]:
    """The SQS records the workers got from one queue."""
    return [r for e in events_received(cloud) for r in e.get("Records", []) if r["eventSourceARN"] == queue_arn]


def drain(cloud: LocalCloud, url: str, region: str = "us-east-1") -> list[dict[str, Any]]:
    """Every message on a queue (read by the test, which IAM does not judge)."""
    sqs = cloud.events.client("sqs", region)
    found: list[dict[str, Any]] = []
    while True:
        batch = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, MessageAttributeNames=["All"]).get(
            "Messages", []
        )
        if not batch:
            return found
        found.extend(batch)


def test_a_mapped_queue_invokes_the_function_with_lambdas_sqs_event_and_deletes_the_batch(
    cloud: LocalCloud, deploy: Any
) -> None:
    # GIVEN a function mapped to a queue, ten messages a batch gathered for up to a second
    result = deploy("Mapped", worker_stack({"BatchSize": 10, "MaximumBatchingWindowInSeconds": 1}))
    sqs = cloud.events.client("sqs", "us-east-1")
    # WHEN two messages are sent, one with a message attribute
    sqs.send_message(QueueUrl=result.outputs["Queue"], MessageBody='{"account": "111111111111"}')
    sqs.send_message(
        QueueUrl=result.outputs["Queue"],
        MessageBody="plain",
        MessageAttributes={"kind": {"DataType": "String", "StringValue": "sweep"}},
    )
    cloud.settle(30)
    # THEN the function got them as Lambda's SQS event, and they were deleted
    records = records_of(cloud, result.outputs["QueueArn"])
    assert sorted(r["body"] for r in records) == sorted(['{"account": "111111111111"}', "plain"])
    record = next(r for r in records if r["body"] == "plain")
    assert set(record) == {
        "messageId",
        "receiptHandle",
        "body",
        "attributes",
        "messageAttributes",
        "md5OfBody",
        "md5OfMessageAttributes",
        "eventSource",
        "eventSourceARN",
        "awsRegion",
    }
    assert (record["eventSource"], record["eventSourceARN"], record["awsRegion"]) == (
        "aws:sqs",
        result.outputs["QueueArn"],
        "us-east-1",
    )
    assert record["attributes"]["ApproximateReceiveCount"] == "1"
    assert {"SentTimestamp", "SenderId", "ApproximateFirstReceiveTimestamp"} <= set(record["attributes"])
    assert record["messageAttributes"] == {
        "kind": {"stringValue": "sweep", "stringListValues": [], "binaryListValues": [], "dataType": "String"}
    }
    assert drain(cloud, result.outputs["Queue"]) == []


def test_batch_item_failures_keep_only_the_listed_message_until_max_receive_count_moves_it_to_the_dlq(
    cloud: LocalCloud, deploy: Any
) -> None:
    # GIVEN a mapping that reports batch item failures, maxReceiveCount 2
    result = deploy(
        "Partial",
        worker_stack(
            {"BatchSize": 10, "MaximumBatchingWindowInSeconds": 1, "FunctionResponseTypes": ["ReportBatchItemFailures"]}
        ),
    )
    sqs = cloud.events.client("sqs", "us-east-1")
    # WHEN a good message and one the function reports as failed are sent together
    entries = [{"Id": "1", "MessageBody": "good"}, {"Id": "2", "MessageBody": "fail-item"}]
    sqs.send_message_batch(QueueUrl=result.outputs["Queue"], Entries=entries)
    cloud.settle(40)
    # THEN the good one was processed once and deleted; the failed one came back after the visibility timeout,
    # was received a second time, and then SQS moved it to the dead-letter queue
    records = records_of(cloud, result.outputs["QueueArn"])
    received = [(r["body"], r["attributes"]["ApproximateReceiveCount"]) for r in records]
    assert received.count(("good", "1")) == 1 and ("good", "2") not in received
    assert ("fail-item", "1") in received and ("fail-item", "2") in received
    assert [m["Body"] for m in drain(cloud, result.outputs["DeadLetters"])] == ["fail-item"]
    assert drain(cloud, result.outputs["Queue"]) == []


def test_a_function_error_returns_the_whole_batch_and_without_partial_responses_every_message_fails(
    cloud: LocalCloud, deploy: Any
) -> None:
    # GIVEN a mapping without ReportBatchItemFailures, maxReceiveCount 1
    result = deploy("Failing", worker_stack({"BatchSize": 10, "MaximumBatchingWindowInSeconds": 1}, max_receive=1))
    sqs = cloud.events.client("sqs", "us-east-1")
    # WHEN a good message and one that makes the function raise share a batch (sent together)
    entries = [{"Id": "1", "MessageBody": "good"}, {"Id": "2", "MessageBody": "explode"}]
    sqs.send_message_batch(QueueUrl=result.outputs["Queue"], Entries=entries)
    cloud.settle(40)
    # THEN nothing was deleted: both went to the dead-letter queue once their one receive was spent
    assert sorted(m["Body"] for m in drain(cloud, result.outputs["DeadLetters"])) == ["explode", "good"]
    (mapping,) = cloud.events.pollers.mappings()
    assert {b.outcome for b in mapping.batches} == {"failed"}
    assert "RuntimeError: explode" in mapping.batches[0].detail


def test_a_batch_that_runs_past_the_functions_timeout_is_stopped_and_comes_back(cloud: LocalCloud, deploy: Any) -> None:
    # GIVEN a function of a one-second timeout mapped to a queue whose messages may be received once
    template = worker_stack({}, visibility=2, max_receive=1)
    template["Resources"]["Worker"]["Properties"]["Timeout"] = 1
    result = deploy("Slow", template)
    # WHEN a message takes it longer than that
    cloud.events.client("sqs", "us-east-1").send_message(QueueUrl=result.outputs["Queue"], MessageBody="slow")
    cloud.settle(30)
    # THEN the runtime stopped it at its timeout, nothing was deleted, and the message went to the dead-letter queue
    (mapping,) = cloud.events.pollers.mappings()
    assert [(b.outcome, b.detail) for b in mapping.batches] == [
        ("failed", "Sandbox.Timedout: Task timed out after 1.00 seconds")
    ]
    assert [m["Body"] for m in drain(cloud, result.outputs["DeadLetters"])] == ["slow"]


def test_a_batch_beyond_the_functions_reserved_concurrency_is_throttled_and_comes_back(
    cloud: LocalCloud, deploy: Any
) -> None:
    # GIVEN a function that reserves one execution, mapped one message a batch (two pollers on this machine)
    template = worker_stack({"BatchSize": 1}, max_receive=5)
    template["Resources"]["Worker"]["Properties"]["ReservedConcurrentExecutions"] = 1
    result = deploy("Reserved", template)
    # WHEN two slow messages arrive at once
    entries = [{"Id": "1", "MessageBody": "slow one"}, {"Id": "2", "MessageBody": "slow two"}]
    cloud.events.client("sqs", "us-east-1").send_message_batch(QueueUrl=result.outputs["Queue"], Entries=entries)
    cloud.settle(40)
    # THEN the second batch found the function at its reservation: throttled, it came back after the visibility
    # timeout and was processed then; both were processed, one at a time
    (mapping,) = cloud.events.pollers.mappings()
    outcomes = [b.outcome for b in mapping.batches]
    assert "throttled" in outcomes and outcomes.count("deleted") == 2
    assert sorted(r["body"] for r in records_of(cloud, result.outputs["QueueArn"])) == ["slow one", "slow two"]


def rules_stack(rule_targets: dict[str, Any]) -> dict[str, Any]:
    """Queues, rules on Organizations' events, and queue policies for the rules given (name -> with policy)."""
    resources: dict[str, Any] = {}
    outputs: dict[str, Any] = {}
    for name, with_policy in rule_targets.items():
        resources[f"{name}Queue"] = {"Type": "AWS::SQS::Queue", "Properties": {}}
        resources[f"{name}Rule"] = {
            "Type": "AWS::Events::Rule",
            "Properties": {
                "EventPattern": ORGANIZATIONS,
                "Targets": [{"Id": "Queue", "Arn": {"Fn::GetAtt": [f"{name}Queue", "Arn"]}}],
            },
        }
        if with_policy:
            resources[f"{name}Policy"] = events_may_send(f"{name}Queue", f"{name}Rule")
        outputs[f"{name}Queue"] = {"Value": {"Ref": f"{name}Queue"}}
        outputs[f"{name}Rule"] = {"Value": {"Fn::GetAtt": [f"{name}Rule", "Arn"]}}
    return {"Resources": resources, "Outputs": outputs}


def test_an_sqs_target_gets_the_event_only_if_its_queue_policy_lets_events_send_for_that_rule(
    cloud: LocalCloud, deploy: Any
) -> None:
    # GIVEN two rules on accounts being created: one queue's policy allows its rule, the other has no policy
    result = deploy("Targets", rules_stack({"Allowed": True, "Silent": False}))
    # WHEN an account is created
    account = cloud.create_account("sandbox", "aws-sandbox@example.com")
    cloud.settle(20)
    # THEN the allowed queue holds Organizations' CreateAccountResult event
    (message,) = drain(cloud, result.outputs["AllowedQueue"])
    event = json.loads(message["Body"])
    assert (event["source"], event["detail-type"], event["region"]) == (
        "aws.organizations",
        "AWS Service Event via CloudTrail",
        "us-east-1",
    )
    assert event["detail"]["serviceEventDetails"]["createAccountStatus"]["accountId"] == account
    # AND the other was dropped silently: nothing on its queue, one FailedInvocation for its rule
    assert drain(cloud, result.outputs["SilentQueue"]) == []
    assert cloud.events.bus.metrics(result.outputs["SilentRule"])["FailedInvocations"] == 1
    assert cloud.events.bus.metrics(result.outputs["AllowedRule"])["FailedInvocations"] == 0
    (failed,) = [d for d in cloud.events.bus.deliveries if not d.ok]
    assert failed.error_code == "AccessDenied" and failed.rule_arn == result.outputs["SilentRule"]


def test_a_lambda_target_is_invoked_only_with_a_permission_for_its_rule_and_a_failure_goes_to_the_dlq(
    cloud: LocalCloud, deploy: Any
) -> None:
    # GIVEN a function targeted by two rules, only one of them permitted; the other's target has a dead-letter queue
    def rule(name: str, dead_letter: bool) -> dict[str, Any]:
        target: dict[str, Any] = {"Id": "Worker", "Arn": {"Fn::GetAtt": ["Worker", "Arn"]}}
        if dead_letter:
            target["DeadLetterConfig"] = {"Arn": {"Fn::GetAtt": ["Undelivered", "Arn"]}}
        return {"Type": "AWS::Events::Rule", "Properties": {"EventPattern": ORGANIZATIONS, "Targets": [target]}}

    template = {
        "Resources": {
            "WorkerRole": role(),
            "Worker": function(WORKER, timeout=2),
            "Permitted": rule("Permitted", dead_letter=False),
            "Forgotten": rule("Forgotten", dead_letter=True),
            "Undelivered": {"Type": "AWS::SQS::Queue", "Properties": {}},
            "UndeliveredPolicy": events_may_send("Undelivered", "Forgotten"),
            "Allow": {
                "Type": "AWS::Lambda::Permission",
                "Properties": {
                    "Action": "lambda:InvokeFunction",
                    "FunctionName": {"Fn::GetAtt": ["Worker", "Arn"]},
                    "Principal": "events.amazonaws.com",
                    "SourceArn": {"Fn::GetAtt": ["Permitted", "Arn"]},
                },
            },
        },
        "Outputs": {
            "Undelivered": {"Value": {"Ref": "Undelivered"}},
            "Forgotten": {"Value": {"Fn::GetAtt": ["Forgotten", "Arn"]}},
        },
    }
    result = deploy("Invoked", template)
    # WHEN an account moves
    root = cloud.client("organizations").list_roots()["Roots"][0]["Id"]
    unit = cloud.client("organizations").create_organizational_unit(ParentId=root, Name="Sandboxes")
    account = cloud.create_account("sandbox", "aws-sandbox@example.com")
    cloud.move_account(account, unit["OrganizationalUnit"]["Id"])
    cloud.settle(30)
    # THEN the permitted rule invoked the function (asynchronously) with each event; the other did not
    mine = [e for e in events_received(cloud) if account in json.dumps(e.get("detail", {}))]
    assert sorted(e["detail"]["eventName"] for e in mine) == ["CreateAccountResult", "MoveAccount"]
    moved = next(e for e in mine if e["detail"]["eventName"] == "MoveAccount")
    assert moved["detail-type"] == "AWS API Call via CloudTrail"
    assert moved["detail"]["requestParameters"] == {
        "accountId": account,
        "sourceParentId": root,
        "destinationParentId": unit["OrganizationalUnit"]["Id"],
    }
    # AND the forgotten rule's two events failed and went to its dead-letter queue, with EventBridge's attributes
    assert cloud.events.bus.metrics(result.outputs["Forgotten"])["FailedInvocations"] == 2
    assert cloud.events.bus.metrics(result.outputs["Forgotten"])["InvocationsSentToDlq"] == 2
    letters = drain(cloud, result.outputs["Undelivered"])
    assert len(letters) == 2
    attributes = letters[0]["MessageAttributes"]
    assert attributes["ERROR_CODE"]["StringValue"] == "AccessDeniedException"
    assert attributes["RULE_ARN"]["StringValue"] == result.outputs["Forgotten"]


def test_a_scheduled_rule_fires_on_demand_and_a_disabled_one_does_not(cloud: LocalCloud, deploy: Any) -> None:
    # GIVEN a weekly schedule targeting a queue it may send to, and a disabled one
    def schedule(state: str) -> dict[str, Any]:
        target = {"Id": "Queue", "Arn": {"Fn::GetAtt": ["Queue", "Arn"]}}
        properties = {"ScheduleExpression": "rate(7 days)", "State": state, "Targets": [target]}
        return {"Type": "AWS::Events::Rule", "Properties": properties}

    template = {
        "Resources": {
            "Queue": {"Type": "AWS::SQS::Queue", "Properties": {}},
            "Weekly": schedule("ENABLED"),
            "Paused": schedule("DISABLED"),
            "Policy": events_may_send("Queue", "Weekly"),
        },
        "Outputs": {
            "Queue": {"Value": {"Ref": "Queue"}},
            "Weekly": {"Value": {"Fn::GetAtt": ["Weekly", "Arn"]}},
            "Paused": {"Value": {"Ref": "Paused"}},
        },
    }
    result = deploy("Scheduled", template)
    # WHEN both are fired
    fired = cloud.fire_schedule(result.outputs["Weekly"])
    assert cloud.fire_schedule(result.outputs["Paused"]) is None
    cloud.settle(20)
    # THEN the queue got the enabled rule's Scheduled Event, as EventBridge sends it
    (message,) = drain(cloud, result.outputs["Queue"])
    event = json.loads(message["Body"])
    assert event["id"] == fired
    assert (event["source"], event["detail-type"], event["detail"]) == ("aws.events", "Scheduled Event", {})
    assert event["resources"] == [result.outputs["Weekly"]]


def test_organizations_events_reach_us_east_1_only_and_control_towers_its_home_region(
    cloud: LocalCloud, deploy: Any
) -> None:
    # GIVEN the same rules in us-east-1 and in eu-west-1, on Organizations' and Control Tower's events
    pattern = {"source": ["aws.organizations", "aws.controltower"]}
    template = rules_stack({"Accounts": True})
    template["Resources"]["AccountsRule"]["Properties"]["EventPattern"] = pattern
    virginia = deploy("Virginia", template)
    ireland = deploy("Ireland", template, region="eu-west-1")
    # WHEN Control Tower (home region eu-west-1) vends an account into a unit
    organizations = cloud.client("organizations")
    root = organizations.list_roots()["Roots"][0]["Id"]
    unit = organizations.create_organizational_unit(ParentId=root, Name="Workloads")["OrganizationalUnit"]["Id"]
    account = cloud.create_managed_account("workload", "aws-workload@example.com", unit, home_region="eu-west-1")
    cloud.settle(20)
    # THEN us-east-1 got Organizations' CreateAccountResult and MoveAccount, and nothing of Control Tower
    names = sorted(
        json.loads(m["Body"])["detail"]["eventName"] for m in drain(cloud, virginia.outputs["AccountsQueue"])
    )
    assert names == ["CreateAccountResult", "MoveAccount"]
    # AND eu-west-1 got only Control Tower's CreateManagedAccount, in its home region
    (message,) = drain(cloud, ireland.outputs["AccountsQueue"], region="eu-west-1")
    event = json.loads(message["Body"])
    status = event["detail"]["serviceEventDetails"]["createManagedAccountStatus"]
    assert (event["region"], status["state"], status["account"]["accountId"]) == ("eu-west-1", "SUCCEEDED", account)
    assert status["organizationalUnit"] == {"organizationalUnitName": "Workloads", "organizationalUnitId": unit}


def test_put_events_refuses_aws_sources_and_delivers_custom_events(cloud: LocalCloud, deploy: Any) -> None:
    # GIVEN a rule on a custom source
    template = rules_stack({"Custom": True})
    template["Resources"]["CustomRule"]["Properties"]["EventPattern"] = {"source": ["coverage.sweep"]}
    result = deploy("Custom", template)
    # WHEN a custom event and one claiming an AWS source are put
    answer = cloud.put_events(
        [
            {"Source": "coverage.sweep", "DetailType": "Sweep requested", "Detail": '{"reason": "test"}'},
            {"Source": "aws.organizations", "DetailType": "AWS API Call via CloudTrail", "Detail": "{}"},
        ]
    )
    cloud.settle(20)
    # THEN the AWS source is refused as EventBridge refuses it, the custom event delivered
    assert answer["FailedEntryCount"] == 1
    assert answer["Entries"][1] == {
        "ErrorCode": "NotAuthorizedForSourceException",
        "ErrorMessage": "Not authorized for the source.",
    }
    (message,) = drain(cloud, result.outputs["CustomQueue"])
    assert json.loads(message["Body"])["detail"] == {"reason": "test"}


def test_a_poller_whose_role_lost_receive_message_stops_with_a_problem(
    cloud: LocalCloud, deploy: Any, tmp_path: Path
) -> None:
    # GIVEN a running mapping
    template = worker_stack({})
    result = deploy("Revoked", template)
    # WHEN an update takes sqs:ReceiveMessage away from the role (the mapping itself unchanged)
    grant = consume("Queue")
    template["Resources"]["WorkerPolicy"] = policy(
        [{**grant, "Action": [a for a in grant["Action"] if a != "sqs:ReceiveMessage"]}]
    )
    assembly = write_assembly(tmp_path / "assembly-revoked-2", {"Revoked": template}, {"worker": WORKER})
    updated = cloud.engine(tmp_path / "state-us-east-1").deploy(assembly, "Revoked")
    assert updated.status == "UPDATE_COMPLETE", updated.problems
    # THEN the pollers' next ReceiveMessage, made with the role, is denied by IAM: the mapping reports the problem
    (mapping,) = cloud.events.pollers.mappings()
    deadline = time.monotonic() + 10
    while not mapping.last_processing_result.startswith("PROBLEM: AccessDenied") and time.monotonic() < deadline:
        time.sleep(0.1)
    assert "is not authorized to perform: sqs:receivemessage" in mapping.last_processing_result
    # AND once the polls in flight when the policy changed have ended, a message sent stays on the queue
    time.sleep(WAIT_S + 0.5)
    cloud.events.client("sqs", "us-east-1").send_message(QueueUrl=result.outputs["Queue"], MessageBody="stuck")
    with pytest.raises(TimeoutError, match="1 message"):
        cloud.settle(3)
    assert any(d.authorization.action == "sqs:ReceiveMessage" and not d.allowed for d in cloud.iam.decisions)  # type: ignore[union-attr]


def test_a_functions_own_calls_are_judged_and_its_put_events_reaches_the_local_bus(
    cloud: LocalCloud, deploy: Any
) -> None:
    # GIVEN a mapped function allowed to put events on the default bus (and nothing on CloudWatch), and a rule
    # on its events that forwards them to a queue
    template = worker_stack({})
    bus = "arn:aws:events:us-east-1:123456789012:event-bus/default"
    put = {"Effect": "Allow", "Action": "events:PutEvents", "Resource": bus}
    template["Resources"]["WorkerPolicy"] = policy([consume("Queue"), put])
    template["Resources"]["Worker"] = {**function(FORWARDER, timeout=2), "DependsOn": ["WorkerPolicy"]}
    forwarded = rules_stack({"Forwarded": True})
    forwarded["Resources"]["ForwardedRule"]["Properties"]["EventPattern"] = {"source": ["coverage.worker"]}
    template["Resources"].update(forwarded["Resources"])
    template["Outputs"].update(forwarded["Outputs"])
    result = deploy("Forwarding", template)
    # WHEN a message reaches the function
    cloud.events.client("sqs", "us-east-1").send_message(QueueUrl=result.outputs["Queue"], MessageBody='{"n": 1}')
    cloud.settle(30)
    # THEN its PutEvents, allowed by IAM, went through the local bus and its rule to the queue
    (message,) = drain(cloud, result.outputs["ForwardedQueue"])
    event = json.loads(message["Body"])
    assert (event["source"], event["detail"]) == ("coverage.worker", {"n": 1})
    # AND its PutMetricData was denied as CloudWatch denies it
    assert "METRIC AccessDenied" in cloud.log_text()


def test_a_rule_in_us_east_1_forwards_organizations_events_to_another_regions_bus_with_its_role(
    cloud: LocalCloud, deploy: Any
) -> None:
    # GIVEN a stack in eu-west-1 with a rule on Organizations' events, and in us-east-1 a rule that forwards them
    # to eu-west-1's default bus with a role allowed to put events there (the SRA sample's arrangement)
    ireland = deploy("Ireland", rules_stack({"Accounts": True}), region="eu-west-1")
    bus = "arn:aws:events:eu-west-1:123456789012:event-bus/default"
    events_role = {
        "Type": "AWS::IAM::Role",
        "Properties": {
            "AssumeRolePolicyDocument": {
                "Version": "2012-10-17",
                "Statement": [
                    {"Effect": "Allow", "Principal": {"Service": "events.amazonaws.com"}, "Action": "sts:AssumeRole"}
                ],
            },
            "Policies": [
                {
                    "PolicyName": "forward",
                    "PolicyDocument": {
                        "Version": "2012-10-17",
                        "Statement": [{"Effect": "Allow", "Action": "events:PutEvents", "Resource": bus}],
                    },
                }
            ],
        },
    }
    forward = {
        "Type": "AWS::Events::Rule",
        "Properties": {
            "EventPattern": ORGANIZATIONS,
            "Targets": [{"Id": "Ireland", "Arn": bus, "RoleArn": {"Fn::GetAtt": ["ForwardRole", "Arn"]}}],
        },
    }
    deploy("Forwarder", {"Resources": {"ForwardRole": events_role, "Forward": forward}})
    # WHEN an account is created
    account = cloud.create_account("sandbox", "aws-sandbox@example.com")
    cloud.settle(20)
    # THEN eu-west-1's rule got the event, unchanged (its region still us-east-1, where Organizations sent it)
    (message,) = drain(cloud, ireland.outputs["AccountsQueue"], region="eu-west-1")
    event = json.loads(message["Body"])
    assert event["region"] == "us-east-1"
    assert event["detail"]["serviceEventDetails"]["createAccountStatus"]["accountId"] == account
