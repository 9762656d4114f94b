"""The coverage function's entry point: one SQS batch, against moto in-process (SQS, SSM, Organizations, Account).

moto's SQS does not deliver to Lambda: the batch is built here as Lambda's SQS event source builds it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from ledger_table import create_ledger_table
from moto import mock_aws

from cdk_alternate_contacts_handler import clients, coverage_index
from cdk_alternate_contacts_handler.coverage_rules import document, parse
from cdk_alternate_contacts_handler.spec import AlternateContactType as T

SOC = {"EmailAddress": "soc@example.com", "Name": "SOC", "PhoneNumber": "+1 206 555 0100", "Title": "Security"}


class Context:
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:coverage"

    def get_remaining_time_in_millis(self) -> int:
        return 120_000


@pytest.fixture
def cloud(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    with mock_aws():
        clients._CLIENTS.clear()
        organizations = boto3.client("organizations", region_name="us-east-1")
        management = organizations.create_organization(FeatureSet="ALL")["Organization"]["MasterAccountId"]
        member = organizations.create_account(Email="m@example.com", AccountName="m")["CreateAccountStatus"][
            "AccountId"
        ]
        sqs = boto3.client("sqs", region_name="us-east-1")
        queue = sqs.create_queue(QueueName="coverage")["QueueUrl"]
        made = document(scope="all", on_drift="restore", defaults={T.SECURITY: SOC}, units={}, unit_names={}, listed=[])
        ssm = boto3.client("ssm", region_name="us-east-1")
        ssm.put_parameter(Name="/coverage/digest", Value=parse(made).digest, Type="String")
        monkeypatch.setattr(coverage_index, "_RULES", parse(made))
        monkeypatch.setenv(coverage_index.Variable.QUEUE_URL, queue)
        monkeypatch.setenv(coverage_index.Variable.DIGEST_PARAMETER, "/coverage/digest")
        monkeypatch.setenv(coverage_index.Variable.STACK, "Organization")
        ssm.put_parameter(Name="/coverage/owned", Value="-", Type="String")
        monkeypatch.setenv(coverage_index.Variable.OWNED_PARAMETER, "/coverage/owned")
        table = create_ledger_table(boto3.client("dynamodb", region_name="us-east-1"))
        monkeypatch.setenv(coverage_index.Variable.LEDGER_TABLE, table)
        monkeypatch.setenv(coverage_index.Variable.MAX_RECEIVE_COUNT, "5")
        yield {"sqs": sqs, "queue": queue, "ssm": ssm, "member": member, "management": management}
        clients._CLIENTS.clear()


def batch(*bodies: Any) -> dict[str, Any]:
    return {
        "Records": [
            {
                "messageId": f"m{i}",
                "receiptHandle": f"r{i}",
                "body": b if isinstance(b, str) else json.dumps(b),
                "eventSource": "aws:sqs",
                "attributes": {"ApproximateReceiveCount": "1"},
            }
            for i, b in enumerate(bodies)
        ]
    }


def received(cloud: dict[str, Any]) -> list[dict[str, Any]]:
    found = cloud["sqs"].receive_message(QueueUrl=cloud["queue"], MaxNumberOfMessages=10).get("Messages", [])
    return [json.loads(m["Body"]) for m in found]


def test_a_batch_applies_its_accounts_sends_the_next_steps_and_reports_the_broken_record(
    cloud: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN a batch: one account to apply, a start of a full run, and a body that is not JSON
    answer = coverage_index.handler(
        batch({"action": "apply", "account": cloud["member"], "path": []}, {"action": "start"}, "{not json"), Context()
    )
    # THEN only the broken record is delivered again
    assert answer == {"batchItemFailures": [{"itemIdentifier": "m2"}]}
    # AND the member holds the default, and the run's first step is in the queue
    contact = boto3.client("account", region_name="us-east-1").get_alternate_contact(
        AccountId=cloud["member"], AlternateContactType="SECURITY"
    )["AlternateContact"]
    assert contact["EmailAddress"] == SOC["EmailAddress"]
    assert [m["action"] for m in received(cloud)] == ["list"]
    # AND the apply, a run of one (no run sent it), ends at once: its summary and its metrics, no contact detail
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
    (summary,) = [line for line in lines if "summary" in line]
    assert (summary["run"], summary["rules"]["defaults"]["written"], summary["totals"]["covered"]) == ("m0", 1, 1)
    documents = [line for line in lines if "Rule" in line]
    assert [(d["Rule"], d["Written"], d["Covered"]) for d in documents] == [("defaults", 1, 1)]
    assert documents[0]["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "CdkAlternateContacts/Coverage"
    assert SOC["EmailAddress"] not in json.dumps(lines)


def test_newer_deployed_rules_send_every_apply_back_to_the_queue(cloud: dict[str, Any]) -> None:
    cloud["ssm"].put_parameter(Name="/coverage/digest", Value="f" * 64, Type="String", Overwrite=True)
    answer = coverage_index.handler(batch({"action": "apply", "account": cloud["member"], "path": []}), Context())
    assert answer == {"batchItemFailures": [{"itemIdentifier": "m0"}]}


def test_the_bundled_rules_are_read_from_beside_the_package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The asset's root holds the package and coverage-rules.json; the module reads the file next to its folder.
    made = document(scope=["ou-ab12-aaaaaaaa"], on_drift="report", defaults={}, units={}, unit_names={}, listed=[])
    package = tmp_path / "cdk_alternate_contacts_handler"
    package.mkdir()
    (tmp_path / "coverage-rules.json").write_text(json.dumps(made))
    monkeypatch.setattr(coverage_index, "__file__", str(package / "coverage_index.py"))
    monkeypatch.setattr(coverage_index, "_RULES", None)
    assert coverage_index.rules().scope == ("ou-ab12-aaaaaaaa",)


def test_an_account_another_resource_of_the_stack_owns_is_left_to_it(cloud: dict[str, Any]) -> None:
    # GIVEN the stack's other resources own the member (its id, resolved at deploy, is in the owned parameter)
    cloud["ssm"].put_parameter(Name="/coverage/owned", Value=f"-,{cloud['member']}", Type="String", Overwrite=True)
    # WHEN the member is applied THEN nothing is written and the record is done (not delivered again)
    answer = coverage_index.handler(batch({"action": "apply", "account": cloud["member"], "path": []}), Context())
    assert answer == {"batchItemFailures": []}
    account = boto3.client("account", region_name="us-east-1")
    with pytest.raises(account.exceptions.ResourceNotFoundException):
        account.get_alternate_contact(AccountId=cloud["member"], AlternateContactType="SECURITY")


def test_a_counting_delivery_counts_its_record_even_when_the_batch_cannot_read_what_the_work_needs(
    cloud: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN the owned-accounts parameter unreadable (deleted), and a batch of a hand-over on its first delivery
    # and one on a counting delivery (maxReceiveCount 5: the two after the third only count)
    cloud["ssm"].delete_parameter(Name="/coverage/owned")
    event = batch(*({"action": "apply", "account": cloud["member"], "path": [], "reason": "hand-over"},) * 2)
    event["Records"][1]["attributes"]["ApproximateReceiveCount"] = "4"
    # WHEN the batch is handled
    answer = coverage_index.handler(event, Context())
    # THEN both are delivered again (the first to be worked, the second to go on to the dead-letter queue)
    assert answer == {"batchItemFailures": [{"itemIdentifier": "m0"}, {"itemIdentifier": "m1"}]}
    # AND the counting delivery, which needs no parameter, counted its account failed and ended its run
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
    (summary,) = [line for line in lines if "summary" in line]
    assert (summary["run"], summary["rules"]["defaults"]["failed"], summary["reason"]) == ("m1", 1, "hand-over")
