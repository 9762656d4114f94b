"""The one interface behind which the engine creates, updates and deletes every kind of resource.

:class:`ResourceKind` is the engine's side of :class:`~.native.ResourceEmulator`: the same create, update and
delete, given the operation (the stack, its phase's requests, the local services) and the resource's state to
fill in, plus the rollback's Update back to the old properties (:meth:`ResourceKind.restore`) and
``Fn::GetAtt``. One module per kind:

========================================  ===================================================================
kind                                      module
========================================  ===================================================================
``AWS::CloudFormation::CustomResource``   :mod:`.custom_resource` (requests to the function, answers awaited)
and ``Custom::*``
``AWS::CloudFormation::Stack``            :mod:`.nested_stack` (a stack of its own, deployed by the engine)
``AWS::Lambda::Function``,                :mod:`.lambda_function` (the local Lambda service)
``AWS::Lambda::EventInvokeConfig``
every :class:`~.native.ResourceEmulator`  :class:`EmulatedKind` here (the emulators of :mod:`.kinds` and
                                          :mod:`.organizations`)
anything else (roles, policies, ...)      :class:`RecordedKind` here (synthetic ids, no calls)
========================================  ===================================================================

A kind reports a failure by raising :class:`KindError` with CloudFormation's reason, having set on the state
whatever the rollback needs to undo (the physical id that came to exist).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from cdk_alternate_contacts_cli.cloud_assembly import AssemblyError

from . import native
from .native import ResourceEmulator, ResourceError
from .phases import Phase
from .state import ResourceState
from .template import TemplateError

if TYPE_CHECKING:
    from .operation import Operation

#: What a recorded kind's create or update may raise from its properties, reported as the resource's failure.
PROPERTY_ERRORS = (TemplateError, AssemblyError, ValueError, KeyError)


class KindError(Exception):
    """A create, update or rollback Update that failed; the message is the resource event's reason.

    ``changed``: the failed update may have changed the resource, so the rollback sends it back (a custom
    resource's FAILED answer, a nested stack that rolled itself back). ``problem``: how the failure of a
    rollback Update is reported, when not in the usual words.
    """

    def __init__(self, reason: str, *, changed: bool = False, problem: str = "") -> None:
        super().__init__(reason)
        self.changed = changed
        self.problem = problem


class ResourceKind:
    """One kind of resource. The defaults are those of a resource that is recorded only."""

    #: Whether its changes are counted by the custom resource requests they send (else one action each).
    sends_requests = False

    def starting_id(self, op: Operation, fresh: ResourceState) -> str | None:
        """The physical id a resource has from the moment its creation starts (a nested stack's StackId)."""
        return None

    def replaces(self, old: Mapping[str, Any], new: Mapping[str, Any]) -> bool:
        """Whether this change of properties needs a new resource (a create-only property changed)."""
        return False

    def create(self, op: Operation, fresh: ResourceState) -> None:
        """Create the resource; sets ``fresh``'s physical id (and attributes)."""
        fresh.physical_id = native.physical_id(
            fresh.resource_type, op.stack.stack_name, fresh.logical_id, fresh.properties
        )

    def update(self, op: Operation, previous: ResourceState, fresh: ResourceState) -> None:
        """Bring the resource from ``previous`` to ``fresh``; sets ``fresh``'s physical id (a new one: replaced)."""
        self.create(op, fresh)

    def delete(self, op: Operation, state: ResourceState, phase: Phase) -> tuple[bool, str]:
        """Delete the resource (the caller has honoured Retain): done, and the reason when not."""
        return True, ""

    def restore(
        self, op: Operation, target: ResourceState, current_physical_id: str | None, attempted: dict[str, Any]
    ) -> ResourceState:
        """The rollback's Update of a resource now at ``current_physical_id`` (``attempted`` its properties)
        back to ``target``; returns the restored state."""
        return target.copy()

    def get_att(self, op: Operation, state: ResourceState, attribute: str) -> Any:
        """``Fn::GetAtt`` of an existing resource."""
        region, account_id = op.engine.settings.region, op.engine.settings.account_id
        physical = str(state.physical_id)
        return native.attribute(state.resource_type, physical, attribute, region=region, account_id=account_id)


class RecordedKind(ResourceKind):
    """A resource type the engine only records (roles, policies, log groups): synthetic ids, no calls."""


class EmulatedKind(ResourceKind):
    """A type created, updated and deleted for real by its :class:`~.native.ResourceEmulator`, in moto (or the
    local Lambda service); in place unless a create-only property changed."""

    def __init__(self, emulator: ResourceEmulator) -> None:
        self.emulator = emulator

    def replaces(self, old: Mapping[str, Any], new: Mapping[str, Any]) -> bool:
        return native.requires_replacement(self.emulator, old, new)

    def create(self, op: Operation, fresh: ResourceState) -> None:
        try:
            created = self.emulator.create(fresh.logical_id, fresh.properties, stack_name=op.stack.stack_name)
        except ResourceError as error:
            fresh.physical_id = error.physical_id  # what the rollback's Delete then removes
            raise KindError(str(error)) from error
        except PROPERTY_ERRORS as error:
            raise KindError(str(error)) from error
        fresh.physical_id, fresh.attributes = created.physical_id, dict(created.attributes)

    def update(self, op: Operation, previous: ResourceState, fresh: ResourceState) -> None:
        # An emulated type keeps its identity, and one that refuses an update changed nothing.
        try:
            fresh.attributes = self.emulator.update(str(previous.physical_id), previous.properties, fresh.properties)
        except ResourceError as error:
            raise KindError(str(error)) from error
        fresh.physical_id = previous.physical_id

    def delete(self, op: Operation, state: ResourceState, phase: Phase) -> tuple[bool, str]:
        if not state.physical_id:
            return True, ""  # its creation failed before anything existed
        try:
            self.emulator.delete(state.physical_id, state.properties)
        except ResourceError as error:
            return False, str(error)
        return True, ""

    def restore(
        self, op: Operation, target: ResourceState, current_physical_id: str | None, attempted: dict[str, Any]
    ) -> ResourceState:
        restored = target.copy()
        try:
            restored.attributes = self.emulator.update(str(current_physical_id), attempted, target.properties)
        except ResourceError as error:
            raise KindError(str(error)) from error
        return restored

    def get_att(self, op: Operation, state: ResourceState, attribute: str) -> Any:
        if attribute not in state.attributes:
            raise TemplateError(f"Fn::GetAtt {attribute} of {state.resource_type} is not emulated by localdeploy")
        return state.attributes[attribute]
