"""Lambda entry point: crhelper wiring, kept thin. The decisions live in :mod:`.lifecycle`.

crhelper is configured against its traps: INFO logging (its DEBUG level prints the whole event, contact
details and the pre-signed ResponseURL included), no two-minute sleep before answering a Delete, and a
region taken from the Lambda environment. Two guards make sure CloudFormation gets exactly one answer:
the work runs under a hard stop that ends it well before crhelper's own last-moment timer (which would
answer FAILED and then let the late result answer a second time), and requests crhelper cannot route
are answered here.
"""

from __future__ import annotations

import logging
import os
import threading
import traceback
from collections.abc import Callable, Mapping
from typing import Any

import boto3
from botocore.config import Config
from crhelper import CfnResource
from crhelper.utils import _send_response  # type: ignore[attr-defined]  # crhelper's own sender, not in its stubs

from . import lifecycle
from .account_api import ContactError, Deadline, fit_reason

logger = logging.getLogger(__name__)

helper = CfnResource(json_logging=False, log_level="INFO", boto_level="ERROR", sleep_on_delete=0)

#: The longest a single API call may wait for a connection or a read.
CALL_TIMEOUT_S = 10.0

#: Seconds before the invocation's end at which unfinished work is abandoned and FAILED is answered.
#: crhelper's timer answers at 0.5 s; this leaves time to send one answer first.
HARD_STOP_S = 2.5

#: Where to find the account of the function in its ARN.
_ARN_ACCOUNT_FIELD = 4

REQUEST_TYPES = ("Create", "Update", "Delete")
_ENVELOPE_KEYS = ("RequestType", "ResponseURL", "StackId", "RequestId", "LogicalResourceId")

Step = Callable[[Mapping[str, Any], lifecycle.Clients, Deadline], Any]


def make_clients(context: Any, deadline: Deadline) -> lifecycle.Clients:
    """Build the clients for one invocation, with retries left to :func:`.account_api.call_with_retry`.

    A call may not wait longer than the invocation can afford, so the socket timeouts shrink near the end.
    """
    call_timeout = max(1.0, min(CALL_TIMEOUT_S, deadline.seconds_left() / 2))
    config = Config(
        retries={"total_max_attempts": 1},
        connect_timeout=call_timeout,
        read_timeout=call_timeout,
        user_agent_extra="cdk-alternate-contacts",
    )
    region = os.environ.get("AWS_REGION")
    return lifecycle.Clients(
        # The Account Management and Organizations APIs have one global endpoint each (us-east-1 for aws).
        account=boto3.client("account", config=config, region_name=region),
        cloudformation=boto3.client("cloudformation", config=config, region_name=region),
        own_account_id=context.invoked_function_arn.split(":")[_ARN_ACCOUNT_FIELD],
        ssm=boto3.client("ssm", config=config, region_name=region),
        organizations=boto3.client("organizations", config=config, region_name=region),
    )


def run_with_hard_stop(work: Callable[[], Any], seconds: float) -> Any:
    """Run ``work`` and return its result, or raise :class:`ContactError` if it is not done in ``seconds``.

    The work runs in a daemon thread; when it overruns, its late result is ignored, so the answer sent
    for the timeout is the only one.
    """
    if seconds <= 0:
        raise ContactError("the invocation started too close to the function's timeout; deploy again")
    outcome: dict[str, Any] = {}

    def target() -> None:
        try:
            outcome["result"] = work()
        except BaseException as error:
            outcome["error"] = error

    worker = threading.Thread(target=target, name="alternate-contact-work", daemon=True)
    worker.start()
    worker.join(max(0.0, seconds))
    if worker.is_alive():
        raise ContactError("the Account API did not finish before the function's timeout; deploy again")
    if "error" in outcome:
        raise outcome["error"]
    return outcome.get("result")


def _safe(step: Step) -> Callable[[Any, Any], Any]:
    """Adapt a lifecycle step to crhelper: clients, deadline, hard stop, and errors without personal data."""

    def run(event: Any, context: Any) -> Any:
        deadline = Deadline(context.get_remaining_time_in_millis)
        try:
            clients = make_clients(context, deadline)
            result = run_with_hard_stop(
                lambda: step(event, clients, deadline),
                context.get_remaining_time_in_millis() / 1000.0 - HARD_STOP_S,
            )
            if clients.notes:
                # crhelper sends its Reason with SUCCESS too: CloudFormation shows it as the status reason.
                helper.Reason = fit_reason("; ".join(clients.notes))
            return result
        except ContactError:
            raise
        except Exception as error:
            # An unexpected error's message could quote a value; log where it happened, answer its type.
            logger.error(
                "Unexpected %s at:\n%s", type(error).__name__, "".join(traceback.format_tb(error.__traceback__))
            )
            raise ContactError(f"internal error ({type(error).__name__}); see the function's log") from None

    return run


helper.create(_safe(lifecycle.create))
helper.update(_safe(lifecycle.update))
helper.delete(_safe(lifecycle.delete))


def _reject(event: Mapping[str, Any], reason: str) -> None:
    """Answer FAILED for a request crhelper cannot route (an unknown RequestType)."""
    physical = event.get("PhysicalResourceId")
    body = {
        "Status": "FAILED",
        "Reason": reason,
        "PhysicalResourceId": physical if isinstance(physical, str) and physical else "unsupported-request",
        "StackId": event["StackId"],
        "RequestId": event["RequestId"],
        "LogicalResourceId": event["LogicalResourceId"],
        "NoEcho": False,
        "Data": {},
    }
    _send_response(event["ResponseURL"], body)


def handler(event: Any, context: Any) -> None:
    """Answer one CloudFormation custom resource request, exactly once.

    An event without the envelope CloudFormation always sends cannot be answered (no ResponseURL, or
    crhelper would fail before answering): it is logged, without its content, and dropped.
    """
    if not isinstance(event, dict) or not all(isinstance(event.get(k), str) for k in _ENVELOPE_KEYS):
        keys = sorted(str(key)[:40] for key in event)[:20] if isinstance(event, dict) else type(event).__name__
        logger.error("Not a CloudFormation custom resource request; keys: %s", keys)
        return
    request_type = event["RequestType"]
    if request_type not in REQUEST_TYPES:
        logger.error("Unsupported RequestType for %s", event["LogicalResourceId"][:100])
        _reject(event, f"Unsupported RequestType {request_type[:40]!r}: expected Create, Update or Delete")
        return
    logger.info(
        "%s %s (physical id %s)",
        request_type,
        event["LogicalResourceId"][:100],
        str(event.get("PhysicalResourceId"))[:100],
    )
    helper(event, context)
