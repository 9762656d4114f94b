"""The pure parts of the tool, in-process: masking, pacing, retries and progress (intrinsics: tests/unit).

Retries and access errors use botocore's Stubber: moto never throttles nor denies, so only a stub can give
the real API's TooManyRequestsException and AccessDeniedException here.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from cdk_alternate_contacts_cli.aws import ContactReader, Reading, split_active
from cdk_alternate_contacts_cli.compare import changed_fields
from cdk_alternate_contacts_cli.progress import Progress
from cdk_alternate_contacts_cli.ratelimit import RateLimiter
from cdk_alternate_contacts_handler.errors import ACCESS_DENIED_HINT
from cdk_alternate_contacts_handler.masking import initials, mask_email, mask_phone
from cdk_alternate_contacts_handler.organizations import OrgAccount
from cdk_alternate_contacts_handler.retry import RetryPolicy

OWN = "123456789012"
MEMBER = "111111111111"
LIVE = {"EmailAddress": "a@example.com", "Name": "A B", "PhoneNumber": "+1 206 555 0100", "Title": "T"}


class Clock:
    """Time that moves only when slept."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.mark.parametrize(
    ("mask", "value", "masked"),
    [
        # An email keeps its first character and its domain.
        (mask_email, "jane.doe@example.com", "j***@example.com"),
        (mask_email, "  ops@example.org ", "o***@example.org"),
        (mask_email, "nobody", "***"),
        # A phone number keeps its country code and its last four digits.
        (mask_phone, "+1 206 555 0147", "+1 *** ***0147"),
        (mask_phone, "+44-20-7946-0958", "+44 *** ***0958"),
        (mask_phone, "(206) 555-0147", "*** ***0147"),
        (mask_phone, "+12065550147", "*** ***0147"),
        (mask_phone, "123", "***"),
    ],
)
def test_email_and_phone_keep_only_what_tells_one_contact_from_another(
    mask: Callable[[str], str], value: str, masked: str
) -> None:
    assert mask(value) == masked


def test_names_and_titles_become_initials() -> None:
    assert initials("Jane Doe") == "J. D."
    assert initials("Security Operations Center") == "S. O. C."
    assert initials("   ") == "***"


def test_fields_compare_as_the_handler_compares_them_and_unknown_fields_are_skipped() -> None:
    declared = {"EmailAddress": " a@example.com", "Name": "Other"}

    assert changed_fields(declared, LIVE) == ("Name",)


def test_rate_limiter_allows_a_burst_then_the_steady_rate() -> None:
    clock = Clock()
    limiter = RateLimiter(10, 15, clock=clock, sleep=clock.sleep)

    waits = [limiter.acquire() for _ in range(20)]

    assert waits[:15] == [0.0] * 15
    assert waits[15:] == pytest.approx([0.1] * 5)
    assert clock.now == pytest.approx(0.5)


def test_rate_limiter_after_throttling_spends_the_burst() -> None:
    clock = Clock()
    limiter = RateLimiter(10, 15, clock=clock, sleep=clock.sleep)

    limiter.slow_down()

    assert limiter.acquire() == pytest.approx(0.1)


def reader_with(responses: list[tuple[str, Any]], clock: Clock) -> tuple[ContactReader, Stubber]:
    client = boto3.client("account", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    stubber = Stubber(client)
    for kind, value in responses:
        if kind == "ok":
            stubber.add_response("get_alternate_contact", {"AlternateContact": value})
        else:
            stubber.add_client_error("get_alternate_contact", service_error_code=kind, http_status_code=value)
    stubber.activate()
    policy = RetryPolicy(sleep=clock.sleep, uniform=lambda low, high: high)
    limiter = RateLimiter(10, 15, clock=clock, sleep=clock.sleep)
    return ContactReader(client, OWN, limiter, policy=policy, max_attempts=4), stubber


def test_throttled_reads_back_off_and_then_succeed() -> None:
    clock = Clock()
    reader, stubber = reader_with([("TooManyRequestsException", 429)] * 2 + [("ok", LIVE)], clock)

    reading = reader.read(MEMBER, "SECURITY")

    assert reading == Reading(LIVE)
    # The handler's policy: full jitter up to 0.5 s, then up to 1 s (the stub's jitter takes the ceiling).
    assert clock.sleeps == pytest.approx([0.5, 1.0])
    stubber.assert_no_pending_responses()


def test_reads_that_stay_throttled_are_reported_after_the_last_attempt() -> None:
    reader, _ = reader_with([("TooManyRequestsException", 429)] * 4, Clock())

    reading = reader.read(MEMBER, "SECURITY")

    assert reading.code == "TooManyRequestsException"
    assert reading.message == "still TooManyRequestsException after 4 attempts; try again later or lower --max-rate"


def test_access_denied_says_what_the_caller_needs() -> None:
    reader, _ = reader_with([("AccessDeniedException", 403)] * 2, Clock())

    member = reader.read(MEMBER, "SECURITY")
    own = reader.read(OWN, "SECURITY")

    assert (member.code, member.message) == ("AccessDeniedException", ACCESS_DENIED_HINT)
    assert own.message == "the credentials need account:GetAlternateContact on their own account"


def test_no_contact_is_not_an_error() -> None:
    reader, _ = reader_with([("ResourceNotFoundException", 404)], Clock())

    assert reader.read(OWN, "BILLING") == Reading(None)


def test_only_active_accounts_are_checked() -> None:
    accounts = [
        OrgAccount(str(n) * 12, "x", state)
        for n, state in enumerate(["ACTIVE", "SUSPENDED", "PENDING_CLOSURE", "ACTIVE"])
    ]

    active, skipped = split_active(accounts)

    assert [a.state for a in active] == ["ACTIVE", "ACTIVE"]
    assert [a.state for a in skipped] == ["SUSPENDED", "PENDING_CLOSURE"]


def test_progress_in_a_log_writes_a_line_now_and_then_and_the_final_count() -> None:
    clock = Clock()
    stream = io.StringIO()
    progress = Progress(stream, 25, verb="checked", noun="accounts", enabled=True, interactive=False, clock=clock)

    for _ in range(25):
        clock.now += 0.5
        progress.advance()
    progress.close()

    # The first count at once, then one every 5 seconds, and the last one at the end
    assert stream.getvalue().splitlines() == [
        "checked 1/25 accounts",
        "checked 11/25 accounts",
        "checked 21/25 accounts",
        "checked 25/25 accounts",
    ]


def test_progress_on_a_terminal_rewrites_one_line_and_erases_it_at_the_end() -> None:
    clock = Clock()
    stream = io.StringIO()
    progress = Progress(stream, 3, verb="read", noun="contacts", enabled=True, interactive=True, clock=clock)

    clock.now = 1.0
    progress.advance()
    progress.close()

    assert stream.getvalue() == "\r\x1b[Kread 1/3 contacts\r\x1b[K"
