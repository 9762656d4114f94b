"""Retrying AWS calls within a deadline: the one implementation every caller uses.

The provider and the coverage function retry within their invocation's time (:class:`Deadline`); the
command-line tool, which has no deadline (:func:`without_deadline`), within a number of attempts
(:attr:`RetryPolicy.max_attempts`). The backoff is the same for all: exponential, with full jitter.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

from .errors import ContactError, error_code, is_access_denied, is_retryable

logger = logging.getLogger(__name__)

T = TypeVar("T")

#: How long, from the start of an invocation, an AccessDenied is retried: CloudFormation updates the role's
#: policy right before the custom resources that need it, and IAM takes seconds to apply the change.
IAM_PROPAGATION_S = 20.0

#: What a deadline that never comes says is left (about thirty years, in milliseconds).
_FOREVER_MS = 10**12


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


def without_deadline() -> Deadline:
    """A deadline that never comes, for a command-line tool: it may take as long as its user waits."""
    return Deadline(lambda: _FOREVER_MS, reserve_s=0.0, access_denied_grace_s=0.0)


@dataclass
class RetryPolicy:
    """Exponential backoff with full jitter, bounded by the deadline and, optionally, a number of attempts.

    Parameters
    ----------
    base_s, cap_s:
        The first backoff ceiling and the largest; attempt *n* sleeps a random time up to
        ``min(cap_s, base_s * 2**n)``, which spreads many concurrent invocations apart.
    max_attempts:
        Attempts before the last error is raised as it is; default: as many as the deadline allows.
    sleep, uniform:
        Injected for tests.
    """

    base_s: float = 0.5
    cap_s: float = 2.0
    sleep: Callable[[float], None] = time.sleep
    uniform: Callable[[float, float], float] = random.uniform
    max_attempts: int | None = None

    def backoff(self, attempt: int) -> float:
        """A jittered delay before retry number ``attempt`` (0-based)."""
        return self.uniform(0.0, min(self.cap_s, self.base_s * (2**attempt)))


def call_with_retry(
    operation: Callable[[], T],
    *,
    what: str,
    deadline: Deadline,
    policy: RetryPolicy,
    retry_access_denied: bool = True,
    on_retryable: Callable[[BaseException], None] | None = None,
) -> T:
    """Run ``operation``, retrying throttling and server faults while the deadline (and the policy) allows.

    An AccessDenied is retried too, but only during the invocation's first
    ``deadline.access_denied_grace_s`` seconds: CloudFormation applies a changed role policy just
    before the resources that need it, and IAM is eventually consistent. Past that time it is raised
    like any other error, for the caller to explain.

    Parameters
    ----------
    retry_access_denied:
        False for a call whose AccessDenied is an answer in itself (no retry, raised at once).
    on_retryable:
        Called with each error worth another attempt, before it is known whether one is left (a rate
        limiter slows down on throttling there); default: nothing.

    Raises
    ------
    ContactError
        When the deadline leaves no room for another attempt; the reason names the last error.
    botocore.exceptions.ClientError
        At once, for errors that another attempt cannot fix (and AccessDenied past the grace time); and the
        last error once ``policy.max_attempts`` attempts failed.
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
            if on_retryable is not None:
                on_retryable(error)
            if policy.max_attempts is not None and attempt + 1 >= policy.max_attempts:
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
