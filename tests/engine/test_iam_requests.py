"""What IAM is asked for a coverage function's calls to SQS, EventBridge, SSM, CloudWatch and Organizations
(localdeploy/iam_requests.py names the Service Authorization Reference pages), and the AccessDenied each
service answers, as boto3 raises it. The front runs against a real moto_server."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

from localdeploy.iam import IamFront, Organization, PolicyRegistry, PolicyResource, RequestMapper
from localdeploy.moto import MotoServer
from tests.engine.conftest import signed_client

ACCOUNT = "123456789012"
ROLE = "Coverage-WorkerRole-ABC"
ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/{ROLE}"
ORGANIZATION = Organization("o-abcdefghij", ACCOUNT)
QUEUE_ARN = f"arn:aws:sqs:us-east-1:{ACCOUNT}:work"


def mapper() -> RequestMapper:
    return RequestMapper(
        region="us-east-1", account_id=ACCOUNT, organization=lambda: ORGANIZATION, stack_arn=lambda s: None
    )


def signed(region: str = "us-east-1", service: str = "sqs") -> dict[str, str]:
    return {"Authorization": f"AWS4-HMAC-SHA256 Credential=ASIAX/20260101/{region}/{service}/aws4_request, Signature=x"}


def ask(service: str, target: str, document: dict[str, Any], region: str = "us-east-1") -> Any:
    headers = {**signed(region, service), "X-Amz-Target": target}
    return mapper().map(service, "/", headers, json.dumps(document).encode())


def test_sqs_calls_ask_for_the_queue_in_the_calls_region_batches_as_their_single_form() -> None:
    url = f"http://127.0.0.1:5000/{ACCOUNT}/work"
    send = ask("sqs", "AmazonSQS.SendMessageBatch", {"QueueUrl": url, "Entries": []})
    assert (send.action, send.resource) == ("sqs:SendMessage", QUEUE_ARN)
    receive = ask("sqs", "AmazonSQS.ReceiveMessage", {"QueueUrl": url}, region="eu-west-1")
    assert receive.resource == f"arn:aws:sqs:eu-west-1:{ACCOUNT}:work"
    assert ask("sqs", "AmazonSQS.DeleteMessageBatch", {"QueueUrl": url}).action == "sqs:DeleteMessage"
    assert ask("sqs", "AmazonSQS.GetQueueUrl", {"QueueName": "work"}).resource == QUEUE_ARN
    assert ask("sqs", "AmazonSQS.ListQueues", {}).resource == "*"


def test_eventbridge_ssm_and_cloudwatch_calls_ask_for_their_resources_and_keys() -> None:
    put = ask(
        "events", "AWSEvents.PutEvents", {"Entries": [{"Source": "coverage", "DetailType": "Swept", "Detail": "{}"}]}
    )
    assert (put.action, put.resource) == ("events:PutEvents", f"arn:aws:events:us-east-1:{ACCOUNT}:event-bus/default")
    assert put.context == {"events:source": ["coverage"], "events:detail-type": ["Swept"]}
    rule = ask("events", "AWSEvents.DescribeRule", {"Name": "sweep"})
    assert rule.resource == f"arn:aws:events:us-east-1:{ACCOUNT}:rule/sweep"
    many = ask("ssm", "AmazonSSM.GetParameters", {"Names": ["/coverage/a", "/coverage/b"]})
    assert (many.resource, many.more_resources) == (
        f"arn:aws:ssm:us-east-1:{ACCOUNT}:parameter/coverage/a",
        (f"arn:aws:ssm:us-east-1:{ACCOUNT}:parameter/coverage/b",),
    )
    path = ask("ssm", "AmazonSSM.GetParametersByPath", {"Path": "/coverage"})
    assert path.resource == f"arn:aws:ssm:us-east-1:{ACCOUNT}:parameter/coverage"
    metric = ask(
        "monitoring", "GraniteServiceVersion20100801.PutMetricData", {"Namespace": "Coverage", "MetricData": []}
    )
    assert (metric.action, metric.resource, metric.context) == (
        "cloudwatch:PutMetricData",
        "*",
        {"cloudwatch:namespace": ["Coverage"]},
    )


@pytest.mark.parametrize(
    ("operation", "document", "resource"),
    [
        (
            "DescribeAccount",
            {"AccountId": "111111111111"},
            f"arn:aws:organizations::{ACCOUNT}:account/o-abcdefghij/111111111111",
        ),
        (
            "ListParents",
            {"ChildId": "111111111111"},
            f"arn:aws:organizations::{ACCOUNT}:account/o-abcdefghij/111111111111",
        ),
        (
            "ListParents",
            {"ChildId": "ou-ab12-cdefghij"},
            f"arn:aws:organizations::{ACCOUNT}:ou/o-abcdefghij/ou-ab12-cdefghij",
        ),
        ("ListAccountsForParent", {"ParentId": "r-ab12"}, f"arn:aws:organizations::{ACCOUNT}:root/o-abcdefghij/r-ab12"),
        (
            "ListOrganizationalUnitsForParent",
            {"ParentId": "ou-ab12-cdefghij"},
            f"arn:aws:organizations::{ACCOUNT}:ou/o-abcdefghij/ou-ab12-cdefghij",
        ),
        ("ListAccounts", {}, "*"),
        ("ListRoots", {}, "*"),
    ],
)
def test_organizations_calls_ask_for_the_account_unit_or_root(
    operation: str, document: dict[str, Any], resource: str
) -> None:
    found = ask("organizations", f"AWSOrganizationsV20161128.{operation}", document)
    assert (found.action, found.resource) == (f"organizations:{operation}", resource)


# -- the front, as boto3 sees it ------------------------------------------------------------------------


def registry(statements: list[dict[str, Any]]) -> PolicyRegistry:
    found = PolicyRegistry(ACCOUNT)
    document = {"Version": "2012-10-17", "Statement": statements}
    found.publish(
        "stack",
        [
            PolicyResource("AWS::IAM::Role", ROLE, "CREATE_COMPLETE", {"AssumeRolePolicyDocument": {}}),
            PolicyResource("AWS::IAM::Policy", "p", "CREATE_COMPLETE", {"PolicyDocument": document, "Roles": [ROLE]}),
        ],
    )
    return found


def test_each_service_answers_a_denied_call_with_its_own_access_denied(moto: MotoServer) -> None:
    # GIVEN a role allowed to send to one queue only, behind the front
    own = signed_client("sqs", moto.endpoint, "testing")
    url = own.create_queue(QueueName="work")["QueueUrl"]
    other = own.create_queue(QueueName="other")["QueueUrl"]
    front = IamFront(
        {"*": moto.endpoint},
        registry([{"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": QUEUE_ARN}]),
        mapper(),
    )
    front.start()
    try:
        key = front.register(ROLE_ARN)
        sqs = signed_client("sqs", front.endpoint, key)
        # WHEN it sends to its queue THEN moto gets the message
        sqs.send_message(QueueUrl=url, MessageBody="{}")
        # WHEN it sends to another queue THEN SQS's AccessDenied, its action in lower case, as AWS writes it
        with pytest.raises(ClientError) as sqs_denied:
            sqs.send_message_batch(QueueUrl=other, Entries=[{"Id": "1", "MessageBody": "{}"}])
        error = sqs_denied.value.response["Error"]
        assert error["Code"] == "AccessDenied"
        assert (
            f"is not authorized to perform: sqs:sendmessage on resource: arn:aws:sqs:us-east-1:{ACCOUNT}:other"
            in error["Message"]
        )
        # AND CloudWatch's AccessDenied names no resource, Organizations says only that access is denied
        with pytest.raises(ClientError) as metric_denied:
            signed_client("cloudwatch", front.endpoint, key).put_metric_data(
                Namespace="Coverage", MetricData=[{"MetricName": "Swept", "Value": 1}]
            )
        assert metric_denied.value.response["Error"]["Code"] == "AccessDenied"
        assert (
            "cloudwatch:PutMetricData because no identity-based policy"
            in metric_denied.value.response["Error"]["Message"]
        )
        with pytest.raises(ClientError) as org_denied:
            signed_client("organizations", front.endpoint, key).list_accounts()
        assert org_denied.value.response["Error"] == {
            "Code": "AccessDeniedException",
            "Message": "You don't have permissions to access this resource.",
        }
        with pytest.raises(ClientError) as events_denied:
            signed_client("events", front.endpoint, key).put_events(
                Entries=[{"Source": "coverage", "DetailType": "Swept", "Detail": "{}"}]
            )
        assert events_denied.value.response["Error"]["Code"] == "AccessDeniedException"
        assert [d.authorization.action for d in front.denied()] == [
            "sqs:SendMessage",
            "cloudwatch:PutMetricData",
            "organizations:ListAccounts",
            "events:PutEvents",
        ]
    finally:
        front.stop()
