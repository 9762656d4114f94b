"""The working state of one operation on one stack: the stack as it is now, its events, its journal, and what
it publishes on every change (the CloudFormation API's resource list, the roles' policies in force)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Collection, Mapping
from dataclasses import KW_ONLY, dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from cdk_alternate_contacts_cli.cloud_assembly import CloudAssembly

from .custom_resources import RequestRecord
from .iam import POLICY_TYPES, PolicyResource
from .journal import Journal
from .nested_stack import NESTED_STACK
from .registry import ResourceSummary, StackView
from .results import OperationResult, StackEvent
from .scheduler import run_graph
from .state import ResourceState, StackState, now_iso
from .template import TemplateError

if TYPE_CHECKING:
    from .engine import Engine


@dataclass(eq=False)
class Operation:
    """The working state of one operation on one stack: the stack as it is now, published on every change.

    A nested stack gets an operation of its own (a child), sharing the top-level operation's result
    (``result_lock`` guards it) and placed at ``path`` (its logical ids from the top-level stack down).
    """

    engine: Engine
    stack: StackState
    result: OperationResult
    assembly: CloudAssembly | None
    artifact: str
    _: KW_ONLY
    path: str = ""
    result_lock: threading.RLock = field(default_factory=threading.RLock)
    lock: threading.RLock = field(default_factory=threading.RLock, init=False)
    journal: Journal = field(default_factory=Journal, init=False)
    replaced: list[ResourceState] = field(default_factory=list, init=False)
    removed: list[str] = field(default_factory=list, init=False)
    actions: int = field(default=0, init=False)
    #: Nested stacks' operations, by their StackId.
    children: dict[str, Operation] = field(default_factory=dict, init=False)
    touched: bool = field(default=False, init=False)
    rolled_back: bool = field(default=False, init=False)
    #: Resources whose cleanup Delete failed every attempt: removed from the stack, not deleted.
    left_behind: list[str] = field(default_factory=list, init=False)

    def __post_init__(self) -> None:
        self.previous_parameters = dict(self.stack.parameters)
        self.previous_outputs = dict(self.stack.outputs)
        self.previous_template = self.stack.template
        # The stack's roles and policies are in force from the start: a destroy in a new process, or the
        # first request of an update, is authorized against the policy as deployed.
        self.publish_policies()

    def child(self, logical_id: str, stack: StackState) -> Operation:
        """The operation of the nested stack ``stack``, held by this stack's ``logical_id``."""
        with self.lock:
            found = self.children.get(stack.stack_id)
            if found is None:
                path = f"{self.path}/{logical_id}" if self.path else logical_id
                found = Operation(
                    self.engine,
                    stack,
                    self.result,
                    self.assembly,
                    self.artifact,
                    path=path,
                    result_lock=self.result_lock,
                )
                self.children[stack.stack_id] = found
            return found

    def tree(self) -> list[Operation]:
        """This operation and every nested stack's below it, parents first."""
        with self.lock:
            children = list(self.children.values())
        return [self, *(op for child in children for op in child.tree())]

    def failed_resources(self) -> list[str]:
        """The logical ids whose last event in this operation is a failure."""
        last: dict[str, str] = {}
        with self.result_lock:
            for event in self.result.events:
                if event.stack_id == self.stack.stack_id and event.logical_id != self.stack.stack_name:
                    last[event.logical_id] = event.status
        return sorted(lid for lid, status in last.items() if status.endswith("_FAILED"))

    # -- reading ----------------------------------------------------------------------------------------

    def get(self, logical_id: str) -> ResourceState | None:
        with self.lock:
            state = self.stack.resources.get(logical_id)
            return state.copy() if state is not None else None

    def ref(self, logical_id: str) -> str:
        state = self.get(logical_id)
        if state is None or not state.physical_id:
            raise TemplateError(f"Ref {logical_id}: the resource has no physical id yet")
        return state.physical_id

    def get_att(self, logical_id: str, attribute: str) -> Any:
        state = self.get(logical_id)
        if state is None or not state.physical_id:
            raise TemplateError(f"Fn::GetAtt {logical_id}.{attribute}: the resource does not exist yet")
        return self.engine.kind(state.resource_type).get_att(self, state, attribute)

    # -- writing ----------------------------------------------------------------------------------------

    def put(self, state: ResourceState, status: str, reason: str = "") -> None:
        """Record ``state`` as the resource of its logical id, with ``status``."""
        with self.lock:
            stored = state.copy()
            stored.status, stored.reason, stored.updated_at = status, reason, now_iso()
            self.stack.resources[state.logical_id] = stored
            self._event(stored.logical_id, stored.physical_id, stored.resource_type, status, reason)

    def set_status(self, logical_id: str, status: str, reason: str = "") -> None:
        """Change the status of the resource listed under ``logical_id``."""
        with self.lock:
            stored = self.stack.resources[logical_id]
            stored.status, stored.reason, stored.updated_at = status, reason, now_iso()
            self._event(logical_id, stored.physical_id, stored.resource_type, status, reason)

    def event(self, state: ResourceState, status: str, reason: str = "") -> None:
        """An event for a physical resource that is not (or no longer) the one listed for its logical id."""
        with self.lock:
            self._event(state.logical_id, state.physical_id, state.resource_type, status, reason)

    def forget(self, logical_id: str) -> None:
        """Drop a deleted resource from the list."""
        with self.lock:
            self.stack.resources.pop(logical_id, None)
            self.publish()

    def run_graph(
        self, nodes: Collection[str], prerequisites: Mapping[str, set[str]], work: Callable[[str], bool]
    ) -> bool:
        """Run ``work`` on every node in dependency order (see :func:`.scheduler.run_graph`); an exception is a
        problem of this operation."""
        return run_graph(
            nodes,
            prerequisites,
            work,
            max_parallel=self.engine.settings.max_parallel,
            on_error=lambda node, error: self.problem(f"{node}: internal error: {error!r}"),
        )

    def add_request(self, record: RequestRecord) -> None:
        with self.result_lock:
            self.result.requests.append(record)
        with self.lock:
            self.actions += 1

    def count_action(self) -> None:
        """Note that a resource was changed without a custom resource request (a recorded type)."""
        with self.lock:
            self.actions += 1

    def problem(self, text: str) -> None:
        with self.result_lock:
            self.result.problems.append(text)

    def set_stack_status(self, status: str, reason: str = "") -> None:
        with self.lock:
            self.stack.status = status
            self.stack.updated_at = now_iso()
            with self.result_lock:
                if not self.stack.parent_id:
                    self.result.status = status
                self.result.stacks[self.stack.stack_name] = status
            self._event(self.stack.stack_name, self.stack.stack_id, NESTED_STACK, status, reason)

    def _event(
        self, logical_id: str, physical_id: str | None, resource_type: str, status: str, reason: str = ""
    ) -> None:
        stack = self.stack
        event = StackEvent(
            time.time(), logical_id, physical_id, resource_type, status, reason, stack.stack_id, stack.stack_name
        )
        with self.result_lock:
            self.result.events.append(event)
        listener = self.engine.on_event
        if listener is not None:
            listener(event)
        self.publish()

    def publish(self) -> None:
        """Show the stack as it is now to the CloudFormation API."""
        with self.lock:
            rows = tuple(
                ResourceSummary(
                    logical_id=s.logical_id,
                    physical_id=s.physical_id,
                    resource_type=s.resource_type,
                    status=s.status,
                    updated_at=datetime.fromisoformat(s.updated_at),
                    reason=s.reason,
                )
                for s in self.stack.resources.values()
            )
            self.engine.registry.publish(
                StackView(
                    self.stack.stack_id,
                    self.stack.stack_name,
                    self.stack.status,
                    rows,
                    self.stack.parent_id,
                    self.stack.template,
                )
            )
            self.publish_policies()

    def publish_policies(self) -> None:
        """Put the stack's roles and policies in force as they are now (each status change moves them)."""
        policies = self.engine.policies
        if policies is None:
            return
        with self.lock:
            if self.stack.status == "DELETE_COMPLETE":
                policies.forget(self.stack.stack_id)
                return
            policies.publish(
                self.stack.stack_id,
                [
                    PolicyResource(s.resource_type, s.physical_id, s.status, s.properties)
                    for s in self.stack.resources.values()
                    if s.resource_type in POLICY_TYPES
                ],
            )
