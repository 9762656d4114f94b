"""Small network stand-ins that fail on purpose, in front of the project's real local servers.

- :class:`ResettingTcpProxy` sits in front of the HTTPS ResponseURL listener and resets the first
  connections (as a network or S3 front end dropping them would), then passes bytes through unchanged,
  TLS included, so the listener still verifies and records the answer.
- :class:`SlowDownListener` is the listener itself answering S3's ``503 SlowDown`` to the first PUTs of
  a request, without recording them.
- :class:`AccountApiFaultProxy` sits in front of ``moto_server`` (the Account API, restJson over HTTP) and
  answers scheduled calls with 429 ``TooManyRequestsException`` or 500 ``InternalServerException`` the way
  AWS does (header ``x-amzn-ErrorType``), or holds them unanswered; other calls go through to moto. (In
  this process the same faults come cheaper from a botocore hook: ``handler_harness.AccountFaults``.)

All bind 127.0.0.1 only, on ports the OS picks.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import socket
import struct
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from handler_harness import CountingListener

from localdeploy.net import LOCALHOST, LocalServer, QuietHandler

#: restJson paths of the Account API's contact operations (botocore's ``account`` model).
OPERATION_PATHS = {
    "/putAlternateContact": "PutAlternateContact",
    "/getAlternateContact": "GetAlternateContact",
    "/deleteAlternateContact": "DeleteAlternateContact",
}


class ResettingTcpProxy:
    """Accept TCP connections on a free port; reset the first ``resets``, relay the rest to ``target_port``.

    A reset (RST, via ``SO_LINGER`` 0) is what a client sees when a connection is refused mid-flight or a
    load balancer drops it: crhelper's sender gets an exception and retries after two seconds.
    """

    def __init__(self, target_port: int, resets: int) -> None:
        self.target_port = target_port
        self.resets_left = resets
        self.connections = 0
        self.reset_count = 0
        self._lock = threading.Lock()
        self._server = socket.create_server((LOCALHOST, 0))
        self.port: int = self._server.getsockname()[1]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="resetting-proxy", daemon=True)

    def start(self) -> ResettingTcpProxy:
        """Start accepting; returns self."""
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop accepting and close the listening socket."""
        self._stop.set()
        with contextlib.suppress(OSError):
            self._server.close()
        self._thread.join(5)

    def url_through(self, url: str) -> str:
        """``url`` (a listener URL) with its port replaced by the proxy's."""
        parts = urlsplit(url)
        return urlunsplit(parts._replace(netloc=f"{LOCALHOST}:{self.port}"))

    def _serve(self) -> None:
        self._server.settimeout(0.2)
        while not self._stop.is_set():
            try:
                client, _ = self._server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with self._lock:
                self.connections += 1
                reset = self.resets_left > 0
                if reset:
                    self.resets_left -= 1
                    self.reset_count += 1
            if reset:
                client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                client.close()
                continue
            threading.Thread(target=self._relay, args=(client,), name="resetting-proxy-relay", daemon=True).start()

    def _relay(self, client: socket.socket) -> None:
        try:
            upstream = socket.create_connection((LOCALHOST, self.target_port), timeout=10)
        except OSError:
            client.close()
            return
        pumps = [
            threading.Thread(target=_pump, args=(client, upstream), daemon=True),
            threading.Thread(target=_pump, args=(upstream, client), daemon=True),
        ]
        for pump in pumps:
            pump.start()
        for pump in pumps:
            pump.join(30)
        client.close()
        upstream.close()


def _pump(source: socket.socket, sink: socket.socket) -> None:
    try:
        while chunk := source.recv(65536):
            sink.sendall(chunk)
    except OSError:
        pass
    finally:
        with contextlib.suppress(OSError):
            sink.shutdown(socket.SHUT_WR)


class SlowDownListener(CountingListener):
    """The ResponseURL listener, answering ``503 SlowDown`` (S3's throttling) to the first PUTs of a request.

    The refused PUTs are not recorded as answers, as S3 would not have stored them.
    """

    def __init__(self, workdir: Path, refusals: int) -> None:
        super().__init__(workdir)
        self.refusals = refusals
        self.refused: list[str] = []
        self._refused_per_path: dict[str, int] = {}

    def _receive(self, path: str, body: bytes) -> tuple[int, str]:
        key = urlsplit(path).path
        with self._count_lock:
            count = self._refused_per_path.get(key, 0)
            if count < self.refusals:
                self._refused_per_path[key] = count + 1
                self.refused.append(key)
                self.received += 1
                return 503, "SlowDown"
        return super()._receive(path, body)


class AccountApiFaultProxy(LocalServer):
    """An HTTP reverse proxy in front of moto_server that fails scheduled Account API calls.

    Parameters
    ----------
    upstream:
        moto_server's base URL.
    schedule:
        Per operation (``PutAlternateContact``...), the fault of each successive call: ``"429"``,
        ``"500"``, ``"hang"`` (never answered until the client gives up or :meth:`stop`), or ``None``.
    default:
        The fault of calls past an operation's schedule.
    """

    def __init__(
        self,
        upstream: str,
        schedule: Mapping[str, list[str | None]] | None = None,
        *,
        default: Mapping[str, str | None] | None = None,
    ) -> None:
        self.upstream = urlsplit(upstream)
        self.schedule = {name: list(faults) for name, faults in (schedule or {}).items()}
        self.default = dict(default or {})
        self.calls: list[tuple[str, str | None]] = []
        self.released = threading.Event()
        self._lock = threading.Lock()
        super().__init__(_ProxyHandler, name="account-fault-proxy")

    def stop(self) -> None:
        """Release held calls and stop serving."""
        self.released.set()
        super().stop()

    def fault_for(self, path: str) -> tuple[str, str | None]:
        """The operation a request path names and the fault it gets (``None``: pass it on)."""
        operation = OPERATION_PATHS.get(urlsplit(path).path, "")
        with self._lock:
            pending = self.schedule.get(operation)
            fault = pending.pop(0) if pending else self.default.get(operation)
            self.calls.append((operation, fault))
        return operation, fault

    def faults_served(self) -> list[tuple[str, str]]:
        """Every (operation, fault) answered with a fault so far."""
        with self._lock:
            return [(operation, fault) for operation, fault in self.calls if fault is not None]

    def forward(
        self, method: str, path: str, headers: Mapping[str, str], body: bytes
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        """Send the request on to moto_server unchanged; returns status, headers and body."""
        connection = http.client.HTTPConnection(self.upstream.hostname or LOCALHOST, self.upstream.port, timeout=30)
        try:
            connection.request(method, path, body=body, headers=dict(headers))
            response = connection.getresponse()
            return response.status, response.getheaders(), response.read()
        finally:
            connection.close()


_FAULT_STATUS = {"429": (429, "TooManyRequestsException"), "500": (500, "InternalServerException")}
_HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length"}


class _ProxyHandler(QuietHandler):
    def do_POST(self) -> None:
        proxy: AccountApiFaultProxy = self.context
        body = self.read_body()
        _, fault = proxy.fault_for(self.path)
        if fault == "hang":
            # The API never answers: hold the call until the client's read timeout closes it (or the test ends).
            deadline = time.monotonic() + 60
            while not proxy.released.wait(0.2) and time.monotonic() < deadline:
                if _peer_closed(self.connection):
                    break
            self.close_connection = True
            return
        if fault is not None:
            status, code = _FAULT_STATUS[fault]
            payload = json.dumps({"message": f"injected {code}"}).encode()
            self.send_body(status, payload, "application/x-amz-json-1.1", {"x-amzn-ErrorType": code})
            return
        headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP_BY_HOP}
        status, response_headers, response_body = proxy.forward(self.command, self.path, headers, body)
        passed = {k: v for k, v in response_headers if k.lower() not in _HOP_BY_HOP and k.lower() != "content-type"}
        content_type = dict((k.lower(), v) for k, v in response_headers).get("content-type", "application/json")
        self.send_body(status, response_body, content_type, passed)

    do_GET = do_POST
    do_PUT = do_POST


def _peer_closed(connection: socket.socket) -> bool:
    """Whether the client has closed its end (a zero-byte peek), without consuming anything."""
    try:
        connection.setblocking(False)
        try:
            return connection.recv(1, socket.MSG_PEEK) == b""
        finally:
            connection.setblocking(True)
    except BlockingIOError:
        return False
    except OSError:
        return True
