"""What a local Lambda function is made of: its configuration, the host it runs on, its invocations."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

#: How one attempt of an invocation ended. ``init_error``: the handler could not be imported;
#: ``crash``: the process exited mid-invocation; ``timeout``: it ran past the function's Timeout.
Outcome = Literal["success", "error", "timeout", "crash", "init_error"]


@dataclass(frozen=True)
class FunctionConfig:
    """The deployed configuration of one function, as the template's AWS::Lambda::Function declares it.

    Attributes
    ----------
    function_name, arn:
        Identity; the ARN is what a custom resource's ServiceToken names.
    code_dir:
        The unpacked code: the synthesized asset folder in the cloud assembly.
    asset_hash:
        The asset's hash (the S3 key without ``.zip``), to find the same code in a later assembly.
    handler, runtime, timeout_s, memory_mb:
        As declared (``Handler``, ``Runtime``, ``Timeout``, ``MemorySize``).
    environment:
        ``Environment.Variables``, sorted pairs.
    log_group:
        Where the function logs: ``LoggingConfig.LogGroup``, default ``/aws/lambda/<name>``.
    log_format, application_log_level:
        ``LoggingConfig.LogFormat`` (Text or JSON) and ``ApplicationLogLevel``.
    role_arn:
        The execution role (``Role``): the function's calls are signed with this role's credentials and
        authorized against its policy as it is at the time of each call.
    reserved_concurrency:
        ``ReservedConcurrentExecutions``: the most invocations that run at once (the rest wait in the
        queue), reserved out of the account's concurrency. ``None``: no reservation.
    """

    function_name: str
    arn: str
    code_dir: str
    asset_hash: str
    handler: str
    runtime: str
    timeout_s: int
    memory_mb: int
    environment: tuple[tuple[str, str], ...]
    log_group: str
    log_format: str = "Text"
    application_log_level: str = ""
    role_arn: str = ""
    reserved_concurrency: int | None = None

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict (for the persisted stack state)."""
        data = asdict(self)
        data["environment"] = [list(pair) for pair in self.environment]
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> FunctionConfig:
        """The inverse of :meth:`to_json`."""
        values = dict(data)
        values["environment"] = tuple((str(k), str(v)) for k, v in values.get("environment", ()))
        return cls(**values)


@dataclass(frozen=True)
class HostSettings:
    """Where functions run on this machine and which emulators their AWS calls reach.

    Attributes
    ----------
    python:
        The interpreter of the Lambda-like environment (``.venv-lambda``: boto3 and awslambdaric only).
    account_endpoint, cloudformation_endpoint:
        ``AWS_ENDPOINT_URL_ACCOUNT`` and ``AWS_ENDPOINT_URL_CLOUDFORMATION`` of the function.
    fallback_endpoint:
        ``AWS_ENDPOINT_URL`` for any other service, so that no call can leave the machine.
    ca_file:
        PEM of the CA that signed the response listener's certificate (``SSL_CERT_FILE``).
    log_root:
        The local "CloudWatch Logs": one folder per log group, one file per log stream.
    region, account_id:
        Where the functions are deployed.
    credentials:
        The access key id a function signs with, given its role ARN (see :class:`.iam.IamFront`);
        ``None``: one fixed key for every function, whose calls nothing evaluates.
    """

    python: Path
    account_endpoint: str
    cloudformation_endpoint: str
    fallback_endpoint: str
    ca_file: Path
    log_root: Path
    region: str = "us-east-1"
    account_id: str = "123456789012"
    credentials: Callable[[str], str] | None = None


@dataclass
class Attempt:
    """One delivery of an invocation to an execution environment."""

    number: int
    log_stream: str
    started_at: float
    ended_at: float | None = None
    outcome: Outcome | None = None
    error_type: str = ""
    error_message: str = ""
    #: What the handler returned (JSON bytes), for a successful attempt.
    response: bytes = b""

    @property
    def duration_ms(self) -> float:
        """How long the attempt ran (so far)."""
        return ((self.ended_at or time.time()) - self.started_at) * 1000.0


@dataclass
class Invocation:
    """An asynchronous (``Event``) invocation, which Lambda retries twice after a function error; or, with
    ``synchronous``, a ``RequestResponse`` one (an event source mapping's), run once and never retried by
    Lambda itself (the caller decides what a failure means).

    Attributes
    ----------
    request_id:
        Lambda's request id, the same for every attempt.
    function_arn:
        The function invoked.
    payload:
        The event, as JSON bytes.
    queued_at:
        When Lambda queued it (its age counts from here).
    attempts:
        Every delivery so far.
    synchronous:
        A ``RequestResponse`` invocation: one attempt, no maximum age.
    """

    request_id: str
    function_arn: str
    payload: bytes
    attempts: list[Attempt] = field(default_factory=list)
    queued_at: float = field(default_factory=time.time)
    synchronous: bool = False
    _settled: threading.Event = field(default_factory=threading.Event, repr=False)
    _watchers: list[threading.Event] = field(default_factory=list, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def settled(self) -> bool:
        """True once an attempt succeeded or the retries are spent."""
        return self._settled.is_set()

    @property
    def outcome(self) -> Outcome | None:
        """The last attempt's outcome (``None`` while the first is still queued or running)."""
        return self.attempts[-1].outcome if self.attempts else None

    def watch(self, wake: threading.Event) -> None:
        """Set ``wake`` when the invocation settles (at once if it already has)."""
        with self._lock:
            self._watchers.append(wake)
            if self._settled.is_set():
                wake.set()

    def wait(self, timeout_s: float | None = None) -> bool:
        """Wait until settled; True if it did within ``timeout_s``."""
        return self._settled.wait(timeout_s)

    def settle(self) -> None:
        """Mark the invocation finished and wake whoever watches it."""
        with self._lock:
            self._settled.set()
            for wake in self._watchers:
                wake.set()
