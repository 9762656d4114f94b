"""One execution environment: an awslambdaric process running the asset, its deadline and its log stream.

The process is started as Lambda's Python runtime starts it (``python -m awslambdaric <handler>`` in the
task root), with the environment variables Lambda sets and only the interpreter of ``.venv-lambda``,
which holds boto3 and awslambdaric and nothing else: a dependency missing from the asset fails here as
it would in Lambda. Its stdout and stderr are its log stream, as in CloudWatch Logs.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import subprocess
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Protocol

from .functions import Attempt, FunctionConfig, HostSettings, Invocation, Outcome
from .runtime_api import Delivery, RuntimeApi

#: Time allowed for a process to exit after SIGTERM before it is killed.
STOP_GRACE_S = 5.0


class SandboxOwner(Protocol):
    """The pool an execution environment takes its work from (see :mod:`.lambda_service`)."""

    def take(self, sandbox: Sandbox) -> Invocation | None:
        """Block until an invocation is queued for this function; ``None`` when this sandbox must stop."""

    def give_back(self, invocation: Invocation) -> None:
        """Queue an invocation again, first in line (it never reached the runtime)."""

    def finished(self, sandbox: Sandbox, invocation: Invocation, attempt: Attempt) -> None:
        """An attempt ended; the pool decides about retries."""

    def init_failed(self, sandbox: Sandbox, error_type: str, message: str) -> None:
        """The runtime could not load the handler."""

    def gone(self, sandbox: Sandbox) -> None:
        """The process exited."""


def log_file_name(name: str) -> str:
    """A log group or stream name as a file name (``/`` and ``$[]`` are not welcome in paths)."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("_") or "_"


class Sandbox:
    """An execution environment of one function.

    Parameters
    ----------
    owner:
        The function's pool.
    config, host:
        What to run and where its AWS calls go.
    """

    def __init__(self, owner: SandboxOwner, config: FunctionConfig, host: HostSettings) -> None:
        self.owner = owner
        self.config = config
        self.host = host
        self.log_stream = f"{datetime.now(UTC):%Y/%m/%d}/[$LATEST]{secrets.token_hex(16)}"
        log_dir = host.log_root / log_file_name(config.log_group)
        log_dir.mkdir(parents=True, exist_ok=True)
        self.log_path = log_dir / f"{log_file_name(self.log_stream)}.log"
        self.alive = True
        self.ready = False
        self._lock = threading.Lock()
        self._current: tuple[Invocation, Attempt, threading.Timer] | None = None
        self._stopping = False
        self._spawned_at = time.monotonic()
        self._init_ms: float | None = None
        self._init_reported = False
        self._api = RuntimeApi(self, name=self.log_stream)
        self._process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None
        self._monitor: threading.Thread | None = None

    # -- life cycle ---------------------------------------------------------------------------------

    def start(self) -> Sandbox:
        """Start the Runtime API and the runtime process ("cold start")."""
        self._api.start()
        self._log = self.log_path.open("ab", buffering=0)
        self._platform_log(
            f"INIT_START Runtime Version: {self.config.runtime} (awslambdaric under Python "
            f"{_python_version(self.host.python)} from {self.host.python})\n"
        )
        self._process = subprocess.Popen(
            [str(self.host.python), "-m", "awslambdaric", self.config.handler],
            cwd=self.config.code_dir,
            env=self.environment(),
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        self._monitor = threading.Thread(target=self._watch_process, name=f"sandbox {self.log_stream}", daemon=True)
        self._monitor.start()
        return self

    def environment(self) -> dict[str, str]:
        """The process environment: what Lambda sets, plus endpoints that keep every call on this machine.

        Nothing is inherited from the calling shell (no profile, no real credentials, no stray PATH).
        """
        config, host = self.config, self.host
        env = {
            "PATH": f"{host.python.parent}:/usr/local/bin:/usr/bin:/bin",
            "LANG": "en_US.UTF-8",
            "TZ": ":UTC",
            "LAMBDA_TASK_ROOT": config.code_dir,
            "LAMBDA_RUNTIME_DIR": str(host.python.parent.parent),
            "PYTHONPATH": config.code_dir,
            "_HANDLER": config.handler,
            "AWS_EXECUTION_ENV": f"AWS_Lambda_{config.runtime}",
            "AWS_LAMBDA_RUNTIME_API": self._api.address,
            "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
            "AWS_REGION": host.region,
            "AWS_DEFAULT_REGION": host.region,
            # The function role's temporary credentials, faked; moto maps unknown keys to its default account.
            # The key names the role, so that the IAM front judges each call as that role's.
            "AWS_ACCESS_KEY_ID": (
                host.credentials(config.role_arn)
                if host.credentials is not None and config.role_arn
                else "ASIALOCALDEPLOY00001"
            ),
            "AWS_SECRET_ACCESS_KEY": "localdeploy-fake-secret-key",
            "AWS_SESSION_TOKEN": "localdeploy-fake-session-token",
            "AWS_LAMBDA_FUNCTION_NAME": config.function_name,
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(config.memory_mb),
            "AWS_LAMBDA_LOG_GROUP_NAME": config.log_group,
            "AWS_LAMBDA_LOG_STREAM_NAME": self.log_stream,
            # Not set by Lambda: where the emulators are. A call to any other service reaches moto too.
            "AWS_ENDPOINT_URL": host.fallback_endpoint,
            "AWS_ENDPOINT_URL_ACCOUNT": host.account_endpoint,
            "AWS_ENDPOINT_URL_CLOUDFORMATION": host.cloudformation_endpoint,
            "AWS_CONFIG_FILE": os.devnull,
            "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
            "SSL_CERT_FILE": str(host.ca_file),
        }
        if config.log_format.upper() == "JSON":
            env["AWS_LAMBDA_LOG_FORMAT"] = "JSON"
            if config.application_log_level:
                env["AWS_LAMBDA_LOG_LEVEL"] = config.application_log_level
        env.update(dict(config.environment))
        return env

    def stop(self) -> None:
        """Stop the process and the Runtime API (an idle environment being reclaimed)."""
        with self._lock:
            self._stopping = True
        process = self._process
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=STOP_GRACE_S)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if self._monitor is not None:
            self._monitor.join(timeout=STOP_GRACE_S)
        self._api.stop()

    @property
    def pid(self) -> int | None:
        """The runtime process id."""
        return self._process.pid if self._process is not None else None

    @property
    def busy(self) -> bool:
        """True while an invocation is in progress here."""
        with self._lock:
            return self._current is not None

    def _watch_process(self) -> None:
        assert self._process is not None
        returncode = self._process.wait()
        self.alive = False
        with self._lock:
            current, self._current = self._current, None
            stopping = self._stopping
        if current is not None:
            invocation, attempt, timer = current
            timer.cancel()
            if attempt.outcome is None:
                # Lambda's wording when the runtime process dies under an invocation.
                self._end(
                    invocation,
                    attempt,
                    "crash",
                    "Runtime.ExitError",
                    f"Runtime exited with error: exit status {returncode}",
                )
        elif not stopping and returncode != 0:
            self._platform_log(f"Runtime exited with error: exit status {returncode}\n")
        if self._log is not None:
            self._log.close()
        self.owner.gone(self)

    # -- RuntimeChannel -------------------------------------------------------------------------------

    def next_invocation(self) -> Delivery | None:
        """The runtime's long poll: wait for the pool to hand this environment an invocation."""
        if self._init_ms is None:
            self._init_ms = (time.monotonic() - self._spawned_at) * 1000.0
        self.ready = True
        invocation = self.owner.take(self)
        if invocation is None:
            return None
        attempt = Attempt(number=len(invocation.attempts) + 1, log_stream=self.log_stream, started_at=time.time())
        invocation.attempts.append(attempt)
        deadline_ms = int(attempt.started_at * 1000) + self.config.timeout_s * 1000
        # Lambda stops the environment when the timeout is reached; so do we.
        timer = threading.Timer(self.config.timeout_s, self._time_out, args=(invocation, attempt))
        timer.daemon = True
        with self._lock:
            self._current = (invocation, attempt, timer)
        self._platform_log(f"START RequestId: {invocation.request_id} Version: $LATEST\n")
        timer.start()
        return Delivery(
            request_id=invocation.request_id,
            deadline_ms=deadline_ms,
            function_arn=invocation.function_arn,
            trace_id=_trace_id(),
            payload=invocation.payload,
        )

    def delivery_failed(self, delivery: Delivery) -> None:
        """The process died while polling: the invocation never started, so it goes back to the queue."""
        with self._lock:
            current, self._current = self._current, None
        if current is not None and current[0].request_id == delivery.request_id:
            invocation, attempt, timer = current
            timer.cancel()
            invocation.attempts.remove(attempt)
            self.owner.give_back(invocation)

    def invocation_response(self, request_id: str, body: bytes) -> bool:
        """The handler returned normally; its answer is kept (a synchronous caller reads it)."""
        return self._complete(request_id, "success", "", "", body)

    def invocation_error(self, request_id: str, error_type: str, body: bytes) -> bool:
        """The handler raised; the error document names the exception."""
        error_type, message = _error_document(error_type, body)
        return self._complete(request_id, "error", error_type, message)

    def init_error(self, error_type: str, body: bytes) -> None:
        """The handler module could not be loaded (awslambdaric then exits)."""
        self.owner.init_failed(self, *_error_document(error_type, body))

    # -- endings ---------------------------------------------------------------------------------------

    def _complete(self, request_id: str, outcome: Outcome, error_type: str, message: str, body: bytes = b"") -> bool:
        with self._lock:
            current = self._current
            if current is None or current[0].request_id != request_id:
                return False
            self._current = None
        invocation, attempt, timer = current
        timer.cancel()
        attempt.response = body
        self._end(invocation, attempt, outcome, error_type, message)
        return True

    def _time_out(self, invocation: Invocation, attempt: Attempt) -> None:
        with self._lock:
            if self._current is None or self._current[1] is not attempt:
                return
            self._current = None
        stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
        self._platform_log(
            f"{stamp} {invocation.request_id} Task timed out after {self.config.timeout_s:.2f} seconds\n"
        )
        if self._process is not None:
            self._process.kill()
        self._end(
            invocation,
            attempt,
            "timeout",
            "Sandbox.Timedout",
            f"Task timed out after {self.config.timeout_s:.2f} seconds",
        )

    def _end(self, invocation: Invocation, attempt: Attempt, outcome: Outcome, error_type: str, message: str) -> None:
        attempt.ended_at = time.time()
        attempt.outcome = outcome
        attempt.error_type = error_type
        attempt.error_message = message
        report = (
            f"REPORT RequestId: {invocation.request_id}\tDuration: {attempt.duration_ms:.2f} ms\t"
            f"Billed Duration: {int(attempt.duration_ms) + 1} ms\tMemory Size: {self.config.memory_mb} MB\t"
            f"Max Memory Used: {self._max_memory_mb()} MB"
        )
        if self._init_ms is not None and not self._init_reported:
            # Only the first invocation of an environment paid for its cold start.
            report += f"\tInit Duration: {self._init_ms:.2f} ms"
            self._init_reported = True
        if outcome not in ("success", "error"):
            report += f"\tStatus: {outcome}"
        self._platform_log(f"END RequestId: {invocation.request_id}\n{report}\n")
        self.owner.finished(self, invocation, attempt)

    def _max_memory_mb(self) -> int:
        # Peak resident memory of the runtime process, as REPORT lines show it.
        try:
            status = Path(f"/proc/{self.pid}/status").read_text(encoding="ascii")
        except OSError:
            return 0
        match = re.search(r"^VmHWM:\s+(\d+) kB", status, re.MULTILINE)
        return int(match.group(1)) // 1024 if match else 0

    def _platform_log(self, line: str) -> None:
        # The lines Lambda itself writes to the stream (START, END, REPORT, timeouts), one write each
        # so they do not interleave with the runtime's own output in the shared file.
        if self._log is not None and not self._log.closed:
            with contextlib.suppress(OSError, ValueError):
                os.write(self._log.fileno(), line.encode("utf-8"))


def _trace_id() -> str:
    epoch = f"{int(time.time()):08x}"
    return f"Root=1-{epoch}-{secrets.token_hex(12)};Parent={secrets.token_hex(8)};Sampled=0"


_PYTHON_VERSIONS: dict[Path, str] = {}


def _python_version(python: Path) -> str:
    """The version of the Lambda-like interpreter (asked once per path)."""
    if python not in _PYTHON_VERSIONS:
        result = subprocess.run(
            [str(python), "-c", "import platform; print(platform.python_version())"],
            capture_output=True,
            text=True,
            check=False,
        )
        _PYTHON_VERSIONS[python] = result.stdout.strip() or "unknown"
    return _PYTHON_VERSIONS[python]


def _error_document(error_type: str, body: bytes) -> tuple[str, str]:
    """The error type and message of a runtime's error document (``errorType``, ``errorMessage``); a body that
    is no such document is the message, under ``error_type``."""
    try:
        document = json.loads(body)
        return str(document.get("errorType") or error_type), str(document.get("errorMessage", ""))
    except (ValueError, AttributeError):
        return error_type, body[:500].decode("utf-8", "replace")
