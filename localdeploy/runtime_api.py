"""The Lambda Runtime API (2018-06-01) of one execution environment, served on 127.0.0.1.

awslambdaric, the runtime client the Lambda Python runtime uses, long-polls ``GET .../invocation/next``
for an event, runs the handler, and posts ``.../response`` or ``.../error``; a failure while importing
the handler goes to ``.../init/error``. Each execution environment gets its own endpoint (as in Lambda,
where ``AWS_LAMBDA_RUNTIME_API`` is per sandbox), so a request always belongs to one known process.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Protocol

from .net import LOCALHOST, LocalServer, QuietHandler

PREFIX = "/2018-06-01/runtime"
_INVOCATION_POST = re.compile(rf"^{PREFIX}/invocation/(?P<id>[^/]+)/(?P<kind>response|error)$")
_ACCEPTED = json.dumps({"status": "OK"}).encode()


@dataclass(frozen=True)
class Delivery:
    """One invocation as handed to the runtime: the event and the headers that describe it."""

    request_id: str
    deadline_ms: int
    function_arn: str
    trace_id: str
    payload: bytes


class RuntimeChannel(Protocol):
    """What an execution environment's Runtime API serves from (see :mod:`.sandbox`)."""

    def next_invocation(self) -> Delivery | None:
        """Block until there is an invocation for this environment; ``None`` when it is shutting down."""

    def delivery_failed(self, delivery: Delivery) -> None:
        """The event could not be written to the runtime (its process died mid-poll)."""

    def invocation_response(self, request_id: str, body: bytes) -> bool:
        """The handler returned; False when ``request_id`` is not the invocation in progress."""

    def invocation_error(self, request_id: str, error_type: str, body: bytes) -> bool:
        """The handler raised; False when ``request_id`` is not the invocation in progress."""

    def init_error(self, error_type: str, body: bytes) -> None:
        """The runtime could not load the handler."""


class RuntimeApi(LocalServer):
    """A Runtime API endpoint for one execution environment. Stopping it does not release a poll still parked
    in ``next``: the channel does.

    Parameters
    ----------
    channel:
        Where invocations come from and results go.
    name:
        Thread name (the environment's log stream).
    """

    def __init__(self, channel: RuntimeChannel, *, name: str) -> None:
        self.channel = channel
        super().__init__(_RuntimeHandler, name=f"runtime-api {name}")

    @property
    def address(self) -> str:
        """``host:port``, the value of ``AWS_LAMBDA_RUNTIME_API``."""
        return f"{LOCALHOST}:{self.port}"


class _RuntimeHandler(QuietHandler):
    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        channel: RuntimeChannel = self.context.channel
        if self.path != f"{PREFIX}/invocation/next":
            self._not_found()
            return
        delivery = channel.next_invocation()
        if delivery is None:
            # Shutting down: Lambda would freeze or kill the environment; the process is being stopped.
            self.send_body(500, b'{"errorMessage":"shutting down"}', "application/json")
            return
        try:
            self.send_body(
                200,
                delivery.payload,
                "application/json",
                {
                    "Lambda-Runtime-Aws-Request-Id": delivery.request_id,
                    "Lambda-Runtime-Deadline-Ms": str(delivery.deadline_ms),
                    "Lambda-Runtime-Invoked-Function-Arn": delivery.function_arn,
                    "Lambda-Runtime-Trace-Id": delivery.trace_id,
                },
            )
        except OSError:
            channel.delivery_failed(delivery)
            raise

    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        channel: RuntimeChannel = self.context.channel
        body = self.read_body()
        if self.path == f"{PREFIX}/init/error":
            channel.init_error(self.headers.get("Lambda-Runtime-Function-Error-Type", "Unknown"), body)
            self.send_body(202, _ACCEPTED, "application/json")
            return
        match = _INVOCATION_POST.match(self.path)
        if match is None:
            self._not_found()
            return
        if match["kind"] == "response":
            accepted = channel.invocation_response(match["id"], body)
        else:
            error_type = self.headers.get("Lambda-Runtime-Function-Error-Type", "Unknown")
            accepted = channel.invocation_error(match["id"], error_type, body)
        if accepted:
            self.send_body(202, _ACCEPTED, "application/json")
        else:
            # What Lambda answers to a result for an invocation that is not in progress.
            error = {"errorMessage": "Invalid request ID", "errorType": "InvalidStateTransition"}
            self.send_body(400, json.dumps(error).encode(), "application/json")

    def _not_found(self) -> None:
        error = {"errorMessage": f"unknown path {self.path}", "errorType": "NotFound"}
        self.send_body(404, json.dumps(error).encode(), "application/json")
