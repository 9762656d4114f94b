"""Calls to the Account Management API: retried within a deadline, confirmed by reads, errors explained.

Every function takes the boto3 ``account`` client as an argument so tests can hand in a client pointed at
moto or wrapped in botocore's Stubber. Nothing here reads the environment or logs contact details.
"""

from __future__ import annotations

import logging
import random
import re
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from botocore.exceptions import (
    ClientError,
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    ReadTimeoutError,
)

from . import spec

logger = logging.getLogger(__name__)

T = TypeVar("T")

#: CloudFormation shows at most this much of a reason (crhelper keeps the tail of a longer one).
MAX_REASON = 256

#: Error codes worth another attempt: the API's throttling and server faults.
RETRYABLE_CODES = frozenset(
    {
        "TooManyRequestsException",
        "ThrottlingException",
        "Throttling",
        "InternalServerException",
        "ServiceUnavailableException",
    }
)
RETRYABLE_TRANSPORT = (EndpointConnectionError, ConnectTimeoutError, ReadTimeoutError, ConnectionClosedError)

#: Error codes of a call the role may not make (yet): IAM applies a changed policy after a few seconds.
ACCESS_DENIED_CODES = frozenset({"AccessDeniedException", "AccessDenied", "AccessDeniedFault"})

#: How long, from the start of an invocation, an AccessDenied is retried: CloudFormation updates the role's
#: policy right before the custom resources that need it, and IAM takes seconds to apply the change.
IAM_PROPAGATION_S = 20.0

#: Appended to a reason for an AccessDenied that outlived the retries.
IAM_PROPAGATION_HINT = "IAM may still apply a policy change"

ACCESS_DENIED_HINT = (
    "not called from the management account/delegated administrator (trusted access on) for a member account"
)


class ContactError(Exception):
    """A failure to report to CloudFormation: its message is short, readable and free of contact details."""


@dataclass(frozen=True)
class Target:
    """One alternate contact slot: an account and a contact type.

    Attributes
    ----------
    account_id:
        The 12-digit account whose contact is managed.
    contact_type:
        BILLING, OPERATIONS or SECURITY.
    own_account:
        True when ``account_id`` is the account the function runs in. The API call then leaves
        AccountId out, because the management account may not name itself.
    """

    account_id: str
    contact_type: str
    own_account: bool

    @property
    def physical_id(self) -> str:
        """The resource identity, ``<account>/<TYPE>``."""
        return spec.physical_id(self.account_id, self.contact_type)

    def api_arguments(self) -> dict[str, str]:
        """Keyword arguments that select this slot in Put/Get/DeleteAlternateContact."""
        arguments = {spec.CONTACT_TYPE: self.contact_type}
        if not self.own_account:
            arguments[spec.ACCOUNT_ID] = self.account_id
        return arguments


@dataclass
class Deadline:
    """The time an invocation may still spend on API calls before it must answer CloudFormation.

    Parameters
    ----------
    remaining_ms:
        Returns the milliseconds the invocation has left (the Lambda context's method).
    reserve_s:
        Seconds kept back for answering CloudFormation, well before crhelper's own timer, which
        fires half a second before the end and would make a second answer.
    """

    remaining_ms: Callable[[], int]
    reserve_s: float = 3.0
    clock: Callable[[], float] = field(default=time.monotonic)
    abandoned: threading.Event = field(default_factory=threading.Event)
    #: Seconds from ``started`` during which an AccessDenied is retried (see :data:`IAM_PROPAGATION_S`).
    access_denied_grace_s: float = IAM_PROPAGATION_S
    #: When the invocation started, on ``clock`` (default: when the deadline was made).
    started: float | None = None

    def __post_init__(self) -> None:
        if self.started is None:
            self.started = self.clock()

    def within_access_denied_grace(self) -> bool:
        """Whether the invocation is still young enough for an AccessDenied to be IAM propagating a change."""
        started = self.started if self.started is not None else self.clock()
        return self.clock() - started < self.access_denied_grace_s

    def narrowed(self, extra_reserve_s: float) -> Deadline:
        """The same deadline with ``extra_reserve_s`` more kept back: forward work stops in time for its undo."""
        return Deadline(
            self.remaining_ms,
            reserve_s=self.reserve_s + extra_reserve_s,
            clock=self.clock,
            abandoned=self.abandoned,
            access_denied_grace_s=self.access_denied_grace_s,
            started=self.started,
        )

    def seconds_left(self) -> float:
        """Seconds still usable for calls (may be negative)."""
        return self.remaining_ms() / 1000.0 - self.reserve_s

    def check(self, what: str) -> None:
        """Refuse to start a call once the work was abandoned (answered already) or the time is spent.

        Raises
        ------
        ContactError
            Saying which call was not started and why.
        """
        if self.abandoned.is_set():
            raise ContactError(f"{what}: not started, the invocation already answered (timed out)")
        if self.seconds_left() <= 0:
            raise ContactError(f"{what}: not started, too little of the invocation's time is left")


@dataclass
class RetryPolicy:
    """Exponential backoff with full jitter, bounded by the invocation's deadline.

    Parameters
    ----------
    base_s, cap_s:
        The first backoff ceiling and the largest; attempt *n* sleeps a random time up to
        ``min(cap_s, base_s * 2**n)``, which spreads many concurrent invocations apart.
    sleep, uniform:
        Injected for tests.
    """

    base_s: float = 0.5
    cap_s: float = 2.0
    sleep: Callable[[float], None] = time.sleep
    uniform: Callable[[float, float], float] = random.uniform

    def backoff(self, attempt: int) -> float:
        """A jittered delay before retry number ``attempt`` (0-based)."""
        return self.uniform(0.0, min(self.cap_s, self.base_s * (2**attempt)))


def error_code(error: BaseException) -> str:
    """The API error code of a botocore ClientError, or the exception's class name."""
    if isinstance(error, ClientError):
        return str(error.response.get("Error", {}).get("Code", "Unknown"))
    return type(error).__name__


def is_retryable(error: BaseException) -> bool:
    """Whether another attempt may succeed: throttling, a server fault or a broken connection."""
    if isinstance(error, RETRYABLE_TRANSPORT):
        return True
    if isinstance(error, ClientError):
        status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
        return error_code(error) in RETRYABLE_CODES or status in (429, 500, 502, 503, 504)
    return False


def is_access_denied(error: BaseException) -> bool:
    """Whether the error is IAM refusing the call (any service's spelling of AccessDenied)."""
    return isinstance(error, ClientError) and error_code(error) in ACCESS_DENIED_CODES


def call_with_retry(
    operation: Callable[[], T],
    *,
    what: str,
    deadline: Deadline,
    policy: RetryPolicy,
    retry_access_denied: bool = True,
) -> T:
    """Run ``operation``, retrying throttling and server faults while the deadline allows.

    An AccessDenied is retried too, but only during the invocation's first
    ``deadline.access_denied_grace_s`` seconds: CloudFormation applies a changed role policy just
    before the resources that need it, and IAM is eventually consistent. Past that time it is raised
    like any other error, for the caller to explain.

    Parameters
    ----------
    retry_access_denied:
        False for a call whose AccessDenied is an answer in itself (no retry, raised at once).

    Raises
    ------
    ContactError
        When the deadline leaves no room for another attempt; the reason names the last error.
    botocore.exceptions.ClientError
        At once, for errors that another attempt cannot fix (and AccessDenied past the grace time).
    """
    attempt = 0
    while True:
        deadline.check(what)
        try:
            return operation()
        except Exception as error:
            denied = is_access_denied(error)
            if denied and not (retry_access_denied and deadline.within_access_denied_grace()):
                raise
            if not denied and not is_retryable(error):
                raise
            delay = policy.backoff(attempt)
            attempt += 1
            # A retry needs the delay plus time for the call itself before the reserve is reached.
            if deadline.seconds_left() - delay < 1.0:
                if denied:
                    raise
                raise ContactError(
                    f"{what}: still {error_code(error)} after {attempt} attempt{'s' if attempt > 1 else ''}; "
                    "gave up to answer CloudFormation before the function's timeout"
                ) from None
            logger.info("%s: %s, retry %d in %.2f s", what, error_code(error), attempt, delay)
            policy.sleep(delay)


def redact(text: str, secrets: Iterable[str]) -> str:
    """Remove every contact detail (and anything shaped like an email address) from ``text``."""
    for secret in sorted({s.strip() for s in secrets if isinstance(s, str) and s.strip()}, key=len, reverse=True):
        text = text.replace(secret, "<redacted>")
    return re.sub(r"[^\s@]+@[^\s@]+", "<redacted>", text)


def explain(error: ClientError, target: Target, action: str, details: Mapping[str, Any]) -> ContactError:
    """Turn an API error into a reason that tells the user what to do, without contact details."""
    code = error_code(error)
    slot = target.physical_id
    if code in ACCESS_DENIED_CODES:
        if not target.own_account:
            text = (
                f"{action} {slot}: AccessDenied; the role lacks account:{action} ({IAM_PROPAGATION_HINT}) or "
                f"{ACCESS_DENIED_HINT}"
            )
        else:
            text = (
                f"{action} {slot}: AccessDenied; the role lacks account:{action} on this account for this type; "
                f"{IAM_PROPAGATION_HINT}"
            )
    elif code == "ValidationException":
        message = redact(str(error.response.get("Error", {}).get("Message", "")), details.values())
        text = f"{action} {slot}: the API rejected the request: {message}"
    else:
        message = redact(str(error.response.get("Error", {}).get("Message", "")), details.values())
        text = f"{action} {slot}: {code}: {message}"
    return ContactError(fit_reason(text))


def fit_reason(text: str) -> str:
    """Shorten a reason to what CloudFormation shows, keeping its start (crhelper would keep the end)."""
    return text if len(text) <= MAX_REASON else text[: MAX_REASON - 3] + "..."


def read_contact(client: Any, target: Target, *, deadline: Deadline, policy: RetryPolicy) -> dict[str, Any] | None:
    """Return the live contact of ``target``, or ``None`` when the account has none of that type."""
    try:
        response = call_with_retry(
            lambda: client.get_alternate_contact(**target.api_arguments()),
            what=f"GetAlternateContact {target.physical_id}",
            deadline=deadline,
            policy=policy,
        )
    except ClientError as error:
        if error_code(error) == "ResourceNotFoundException":
            return None
        raise explain(error, target, "GetAlternateContact", {}) from None
    contact: dict[str, Any] = response.get("AlternateContact", {})
    return contact


def wait_until(
    check: Callable[[], bool],
    *,
    what: str,
    deadline: Deadline,
    policy: RetryPolicy,
    agreeing_reads: int = 2,
    max_wait_s: float = 120.0,
) -> None:
    """Poll ``check`` until it holds on ``agreeing_reads`` reads in a row (the API is eventually consistent).

    Raises
    ------
    ContactError
        When the reads do not agree within ``max_wait_s`` or the deadline.
    """
    started = deadline.clock()
    in_a_row = 0
    interval = 0.25
    while True:
        in_a_row = in_a_row + 1 if check() else 0
        if in_a_row >= agreeing_reads:
            return
        waited = deadline.clock() - started
        if waited + interval > max_wait_s or deadline.seconds_left() - interval < 1.0:
            raise ContactError(f"{what}: the API did not confirm the change within {waited:.0f} s; deploy again")
        policy.sleep(interval)
        interval = min(interval * 2, 2.0)


def put_contact(
    client: Any, target: Target, details: Mapping[str, str], *, deadline: Deadline, policy: RetryPolicy
) -> None:
    """Write the contact (create or replace) and wait until a read returns it.

    One read that sees the new values is the confirmation: the Put's success is the API's commitment, and
    the read only waits out the moments after it when a Get still finds nothing (the API is eventually
    consistent: hashicorp/terraform-provider-aws #22186). A second read would cost a Get per contact, and
    with the read before the write (kept for undo) that is 3 Gets per Put: at the quotas of 10 Gets and 5
    Puts a second, Gets, not Puts, would then set the pace of a fan-out (``benchmarks/fanout.py``).
    """
    arguments = {**target.api_arguments(), **{key: details[key] for key in spec.DETAIL_FIELDS}}
    try:
        call_with_retry(
            lambda: client.put_alternate_contact(**arguments),
            what=f"PutAlternateContact {target.physical_id}",
            deadline=deadline,
            policy=policy,
        )
    except ClientError as error:
        raise explain(error, target, "PutAlternateContact", details) from None

    def visible() -> bool:
        live = read_contact(client, target, deadline=deadline, policy=policy)
        return live is not None and spec.same_contact(details, live)

    wait_until(
        visible, what=f"PutAlternateContact {target.physical_id}", deadline=deadline, policy=policy, agreeing_reads=1
    )


def still_ours(
    client: Any, target: Target, written: Mapping[str, Any], *, deadline: Deadline, policy: RetryPolicy
) -> bool:
    """Whether the slot still holds what this resource wrote (False also when it holds nothing)."""
    live = read_contact(client, target, deadline=deadline, policy=policy)
    if live is None:
        logger.info("%s: there is no contact", target.physical_id)
        return False
    if not spec.same_contact(written, live):
        logger.warning("%s: changed by another writer since this stack wrote it; left in place", target.physical_id)
        return False
    return True


def delete_contact(
    client: Any,
    target: Target,
    *,
    deadline: Deadline,
    policy: RetryPolicy,
    deleted: Mapping[str, Any] | None = None,
) -> bool:
    """Delete the contact and wait until two reads in a row find none.

    Parameters
    ----------
    deleted:
        The details this resource had written, when known. If a read after the delete returns other
        details, a concurrent writer (another resource or a person) has set the contact since: it is
        theirs now, so the wait ends there and nothing is deleted again.

    Returns
    -------
    bool
        False when nothing was deleted: there was no contact (ResourceNotFoundException counts as success),
        or it no longer holds ``deleted`` (another writer set it after this resource: it is theirs).
    """
    if deleted is not None and not still_ours(client, target, deleted, deadline=deadline, policy=policy):
        return False
    try:
        call_with_retry(
            lambda: client.delete_alternate_contact(**target.api_arguments()),
            what=f"DeleteAlternateContact {target.physical_id}",
            deadline=deadline,
            policy=policy,
        )
    except ClientError as error:
        if error_code(error) == "ResourceNotFoundException":
            return False
        raise explain(error, target, "DeleteAlternateContact", {}) from None

    def settled() -> bool:
        live = read_contact(client, target, deadline=deadline, policy=policy)
        if live is not None and deleted is not None and not spec.same_contact(deleted, live):
            logger.info("DeleteAlternateContact %s: a concurrent write set the contact again", target.physical_id)
            return True
        return live is None

    wait_until(settled, what=f"DeleteAlternateContact {target.physical_id}", deadline=deadline, policy=policy)
    return True


#: Organizations states in which an account's contacts can be managed.
ACTIVE_STATES = frozenset({"ACTIVE"})


def inactive_state(organizations: Any, account_id: str, *, deadline: Deadline, policy: RetryPolicy) -> str | None:
    """Return the account's state when it is not active (SUSPENDED, PENDING_CLOSURE, CLOSED, NOT_FOUND), else None.

    Reads ``State`` (current API) or ``Status`` (older) from Organizations DescribeAccount; an account the
    organization no longer knows (closed for good, or removed) counts as NOT_FOUND.
    """
    try:
        response = call_with_retry(
            lambda: organizations.describe_account(AccountId=account_id),
            what=f"DescribeAccount {account_id}",
            deadline=deadline,
            policy=policy,
        )
    except ClientError as error:
        if error_code(error) == "AccountNotFoundException":
            return "NOT_FOUND"
        raise ContactError(
            fit_reason(
                f"DescribeAccount {account_id}: {error_code(error)}; skipping inactive accounts needs "
                "organizations:DescribeAccount, from the management account or a delegated administrator"
                + (f"; {IAM_PROPAGATION_HINT}" if is_access_denied(error) else "")
            )
        ) from None
    details = response.get("Account", {})
    state = str(details.get("State") or details.get("Status") or "UNKNOWN")
    return None if state in ACTIVE_STATES else state
