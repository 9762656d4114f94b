"""An AccessDenied right after the role's policy changed is retried for a bounded time, then explained.

moto enforces no IAM, so the denials come from botocore's Stubber (Account API, CloudFormation), with
the fake clock of ``cfn_events.FakeTime``: the retries' sleeps move it, nothing really waits.
"""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from botocore.stub import Stubber
from cfn_events import DETAILS, MEMBER_ACCOUNT, OWN_ACCOUNT, FakeTime

from cdk_alternate_contacts_handler.account_api import Target, put_contact
from cdk_alternate_contacts_handler.claims import root_stack
from cdk_alternate_contacts_handler.errors import ContactError
from cdk_alternate_contacts_handler.retry import IAM_PROPAGATION_S, Deadline, call_with_retry

OWN = Target(OWN_ACCOUNT, "SECURITY", own_account=True)
MEMBER = Target(MEMBER_ACCOUNT, "BILLING", own_account=False)
LIVE = {"AlternateContact": {"AlternateContactType": "SECURITY", **DETAILS}}
STACK_ID = f"arn:aws:cloudformation:us-east-1:{OWN_ACCOUNT}:stack/Contacts/5b0a2f10-0000-4000-8000-000000000001"


def deny_puts(stubber: Stubber, times: int) -> None:
    """Answer the next ``times`` PutAlternateContact calls with IAM's AccessDeniedException."""
    for _ in range(times):
        stubber.add_client_error("put_alternate_contact", "AccessDeniedException", "not authorized", 403)


def test_access_denied_on_the_first_calls_is_retried_until_the_policy_applies(
    account: tuple[Any, Stubber], fake_time: FakeTime
) -> None:
    # GIVEN a Put denied twice (IAM still applying the policy CloudFormation just updated), then allowed
    client, stubber = account
    deny_puts(stubber, 2)
    stubber.add_response("put_alternate_contact", {})
    stubber.add_response("get_alternate_contact", LIVE)
    # WHEN the contact is put at the start of an invocation
    put_contact(client, OWN, DETAILS, deadline=fake_time.deadline(), policy=fake_time.policy())
    # THEN it succeeded after backing off (0.5 s, then 1 s), all within the propagation time
    assert fake_time.sleeps[:2] == [0.5, 1.0]
    stubber.assert_no_pending_responses()


def test_access_denied_that_outlasts_the_propagation_time_is_explained(
    account: tuple[Any, Stubber], fake_time: FakeTime
) -> None:
    # GIVEN a role that never gets the permission
    client, stubber = account
    deny_puts(stubber, 40)
    # WHEN the contact is put
    with pytest.raises(ContactError) as raised:
        put_contact(client, MEMBER, DETAILS, deadline=fake_time.deadline(), policy=fake_time.policy())
    # THEN it gave up once the propagation time was spent (not at the function's deadline), and the reason
    # names the missing action, that IAM may still be applying a change, and the organization set-up
    assert IAM_PROPAGATION_S <= fake_time.now < IAM_PROPAGATION_S + 3
    reason = str(raised.value)
    assert "account:PutAlternateContact" in reason and "IAM may still apply a policy change" in reason
    assert "management account" in reason and len(reason) <= 256


def test_access_denied_late_in_an_invocation_is_not_retried(account: tuple[Any, Stubber], fake_time: FakeTime) -> None:
    # GIVEN an invocation already past the propagation time (its earlier calls were allowed)
    client, stubber = account
    deadline = fake_time.deadline()
    fake_time.now = IAM_PROPAGATION_S + 1
    deny_puts(stubber, 1)
    # WHEN a call is denied
    with pytest.raises(ContactError, match="AccessDenied"):
        put_contact(client, OWN, DETAILS, deadline=deadline, policy=fake_time.policy())
    # THEN it is final at once
    assert fake_time.sleeps == []


def test_a_call_whose_denial_is_an_answer_is_not_retried(fake_time: FakeTime) -> None:
    # GIVEN a call made with retry_access_denied=False (a tidy-up whose denial means "nothing to tidy")
    calls: list[int] = []

    def denied() -> None:
        calls.append(1)
        raise ClientError({"Error": {"Code": "AccessDeniedException", "Message": "no"}}, "DeleteParameter")

    # WHEN it is denied THEN the error comes at once, after one attempt
    with pytest.raises(ClientError):
        call_with_retry(
            denied,
            what="DeleteParameter",
            deadline=fake_time.deadline(),
            policy=fake_time.policy(),
            retry_access_denied=False,
        )
    assert calls == [1]


def test_cloudformation_reads_share_the_retry(fake_time: FakeTime) -> None:
    # GIVEN DescribeStacks denied once (CloudFormation's spelling: AccessDenied), then allowed
    client = boto3.client("cloudformation", region_name="us-east-1")
    with Stubber(client) as stubber:
        stubber.add_client_error("describe_stacks", "AccessDenied", "not authorized", 403)
        stubber.add_response(
            "describe_stacks",
            {
                "Stacks": [
                    {
                        "StackName": "Contacts",
                        "StackId": STACK_ID,
                        "CreationTime": "2026-11-22T00:00:00Z",
                        "StackStatus": "UPDATE_IN_PROGRESS",
                    }
                ]
            },
        )
        # WHEN the root of the app is looked up THEN the second attempt answers
        root = root_stack(client, STACK_ID, deleting="x", deadline=fake_time.deadline(), policy=fake_time.policy())
    assert root.root == STACK_ID


def test_settled_deadline_turns_the_retry_off() -> None:
    deadline = Deadline(lambda: 60_000, clock=lambda: 0.0, access_denied_grace_s=0.0)
    assert not deadline.within_access_denied_grace()
