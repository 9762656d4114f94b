"""Whatever the event, CloudFormation gets exactly one answer, and an invalid event changes nothing.

hypothesis generates events, valid and hostile (missing keys, wrong JSON types, huge strings, Unicode
look-alikes in emails, phones, account ids and contact types, unknown and lower-case request types,
properties from an older construct, Custom::AlternateContacts shapes, nested garbage), and each runs
through the real ``index.handler`` and crhelper, answering over real HTTPS to the project's listener,
against moto's Account API in-process. Each event's oracle is known by construction
(tests/support/hostile_events.py) and checked by tests/support/answer_oracle.py:

- an event with the envelope CloudFormation always sends gets exactly one answer, echoing its ids,
  within CloudFormation's 4,096 bytes; an event without one gets none; nothing raises;
- a FAILED answer has a reason of at most 256 characters that names the problem;
- a valid event answers SUCCESS and leaves the declared contacts live (or, for a Delete, gone);
- an invalid event changes no contact and no restore record;
- no contact detail and no ResponseURL signature appears in any log line or answer.

``ROBUSTNESS_PROFILE=deep`` runs 1,500 examples per property instead of CI's few dozen.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from answer_oracle import dumps, violations
from handler_harness import OWN_ACCOUNT, STACK_ID, HandlerHarness, crhelper_timer_stopped, instant_waits
from hostile_events import Case, cases, fuzz_settings
from hypothesis import given


@pytest.fixture(scope="module")
def harness(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HandlerHarness]:
    """One listener, one CloudFormation endpoint and one moto for the module: examples run in sequence."""
    undo = instant_waits()
    try:
        with HandlerHarness(Path(tmp_path_factory.mktemp("fuzz"))) as running:
            yield running
    finally:
        undo()


def run_and_check(harness: HandlerHarness, case: Case) -> None:
    """Invoke the handler with the case's event and fail with every broken guarantee, event included."""
    # The function's real timeout: these events are about content, not time (a loaded machine must not
    # push one into the deadline; the fault tests take care of deadlines).
    invocation, observed = harness.observe_case(case)
    problems = violations(case, invocation, observed)
    # crhelper's last-moment timer must be cancelled: a live one would answer FAILED a second time later.
    if not crhelper_timer_stopped():
        problems.append("crhelper's timeout timer is still running after the handler returned")
    workers = [t for t in threading.enumerate() if t.name == "alternate-contact-work"]
    if workers:
        problems.append(f"{len(workers)} work thread(s) still running after the handler returned")
    harness.logs.clear()  # checked: a deep run would otherwise hold every line of thousands of invocations
    assert not problems, f"{case.kind}: {problems}\nevent: {dumps(invocation.event)}\nanswers: {invocation.documents}"


@fuzz_settings()
@given(case=cases(STACK_ID))
def test_any_event_is_answered_exactly_once_and_invalid_ones_change_nothing(
    harness: HandlerHarness, case: Case
) -> None:
    # GIVEN an event of any kind, valid or hostile, with its expected outcome
    # WHEN the handler runs it
    # THEN every guarantee of the module's docstring holds
    run_and_check(harness, case)


@fuzz_settings(ci_examples=25)
@given(case=cases(STACK_ID, kinds=("invalid-properties", "mismatched-shape", "unknown-request-type")))
def test_invalid_events_answer_failed_naming_the_problem_and_change_nothing(
    harness: HandlerHarness, case: Case
) -> None:
    # GIVEN an event whose properties or request type the handler must refuse
    # WHEN the handler runs it
    # THEN it answers FAILED once, the reason names the bad field or request type, nothing changed
    run_and_check(harness, case)


@fuzz_settings(ci_examples=20)
@given(case=cases(STACK_ID, kinds=("forged-delete",)))
def test_forged_deletes_change_nothing_and_say_why(harness: HandlerHarness, case: Case) -> None:
    # GIVEN a Delete CloudFormation did not send, and a live contact in every slot of the id it names
    put_in_every_slot_of(case)
    # WHEN the handler runs it
    # THEN it answers SUCCESS once, changes no contact and no record, and says why nothing was deleted
    run_and_check(harness, case)


#: What the slots a forged Delete names hold (someone's real contact, which must survive it).
LIVE_CONTACT = {
    "EmailAddress": "owner.7f3a9c@example.com",
    "Name": "Owner 7f3a9c",
    "PhoneNumber": "+1 206 555 0199",
    "Title": "Owner 7f3a9c",
}


def put_in_every_slot_of(case: Case) -> None:
    """Set :data:`LIVE_CONTACT` straight in moto, in each slot of the case's physical id."""
    account, types = case.event["PhysicalResourceId"].split("/")
    client = boto3.client("account", region_name="us-east-1")
    arguments = {} if account == OWN_ACCOUNT else {"AccountId": account}
    for contact_type in types.split("+"):
        client.put_alternate_contact(AlternateContactType=contact_type, **arguments, **LIVE_CONTACT)
    case.secrets |= set(LIVE_CONTACT.values())


@fuzz_settings(ci_examples=15)
@given(case=cases(STACK_ID, kinds=("no-envelope",)))
def test_events_without_an_envelope_get_no_answer_and_raise_nothing(harness: HandlerHarness, case: Case) -> None:
    # GIVEN something that is not a CloudFormation request (not a map, or a key of the envelope missing or
    # not a string), whose ResponseURL, if it has one, is a live URL of the listener
    # WHEN the handler runs it
    # THEN nothing is PUT anywhere, nothing raises, nothing changes
    run_and_check(harness, case)


def test_every_answer_of_the_module_is_still_the_only_one(harness: HandlerHarness) -> None:
    # GIVEN every URL the property tests issued, with the answers it had when its invocation returned
    assert len(harness.answered) >= 40
    # WHEN the answers are counted again, once every invocation has returned
    recounted = harness.listener.answer_counts(list(harness.answered))
    # THEN none received another answer since
    assert {key: n for key, n in recounted.items() if n != harness.answered[key]} == {}
    # AND the listener refused no PUT (nothing was sent to a URL that was not issued, or re-signed)
    assert harness.listener.rejected == []


# -- shapes the handler once mishandled (fixed in 7bf7a98; they are in the generated mix too) -------------


def invalid_create(**envelope: object) -> Case:
    """A Create whose email is not one, in the harness's stack, with envelope keys overridden."""
    event = {
        "RequestType": "Create",
        "ServiceToken": "arn:aws:lambda:us-east-1:123456789012:function:provider",
        "ResponseURL": "https://placeholder/",
        "StackId": STACK_ID,
        "RequestId": "5d9e1c2b-0000-4000-8000-000000000001",
        "LogicalResourceId": "SecurityContact",
        "ResourceType": "Custom::AlternateContact",
        "ResourceProperties": {
            "AlternateContactType": "SECURITY",
            "EmailAddress": "grace.hopper\u200b@example.com",
            "Name": "Grace Hopper",
            "PhoneNumber": "+1 206 555 0147",
            "Title": "Rear Admiral",
        },
        **envelope,
    }
    return Case("invalid-properties", event, status="FAILED", reason_mentions=("EmailAddress",))


def test_crhelpers_polling_key_cannot_make_an_invalid_create_succeed(harness: HandlerHarness) -> None:
    run_and_check(harness, invalid_create(CrHelperPoll=True))


def test_crhelpers_data_key_is_not_echoed_into_the_answer(harness: HandlerHarness) -> None:
    run_and_check(harness, invalid_create(CrHelperData={"Padding": "x" * 5000}))


def test_a_failed_create_whose_stack_id_is_not_an_arn_still_names_the_bad_field(harness: HandlerHarness) -> None:
    run_and_check(harness, invalid_create(StackId="Robustness"))
