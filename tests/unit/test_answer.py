"""The answer's encoding and the sender's refusal to retry what cannot succeed."""

from __future__ import annotations

import itertools
import json
import time

import pytest

from cdk_alternate_contacts_handler.answer import MAX_ANSWER_BYTES, deliver, encode

BODY = {
    "Status": "FAILED",
    "Reason": "r",
    "PhysicalResourceId": "123456789012/SECURITY",
    "StackId": "arn:aws:cloudformation:us-east-1:123456789012:stack/S/1",
    "RequestId": "1",
    "LogicalResourceId": "Security",
    "NoEcho": False,
    "Data": {},
}


def test_small_answer_is_sent_as_is() -> None:
    assert json.loads(encode(BODY)) == BODY


def test_oversized_data_is_dropped_first() -> None:
    encoded = encode({**BODY, "Data": {"Padding": "x" * 5000}})
    assert len(encoded) <= MAX_ANSWER_BYTES
    assert json.loads(encoded)["Data"] == {}


def test_oversized_reason_is_shortened_to_fit() -> None:
    encoded = encode({**BODY, "Reason": "y" * 6000})
    decoded = json.loads(encoded)
    assert len(encoded) <= MAX_ANSWER_BYTES
    assert decoded["Reason"].endswith("...") and decoded["RequestId"] == "1"


def test_unencodable_data_becomes_a_failed_answer() -> None:
    decoded = json.loads(encode({**BODY, "Status": "SUCCESS", "Data": {"x": object()}}))
    assert decoded["Status"] == "FAILED" and decoded["Data"] == {}


@pytest.mark.parametrize("url", ["not a url", "https://exa mple.com:xx/path?X-Amz-Signature=1"])
def test_unusable_urls_are_given_up_at_once(url: str) -> None:
    started = time.monotonic()
    assert deliver(url, BODY, seconds=30) is False
    assert time.monotonic() - started < 1.0


def test_unreachable_endpoint_is_retried_until_the_time_is_spent() -> None:
    # 127.0.0.1:9 (discard) refuses connections here: every attempt fails, the sender stops on time.
    sleeps: list[float] = []
    clock = iter(range(0, 1000)).__next__
    assert (
        deliver("https://127.0.0.1:9/x", BODY, seconds=3.0, sleep=sleeps.append, clock=lambda: float(clock())) is False
    )
    assert sleeps and sleeps[0] == 0.25 and all(b >= a for a, b in itertools.pairwise(sleeps))
