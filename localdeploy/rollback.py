"""The rollback of a failed operation on one stack, as CloudFormation makes it, from the stack's journal.

In-flight requests have finished first (the scheduler lets them). A stack whose creation failed deletes
what it created, newest first (ROLLBACK_COMPLETE). An update's rollback is an update back to the old
template, whose GetTemplate answers it from the rollback's start: completed Updates (and the failed one) get
an Update back to the old properties in the old template's dependency order (:meth:`.journal.Journal.undo_order`),
a replacement's old resource is listed again; then, in UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS, completed
Creates get a Delete, and so does the failed Create (carrying the physical id from its FAILED answer) and a
replacement's new resource, or the new physical id a rollback Update moved away from. ``Retain`` is honoured.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .phases import Phase, StepKind
from .resource_kind import KindError
from .state import ResourceState

if TYPE_CHECKING:
    from .operation import Operation


def rollback(op: Operation, *, new_stack: bool) -> None:
    """Undo what the failed operation did to ``op``'s stack (``new_stack``: it did not exist before)."""
    op.rolled_back = True
    if new_stack:
        op.set_stack_status("ROLLBACK_IN_PROGRESS")
        clean = True
        for state in op.journal.created():
            clean &= rollback_delete(op, state, Phase.ROLLBACK, listed=True)
        op.set_stack_status("ROLLBACK_COMPLETE" if clean else "ROLLBACK_FAILED")
        return
    # From here on the stack's template is the previous one again (GetTemplate answers it).
    op.stack.template = op.previous_template
    op.set_stack_status("UPDATE_ROLLBACK_IN_PROGRESS")
    restored_all = True
    to_delete: list[tuple[ResourceState, bool]] = []
    with op.lock:
        dependencies = {lid: list(state.depends_on) for lid, state in op.stack.resources.items()}
    for step in op.journal.undo_order(dependencies):
        if step.kind is StepKind.UPDATED and step.before is not None and step.after is not None:
            restored = _restore(op, step.before, step.after.physical_id, step.after.properties)
            if restored is None:
                restored_all = False
            elif restored.physical_id != step.after.physical_id:
                # The rollback Update moved the identity back: the replacement's resource goes.
                to_delete.append((step.after, False))
        elif step.kind is StepKind.UPDATE_FAILED and step.before is not None:
            restored = _restore(op, step.before, step.before.physical_id, step.attempted or {})
            restored_all &= restored is not None
        elif step.kind in (StepKind.CREATED, StepKind.CREATE_FAILED) and step.after is not None:
            to_delete.append((step.after, True))
        elif step.kind is StepKind.CREATED_REPLACEMENT and step.before is not None and step.after is not None:
            op.put(step.before, step.before.status)
            to_delete.append((step.after, False))
    op.set_stack_status("UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS")
    for state, listed in to_delete:
        rollback_delete(op, state, Phase.ROLLBACK_CLEANUP, listed=listed)
    op.stack.parameters = dict(op.previous_parameters)
    op.stack.outputs = dict(op.previous_outputs)
    op.set_stack_status("UPDATE_ROLLBACK_COMPLETE" if restored_all else "UPDATE_ROLLBACK_FAILED")


def _restore(
    op: Operation, target: ResourceState, current_physical_id: str | None, attempted: dict[str, Any]
) -> ResourceState | None:
    """Bring a resource back to ``target``; returns the restored state, or ``None`` if that failed."""
    logical_id = target.logical_id
    op.set_status(logical_id, "UPDATE_IN_PROGRESS")
    try:
        restored = op.engine.kind(target.resource_type).restore(op, target, current_physical_id, attempted)
    except KindError as error:
        op.set_status(logical_id, "UPDATE_FAILED", str(error))
        op.problem(error.problem or f"rollback: Update of {logical_id} back to its old properties failed: {error}")
        return None
    op.put(restored, "UPDATE_COMPLETE")
    return restored


def rollback_delete(op: Operation, state: ResourceState, phase: Phase, *, listed: bool) -> bool:
    """Delete what the failed operation created; ``listed``: it is the resource listed for its logical id.

    ``Retain`` is honoured here too: CloudFormation leaves a retained resource behind when the stack
    creation that made it rolls back.
    """
    if state.deletion_policy == "Retain":
        op.event(state, "DELETE_SKIPPED")
        if listed:
            op.forget(state.logical_id)
        return True
    if listed:
        op.set_status(state.logical_id, "DELETE_IN_PROGRESS")
    else:
        op.event(state, "DELETE_IN_PROGRESS")
    done, reason = op.engine.delete(op, phase, state)
    status = "DELETE_COMPLETE" if done else "DELETE_FAILED"
    if listed:
        op.set_status(state.logical_id, status, reason)
        op.forget(state.logical_id)
    else:
        op.event(state, status, reason)
    if not done:
        op.problem(f"rollback: Delete of {state.logical_id} ({state.physical_id}) failed: {reason}")
    return done
