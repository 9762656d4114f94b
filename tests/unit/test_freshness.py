"""A request older than its ServiceTimeout does no work: the decision, pure, with the clock given."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from cdk_alternate_contacts_handler.freshness import service_timeout_s, signed_at, stale_reason

SENT = datetime(2026, 12, 1, 19, 0, 0, tzinfo=UTC)
URL = "https://cloudformation-custom-resource-response-useast1.s3.amazonaws.com/arn%3A/x?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Date=20261201T190000Z&X-Amz-Expires=7200&X-Amz-Signature=ab12"


def request(url: str = URL, timeout: Any = "420") -> dict[str, Any]:
    props = {"AlternateContactType": "SECURITY"}
    if timeout is not None:
        props["ServiceTimeout"] = timeout
    return {"RequestType": "Create", "ResponseURL": url, "ResourceProperties": props}


def test_request_within_its_service_timeout_is_acted_on() -> None:
    # GIVEN a request sent 419 s ago with a ServiceTimeout of 420 s  WHEN asked  THEN it is fresh
    assert stale_reason(request(), SENT + timedelta(seconds=419)) is None
    assert stale_reason(request(), SENT + timedelta(seconds=420)) is None


def test_request_older_than_its_service_timeout_is_refused_with_the_wait_in_the_reason() -> None:
    # GIVEN a request that waited 421 s in Lambda's queue, past its 420 s
    reason = stale_reason(request(), SENT + timedelta(seconds=421))
    # THEN it is refused, saying how long it waited and against which limit
    assert reason is not None and "waited 421 s" in reason and "ServiceTimeout of 420 s" in reason
    assert len(reason) <= 256


@pytest.mark.parametrize("timeout", [None, "soon", "0", "3601", "-5", "12.5", True, [], {}])
def test_absent_or_unusable_service_timeout_means_cloudformations_hour(timeout: Any) -> None:
    assert service_timeout_s(request(timeout=timeout)["ResourceProperties"]) == 3600
    assert stale_reason(request(timeout=timeout), SENT + timedelta(seconds=3600)) is None
    assert stale_reason(request(timeout=timeout), SENT + timedelta(seconds=3601)) is not None


@pytest.mark.parametrize(("timeout", "seconds"), [("420", 420), (" 60 ", 60), (900, 900), (1.0, 1), ("3600", 3600)])
def test_service_timeout_as_string_or_number(timeout: Any, seconds: int) -> None:
    assert service_timeout_s({"ServiceTimeout": timeout}) == seconds


@pytest.mark.parametrize(
    "url",
    [
        "https://example.com/x?X-Amz-Signature=ab",  # no X-Amz-Date
        "https://example.com/x?X-Amz-Date=2026-12-01T19:00:00Z",  # not SigV4's format
        "https://example.com/x?X-Amz-Date=20261301T190000Z",  # no 13th month
        "https://example.com/x?X-Amz-Date=20261201T190000Z&X-Amz-Date=20201201T190000Z",  # ambiguous
        "https://[::1/x?X-Amz-Date=20201201T190000Z",  # not a URL
    ],
)
def test_missing_or_malformed_signing_time_proceeds_as_before(url: str) -> None:
    assert stale_reason(request(url=url), SENT + timedelta(days=30)) is None


def test_signing_time_is_read_as_utc() -> None:
    assert signed_at(URL) == SENT
    assert signed_at(None) is None


def test_a_signing_time_in_the_future_counts_as_fresh() -> None:
    # (the clocks of CloudFormation and Lambda may differ by a little)
    assert stale_reason(request(), SENT - timedelta(seconds=30)) is None
