"""A whole lifecycle through index.handler writes no contact detail and no ResponseURL signature anywhere.

Every log record is captured at the root logger (crhelper's included), with the handler's own loggers
held at DEBUG so that even a debug line would be caught; everything written to the process's stdout and
stderr is captured too. The lifecycle covers every path that handles contact details: creates of both
resource types, restore-on-delete records (SecureString values), in-place update, replacement and its
cleanup, a rename, throttling retries, failed create and update with their rollbacks, an unknown request
type, an event without envelope, and the final deletes. (The fuzz tests check the same of every event
they generate; tests/e2e checks the log stream of the asset under the real runtime.)
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from answer_oracle import leaked, strings_in
from cfn_events import contacts_properties, properties
from cfn_events import event as recorded_event
from handler_harness import OWN_ACCOUNT, STACK_ID, AccountFaults, HandlerHarness, Invocation, instant_waits
from moto.account.models import account_backends

MEMBER = "210987654321"
OTHER_MEMBER = "111111111111"
SERVICE_TOKEN = f"arn:aws:lambda:us-east-1:{OWN_ACCOUNT}:function:provider"


def details(tag: str) -> dict[str, str]:
    return {
        "EmailAddress": f"{tag}.lovelace@example.com",
        "Name": f"Ada {tag.title()} Lovelace",
        "PhoneNumber": f"+44 20 7946 {abs(hash(tag)) % 10000:04d}",
        "Title": f"Analytical Engine {tag} lead",
    }


SECURITY, SECURITY_NEW, BILLING, OPERATIONS, BEFORE_STACK = (
    details(t) for t in ("security", "rotated", "billing", "operations", "previous")
)
INVALID_PHONE = "+44 (0)20 CALL-ADA-NOW"
INVALID_EMAIL = "ada\u200b.lovelace@example.com"
OLD_CONSTRUCT_EMAIL = "ada.legacy.lovelace@example.com"
ALL_DETAILS = {
    value for contact in (SECURITY, SECURITY_NEW, BILLING, OPERATIONS, BEFORE_STACK) for value in contact.values()
} | {INVALID_PHONE, INVALID_EMAIL, OLD_CONSTRUCT_EMAIL}


def single(contact_type: str, contact: dict[str, str], account: str | None = None, **extra: str) -> dict[str, Any]:
    return properties(contact_type, account, **contact, **extra)


def multi(contacts: dict[str, dict[str, str]], account: str, **extra: str) -> dict[str, Any]:
    return {**contacts_properties(contacts, account), **extra}


def event(
    request_type: str,
    logical_id: str,
    props: dict[str, Any],
    *,
    physical_id: str | None = None,
    old: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A request of the harness's stack, on CloudFormation's recorded one of the properties' resource type."""
    recorded = "contacts_create" if "AlternateContacts" in props else "contact_create"
    return recorded_event(
        request_type,
        props,
        physical_id=physical_id,
        old=old,
        logical_id=logical_id,
        recorded=recorded,
        StackId=STACK_ID,
    )


@pytest.fixture
def harness(tmp_path: Path) -> Iterator[HandlerHarness]:
    undo = instant_waits()
    try:
        with HandlerHarness(tmp_path) as running:
            yield running
    finally:
        undo()


def test_a_whole_lifecycle_logs_no_contact_detail_and_no_signature(
    harness: HandlerHarness, capfd: pytest.CaptureFixture[str]
) -> None:
    # GIVEN a member account whose BILLING contact predates the stack (restore on delete will record it)
    account_backends[MEMBER]["aws"].put_alternate_contact(
        alternate_contact_type="BILLING",
        email_address=BEFORE_STACK["EmailAddress"],
        name=BEFORE_STACK["Name"],
        phone_number=BEFORE_STACK["PhoneNumber"],
        title=BEFORE_STACK["Title"],
    )
    security = single("SECURITY", SECURITY)
    security_new = single("SECURITY", SECURITY_NEW)
    moved = single("SECURITY", SECURITY_NEW, OTHER_MEMBER)
    member = multi({"BILLING": BILLING, "OPERATIONS": OPERATIONS}, MEMBER, RestoreOnDelete="true")
    invocations: list[Invocation] = []

    def run(request: Any, *listed: tuple[str, str, str]) -> str:
        harness.publish_stack(*listed)
        invocation = harness.invoke(request, seconds=300)
        invocations.append(invocation)
        return str(invocation.documents[0]["Status"]) if invocation.documents else "NO ANSWER"

    # WHEN the resources go through their lifecycle
    steps = [
        run(event("Create", "Security", security)),
        run(event("Create", "Member", member)),
        run(event("Update", "Security", security_new, physical_id=f"{OWN_ACCOUNT}/SECURITY", old=security)),
        # replacement to another account, then CloudFormation's cleanup of the old id
        run(event("Update", "Security", moved, physical_id=f"{OWN_ACCOUNT}/SECURITY", old=security_new)),
        run(
            event("Delete", "Security", security_new, physical_id=f"{OWN_ACCOUNT}/SECURITY"),
            ("Security", f"{OTHER_MEMBER}/SECURITY", "UPDATE_COMPLETE"),
        ),
        # a rename: the new logical id is created first, the old one deleted while the new one claims the slot
        run(event("Create", "SecurityRenamed", moved)),
        run(
            event("Delete", "Security", moved, physical_id=f"{OTHER_MEMBER}/SECURITY"),
            ("SecurityRenamed", f"{OTHER_MEMBER}/SECURITY", "CREATE_COMPLETE"),
            ("Security", f"{OTHER_MEMBER}/SECURITY", "DELETE_IN_PROGRESS"),
        ),
        # a failed create and its rollback, a failed update and its rollback
        run(event("Create", "Broken", single("OPERATIONS", {**OPERATIONS, "PhoneNumber": INVALID_PHONE}))),
        run(
            event(
                "Delete",
                "Broken",
                single("OPERATIONS", {**OPERATIONS, "PhoneNumber": INVALID_PHONE}),
                physical_id="Robustness_Broken_AB12CD34",
            )
        ),
        run(
            event(
                "Update",
                "SecurityRenamed",
                single("SECURITY", {**SECURITY_NEW, "EmailAddress": INVALID_EMAIL}, OTHER_MEMBER),
                physical_id=f"{OTHER_MEMBER}/SECURITY",
                old=moved,
            )
        ),
        run(
            event(
                "Update",
                "SecurityRenamed",
                moved,
                physical_id=f"{OTHER_MEMBER}/SECURITY",
                old=single("SECURITY", {**SECURITY_NEW, "EmailAddress": INVALID_EMAIL}, OTHER_MEMBER),
            )
        ),
        # properties of an older construct, an unknown request type, something that is not a request
        run(
            event("Create", "Legacy", {"ServiceToken": SERVICE_TOKEN, "Email": OLD_CONSTRUCT_EMAIL, "Type": "SECURITY"})
        ),
        run(event("Upsert", "Security", security)),
        run({key: value for key, value in event("Create", "Security", security).items() if key != "StackId"}),
    ]
    # throttled writes, retried
    with harness.account_faults(AccountFaults({"PutAlternateContact": ["429", "500"]})):
        steps.append(run(event("Create", "Operations", single("OPERATIONS", OPERATIONS))))
    # the stack is deleted: the member account gets its BILLING contact from before the stack back
    steps += [
        run(event("Delete", "Operations", single("OPERATIONS", OPERATIONS), physical_id=f"{OWN_ACCOUNT}/OPERATIONS")),
        run(event("Delete", "SecurityRenamed", moved, physical_id=f"{OTHER_MEMBER}/SECURITY")),
        run(event("Delete", "Member", member, physical_id=f"{MEMBER}/BILLING+OPERATIONS")),
    ]
    assert (
        steps
        == ["SUCCESS"] * 7
        + ["FAILED", "SUCCESS", "FAILED", "SUCCESS", "FAILED", "FAILED", "NO ANSWER"]
        + ["SUCCESS"] * 4
    ), steps
    assert account_backends[MEMBER]["aws"]._alternate_contacts["BILLING"].email_address == BEFORE_STACK["EmailAddress"]

    # THEN the log recorded the lifecycle (the capture works)...
    log = harness.logs.text()
    output = capfd.readouterr()
    assert "Create Security" in log and "Delete Member" in log and "TooManyRequestsException" in log
    assert logging.getLogger("cdk_alternate_contacts_handler").getEffectiveLevel() == logging.DEBUG
    # ...but no email address, phone number, name or title, valid or rejected, anywhere it was written
    assert leaked(ALL_DETAILS, log, output.out, output.err) == []
    # AND no ResponseURL signature, nor the URL's query at all
    signatures = harness.signatures()
    assert len(signatures) == len(steps)
    assert [s for s in signatures if s in log or s in output.out or s in output.err] == []
    assert "X-Amz-Signature" not in log + output.out + output.err
    # AND the answers CloudFormation shows (status reasons, data) carry no contact detail either
    answer_texts = [s for i in invocations for a in i.answers for s in (a.body.decode(), *strings_in(a.document))]
    assert leaked(ALL_DETAILS, *answer_texts) == []
