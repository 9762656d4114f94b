"""Deliver CloudFormation's answer: one HTTPS PUT to the pre-signed ResponseURL, retried within the time left.

crhelper's own sender counts any HTTP status as delivered (an S3 503 SlowDown loses the answer) and, when
the connection fails, retries five times and then loops for ever. This one retries connection failures,
throttling and server errors with backoff, gives up on a refusal that another attempt cannot fix (an
expired URL answers 403), and never outlives the invocation. It never logs the URL: its query string is a
signature that lets anyone answer for the stack.
"""

from __future__ import annotations

import json
import logging
import ssl
import time
from collections.abc import Callable
from http.client import HTTPException, HTTPSConnection, InvalidURL
from typing import Any
from urllib.parse import urlsplit

logger = logging.getLogger(__name__)

#: CloudFormation ignores an answer larger than this.
MAX_ANSWER_BYTES = 4096

#: Seconds one PUT may wait to connect or for the reply.
PUT_TIMEOUT_S = 5.0


def encode(body: dict[str, Any]) -> bytes:
    """The answer as JSON, cut to CloudFormation's 4,096 bytes by dropping Data first, then shortening Reason."""
    try:
        data = json.dumps(body).encode()
    except (TypeError, ValueError):
        body = {**body, "Data": {}, "Status": "FAILED", "Reason": "the answer's data could not be encoded"}
        data = json.dumps(body).encode()
    if len(data) > MAX_ANSWER_BYTES and body.get("Data"):
        data = json.dumps({**body, "Data": {}}).encode()
    if len(data) > MAX_ANSWER_BYTES:
        overflow = len(data) - MAX_ANSWER_BYTES + 3
        data = json.dumps({**body, "Data": {}, "Reason": str(body.get("Reason", ""))[:-overflow] + "..."}).encode()
    return data


def deliver(
    url: str,
    body: dict[str, Any],
    *,
    seconds: float,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> bool:
    """PUT ``body`` to ``url`` until a 2xx reply, a final refusal, or ``seconds`` have passed.

    Returns
    -------
    bool
        Whether CloudFormation's endpoint accepted the answer.
    """
    data = encode(body)
    parts = urlsplit(url)
    if not parts.hostname:
        logger.error("Answer not delivered: the ResponseURL names no host")
        return False
    target = parts.path + (f"?{parts.query}" if parts.query else "")
    give_up_at = clock() + max(seconds, 0.5)
    delay = 0.25
    attempt = 0
    while True:
        attempt += 1
        try:
            timeout = max(0.5, min(PUT_TIMEOUT_S, give_up_at - clock()))
            connection = HTTPSConnection(parts.netloc, timeout=timeout, context=ssl.create_default_context())
            try:
                connection.request(
                    "PUT", target, body=data, headers={"content-type": "", "content-length": str(len(data))}
                )
                status = connection.getresponse().status
            finally:
                connection.close()
            if 200 <= status < 300:
                logger.info("Answer %s delivered (HTTP %d, attempt %d)", body.get("Status"), status, attempt)
                return True
            if status != 429 and status < 500:
                logger.error("Answer refused with HTTP %d by %s: not retried", status, parts.hostname)
                return False
            problem = f"HTTP {status}"
        except (InvalidURL, ValueError) as error:  # no attempt can succeed
            logger.error("Answer not delivered: the ResponseURL is not usable (%s)", type(error).__name__)
            return False
        except (OSError, HTTPException) as error:
            problem = type(error).__name__
        if clock() + delay >= give_up_at:
            logger.error("Answer not delivered to %s after %d attempts (%s)", parts.hostname, attempt, problem)
            return False
        logger.warning("Answer to %s: %s, attempt %d; retrying in %.2f s", parts.hostname, problem, attempt, delay)
        sleep(delay)
        delay = min(delay * 2, 2.0)
