"""Lambda entry point: crhelper wiring, kept thin. The decisions live in :mod:`.lifecycle`.

crhelper is configured against its traps: INFO logging (its DEBUG level prints the whole event, contact
details and the pre-signed ResponseURL included), no two-minute sleep before answering a Delete, and a
region taken from the Lambda environment. CloudFormation gets exactly one answer:

- the work runs under a hard stop that ends it well before crhelper's own last-moment timer, and work
  abandoned there starts no further call;
- :class:`OneAnswerResource` lets only the first of crhelper's answers through (its timer and the
  late result can otherwise both answer) and delivers it with :func:`.answer.deliver`, which retries
  what crhelper's sender loses or loops on;
- crhelper's private polling keys are removed from incoming events (an event carrying ``CrHelperPoll``
  would be routed to a poll function that does not exist and answered SUCCESS without any work), and
  requests crhelper cannot route are answered here.
"""

from __future__ import annotations

import logging
import os
import secrets
import string
import threading
import traceback
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from crhelper import CfnResource

from . import coverage_trigger, freshness, lifecycle, spec
from .answer import deliver
from .clients import _CLIENTS, Clients, client  # noqa: F401 - _CLIENTS: tests clear it between cases
from .errors import MAX_REASON, ContactError, fit_reason
from .retry import IAM_PROPAGATION_S, Deadline

logger = logging.getLogger(__name__)


class OneAnswerResource(CfnResource):
    """crhelper's resource, made to answer each invocation exactly once and to deliver that answer reliably."""

    # crhelper's own per-invocation state, which its type stubs leave out.
    _timer: threading.Timer | None
    _context: Any
    _response_url: str

    def __init__(self, **kwargs: Any) -> None:
        self._answer_lock = threading.Lock()
        self._answer_claimed = False
        super().__init__(**kwargs)

    def __call__(self, event: Any, context: Any) -> None:
        with self._answer_lock:
            self._answer_claimed = False
        super().__call__(event, context)

    def generate_physical_id(self, event: Mapping[str, Any]) -> str:
        """crhelper's id for a failed Create, ``<stack>_<logical id>_<8 chars>``, safe for any StackId."""
        parts = str(event.get("StackId", "")).split("/")
        stack = parts[1] if len(parts) > 1 and parts[1] else "stack"
        suffix = "".join(secrets.choice(string.ascii_uppercase + string.digits) for _ in range(8))
        return "_".join([stack, str(event.get("LogicalResourceId", "resource")), suffix])

    def _send(self, status: str | None = None, reason: str = "", send_response: Any = None) -> None:
        with self._answer_lock:
            if self._answer_claimed:
                logger.warning("A second answer for this request was suppressed (%s)", status or self.Status)
                return
            self._answer_claimed = True
        if self._timer is not None and threading.current_thread() is not self._timer:
            self._timer.cancel()
        body = {
            "Status": status or self.Status,
            "Reason": fit_reason(str(reason if status else self.Reason)),
            "PhysicalResourceId": str(self.PhysicalResourceId or ""),
            "StackId": self.StackId,
            "RequestId": self.RequestId,
            "LogicalResourceId": self.LogicalResourceId,
            "NoEcho": self.NoEcho,
            "Data": self.Data,
        }
        remaining = self._context.get_remaining_time_in_millis() / 1000.0 if self._context is not None else 5.0
        deliver(self._response_url, body, seconds=remaining - 0.2)


helper = OneAnswerResource(json_logging=False, log_level="INFO", boto_level="ERROR", sleep_on_delete=0)

#: crhelper's private event keys (its polling mode, unused here): never accepted from outside.
_CRHELPER_KEYS = ("CrHelperPoll", "CrHelperData", "CrHelperRule", "CrHelperPermission")

#: The longest a single API call may wait for a connection or a read.
CALL_TIMEOUT_S = 10.0

#: Seconds before the invocation's end at which unfinished work is abandoned and FAILED is answered.
#: crhelper's timer answers at 0.5 s; this leaves time to send one answer first.
HARD_STOP_S = 2.0

#: Where to find the account of the function in its ARN.
_ARN_ACCOUNT_FIELD = 4

REQUEST_TYPES = ("Create", "Update", "Delete")
_ENVELOPE_KEYS = ("RequestType", "ResponseURL", "StackId", "RequestId", "LogicalResourceId")

Step = Callable[[Mapping[str, Any], Clients, Deadline], Any]


def now() -> datetime:
    """The current time (UTC); tests replace it to age a request."""
    return datetime.now(UTC)


def make_clients(context: Any, deadline: Deadline) -> Clients:
    """The clients for one invocation, with retries left to :func:`.retry.call_with_retry`.

    A call may not wait longer than the invocation can afford, so the socket timeouts shrink near the end.
    """
    call_timeout = max(1.0, min(CALL_TIMEOUT_S, deadline.seconds_left() / 2))
    return Clients(
        # The Account Management and Organizations APIs have one global endpoint each (us-east-1 for aws).
        account=client("account", call_timeout),
        cloudformation=client("cloudformation", call_timeout),
        own_account_id=context.invoked_function_arn.split(":")[_ARN_ACCOUNT_FIELD],
        ssm=client("ssm", call_timeout),
        organizations=client("organizations", call_timeout),
    )


def run_with_hard_stop(work: Callable[[], Any], seconds: float, deadline: Deadline | None = None) -> Any:
    """Run ``work`` and return its result, or raise :class:`ContactError` if it is not done in ``seconds``.

    The work runs in a daemon thread; when it overruns, ``deadline`` is marked abandoned, so the work
    starts no further API call, and its late result is ignored: the answer sent for the timeout is the
    only one.
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
        if deadline is not None:
            deadline.abandoned.set()
        raise ContactError("the Account API did not finish before the function's timeout; deploy again")
    if "error" in outcome:
        raise outcome["error"]
    return outcome.get("result")


def _safe(step: Step) -> Callable[[Any, Any], Any]:
    """Adapt a lifecycle step to crhelper: clients, deadline, hard stop, and errors without personal data."""

    def run(event: Any, context: Any) -> Any:
        # A request older than its ServiceTimeout has failed in CloudFormation already: no call at all,
        # and crhelper answers FAILED once (CloudFormation ignores it, but it shows why in the log).
        stale = freshness.stale_reason(event, now())
        if stale is not None:
            logger.warning("%s %s: %s", event.get("RequestType"), str(event.get("LogicalResourceId"))[:100], stale)
            raise ContactError(stale)
        deadline = Deadline(context.get_remaining_time_in_millis, access_denied_grace_s=IAM_PROPAGATION_S)
        try:
            clients = make_clients(context, deadline)
            result = run_with_hard_stop(
                lambda: step(event, clients, deadline),
                context.get_remaining_time_in_millis() / 1000.0 - HARD_STOP_S,
                deadline,
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


def _create(event: Mapping[str, Any], clients: Clients, deadline: Deadline) -> Any:
    if event.get("ResourceType") == spec.COVERAGE_RESOURCE_TYPE:
        return coverage_trigger.start(event, _sqs(deadline), deadline, clients.policy)
    return lifecycle.create(event, clients, deadline)


def _update(event: Mapping[str, Any], clients: Clients, deadline: Deadline) -> Any:
    if event.get("ResourceType") == spec.COVERAGE_RESOURCE_TYPE:
        return coverage_trigger.start(event, _sqs(deadline), deadline, clients.policy)
    return lifecycle.update(event, clients, deadline)


def _delete(event: Mapping[str, Any], clients: Clients, deadline: Deadline) -> Any:
    if event.get("ResourceType") == spec.COVERAGE_RESOURCE_TYPE:
        return coverage_trigger.stop(event)
    lifecycle.delete(event, clients, deadline)
    # The environment names the coverage's queue only when the stack has a coverage.
    queue_url = os.environ.get(spec.COVERAGE_QUEUE_VARIABLE)
    if queue_url:
        coverage_trigger.hand_over(event, _sqs(deadline), queue_url, deadline=deadline, policy=clients.policy)
    return None


def _sqs(deadline: Deadline) -> Any:
    return client("sqs", max(1.0, min(CALL_TIMEOUT_S, deadline.seconds_left() / 2)))


helper.create(_safe(_create))
helper.update(_safe(_update))
helper.delete(_safe(_delete))


def _reject(event: Mapping[str, Any], context: Any, reason: str) -> None:
    """Answer FAILED for a request crhelper cannot route (an unknown RequestType)."""
    physical = event.get("PhysicalResourceId")
    body = {
        "Status": "FAILED",
        "Reason": reason[:MAX_REASON],
        "PhysicalResourceId": physical if isinstance(physical, str) and physical else "unsupported-request",
        "StackId": event["StackId"],
        "RequestId": event["RequestId"],
        "LogicalResourceId": event["LogicalResourceId"],
        "NoEcho": False,
        "Data": {},
    }
    deliver(event["ResponseURL"], body, seconds=context.get_remaining_time_in_millis() / 1000.0 - 0.2)


def handler(event: Any, context: Any) -> None:
    """Answer one CloudFormation custom resource request, exactly once.

    An event without the envelope CloudFormation always sends cannot be answered (no ResponseURL, or
    crhelper would fail before answering): it is logged, without its content, and dropped.
    """
    if not isinstance(event, dict) or not all(isinstance(event.get(k), str) for k in _ENVELOPE_KEYS):
        keys = sorted(str(key)[:40] for key in event)[:20] if isinstance(event, dict) else type(event).__name__
        logger.error("Not a CloudFormation custom resource request; keys: %s", keys)
        return
    event = {key: value for key, value in event.items() if key not in _CRHELPER_KEYS}
    request_type = event["RequestType"]
    if request_type not in REQUEST_TYPES:
        logger.error("Unsupported RequestType for %s", event["LogicalResourceId"][:100])
        _reject(event, context, f"Unsupported RequestType {request_type[:40]!r}: expected Create, Update or Delete")
        return
    logger.info(
        "%s %s (physical id %s)",
        request_type,
        event["LogicalResourceId"][:100],
        str(event.get("PhysicalResourceId"))[:100],
    )
    helper(event, context)
