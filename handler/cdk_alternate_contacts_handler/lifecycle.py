"""What each CloudFormation request means for alternate contacts: Create, Update and Delete, free of crhelper.

Every step takes the event, a :class:`~.clients.Clients` bundle and a :class:`~.retry.Deadline`, and
returns the physical id to answer with (or raises :class:`~.errors.ContactError`). Notes for the answer's
reason (a skipped inactive account) are left in ``Clients.notes``. The parts each step relies on have their
own modules: what the request declares (:mod:`.request`), the journal of writes a failure takes back
(:mod:`.undo`), the app's claims on a slot being deleted (:mod:`.claims`) and restore on delete
(:mod:`.restore`).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from botocore.exceptions import ClientError

from . import spec
from .account_api import Target, delete_contact, put_contact, read_contact
from .claims import claimed_slots, declared_in_template
from .clients import Clients
from .errors import ContactError, error_code, fit_reason
from .organizations import inactive_state
from .request import Declaration, declaration_of, genuine_delete_problem, properties_of, written_details
from .restore import forget, read_record, restore_previous
from .retry import Deadline
from .undo import Journal, failed_and_undone, forward_deadline, put_tracked, undo

logger = logging.getLogger(__name__)


def skipped_as_inactive(declared: Declaration, clients: Clients, deadline: Deadline, action: str) -> bool:
    """True when the resource opted in to skipping inactive accounts and its (member) account is not ACTIVE."""
    if not declared.skip_inactive_account or declared.own_account:
        return False
    state = inactive_state(clients.organizations, declared.account_id, deadline=deadline, policy=clients.policy)
    if state is None:
        return False
    note = f"{action} skipped: account {declared.account_id} is {state} in the organization"
    logger.warning("%s", note)
    clients.notes.append(note)
    return True


def create(event: Mapping[str, Any], clients: Clients, deadline: Deadline) -> str:
    """Put every declared contact and return the identity ``<account>/<TYPE>[+<TYPE>...]``.

    A Create that fails part way puts back what it had overwritten and deletes what it created, from the
    values it read just before each write (in memory, with or without restore on delete), and drops the
    restore records it wrote: the failed deployment, whose Delete does nothing, leaves the account as it
    found it. The writes stop :data:`~.undo.UNDO_RESERVE_S` before the invocation's end so the undo has time.
    """
    declared = declaration_of(event, clients.own_account_id)
    if skipped_as_inactive(declared, clients, deadline, "Create"):
        return declared.physical_id
    journal = Journal()
    forward = forward_deadline(deadline)
    try:
        for contact_type in declared.contacts:
            logger.info("Create %s: putting the contact", declared.target(contact_type).physical_id)
            put_tracked(declared, contact_type, event, clients, forward, journal=journal)
    except Exception as error:
        raise failed_and_undone(error, undo(journal, event, clients, deadline)) from None
    return declared.physical_id


def _needs_write(
    declared: Declaration,
    before: Declaration | None,
    contact_type: str,
    clients: Clients,
    deadline: Deadline,
) -> tuple[bool, bool]:
    """Whether an Update must put ``contact_type``, and whether that write is the stack's first to the slot.

    Returns
    -------
    tuple[bool, bool]
        ``(write, first)``. ``first`` is True for a slot the resource did not manage before, and for a
        managed slot whose earlier writes may all have been skipped (an inactive account, with restore on
        delete on before and now): that write must take the restore record and be journaled like a
        Create's. An unchanged slot is put only in that second case, when the API does not hold it.
    """
    details = declared.contacts[contact_type]
    same_slot = before is not None and before.account_id == declared.account_id and contact_type in before.contacts
    if not same_slot or before is None:
        return True, True
    may_have_skipped = before.skip_inactive_account and before.restore_on_delete and declared.restore_on_delete
    if not spec.same_contact(details, before.contacts[contact_type]):
        return True, may_have_skipped
    if not may_have_skipped:
        return False, False
    # The values did not change, but while the account was inactive nothing was written: check the API.
    live = read_contact(clients.account, declared.target(contact_type), deadline=deadline, policy=clients.policy)
    missing = live is None or not spec.same_contact(details, live)
    return missing, missing


def update(event: Mapping[str, Any], clients: Clients, deadline: Deadline) -> str:
    """Put what changed and return the (possibly new) identity.

    A changed account, or a changed set of types, yields a new identity: CloudFormation then sends a
    Delete for the old identity in its cleanup phase, which removes what is no longer declared (and
    nothing before the whole update has succeeded). Contacts whose details did not change are not put
    again, which spares the API's write quota.

    Failure and rollback, in CloudFormation's order (REFERENCE section 6):

    - An Update that fails answers FAILED with the old physical id, so it gets no cleanup Delete: before
      answering, it puts back each slot it wrote that it did not manage before (the value read just
      before the write, in memory) and drops the restore records it wrote. Slots it did manage are put
      back by the rollback Update, whose properties are the old values.
    - The rollback Update then carries the same physical id as the old properties, and the failed
      properties as OldResourceProperties. Their extra slots are normally already undone. It acts only
      on a slot that still holds the failed values (the failed Update could not undo, e.g. it ran out of
      time): with restore on delete, a record left behind proves the write was the failed Update's and
      says what to put back, so it is restored; without a record, or without restore on delete, the
      slot is left as it is: the same values may well have been there before the stack (the failed
      Update's undo then rightly left them), and deleting would lose a contact that predates the stack.
      The reason says so.
    - A successful Update that added types answered a new id; if another resource fails, CloudFormation
      deletes that id in the rollback's cleanup, and its Delete removes the added slots (the old id,
      listed under the same logical id, still claims the old ones). A different account in
      OldResourceProperties is such a replacement too: nothing to do here.
    - Turning restore on delete off drops the records of the slots still declared: nothing will restore
      them any more.
    """
    declared = declaration_of(event, clients.own_account_id)
    try:
        before: Declaration | None = declaration_of(event, clients.own_account_id, "OldResourceProperties")
    except ContactError:
        before = None  # written by an older version or invalid: put everything
    if skipped_as_inactive(declared, clients, deadline, "Update"):
        return declared.physical_id
    journal = Journal()
    forward = forward_deadline(deadline)
    try:
        for contact_type, details in declared.contacts.items():
            target = declared.target(contact_type)
            write, first = _needs_write(declared, before, contact_type, clients, forward)
            if not write:
                logger.info("Update %s: unchanged", target.physical_id)
                continue
            logger.info("Update %s: putting the new values", target.physical_id)
            if first:
                put_tracked(declared, contact_type, event, clients, forward, journal=journal)
            else:
                put_contact(clients.account, target, details, deadline=forward, policy=clients.policy)
    except Exception as error:
        raise failed_and_undone(error, undo(journal, event, clients, deadline)) from None
    if before is not None and before.account_id == declared.account_id:
        if event.get("PhysicalResourceId") == declared.physical_id:
            _roll_back_extra_slots(declared, before, event, clients, deadline)
        if before.restore_on_delete and not declared.restore_on_delete:
            _drop_records(declared, event, clients, deadline)
    previous = event.get("PhysicalResourceId")
    if previous != declared.physical_id:
        logger.info("Update %s -> %s: replacement; the old id is deleted in cleanup", previous, declared.physical_id)
    return declared.physical_id


def _roll_back_extra_slots(
    declared: Declaration, failed: Declaration, event: Mapping[str, Any], clients: Clients, deadline: Deadline
) -> None:
    """The rollback Update's part (see :func:`update`): slots of the failed properties the old ones lack.

    A slot that cannot be checked (the old policy, back in force for the rollback, may not cover the
    failed update's types) is reported in the reason, never failed on: a FAILED rollback Update would
    leave the stack in UPDATE_ROLLBACK_FAILED for a slot that is normally already undone.
    """
    stack_id = str(event.get("StackId"))
    for contact_type in sorted(set(failed.contacts) - set(declared.contacts)):
        target = declared.target(contact_type)
        try:
            outcome = _roll_back_slot(target, failed, stack_id, clients, deadline)
        except (ContactError, ClientError) as error:
            outcome = f"not checked ({type(error).__name__})"
            clients.notes.append(f"Rollback: {target.physical_id} not checked, see the function's log")
            logger.error("Rollback %s: %s", target.physical_id, error if isinstance(error, ContactError) else "")
        logger.info("Rollback %s: %s", target.physical_id, outcome)


def _roll_back_slot(target: Target, failed: Declaration, stack_id: str, clients: Clients, deadline: Deadline) -> str:
    written = failed.contacts[target.contact_type]
    live = read_contact(clients.account, target, deadline=deadline, policy=clients.policy)
    record = None
    if failed.restore_on_delete:
        record = read_record(clients, stack_id, target, deadline=deadline, denied_means_none=True)
    if live is None or not spec.same_contact(written, live):
        if record is not None:
            forget(clients, stack_id, target, deadline=deadline)
        return "the failed update's write is not there; nothing to undo"
    if record is not None:
        return restore_previous(clients, stack_id, target, deadline=deadline, deleted=written)
    note = f"Rollback: {target.physical_id} holds the failed update's values, left as is (they may predate it)"
    clients.notes.append(note)
    return "holds the failed update's values; left as is"


def _drop_records(declared: Declaration, event: Mapping[str, Any], clients: Clients, deadline: Deadline) -> None:
    """Restore on delete was turned off: the records of the declared slots will never be used.

    Best effort: the update itself succeeded, and the role's new policy may no longer reach the records
    (turning restore off can remove the SSM statement in the same update); the reason then says so.
    """
    stack_id = str(event.get("StackId"))
    for contact_type in declared.contacts:
        target = declared.target(contact_type)
        try:
            forget(clients, stack_id, target, deadline=deadline)
            logger.info("Update %s: restore on delete is off, its record is dropped", target.physical_id)
        except ContactError as error:
            logger.error("Update %s: the record was not dropped (%s)", target.physical_id, error)
            clients.notes.append(fit_reason(f"restore turned off: the record of {target.physical_id} was not dropped"))


def delete(event: Mapping[str, Any], clients: Clients, deadline: Deadline) -> None:
    """Delete the contacts this resource manages, once the Delete has proved genuine, except what it does not own.

    Nothing is deleted, and SUCCESS is answered with a reason saying why, when:

    - the physical id was not issued by this handler (a Delete after a failed Create carries crhelper's
      invented id: the account's contacts predate the stack);
    - the event's own properties do not name the account and types of its id (:func:`~.request.genuine_delete_problem`);
    - the event's stack does not list its logical id, or lists it live with the very id being deleted
      (CloudFormation shows a resource it deletes as DELETE_IN_PROGRESS; after a replacement the logical
      id shows the new id).

    SUCCESS rather than FAILED, on purpose: CloudFormation retries a FAILED Delete and then drops the
    resource anyway, and a genuine Delete always passes these checks, so a failing one is a stray or
    forged event (sent straight to the function, or replayed by Lambda after the resource was gone),
    for which "nothing was done, and why" is the honest answer; FAILED would only block a stack delete.

    A contact that another live resource of any stack of the app claims (:func:`~.claims.claimed_slots`) is kept:
    the construct was renamed or moved to another stack of the app (the new resource was created first
    and owns it now) or, after a replacement, the resource still declares that type. Its restore record
    is kept for that resource. A Delete that does remove a slot drops the slot's record, with or without
    restore on delete (a renamed predecessor with restore on may have left one).
    """
    physical = event.get("PhysicalResourceId")
    parsed = spec.parse_physical_id(physical)
    if parsed is None:
        # crhelper's id after a failed Create, or a forged one: the reason says so, without quoting the id.
        note = "Delete: nothing deleted, the physical id is not one this handler issues (<account>/<TYPE>)"
        logger.info("%s", note)
        clients.notes.append(note)
        return
    account_id, contact_types = parsed
    own = account_id == clients.own_account_id
    problem = genuine_delete_problem(event, account_id, contact_types, clients.own_account_id)
    if problem is None:
        claims = claimed_slots(event, clients, deadline, str(physical))
        problem = claims.own_problem
    if problem is not None:
        note = f"Delete {physical}: nothing deleted, {problem}"
        logger.warning("%s", note)
        clients.notes.append(fit_reason(note))
        return
    flags = properties_of(event)
    restore = bool(spec.flag_value(flags.get(spec.RESTORE_ON_DELETE, False)))
    skip_inactive = bool(spec.flag_value(flags.get(spec.SKIP_INACTIVE_ACCOUNT, False)))
    declared = Declaration(account_id, own, {}, restore_on_delete=restore, skip_inactive_account=skip_inactive)
    stack_id = str(event.get("StackId"))
    unclaimed = [t for t in contact_types if spec.physical_id(account_id, t) not in claims.claimed]
    if skipped_as_inactive(declared, clients, deadline, "Delete"):
        # Nothing can be put back in an inactive account, and the resource is gone: its records are useless.
        if restore:
            for contact_type in unclaimed:
                target = Target(account_id, contact_type, own_account=own)
                forget(clients, stack_id, target, deadline=deadline)
        return
    written = written_details(event)
    for contact_type in contact_types:
        slot = spec.physical_id(account_id, contact_type)
        if slot in claims.claimed:
            logger.info("Delete %s: still claimed by %s; left in place", slot, claims.claimed[slot])
            owner = claims.owners[slot]
            # Only a rolled-back rename leaves a claimer without its own values (see _leave_to_claimer); a
            # replacement under the same logical id was sent its Update with its current values.
            if claims.rolling_back and owner != (stack_id, event.get("LogicalResourceId")):
                target = Target(account_id, contact_type, own_account=own)
                _leave_to_claimer(target, written.get(contact_type), owner, clients, deadline)
    for contact_type in unclaimed:
        target = Target(account_id, contact_type, own_account=own)
        if restore:
            outcome = restore_previous(clients, stack_id, target, deadline=deadline, deleted=written.get(contact_type))
        else:
            existed = delete_contact(
                clients.account, target, deadline=deadline, policy=clients.policy, deleted=written.get(contact_type)
            )
            outcome = "deleted" if existed else "there was no contact"
            if clients.ssm is not None:
                forget(clients, stack_id, target, deadline=deadline, denied_means_none=True)
        logger.info("Delete %s: %s", target.physical_id, outcome)


def _leave_to_claimer(
    target: Target,
    written: Mapping[str, str] | None,
    owner: tuple[str, str],
    clients: Clients,
    deadline: Deadline,
) -> None:
    """Leave a claimed slot to its claimer, holding the values the claimer declares (issue 8 item 5).

    A rename with changed values creates the new resource (new values) before the old one is deleted.
    Rolled back, CloudFormation deletes the new resource and does not call the old one at all: the
    slot would keep the new values while the stack declares the old ones. So when this resource's own
    values are the live ones, the claimer's declared values are read from its stack's template
    (GetTemplate; during the rollback the stack's template is the one rolled back to) and put. Called only
    while the event's stack rolls back: in a forward rename or move the claimer was created with its own
    values, so the common path costs no template read. Values that are not literal strings there
    (parameters, references) cannot be known: the slot is left as it is and the reason says so. Nothing
    is written when the live values are not this resource's (another writer's, or the claimer's own).
    """
    if written is None:
        return
    stack, logical_id = owner
    try:
        live = read_contact(clients.account, target, deadline=deadline, policy=clients.policy)
        if live is None or not spec.same_contact(written, live):
            return
        declared = declared_in_template(
            clients.cloudformation, stack, logical_id, target.contact_type, deadline=deadline, policy=clients.policy
        )
        if declared is None:
            clients.notes.append(
                fit_reason(
                    f"{target.physical_id} kept this resource's values: {logical_id}'s template values are not literal"
                )
            )
            return
        if not spec.same_contact(declared, live):
            put_contact(clients.account, target, declared, deadline=deadline, policy=clients.policy)
            logger.info("Delete %s: now holds the values %s declares", target.physical_id, logical_id)
    except (ContactError, ClientError) as error:
        # The claimer keeps the slot either way; failing would only make CloudFormation retry and drop this one.
        reason = str(error) if isinstance(error, ContactError) else error_code(error)
        logger.error("Delete %s: the values %s declares were not checked (%s)", target.physical_id, logical_id, reason)
        clients.notes.append(fit_reason(f"{target.physical_id}: the values {logical_id} declares were not checked"))
