"""The Lambda entry point answers CloudFormation exactly once, over real HTTPS, whatever happens.

The answers go to the project's real local ResponseURL listener (TLS from trustme, trusted through
SSL_CERT_FILE as crhelper uses the default CA store); the Account API is moto, in-process.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from botocore.exceptions import ClientError
from cfn_events import DETAILS, OWN_ACCOUNT, FakeContext, event, load_event, properties
from moto import mock_aws

from cdk_alternate_contacts_handler import index
from cdk_alternate_contacts_handler.clients import Clients

FUNCTION_ARN = f"arn:aws:lambda:us-east-1:{OWN_ACCOUNT}:function:provider"


@pytest.fixture(autouse=True)
def no_personal_data_in_logs(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    yield
    text = "\n".join(record.getMessage() + str(record.exc_text or "") for record in caplog.records)
    for secret in (*DETAILS.values(), "X-Amz-Signature"):
        assert secret not in text


def test_create_answers_success_once_with_the_contact_id(send: Any) -> None:
    with mock_aws():
        answers = send(event("Create", properties("SECURITY")))
    assert [(a["Status"], a["PhysicalResourceId"]) for a in answers] == [("SUCCESS", f"{OWN_ACCOUNT}/SECURITY")]


def test_invalid_properties_answer_failed_once_naming_the_field(send: Any) -> None:
    with mock_aws():
        answers = send(event("Create", properties("SECURITY", PhoneNumber="call grace")))
    assert len(answers) == 1
    assert answers[0]["Status"] == "FAILED"
    assert answers[0]["Reason"].startswith("Invalid properties: PhoneNumber must be digits")
    assert "call grace" not in answers[0]["Reason"]


def test_unknown_request_type_answers_failed_once(send: Any) -> None:
    answers = send(event("Replace", properties("SECURITY"), physical_id=f"{OWN_ACCOUNT}/SECURITY"))
    assert len(answers) == 1
    assert answers[0]["Status"] == "FAILED"
    assert "Unsupported RequestType 'Replace'" in answers[0]["Reason"]
    assert answers[0]["PhysicalResourceId"] == f"{OWN_ACCOUNT}/SECURITY"


def test_lower_case_request_type_is_not_routed_to_create(send: Any) -> None:
    # crhelper looks up its function by RequestType.lower(): "create" would run a Create.
    answers = send(event("create", properties("SECURITY")))
    assert [a["Status"] for a in answers] == ["FAILED"]


@pytest.mark.parametrize("broken", ["no-url", "url-not-string", "not-a-dict", "odd-keys"])
def test_requests_without_an_envelope_are_dropped_without_raising(broken: str) -> None:
    request: Any = event("Create", properties("SECURITY"))
    if broken == "no-url":
        del request["ResponseURL"]
    elif broken == "url-not-string":
        request["ResponseURL"] = ["https://127.0.0.1/"]
    elif broken == "not-a-dict":
        request = ["Create"]
    else:
        request = {1: "a", ("tuple",): "b", "RequestType": "Create"}
    assert index.handler(request, FakeContext(30)) is None


def test_work_that_overruns_is_abandoned_and_answered_once_before_crhelpers_timer(
    send: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN an Account API that hangs, and an invocation with 5 s left (calls may start until 3 s remain)
    class Hanging:
        def __getattr__(self, _name: str) -> Any:  # every call hangs (a Create reads the slot before it puts)
            return lambda **_: time.sleep(30)

    monkeypatch.setattr(index, "make_clients", lambda *_: Clients(Hanging(), None, own_account_id=OWN_ACCOUNT))
    started = time.monotonic()
    # WHEN the handler runs, and we wait past the moment crhelper's own timer would fire (4.5 s)
    answers = send(event("Create", properties("SECURITY")), seconds=5.0, settle_s=1.5)
    # THEN exactly one answer, ours, came before that timer
    assert len(answers) == 1
    assert answers[0]["Status"] == "FAILED"
    assert "did not finish before the function's timeout" in answers[0]["Reason"]
    assert time.monotonic() - started >= 2.9


def test_unexpected_errors_answer_their_type_not_their_message(send: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    class Broken:
        def get_alternate_contact(self, **_: Any) -> None:
            raise ClientError({"Error": {"Code": "ResourceNotFoundException", "Message": "none"}}, "Get")

        def put_alternate_contact(self, **kwargs: Any) -> None:
            raise KeyError(kwargs["EmailAddress"])

    monkeypatch.setattr(index, "make_clients", lambda *_: Clients(Broken(), None, own_account_id=OWN_ACCOUNT))
    answers = send(event("Create", properties("SECURITY")))
    assert len(answers) == 1
    assert answers[0]["Reason"] == "internal error (KeyError); see the function's log"


def test_crhelper_is_configured_against_its_traps() -> None:
    assert index.helper._sleep_on_delete == 0
    assert index.helper._log_level == "INFO"


def test_request_older_than_its_service_timeout_answers_failed_once_without_any_call(
    send: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN a Create that waited in Lambda's queue past its ServiceTimeout (420 s), and clients that
    # would fail the test on any call
    made: list[str] = []

    class Recording:
        def __getattr__(self, name: str) -> Any:
            made.append(name)
            raise AssertionError(name)

    monkeypatch.setattr(index, "make_clients", lambda *_: made.append("make_clients") or Recording())
    request = event("Create", properties("SECURITY"))

    def aged(*_: Any) -> Any:
        return index.datetime.now(index.UTC) + timedelta(seconds=421)

    monkeypatch.setattr(index, "now", aged)
    # WHEN the handler runs it (the listener's URL carries X-Amz-Date, as CloudFormation's does)
    answers = send(request)
    # THEN one FAILED answer says why, and nothing was called (no client was even made)
    assert [a["Status"] for a in answers] == ["FAILED"]
    assert "longer than its ServiceTimeout of 420 s" in answers[0]["Reason"]
    assert made == []


# --- the coverage's run trigger (Custom::AlternateContactsCoverage) and hand-overs -------------------------


def coverage_event(request_type: str, queue_url: str, digest: str = "a" * 64, **fields: Any) -> dict[str, Any]:
    """The recorded request of the coverage's run trigger, for the queue and rules digest given."""
    request = load_event(f"coverage_{request_type.lower()}", **fields)
    request["ResourceProperties"].update(QueueUrl=queue_url, RulesDigest=digest)
    return request


def queued(sqs: Any, url: str) -> list[dict[str, Any]]:
    import json  # noqa: PLC0415

    return [
        json.loads(m["Body"]) for m in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
    ]


def test_the_coverage_trigger_starts_a_run_on_create_and_update_and_nothing_on_delete(send: Any) -> None:
    import boto3  # noqa: PLC0415

    with mock_aws():
        sqs = boto3.client("sqs", region_name="us-east-1")
        url = sqs.create_queue(QueueName="Covered-Queue-1A2B")["QueueUrl"]
        # WHEN the coverage is created THEN one SUCCESS with a stable id, and a start message in the queue
        (created,) = send(coverage_event("Create", url))
        assert (created["Status"], created["PhysicalResourceId"]) == ("SUCCESS", "coverage/Covered-Queue-1A2B")
        assert queued(sqs, url) == [{"action": "start", "reason": "deploy (Create)"}]
        # WHEN its rules change THEN the same id, and another run
        (updated,) = send(coverage_event("Update", url, "b" * 64, PhysicalResourceId=created["PhysicalResourceId"]))
        assert (updated["Status"], updated["PhysicalResourceId"]) == ("SUCCESS", created["PhysicalResourceId"])
        assert queued(sqs, url) == [{"action": "start", "reason": "deploy (Update)"}]
        # WHEN it is deleted THEN SUCCESS and nothing is sent
        (deleted,) = send(coverage_event("Delete", url, PhysicalResourceId=created["PhysicalResourceId"]))
        assert deleted["Status"] == "SUCCESS"
        assert queued(sqs, url) == []


def test_a_coverage_trigger_with_a_bad_queue_url_fails_once_naming_the_property(send: Any) -> None:
    with mock_aws():
        (answer,) = send(coverage_event("Create", "not a url"))
    assert answer["Status"] == "FAILED"
    assert answer["Reason"] == "Invalid properties: QueueUrl must be an SQS queue URL"


def test_a_deleted_listed_account_is_handed_to_the_coverage_best_effort(fake_time: Any) -> None:
    import boto3  # noqa: PLC0415

    from cdk_alternate_contacts_handler import coverage_trigger  # noqa: PLC0415

    with mock_aws():
        sqs = boto3.client("sqs", region_name="us-east-1")
        url = sqs.create_queue(QueueName="coverage")["QueueUrl"]
        deleted = event(
            "Delete", {**properties(account_id="222233334444"), "ServiceToken": FUNCTION_ARN}, physical_id="x"
        )
        timing = {"deadline": fake_time.deadline(), "policy": fake_time.policy()}
        # GIVEN a stack with a coverage WHEN a listed account's resource is deleted THEN the account is queued
        assert coverage_trigger.hand_over(deleted, sqs, url, **timing)
        assert queued(sqs, url) == [
            {"action": "apply", "account": "222233334444", "path": None, "reason": "hand-over from a deleted resource"}
        ]
        # AND without a coverage, or without a literal account (the deploying account's own), nothing is sent
        assert not coverage_trigger.hand_over(deleted, sqs, None, **timing)
        assert not coverage_trigger.hand_over(
            event("Delete", {**properties(), "ServiceToken": FUNCTION_ARN}), sqs, url, **timing
        )
        # AND a queue that is gone does not fail the Delete
        assert not coverage_trigger.hand_over(deleted, sqs, url.replace("coverage", "gone"), **timing)
