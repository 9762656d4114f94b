"""A local Lambda service: functions, their pools of execution environments, asynchronous invocations.

CloudFormation invokes a custom resource's function asynchronously (invocation type ``Event``); Lambda
queues the event, runs it in a free execution environment or starts a new one up to the concurrency
limit (a cold start), and retries twice after a function error. That is the behaviour reproduced here,
with the retry delays shortened (Lambda waits about one and then two minutes) and configurable.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections import OrderedDict, deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from .functions import Attempt, FunctionConfig, HostSettings, Invocation
from .sandbox import Sandbox

#: Execution environments per function unless told otherwise: enough for CloudFormation's parallel
#: requests of a small stack on a two-core machine.
DEFAULT_CONCURRENCY = 4

#: Delays before the two retries of a failed asynchronous invocation (Lambda: about 60 s and 120 s).
DEFAULT_RETRY_DELAYS_S: tuple[float, ...] = (1.0, 2.0)


@dataclass(frozen=True)
class AsyncInvokeConfig:
    """A function's asynchronous invocation settings (``AWS::Lambda::EventInvokeConfig``).

    Lambda keeps an event in its queue at most ``maximum_event_age_s`` (60 to 21,600; default six hours)
    and discards it unrun past that, and retries a failed one ``maximum_retry_attempts`` times (0 to 2;
    default 2). Lambda documentation, "Configuring error handling for asynchronous invocation".
    """

    maximum_event_age_s: int = 21600
    maximum_retry_attempts: int = 2


#: Lambda's default concurrency quota per account and region.
DEFAULT_ACCOUNT_CONCURRENCY = 1000

#: The concurrency Lambda keeps unreserved (or the whole quota, when that is smaller).
MINIMUM_UNRESERVED = 100


class FunctionNotFoundError(LookupError):
    """No function with that ARN is deployed (Lambda's ResourceNotFoundException)."""


class FunctionPool:
    """The execution environments of one function configuration, and its queue of invocations.

    Parameters
    ----------
    config, host:
        What runs and where.
    max_concurrency:
        The most environments at once (reserved concurrency); further invocations wait in the queue.
    retry_delays:
        One delay per retry after a function error, timeout or crash.
    """

    def __init__(
        self,
        config: FunctionConfig,
        host: HostSettings,
        *,
        max_concurrency: int,
        retry_delays: Sequence[float],
    ) -> None:
        self.config = config
        self.host = host
        self.max_concurrency = max(1, max_concurrency)
        self.retry_delays = tuple(retry_delays)
        self.async_config = AsyncInvokeConfig()
        #: Events discarded unrun because they waited in the queue past their maximum age.
        self.expired: list[Invocation] = []
        self.cold_starts = 0
        self.init_errors: list[str] = []
        self._cond = threading.Condition()
        self._queue: deque[Invocation] = deque()
        self._sandboxes: list[Sandbox] = []
        self._assigned: set[Sandbox] = set()
        self._retries: set[threading.Timer] = set()
        self._closed = False

    # -- what the service calls ---------------------------------------------------------------------

    def submit(self, invocation: Invocation) -> None:
        """Queue an invocation; start an environment when none is free and the limit allows."""
        with self._cond:
            if self._closed:
                invocation.settle()
                return
            self._queue.append(invocation)
            self._scale()
            self._cond.notify_all()

    def close(self) -> None:
        """Stop every environment; queued invocations settle unrun (the function is gone)."""
        with self._cond:
            self._closed = True
            for timer in self._retries:
                timer.cancel()
            abandoned = list(self._queue)
            self._queue.clear()
            sandboxes = list(self._sandboxes)
            self._cond.notify_all()
        for invocation in abandoned:
            invocation.settle()
        _in_parallel([sandbox.stop for sandbox in sandboxes])

    def in_flight(self) -> int:
        """Invocations running or waiting for an environment now (what counts against reserved concurrency)."""
        with self._cond:
            return len(self._assigned) + len(self._queue)

    @property
    def sandboxes(self) -> list[Sandbox]:
        """The environments alive now."""
        with self._cond:
            return list(self._sandboxes)

    def resize(self, max_concurrency: int) -> None:
        """Change the concurrency limit (Lambda's reserved concurrency); idle environments past it stop.

        Invocations beyond the limit wait in the queue, as Lambda queues asynchronous invocations that
        find the function at its limit.
        """
        with self._cond:
            self.max_concurrency = max(1, max_concurrency)
            idle = [sandbox for sandbox in self._sandboxes if sandbox not in self._assigned]
            surplus = idle[: max(len(self._sandboxes) - self.max_concurrency, 0)]
            self._scale()
        _in_parallel([sandbox.stop for sandbox in surplus])

    def prewarm(self, count: int, timeout_s: float = 600.0) -> float:
        """Start environments until ``count`` (at most the limit) are alive and polling for work.

        Lambda's provisioned concurrency: the cold starts are paid before the invocations come, so that a
        measurement of the invocations leaves them out. Returns the seconds it took.

        Raises
        ------
        TimeoutError
            When the environments are not all ready within ``timeout_s``.
        """
        started = time.monotonic()
        with self._cond:
            alive = sum(1 for sandbox in self._sandboxes if sandbox.alive)
            for _ in range(max(min(count, self.max_concurrency) - alive, 0)):
                sandbox = Sandbox(self, self.config, self.host)
                self._sandboxes.append(sandbox)
                self.cold_starts += 1
                sandbox.start()
        while not all(sandbox.ready for sandbox in self.sandboxes):
            if time.monotonic() - started > timeout_s:
                raise TimeoutError(f"{count} execution environments were not ready within {timeout_s:.0f} s")
            time.sleep(0.1)
        return time.monotonic() - started

    # -- SandboxOwner ------------------------------------------------------------------------------------

    def take(self, sandbox: Sandbox) -> Invocation | None:
        """Hand the next queued invocation to ``sandbox``, waiting for one."""
        with self._cond:
            while True:
                self._cond.wait_for(lambda: self._closed or not sandbox.alive or bool(self._queue))
                if self._closed or not sandbox.alive:
                    return None
                invocation = self._queue.popleft()
                if (
                    invocation.synchronous
                    or time.time() - invocation.queued_at <= self.async_config.maximum_event_age_s
                ):
                    break
                # Lambda discards an event that outlived its maximum age without running it.
                self.expired.append(invocation)
                invocation.settle()
            self._assigned.add(sandbox)
            return invocation

    def give_back(self, invocation: Invocation) -> None:
        """Put an undelivered invocation back at the head of the queue."""
        with self._cond:
            self._queue.appendleft(invocation)
            self._scale()
            self._cond.notify_all()

    def finished(self, sandbox: Sandbox, invocation: Invocation, attempt: Attempt) -> None:
        """Settle a successful invocation; retry a failed one while retries remain."""
        with self._cond:
            self._assigned.discard(sandbox)
        self._after_attempt(invocation, attempt)

    def init_failed(self, sandbox: Sandbox, error_type: str, message: str) -> None:
        """A failed init fails the invocation that was waiting for this environment, as in Lambda."""
        with self._cond:
            self.init_errors.append(f"{error_type}: {message}")
            invocation = self._queue.popleft() if self._queue else None
        if invocation is not None:
            now = time.time()
            attempt = Attempt(
                number=len(invocation.attempts) + 1,
                log_stream=sandbox.log_stream,
                started_at=now,
                ended_at=now,
                outcome="init_error",
                error_type=error_type,
                error_message=message,
            )
            invocation.attempts.append(attempt)
            self._after_attempt(invocation, attempt)

    def gone(self, sandbox: Sandbox) -> None:
        """Forget a process that exited; start a replacement if work is waiting."""
        with self._cond:
            if sandbox in self._sandboxes:
                self._sandboxes.remove(sandbox)
            self._assigned.discard(sandbox)
            if not self._closed:
                self._scale()
            self._cond.notify_all()

    # -- internals -----------------------------------------------------------------------------------

    def _after_attempt(self, invocation: Invocation, attempt: Attempt) -> None:
        retries_used = len(invocation.attempts) - 1
        retries = min(len(self.retry_delays), self.async_config.maximum_retry_attempts)
        if attempt.outcome == "success" or retries_used >= retries or invocation.synchronous:
            invocation.settle()
            return
        with self._cond:
            if self._closed:
                invocation.settle()
                return
            timer = threading.Timer(self.retry_delays[retries_used], self._retry, args=(invocation,))
            timer.daemon = True
            self._retries.add(timer)
            timer.start()

    def _retry(self, invocation: Invocation) -> None:
        with self._cond:
            self._retries = {timer for timer in self._retries if timer.is_alive()}
        self.submit(invocation)

    def _scale(self) -> None:
        # Called with the lock held. Free environments are the ones alive and not running anything
        # (waiting in ``take`` or still starting).
        free = sum(1 for sandbox in self._sandboxes if sandbox.alive and sandbox not in self._assigned)
        wanted = min(len(self._queue) - free, self.max_concurrency - len(self._sandboxes))
        for _ in range(max(wanted, 0)):
            sandbox = Sandbox(self, self.config, self.host)
            self._sandboxes.append(sandbox)
            self.cold_starts += 1
            sandbox.start()


class FunctionService:
    """The functions deployed on this machine, by ARN.

    Parameters
    ----------
    host:
        Where functions run and which emulators they call.
    max_concurrency:
        Execution environments per function (this machine's cap); a function's reserved concurrency
        lowers it for that function.
    retry_delays:
        Delays before the retries of a failed asynchronous invocation.
    account_concurrency:
        The account's concurrency quota (Lambda's default is 1,000): reservations may take all of it but
        ``min(100, quota)``, which stays unreserved, as Lambda refuses a larger reservation.
    keep_parked:
        Pools kept warm after their function is deleted or reconfigured. Re-creating a function with an
        identical configuration (the next test, a rollback) then reuses its warm environments instead of
        paying for cold starts; a deliberate shortcut, since Lambda would start new ones.
    """

    def __init__(
        self,
        host: HostSettings,
        *,
        max_concurrency: int = DEFAULT_CONCURRENCY,
        retry_delays: Sequence[float] = DEFAULT_RETRY_DELAYS_S,
        account_concurrency: int = DEFAULT_ACCOUNT_CONCURRENCY,
        keep_parked: int = 4,
    ) -> None:
        self.host = host
        self.max_concurrency = max_concurrency
        self.account_concurrency = account_concurrency
        self.retry_delays = tuple(retry_delays)
        self.keep_parked = keep_parked
        self._lock = threading.Lock()
        self._by_arn: dict[str, FunctionPool] = {}
        self._parked: OrderedDict[FunctionConfig, FunctionPool] = OrderedDict()
        self._async: dict[str, AsyncInvokeConfig] = {}

    def deploy(self, config: FunctionConfig) -> None:
        """Create or reconfigure the function ``config.arn``; new invocations use the new configuration.

        Raises
        ------
        ValueError
            With Lambda's message, when the function's reserved concurrency would leave less than the
            account's minimum unreserved.
        """
        with self._lock:
            current = self._by_arn.get(config.arn)
            if current is not None and current.config == config:
                return
            self._check_reservation(config)
            if current is not None:
                self._park(current)
            limit = self.max_concurrency
            if config.reserved_concurrency is not None:
                limit = min(limit, config.reserved_concurrency)
            pool = self._parked.pop(config, None) or FunctionPool(
                config, self.host, max_concurrency=limit, retry_delays=self.retry_delays
            )
            pool.async_config = self._async.get(config.arn, AsyncInvokeConfig())
            self._by_arn[config.arn] = pool

    def _check_reservation(self, config: FunctionConfig) -> None:
        """Refuse a reservation as Lambda does: the account keeps ``min(100, quota)`` unreserved.

        "You can reserve up to the Unreserved account concurrency value minus 100" (Lambda developer
        guide, configuration-concurrency; quoted in aws-samples/one-observability-demo #278); accounts with
        a quota of 10 or 50 get "below its minimum value of [10]" / "[50]" (aws-samples/alarm-context-tool
        #2, aws-samples/siem-on-amazon-opensearch-service #175): they can reserve nothing.
        """
        reserved = config.reserved_concurrency
        if reserved is None:
            return
        others = sum(pool.config.reserved_concurrency or 0 for arn, pool in self._by_arn.items() if arn != config.arn)
        minimum = min(MINIMUM_UNRESERVED, self.account_concurrency)
        if reserved < 0 or self.account_concurrency - others - reserved < minimum:
            raise ValueError(
                'Resource handler returned message: "Specified ReservedConcurrentExecutions for function decreases '
                f"account's UnreservedConcurrentExecution below its minimum value of [{minimum}]. (Service: Lambda, "
                'Status Code: 400)" (HandlerErrorCode: InvalidRequest)'
            )

    def configure_async(self, arn: str, config: AsyncInvokeConfig) -> None:
        """Set the asynchronous invocation settings of ``arn`` (kept across its redeployments)."""
        with self._lock:
            self._async[arn] = config
            pool = self._by_arn.get(arn)
            if pool is not None:
                pool.async_config = config

    def remove(self, arn: str) -> None:
        """Delete the function ``arn`` (nothing happens if it does not exist)."""
        with self._lock:
            pool = self._by_arn.pop(arn, None)
            if pool is not None:
                self._park(pool)

    def pool(self, arn: str) -> FunctionPool:
        """The pool of execution environments of the deployed function ``arn``.

        Raises
        ------
        FunctionNotFoundError
            When no function with that ARN is deployed.
        """
        with self._lock:
            pool = self._by_arn.get(arn)
        if pool is None:
            raise FunctionNotFoundError(f"Function not found: {arn}")
        return pool

    def config(self, arn: str) -> FunctionConfig | None:
        """The configuration of ``arn``, or ``None`` when no such function is deployed."""
        with self._lock:
            pool = self._by_arn.get(arn)
            return pool.config if pool is not None else None

    def invoke_event(self, arn: str, payload: bytes) -> Invocation:
        """Invoke ``arn`` asynchronously (``InvocationType=Event``), as CloudFormation does.

        Raises
        ------
        FunctionNotFoundError
            When no function with that ARN is deployed.
        """
        return self._submit(arn, payload, synchronous=False)

    def invoke(self, arn: str, payload: bytes) -> Invocation:
        """Invoke ``arn`` synchronously (``InvocationType=RequestResponse``), as an event source mapping does:
        one attempt, no retry by Lambda; wait on the returned invocation, then read its last attempt.

        Raises
        ------
        FunctionNotFoundError
            When no function with that ARN is deployed.
        """
        return self._submit(arn, payload, synchronous=True)

    def _submit(self, arn: str, payload: bytes, *, synchronous: bool) -> Invocation:
        invocation = Invocation(
            request_id=str(uuid.uuid4()), function_arn=arn, payload=payload, synchronous=synchronous
        )
        self.pool(arn).submit(invocation)
        return invocation

    def pools(self) -> list[FunctionPool]:
        """Every pool, deployed or parked."""
        with self._lock:
            return list(self._by_arn.values()) + list(self._parked.values())

    def log_files(self) -> list[Path]:
        """Every log stream written so far, all functions."""
        return sorted(self.host.log_root.glob("*/*.log"))

    def stop(self) -> None:
        """Stop every environment of every function."""
        with self._lock:
            pools = list(self._by_arn.values()) + list(self._parked.values())
            self._by_arn.clear()
            self._parked.clear()
        _in_parallel([pool.close for pool in pools])

    def _park(self, pool: FunctionPool) -> None:
        # Called with the lock held.
        if pool.config in self._parked:
            pool.close()
            return
        self._parked[pool.config] = pool
        while len(self._parked) > self.keep_parked:
            _, oldest = self._parked.popitem(last=False)
            oldest.close()


def _in_parallel(steps: list[Callable[[], None]]) -> None:
    """Run ``steps`` at once and wait for all: stopping environments one by one adds up."""
    threads = [threading.Thread(target=step, name="stop", daemon=True) for step in steps]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
