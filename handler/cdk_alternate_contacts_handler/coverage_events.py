"""Which account an event of the organization is about, for the events the coverage listens to.

Shapes (EventBridge; shared/REFERENCE.md section 6 and the SRA sample's handler):

- Organizations ``CreateAccountResult`` ("AWS Service Event via CloudTrail", us-east-1 only):
  ``detail.serviceEventDetails.createAccountStatus`` with ``state`` SUCCEEDED and ``accountId``.
- Organizations ``AcceptHandshake`` ("AWS API Call via CloudTrail", us-east-1 only): the invited account is
  the party of type ACCOUNT in ``detail.responseElements.handshake.parties``, once the handshake is ACCEPTED.
  (The SRA sample compares the name with "AcceptHandShake", which never matches.)
- Organizations ``MoveAccount`` ("AWS API Call via CloudTrail", us-east-1 only):
  ``detail.requestParameters.accountId`` (and ``destinationParentId``).
- Control Tower ``CreateManagedAccount`` / ``UpdateManagedAccount`` (its home region):
  ``detail.serviceEventDetails.createManagedAccountStatus`` (or ``updateManagedAccountStatus``) with
  ``state`` SUCCEEDED and ``account.accountId``.

Anything else is not an account event: :func:`account_of` returns ``None`` and says why.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Final

#: The events the coverage's rules match: (source, eventName).
EVENTS: Final = (
    ("aws.organizations", "CreateAccountResult"),
    ("aws.organizations", "AcceptHandshake"),
    ("aws.organizations", "MoveAccount"),
    ("aws.controltower", "CreateManagedAccount"),
    ("aws.controltower", "UpdateManagedAccount"),
)

_ACCOUNT_ID: Final = re.compile(r"^\d{12}$", re.ASCII)


def _get(value: Any, *path: str) -> Any:
    for key in path:
        if not isinstance(value, Mapping):
            return None
        value = value.get(key)
    return value


def is_event(body: object) -> bool:
    """Whether ``body`` is an EventBridge event (rather than one of the coverage's own messages)."""
    return isinstance(body, Mapping) and "detail-type" in body and "source" in body


def account_of(event: Mapping[str, Any]) -> tuple[str | None, str]:
    """The account an event is about, and the event's name (or why it is about none)."""
    detail = event.get("detail")
    name = str(_get(detail, "eventName") or "")
    source = event.get("source")
    if (source, name) not in EVENTS:
        return None, f"not an account event ({str(source)[:40]} {name[:40]})"
    account: object = None
    if name == "CreateAccountResult":
        status = _get(detail, "serviceEventDetails", "createAccountStatus")
        if _get(status, "state") != "SUCCEEDED":
            return None, f"{name}: the account was not created"
        account = _get(status, "accountId")
    elif name == "AcceptHandshake":
        handshake = _get(detail, "responseElements", "handshake")
        if _get(handshake, "state") != "ACCEPTED":
            return None, f"{name}: the handshake is not ACCEPTED"
        parties = _get(handshake, "parties") or []
        accounts = [p.get("id") for p in parties if isinstance(p, Mapping) and p.get("type") == "ACCOUNT"]
        account = accounts[0] if accounts else None
    elif name == "MoveAccount":
        account = _get(detail, "requestParameters", "accountId")
    else:
        key = "createManagedAccountStatus" if name == "CreateManagedAccount" else "updateManagedAccountStatus"
        status = _get(detail, "serviceEventDetails", key)
        if _get(status, "state") != "SUCCEEDED":
            return None, f"{name}: not SUCCEEDED"
        account = _get(status, "account", "accountId")
    if not isinstance(account, str) or not _ACCOUNT_ID.fullmatch(account):
        return None, f"{name}: no account id in the event"
    return account, name
