"""A Create's or Update's writes, journaled so that a failure part way can take them back before answering.

Each slot's previous value is read just before it is written (and, with restore on delete, recorded), so the
undo needs no record: it puts back what the invocation itself saw.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from . import spec
from .account_api import Target, delete_contact, put_contact, read_contact
from .clients import Clients
from .errors import ContactError, fit_reason
from .request import Declaration
from .restore import forget, remember_previous
from .retry import Deadline

logger = logging.getLogger(__name__)


#: Seconds of the invocation kept back from a Create's or Update's writes, so that a failure part way still
#: has time to undo what was written before it answers (a hard stop at the deadline would leave no time);
#: at most :data:`UNDO_RESERVE_SHARE` of the time left, so a short invocation can still write.
UNDO_RESERVE_S = 15.0
UNDO_RESERVE_SHARE = 0.25


def forward_deadline(deadline: Deadline) -> Deadline:
    """The deadline of a Create's or Update's writes: the invocation's, minus the time kept for an undo."""
    return deadline.narrowed(min(UNDO_RESERVE_S, max(0.0, deadline.seconds_left()) * UNDO_RESERVE_SHARE))


@dataclass(frozen=True)
class Write:
    """One slot a Create or Update set from a value the stack had not written: what to put back on failure.

    Attributes
    ----------
    target:
        The slot.
    previous:
        What it held just before the write (``None``: no contact), read by the same invocation.
    written:
        The details written.
    """

    target: Target
    previous: Mapping[str, Any] | None
    written: Mapping[str, str]


@dataclass
class Journal:
    """What one invocation changed that a failure must take back: slot writes and restore records."""

    writes: list[Write] = field(default_factory=list)
    records: list[Target] = field(default_factory=list)


def put_tracked(
    declared: Declaration,
    contact_type: str,
    event: Mapping[str, Any],
    clients: Clients,
    deadline: Deadline,
    *,
    journal: Journal,
) -> None:
    """Read what the slot holds, record it for restore on delete when asked, note it in ``journal``, then put.

    The read happens with or without restore on delete: the previous value is kept in memory so that a
    failure of this invocation can put it back. The write is journaled before the put, because a put
    that raised (an unconfirmed write, a lost reply) may still have landed.
    """
    target = declared.target(contact_type)
    previous = read_contact(clients.account, target, deadline=deadline, policy=clients.policy)
    if declared.restore_on_delete:
        stack_id = str(event.get("StackId"))
        wrote = remember_previous(clients, stack_id, target, deadline=deadline, current=previous)
        if wrote:
            journal.records.append(target)
    details = declared.contacts[contact_type]
    journal.writes.append(Write(target, previous, details))
    put_contact(clients.account, target, details, deadline=deadline, policy=clients.policy)


def undo(journal: Journal, event: Mapping[str, Any], clients: Clients, deadline: Deadline) -> list[str]:
    """Best effort after a failure: give each written slot back what it held, and drop the records written.

    A slot is put back only while it still holds what this invocation wrote: otherwise the write never
    landed, or another writer has set the slot since, and either way it is not this invocation's to
    change. The records are dropped in every case: after a failed Create nothing will ever restore from
    them (its Delete carries an id this handler did not issue), and after a failed Update the rollback
    Update decides from the live slot.

    Returns
    -------
    list[str]
        The slots (``<account>/<TYPE>``) and records that could not be put back or dropped.
    """
    problems: list[str] = []
    for write in reversed(journal.writes):
        target = write.target
        try:
            live = read_contact(clients.account, target, deadline=deadline, policy=clients.policy)
            if live is None or not spec.same_contact(write.written, live):
                logger.info("Undo %s: it does not hold this write; left as it is", target.physical_id)
                continue
            if write.previous is None:
                delete_contact(clients.account, target, deadline=deadline, policy=clients.policy, deleted=write.written)
                logger.info("Undo %s: deleted (there was no contact before)", target.physical_id)
            elif not spec.same_contact(write.previous, live):
                previous = {key: str(write.previous.get(key, "")) for key in spec.DETAIL_FIELDS}
                put_contact(clients.account, target, previous, deadline=deadline, policy=clients.policy)
                logger.info("Undo %s: the previous contact is back", target.physical_id)
        except Exception as error:
            logger.error("Undo %s failed (%s)", target.physical_id, type(error).__name__)
            problems.append(target.physical_id)
    stack_id = str(event.get("StackId"))
    for target in journal.records:
        try:
            forget(clients, stack_id, target, deadline=deadline)
        except Exception as error:
            logger.error("Undo: the record of %s was not dropped (%s)", target.physical_id, type(error).__name__)
            problems.append(f"record {target.physical_id}")
    return problems


def failed_and_undone(error: Exception, problems: list[str]) -> Exception:
    """The error to answer with, telling what the undo could not take back (the original reason comes first)."""
    if not problems:
        return error
    reason = str(error) if isinstance(error, ContactError) else f"internal error ({type(error).__name__})"
    return ContactError(fit_reason(f"{reason}; not undone: {', '.join(problems)}"))
