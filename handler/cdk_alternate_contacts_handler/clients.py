"""boto3 clients for the functions, kept between invocations of one execution environment.

Creating a client costs more than most requests; botocore's own retries are off, since
:func:`.account_api.call_with_retry` retries within the invocation's deadline.
"""

from __future__ import annotations

import math
import os
from typing import Any

import boto3
from botocore.config import Config

#: Keyed by everything that shapes a client (see :func:`client`).
_CLIENTS: dict[tuple[Any, ...], Any] = {}


def client(service: str, call_timeout: float) -> Any:
    """A boto3 client of ``service`` whose calls give up after ``call_timeout`` (rounded up to whole seconds)."""
    timeout = float(math.ceil(call_timeout))
    environment = tuple(sorted((k, v) for k, v in os.environ.items() if k.startswith("AWS_")))
    key = (service, timeout, environment)
    if key not in _CLIENTS:
        config = Config(
            retries={"total_max_attempts": 1},
            connect_timeout=timeout,
            read_timeout=timeout,
            user_agent_extra="cdk-alternate-contacts",
        )
        _CLIENTS[key] = boto3.client(service, config=config, region_name=os.environ.get("AWS_REGION"))
    return _CLIENTS[key]
