"""The provider's part in a coverage: the run trigger resource, and handing over accounts the stack stops listing.

``Custom::AlternateContactsCoverage`` is created or updated when the coverage is, or its rules change (its
properties hold their digest): the provider sends the queue a ``start`` message and the coverage function does
the full run. Its Delete (the coverage removed) changes nothing: the covered accounts keep their contacts.

When a listed account's resource is deleted (the account left ``[[accounts]]``, or the stack goes), the
coverage may have to keep that account from now on. The Delete does what it always does, then sends the
account to the coverage's queue: the coverage function applies its rules unless the account is still listed
(a move between nested stacks) or outside its scope. Sending is best effort: a lost hand-over is repaired by
the next scheduled run, and never fails the Delete.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Mapping
from typing import Any, Final

from botocore.exceptions import BotoCoreError, ClientError

from . import spec
from .errors import ContactError, error_code
from .retry import Deadline, RetryPolicy, call_with_retry

logger = logging.getLogger(__name__)

#: An SQS queue URL (http only from a local emulator: AWS's are https).
_QUEUE_URL: Final = re.compile(r"^https?://[A-Za-z0-9.-]+(:\d+)?/\d{12}/[A-Za-z0-9_-]{1,80}$", re.ASCII)


def _queue_url(properties: Mapping[str, Any]) -> str:
    url = properties.get(spec.COVERAGE_QUEUE_URL)
    if not isinstance(url, str) or not _QUEUE_URL.fullmatch(url):
        raise ContactError(f"Invalid properties: {spec.COVERAGE_QUEUE_URL} must be an SQS queue URL")
    digest = properties.get(spec.COVERAGE_RULES_DIGEST)
    if not isinstance(digest, str) or not re.fullmatch(r"[0-9a-f]{64}", digest):
        raise ContactError(f"Invalid properties: {spec.COVERAGE_RULES_DIGEST} must be a SHA-256 digest")
    return url


def _send(sqs: Any, url: str, body: Mapping[str, Any], what: str, *, deadline: Deadline, policy: RetryPolicy) -> None:
    call_with_retry(
        lambda: sqs.send_message(QueueUrl=url, MessageBody=json.dumps(body)),
        what=f"SQS SendMessage ({what})",
        deadline=deadline,
        policy=policy,
    )


def physical_id(url: str) -> str:
    """The trigger's identity: ``coverage/<queue name>``, the same through every update."""
    return "coverage/" + url.rsplit("/", 1)[-1]


def start(event: Mapping[str, Any], sqs: Any, deadline: Deadline, policy: RetryPolicy) -> str:
    """Create or Update: send the queue the message that starts a full run; returns the physical id."""
    properties = event.get("ResourceProperties") or {}
    url = _queue_url(properties)
    body = {"action": "start", "reason": f"deploy ({event.get('RequestType')})"}
    try:
        _send(sqs, url, body, "coverage run", deadline=deadline, policy=policy)
    except ClientError as error:
        raise ContactError(f"SQS SendMessage to the coverage queue: {error_code(error)}") from None
    return physical_id(url)


def stop(event: Mapping[str, Any]) -> None:
    """Delete: the coverage goes; the accounts it kept keep their contacts."""
    logger.info(
        "coverage %s removed: the accounts it kept keep their contacts", str(event.get("PhysicalResourceId"))[:100]
    )


def hand_over(
    event: Mapping[str, Any], sqs: Any, queue_url: str | None, *, deadline: Deadline, policy: RetryPolicy
) -> bool:
    """After a listed account's resource is deleted, send the account to the coverage; True when sent."""
    if not queue_url:
        return False
    properties = event.get("ResourceProperties") or {}
    account = properties.get(spec.ACCOUNT_ID) if isinstance(properties, Mapping) else None
    if not isinstance(account, str) or not re.fullmatch(r"\d{12}", account):
        return False
    body = {"action": "apply", "account": account, "path": None, "reason": "hand-over from a deleted resource"}
    try:
        _send(sqs, queue_url, body, "hand-over", deadline=deadline, policy=policy)
    except (ClientError, BotoCoreError, ContactError) as error:
        logger.warning(
            "hand-over of %s to the coverage not sent (%s): the next scheduled run covers it",
            account,
            type(error).__name__ if not isinstance(error, ClientError) else error_code(error),
        )
        return False
    logger.info("%s handed over to the coverage", account)
    return True
