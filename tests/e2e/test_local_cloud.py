"""The local stand-ins keep the contracts the handler relies on (checked with unmodified clients).

If these drift from AWS, every other end-to-end test would prove less than it claims.
"""

from __future__ import annotations

import json
import shutil
import ssl
import urllib.error
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from e2e_support import Assemblies

from cdk_alternate_contacts_cli.cloud_assembly import CloudAssembly
from localdeploy.cloud import LocalCloud
from localdeploy.engine import Engine
from localdeploy.quotas import DOCUMENTED_QUOTAS, AccountApiQuotas
from localdeploy.registry import ResourceSummary, StackView

pytestmark = pytest.mark.e2e

STACK_ID = "arn:aws:cloudformation:us-east-1:123456789012:stack/PagedStack/00000000-0000-4000-8000-000000000001"


def test_list_stack_resources_is_parsed_by_boto3_and_paged_at_100(cloud: LocalCloud) -> None:
    # GIVEN a stack of 250 resources, some without a physical id yet, one with a reason needing escapes
    now = datetime.now(UTC)
    rows = tuple(
        ResourceSummary(
            f"Contact{i:03d}",
            f"1234567890{i % 100:02d}/SECURITY" if i % 7 else None,
            "Custom::AlternateContact",
            "CREATE_COMPLETE" if i % 2 else "DELETE_IN_PROGRESS",
            now,
            "a <b> & c" if i == 3 else "",
        )
        for i in range(250)
    )
    cloud.registry.publish(StackView(STACK_ID, "PagedStack", "UPDATE_IN_PROGRESS", rows))
    client = boto3.client(
        "cloudformation",
        endpoint_url=cloud.cfn_api.endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )

    # WHEN boto3 lists it, by id and by name
    first = client.list_stack_resources(StackName=STACK_ID)
    pages = list(client.get_paginator("list_stack_resources").paginate(StackName="PagedStack"))

    # THEN pages hold 100 summaries, with a NextToken until the last one
    assert len(first["StackResourceSummaries"]) == 100
    assert "NextToken" in first
    assert [len(p["StackResourceSummaries"]) for p in pages] == [100, 100, 50]
    assert "NextToken" not in pages[-1]
    # AND every field botocore's model declares comes back typed
    summaries = [s for p in pages for s in p["StackResourceSummaries"]]
    assert [s["LogicalResourceId"] for s in summaries] == [row.logical_id for row in rows]
    third = summaries[3]
    assert third["PhysicalResourceId"] == "123456789003/SECURITY"
    assert third["ResourceStatus"] == "CREATE_COMPLETE"
    assert third["ResourceStatusReason"] == "a <b> & c"
    assert isinstance(third["LastUpdatedTimestamp"], datetime)
    assert "PhysicalResourceId" not in summaries[0]
    # AND an unknown stack is CloudFormation's ValidationError
    with pytest.raises(client.exceptions.ClientError, match="does not exist"):
        client.list_stack_resources(StackName="NoSuchStack")


def test_response_listener_counts_a_second_answer_and_rejects_a_bad_signature(cloud: LocalCloud) -> None:
    # GIVEN an issued ResponseURL and a client that trusts only the listener's CA (as the function does)
    url = cloud.responses.issue("ListenerCheck", "request-0001")
    context = ssl.create_default_context(cafile=str(cloud.responses.ca_file))
    body = json.dumps({"Status": "SUCCESS", "RequestId": "request-0001"}).encode()

    def put(target: str) -> int:
        request = urllib.request.Request(target, data=body, method="PUT")
        try:
            with urllib.request.urlopen(request, context=context, timeout=10) as response:
                return int(response.status)
        except urllib.error.HTTPError as error:
            return error.code

    rejected_before = len(cloud.responses.rejected)

    try:
        # WHEN the URL is answered twice, and once more with a forged signature
        statuses = [put(url), put(url), put(url.replace("X-Amz-Signature=", "X-Amz-Signature=0"))]

        # THEN both genuine answers are recorded (the second one is what the tests flag), the forgery is not
        assert statuses == [200, 200, 403]
        assert cloud.responses.answer_counts(["request-0001"]) == {"request-0001": 2}
        assert [r.reason for r in cloud.responses.rejected[rejected_before:]] == ["SignatureDoesNotMatch"]
    finally:
        # The forgery was this test's own doing: other tests check that nothing else was rejected.
        del cloud.responses.rejected[rejected_before:]


def test_asset_missing_a_bundled_dependency_fails_the_create_instead_of_hanging(
    engine: Engine, assemblies: Assemblies, tmp_path: Path, cloud: LocalCloud
) -> None:
    # GIVEN the synthesized assembly with crhelper removed from the function's asset: the runtime's
    # Python (.venv-lambda) has only boto3 and awslambdaric, as Lambda's has
    broken = tmp_path / "broken.out"
    shutil.copytree(assemblies.lifecycle.directory, broken)
    for asset in broken.glob("asset.*"):
        shutil.rmtree(asset / "crhelper")

    # WHEN the stack is deployed from it
    result = engine.deploy(CloudAssembly(broken), "E2eBroken", artifact="E2eBase")

    # THEN the runtime reported an init error on Lambda's one attempt (the function's EventInvokeConfig
    # allows no retry), no answer ever came, and the stack rolled back instead of waiting out the
    # ServiceTimeout
    assert result.status == "ROLLBACK_COMPLETE"
    creates = [r for r in result.requests if r.request_type == "Create"]
    assert len(creates) == 2
    for create in creates:
        assert create.status == "NO_ANSWER"
        assert create.invocation is not None
        outcomes = [(a.outcome, a.error_type) for a in create.invocation.attempts]
        assert outcomes == [("init_error", "Runtime.ImportModuleError")]
        assert "No module named 'crhelper'" in create.invocation.attempts[0].error_message
        assert "ServiceTimeout" in create.reason
    # AND with no physical id ever answered, the rollback had no Delete to send
    assert [r.request_type for r in result.requests] == ["Create", "Create"]
    assert any("was never answered" in problem for problem in result.problems)


def test_quota_front_answers_429_as_the_real_api_and_keeps_each_operations_rate(cloud: LocalCloud) -> None:
    # GIVEN the documented quotas in front of moto, on a clock the test moves
    now = [1000.0]
    front = AccountApiQuotas(cloud.moto.endpoint, DOCUMENTED_QUOTAS, clock=lambda: now[0]).start()
    try:
        client = boto3.client(
            "account",
            endpoint_url=front.endpoint,
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
            config=Config(retries={"total_max_attempts": 1}),
        )
        contact = {"EmailAddress": "quota@example.com", "Name": "Q", "PhoneNumber": "+1 555", "Title": "T"}

        def put() -> str:
            try:
                client.put_alternate_contact(AccountId="111111111111", AlternateContactType="SECURITY", **contact)
            except ClientError as error:
                return f"{error.response['ResponseMetadata']['HTTPStatusCode']} {error.response['Error']['Code']}"
            return "ok"

        def delete() -> str:
            try:
                client.delete_alternate_contact(AccountId="111111111111", AlternateContactType="SECURITY")
            except ClientError as error:
                return error.response["Error"]["Code"]
            return "ok"

        # WHEN 9 Puts come at once, then one more 0.2 s later (5 a second refill one token in 0.2 s)
        burst = [put() for _ in range(9)]
        now[0] += 0.2
        refilled = put()
        # AND 7 Deletes at once, then one a second later
        deletes = [delete() for _ in range(7)]
        now[0] += 1.0
        later = delete()
    finally:
        front.stop()

    # THEN the burst of 8 passed and the 9th got the real API's 429 TooManyRequestsException, which boto3 raises
    assert burst == ["ok"] * 8 + ["429 TooManyRequestsException"]
    assert refilled == "ok"
    # AND Delete's own bucket (burst 6, 1 a second) is independent of Put's
    assert deletes == ["ok"] * 6 + ["TooManyRequestsException"]
    assert later == "ok"
    counts = front.counts()
    assert (counts["PutAlternateContact"].accepted, counts["PutAlternateContact"].throttled) == (9, 1)
    assert (counts["DeleteAlternateContact"].accepted, counts["DeleteAlternateContact"].throttled) == (7, 1)
