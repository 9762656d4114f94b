"""Whether a request is still worth acting on: CloudFormation fails a custom resource after its ServiceTimeout.

The ServiceTimeout counts from when CloudFormation sent the request, time spent in Lambda's queue included
(an asynchronous invocation waits there while the function is throttled, for up to six hours, and a
function error is retried). A request older than that has already failed in CloudFormation, which has
moved on (a rollback, say): acting on it now would only write behind CloudFormation's back. The request's
ResponseURL is pre-signed when it is sent, and its ``X-Amz-Date`` query parameter tells when.

Pure functions: the clock is an argument.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

#: CloudFormation's ServiceTimeout when a resource sets none (and its upper bound), in seconds.
DEFAULT_SERVICE_TIMEOUT_S = 3600
MIN_SERVICE_TIMEOUT_S = 1

#: Format of the ResponseURL's X-Amz-Date (SigV4's basic ISO 8601, UTC).
SIGNED_AT_FORMAT = "%Y%m%dT%H%M%SZ"


def signed_at(response_url: object) -> datetime | None:
    """When CloudFormation signed (sent) the request, from its ResponseURL; ``None`` if it does not say."""
    if not isinstance(response_url, str):
        return None
    try:
        values = parse_qs(urlsplit(response_url).query).get("X-Amz-Date", [])
    except ValueError:
        return None
    if len(values) != 1:
        return None
    try:
        return datetime.strptime(values[0], SIGNED_AT_FORMAT).replace(tzinfo=UTC)
    except ValueError:
        return None


def service_timeout_s(properties: object) -> int:
    """The resource's ServiceTimeout in seconds: CloudFormation's default (3,600) when absent or unusable.

    CloudFormation passes it among the resource properties as the template holds it (CDK writes a string
    such as ``"420"``); a number is accepted too. Only whole seconds from 1 to 3,600 are valid.
    """
    value = properties.get("ServiceTimeout") if isinstance(properties, Mapping) else None
    seconds: float | None = None
    if isinstance(value, bool):
        seconds = None
    elif isinstance(value, int | float):
        seconds = float(value)
    elif isinstance(value, str):
        try:
            seconds = float(value.strip())
        except ValueError:
            seconds = None
    if seconds is None or not math.isfinite(seconds) or not seconds.is_integer():
        return DEFAULT_SERVICE_TIMEOUT_S
    whole = int(seconds)
    return whole if MIN_SERVICE_TIMEOUT_S <= whole <= DEFAULT_SERVICE_TIMEOUT_S else DEFAULT_SERVICE_TIMEOUT_S


def stale_reason(event: Mapping[str, Any], now: datetime) -> str | None:
    """Say why the request must not be acted on, or ``None`` when it is fresh (or its age is unknown).

    Parameters
    ----------
    event:
        The CloudFormation request.
    now:
        The current time, timezone-aware.

    Returns
    -------
    str | None
        The FAILED reason for a request that waited longer than its ServiceTimeout; ``None`` otherwise,
        including when the ResponseURL carries no usable X-Amz-Date (then the request is handled as before).
    """
    sent = signed_at(event.get("ResponseURL"))
    if sent is None:
        return None
    waited = (now - sent).total_seconds()
    timeout = service_timeout_s(event.get("ResourceProperties"))
    if waited <= timeout:
        return None
    return (
        f"the request waited {waited:.0f} s, longer than its ServiceTimeout of {timeout} s, and was not acted on: "
        "CloudFormation has already failed it"
    )
