"""Local networking: every server binds 127.0.0.1 only, and each runs in a thread that can be stopped."""

from __future__ import annotations

import http.client
import socket
import ssl
import sys
import threading
from collections.abc import Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self, cast
from urllib.parse import SplitResult

#: The only address anything here listens on or talks to.
LOCALHOST = "127.0.0.1"


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that was free a moment ago.

    Only for processes that must be told their port on the command line (moto_server); servers in this
    process bind port 0 instead, which has no race.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((LOCALHOST, 0))
        port: int = probe.getsockname()[1]
        return port


class ContextServer(ThreadingHTTPServer):
    """A threading HTTP server that carries the object its handlers serve (``context``)."""

    context: Any = None

    #: The listen backlog. socketserver's default of 5 drops connections when hundreds of execution
    #: environments call at once (a fan-out), which no AWS endpoint does: clients then see connection
    #: timeouts and resets that are the emulator's, not the service's.
    request_queue_size = 1024

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Ignore a client that hung up (a runtime process being stopped); report anything else."""
        error = sys.exc_info()[1]
        if isinstance(error, (ConnectionResetError, BrokenPipeError, ssl.SSLEOFError)):
            return
        super().handle_error(request, client_address)


class QuietHandler(BaseHTTPRequestHandler):
    """A request handler that speaks HTTP/1.1 (clients keep connections open) and logs nothing.

    The default handler writes a line per request to stderr, which would bury the demo's output.
    """

    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        """Stay silent; each server records what matters itself."""

    @property
    def context(self) -> Any:
        """The object this server was started for (see :class:`ServerThread`)."""
        return cast(ContextServer, self.server).context

    def read_body(self) -> bytes:
        """Read the request body announced by Content-Length (every client here sends one)."""
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def send_forwarded(self, status: int, headers: list[tuple[str, str]], body: bytes) -> None:
        """Answer with what an upstream answered (see :func:`forward`)."""
        lowered = {k.lower(): v for k, v in headers}
        kept = {k: v for k, v in headers if k.lower() not in HOP_BY_HOP and k.lower() != "content-type"}
        self.send_body(status, body, lowered.get("content-type", "application/json"), kept)

    def send_body(self, status: int, body: bytes, content_type: str, headers: dict[str, str] | None = None) -> None:
        """Answer with ``body`` and the headers a keep-alive client needs to find its end."""
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        if body:
            self.wfile.write(body)


#: Headers that describe one connection, not the message: a proxy does not pass them on.
HOP_BY_HOP = frozenset({"connection", "keep-alive", "transfer-encoding", "content-length"})


def forward(
    upstream: SplitResult, method: str, path: str, headers: Mapping[str, str], body: bytes, *, timeout_s: float = 60
) -> tuple[int, list[tuple[str, str]], bytes]:
    """Send a request on to ``upstream`` unchanged (but for hop-by-hop headers); its status, headers, body."""
    connection = http.client.HTTPConnection(upstream.hostname or LOCALHOST, upstream.port, timeout=timeout_s)
    try:
        passed = {k: v for k, v in headers.items() if k.lower() not in HOP_BY_HOP}
        connection.request(method, path, body=body, headers=passed)
        response = connection.getresponse()
        return response.status, response.getheaders(), response.read()
    finally:
        connection.close()


class ServerThread:
    """Runs a :class:`ThreadingHTTPServer` on 127.0.0.1 in a daemon thread until :meth:`stop`.

    Parameters
    ----------
    handler:
        The request handler class; it reaches shared objects through ``self.server``.
    name:
        Thread name, to tell the servers apart in a stack dump.
    context:
        Handed to the handlers as ``self.context``.
    tls:
        Serve HTTPS with this server-side context. The handshake runs in each connection's own thread,
        so one slow client cannot hold up the others.
    """

    def __init__(
        self,
        handler: type[BaseHTTPRequestHandler],
        *,
        name: str,
        context: Any = None,
        tls: ssl.SSLContext | None = None,
    ) -> None:
        self.server = ContextServer((LOCALHOST, 0), handler)
        self.server.context = context
        if tls is not None:
            self.server.socket = tls.wrap_socket(self.server.socket, server_side=True, do_handshake_on_connect=False)
        # Handler threads may be parked in a long poll (the Runtime API's /next) when we stop; they
        # must not keep the interpreter alive.
        self.server.daemon_threads = True
        self.port: int = self.server.server_address[1]
        # A short poll interval keeps stop() quick: shutdown waits for the serving loop's next poll.
        self._thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.1}, name=name, daemon=True
        )

    def start(self) -> ServerThread:
        """Start serving; returns self for chaining."""
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop accepting, close the listening socket and wait for the serving thread."""
        if self._thread.is_alive():
            self.server.shutdown()
            self._thread.join()
        self.server.server_close()


class LocalServer:
    """Something served on 127.0.0.1 by a request handler class: every local front, API and listener here.
    Its handlers reach it as ``self.context``; ``tls`` serves HTTPS (see :class:`ServerThread`).
    """

    def __init__(self, handler: type[BaseHTTPRequestHandler], *, name: str, tls: ssl.SSLContext | None = None) -> None:
        self._server = ServerThread(handler, name=name, context=self, tls=tls)
        self._scheme = "http" if tls is None else "https"

    @property
    def port(self) -> int:
        """The listening port."""
        return self._server.port

    @property
    def endpoint(self) -> str:
        """The base URL (``http://127.0.0.1:<port>``), what an ``AWS_ENDPOINT_URL_<SERVICE>`` is set to."""
        return f"{self._scheme}://{LOCALHOST}:{self._server.port}"

    def start(self) -> Self:
        """Start serving; returns self."""
        self._server.start()
        return self

    def stop(self) -> None:
        """Stop serving."""
        self._server.stop()
