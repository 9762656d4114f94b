"""Faults around the handler, in this process: the real index.handler and crhelper, the real HTTPS listener,
moto's Account API. What must hold: one answer per request, the declared contact in the end, no answer
after the deadline, no contact lost to a Delete racing another writer, no wait that never ends.

The Account API's faults come from a botocore ``before-send`` hook that answers 429
``TooManyRequestsException`` or 500 ``InternalServerException`` as AWS does (moto cannot throttle); the
ResponseURL's faults from a TCP proxy that resets connections and from the listener answering S3's
``503 SlowDown``. Unless a test says otherwise, the handler's own retry timing is real.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cfn_events import DETAILS, event, properties
from fault_proxies import ResettingTcpProxy, SlowDownListener
from handler_harness import (
    OWN_ACCOUNT,
    STACK_ID,
    AccountFaults,
    HandlerHarness,
    Invocation,
    crhelper_timer_stopped,
    instant_waits,
    moto_contacts,
    world,
)
from hostile_events import fuzz_settings
from hypothesis import given
from hypothesis import strategies as st
from moto.account.models import account_backends

OTHER_WRITER = {
    "EmailAddress": "soc-oncall@example.org",
    "Name": "Security Operations",
    "PhoneNumber": "+44 20 7946 0000",
    "Title": "Another team's contact",
}
MEMBER = "210987654321"


@pytest.fixture(scope="module")
def harness(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HandlerHarness]:
    workdir = Path(tmp_path_factory.mktemp("faults"))
    # The listener answers normally until a test asks it to refuse the first PUTs of each request.
    with HandlerHarness(workdir, listener=SlowDownListener(workdir, refusals=0)) as running:
        yield running


@pytest.fixture(autouse=True)
def clean_slate(harness: HandlerHarness) -> Iterator[None]:
    """Every test starts with no contacts and an empty stack listing, and ends with no work thread left."""
    for account_id in list(account_backends):
        for backend in account_backends[account_id].values():
            backend._alternate_contacts.clear()
    harness.publish_stack()
    yield
    for thread in threading.enumerate():
        if thread.name == "alternate-contact-work":
            thread.join(10)


def request(
    request_type: str,
    details: dict[str, str] = DETAILS,
    *,
    contact_type: str = "SECURITY",
    account: str | None = None,
    physical_id: str | None = None,
    old: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A Custom::AlternateContact request of the harness's stack, on CloudFormation's recorded one."""
    props = properties(contact_type, account, **details)
    return event(request_type, props, physical_id=physical_id, old=old, StackId=STACK_ID)


def put_directly(account: str, contact_type: str, details: dict[str, str]) -> None:
    """Another writer (a person, another stack) setting the contact, straight into moto."""
    account_backends[account]["aws"].put_alternate_contact(
        alternate_contact_type=contact_type,
        email_address=details["EmailAddress"],
        name=details["Name"],
        phone_number=details["PhoneNumber"],
        title=details["Title"],
    )


def live(account: str = OWN_ACCOUNT, contact_type: str = "SECURITY") -> dict[str, str] | None:
    contact = moto_contacts().get((account, "aws", contact_type))
    if contact is None:
        return None
    return dict(zip(("EmailAddress", "Name", "PhoneNumber", "Title"), contact, strict=True))


def statuses(invocation: Invocation) -> list[str]:
    return [document.get("Status", "?") for document in invocation.documents]


def wait_past_deadline(invocation: Invocation, extra_s: float = 1.0) -> None:
    """Sleep until ``extra_s`` after the invocation's deadline: crhelper's timer would have fired by then."""
    time.sleep(max(0.0, invocation.context.deadline + extra_s - time.monotonic()))


# -- the Account API throttles and fails -----------------------------------------------------------


def test_bursts_of_429_and_500_are_retried_and_the_declared_contact_is_set(harness: HandlerHarness) -> None:
    # GIVEN an Account API that throttles the first Put twice, fails it once with a server error, and
    # fails the first confirming read
    faults = AccountFaults({"PutAlternateContact": ["429", "500", "429"], "GetAlternateContact": ["500"]})
    # WHEN a Create runs, with the handler's real backoff
    with harness.account_faults(faults):
        invocation = harness.invoke(request("Create"), seconds=60)
    # THEN it answers SUCCESS once, after the four faults, and the contact is the declared one
    assert statuses(invocation) == ["SUCCESS"], invocation.documents
    assert faults.faults_served() == 4
    assert live() == DETAILS


burst = st.lists(st.sampled_from(["429", "500", None]), max_size=6)


@fuzz_settings(ci_examples=12)
@given(
    operation=st.sampled_from(["Create", "Update", "Delete"]),
    puts=burst,
    gets=burst,
    deletes=burst,
    account=st.sampled_from([None, MEMBER]),
)
def test_any_burst_of_throttling_and_server_errors_ends_in_the_declared_state(
    harness: HandlerHarness,
    operation: str,
    puts: list[str | None],
    gets: list[str | None],
    deletes: list[str | None],
    account: str | None,
) -> None:
    # GIVEN a contact slot in the state the request starts from, and any schedule of 429 and 500 answers
    # (retries and waits made instant: what is retried and when to stop still run; the timing is above)
    target = account or OWN_ACCOUNT
    harness.publish_stack()
    for backend in account_backends[target].values():
        backend._alternate_contacts.clear()
    old = {**request("Create", DETAILS, account=account)["ResourceProperties"]}
    new_details = {**DETAILS, "EmailAddress": "security-team@example.com"}
    physical = f"{target}/SECURITY"
    if operation == "Create":
        event = request("Create", DETAILS, account=account)
    else:
        put_directly(target, "SECURITY", DETAILS)
        details = new_details if operation == "Update" else DETAILS
        event = request(operation, details, account=account, physical_id=physical, old=old)
    faults = AccountFaults(
        {"PutAlternateContact": list(puts), "GetAlternateContact": list(gets), "DeleteAlternateContact": list(deletes)}
    )
    undo = instant_waits()
    try:
        # WHEN the request runs
        with harness.account_faults(faults):
            invocation = harness.invoke(event, seconds=60)
    finally:
        undo()
    # THEN it answers SUCCESS exactly once and the slot holds what was declared (nothing, after a Delete)
    assert statuses(invocation) == ["SUCCESS"], (invocation.documents, faults.calls)
    expected = {"Create": DETAILS, "Update": new_details, "Delete": None}[operation]
    assert live(target) == expected, faults.calls


def test_throttling_until_the_deadline_answers_failed_once_before_crhelpers_timer(harness: HandlerHarness) -> None:
    # GIVEN an Account API that throttles every Put, and an invocation with 7 s left
    faults = AccountFaults(default="429")
    before = world()
    # WHEN a Create runs
    with harness.account_faults(faults):
        invocation = harness.invoke(request("Create"), seconds=7.0)
    answered_at = time.monotonic()
    # THEN it stopped retrying in time and answered FAILED itself, naming the error and why it stopped,
    # well before crhelper's own timer (0.5 s before the end), which it cancelled: no second answer can
    # follow (test_faults_in_lambda_runtime.py waits out a real runtime's deadline to see it)
    [document] = invocation.documents
    assert document["Status"] == "FAILED"
    assert "TooManyRequestsException" in document["Reason"]
    assert "before the function's timeout" in document["Reason"]
    assert answered_at < invocation.context.deadline - 0.5
    assert faults.faults_served() == len(faults.calls) >= 1
    assert crhelper_timer_stopped()
    # AND no contact changed
    assert world() == before


# -- the ResponseURL misbehaves ---------------------------------------------------------------------


def test_the_answer_arrives_once_when_the_first_connection_to_the_response_url_is_reset(
    harness: HandlerHarness,
) -> None:
    # GIVEN a ResponseURL whose first connection is reset
    proxy = ResettingTcpProxy(harness.listener.port, resets=1).start()
    try:
        # WHEN a Create runs
        invocation = harness.invoke(request("Create"), seconds=60, route=proxy.url_through)
    finally:
        proxy.stop()
    # THEN the answer was sent again after the reset and exactly one answer was recorded, SUCCESS
    assert proxy.reset_count == 1
    assert statuses(invocation) == ["SUCCESS"]
    assert harness.listener.rejected == []
    assert live() == DETAILS


def test_the_answer_is_sent_again_when_the_response_url_answers_503_slowdown(harness: HandlerHarness) -> None:
    # GIVEN a ResponseURL that answers S3's 503 SlowDown to the first PUT of each request
    listener = harness.listener
    assert isinstance(listener, SlowDownListener)
    listener.refusals = 1
    try:
        # WHEN a Create runs
        invocation = harness.invoke(request("Create"), seconds=30)
    finally:
        listener.refusals = 0
    # THEN the answer was sent again and recorded once
    assert listener.refused, "the listener refused nothing: the test did not exercise the fault"
    assert statuses(invocation) == ["SUCCESS"]


def test_a_reset_answer_at_the_hard_stop_is_not_doubled_by_crhelpers_timer(harness: HandlerHarness) -> None:
    # GIVEN an Account API that does not answer, a ResponseURL whose first connection is reset, and an
    # invocation with 3.5 s left (the handler's hard stop comes first, crhelper's timer 0.5 s before the end)
    hold = threading.Event()

    def hang(_operation: str, _body: dict[str, Any]) -> None:
        hold.wait(30)

    faults = AccountFaults(before=hang)
    proxy = ResettingTcpProxy(harness.listener.port, resets=1).start()
    try:
        with harness.account_faults(faults):
            # WHEN a Create runs and we wait past the deadline
            invocation = harness.invoke(request("Create"), seconds=3.5, route=proxy.url_through)
            wait_past_deadline(invocation)
    finally:
        hold.set()
        proxy.stop()
    # THEN exactly one answer was recorded: the handler's FAILED, saying why
    answers = [answer.document or {} for answer in harness.answers_of(invocation)]
    assert [a.get("Status") for a in answers] == ["FAILED"], answers
    assert "timeout" in str(answers[0].get("Reason")), answers


def test_work_abandoned_at_the_hard_stop_writes_nothing_after_the_answer(harness: HandlerHarness) -> None:
    # GIVEN a two-type resource, and an Account API whose second confirming read of the first type hangs
    # until the test lets it go
    hold = threading.Event()
    gets = []

    def slow_second_read(operation: str, _body: dict[str, Any]) -> None:
        if operation == "GetAlternateContact":
            gets.append(operation)
            if len(gets) == 2:
                hold.wait(30)

    event = request("Create")
    event["ResourceType"] = "Custom::AlternateContacts"
    event["ResourceProperties"] = {
        "ServiceToken": event["ServiceToken"],
        "AlternateContacts": {"BILLING": DETAILS, "SECURITY": DETAILS},
    }
    try:
        with harness.account_faults(AccountFaults(before=slow_second_read)):
            # WHEN the Create runs into the hard stop (6.5 s left) and answers FAILED
            invocation = harness.invoke(event, seconds=6.5)
            assert statuses(invocation) == ["FAILED"]
            after_answer = world()
            # AND the hung read then returns
            hold.set()
            for thread in threading.enumerate():
                if thread.name == "alternate-contact-work":
                    thread.join(10)
    finally:
        hold.set()
    # THEN nothing was written after CloudFormation was told FAILED
    assert world() == after_answer


# -- a Delete races another writer of the same slot ----------------------------------------------


@pytest.mark.parametrize("moment", ["after the delete call", "between the two confirming reads"])
def test_a_put_landing_during_a_delete_is_kept_and_the_delete_does_not_wait_for_ever(
    harness: HandlerHarness, moment: str
) -> None:
    # GIVEN the contact this resource wrote, and another writer that sets the slot at a given moment
    put_directly(OWN_ACCOUNT, "SECURITY", DETAILS)
    reads = []

    def other_writer(operation: str, _body: dict[str, Any]) -> None:
        if operation == "GetAlternateContact":
            reads.append(operation)
            if len(reads) == {"after the delete call": 1, "between the two confirming reads": 2}[moment]:
                put_directly(OWN_ACCOUNT, "SECURITY", OTHER_WRITER)

    event = request("Delete", physical_id=f"{OWN_ACCOUNT}/SECURITY")
    # WHEN the Delete runs
    with harness.account_faults(AccountFaults(before=other_writer)):
        started = time.monotonic()
        invocation = harness.invoke(event, seconds=60)
    # THEN it answers SUCCESS once, in seconds, and the other writer's contact is still there
    assert statuses(invocation) == ["SUCCESS"]
    assert time.monotonic() - started < 20
    assert live() == OTHER_WRITER


def test_a_contact_another_writer_set_after_this_resource_is_kept_by_its_delete(harness: HandlerHarness) -> None:
    # GIVEN the contact this resource wrote, replaced by another writer before the Delete arrives
    put_directly(OWN_ACCOUNT, "SECURITY", DETAILS)
    put_directly(OWN_ACCOUNT, "SECURITY", OTHER_WRITER)
    deletes: list[str] = []

    def count_deletes(operation: str, _body: dict[str, Any]) -> None:
        if operation == "DeleteAlternateContact":
            deletes.append(operation)

    # WHEN the Delete runs (its properties say what this resource wrote)
    with harness.account_faults(AccountFaults(before=count_deletes)):
        invocation = harness.invoke(request("Delete", physical_id=f"{OWN_ACCOUNT}/SECURITY"), seconds=60)
    # THEN the other writer's contact is kept: the handler read it and did not call DeleteAlternateContact.
    # (A write landing between that read and the delete call cannot be told apart: the API has no
    # conditional delete. README says so.)
    assert statuses(invocation) == ["SUCCESS"]
    assert deletes == []
    assert live() == OTHER_WRITER


def test_a_writer_that_keeps_putting_the_deleted_contact_back_cannot_hold_the_delete_past_its_deadline(
    harness: HandlerHarness,
) -> None:
    # GIVEN a writer that puts this resource's own details back after every read
    put_directly(OWN_ACCOUNT, "SECURITY", DETAILS)

    def flapping_writer(operation: str, _body: dict[str, Any]) -> None:
        if operation == "GetAlternateContact":
            put_directly(OWN_ACCOUNT, "SECURITY", DETAILS)

    # WHEN a Delete runs with 8 s left
    with harness.account_faults(AccountFaults(before=flapping_writer)):
        invocation = harness.invoke(request("Delete", physical_id=f"{OWN_ACCOUNT}/SECURITY"), seconds=8.0)
    answered_at = time.monotonic()
    # THEN it gives up waiting for the delete to show and answers FAILED once, saying so, well before
    # crhelper's timer, whose cancellation means no second answer can follow
    [document] = invocation.documents
    assert document["Status"] == "FAILED"
    assert "did not confirm" in document["Reason"]
    assert answered_at < invocation.context.deadline - 0.5
    assert crhelper_timer_stopped()


# -- an event that waited in Lambda's queue past its ServiceTimeout --------------------------------


@pytest.mark.parametrize("operation", ["Create", "Update", "Delete"])
def test_event_older_than_its_service_timeout_does_no_work_and_answers_failed_once(
    harness: HandlerHarness, operation: str
) -> None:
    # GIVEN a request whose ResponseURL was signed 421 s ago, against a ServiceTimeout of 420 s (CloudFormation
    # has failed the resource already), and a slot holding another writer's contact
    put_directly(OWN_ACCOUNT, "SECURITY", OTHER_WRITER)
    event = request(operation, physical_id=None if operation == "Create" else f"{OWN_ACCOUNT}/SECURITY")
    event["ResourceProperties"]["ServiceTimeout"] = "420"
    if operation == "Update":
        event["OldResourceProperties"] = {**event["ResourceProperties"], **OTHER_WRITER}
    signed = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(time.time() - 421))
    calls = AccountFaults()
    # WHEN the handler runs it
    with harness.account_faults(calls):
        invocation, observed = harness.observe(
            event, seconds=60, route=lambda url: re.sub(r"X-Amz-Date=\d{8}T\d{6}Z", f"X-Amz-Date={signed}", url)
        )
    # THEN one FAILED answer says why, no Account API call was made, nothing changed
    assert statuses(invocation) == ["FAILED"]
    assert "longer than its ServiceTimeout of 420 s" in invocation.documents[0]["Reason"]
    assert calls.calls == []
    assert observed.before == observed.after
    assert live(OWN_ACCOUNT) == OTHER_WRITER
