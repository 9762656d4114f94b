"""What a botocore error means: worth another attempt, IAM refusing, nothing there; and reasons fit to show.

Shared by the provider, the coverage function and the command-line tool, so that every caller of AWS
classifies an error the same way. Nothing here logs or quotes a contact detail.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from botocore.exceptions import (
    ClientError,
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    ReadTimeoutError,
)

#: CloudFormation shows at most this much of a reason (crhelper keeps the tail of a longer one).
MAX_REASON = 256

#: Error codes of the API refusing the pace: worth another attempt after slowing down.
THROTTLING_CODES = frozenset({"TooManyRequestsException", "ThrottlingException", "Throttling"})

#: Error codes worth another attempt: the API's throttling and server faults.
RETRYABLE_CODES = THROTTLING_CODES | {"InternalServerException", "ServiceUnavailableException"}
RETRYABLE_TRANSPORT = (EndpointConnectionError, ConnectTimeoutError, ReadTimeoutError, ConnectionClosedError)

#: Error codes of a call the role may not make (yet): IAM applies a changed policy after a few seconds.
ACCESS_DENIED_CODES = frozenset({"AccessDeniedException", "AccessDenied", "AccessDeniedFault"})

#: Error codes of a thing that does not exist: a contact slot without a contact, an account the organization
#: no longer knows, a restore record never written.
NOT_FOUND_CODES = frozenset({"ResourceNotFoundException", "AccountNotFoundException", "ParameterNotFound"})

#: Appended to a reason for an AccessDenied that outlived the retries.
IAM_PROPAGATION_HINT = "IAM may still apply a policy change"

ACCESS_DENIED_HINT = (
    "not called from the management account/delegated administrator (trusted access on) for a member account"
)


class ContactError(Exception):
    """A failure to report to CloudFormation: its message is short, readable and free of contact details."""


def error_code(error: BaseException) -> str:
    """The API error code of a botocore ClientError, or the exception's class name."""
    if isinstance(error, ClientError):
        return str(error.response.get("Error", {}).get("Code", "Unknown"))
    return type(error).__name__


def error_message(error: ClientError) -> str:
    """The API's own words for the error (they may quote what was sent: redact before showing them)."""
    return str(error.response.get("Error", {}).get("Message", ""))


def is_retryable(error: BaseException) -> bool:
    """Whether another attempt may succeed: throttling, a server fault or a broken connection."""
    if isinstance(error, RETRYABLE_TRANSPORT):
        return True
    if isinstance(error, ClientError):
        status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
        return error_code(error) in RETRYABLE_CODES or status in (429, 500, 502, 503, 504)
    return False


def is_throttling(error: BaseException) -> bool:
    """Whether the API refused the pace of the calls (the caller should slow down, not only wait)."""
    return isinstance(error, ClientError) and error_code(error) in THROTTLING_CODES


def is_access_denied(error: BaseException) -> bool:
    """Whether the error is IAM refusing the call (any service's spelling of AccessDenied)."""
    return isinstance(error, ClientError) and error_code(error) in ACCESS_DENIED_CODES


def is_not_found(error: BaseException) -> bool:
    """Whether the error says the thing asked for does not exist (see :data:`NOT_FOUND_CODES`)."""
    return isinstance(error, ClientError) and error_code(error) in NOT_FOUND_CODES


def iam_hint(error: BaseException) -> str:
    """``"; IAM may still apply a policy change"`` for an AccessDenied, to end a reason with; else nothing."""
    return f"; {IAM_PROPAGATION_HINT}" if is_access_denied(error) else ""


def redact(text: str, secrets: Iterable[str]) -> str:
    """Remove every contact detail (and anything shaped like an email address) from ``text``."""
    for secret in sorted({s.strip() for s in secrets if isinstance(s, str) and s.strip()}, key=len, reverse=True):
        text = text.replace(secret, "<redacted>")
    return re.sub(r"[^\s@]+@[^\s@]+", "<redacted>", text)


def fit_reason(text: str) -> str:
    """Shorten a reason to what CloudFormation shows, keeping its start (crhelper would keep the end)."""
    return text if len(text) <= MAX_REASON else text[: MAX_REASON - 3] + "..."
