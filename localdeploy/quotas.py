"""The Account API's documented request quotas, enforced in front of ``moto_server`` (which has none).

An HTTP reverse proxy on 127.0.0.1 keeps one token bucket per operation, as the API's quotas are per
account and operation: PutAlternateContact 5 a second with bursts of 8, DeleteAlternateContact 1 a second
with bursts of 6, GetAlternateContact 10 a second with bursts of 15 (the current Account Management API
documentation). A call that finds its bucket empty is answered as the real API answers it: HTTP 429 with
``x-amzn-ErrorType: TooManyRequestsException`` and a JSON body, which boto3 turns into the real
``TooManyRequestsException``. Every other call goes on to moto unchanged.

Point a function at it with ``AWS_ENDPOINT_URL_ACCOUNT`` (``LocalCloud(account_quotas=...)`` does).
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from .net import LocalServer, QuietHandler, forward

#: restJson paths of the contact operations (botocore's ``account`` model).
OPERATION_PATHS = {
    "/putAlternateContact": "PutAlternateContact",
    "/getAlternateContact": "GetAlternateContact",
    "/deleteAlternateContact": "DeleteAlternateContact",
}


@dataclass(frozen=True)
class Quota:
    """A request quota: a steady rate and the burst a full bucket allows."""

    rate_per_s: float
    burst: int


#: The documented quotas of the contact operations, per account.
DOCUMENTED_QUOTAS: Mapping[str, Quota] = {
    "PutAlternateContact": Quota(rate_per_s=5.0, burst=8),
    "DeleteAlternateContact": Quota(rate_per_s=1.0, burst=6),
    "GetAlternateContact": Quota(rate_per_s=10.0, burst=15),
}


class TokenBucket:
    """A thread-safe token bucket: ``burst`` tokens at most, refilled at ``rate_per_s``; one per call.

    Parameters
    ----------
    quota:
        Rate and burst.
    clock:
        Seconds, monotonic (injected for tests).
    """

    def __init__(self, quota: Quota, clock: Callable[[], float] = time.monotonic) -> None:
        self.quota = quota
        self._clock = clock
        self._lock = threading.Lock()
        self._tokens = float(quota.burst)
        self._at = clock()

    def take(self) -> bool:
        """Spend a token if there is one; False means the call is throttled."""
        with self._lock:
            now = self._clock()
            self._tokens = min(float(self.quota.burst), self._tokens + (now - self._at) * self.quota.rate_per_s)
            self._at = now
            if self._tokens >= 1.0:
                self._tokens -= 1.0
                return True
            return False

    def refill(self) -> None:
        """Fill the bucket (a quiet period long enough to reach the burst)."""
        with self._lock:
            self._tokens = float(self.quota.burst)
            self._at = self._clock()


@dataclass
class OperationCounts:
    """What the front did with one operation's calls.

    Attributes
    ----------
    accepted_at:
        The monotonic time of each call passed on to moto, in order (to check the rate afterwards).
    throttled:
        How many calls were answered 429.
    """

    accepted_at: list[float] = field(default_factory=list)
    throttled: int = 0

    @property
    def accepted(self) -> int:
        """How many calls were passed on."""
        return len(self.accepted_at)


class AccountApiQuotas(LocalServer):
    """An HTTP front for ``moto_server`` that enforces Account API quotas.

    Parameters
    ----------
    upstream:
        moto_server's base URL.
    quotas:
        Per operation name; operations without one pass unthrottled. Default: :data:`DOCUMENTED_QUOTAS`.
    clock:
        Seconds, monotonic.
    """

    def __init__(
        self,
        upstream: str,
        quotas: Mapping[str, Quota] = DOCUMENTED_QUOTAS,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.upstream = urlsplit(upstream)
        self.quotas = dict(quotas)
        self._clock = clock
        self._lock = threading.Lock()
        self._buckets = {name: TokenBucket(quota, clock) for name, quota in self.quotas.items()}
        self._counts: dict[str, OperationCounts] = {name: OperationCounts() for name in OPERATION_PATHS.values()}
        super().__init__(_FrontHandler, name="account-api-quotas")

    def reset(self) -> None:
        """Full buckets and zero counts: the account has been quiet for a while."""
        with self._lock:
            for bucket in self._buckets.values():
                bucket.refill()
            self._counts = {name: OperationCounts() for name in OPERATION_PATHS.values()}

    def counts(self) -> dict[str, OperationCounts]:
        """A copy of the counts per operation since the last :meth:`reset`."""
        with self._lock:
            return {
                name: OperationCounts(list(counts.accepted_at), counts.throttled)
                for name, counts in self._counts.items()
            }

    def admit(self, path: str) -> bool:
        """Whether a call to ``path`` may go on now (counted either way)."""
        operation = OPERATION_PATHS.get(urlsplit(path).path)
        if operation is None:
            return True
        bucket = self._buckets.get(operation)
        allowed = bucket.take() if bucket is not None else True
        with self._lock:
            counts = self._counts[operation]
            if allowed:
                counts.accepted_at.append(self._clock())
            else:
                counts.throttled += 1
        return allowed


class _FrontHandler(QuietHandler):
    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        front: AccountApiQuotas = self.context
        body = self.read_body()
        if not front.admit(self.path):
            # The real API's throttling answer; botocore reads the error code from the header.
            payload = json.dumps({"message": "Rate exceeded"}).encode()
            headers = {"x-amzn-ErrorType": "TooManyRequestsException", "x-amzn-RequestId": str(uuid.uuid4())}
            self.send_body(429, payload, "application/json", headers)
            return
        self.send_forwarded(*forward(front.upstream, self.command, self.path, dict(self.headers.items()), body))

    do_GET = do_POST  # noqa: N815 - http.server's naming
    do_PUT = do_POST  # noqa: N815 - http.server's naming
