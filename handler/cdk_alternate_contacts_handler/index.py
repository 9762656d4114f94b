"""Lambda entry point: crhelper wiring, kept thin. The decisions live in :mod:`.lifecycle`.

crhelper is configured against its traps: INFO logging (its DEBUG level prints the whole event, contact
details and the pre-signed ResponseURL included), no two-minute sleep before answering a Delete, and a
region taken from the Lambda environment.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Mapping
from typing import Any

import boto3
from botocore.config import Config
from crhelper import CfnResource

from . import lifecycle
from .account_api import Deadline

logger = logging.getLogger(__name__)

helper = CfnResource(json_logging=False, log_level="INFO", boto_level="ERROR", sleep_on_delete=0)

#: Seconds a single API call may take; the deadline keeps retries inside the invocation either way.
CALL_TIMEOUT_S = 10

#: Where to find the account of the function in its ARN.
_ARN_ACCOUNT_FIELD = 4


def make_clients(context: Any) -> lifecycle.Clients:
    """Build the clients for one invocation, with retries left to :func:`.account_api.call_with_retry`."""
    config = Config(
        retries={"total_max_attempts": 1},
        connect_timeout=CALL_TIMEOUT_S,
        read_timeout=CALL_TIMEOUT_S,
        user_agent_extra="cdk-alternate-contacts",
    )
    region = os.environ.get("AWS_REGION")
    return lifecycle.Clients(
        # The Account Management API has one global endpoint, in us-east-1 for the aws partition.
        account=boto3.client("account", config=config, region_name=region),
        cloudformation=boto3.client("cloudformation", config=config, region_name=region),
        own_account_id=context.invoked_function_arn.split(":")[_ARN_ACCOUNT_FIELD],
    )


def _run(step: Callable[[Mapping[str, Any], lifecycle.Clients, Deadline], Any]) -> Callable[[Any, Any], Any]:
    def run(event: Any, context: Any) -> Any:
        return step(event, make_clients(context), Deadline(context.get_remaining_time_in_millis))

    return run


helper.create(_run(lifecycle.create))
helper.update(_run(lifecycle.update))
helper.delete(_run(lifecycle.delete))

_ENVELOPE_KEYS = ("RequestType", "ResponseURL", "StackId", "RequestId", "LogicalResourceId")


def handler(event: Any, context: Any) -> None:
    """Answer one CloudFormation custom resource request, exactly once.

    An event that lacks the envelope CloudFormation always sends cannot be answered (there is no
    ResponseURL, or crhelper would fail before answering); it is logged, without its content, and dropped.
    """
    if not isinstance(event, dict) or not all(isinstance(event.get(k), str) for k in _ENVELOPE_KEYS):
        keys = sorted(event)[:20] if isinstance(event, dict) else type(event).__name__
        logger.error("Not a CloudFormation custom resource request; keys: %s", keys)
        return
    logger.info(
        "%s %s (physical id %s)", event["RequestType"], event["LogicalResourceId"], event.get("PhysicalResourceId")
    )
    helper(event, context)
