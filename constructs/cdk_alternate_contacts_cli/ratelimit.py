"""A client-side rate limit that every reading thread shares, so a long run stays within the API's quota.

The Account API allows GetAlternateContact 10 times a second per account, with bursts of 15; past that it
answers TooManyRequestsException. Terraform plans of a few dozen accounts are known to hit it
(hashicorp/terraform-provider-aws #42484). Pacing the calls avoids most throttling; the retries with backoff
in :mod:`.aws` handle the rest, for instance when another tool spends the same quota at the same time.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Final

#: GetAlternateContact's documented quota: requests per second, and burst.
GET_CONTACT_RATE: Final = 10.0
GET_CONTACT_BURST: Final = 15


class RateLimiter:
    """A token bucket: ``rate`` calls a second on average, up to ``burst`` at once after a quiet spell.

    Each :meth:`acquire` takes a token, going into debt when none is left, and sleeps until its token would
    have been there. Threads are served in the order they ask, with no busy waiting.

    Parameters
    ----------
    rate:
        Tokens added per second; must be positive.
    burst:
        The bucket's size: calls allowed back to back after a pause. Default: one and a half seconds' worth.
    clock, sleep:
        Injected for tests.
    """

    def __init__(
        self,
        rate: float,
        burst: int | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if rate <= 0:
            raise ValueError(f"rate must be positive (got {rate})")
        self.rate = rate
        self.burst = float(burst if burst is not None else max(1, round(rate * 1.5)))
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._tokens = self.burst
        self._updated = clock()

    def acquire(self) -> float:
        """Wait for the next call's turn; returns the seconds waited."""
        with self._lock:
            now = self._clock()
            self._tokens = min(self.burst, self._tokens + (now - self._updated) * self.rate)
            self._updated = now
            self._tokens -= 1.0
            wait = -self._tokens / self.rate if self._tokens < 0 else 0.0
        if wait > 0:
            self._sleep(wait)
        return wait

    def slow_down(self) -> None:
        """The API throttled a call: spend the burst, so every thread goes back to the steady rate."""
        with self._lock:
            self._tokens = min(self._tokens, 0.0)
