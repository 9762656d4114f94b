"""Lambda's asynchronous queue as the local service keeps it: the function's EventInvokeConfig decides how
old an event may get and how often a failed one is retried (Lambda documentation, "Configuring error handling
for asynchronous invocation"). No execution environment is started: a stand-in holds the one slot."""

from __future__ import annotations

import time
from pathlib import Path

from localdeploy.functions import Attempt, FunctionConfig, Invocation
from localdeploy.lambda_service import AsyncInvokeConfig, FunctionPool
from tests.engine.tiny_apps import offline_host

CONFIG = FunctionConfig(
    function_name="f",
    arn="arn:aws:lambda:us-east-1:123456789012:function:f",
    code_dir="/nonexistent",
    asset_hash="x",
    handler="index.handler",
    runtime="python3.14",
    timeout_s=3,
    memory_mb=128,
    environment=(),
    log_group="/aws/lambda/f",
)
HOST = offline_host(Path("/nonexistent"))


class Slot:
    """Stands for a running execution environment: the pool starts no other at concurrency 1."""

    alive = True


def pool_with_one_busy_slot(config: AsyncInvokeConfig) -> tuple[FunctionPool, Slot]:
    pool = FunctionPool(CONFIG, HOST, max_concurrency=1, retry_delays=(0.01, 0.01))
    pool.async_config = config
    slot = Slot()
    pool._sandboxes.append(slot)  # type: ignore[arg-type]  # the limit is reached: submit starts nothing
    pool._assigned.add(slot)  # type: ignore[arg-type]
    return pool, slot


def invocation(age_s: float) -> Invocation:
    return Invocation(request_id=f"r-{age_s}", function_arn=CONFIG.arn, payload=b"{}", queued_at=time.time() - age_s)


def test_an_event_past_its_maximum_age_is_dropped_unrun() -> None:
    # GIVEN a function whose events may wait 60 s, and two queued events: one 61 s old, one fresh
    pool, slot = pool_with_one_busy_slot(AsyncInvokeConfig(maximum_event_age_s=60, maximum_retry_attempts=0))
    old, fresh = invocation(61.0), invocation(1.0)
    pool.submit(old)
    pool.submit(fresh)
    # WHEN the environment asks for its next event
    given = pool.take(slot)  # type: ignore[arg-type]
    # THEN the fresh one runs; the old one was discarded without an attempt
    assert given is fresh
    assert pool.expired == [old] and old.settled and old.attempts == []


def attempt(number: int) -> Attempt:
    now = time.time()
    return Attempt(number=number, log_stream="s", started_at=now, ended_at=now, outcome="error", error_type="E")


def test_maximum_retry_attempts_bounds_the_retries_of_a_failed_event() -> None:
    # GIVEN a function configured for no retries, and a failed first attempt
    pool, _ = pool_with_one_busy_slot(AsyncInvokeConfig(maximum_retry_attempts=0))
    failed = invocation(0.0)
    failed.attempts.append(attempt(1))
    # WHEN the pool decides what comes next
    pool._after_attempt(failed, failed.attempts[-1])
    # THEN the event is settled: Lambda does not run it again
    assert failed.settled
    # AND with the default (2 retries) the same failure is queued again
    retried, _ = pool_with_one_busy_slot(AsyncInvokeConfig())
    again = invocation(0.0)
    again.attempts.append(attempt(1))
    retried._after_attempt(again, again.attempts[-1])
    assert not again.settled
    time.sleep(0.1)
    assert again in retried._queue
