"""The Account Management API's alternate contacts: read, written and deleted, confirmed by reads, errors explained.

One layer for every caller: the provider's lifecycle, the coverage function, the command-line tool and the
local engine read a contact through :func:`get_contact`, and every call selects its slot with
:meth:`Target.api_arguments`, which leaves AccountId out for the account the caller runs in (the management
account may not name itself). Every function takes the boto3 ``account`` client as an argument so tests can
hand in a client pointed at moto or wrapped in botocore's Stubber. Nothing here reads the environment or
logs contact details.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from . import spec
from .errors import (
    ACCESS_DENIED_CODES,
    ACCESS_DENIED_HINT,
    IAM_PROPAGATION_HINT,
    ContactError,
    error_code,
    error_message,
    fit_reason,
    is_not_found,
    redact,
)
from .retry import Deadline, RetryPolicy, call_with_retry, wait_until

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Target:
    """One alternate contact slot: an account and a contact type.

    Attributes
    ----------
    account_id:
        The 12-digit account whose contact is managed.
    contact_type:
        BILLING, OPERATIONS or SECURITY.
    own_account:
        True when ``account_id`` is the account the function runs in. The API call then leaves
        AccountId out, because the management account may not name itself.
    """

    account_id: str
    contact_type: str
    own_account: bool

    @property
    def physical_id(self) -> str:
        """The resource identity, ``<account>/<TYPE>``."""
        return spec.physical_id(self.account_id, self.contact_type)

    def api_arguments(self) -> dict[str, str]:
        """Keyword arguments that select this slot in Put/Get/DeleteAlternateContact."""
        arguments = {spec.CONTACT_TYPE: self.contact_type}
        if not self.own_account:
            arguments[spec.ACCOUNT_ID] = self.account_id
        return arguments


#: The boto3 method of each Account API action this layer makes.
_METHODS = {
    "GetAlternateContact": "get_alternate_contact",
    "PutAlternateContact": "put_alternate_contact",
    "DeleteAlternateContact": "delete_alternate_contact",
}


def _call(
    client: Any,
    action: str,
    target: Target,
    details: Mapping[str, str] | None = None,
    *,
    deadline: Deadline,
    policy: RetryPolicy,
    **retry: Any,
) -> Any:
    """Make ``action`` on ``target``'s slot (with a Put's ``details``), retried by :func:`~.retry.call_with_retry`."""
    method = getattr(client, _METHODS[action])
    arguments = {**target.api_arguments(), **(details or {})}
    return call_with_retry(
        lambda: method(**arguments), what=f"{action} {target.physical_id}", deadline=deadline, policy=policy, **retry
    )


def explain(error: ClientError, target: Target, action: str, details: Mapping[str, Any]) -> ContactError:
    """Turn an API error into a reason that tells the user what to do, without contact details."""
    code = error_code(error)
    slot = target.physical_id
    if code in ACCESS_DENIED_CODES:
        if not target.own_account:
            text = (
                f"{action} {slot}: AccessDenied; the role lacks account:{action} ({IAM_PROPAGATION_HINT}) or "
                f"{ACCESS_DENIED_HINT}"
            )
        else:
            text = (
                f"{action} {slot}: AccessDenied; the role lacks account:{action} on this account for this type; "
                f"{IAM_PROPAGATION_HINT}"
            )
    elif code == "ValidationException":
        text = f"{action} {slot}: the API rejected the request: {redact(error_message(error), details.values())}"
    else:
        text = f"{action} {slot}: {code}: {redact(error_message(error), details.values())}"
    return ContactError(fit_reason(text))


def get_contact(
    client: Any, target: Target, *, deadline: Deadline, policy: RetryPolicy, **retry: Any
) -> dict[str, str] | None:
    """The live details of ``target`` (the four fields, as strings), or ``None`` when it has no contact.

    Parameters
    ----------
    retry:
        More keyword arguments for :func:`~.retry.call_with_retry` (``retry_access_denied``, ``on_retryable``).

    Raises
    ------
    botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError
        As the API raised them, for the caller to explain in its own terms (:func:`read_contact` does for a
        function answering CloudFormation).
    """
    try:
        response = _call(client, "GetAlternateContact", target, deadline=deadline, policy=policy, **retry)
    except ClientError as error:
        if is_not_found(error):
            return None
        raise
    live = response.get("AlternateContact", {})
    return {key: str(live.get(key, "")) for key in spec.DETAIL_FIELDS}


def read_contact(client: Any, target: Target, *, deadline: Deadline, policy: RetryPolicy) -> dict[str, str] | None:
    """Return the live contact of ``target``, or ``None`` when the account has none of that type.

    Raises
    ------
    ContactError
        Explaining an error of the API (:func:`explain`).
    """
    try:
        return get_contact(client, target, deadline=deadline, policy=policy)
    except ClientError as error:
        raise explain(error, target, "GetAlternateContact", {}) from None


def put_contact(
    client: Any, target: Target, details: Mapping[str, str], *, deadline: Deadline, policy: RetryPolicy
) -> None:
    """Write the contact (create or replace) and wait until a read returns it.

    One read that sees the new values is the confirmation: the Put's success is the API's commitment, and
    the read only waits out the moments after it when a Get still finds nothing (the API is eventually
    consistent: hashicorp/terraform-provider-aws #22186). A second read would cost a Get per contact, and
    with the read before the write (kept for undo) that is 3 Gets per Put: at the quotas of 10 Gets and 5
    Puts a second, Gets, not Puts, would then set the pace of a fan-out (``benchmarks/fanout.py``).
    """
    fields = {key: details[key] for key in spec.DETAIL_FIELDS}
    try:
        _call(client, "PutAlternateContact", target, fields, deadline=deadline, policy=policy)
    except ClientError as error:
        raise explain(error, target, "PutAlternateContact", details) from None

    def visible() -> bool:
        live = read_contact(client, target, deadline=deadline, policy=policy)
        return live is not None and spec.same_contact(details, live)

    wait_until(
        visible, what=f"PutAlternateContact {target.physical_id}", deadline=deadline, policy=policy, agreeing_reads=1
    )


def still_ours(
    client: Any, target: Target, written: Mapping[str, Any], *, deadline: Deadline, policy: RetryPolicy
) -> bool:
    """Whether the slot still holds what this resource wrote (False also when it holds nothing)."""
    live = read_contact(client, target, deadline=deadline, policy=policy)
    if live is None:
        logger.info("%s: there is no contact", target.physical_id)
        return False
    if not spec.same_contact(written, live):
        logger.warning("%s: changed by another writer since this stack wrote it; left in place", target.physical_id)
        return False
    return True


def delete_contact(
    client: Any,
    target: Target,
    *,
    deadline: Deadline,
    policy: RetryPolicy,
    deleted: Mapping[str, Any] | None = None,
) -> bool:
    """Delete the contact and wait until two reads in a row find none.

    Parameters
    ----------
    deleted:
        The details this resource had written, when known. If a read after the delete returns other
        details, a concurrent writer (another resource or a person) has set the contact since: it is
        theirs now, so the wait ends there and nothing is deleted again.

    Returns
    -------
    bool
        False when nothing was deleted: there was no contact (ResourceNotFoundException counts as success),
        or it no longer holds ``deleted`` (another writer set it after this resource: it is theirs).
    """
    if deleted is not None and not still_ours(client, target, deleted, deadline=deadline, policy=policy):
        return False
    try:
        _call(client, "DeleteAlternateContact", target, deadline=deadline, policy=policy)
    except ClientError as error:
        if is_not_found(error):
            return False
        raise explain(error, target, "DeleteAlternateContact", {}) from None

    def settled() -> bool:
        live = read_contact(client, target, deadline=deadline, policy=policy)
        if live is not None and deleted is not None and not spec.same_contact(deleted, live):
            logger.info("DeleteAlternateContact %s: a concurrent write set the contact again", target.physical_id)
            return True
        return live is None

    wait_until(settled, what=f"DeleteAlternateContact {target.physical_id}", deadline=deadline, policy=policy)
    return True
