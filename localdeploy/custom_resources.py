"""One custom resource request, as CloudFormation makes it: the event, the asynchronous invoke, the wait
for exactly one answer on the pre-signed URL, and the checks CloudFormation applies to that answer.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from .functions import Attempt, Invocation
from .lambda_service import FunctionNotFoundError, FunctionService
from .responses import MAX_ANSWER_BYTES, Answer, ResponseListener

RequestType = Literal["Create", "Update", "Delete"]

#: How long CloudFormation waits for an answer when the resource sets no ServiceTimeout (one hour).
DEFAULT_SERVICE_TIMEOUT_S = 3600

#: After the function has finished without answering, a late answer could still be on the wire.
LATE_ANSWER_GRACE_S = 2.0


def is_custom(resource_type: str) -> bool:
    """Whether CloudFormation hands this resource type to a custom resource provider."""
    return resource_type.startswith("Custom::") or resource_type == "AWS::CloudFormation::CustomResource"


@dataclass
class RequestRecord:
    """One request sent to a custom resource and what came of it.

    Attributes
    ----------
    phase:
        Where in the operation it was sent: ``deploy``, ``cleanup``, ``rollback``, ``rollback cleanup``
        or ``destroy``.
    request_type, logical_id, resource_type:
        As in the event.
    stack_path:
        Where the resource is: empty in the top-level stack, else the logical ids of the nested stack
        resources leading to its stack (``Accounts03``, ``Members/Deeper``).
    physical_id:
        The PhysicalResourceId sent (Update and Delete), else ``None``.
    request_id:
        CloudFormation's RequestId (also the key of the answer on the response listener).
    event:
        The event exactly as sent (its ResponseURL holds a signature: never print it).
    status:
        SUCCESS or FAILED as answered; NO_ANSWER when none came; PENDING while waiting.
    reason:
        The answer's Reason, or why the request failed without one.
    answered_physical_id, data:
        The answer's PhysicalResourceId and Data.
    answers:
        How many answers the request got in all (counted when the operation ends; must be 1).
    """

    phase: str
    request_type: RequestType
    logical_id: str
    resource_type: str
    physical_id: str | None
    request_id: str
    event: dict[str, Any]
    sent_at: float = field(default_factory=time.time)
    status: str = "PENDING"
    reason: str = ""
    answered_physical_id: str | None = None
    data: dict[str, Any] = field(default_factory=dict)
    answered_at: float | None = None
    invocation: Invocation | None = None
    answers: int = 0
    stack_path: str = ""

    @property
    def stack_id(self) -> str:
        """The StackId the event carried (a nested stack's own, for a resource of a nested stack)."""
        return str(self.event.get("StackId", ""))

    @property
    def succeeded(self) -> bool:
        """True when the answer was SUCCESS and passed CloudFormation's checks."""
        return self.status == "SUCCESS"


class CustomResourceClient:
    """Sends requests to custom resource providers (Lambda functions) and collects their answers.

    Parameters
    ----------
    functions:
        Where ServiceTokens point.
    responses:
        Issues ResponseURLs and receives the answers.
    answer_timeout_cap_s:
        Upper bound on the wait for one answer, below the resource's ServiceTimeout (tests). ``None``:
        wait the whole ServiceTimeout, as CloudFormation does.
    fail_fast_when_silent:
        When the function finished (and its retries are spent) without answering, stop waiting: no
        answer can come any more. CloudFormation itself would wait out the ServiceTimeout; the reason
        says so.
    """

    def __init__(
        self,
        functions: FunctionService,
        responses: ResponseListener,
        *,
        answer_timeout_cap_s: float | None = None,
        fail_fast_when_silent: bool = True,
    ) -> None:
        self.functions = functions
        self.responses = responses
        self.answer_timeout_cap_s = answer_timeout_cap_s
        self.fail_fast_when_silent = fail_fast_when_silent

    def send(
        self,
        *,
        phase: str,
        request_type: RequestType,
        stack_id: str,
        stack_name: str,
        logical_id: str,
        resource_type: str,
        properties: Mapping[str, Any],
        physical_id: str | None = None,
        old_properties: Mapping[str, Any] | None = None,
        on_sent: Any = None,
        stack_path: str = "",
    ) -> RequestRecord:
        """Send one request and wait for its answer.

        Parameters
        ----------
        properties:
            ResourceProperties, already resolved and stringified (ServiceToken included).
        physical_id:
            Sent as PhysicalResourceId (Update, Delete).
        old_properties:
            Sent as OldResourceProperties (Update).
        on_sent:
            Called with the record as soon as it is sent (so the caller can list it in order).
        stack_path:
            Recorded as :attr:`RequestRecord.stack_path`.
        """
        request_id = str(uuid.uuid4())
        service_token = str(properties.get("ServiceToken", ""))
        event: dict[str, Any] = {
            "RequestType": request_type,
            "ServiceToken": service_token,
            "ResponseURL": self.responses.issue(stack_name, request_id),
            "StackId": stack_id,
            "RequestId": request_id,
            "LogicalResourceId": logical_id,
            "ResourceType": resource_type,
            "ResourceProperties": dict(properties),
        }
        if physical_id is not None:
            event["PhysicalResourceId"] = physical_id
        if old_properties is not None:
            event["OldResourceProperties"] = dict(old_properties)
        record = RequestRecord(
            phase, request_type, logical_id, resource_type, physical_id, request_id, event, stack_path=stack_path
        )
        if on_sent is not None:
            on_sent(record)
        wake = threading.Event()
        self.responses.watch(request_id, wake)
        try:
            invocation = self.functions.invoke_event(service_token, json.dumps(event).encode("utf-8"))
        except FunctionNotFoundError as error:
            record.status, record.reason = "FAILED", f"ServiceToken does not name a deployed function: {error}"
            return record
        record.invocation = invocation
        invocation.watch(wake)
        timeout: float = _service_timeout(properties)
        if self.answer_timeout_cap_s is not None:
            timeout = min(timeout, self.answer_timeout_cap_s)
        answer = self._wait(request_id, invocation, wake, timeout)
        if answer is None:
            record.status = "NO_ANSWER"
            if invocation.settled and self.fail_fast_when_silent:
                attempts = "; ".join(_describe(a) for a in invocation.attempts) or "never ran"
                record.reason = (
                    f"the function finished without answering ({attempts[:300]}); CloudFormation would wait "
                    f"{_service_timeout(properties)} s (ServiceTimeout) and then fail the resource"
                )
            else:
                record.reason = (
                    f"CloudFormation did not receive a response from your Custom Resource within {timeout:.0f} s"
                )
            return record
        self._read(record, answer, stack_id)
        return record

    def _wait(self, request_id: str, invocation: Invocation, wake: threading.Event, timeout: float) -> Answer | None:
        deadline = time.monotonic() + timeout
        while True:
            received = self.responses.answers(request_id)
            if received:
                return received[0]
            if invocation.settled and self.fail_fast_when_silent:
                return self.responses.wait(request_id, LATE_ANSWER_GRACE_S)
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            wake.wait(remaining)
            wake.clear()

    @staticmethod
    def _read(record: RequestRecord, answer: Answer, stack_id: str) -> None:
        """Apply CloudFormation's checks to the first answer and copy its fields into ``record``."""
        record.answered_at = answer.received_at
        document = answer.document
        if document is None:
            record.status, record.reason = "FAILED", "Response is not valid JSON"
            return
        if len(answer.body) > MAX_ANSWER_BYTES:
            record.status, record.reason = "FAILED", "Response object is too long."
            return
        status = document.get("Status")
        physical = document.get("PhysicalResourceId")
        record.answered_physical_id = physical if isinstance(physical, str) else None
        data = document.get("Data")
        record.data = data if isinstance(data, dict) else {}
        record.reason = str(document.get("Reason") or "")
        mismatched = [
            key
            for key, expected in (
                ("RequestId", record.request_id),
                ("StackId", stack_id),
                ("LogicalResourceId", record.logical_id),
            )
            if document.get(key) != expected
        ]
        if status not in ("SUCCESS", "FAILED"):
            record.status, record.reason = "FAILED", f"Invalid response status {status!r}"
        elif mismatched:
            record.status, record.reason = "FAILED", f"Response fields do not match the request: {mismatched}"
        elif status == "SUCCESS" and not record.answered_physical_id:
            record.status, record.reason = "FAILED", "Invalid PhysicalResourceId"
        else:
            record.status = str(status)


def _describe(attempt: Attempt) -> str:
    error = f" {attempt.error_type}: {attempt.error_message}" if attempt.error_type else ""
    return f"attempt {attempt.number}: {attempt.outcome}{error}"


def _service_timeout(properties: Mapping[str, Any]) -> int:
    try:
        return int(str(properties.get("ServiceTimeout", DEFAULT_SERVICE_TIMEOUT_S)))
    except ValueError:
        return DEFAULT_SERVICE_TIMEOUT_S
