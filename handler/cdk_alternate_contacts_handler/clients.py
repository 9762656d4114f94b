"""boto3 clients for the functions, kept between invocations of one execution environment, and the bundle of
them one provider request uses.

Creating a client costs more than most requests; botocore's own retries are off, since
:func:`.retry.call_with_retry` retries within the invocation's deadline.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from typing import Any

import boto3
from botocore.config import Config

from .retry import RetryPolicy

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


@dataclass
class Clients:
    """The AWS clients a request may use, and the account the function runs in.

    Attributes
    ----------
    account:
        boto3 ``account`` client.
    cloudformation:
        boto3 ``cloudformation`` client, used only to list the resources of the event's own stack.
    own_account_id:
        The account of the function (from its ARN): the target when AccountId is left out.
    ssm:
        boto3 ``ssm`` client, used only when a resource asks for restore on delete.
    organizations:
        boto3 ``organizations`` client, used only when a resource asks to skip inactive accounts.
    policy:
        Retry timing; tests shorten it.
    notes:
        What the answer's reason should tell besides success (filled by the steps).
    """

    account: Any
    cloudformation: Any
    own_account_id: str
    ssm: Any = None
    organizations: Any = None
    policy: RetryPolicy = field(default_factory=RetryPolicy)
    notes: list[str] = field(default_factory=list)
