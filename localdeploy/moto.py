"""The ``moto_server`` process: the Account Management API (and SSM) of a fake account, 123456789012."""

from __future__ import annotations

import shutil
import subprocess
import sys
import threading
import urllib.request
from pathlib import Path
from typing import IO

from .net import LOCALHOST, free_port

#: moto's default account: the account the stack is deployed to and the function runs in.
DEPLOYING_ACCOUNT = "123456789012"

#: How many ports to try when another process takes the chosen one between probe and bind.
PORT_ATTEMPTS = 3


class MotoServerError(RuntimeError):
    """moto_server did not start; the message carries the end of its output."""


def moto_executable() -> str:
    """The ``moto_server`` script of the running interpreter's environment, else the one on PATH."""
    beside = Path(sys.executable).with_name("moto_server")
    if beside.exists():
        return str(beside)
    found = shutil.which("moto_server")
    if found is None:
        raise MotoServerError("moto_server not found: install moto[server] (make setup)")
    return found


class MotoServer:
    """Start ``moto_server -H 127.0.0.1 -p <free port>``, wait until it answers, stop it.

    Parameters
    ----------
    log_path:
        Where moto's own output goes (one line per request); kept out of the demo's output.
    """

    def __init__(self, log_path: Path) -> None:
        self.log_path = log_path
        self.port = 0
        self._process: subprocess.Popen[str] | None = None
        self._drain: threading.Thread | None = None

    @property
    def endpoint(self) -> str:
        """Base URL for boto3 (``endpoint_url`` or ``AWS_ENDPOINT_URL_*``)."""
        return f"http://{LOCALHOST}:{self.port}"

    def start(self, timeout_s: float = 30.0) -> MotoServer:
        """Start the server on a free port and return once it answers HTTP.

        Raises
        ------
        MotoServerError
            When it exits or stays silent; the error shows the end of its output.
        """
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        last_error = ""
        for _ in range(PORT_ATTEMPTS):
            self.port = free_port()
            ready = threading.Event()
            log = self.log_path.open("a", encoding="utf-8")
            self._process = subprocess.Popen(
                [moto_executable(), "-H", LOCALHOST, "-p", str(self.port)],
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                text=True,
            )
            banner = f"Running on http://{LOCALHOST}:{self.port}"
            self._drain = threading.Thread(
                target=_drain, args=(self._process.stdout, log, banner, ready), name="moto-output", daemon=True
            )
            self._drain.start()
            # Werkzeug prints its banner once the socket listens; the drain thread also sets the event
            # at end of output, so a server that dies is noticed at once rather than at the timeout.
            ready.wait(timeout_s)
            if self._process.poll() is None and self._answers():
                return self
            last_error = self._tail()
            self.stop()
            if "Address already in use" not in last_error:
                break
        raise MotoServerError(f"moto_server did not start:\n{last_error}")

    def _answers(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.endpoint}/moto-api/", timeout=10) as response:  # noqa: S310 - fixed local URL
                return bool(response.status == 200)
        except OSError:
            return False

    def _tail(self, lines: int = 15) -> str:
        if not self.log_path.exists():
            return ""
        return "\n".join(self.log_path.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:])

    def reset(self) -> None:
        """Forget every account's data (moto's reset endpoint): a clean slate between tests."""
        request = urllib.request.Request(f"{self.endpoint}/moto-api/reset", method="POST")  # noqa: S310 - fixed local URL
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - fixed local URL
            response.read()

    def stop(self) -> None:
        """Stop the process (terminate, then kill if it lingers) and close its output."""
        process, self._process = self._process, None
        if process is None:
            return
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if self._drain is not None:
            self._drain.join(timeout=10)
            self._drain = None


def _drain(stream: IO[str] | None, log: IO[str], banner: str, ready: threading.Event) -> None:
    """Copy the server's output to its log (a full pipe would block it) and signal the banner."""
    try:
        if stream is not None:
            for line in stream:
                log.write(line)
                log.flush()
                if banner in line:
                    ready.set()
    finally:
        log.close()
        ready.set()
