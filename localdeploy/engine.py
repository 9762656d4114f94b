"""A minimal CloudFormation engine for the custom resources of a synthesized template.

It follows CloudFormation's documented order of work:

deploy
    Resources are created or updated in dependency order, independent ones in parallel. A custom resource
    is created when its logical id is new, updated when its resolved properties changed, left alone
    otherwise. An Update answered with a different physical id is a replacement.
cleanup (after every create and update succeeded)
    The OLD physical id of each replaced resource gets a Delete carrying the OLD properties; logical ids
    no longer in the template get a Delete, in reverse dependency order. A failure here does not roll
    back (CloudFormation completes the update and leaves the resource).
rollback (after any failure)
    In-flight requests finish first. Completed Updates (and the failed one) get an Update back to the
    old properties, in the old template's dependency order; completed Creates get a Delete, and so does
    the failed Create, carrying the physical id from its FAILED answer. A replacement undone by the
    rollback Update has its new physical id deleted. The stack is left as it was, its previous template
    (GetTemplate) from the rollback's start.
destroy
    Every resource is deleted in reverse dependency order.

Nested stacks (``AWS::CloudFormation::Stack`` whose ``TemplateURL`` names a template of the cloud assembly)
are resources of their parent, deployed in its dependency order, each a stack of its own: its own StackId
(which its custom resources' events carry and ListStackResources answers for), its own events, the
Parameters its parent passes, Outputs its parent reads with ``Fn::GetAtt <Nested>.Outputs.<Name>``.
As in CloudFormation:

- a nested stack that fails rolls itself back at once ("Embedded stack ... was not successfully
  created/updated"), and the failure of its resource rolls back the parent;
- a nested stack that was updated waits in UPDATE_COMPLETE_CLEANUP_IN_PROGRESS: its cleanup runs in the
  top-level stack's cleanup phase, once everything succeeded, so a failure anywhere can still roll it back
  (an Update back to the old template and parameters);
- deleting a nested stack resource (destroy, removal, rollback of its creation) deletes all its resources.

``DeletionPolicy`` / ``UpdateReplacePolicy`` ``Retain`` mean the handler is never called for that delete.
A resource type with an emulator (:class:`~.native.ResourceEmulator`: ``AWS::Organizations::Account``,
``AWS::SQS::Queue``, ``AWS::SQS::QueuePolicy``, ``AWS::Events::Rule``, ``AWS::Lambda::Permission``,
``AWS::Lambda::EventSourceMapping``) is created, updated, rolled back and deleted for real in moto (or the
local Lambda service) by it, its attributes kept for ``Fn::GetAtt``; a change of one of its create-only
properties replaces it (created anew, the old one deleted in cleanup), others update it in place. Other
resource types (role, policy, log group, the function) are recorded with synthetic physical ids and no
calls, except that an AWS::Lambda::Function is deployed to the local Lambda service and an
AWS::Lambda::EventInvokeConfig configures its asynchronous queue.

IAM: every change of a role or policy resource is published to the :class:`~.iam.PolicyRegistry` as it
happens, so the functions' calls are judged by the policy CloudFormation has at that step: a policy updated
in the update phase is in force before the custom resources that depend on it are updated; one removed from
the template stays until the cleanup phase deletes it (after the custom resources, in reverse dependency
order); a rollback restores it before the rollback Updates of the resources that depend on it. A cleanup
Delete that fails is tried :data:`CLEANUP_DELETE_ATTEMPTS` times, then left behind, as CloudFormation does.
"""

from __future__ import annotations

import dataclasses
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from cdk_alternate_contacts_cli.cloud_assembly import AssemblyError, CloudAssembly

from . import native
from .custom_resources import CustomResourceClient, RequestRecord, RequestType, is_custom
from .functions import FunctionConfig
from .iam import POLICY_TYPES, PolicyRegistry, PolicyResource
from .lambda_service import AsyncInvokeConfig, FunctionService
from .moto import DEPLOYING_ACCOUNT
from .native import ResourceEmulator, ResourceError
from .registry import ResourceSummary, StackRegistry, StackView
from .state import ResourceState, StackState, StateStore, now_iso
from .template import Resolver, Template, TemplateError, parameter_values, stringify

#: Final stack statuses of an operation that did what was asked.
SUCCESS_STATUSES = frozenset({"CREATE_COMPLETE", "UPDATE_COMPLETE", "DELETE_COMPLETE"})

LAMBDA_FUNCTION = "AWS::Lambda::Function"

EVENT_INVOKE_CONFIG = "AWS::Lambda::EventInvokeConfig"

NESTED_STACK = "AWS::CloudFormation::Stack"

#: The status of a nested stack whose update succeeded and whose cleanup waits for the top-level stack's.
AWAITING_CLEANUP = "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS"

#: How often CloudFormation tries a Delete that fails in the cleanup phase before it gives up, removes the
#: resource from the stack and leaves it as it is (troubleshooting guide, "Resource removed from stack but
#: not deleted"; aws-cloudformation/cloudformation-coverage-roadmap #744).
CLEANUP_DELETE_ATTEMPTS = 3

#: The stack status reason CloudFormation gives an update whose cleanup left resources behind.
CLEANUP_LEFT_BEHIND = "Update successful. One or more resources could not be deleted."


@dataclass(frozen=True)
class StackEvent:
    """One line of the stack's event history."""

    timestamp: float
    logical_id: str
    physical_id: str | None
    resource_type: str
    status: str
    reason: str = ""
    stack_id: str = ""
    stack_name: str = ""


@dataclass
class OperationResult:
    """What one deploy or destroy did.

    Attributes
    ----------
    status:
        The stack's final status (CREATE_COMPLETE, UPDATE_ROLLBACK_COMPLETE, DELETE_COMPLETE, ...), or
        VALIDATION_FAILED when the template was rejected before any resource was touched.
    changed:
        False when there was nothing to do (CloudFormation's "No updates are to be performed").
    requests:
        Every request sent to a custom resource, in the order sent (nested stacks' included).
    events:
        Every resource and stack status change, of the stack and of its nested stacks (each event names
        its stack).
    stacks:
        The final status of the stack and of each nested stack the operation touched, by stack name.
    outputs:
        The stack's evaluated Outputs after a deploy.
    problems:
        Anything CloudFormation would not have let pass silently or that signals a handler bug: a request
        answered more than once or never, a function error, a failed cleanup Delete.
    code_dirs:
        The function code folders that ran (the synthesized assets).
    """

    operation: Literal["deploy", "destroy"]
    stack_name: str
    stack_id: str
    status: str = ""
    changed: bool = True
    requests: list[RequestRecord] = field(default_factory=list)
    events: list[StackEvent] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    code_dirs: list[str] = field(default_factory=list)
    stacks: dict[str, str] = field(default_factory=dict)
    outputs: dict[str, str] = field(default_factory=dict)
    started_at: float = field(default_factory=time.time)
    ended_at: float = 0.0

    @property
    def ok(self) -> bool:
        """True when the stack reached the status asked for and nothing went wrong on the way."""
        return (self.status in SUCCESS_STATUSES or not self.changed) and not self.problems

    @property
    def duration_s(self) -> float:
        """Wall-clock duration of the operation."""
        return (self.ended_at or time.time()) - self.started_at

    def requests_for(self, logical_id: str) -> list[RequestRecord]:
        """The requests sent to one logical id, in order."""
        return [r for r in self.requests if r.logical_id == logical_id]

    def events_of(self, stack_name: str) -> list[StackEvent]:
        """The events of one stack (the top-level one or a nested one), in order."""
        return [e for e in self.events if e.stack_name == stack_name]


@dataclass
class EngineSettings:
    """Tunables of the engine.

    Attributes
    ----------
    region, account_id:
        Where stacks are deployed (AWS::Region, AWS::AccountId).
    max_parallel:
        Resource operations in flight at once.
    settle_timeout_s:
        At the end of an operation, how long to wait for the functions' invocations to finish, so their
        logs and any extra answers are complete before answers are counted.
    account_creation_s:
        How long an ``AWS::Organizations::Account`` takes to create (AWS's CreateAccount runs for minutes
        in the background). Default 0: at once.
    """

    region: str = "us-east-1"
    account_id: str = DEPLOYING_ACCOUNT
    max_parallel: int = 64
    settle_timeout_s: float = 60.0
    account_creation_s: float = 0.0


@dataclass
class _Step:
    """One completed change, kept so a rollback can undo it."""

    kind: Literal["created", "create_failed", "updated", "update_failed", "created_replacement"]
    logical_id: str
    before: ResourceState | None = None
    after: ResourceState | None = None
    attempted: dict[str, Any] | None = None


class _Operation:
    """The working state of one operation on one stack: the stack as it is now, published on every change.

    A nested stack gets an operation of its own (a child), sharing the top-level operation's result.
    """

    def __init__(
        self,
        engine: Engine,
        stack: StackState,
        result: OperationResult,
        assembly: CloudAssembly | None,
        artifact: str,
        *,
        path: str = "",
        result_lock: threading.RLock | None = None,
    ) -> None:
        self.engine = engine
        self.stack = stack
        self.result = result
        self.assembly = assembly
        self.artifact = artifact
        self.path = path
        self.lock = threading.RLock()
        #: Guards the result, which a stack shares with its nested stacks.
        self.result_lock = result_lock or threading.RLock()
        self.journal: list[_Step] = []
        self.replaced: list[ResourceState] = []
        self.removed: list[str] = []
        self.actions = 0
        #: Nested stacks' operations, by their StackId.
        self.children: dict[str, _Operation] = {}
        self.touched = False
        self.rolled_back = False
        #: Resources whose cleanup Delete failed every attempt: removed from the stack, not deleted.
        self.left_behind: list[str] = []
        self.previous_parameters = dict(stack.parameters)
        self.previous_outputs = dict(stack.outputs)
        self.previous_template = stack.template
        # The stack's roles and policies are in force from the start: a destroy in a new process, or the
        # first request of an update, is authorized against the policy as deployed.
        self.publish_policies()

    def child(self, logical_id: str, stack: StackState) -> _Operation:
        """The operation of the nested stack ``stack``, held by this stack's ``logical_id``."""
        with self.lock:
            found = self.children.get(stack.stack_id)
            if found is None:
                path = f"{self.path}/{logical_id}" if self.path else logical_id
                found = _Operation(
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

    def tree(self) -> list[_Operation]:
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
        if is_custom(state.resource_type):
            if attribute not in state.attributes:
                raise TemplateError(
                    f"CustomResource attribute error: Vendor response doesn't contain {attribute} attribute"
                )
            return state.attributes[attribute]
        if state.resource_type == NESTED_STACK:
            if attribute not in state.attributes:
                raise TemplateError(f"Fn::GetAtt {logical_id}.{attribute}: the nested stack has no such output")
            return state.attributes[attribute]
        if state.resource_type in self.engine.emulators:
            if attribute not in state.attributes:
                raise TemplateError(f"Fn::GetAtt {attribute} of {state.resource_type} is not emulated by localdeploy")
            return state.attributes[attribute]
        settings = self.engine.settings
        return native.attribute(
            state.resource_type, state.physical_id, attribute, region=settings.region, account_id=settings.account_id
        )

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

    def record(self, step: _Step) -> None:
        with self.lock:
            self.journal.append(step)

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


class Engine:
    """Deploys and destroys stacks whose custom resources run on the local Lambda service.

    Parameters
    ----------
    functions:
        The local Lambda service (functions are deployed to it as the template declares them).
    requests:
        Sends custom resource requests and collects the answers.
    registry:
        Where the live resource lists are published for the CloudFormation API.
    store:
        Where stack states persist between operations.
    ssm_lookup:
        Reads an SSM parameter (for ``AWS::SSM::Parameter::Value<...>`` parameters such as CDK's
        BootstrapVersion); ``None`` when no SSM is available.
    settings:
        Region, account and limits.
    policies:
        Where the stacks' roles and policies are published as they change, for the IAM front to judge
        the functions' calls by (``None``: no IAM is evaluated).
    emulators:
        The resource types emulated against moto, each by its emulator (see :mod:`.native`). Default:
        none, and every non-custom type is recorded only.
    """

    def __init__(
        self,
        *,
        functions: FunctionService,
        requests: CustomResourceClient,
        registry: StackRegistry,
        store: StateStore,
        ssm_lookup: Callable[[str], str] | None = None,
        settings: EngineSettings | None = None,
        policies: PolicyRegistry | None = None,
        emulators: Mapping[str, ResourceEmulator] | None = None,
    ) -> None:
        self.functions = functions
        self.emulators = dict(emulators or {})
        self.policies = policies
        self.requests = requests
        self.registry = registry
        self.store = store
        self.ssm_lookup = ssm_lookup
        self.settings = settings or EngineSettings()
        #: Called with every stack event as it happens (a progress display); it must return quickly.
        self.on_event: Callable[[StackEvent], None] | None = None

    # -- deploy --------------------------------------------------------------------------------------------

    def deploy(
        self,
        assembly: CloudAssembly,
        stack_name: str,
        *,
        artifact: str | None = None,
        parameters: Mapping[str, str] | None = None,
    ) -> OperationResult:
        """Create the stack, or update it to the assembly's template (its nested stacks with it).

        Parameters
        ----------
        assembly:
            The synthesized app.
        stack_name:
            The stack to create or update.
        artifact:
            The assembly stack whose template to use. Default: the one named ``stack_name``. (A test can
            deploy two versions of one stack from two stacks of a single synthesized app.)
        parameters:
            Parameter values; parameters left out keep the value given last time, else their Default.
        """
        artifact = artifact or stack_name
        previous = self.store.load(stack_name)
        stack = previous.copy() if previous is not None else StackState(stack_name, self._new_stack_id(stack_name), "")
        result = OperationResult("deploy", stack_name, stack.stack_id)
        op = _Operation(self, stack, result, assembly, artifact)
        overrides = {**(previous.parameters if previous else {}), **dict(parameters or {})}
        try:
            document = assembly.template(artifact)
            template, resolver, desired = self._prepare(op, document, overrides)
            stack.template = document
            if previous is not None:
                self._load_nested(op)
                self._restore_functions(op)
        except (TemplateError, AssemblyError) as error:
            # CloudFormation rejects such a template before touching any resource.
            result.status = "VALIDATION_FAILED"
            result.problems.append(str(error))
            result.ended_at = time.time()
            return result

        op.set_stack_status("CREATE_IN_PROGRESS" if previous is None else "UPDATE_IN_PROGRESS")
        if self._deploy_stack(op, template, resolver, desired):
            if previous is not None and self._cleanup_pending(op):
                op.set_stack_status(AWAITING_CLEANUP)
                self._cleanup_tree(op)
            if previous is not None and op.actions == 0 and not op.removed:
                result.changed = False
                result.notes.append("No updates are to be performed.")
                op.set_stack_status(previous.status)
            else:
                left = any(each.left_behind for each in op.tree())
                op.set_stack_status(
                    "CREATE_COMPLETE" if previous is None else "UPDATE_COMPLETE", CLEANUP_LEFT_BEHIND if left else ""
                )
            stack.parameters = dict(overrides)
            result.outputs = dict(stack.outputs)
        else:
            self._rollback(op, new_stack=previous is None)
            stack.parameters = dict(previous.parameters) if previous is not None else {}
        self._persist(op, keep=previous is not None)
        self._finish(op)
        return result

    def _prepare(
        self, op: _Operation, document: Mapping[str, Any], overrides: Mapping[str, str]
    ) -> tuple[Template, Resolver, list[str]]:
        """Validate a template against its parameters and rules; returns it, its resolver, and the
        resources to deploy in dependency order.

        Raises
        ------
        TemplateError
            As CloudFormation's validation would, before any resource is touched.
        """
        template = Template(document)
        values = parameter_values(template, overrides, self.ssm_lookup)
        resolver = Resolver(template, pseudo=self._pseudo(op.stack), parameters=values, ref=op.ref, get_att=op.get_att)
        failures = resolver.rule_failures()
        if failures:
            raise TemplateError("; ".join(failures))
        desired = template.order([lid for lid in template.resources if resolver.included(lid)])
        return template, resolver, desired

    def _deploy_stack(self, op: _Operation, template: Template, resolver: Resolver, desired: list[str]) -> bool:
        """Create and update the resources of one stack (no cleanup, no rollback); True when all succeeded."""
        op.touched = True
        op.removed = [lid for lid in op.stack.resources if lid not in desired]
        prerequisites = {lid: template.dependencies(lid) & set(desired) for lid in desired}
        succeeded = self._run_graph(
            op, desired, prerequisites, lambda lid: self._apply(op, template, resolver, lid, prerequisites[lid])
        )
        if not succeeded:
            return False
        try:
            op.stack.outputs = resolver.outputs()
        except TemplateError as error:
            op.problem(f"{op.stack.stack_name}: Outputs: {error}")
            return False
        return True

    def _apply(self, op: _Operation, template: Template, resolver: Resolver, logical_id: str, deps: set[str]) -> bool:
        declaration = template.resources[logical_id]
        resource_type = str(declaration["Type"])
        previous = op.get(logical_id)
        fresh = ResourceState(
            logical_id=logical_id,
            resource_type=resource_type,
            physical_id=None,
            properties={},
            status="",
            deletion_policy=str(declaration.get("DeletionPolicy", "Delete")),
            update_replace_policy=str(declaration.get("UpdateReplacePolicy", "Delete")),
            depends_on=sorted(deps),
        )
        try:
            properties = resolver.resolve(declaration.get("Properties", {})) or {}
        except TemplateError as error:
            if previous is None:
                op.put(fresh, "CREATE_FAILED", str(error))
                op.record(_Step("create_failed", logical_id, after=fresh))
            else:
                op.set_status(logical_id, "UPDATE_FAILED", str(error))
            return False
        fresh.properties = stringify(properties) if is_custom(resource_type) else properties
        if previous is None:
            return self._create(op, fresh)
        if previous.resource_type != resource_type:
            return self._create(op, fresh, replacing=previous)
        emulator = self.emulators.get(resource_type)
        if (
            emulator is not None
            and previous.properties != fresh.properties
            and native.requires_replacement(emulator, previous.properties, fresh.properties)
        ):
            # A create-only property changed: a new resource now, the old one deleted in cleanup.
            return self._create(op, fresh, replacing=previous)
        if previous.properties == fresh.properties:
            with op.lock:
                # Policies and dependencies may change without any call (CloudFormation updates metadata only).
                current = op.stack.resources[logical_id]
                current.deletion_policy = fresh.deletion_policy
                current.update_replace_policy = fresh.update_replace_policy
                current.depends_on = fresh.depends_on
            return True
        return self._update(op, previous, fresh)

    def _create(self, op: _Operation, fresh: ResourceState, *, replacing: ResourceState | None = None) -> bool:
        if fresh.resource_type == NESTED_STACK:
            # A nested stack has its id (the resource's physical id) from the moment its creation starts.
            name = native.nested_stack_name(op.stack.stack_name, fresh.logical_id, op.stack.stack_id)
            fresh.physical_id = self._new_stack_id(name)
        op.put(fresh, "CREATE_IN_PROGRESS")
        if is_custom(fresh.resource_type):
            record = self._send(op, "deploy", "Create", fresh)
            fresh.physical_id = record.answered_physical_id
            if not record.succeeded:
                # The FAILED answer's physical id (crhelper invents one) is what the rollback Delete carries.
                op.put(fresh, "CREATE_FAILED", record.reason)
                op.record(_Step("create_failed", fresh.logical_id, after=fresh.copy()))
                return False
            fresh.attributes = record.data
        elif fresh.resource_type == NESTED_STACK:
            op.count_action()
            failure = self._deploy_nested(op, fresh, previous=None)
            if failure is not None:
                op.put(fresh, "CREATE_FAILED", failure)
                op.record(_Step("create_failed", fresh.logical_id, after=fresh.copy()))
                return False
        else:
            op.count_action()
            try:
                self._create_native(op, fresh)
            except (ResourceError, TemplateError, AssemblyError, ValueError, KeyError) as error:
                op.put(fresh, "CREATE_FAILED", str(error))
                op.record(_Step("create_failed", fresh.logical_id, after=fresh.copy()))
                return False
        op.put(fresh, "CREATE_COMPLETE")
        if replacing is not None:
            op.replaced.append(replacing)
            op.record(_Step("created_replacement", fresh.logical_id, before=replacing, after=fresh.copy()))
        else:
            op.record(_Step("created", fresh.logical_id, after=fresh.copy()))
        return True

    def _create_native(self, op: _Operation, fresh: ResourceState) -> None:
        emulator = self.emulators.get(fresh.resource_type)
        if emulator is not None:
            try:
                created = emulator.create(fresh.logical_id, fresh.properties, stack_name=op.stack.stack_name)
            except ResourceError as error:
                fresh.physical_id = error.physical_id  # what the rollback's Delete then removes
                raise
            fresh.physical_id, fresh.attributes = created.physical_id, dict(created.attributes)
            return
        fresh.physical_id = native.physical_id(
            fresh.resource_type, op.stack.stack_name, fresh.logical_id, fresh.properties
        )
        if fresh.resource_type == LAMBDA_FUNCTION:
            config = self._function_config(op, fresh)
            self.functions.deploy(config)
            fresh.function = config.to_json()
            op.result.code_dirs.append(config.code_dir)
        elif fresh.resource_type == EVENT_INVOKE_CONFIG:
            self._configure_async(fresh.properties)

    def _configure_async(self, properties: Mapping[str, Any], *, remove: bool = False) -> None:
        """Apply (or, removed, undo) an AWS::Lambda::EventInvokeConfig to the function it names."""
        name = str(properties.get("FunctionName", ""))
        settings = self.settings
        arn = (
            name
            if name.startswith("arn:")
            else native.attribute(LAMBDA_FUNCTION, name, "Arn", region=settings.region, account_id=settings.account_id)
        )
        defaults = AsyncInvokeConfig()
        self.functions.configure_async(
            arn,
            defaults
            if remove
            else AsyncInvokeConfig(
                maximum_event_age_s=int(properties.get("MaximumEventAgeInSeconds", defaults.maximum_event_age_s)),
                maximum_retry_attempts=int(properties.get("MaximumRetryAttempts", defaults.maximum_retry_attempts)),
            ),
        )

    def _update(self, op: _Operation, previous: ResourceState, fresh: ResourceState) -> bool:
        logical_id = fresh.logical_id
        op.set_status(logical_id, "UPDATE_IN_PROGRESS")
        if is_custom(fresh.resource_type):
            if fresh.properties.get("ServiceToken") != previous.properties.get("ServiceToken"):
                op.set_status(logical_id, "UPDATE_FAILED", "Modifying service token is not allowed.")
                return False
            record = self._send(
                op, "deploy", "Update", fresh, physical_id=previous.physical_id, old_properties=previous.properties
            )
            if not record.succeeded:
                op.set_status(logical_id, "UPDATE_FAILED", record.reason)
                op.record(_Step("update_failed", logical_id, before=previous, attempted=fresh.properties))
                return False
            fresh.physical_id, fresh.attributes = record.answered_physical_id, record.data
        elif fresh.resource_type == NESTED_STACK:
            # A nested stack is updated in place: its id never changes.
            op.count_action()
            fresh.physical_id = previous.physical_id
            failure = self._deploy_nested(op, fresh, previous=previous)
            if failure is not None:
                op.set_status(logical_id, "UPDATE_FAILED", failure)
                op.record(_Step("update_failed", logical_id, before=previous, attempted=fresh.properties))
                return False
        elif fresh.resource_type in self.emulators:
            # In place: an emulated type keeps its identity, and one that refuses an update changed nothing.
            op.count_action()
            try:
                fresh.attributes = self.emulators[fresh.resource_type].update(
                    str(previous.physical_id), previous.properties, fresh.properties
                )
            except ResourceError as error:
                op.set_status(logical_id, "UPDATE_FAILED", str(error))
                return False
            fresh.physical_id = previous.physical_id
        else:
            op.count_action()
            try:
                self._create_native(op, fresh)
            except (TemplateError, AssemblyError, ValueError, KeyError) as error:
                op.set_status(logical_id, "UPDATE_FAILED", str(error))
                return False
        op.put(fresh, "UPDATE_COMPLETE")
        if fresh.physical_id != previous.physical_id:
            # A new identity is a replacement: the old one is deleted during cleanup.
            op.replaced.append(previous)
        op.record(_Step("updated", logical_id, before=previous, after=fresh.copy()))
        return True

    # -- nested stacks ----------------------------------------------------------------------------------------

    def _deploy_nested(self, op: _Operation, fresh: ResourceState, *, previous: ResourceState | None) -> str | None:
        """Create or update the nested stack of ``fresh`` to its TemplateURL and Parameters.

        Returns ``None`` on success (the resource's attributes then hold the nested stack's outputs), else
        the reason its resource failed. A nested stack whose resources failed has rolled itself back.
        """
        properties = fresh.properties
        stack_id = str(fresh.physical_id)
        if previous is None:
            child = op.child(
                fresh.logical_id, StackState(_stack_name(stack_id), stack_id, "", parent_id=op.stack.stack_id)
            )
        else:
            found = self._nested_operation(op, previous)
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
            template, resolver, desired = self._prepare(child, document, stringify(passed))
            child.stack.template = document
        except (TemplateError, AssemblyError) as error:
            return str(error)
        new = previous is None
        child.set_stack_status("CREATE_IN_PROGRESS" if new else "UPDATE_IN_PROGRESS")
        if self._deploy_stack(child, template, resolver, desired):
            child.stack.parameters = stringify(passed)
            # An updated nested stack's cleanup waits for the top-level stack's cleanup phase.
            child.set_stack_status("CREATE_COMPLETE" if new else AWAITING_CLEANUP)
            fresh.attributes = {f"Outputs.{name}": value for name, value in child.stack.outputs.items()}
            return None
        failed = ", ".join(child.failed_resources())
        self._rollback(child, new_stack=new)
        if new:
            return (
                f"Embedded stack {stack_id} was not successfully created: "
                f"The following resource(s) failed to create: [{failed}]."
            )
        return (
            f"Embedded stack {stack_id} was not successfully updated. Currently in UPDATE_ROLLBACK_IN_PROGRESS "
            f"with reason: The following resource(s) failed to update: [{failed}]."
        )

    def _nested_operation(self, op: _Operation, state: ResourceState) -> _Operation | None:
        """The operation of the nested stack a parent's resource holds, its state loaded if need be."""
        stack_id = str(state.physical_id)
        with op.lock:
            found = op.children.get(stack_id)
        if found is not None:
            return found
        stored = self.store.load(_stack_name(stack_id))
        if stored is None or stored.stack_id != stack_id:
            return None
        return op.child(state.logical_id, stored)

    def _load_nested(self, op: _Operation) -> None:
        """Load the states of every nested stack below ``op``'s stack, so their functions can be restored."""
        for state in list(op.stack.resources.values()):
            if state.resource_type == NESTED_STACK and state.physical_id:
                child = self._nested_operation(op, state)
                if child is not None:
                    self._load_nested(child)

    def _delete_nested(self, op: _Operation, state: ResourceState, phase: str) -> tuple[bool, str]:
        """Delete a nested stack: every one of its resources, in reverse dependency order; their requests
        are sent in the parent's ``phase`` (a nested stack removed by an update goes in its cleanup)."""
        child = self._nested_operation(op, state)
        if child is None:
            return True, ""
        if self._destroy_stack(child, phase=phase):
            return True, ""
        failed = ", ".join(child.failed_resources())
        return False, (
            f"Embedded stack {child.stack.stack_id} was not successfully deleted: "
            f"The following resource(s) failed to delete: [{failed}]."
        )

    def _persist(self, op: _Operation, *, keep: bool) -> None:
        """Save the stack and its nested stacks; forget the deleted ones (and the stack unless ``keep``)."""
        for each in op.tree():
            stack = each.stack
            if each is op:
                gone = stack.status == "DELETE_COMPLETE" or (not keep and stack.status.startswith("ROLLBACK"))
            else:
                gone = stack.status == "DELETE_COMPLETE"
            if gone:
                # A stack whose creation rolled back holds nothing; `cdk deploy` deletes it before retrying.
                self.store.delete(stack.stack_name)
            else:
                self.store.save(stack)

    # -- cleanup and rollback ---------------------------------------------------------------------------------

    def _cleanup_pending(self, op: _Operation) -> bool:
        """Whether the stack or a nested stack below it has something to delete in the cleanup phase."""
        return bool(op.removed or op.replaced) or any(child.stack.status == AWAITING_CLEANUP for child in op.tree()[1:])

    def _cleanup_tree(self, op: _Operation) -> None:
        """The cleanup phase: the nested stacks' deferred cleanups (in parallel), then the stack's own."""
        with op.lock:
            waiting = [child for child in op.children.values() if child.stack.status == AWAITING_CLEANUP]

        def clean(index: str) -> bool:
            child = waiting[int(index)]
            self._cleanup_tree(child)
            child.set_stack_status("UPDATE_COMPLETE")
            return True

        self._run_graph(op, [str(i) for i in range(len(waiting))], {}, clean)
        self._cleanup(op, op.removed)

    def _cleanup(self, op: _Operation, removed: list[str]) -> None:
        replaced = list(op.replaced)

        def delete_replaced(index: str) -> bool:
            old = replaced[int(index)]
            if old.update_replace_policy == "Retain":
                op.event(old, "DELETE_SKIPPED")
                return True
            done, reason = self._cleanup_delete(op, old, listed=False)
            if not done:
                op.problem(f"cleanup: Delete of {old.logical_id} ({old.physical_id}) failed: {reason}")
            return True

        self._run_graph(op, [str(i) for i in range(len(replaced))], {}, delete_replaced)

        with op.lock:
            states = {lid: op.stack.resources[lid].copy() for lid in removed}
        prerequisites = {lid: {other for other in removed if lid in states[other].depends_on} for lid in removed}

        def delete_removed(logical_id: str) -> bool:
            state = states[logical_id]
            if state.deletion_policy == "Retain":
                op.set_status(logical_id, "DELETE_SKIPPED")
                op.forget(logical_id)
                return True
            done, reason = self._cleanup_delete(op, state, listed=True)
            if not done:
                # CloudFormation completes the update anyway and stops tracking the resource.
                op.problem(f"cleanup: Delete of {logical_id} ({state.physical_id}) failed: {reason}")
            op.forget(logical_id)
            return True

        self._run_graph(op, removed, prerequisites, delete_removed)

    def _cleanup_delete(self, op: _Operation, state: ResourceState, *, listed: bool) -> tuple[bool, str]:
        """A cleanup Delete as CloudFormation makes it: tried :data:`CLEANUP_DELETE_ATTEMPTS` times, then left
        behind; ``listed``: the resource is the one listed for its logical id (a removed one)."""
        done, reason = False, ""
        for _ in range(CLEANUP_DELETE_ATTEMPTS):
            if listed:
                op.set_status(state.logical_id, "DELETE_IN_PROGRESS")
            else:
                op.event(state, "DELETE_IN_PROGRESS")
            done, reason = self._delete(op, "cleanup", state)
            if listed:
                op.set_status(state.logical_id, "DELETE_COMPLETE" if done else "DELETE_FAILED", reason)
            else:
                op.event(state, "DELETE_COMPLETE" if done else "DELETE_FAILED", reason)
            if done:
                return True, ""
        with op.lock:
            op.left_behind.append(state.logical_id)
        return False, reason

    def _rollback(self, op: _Operation, *, new_stack: bool) -> None:
        op.rolled_back = True
        steps = list(reversed(op.journal))
        if new_stack:
            op.set_stack_status("ROLLBACK_IN_PROGRESS")
            clean = True
            for step in steps:
                if step.after is not None:
                    clean &= self._rollback_delete(op, step.after, phase="rollback", listed=True)
            op.set_stack_status("ROLLBACK_COMPLETE" if clean else "ROLLBACK_FAILED")
            return
        # From here on the stack's template is the previous one again (GetTemplate answers it).
        op.stack.template = op.previous_template
        op.set_stack_status("UPDATE_ROLLBACK_IN_PROGRESS")
        restored_all = True
        to_delete: list[tuple[ResourceState, bool]] = []
        # A rollback is an update back to the old template, so what was updated comes back in the old
        # template's dependency order: a role's policy before the function and the custom resources that
        # depend on it, whose rollback Updates then run under the old policy (REFERENCE.md section 6).
        with op.lock:
            old_dependencies = {lid: list(state.depends_on) for lid, state in op.stack.resources.items()}
        for step in steps:
            if step.before is not None:
                old_dependencies[step.logical_id] = list(step.before.depends_on)
        updates = _in_dependency_order([s for s in steps if s.kind in ("updated", "update_failed")], old_dependencies)
        steps = updates + [s for s in steps if s.kind not in ("updated", "update_failed")]
        for step in steps:
            if step.kind == "updated" and step.before is not None and step.after is not None:
                restored = self._rollback_update(op, step.before, step.after.physical_id, step.after.properties)
                if restored is None:
                    restored_all = False
                elif restored.physical_id != step.after.physical_id:
                    # The rollback Update moved the identity back: the replacement's resource goes.
                    to_delete.append((step.after, False))
            elif step.kind == "update_failed" and step.before is not None:
                restored = self._rollback_update(op, step.before, step.before.physical_id, step.attempted or {})
                restored_all &= restored is not None
            elif step.kind in ("created", "create_failed") and step.after is not None:
                to_delete.append((step.after, True))
            elif step.kind == "created_replacement" and step.before is not None and step.after is not None:
                op.put(step.before, step.before.status)
                to_delete.append((step.after, False))
        op.set_stack_status("UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS")
        for state, listed in to_delete:
            self._rollback_delete(op, state, phase="rollback cleanup", listed=listed)
        op.stack.parameters = dict(op.previous_parameters)
        op.stack.outputs = dict(op.previous_outputs)
        op.set_stack_status("UPDATE_ROLLBACK_COMPLETE" if restored_all else "UPDATE_ROLLBACK_FAILED")

    def _rollback_update(
        self, op: _Operation, target: ResourceState, current_physical_id: str | None, attempted: dict[str, Any]
    ) -> ResourceState | None:
        """Bring a resource back to ``target``; returns the restored state, or ``None`` if that failed."""
        logical_id = target.logical_id
        op.set_status(logical_id, "UPDATE_IN_PROGRESS")
        restored = target.copy()
        if is_custom(target.resource_type):
            record = self._send(
                op, "rollback", "Update", target, physical_id=current_physical_id, old_properties=attempted
            )
            if not record.succeeded:
                op.set_status(logical_id, "UPDATE_FAILED", record.reason)
                op.problem(f"rollback: Update of {logical_id} back to its old properties failed: {record.reason}")
                return None
            restored.physical_id, restored.attributes = record.answered_physical_id, record.data
        elif target.resource_type == NESTED_STACK:
            # Back to the old template and parameters: the nested stack undoes what it did. One that failed
            # has already rolled itself back; one that never started has nothing to undo.
            child = self._nested_operation(op, target)
            if child is not None and child.touched and not child.rolled_back:
                self._rollback(child, new_stack=False)
            if child is not None and child.stack.status.endswith("_FAILED"):
                op.set_status(
                    logical_id, "UPDATE_FAILED", f"Embedded stack {child.stack.stack_id}: {child.stack.status}"
                )
                op.problem(f"rollback: nested stack {child.stack.stack_name} ended {child.stack.status}")
                return None
        elif target.resource_type in self.emulators:
            try:
                restored.attributes = self.emulators[target.resource_type].update(
                    str(current_physical_id), attempted, target.properties
                )
            except ResourceError as error:
                op.set_status(logical_id, "UPDATE_FAILED", str(error))
                op.problem(f"rollback: Update of {logical_id} back to its old properties failed: {error}")
                return None
        elif target.function is not None:
            self.functions.deploy(FunctionConfig.from_json(target.function))
        elif target.resource_type == EVENT_INVOKE_CONFIG:
            self._configure_async(target.properties)
        op.put(restored, "UPDATE_COMPLETE")
        return restored

    def _rollback_delete(self, op: _Operation, state: ResourceState, *, phase: str, listed: bool) -> bool:
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
        done, reason = self._delete(op, phase, state)
        status = "DELETE_COMPLETE" if done else "DELETE_FAILED"
        if listed:
            op.set_status(state.logical_id, status, reason)
            op.forget(state.logical_id)
        else:
            op.event(state, status, reason)
        if not done:
            op.problem(f"rollback: Delete of {state.logical_id} ({state.physical_id}) failed: {reason}")
        return done

    # -- destroy --------------------------------------------------------------------------------------------

    def destroy(self, stack_name: str, *, assembly: CloudAssembly | None = None) -> OperationResult:
        """Delete the stack: every resource in reverse dependency order, nested stacks' included, Retain honoured.

        Parameters
        ----------
        stack_name:
            The stack to delete.
        assembly:
            A current synthesis of the app: where the deployed function code is found again if the
            assembly it was deployed from is gone (same asset hash).
        """
        previous = self.store.load(stack_name)
        if previous is None:
            result = OperationResult("destroy", stack_name, "", status="DELETE_COMPLETE", changed=False)
            result.notes.append(f"Stack {stack_name} does not exist: nothing to destroy.")
            result.ended_at = time.time()
            return result
        stack = previous.copy()
        result = OperationResult("destroy", stack_name, stack.stack_id)
        op = _Operation(self, stack, result, assembly, stack_name)
        try:
            self._load_nested(op)
            self._restore_functions(op)
        except AssemblyError as error:
            result.status = "DELETE_FAILED"
            result.problems.append(str(error))
            result.ended_at = time.time()
            return result
        self._destroy_stack(op)
        self._persist(op, keep=True)
        self._finish(op)
        return result

    def _destroy_stack(self, op: _Operation, *, phase: str = "destroy") -> bool:
        """Delete every resource of one stack in reverse dependency order; True when the stack is gone."""
        op.set_stack_status("DELETE_IN_PROGRESS")
        stack = op.stack
        with op.lock:
            logical_ids = list(stack.resources)
            states = {lid: stack.resources[lid].copy() for lid in logical_ids}
        prerequisites = {lid: {o for o in logical_ids if lid in states[o].depends_on} for lid in logical_ids}

        def delete(logical_id: str) -> bool:
            state = states[logical_id]
            if state.deletion_policy == "Retain":
                op.set_status(logical_id, "DELETE_SKIPPED")
                return True
            op.set_status(logical_id, "DELETE_IN_PROGRESS")
            done, reason = self._delete(op, phase, state)
            op.set_status(logical_id, "DELETE_COMPLETE" if done else "DELETE_FAILED", reason)
            return done

        if self._run_graph(op, logical_ids, prerequisites, delete):
            op.set_stack_status("DELETE_COMPLETE")
            return True
        op.set_stack_status("DELETE_FAILED")
        with op.lock:
            for lid in [lid for lid, s in stack.resources.items() if s.status in ("DELETE_COMPLETE", "DELETE_SKIPPED")]:
                del stack.resources[lid]
            op.publish()
        return False

    # -- shared -----------------------------------------------------------------------------------------------

    def _delete(self, op: _Operation, phase: str, state: ResourceState) -> tuple[bool, str]:
        """Delete one physical resource (the caller has already honoured Retain)."""
        if is_custom(state.resource_type):
            if not state.physical_id:
                op.result.notes.append(
                    f"{state.logical_id}: no physical id was ever answered, so there is nothing to send a Delete for"
                )
                return True, ""
            record = self._send(op, phase, "Delete", state, physical_id=state.physical_id)
            return record.succeeded, record.reason
        op.count_action()
        if state.resource_type == NESTED_STACK:
            return self._delete_nested(op, state, phase)
        emulator = self.emulators.get(state.resource_type)
        if emulator is not None:
            return _delete_emulated(emulator, state)
        if state.resource_type == LAMBDA_FUNCTION and state.function is not None:
            self.functions.remove(FunctionConfig.from_json(state.function).arn)
        if state.resource_type == EVENT_INVOKE_CONFIG:
            self._configure_async(state.properties, remove=True)
        return True, ""

    def _send(
        self,
        op: _Operation,
        phase: str,
        request_type: RequestType,
        state: ResourceState,
        *,
        physical_id: str | None = None,
        old_properties: dict[str, Any] | None = None,
    ) -> RequestRecord:
        return self.requests.send(
            phase=phase,
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

    def _run_graph(
        self, op: _Operation, nodes: list[str], prerequisites: Mapping[str, set[str]], work: Callable[[str], bool]
    ) -> bool:
        """Run ``work`` on every node once its prerequisites are done, independent nodes in parallel.

        After a failure nothing new starts, but the work in flight finishes (as in CloudFormation).
        Returns True when every node succeeded.
        """
        done: set[str] = set()
        started: set[str] = set()
        failed = False
        with ThreadPoolExecutor(max_workers=self.settings.max_parallel, thread_name_prefix="cfn") as pool:
            running: dict[Future[bool], str] = {}
            while True:
                if not failed:
                    for node in nodes:
                        if node not in started and (prerequisites.get(node, set()) & set(nodes)) <= done:
                            started.add(node)
                            running[pool.submit(work, node)] = node
                if not running:
                    break
                finished, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in finished:
                    node = running.pop(future)
                    try:
                        succeeded = future.result()
                    except Exception as error:
                        op.problem(f"{node}: internal error: {error!r}")
                        succeeded = False
                    if succeeded:
                        done.add(node)
                    else:
                        failed = True
        return not failed and len(done) == len(nodes)

    def _function_config(self, op: _Operation, state: ResourceState) -> FunctionConfig:
        properties = state.properties
        code = properties.get("Code", {})
        if "S3Key" not in code:
            raise TemplateError(f"{state.logical_id}: only Code.S3Key (a synthesized asset) is supported")
        if op.assembly is None:
            raise AssemblyError(f"{state.logical_id}: a cloud assembly is needed to find the function's code")
        object_key = str(code["S3Key"])
        code_dir = op.assembly.asset_dir(op.artifact, object_key)
        logging_config = properties.get("LoggingConfig", {})
        physical = str(state.physical_id)
        variables = properties.get("Environment", {}).get("Variables", {})
        return FunctionConfig(
            function_name=physical,
            arn=native.attribute(
                LAMBDA_FUNCTION, physical, "Arn", region=self.settings.region, account_id=self.settings.account_id
            ),
            code_dir=str(code_dir),
            asset_hash=object_key.removesuffix(".zip"),
            handler=str(properties["Handler"]),
            runtime=str(properties.get("Runtime", "")),
            timeout_s=int(properties.get("Timeout", 3)),
            memory_mb=int(properties.get("MemorySize", 128)),
            environment=tuple(sorted((str(k), str(v)) for k, v in variables.items())),
            log_group=str(logging_config.get("LogGroup") or f"/aws/lambda/{physical}"),
            log_format=str(logging_config.get("LogFormat", "Text")),
            application_log_level=str(logging_config.get("ApplicationLogLevel", "")),
            role_arn=str(properties.get("Role", "")),
            reserved_concurrency=(
                int(properties["ReservedConcurrentExecutions"])
                if properties.get("ReservedConcurrentExecutions") is not None
                else None
            ),
        )

    def _restore_functions(self, op: _Operation) -> None:
        """Deploy the functions of the stack and its nested stacks as they were deployed, for the requests
        sent before (or without) the function's own update: the code is the deployed code, not the new one."""
        for each in op.tree():
            for state in each.stack.resources.values():
                if state.resource_type == EVENT_INVOKE_CONFIG:
                    self._configure_async(state.properties)
                if state.function is None:
                    continue
                config = FunctionConfig.from_json(state.function)
                if not Path(config.code_dir).is_dir():
                    if op.assembly is None:
                        raise AssemblyError(f"the deployed code of {config.function_name} is gone: {config.code_dir}")
                    found = op.assembly.asset_dir(op.artifact, f"{config.asset_hash}.zip")
                    config = dataclasses.replace(config, code_dir=str(found))
                    state.function = config.to_json()
                self.functions.deploy(config)
                op.result.code_dirs.append(config.code_dir)

    def _finish(self, op: _Operation) -> None:
        """Let the invocations end, then count answers: each request must have exactly one."""
        deadline = time.monotonic() + self.settings.settle_timeout_s
        for record in op.result.requests:
            if record.invocation is not None and not record.invocation.wait(max(deadline - time.monotonic(), 0)):
                op.problem(f"{record.request_type} {record.logical_id}: the function was still running at the end")
        for record in op.result.requests:
            record.answers = len(self.requests.responses.answers(record.request_id))
            label = f"{record.request_type} {record.logical_id} (request {record.request_id})"
            if record.answers > 1:
                op.problem(f"{label} was answered {record.answers} times; CloudFormation expects exactly one answer")
            elif record.answers == 0:
                op.problem(f"{label} was never answered: {record.reason}")
            invocation = record.invocation
            for attempt in invocation.attempts if invocation is not None else []:
                if attempt.outcome != "success":
                    op.problem(
                        f"{label}: invocation attempt {attempt.number} ended {attempt.outcome}: "
                        f"{attempt.error_type} {attempt.error_message}".rstrip()
                    )
        op.result.code_dirs = sorted(set(op.result.code_dirs))
        op.result.ended_at = time.time()

    def _pseudo(self, stack: StackState) -> dict[str, Any]:
        return {
            "AWS::AccountId": self.settings.account_id,
            "AWS::Region": self.settings.region,
            "AWS::Partition": "aws",
            "AWS::URLSuffix": "amazonaws.com",
            "AWS::StackId": stack.stack_id,
            "AWS::StackName": stack.stack_name,
            "AWS::NotificationARNs": [],
        }

    def _new_stack_id(self, stack_name: str) -> str:
        """A StackId as CloudFormation makes them: ``arn:...:stack/<name>/<uuid>``."""
        settings = self.settings
        return f"arn:aws:cloudformation:{settings.region}:{settings.account_id}:stack/{stack_name}/{uuid.uuid4()}"


def _delete_emulated(emulator: ResourceEmulator, state: ResourceState) -> tuple[bool, str]:
    """Delete one resource of an emulated type: done, and the reason when not."""
    if not state.physical_id:
        return True, ""  # its creation failed before anything existed
    try:
        emulator.delete(state.physical_id, state.properties)
    except ResourceError as error:
        return False, str(error)
    return True, ""


def _stack_name(stack_id: str) -> str:
    """The stack name inside a StackId (``arn:aws:cloudformation:<region>:<account>:stack/<name>/<uuid>``)."""
    return stack_id.split(":stack/", 1)[-1].split("/", 1)[0]


def _in_dependency_order(steps: list[_Step], depends_on: Mapping[str, list[str]]) -> list[_Step]:
    """``steps`` ordered so that a resource comes after every resource it depended on, directly or not,
    in the old template (``depends_on``: each logical id's direct dependencies there).

    Steps without such a relation keep their order (most recent change first).
    """

    def closure(logical_id: str) -> set[str]:
        seen: set[str] = set()
        todo = list(depends_on.get(logical_id, ()))
        while todo:
            current = todo.pop()
            if current not in seen:
                seen.add(current)
                todo.extend(depends_on.get(current, ()))
        return seen

    below = {s.logical_id: closure(s.logical_id) for s in steps}
    remaining = list(steps)
    ordered: list[_Step] = []
    while remaining:
        pending = {s.logical_id for s in remaining}
        ready = next((s for s in remaining if not (below[s.logical_id] & (pending - {s.logical_id}))), remaining[0])
        ordered.append(ready)
        remaining.remove(ready)
    return ordered
