"""``AWS::CloudFormation::Stack`` as a resource kind: a nested stack, whose ``TemplateURL`` names a template of
the cloud assembly, deployed by the engine as a stack of its own.

As in CloudFormation: its StackId is its physical id from the moment its creation starts; it is updated in
place (the id never changes); one that fails rolls itself back at once ("Embedded stack ... was not
successfully created/updated") and its resource's failure rolls back the parent; one that was updated waits
in :data:`AWAITING_CLEANUP` for the top-level stack's cleanup phase; deleting its resource deletes all its
resources; ``Fn::GetAtt <Nested>.Outputs.<Name>`` reads its Outputs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cdk_alternate_contacts_cli.cloud_assembly import AssemblyError

from . import native
from .phases import Phase
from .resource_kind import KindError, ResourceKind
from .state import ResourceState, StackState
from .template import TemplateError, stringify

if TYPE_CHECKING:
    from .operation import Operation

NESTED_STACK = "AWS::CloudFormation::Stack"

#: The status of a nested stack whose update succeeded and whose cleanup waits for the top-level stack's.
AWAITING_CLEANUP = "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS"


class NestedStackKind(ResourceKind):
    """Nested stacks, each deployed, rolled back and deleted as a stack of its own."""

    def starting_id(self, op: Operation, fresh: ResourceState) -> str | None:
        name = native.nested_stack_name(op.stack.stack_name, fresh.logical_id, op.stack.stack_id)
        return op.engine.new_stack_id(name)

    def create(self, op: Operation, fresh: ResourceState) -> None:
        failure = deploy_nested(op, fresh, previous=None)
        if failure is not None:
            raise KindError(failure)

    def update(self, op: Operation, previous: ResourceState, fresh: ResourceState) -> None:
        fresh.physical_id = previous.physical_id
        failure = deploy_nested(op, fresh, previous=previous)
        if failure is not None:
            raise KindError(failure, changed=True)

    def delete(self, op: Operation, state: ResourceState, phase: Phase) -> tuple[bool, str]:
        """Delete every one of its resources, in reverse dependency order; their requests are sent in the
        parent's ``phase`` (a nested stack removed by an update goes in its cleanup)."""
        child = nested_operation(op, state)
        if child is None:
            return True, ""
        if op.engine.destroy_stack(child, phase=phase):
            return True, ""
        failed = ", ".join(child.failed_resources())
        return False, (
            f"Embedded stack {child.stack.stack_id} was not successfully deleted: "
            f"The following resource(s) failed to delete: [{failed}]."
        )

    def restore(
        self, op: Operation, target: ResourceState, current_physical_id: str | None, attempted: dict[str, Any]
    ) -> ResourceState:
        # Back to the old template and parameters: the nested stack undoes what it did. One that failed has
        # already rolled itself back; one that never started has nothing to undo.
        child = nested_operation(op, target)
        if child is not None and child.touched and not child.rolled_back:
            op.engine.rollback(child, new_stack=False)
        if child is not None and child.stack.status.endswith("_FAILED"):
            raise KindError(
                f"Embedded stack {child.stack.stack_id}: {child.stack.status}",
                problem=f"rollback: nested stack {child.stack.stack_name} ended {child.stack.status}",
            )
        return target.copy()

    def get_att(self, op: Operation, state: ResourceState, attribute: str) -> Any:
        if attribute not in state.attributes:
            raise TemplateError(f"Fn::GetAtt {state.logical_id}.{attribute}: the nested stack has no such output")
        return state.attributes[attribute]


def deploy_nested(op: Operation, fresh: ResourceState, *, previous: ResourceState | None) -> str | None:
    """Create or update the nested stack of ``fresh`` to its TemplateURL and Parameters.

    Returns ``None`` on success (the resource's attributes then hold the nested stack's outputs), else
    the reason its resource failed. A nested stack whose resources failed has rolled itself back.
    """
    engine = op.engine
    properties = fresh.properties
    stack_id = str(fresh.physical_id)
    if previous is None:
        child = op.child(fresh.logical_id, StackState(stack_name(stack_id), stack_id, "", parent_id=op.stack.stack_id))
    else:
        found = nested_operation(op, previous)
        if found is None:
            return f"Embedded stack {stack_id} does not exist (its state is gone)"
        child = found
    try:
        if op.assembly is None:
            raise AssemblyError("a cloud assembly is needed to find the nested stack's template")
        url = properties.get("TemplateURL")
        if not isinstance(url, str) or not url:
            raise TemplateError("TemplateURL must be a string")
        passed = properties.get("Parameters") or {}
        if not isinstance(passed, dict):
            raise TemplateError("Parameters must be a map of strings")
        document = op.assembly.nested_template(op.artifact, url)
        template, resolver, desired = engine.prepare(child, document, stringify(passed))
        child.stack.template = document
    except (TemplateError, AssemblyError) as error:
        return str(error)
    new = previous is None
    child.set_stack_status("CREATE_IN_PROGRESS" if new else "UPDATE_IN_PROGRESS")
    if engine.deploy_stack(child, template, resolver, desired):
        child.stack.parameters = stringify(passed)
        # An updated nested stack's cleanup waits for the top-level stack's cleanup phase.
        child.set_stack_status("CREATE_COMPLETE" if new else AWAITING_CLEANUP)
        fresh.attributes = {f"Outputs.{name}": value for name, value in child.stack.outputs.items()}
        return None
    failed = ", ".join(child.failed_resources())
    engine.rollback(child, new_stack=new)
    if new:
        return (
            f"Embedded stack {stack_id} was not successfully created: "
            f"The following resource(s) failed to create: [{failed}]."
        )
    return (
        f"Embedded stack {stack_id} was not successfully updated. Currently in UPDATE_ROLLBACK_IN_PROGRESS "
        f"with reason: The following resource(s) failed to update: [{failed}]."
    )


def nested_operation(op: Operation, state: ResourceState) -> Operation | None:
    """The operation of the nested stack a parent's resource holds, its state loaded if need be."""
    stack_id = str(state.physical_id)
    with op.lock:
        found = op.children.get(stack_id)
    if found is not None:
        return found
    stored = op.engine.store.load(stack_name(stack_id))
    if stored is None or stored.stack_id != stack_id:
        return None
    return op.child(state.logical_id, stored)


def load_nested(op: Operation) -> None:
    """Load the states of every nested stack below ``op``'s stack, so their functions can be restored."""
    for state in list(op.stack.resources.values()):
        if state.resource_type == NESTED_STACK and state.physical_id:
            child = nested_operation(op, state)
            if child is not None:
                load_nested(child)


def stack_name(stack_id: str) -> str:
    """The stack name inside a StackId (``arn:aws:cloudformation:<region>:<account>:stack/<name>/<uuid>``)."""
    return stack_id.split(":stack/", 1)[-1].split("/", 1)[0]
