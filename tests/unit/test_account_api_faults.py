"""API behaviour moto does not emulate, reproduced with botocore's Stubber or a ``before-send`` hook.

moto answers every request at once and validates nothing: it never throttles, never fails with a server
fault, deletes an absent contact without complaint, has no AccessDenied for organization rules and no
eventual consistency. The real Account API does all of these (shared/REFERENCE.md sections 1 and 4).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.awsrequest import AWSResponse
from botocore.config import Config
from botocore.exceptions import ClientError, ConnectionClosedError, EndpointConnectionError, ReadTimeoutError
from botocore.stub import Stubber
from cfn_events import DETAILS, MEMBER_ACCOUNT, OWN_ACCOUNT, FakeTime

from cdk_alternate_contacts_handler.account_api import Target, delete_contact, get_contact, put_contact, read_contact
from cdk_alternate_contacts_handler.errors import ContactError, is_retryable
from cdk_alternate_contacts_handler.retry import Deadline, without_deadline

OWN = Target(OWN_ACCOUNT, "SECURITY", own_account=True)
MEMBER = Target(MEMBER_ACCOUNT, "BILLING", own_account=False)
LIVE = {"AlternateContact": {"AlternateContactType": "SECURITY", **DETAILS}}
STALE = {"AlternateContact": {"AlternateContactType": "SECURITY", **DETAILS, "Title": "Old title"}}


class ScriptedEndpoint:
    """Answers real HTTP-level responses from a script, so botocore parses them as it would AWS's."""

    def __init__(self, script: list[tuple[int, str | None, dict[str, Any]]]) -> None:
        self.script = list(script)
        self.requests: list[str] = []

    def __call__(self, request: Any, **_: Any) -> AWSResponse:
        self.requests.append(request.url)
        status, error_type, body = self.script.pop(0)
        headers = {"Content-Type": "application/json"}
        if error_type:
            headers["x-amzn-ErrorType"] = error_type
        return AWSResponse(request.url, status, headers, _Raw(json.dumps(body).encode()))


class _Raw:
    def __init__(self, data: bytes) -> None:
        self.data = data

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self.data


def scripted_client(script: list[tuple[int, str | None, dict[str, Any]]]) -> tuple[Any, ScriptedEndpoint]:
    client = boto3.client("account", region_name="us-east-1", config=Config(retries={"total_max_attempts": 1}))
    endpoint = ScriptedEndpoint(script)
    client.meta.events.register_first("before-send.account.*", endpoint)
    return client, endpoint


THROTTLED = (429, "TooManyRequestsException", {"message": "Rate exceeded"})


def test_throttled_put_is_retried_with_growing_jittered_backoff(fake_time: FakeTime) -> None:
    # GIVEN the API answers HTTP 429 TooManyRequestsException twice, as the real one does under its quota
    client, endpoint = scripted_client([THROTTLED, THROTTLED, (200, None, {}), (200, None, LIVE)])
    # WHEN the contact is put
    put_contact(client, OWN, DETAILS, deadline=fake_time.deadline(), policy=fake_time.policy())
    # THEN it succeeded on the third attempt, after backoffs whose ceilings doubled (jitter set to its ceiling),
    # and one read confirmed it
    assert len(endpoint.requests) == 4
    assert fake_time.sleeps[:2] == [0.5, 1.0]


def test_throttling_that_outlasts_the_invocation_fails_in_time_with_a_reason(fake_time: FakeTime) -> None:
    # GIVEN an invocation with 20 s left and an API that throttles every call
    fake_time.budget_ms = 20_000
    client, endpoint = scripted_client([THROTTLED] * 50)
    # WHEN the contact is put
    with pytest.raises(ContactError, match="still TooManyRequestsException after") as raised:
        put_contact(client, OWN, DETAILS, deadline=fake_time.deadline(), policy=fake_time.policy())
    # THEN the handler gave up while the time reserved for answering CloudFormation was still there
    assert fake_time.remaining_ms() >= Deadline(fake_time.remaining_ms).reserve_s * 1000
    assert len(endpoint.requests) >= 3
    assert len(str(raised.value)) <= 256


def test_internal_server_error_is_retried(account: tuple[Any, Stubber], fake_time: FakeTime) -> None:
    client, stubber = account
    stubber.add_client_error("put_alternate_contact", "InternalServerException", "oops", 500)
    stubber.add_response("put_alternate_contact", {})
    stubber.add_response("get_alternate_contact", LIVE)
    put_contact(client, OWN, DETAILS, deadline=fake_time.deadline(), policy=fake_time.policy())
    stubber.assert_no_pending_responses()


def test_put_waits_until_a_read_returns_the_new_values_and_reads_no_more(
    account: tuple[Any, Stubber], fake_time: FakeTime
) -> None:
    # GIVEN an eventually consistent API (botocore Stubber): not found, then the old values, then the new ones
    client, stubber = account
    stubber.add_response("put_alternate_contact", {})
    stubber.add_client_error("get_alternate_contact", "ResourceNotFoundException", "none", 404)
    stubber.add_response("get_alternate_contact", STALE)
    stubber.add_response("get_alternate_contact", LIVE)
    # WHEN the contact is put
    put_contact(client, OWN, DETAILS, deadline=fake_time.deadline(), policy=fake_time.policy())
    # THEN it read until it saw the new values, then stopped: one Get per Put beyond the read before the
    # write, so that Gets (10 a second) never set a fan-out's pace below the Put quota's (5 a second)
    stubber.assert_no_pending_responses()
    assert len(fake_time.sleeps) == 2


def test_put_never_confirmed_fails_in_time_with_a_reason(account: tuple[Any, Stubber], fake_time: FakeTime) -> None:
    fake_time.budget_ms = 15_000
    client, stubber = account
    stubber.add_response("put_alternate_contact", {})
    for _ in range(30):
        stubber.add_response("get_alternate_contact", STALE)
    with pytest.raises(ContactError, match="did not confirm the change"):
        put_contact(client, OWN, DETAILS, deadline=fake_time.deadline(), policy=fake_time.policy())
    assert fake_time.remaining_ms() >= Deadline(fake_time.remaining_ms).reserve_s * 1000


def answer(stubber: Stubber, *steps: str) -> None:
    """Queue the API's answers, in order: ``live`` (a Get finds DETAILS), ``stale`` (a Get finds other details),
    ``none`` (a Get finds no contact), ``deleted`` (a Delete succeeds), ``absent`` (a Delete finds no contact)."""
    for step in steps:
        if step in ("live", "stale"):
            stubber.add_response("get_alternate_contact", LIVE if step == "live" else STALE)
        elif step == "none":
            stubber.add_client_error("get_alternate_contact", "ResourceNotFoundException", "none", 404)
        elif step == "deleted":
            stubber.add_response("delete_alternate_contact", {}, {"AlternateContactType": "SECURITY"})
        else:
            stubber.add_client_error("delete_alternate_contact", "ResourceNotFoundException", "No contact", 404)


#: Each Delete against an eventually consistent API and concurrent writers: the answers it gets, the details
#: the resource wrote (None: not known), and whether it reports a deletion. The stubber fails the test on any
#: call beyond the script, and on any answer left unused.
DELETES = [
    # The real API answers ResourceNotFoundException; moto would simply succeed.
    pytest.param(["absent"], None, False, id="of-an-absent-contact-counts-as-success"),
    pytest.param(["deleted", "live", "none", "none"], None, True, id="waits-until-reads-show-the-contact-gone"),
    # Still ours when the Delete starts, then someone else puts other values: the wait stops there, the other
    # writer's contact stays and nothing more is deleted.
    pytest.param(
        ["live", "deleted", "stale", "stale"], DETAILS, True, id="racing-a-concurrent-put-leaves-the-new-contact"
    ),
    pytest.param(
        ["live", "deleted", "live", "live", "none", "none"],
        DETAILS,
        True,
        id="keeps-waiting-while-reads-still-show-its-own-values",
    ),
    # The slot holds other details than the ones this resource wrote: no DeleteAlternateContact at all.
    pytest.param(["stale"], DETAILS, False, id="leaves-a-contact-another-writer-set-after-this-resource"),
]


@pytest.mark.parametrize(("steps", "deleted", "existed"), DELETES)
def test_delete(
    account: tuple[Any, Stubber],
    fake_time: FakeTime,
    steps: list[str],
    deleted: dict[str, str] | None,
    existed: bool,
) -> None:
    # GIVEN the API's answers
    client, stubber = account
    answer(stubber, *steps)
    # WHEN the contact is deleted
    outcome = delete_contact(client, OWN, deadline=fake_time.deadline(), policy=fake_time.policy(), deleted=deleted)
    # THEN it reports whether it deleted, having made exactly the calls the script answers
    assert outcome is existed
    stubber.assert_no_pending_responses()


def test_no_call_starts_once_the_work_was_abandoned(account: tuple[Any, Stubber], fake_time: FakeTime) -> None:
    client, _ = account
    deadline = fake_time.deadline()
    deadline.abandoned.set()
    with pytest.raises(ContactError, match="not started, the invocation already answered"):
        put_contact(client, OWN, DETAILS, deadline=deadline, policy=fake_time.policy())


def settled(fake_time: FakeTime) -> Deadline:
    """A deadline past IAM's propagation time: an AccessDenied is final at once (tests/unit/test_iam_propagation.py
    covers the retries before that)."""
    return Deadline(fake_time.remaining_ms, clock=lambda: fake_time.now, access_denied_grace_s=0.0)


#: Each AccessDenied's reason says what to fix: a member account's, the organization set-up; the own
#: account's, the missing permission.
DENIALS = [
    pytest.param(
        "put_alternate_contact",
        lambda client, deadline, policy: put_contact(client, MEMBER, DETAILS, deadline=deadline, policy=policy),
        [
            f"{MEMBER_ACCOUNT}/BILLING",
            "management account",
            "delegated administrator",
            "trusted access",
            "member account",
        ],
        id="member-account-explains-the-organization-setup",
    ),
    pytest.param(
        "delete_alternate_contact",
        lambda client, deadline, policy: delete_contact(client, OWN, deadline=deadline, policy=policy),
        ["account:DeleteAlternateContact"],
        id="own-account-names-the-missing-permission",
    ),
]


@pytest.mark.parametrize(("operation", "call", "hints"), DENIALS)
def test_access_denied_is_explained_in_a_reason_cloudformation_shows_whole(
    account: tuple[Any, Stubber], fake_time: FakeTime, operation: str, call: Any, hints: list[str]
) -> None:
    # GIVEN IAM refuses the call for good (past the propagation time)
    client, stubber = account
    stubber.add_client_error(operation, "AccessDeniedException", "not authorized", 403)
    # WHEN the call is made
    with pytest.raises(ContactError) as raised:
        call(client, settled(fake_time), fake_time.policy())
    # THEN the reason names what to fix, within CloudFormation's 256 characters
    reason = str(raised.value)
    for hint in hints:
        assert hint in reason
    assert len(reason) <= 256


def test_validation_error_from_the_api_is_reported_without_contact_details(
    account: tuple[Any, Stubber], fake_time: FakeTime
) -> None:
    # GIVEN an API error message that quotes the submitted values
    client, stubber = account
    message = f"Invalid EmailAddress {DETAILS['EmailAddress']} for {DETAILS['Name']}; also x.y@corp.example"
    stubber.add_client_error("put_alternate_contact", "ValidationException", message, 400)
    with pytest.raises(ContactError) as raised:
        put_contact(client, OWN, DETAILS, deadline=fake_time.deadline(), policy=fake_time.policy())
    reason = str(raised.value)
    # THEN the reason keeps the API's words but none of the details, nor any other address
    assert "Invalid EmailAddress" in reason
    for secret in (DETAILS["EmailAddress"], DETAILS["Name"], "x.y@corp.example"):
        assert secret not in reason


def test_read_of_a_missing_contact_is_none(account: tuple[Any, Stubber], fake_time: FakeTime) -> None:
    client, stubber = account
    stubber.add_client_error("get_alternate_contact", "ResourceNotFoundException", "none", 404)
    assert read_contact(client, MEMBER, deadline=fake_time.deadline(), policy=fake_time.policy()) is None


@pytest.mark.parametrize(
    "error",
    [
        EndpointConnectionError(endpoint_url="https://account.us-east-1.amazonaws.com"),
        ConnectionClosedError(endpoint_url="https://account.us-east-1.amazonaws.com"),
        ReadTimeoutError(endpoint_url="https://account.us-east-1.amazonaws.com"),
    ],
)
def test_broken_connections_are_retryable(error: Exception) -> None:
    assert is_retryable(error)


def test_programming_errors_are_not_retried() -> None:
    assert not is_retryable(KeyError("AlternateContact"))


def test_a_read_without_a_deadline_gives_up_after_the_policys_attempts_with_the_api_error(
    fake_time: FakeTime,
) -> None:
    # GIVEN an API that throttles every call, and a caller without a deadline (the command-line tool)
    client, endpoint = scripted_client([THROTTLED] * 10)
    policy = fake_time.policy()
    policy.max_attempts = 3
    # WHEN a contact is read
    with pytest.raises(ClientError) as raised:
        get_contact(client, MEMBER, deadline=without_deadline(), policy=policy)
    # THEN it made three attempts, slept between them only, and raised the API's own error for the caller to word
    assert len(endpoint.requests) == 3
    assert fake_time.sleeps == [0.5, 1.0]
    assert raised.value.response["Error"]["Code"] == "TooManyRequestsException"


def test_member_target_sends_account_id_and_own_target_does_not() -> None:
    assert MEMBER.api_arguments() == {"AlternateContactType": "BILLING", "AccountId": MEMBER_ACCOUNT}
    assert OWN.api_arguments() == {"AlternateContactType": "SECURITY"}
