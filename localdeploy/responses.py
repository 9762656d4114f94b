"""The HTTPS listener behind CloudFormation's pre-signed ResponseURLs: every answer, counted per request.

CloudFormation hands each custom resource request a pre-signed S3 URL and waits for exactly one PUT of
JSON to it. crhelper always answers over HTTPS, verifying the server against the default CA store, so
this listener serves real TLS with a throwaway CA (trustme) whose PEM the function process receives
through ``SSL_CERT_FILE``. Nothing is patched inside the function.

A second answer to one request is recorded, not dropped: it is a bug to report.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import ssl
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import trustme

from .net import LOCALHOST, LocalServer, QuietHandler

#: Lifetime of CloudFormation's pre-signed response URLs (two hours).
URL_LIFETIME_S = 7200

#: CloudFormation ignores answers larger than this (its documented limit).
MAX_ANSWER_BYTES = 4096


@dataclass(frozen=True)
class Answer:
    """One PUT received for a request.

    Attributes
    ----------
    request_id:
        CloudFormation's RequestId the URL was issued for.
    received_at:
        Wall-clock time of receipt (``time.time()``).
    body:
        The raw body as sent.
    document:
        The body parsed as JSON, or ``None`` when it is not a JSON object.
    """

    request_id: str
    received_at: float
    body: bytes
    document: dict[str, Any] | None


@dataclass(frozen=True)
class IssuedUrl:
    """A ResponseURL handed out with one request."""

    stack_name: str
    request_id: str
    signature: str
    url: str
    expires_at: float


@dataclass(frozen=True)
class Rejected:
    """A PUT that matched no issued URL (unknown request, wrong signature, expired): S3 answers 403."""

    path: str
    reason: str
    received_at: float


class ResponseListener(LocalServer):
    """An HTTPS server on 127.0.0.1 that issues ResponseURLs and records every answer to them.

    Parameters
    ----------
    workdir:
        Where the CA certificate (PEM) is written for the function's ``SSL_CERT_FILE``.
    """

    def __init__(self, workdir: Path) -> None:
        self._ca = trustme.CA()
        workdir.mkdir(parents=True, exist_ok=True)
        self.ca_file = workdir / "response-listener-ca.pem"
        self._ca.cert_pem.write_to_path(str(self.ca_file))
        tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        # The certificate names the IP address: crhelper connects to 127.0.0.1 with hostname checks on.
        self._ca.issue_cert(LOCALHOST).configure_cert(tls)
        self._lock = threading.Condition()
        self._issued: dict[str, IssuedUrl] = {}
        self._answers: dict[str, list[Answer]] = {}
        self._watchers: dict[str, list[threading.Event]] = {}
        self.rejected: list[Rejected] = []
        super().__init__(_ResponseHandler, name="response-listener", tls=tls)

    def issue(self, stack_name: str, request_id: str) -> str:
        """A new ResponseURL for one request, shaped like CloudFormation's pre-signed S3 URLs."""
        signature = secrets.token_hex(32)
        now = datetime.now(UTC)
        credential = quote(f"AKIA6LOCALDEPLOY0000/{now:%Y%m%d}/us-east-1/s3/aws4_request", safe="")
        url = (
            f"https://{LOCALHOST}:{self.port}/{quote(stack_name, safe='')}/{request_id}"
            f"?X-Amz-Signature={signature}&X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Date={now:%Y%m%dT%H%M%SZ}"
            f"&X-Amz-SignedHeaders=host&X-Amz-Expires={URL_LIFETIME_S}&X-Amz-Credential={credential}"
        )
        with self._lock:
            self._issued[request_id] = IssuedUrl(stack_name, request_id, signature, url, time.time() + URL_LIFETIME_S)
        return url

    def watch(self, request_id: str, wake: threading.Event) -> None:
        """Set ``wake`` when an answer for ``request_id`` arrives (at once if one already has)."""
        with self._lock:
            self._watchers.setdefault(request_id, []).append(wake)
            if self._answers.get(request_id):
                wake.set()

    def answers(self, request_id: str) -> list[Answer]:
        """Every answer received for ``request_id``, in order of arrival."""
        with self._lock:
            return list(self._answers.get(request_id, ()))

    def wait(self, request_id: str, timeout_s: float) -> Answer | None:
        """The first answer for ``request_id``, waiting up to ``timeout_s``; ``None`` if none came."""
        with self._lock:
            self._lock.wait_for(lambda: bool(self._answers.get(request_id)), timeout=timeout_s)
            received = self._answers.get(request_id)
            return received[0] if received else None

    def issued(self) -> list[IssuedUrl]:
        """Every URL issued so far."""
        with self._lock:
            return list(self._issued.values())

    def answer_counts(self, request_ids: list[str] | None = None) -> dict[str, int]:
        """How many answers each issued request got (all issued requests by default)."""
        with self._lock:
            ids = list(self._issued) if request_ids is None else request_ids
            return {request_id: len(self._answers.get(request_id, ())) for request_id in ids}

    def _receive(self, path: str, body: bytes) -> tuple[int, str]:
        """Record one PUT; returns the HTTP status and an S3-style error code (empty when accepted)."""
        now = time.time()
        parts = urlsplit(path)
        segments = parts.path.strip("/").split("/")
        query = parse_qs(parts.query)
        request_id = segments[-1] if segments else ""
        with self._lock:
            issued = self._issued.get(request_id)
            reason = ""
            if issued is None or len(segments) != 2:
                reason = "NoSuchKey: no ResponseURL was issued for this path"
            elif query.get("X-Amz-Signature", [""])[0] != issued.signature:
                reason = "SignatureDoesNotMatch"
            elif now > issued.expires_at:
                reason = "AccessDenied: Request has expired"
            if reason:
                self.rejected.append(Rejected(parts.path, reason, now))
                return 403, reason.split(":", 1)[0]
            try:
                parsed = json.loads(body)
            except ValueError:
                parsed = None
            document = parsed if isinstance(parsed, dict) else None
            self._answers.setdefault(request_id, []).append(Answer(request_id, now, body, document))
            for wake in self._watchers.get(request_id, ()):
                wake.set()
            self._lock.notify_all()
        return 200, ""


class _ResponseHandler(QuietHandler):
    """Accepts PUTs the way S3 does for a pre-signed URL."""

    def do_PUT(self) -> None:  # noqa: N802 - http.server's naming
        """Record the answer; 200 with an ETag, or 403 with S3's XML error."""
        body = self.read_body()
        listener: ResponseListener = self.context
        status, code = listener._receive(self.path, body)
        if status == 200:
            self.send_body(200, b"", "text/plain", {"ETag": f'"{hashlib.md5(body).hexdigest()}"'})  # noqa: S324 - S3's ETag
        else:
            error = f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{code}</Code></Error>'.encode()
            self.send_body(status, error, "application/xml")

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        """Only PUT is meaningful on a response URL."""
        self.send_body(405, b"", "text/plain")

    do_POST = do_GET  # noqa: N815 - http.server's naming
