"""Deleting in reverse dependency order: an update's cleanup phase and a stack's destroy.

The cleanup phase runs once every create and update of the top-level stack and its nested stacks succeeded,
under the new template's policies: first the nested stacks' deferred cleanups (in parallel), then the old
physical id of each replaced resource gets a Delete carrying the OLD properties (``UpdateReplacePolicy``
honoured), then the logical ids no longer in the template (``DeletionPolicy`` honoured), in reverse dependency
order. A failure here does not roll back: a failing Delete is tried :data:`CLEANUP_DELETE_ATTEMPTS` times,
then the resource is left behind and the update completes anyway.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .nested_stack import AWAITING_CLEANUP
from .phases import Phase
from .scheduler import dependents
from .state import ResourceState

if TYPE_CHECKING:
    from .operation import Operation

#: How often CloudFormation tries a Delete that fails in the cleanup phase before it gives up, removes the
#: resource from the stack and leaves it as it is (troubleshooting guide, "Resource removed from stack but
#: not deleted"; aws-cloudformation/cloudformation-coverage-roadmap #744).
CLEANUP_DELETE_ATTEMPTS = 3

#: The stack status reason CloudFormation gives an update whose cleanup left resources behind.
CLEANUP_LEFT_BEHIND = "Update successful. One or more resources could not be deleted."


def cleanup_pending(op: Operation) -> bool:
    """Whether the stack or a nested stack below it has something to delete in the cleanup phase."""
    return bool(op.removed or op.replaced) or any(child.stack.status == AWAITING_CLEANUP for child in op.tree()[1:])


def cleanup_tree(op: Operation) -> None:
    """The cleanup phase: the nested stacks' deferred cleanups (in parallel), then the stack's own."""
    with op.lock:
        waiting = [child for child in op.children.values() if child.stack.status == AWAITING_CLEANUP]

    def clean(index: str) -> bool:
        child = waiting[int(index)]
        cleanup_tree(child)
        child.set_stack_status("UPDATE_COMPLETE")
        return True

    op.run_graph([str(i) for i in range(len(waiting))], {}, clean)
    _cleanup(op, op.removed)


def _cleanup(op: Operation, removed: list[str]) -> None:
    replaced = list(op.replaced)

    def delete_replaced(index: str) -> bool:
        old = replaced[int(index)]
        if old.update_replace_policy == "Retain":
            op.event(old, "DELETE_SKIPPED")
            return True
        done, reason = _cleanup_delete(op, old, listed=False)
        if not done:
            op.problem(f"cleanup: Delete of {old.logical_id} ({old.physical_id}) failed: {reason}")
        return True

    op.run_graph([str(i) for i in range(len(replaced))], {}, delete_replaced)

    with op.lock:
        states = {lid: op.stack.resources[lid].copy() for lid in removed}

    def delete_removed(logical_id: str) -> bool:
        state = states[logical_id]
        if state.deletion_policy == "Retain":
            op.set_status(logical_id, "DELETE_SKIPPED")
            op.forget(logical_id)
            return True
        done, reason = _cleanup_delete(op, state, listed=True)
        if not done:
            # CloudFormation completes the update anyway and stops tracking the resource.
            op.problem(f"cleanup: Delete of {logical_id} ({state.physical_id}) failed: {reason}")
        op.forget(logical_id)
        return True

    op.run_graph(removed, dependents({lid: s.depends_on for lid, s in states.items()}), delete_removed)


def _cleanup_delete(op: Operation, state: ResourceState, *, listed: bool) -> tuple[bool, str]:
    """A cleanup Delete as CloudFormation makes it: tried :data:`CLEANUP_DELETE_ATTEMPTS` times, then left
    behind; ``listed``: the resource is the one listed for its logical id (a removed one)."""
    done, reason = False, ""
    for _ in range(CLEANUP_DELETE_ATTEMPTS):
        if listed:
            op.set_status(state.logical_id, "DELETE_IN_PROGRESS")
        else:
            op.event(state, "DELETE_IN_PROGRESS")
        done, reason = op.engine.delete(op, Phase.CLEANUP, state)
        if listed:
            op.set_status(state.logical_id, "DELETE_COMPLETE" if done else "DELETE_FAILED", reason)
        else:
            op.event(state, "DELETE_COMPLETE" if done else "DELETE_FAILED", reason)
        if done:
            return True, ""
    with op.lock:
        op.left_behind.append(state.logical_id)
    return False, reason


def destroy_stack(op: Operation, *, phase: Phase = Phase.DESTROY) -> bool:
    """Delete every resource of one stack in reverse dependency order; True when the stack is gone."""
    op.set_stack_status("DELETE_IN_PROGRESS")
    stack = op.stack
    with op.lock:
        states = {lid: state.copy() for lid, state in stack.resources.items()}

    def delete(logical_id: str) -> bool:
        state = states[logical_id]
        if state.deletion_policy == "Retain":
            op.set_status(logical_id, "DELETE_SKIPPED")
            return True
        op.set_status(logical_id, "DELETE_IN_PROGRESS")
        done, reason = op.engine.delete(op, phase, state)
        op.set_status(logical_id, "DELETE_COMPLETE" if done else "DELETE_FAILED", reason)
        return done

    if op.run_graph(list(states), dependents({lid: s.depends_on for lid, s in states.items()}), delete):
        op.set_stack_status("DELETE_COMPLETE")
        return True
    op.set_stack_status("DELETE_FAILED")
    with op.lock:
        for lid in [lid for lid, s in stack.resources.items() if s.status in ("DELETE_COMPLETE", "DELETE_SKIPPED")]:
            del stack.resources[lid]
        op.publish()
    return False
