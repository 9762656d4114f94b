"""What each CloudFormation request means for alternate contacts: the decisions, free of crhelper.

Every function takes the event, a :class:`Clients` bundle and a :class:`~.account_api.Deadline`, and
returns the physical id to answer with (or raises :class:`~.account_api.ContactError`). Notes for the
answer's reason (a skipped inactive account) are left in ``Clients.notes``.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError

from . import spec
from .account_api import (
    IAM_PROPAGATION_HINT,
    MAX_REASON,
    ContactError,
    Deadline,
    RetryPolicy,
    Target,
    call_with_retry,
    delete_contact,
    error_code,
    fit_reason,
    inactive_state,
    is_access_denied,
    put_contact,
    read_contact,
)
from .restore import forget, read_record, remember_previous, restore_previous

logger = logging.getLogger(__name__)

#: Stack resource states in which a resource no longer holds its physical id.
GONE_STATES = frozenset({"DELETE_IN_PROGRESS", "DELETE_COMPLETE", "DELETE_SKIPPED", "CREATE_FAILED"})


@dataclass
class Clients:
    """The AWS clients a request may use, and the account the function runs in.

    Attributes
    ----------
    account:
        boto3 ``account`` client.
    cloudformation:
        boto3 ``cloudformation`` client, used only to list the resources of the event's own stack.
    own_account_id:
        The account of the function (from its ARN): the target when AccountId is left out.
    ssm:
        boto3 ``ssm`` client, used only when a resource asks for restore on delete.
    organizations:
        boto3 ``organizations`` client, used only when a resource asks to skip inactive accounts.
    policy:
        Retry timing; tests shorten it.
    notes:
        What the answer's reason should tell besides success (filled by the steps).
    """

    account: Any
    cloudformation: Any
    own_account_id: str
    ssm: Any = None
    organizations: Any = None
    policy: RetryPolicy = field(default_factory=RetryPolicy)
    notes: list[str] = field(default_factory=list)


def properties_of(event: Mapping[str, Any], key: str = "ResourceProperties") -> dict[str, Any]:
    """The event's properties as a dict; a malformed value gives an empty one (caught by validation)."""
    properties = event.get(key)
    return dict(properties) if isinstance(properties, Mapping) else {}


@dataclass(frozen=True)
class Declaration:
    """The contacts one resource declares: an account and, per contact type, the details.

    ``Custom::AlternateContact`` declares one type, ``Custom::AlternateContacts`` up to three.
    """

    account_id: str
    own_account: bool
    contacts: Mapping[str, Mapping[str, str]]
    restore_on_delete: bool = False
    skip_inactive_account: bool = False

    @property
    def physical_id(self) -> str:
        """``<account>/<TYPE>[+<TYPE>...]``: a change of account or of the set of types is a replacement."""
        return spec.physical_id(self.account_id, self.contacts)

    def target(self, contact_type: str) -> Target:
        """The slot of one of the declared types."""
        return Target(self.account_id, contact_type, own_account=self.own_account)


def declaration_of(event: Mapping[str, Any], own_account_id: str, key: str = "ResourceProperties") -> Declaration:
    """Validate the event's properties with the API's rules and return what they declare.

    Raises
    ------
    ContactError
        Naming every bad field and its rule (never the contact details themselves).
    """
    properties = properties_of(event, key)
    many = event.get("ResourceType") == spec.CONTACTS_RESOURCE_TYPE
    violations = spec.contacts_violations(properties) if many else spec.field_violations(properties)
    if violations:
        reason = "Invalid properties: " + "; ".join(v.message() for v in violations)
        if len(reason) > MAX_REASON:
            # CloudFormation shows 256 characters: name every field there, the rules go to the log.
            logger.error("%s", reason)
            fields = ", ".join(".".join(v.path) for v in violations)
            reason = f"Invalid properties: {fields} break the API's rules (details in the function's log)"
        raise ContactError(fit_reason(reason))
    if many:
        contacts = {t: {k: d[k] for k in spec.DETAIL_FIELDS} for t, d in properties[spec.CONTACTS].items()}
    else:
        contacts = {properties[spec.CONTACT_TYPE]: {k: properties[k] for k in spec.DETAIL_FIELDS}}
    account_id = properties.get(spec.ACCOUNT_ID) or own_account_id
    return Declaration(
        account_id,
        account_id == own_account_id,
        contacts,
        restore_on_delete=bool(spec.flag_value(properties.get(spec.RESTORE_ON_DELETE, False))),
        skip_inactive_account=bool(spec.flag_value(properties.get(spec.SKIP_INACTIVE_ACCOUNT, False))),
    )


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


#: Seconds of the invocation kept back from a Create's or Update's writes, so that a failure part way still
#: has time to undo what was written before it answers (a hard stop at the deadline would leave no time);
#: at most :data:`UNDO_RESERVE_SHARE` of the time left, so a short invocation can still write.
UNDO_RESERVE_S = 15.0
UNDO_RESERVE_SHARE = 0.25


def _forward(deadline: Deadline) -> Deadline:
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


def _put_tracked(
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
        wrote = remember_previous(
            clients.ssm,
            clients.account,
            stack_id,
            target,
            deadline=deadline,
            policy=clients.policy,
            current=previous,
        )
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
            forget(clients.ssm, stack_id, target, deadline=deadline, policy=clients.policy)
        except Exception as error:
            logger.error("Undo: the record of %s was not dropped (%s)", target.physical_id, type(error).__name__)
            problems.append(f"record {target.physical_id}")
    return problems


def _failed_and_undone(error: Exception, problems: list[str]) -> Exception:
    """The error to answer with, telling what the undo could not take back (the original reason comes first)."""
    if not problems:
        return error
    reason = str(error) if isinstance(error, ContactError) else f"internal error ({type(error).__name__})"
    return ContactError(fit_reason(f"{reason}; not undone: {', '.join(problems)}"))


def create(event: Mapping[str, Any], clients: Clients, deadline: Deadline) -> str:
    """Put every declared contact and return the identity ``<account>/<TYPE>[+<TYPE>...]``.

    A Create that fails part way puts back what it had overwritten and deletes what it created, from the
    values it read just before each write (in memory, with or without restore on delete), and drops the
    restore records it wrote: the failed deployment, whose Delete does nothing, leaves the account as it
    found it. The writes stop :data:`UNDO_RESERVE_S` before the invocation's end so the undo has time.
    """
    declared = declaration_of(event, clients.own_account_id)
    if skipped_as_inactive(declared, clients, deadline, "Create"):
        return declared.physical_id
    journal = Journal()
    forward = _forward(deadline)
    try:
        for contact_type in declared.contacts:
            logger.info("Create %s: putting the contact", declared.target(contact_type).physical_id)
            _put_tracked(declared, contact_type, event, clients, forward, journal=journal)
    except Exception as error:
        raise _failed_and_undone(error, undo(journal, event, clients, deadline)) from None
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
    forward = _forward(deadline)
    try:
        for contact_type, details in declared.contacts.items():
            target = declared.target(contact_type)
            write, first = _needs_write(declared, before, contact_type, clients, forward)
            if not write:
                logger.info("Update %s: unchanged", target.physical_id)
                continue
            logger.info("Update %s: putting the new values", target.physical_id)
            if first:
                _put_tracked(declared, contact_type, event, clients, forward, journal=journal)
            else:
                put_contact(clients.account, target, details, deadline=forward, policy=clients.policy)
    except Exception as error:
        raise _failed_and_undone(error, undo(journal, event, clients, deadline)) from None
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
        record = read_record(
            clients.ssm, stack_id, target, deadline=deadline, policy=clients.policy, denied_means_none=True
        )
    if live is None or not spec.same_contact(written, live):
        if record is not None:
            forget(clients.ssm, stack_id, target, deadline=deadline, policy=clients.policy)
        return "the failed update's write is not there; nothing to undo"
    if record is not None:
        return restore_previous(
            clients.ssm, clients.account, stack_id, target, deadline=deadline, policy=clients.policy, deleted=written
        )
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
            forget(clients.ssm, stack_id, target, deadline=deadline, policy=clients.policy)
            logger.info("Update %s: restore on delete is off, its record is dropped", target.physical_id)
        except ContactError as error:
            logger.error("Update %s: the record was not dropped (%s)", target.physical_id, error)
            clients.notes.append(fit_reason(f"restore turned off: the record of {target.physical_id} was not dropped"))


def genuine_delete_problem(
    event: Mapping[str, Any], account_id: str, contact_types: tuple[str, ...], own: str
) -> str | None:
    """Say why a Delete's own properties do not name the slots of its physical id, or ``None`` when they do.

    CloudFormation sends every Delete with the properties its id was issued for (the cleanup Delete after
    a replacement carries the old properties), so a genuine Delete always matches: the same account
    (``AccountId``, or the function's own account when absent) and exactly the same types, compared as
    issued (upper case). For ``Custom::AlternateContact`` that is its one ``AlternateContactType``, for
    ``Custom::AlternateContacts`` the set of keys of ``AlternateContacts``.
    """
    properties = properties_of(event)
    named_account = properties.get(spec.ACCOUNT_ID) or own
    if named_account != account_id:
        return "its properties name another account"
    resource_type = event.get("ResourceType")
    if resource_type == spec.RESOURCE_TYPE:
        named_type = properties.get(spec.CONTACT_TYPE)
        named: set[Any] = {named_type} if isinstance(named_type, str) else set()
    elif resource_type == spec.CONTACTS_RESOURCE_TYPE:
        contacts = properties.get(spec.CONTACTS)
        named = set(contacts) if isinstance(contacts, Mapping) else set()
    else:
        return "its ResourceType is not one this handler serves"
    if named != set(contact_types):
        return "its properties name other contact types"
    return None


def delete(event: Mapping[str, Any], clients: Clients, deadline: Deadline) -> None:
    """Delete the contacts this resource manages, once the Delete has proved genuine, except what it does not own.

    Nothing is deleted, and SUCCESS is answered with a reason saying why, when:

    - the physical id was not issued by this handler (a Delete after a failed Create carries crhelper's
      invented id: the account's contacts predate the stack);
    - the event's own properties do not name the account and types of its id (:func:`genuine_delete_problem`);
    - the event's stack does not list its logical id, or lists it live with the very id being deleted
      (CloudFormation shows a resource it deletes as DELETE_IN_PROGRESS; after a replacement the logical
      id shows the new id).

    SUCCESS rather than FAILED, on purpose: CloudFormation retries a FAILED Delete and then drops the
    resource anyway, and a genuine Delete always passes these checks, so a failing one is a stray or
    forged event (sent straight to the function, or replayed by Lambda after the resource was gone),
    for which "nothing was done, and why" is the honest answer; FAILED would only block a stack delete.

    A contact that another live resource of any stack of the app claims (:func:`claimed_slots`) is kept:
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
                forget(clients.ssm, stack_id, target, deadline=deadline, policy=clients.policy)
        return
    written = _written_details(event)
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
            outcome = restore_previous(
                clients.ssm,
                clients.account,
                stack_id,
                target,
                deadline=deadline,
                policy=clients.policy,
                deleted=written.get(contact_type),
            )
        else:
            existed = delete_contact(
                clients.account, target, deadline=deadline, policy=clients.policy, deleted=written.get(contact_type)
            )
            outcome = "deleted" if existed else "there was no contact"
            if clients.ssm is not None:
                forget(clients.ssm, stack_id, target, deadline=deadline, policy=clients.policy, denied_means_none=True)
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


def declared_in_template(
    cloudformation: Any, stack: str, logical_id: str, contact_type: str, *, deadline: Deadline, policy: RetryPolicy
) -> dict[str, str] | None:
    """The details ``logical_id`` declares for ``contact_type`` in ``stack``'s template, if literal and valid.

    Raises
    ------
    ContactError
        When the template cannot be read (the role needs cloudformation:GetTemplate on the stack).
    """
    try:
        response = call_with_retry(
            lambda: cloudformation.get_template(StackName=stack, TemplateStage="Original"),
            what="GetTemplate",
            deadline=deadline,
            policy=policy,
        )
    except ClientError as error:
        hint = f"; {IAM_PROPAGATION_HINT}" if is_access_denied(error) else ""
        raise ContactError(
            fit_reason(f"GetTemplate: {error_code(error)}; the role needs cloudformation:GetTemplate{hint}")
        ) from None
    body = response.get("TemplateBody")
    if isinstance(body, str):
        try:
            body = json.loads(body)
        except ValueError:
            return None  # a YAML template: CDK never writes one
    resources = body.get("Resources") if isinstance(body, Mapping) else None
    resource = resources.get(logical_id) if isinstance(resources, Mapping) else None
    if not isinstance(resource, Mapping) or not isinstance(resource.get("Properties"), Mapping):
        return None
    properties = resource["Properties"]
    if resource.get("Type") == spec.CONTACTS_RESOURCE_TYPE:
        contacts = properties.get(spec.CONTACTS)
        details = contacts.get(contact_type) if isinstance(contacts, Mapping) else None
    else:
        details = properties if properties.get(spec.CONTACT_TYPE) == contact_type else None
    if not isinstance(details, Mapping):
        return None
    values = {key: details.get(key) for key in spec.DETAIL_FIELDS}
    if any(spec.value_error(key, value) for key, value in values.items()):
        return None
    return {key: str(value) for key, value in values.items()}


def _written_details(event: Mapping[str, Any]) -> dict[str, Mapping[str, str]]:
    """The details this resource wrote, per type, as far as its (old) properties still tell."""
    properties = properties_of(event)
    if event.get("ResourceType") == spec.CONTACTS_RESOURCE_TYPE:
        contacts = properties.get(spec.CONTACTS)
        candidates = dict(contacts) if isinstance(contacts, Mapping) else {}
    else:
        candidates = {str(properties.get(spec.CONTACT_TYPE)): properties}
    return {
        contact_type: {key: details[key] for key in spec.DETAIL_FIELDS}
        for contact_type, details in candidates.items()
        if isinstance(details, Mapping) and all(isinstance(details.get(key), str) for key in spec.DETAIL_FIELDS)
    }


#: Resource type of a nested stack: its PhysicalResourceId is the nested stack's ARN.
NESTED_STACK_TYPE = "AWS::CloudFormation::Stack"

#: The status CloudFormation shows for a resource while it sends that resource's Delete.
DELETING = "DELETE_IN_PROGRESS"

#: At most this many stacks are read for one Delete (an app has one root and, at most, a few hundred nested).
MAX_STACKS = 2500


@dataclass
class Claims:
    """What the stacks of the app say about a Delete.

    Attributes
    ----------
    claimed:
        Each ``<account>/<TYPE>`` that another live resource claims, mapped to its stack-qualified logical id.
    own_problem:
        Why the event's own stack does not show this resource being deleted, or ``None`` when it does.
    """

    claimed: dict[str, str] = field(default_factory=dict)
    own_problem: str | None = None
    #: For each claimed slot, the claiming resource: (its stack's id, its logical id).
    owners: dict[str, tuple[str, str]] = field(default_factory=dict)
    #: Whether the event's stack is rolling back an update.
    rolling_back: bool = False


def _cloudformation_error(error: ClientError, action: str, deleting: str, what: str) -> ContactError:
    hint = f"; {IAM_PROPAGATION_HINT}" if is_access_denied(error) else ""
    return ContactError(
        fit_reason(
            f"Delete {deleting}: cannot {what} ({action}: {error_code(error)}) to check that no other resource "
            f"of the app still owns the contact; the role needs cloudformation:{action}{hint}"
        )
    )


def stack_resources(
    cloudformation: Any, stack: str, *, deleting: str, deadline: Deadline, policy: RetryPolicy
) -> list[dict[str, Any]]:
    """Every resource summary of ``stack`` (ListStackResources, all pages; DescribeStackResources stops at 100).

    Raises
    ------
    ContactError
        When the stack cannot be listed, naming the action the role needs.
    """
    resources: list[dict[str, Any]] = []
    token: str | None = None
    while True:
        arguments = {"StackName": stack, **({"NextToken": token} if token else {})}
        try:
            page = call_with_retry(
                lambda arguments=arguments: cloudformation.list_stack_resources(**arguments),  # type: ignore[misc]
                what="ListStackResources",
                deadline=deadline,
                policy=policy,
            )
        except ClientError as error:
            raise _cloudformation_error(error, "ListStackResources", deleting, "list the stack's resources") from None
        resources.extend(page.get("StackResourceSummaries", []))
        token = page.get("NextToken")
        if not token:
            return resources


@dataclass(frozen=True)
class StackFacts:
    """What DescribeStacks tells of the event's stack: the root of its app, and its status."""

    root: str
    status: str

    @property
    def rolling_back(self) -> bool:
        """Whether the stack is rolling back an update (its rollback's cleanup phase included)."""
        return self.status.startswith("UPDATE_ROLLBACK")


def root_stack(
    cloudformation: Any, stack_id: str, *, deleting: str, deadline: Deadline, policy: RetryPolicy
) -> StackFacts:
    """The root stack of the app ``stack_id`` belongs to (its RootId, or itself when it has none), and its status.

    Raises
    ------
    ContactError
        When the stack cannot be described, naming the action the role needs.
    """
    try:
        response = call_with_retry(
            lambda: cloudformation.describe_stacks(StackName=stack_id),
            what="DescribeStacks",
            deadline=deadline,
            policy=policy,
        )
    except ClientError as error:
        raise _cloudformation_error(error, "DescribeStacks", deleting, "describe the stack") from None
    stacks = response.get("Stacks") or [{}]
    root = stacks[0].get("RootId")
    return StackFacts(str(root) if root else stack_id, str(stacks[0].get("StackStatus", "")))


def claimed_slots(event: Mapping[str, Any], clients: Clients, deadline: Deadline, deleting: str) -> Claims:
    """Read every stack of the app and tell which slots other live resources claim, and whether this Delete shows.

    The app is the root stack (the event's stack's RootId, or the event's stack itself) and, recursively,
    every nested stack (``AWS::CloudFormation::Stack`` with a physical id, not being deleted) below it: a
    contact moved between the parent and a nested stack, or between nested stacks, is created in its new
    stack before its old resource is deleted, so the new one's claim must be seen wherever it is.

    "Another" excludes only the resource being deleted, listed under its own logical id in its own stack
    with the very id being deleted; after a replacement, its logical id shows the new id, which does
    claim its types.

    Raises
    ------
    ContactError
        When a stack cannot be read: deleting without knowing could remove a contact that a renamed or
        moved resource has just set, so the Delete fails instead, with the reason.
    """
    stack_id = str(event.get("StackId"))
    own_logical_id = event.get("LogicalResourceId")
    cloudformation, policy = clients.cloudformation, clients.policy
    facts = root_stack(cloudformation, stack_id, deleting=deleting, deadline=deadline, policy=policy)
    claims = Claims(rolling_back=facts.rolling_back)
    # While the whole app is deleted, every other resource of it is being deleted too, so none keeps a claim
    # except within the event's own stack, which is read anyway: reading every other stack for each of
    # 30,000 Deletes would cost millions of CloudFormation reads for nothing.
    whole_app = not _app_being_deleted(
        facts, stack_id, cloudformation, deleting=deleting, deadline=deadline, policy=policy
    )
    pending: list[str] = [facts.root if whole_app else stack_id]
    seen: set[str] = set()
    own_listing: list[dict[str, Any]] | None = None
    while pending and len(seen) < MAX_STACKS:
        stack = pending.pop(0)
        if stack in seen:
            continue
        seen.add(stack)
        resources = stack_resources(cloudformation, stack, deleting=deleting, deadline=deadline, policy=policy)
        own_stack = stack == stack_id
        if own_stack:
            own_listing = resources
        for resource in resources:
            logical_id, physical = resource.get("LogicalResourceId"), resource.get("PhysicalResourceId")
            status = resource.get("ResourceStatus")
            if status in GONE_STATES:
                continue
            if resource.get("ResourceType") == NESTED_STACK_TYPE and physical:
                if whole_app:
                    pending.append(str(physical))
                continue
            if own_stack and (logical_id, physical) == (own_logical_id, deleting):
                continue
            parsed = spec.parse_physical_id(physical)
            if parsed is not None:
                where = logical_id if own_stack else f"{logical_id} of stack {_stack_name(stack)}"
                for contact_type in parsed[1]:
                    slot = spec.physical_id(parsed[0], contact_type)
                    claims.claimed.setdefault(slot, str(where))
                    claims.owners.setdefault(slot, (stack, str(logical_id)))
    if own_listing is None:
        # The event's stack is not in the tree (a nested stack being deleted): read it on its own.
        own_listing = stack_resources(cloudformation, stack_id, deleting=deleting, deadline=deadline, policy=policy)
    claims.own_problem = _own_listing_problem(own_listing, own_logical_id, deleting)
    return claims


def _app_being_deleted(
    facts: StackFacts, stack_id: str, cloudformation: Any, *, deleting: str, deadline: Deadline, policy: RetryPolicy
) -> bool:
    """Whether the app's root stack is being deleted (a stack delete, not an update's cleanup phase).

    A nested stack is DELETE_IN_PROGRESS both when its parent is deleted and when an update removed it,
    so for a nested stack the root's own status decides (one more DescribeStacks).
    """
    if facts.root == stack_id:
        return facts.status == DELETING
    root = root_stack(cloudformation, facts.root, deleting=deleting, deadline=deadline, policy=policy)
    return root.status == DELETING


def _stack_name(stack: str) -> str:
    """The name part of a stack ARN (``arn:...:stack/<name>/<uuid>``), or the value as it is."""
    parts = stack.split("/")
    return parts[1] if len(parts) > 2 else stack


def _own_listing_problem(resources: list[dict[str, Any]], logical_id: object, deleting: str) -> str | None:
    """Why the event's stack does not show its resource being deleted, or ``None`` when it does."""
    mine = [r for r in resources if r.get("LogicalResourceId") == logical_id]
    if not mine:
        return "its stack lists no resource of its logical id"
    if any(
        r.get("PhysicalResourceId") == deleting and r.get("ResourceStatus") not in (DELETING, *GONE_STATES)
        for r in mine
    ):
        return f"its stack shows it live with this id, not {DELETING}"
    return None
