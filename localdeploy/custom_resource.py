"""Custom resources (``AWS::CloudFormation::CustomResource``, ``Custom::*``) as a resource kind: each change is
a request to the function behind the ServiceToken (sent by :class:`~.custom_resources.CustomResourceClient`),
its answer the resource's new physical id and ``Fn::GetAtt`` data.

As in CloudFormation: an Update answered with another physical id is a replacement (the old id gets a Delete
in cleanup); a failed Create's answer names the physical id its rollback Delete carries; the ServiceToken
cannot change; a resource whose Create was never answered with an id gets no Delete.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .custom_resources import RequestRecord, RequestType
from .phases import Phase
from .resource_kind import KindError, ResourceKind
from .state import ResourceState
from .template import TemplateError

if TYPE_CHECKING:
    from .operation import Operation


class CustomResourceKind(ResourceKind):
    """Custom resources, each change sent as a request to their function."""

    sends_requests = True

    def create(self, op: Operation, fresh: ResourceState) -> None:
        record = send(op, Phase.DEPLOY, "Create", fresh)
        fresh.physical_id = record.answered_physical_id
        if not record.succeeded:
            # The FAILED answer's physical id (crhelper invents one) is what the rollback Delete carries.
            raise KindError(record.reason)
        fresh.attributes = record.data

    def update(self, op: Operation, previous: ResourceState, fresh: ResourceState) -> None:
        if fresh.properties.get("ServiceToken") != previous.properties.get("ServiceToken"):
            raise KindError("Modifying service token is not allowed.")
        record = send(
            op, Phase.DEPLOY, "Update", fresh, physical_id=previous.physical_id, old_properties=previous.properties
        )
        if not record.succeeded:
            raise KindError(record.reason, changed=True)
        fresh.physical_id, fresh.attributes = record.answered_physical_id, record.data

    def delete(self, op: Operation, state: ResourceState, phase: Phase) -> tuple[bool, str]:
        if not state.physical_id:
            op.result.notes.append(
                f"{state.logical_id}: no physical id was ever answered, so there is nothing to send a Delete for"
            )
            return True, ""
        record = send(op, phase, "Delete", state, physical_id=state.physical_id)
        return record.succeeded, record.reason

    def restore(
        self, op: Operation, target: ResourceState, current_physical_id: str | None, attempted: dict[str, Any]
    ) -> ResourceState:
        record = send(op, Phase.ROLLBACK, "Update", target, physical_id=current_physical_id, old_properties=attempted)
        if not record.succeeded:
            raise KindError(record.reason)
        restored = target.copy()
        restored.physical_id, restored.attributes = record.answered_physical_id, record.data
        return restored

    def get_att(self, op: Operation, state: ResourceState, attribute: str) -> Any:
        if attribute not in state.attributes:
            raise TemplateError(
                f"CustomResource attribute error: Vendor response doesn't contain {attribute} attribute"
            )
        return state.attributes[attribute]


def send(
    op: Operation,
    phase: Phase,
    request_type: RequestType,
    state: ResourceState,
    *,
    physical_id: str | None = None,
    old_properties: dict[str, Any] | None = None,
) -> RequestRecord:
    """Send one request for ``state`` in ``phase`` and wait for its answer (recorded in the operation's result)."""
    return op.engine.requests.send(
        phase=phase.value,
        request_type=request_type,
        stack_id=op.stack.stack_id,
        stack_name=op.stack.stack_name,
        logical_id=state.logical_id,
        resource_type=state.resource_type,
        properties=state.properties,
        physical_id=physical_id,
        old_properties=old_properties,
        on_sent=op.add_request,
        stack_path=op.path,
    )
