"""Restore on delete: remember the contact an account had before a resource first wrote it, put it back later.

The record is an SSM SecureString parameter (encrypted with the account's ``aws/ssm`` key) per stack and
contact slot: ``/cdk-alternate-contacts/<stack uuid>/<account>/<TYPE>``. Its name holds no personal data,
its value is never logged. Keyed by stack rather than by resource, so a renamed resource finds the record
its predecessor made and the value from before the stack survives any number of renames.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from typing import Any

from botocore.exceptions import ClientError

from . import spec
from .account_api import Target, delete_contact, put_contact, read_contact
from .clients import Clients
from .errors import ContactError, error_code, fit_reason, iam_hint, is_access_denied
from .retry import Deadline, call_with_retry

logger = logging.getLogger(__name__)

PARAMETER_PREFIX = spec.RESTORE_PARAMETER_PREFIX


class _Unread:
    """Marks an argument the caller left out (``None`` already means "no contact")."""


UNREAD = _Unread()


def parameter_name(stack_id: str, target: Target) -> str:
    """The record's name: the stack's unique id (the last part of its ARN), the account and the type."""
    stack_uuid = stack_id.rsplit("/", 1)[-1]
    return f"{PARAMETER_PREFIX}/{stack_uuid}/{target.account_id}/{target.contact_type}"


def _ssm_error(error: ClientError, action: str, target: Target) -> ContactError:
    return ContactError(
        fit_reason(
            f"{action} of the record of {target.physical_id} before this stack failed ({error_code(error)}); "
            "restore on delete needs ssm:PutParameter, GetParameter and DeleteParameter on its records"
            + iam_hint(error)
        )
    )


def remember_previous(
    clients: Clients,
    stack_id: str,
    target: Target,
    *,
    deadline: Deadline,
    current: Mapping[str, Any] | _Unread | None = UNREAD,
) -> bool:
    """Record the slot's current contact (or that it has none), unless a record exists already.

    Parameters
    ----------
    current:
        The slot's contact as the caller has just read it (``None``: no contact), so that it is not read
        twice; by default it is read here.

    Returns
    -------
    bool
        True when this call wrote the record (so a failed Create can take it back).
    """
    name = parameter_name(stack_id, target)
    try:
        call_with_retry(
            lambda: clients.ssm.get_parameter(Name=name, WithDecryption=False),
            what="GetParameter",
            deadline=deadline,
            policy=clients.policy,
        )
        logger.info("Restore record for %s exists already: kept", target.physical_id)
        return False
    except ClientError as error:
        if error_code(error) != "ParameterNotFound":
            raise _ssm_error(error, "Reading", target) from None
    live = (
        read_contact(clients.account, target, deadline=deadline, policy=clients.policy)
        if isinstance(current, _Unread)
        else current
    )
    record = {"existed": False} if live is None else {"existed": True, **{k: live[k] for k in spec.DETAIL_FIELDS}}
    try:
        call_with_retry(
            lambda: clients.ssm.put_parameter(
                Name=name,
                Value=json.dumps(record),
                Type="SecureString",
                Overwrite=False,
                Description="cdk-alternate-contacts: the contact before the stack managed it, restored on delete",
            ),
            what="PutParameter",
            deadline=deadline,
            policy=clients.policy,
        )
    except ClientError as error:
        if error_code(error) == "ParameterAlreadyExists":
            return False  # written concurrently by another resource of the stack: the first record wins
        raise _ssm_error(error, "Writing", target) from None
    logger.info("Restore record for %s written (%s)", target.physical_id, "a contact" if live else "no contact")
    return True


def read_record(
    clients: Clients, stack_id: str, target: Target, *, deadline: Deadline, denied_means_none: bool = False
) -> dict[str, Any] | None:
    """The record of the slot, or ``None`` when there is none (or it is unreadable).

    Parameters
    ----------
    denied_means_none:
        Treat an AccessDenied as "no record", at once (see :func:`forget`).
    """
    name = parameter_name(stack_id, target)
    try:
        response = call_with_retry(
            lambda: clients.ssm.get_parameter(Name=name, WithDecryption=True),
            what="GetParameter",
            deadline=deadline,
            policy=clients.policy,
            retry_access_denied=not denied_means_none,
        )
    except ClientError as error:
        if error_code(error) == "ParameterNotFound" or (denied_means_none and is_access_denied(error)):
            return None
        raise _ssm_error(error, "Reading", target) from None
    try:
        record = json.loads(response["Parameter"]["Value"])
    except (KeyError, TypeError, ValueError):
        logger.error("Restore record for %s is unreadable: ignored", target.physical_id)
        return None
    return record if isinstance(record, dict) else None


def forget(
    clients: Clients, stack_id: str, target: Target, *, deadline: Deadline, denied_means_none: bool = False
) -> None:
    """Delete the slot's record (absent counts as done).

    Parameters
    ----------
    denied_means_none:
        True for a resource without restore on delete, which only tidies up after one that had it: a role
        that may not touch the records could never have written one (restore grants all three SSM actions
        together), so an AccessDenied means there is nothing to delete, at once and without retries.
    """
    name = parameter_name(stack_id, target)
    try:
        call_with_retry(
            lambda: clients.ssm.delete_parameter(Name=name),
            what="DeleteParameter",
            deadline=deadline,
            policy=clients.policy,
            retry_access_denied=not denied_means_none,
        )
    except ClientError as error:
        if denied_means_none and is_access_denied(error):
            logger.debug("No access to restore records: %s has none to drop", target.physical_id)
            return
        if error_code(error) != "ParameterNotFound":
            raise _ssm_error(error, "Deleting", target) from None


def restore_previous(
    clients: Clients, stack_id: str, target: Target, *, deadline: Deadline, deleted: Mapping[str, Any] | None = None
) -> str:
    """Put back the contact recorded before the stack, or delete the contact if there was none; drop the record.

    Without a record (the resource was created before restore was turned on) nothing is known about the
    time before, so the contact is deleted, as without restore. A contact that no longer holds ``deleted``
    (what this resource wrote) was set by another writer since: it is left as it is.

    Returns
    -------
    str
        What was done, for the log: ``restored``, ``deleted``, ``deleted (no record)``, ``nothing to
        delete`` or ``left in place (changed by another writer)``.
    """
    record = read_record(clients, stack_id, target, deadline=deadline)
    live = read_contact(clients.account, target, deadline=deadline, policy=clients.policy)
    if live is not None and deleted is not None and not spec.same_contact(deleted, live):
        # Another writer set the contact after this stack did: it is theirs now, not ours to restore over.
        logger.warning("%s: changed by another writer since this stack wrote it; left in place", target.physical_id)
        forget(clients, stack_id, target, deadline=deadline)
        return "left in place (changed by another writer)"
    if (
        record is not None
        and record.get("existed")
        and not spec.field_errors(
            {spec.CONTACT_TYPE: target.contact_type, **{k: record.get(k) for k in spec.DETAIL_FIELDS}}
        )
    ):
        put_contact(
            clients.account,
            target,
            {k: record[k] for k in spec.DETAIL_FIELDS},
            deadline=deadline,
            policy=clients.policy,
        )
        outcome = "restored"
    elif live is None:
        outcome = "nothing to delete"
    else:
        delete_contact(clients.account, target, deadline=deadline, policy=clients.policy, deleted=deleted)
        outcome = "deleted" if record is not None else "deleted (no record)"
    forget(clients, stack_id, target, deadline=deadline)
    return outcome
