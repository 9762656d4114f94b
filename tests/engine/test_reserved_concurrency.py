"""Reserved concurrency as Lambda has it: a function's ReservedConcurrentExecutions caps how many of its
invocations run at once (the rest wait in the queue), and a reservation that would leave the account less
than ``min(100, quota)`` unreserved is refused with Lambda's message (Lambda developer guide,
configuration-concurrency; aws-samples/one-observability-demo #278). No environment is started."""

from __future__ import annotations

import dataclasses

import pytest

from localdeploy.functions import FunctionConfig
from localdeploy.lambda_service import FunctionService
from tests.engine.test_lambda_queue import CONFIG, HOST


def function(name: str, reserved: int | None) -> FunctionConfig:
    return dataclasses.replace(
        CONFIG, function_name=name, arn=CONFIG.arn.replace(":f", f":{name}"), reserved_concurrency=reserved
    )


def test_a_reservation_caps_the_functions_environments_below_the_machines() -> None:
    # GIVEN a service that runs up to 8 environments per function
    service = FunctionService(HOST, max_concurrency=8)
    # WHEN one function reserves 5 and another reserves nothing
    service.deploy(function("limited", 5))
    service.deploy(function("free", None))
    # THEN the first runs at most 5 at once, the second up to the machine's 8
    assert service.pool(function("limited", 5).arn).max_concurrency == 5
    assert service.pool(function("free", None).arn).max_concurrency == 8


@pytest.mark.parametrize(
    ("quota", "already", "asked", "minimum"),
    [(10, 0, 1, 10), (50, 0, 5, 50), (1000, 0, 901, 100), (1000, 800, 101, 100)],
)
def test_a_reservation_that_leaves_too_little_unreserved_is_refused_as_lambda_does(
    quota: int, already: int, asked: int, minimum: int
) -> None:
    # GIVEN an account of ``quota`` concurrency, ``already`` reserved by another function
    service = FunctionService(HOST, account_concurrency=quota)
    if already:
        service.deploy(function("other", already))
    # WHEN a function asks for ``asked`` more  THEN Lambda's InvalidRequest names the minimum left unreserved
    with pytest.raises(ValueError, match=rf"below its minimum value of \[{minimum}\]"):
        service.deploy(function("provider", asked))


def test_a_reservation_within_the_quota_is_accepted_and_a_redeploy_does_not_count_itself_twice() -> None:
    # GIVEN an account of 1,000 with 895 reserved by one function
    service = FunctionService(HOST, account_concurrency=1000)
    service.deploy(function("provider", 895))
    # WHEN the same function is reconfigured with 900 (exactly 100 left)
    service.deploy(dataclasses.replace(function("provider", 900), memory_mb=256))
    # THEN it is accepted (its own old reservation is not counted), and another function can reserve nothing
    assert service.pool(function("provider", 900).arn).config.reserved_concurrency == 900
    with pytest.raises(ValueError, match=r"below its minimum value of \[100\]"):
        service.deploy(function("other", 1))
