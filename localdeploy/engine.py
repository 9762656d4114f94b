"""A minimal CloudFormation engine for the custom resources of a synthesized template.

It follows CloudFormation's documented order of work (:class:`~.phases.Phase`):

deploy
    Resources are created or updated in dependency order, independent ones in parallel
    (:mod:`.scheduler`). A resource is created when its logical id is new, updated when its resolved
    properties changed, left alone otherwise; a change its kind cannot make in place (a create-only
    property, another type) creates a replacement. An update that gives the resource another physical id
    is a replacement too. Every completed change is journalled (:mod:`.journal`).
cleanup (after every create and update succeeded; :mod:`.cleanup`)
    The OLD physical id of each replaced resource gets a Delete carrying the OLD properties; logical ids
    no longer in the template get a Delete, in reverse dependency order. A failure here does not roll
    back (CloudFormation completes the update and leaves the resource).
rollback (after any failure; :mod:`.rollback`)
    In-flight requests finish first. Completed Updates (and the failed one) get an Update back to the
    old properties, in the old template's dependency order; completed Creates get a Delete, and so does
    the failed Create. The stack is left as it was, its previous template (GetTemplate) from the
    rollback's start.
destroy
    Every resource is deleted in reverse dependency order.

Each kind of resource is a module behind one interface, :class:`~.resource_kind.ResourceKind` (its table
lists them): custom resources send requests to their function, nested stacks are stacks of their own, the
types with a :class:`~.native.ResourceEmulator` are made for real in moto, functions are deployed to the local
Lambda service, and the rest (roles, policies, log groups) are recorded with synthetic ids. ``DeletionPolicy``
/ ``UpdateReplacePolicy`` ``Retain`` mean no delete is made.

IAM: every change of a role or policy resource is published to the :class:`~.iam.PolicyRegistry` as it
happens (:class:`~.operation.Operation`), so the functions' calls are judged by the policy CloudFormation has
at that step: a policy updated in the update phase is in force before the custom resources that depend on it
are updated; one removed from the template stays until the cleanup phase deletes it; a rollback restores it
before the rollback Updates of the resources that depend on it.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Mapping
from typing import Any

from cdk_alternate_contacts_cli.cloud_assembly import AssemblyError, CloudAssembly

from . import cleanup, rollback
from .custom_resource import CustomResourceKind
from .custom_resources import CustomResourceClient, is_custom
from .iam import PolicyRegistry
from .journal import Step
from .lambda_function import EVENT_INVOKE_CONFIG, LAMBDA_FUNCTION, FunctionKind, InvokeConfigKind, restore_functions
from .lambda_service import FunctionService
from .native import ResourceEmulator
from .nested_stack import AWAITING_CLEANUP, NESTED_STACK, NestedStackKind, load_nested
from .operation import Operation
from .phases import Phase, StepKind
from .registry import StackRegistry
from .resource_kind import EmulatedKind, KindError, RecordedKind, ResourceKind
from .results import SUCCESS_STATUSES, EngineSettings, OperationResult, StackEvent
from .state import ResourceState, StackState, StateStore
from .template import Resolver, Template, TemplateError, parameter_values, stringify

__all__ = [
    "AWAITING_CLEANUP",
    "EVENT_INVOKE_CONFIG",
    "LAMBDA_FUNCTION",
    "NESTED_STACK",
    "SUCCESS_STATUSES",
    "Engine",
    "EngineSettings",
    "OperationResult",
    "StackEvent",
]


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
        none, and every type without a kind of its own is recorded only.
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
        self._custom = CustomResourceKind()
        self._recorded = RecordedKind()
        self._kinds: dict[str, ResourceKind] = {
            NESTED_STACK: NestedStackKind(),
            LAMBDA_FUNCTION: FunctionKind(),
            EVENT_INVOKE_CONFIG: InvokeConfigKind(),
            **{resource_type: EmulatedKind(emulator) for resource_type, emulator in self.emulators.items()},
        }

    def kind(self, resource_type: str) -> ResourceKind:
        """The kind that creates, updates and deletes resources of ``resource_type``."""
        if is_custom(resource_type):
            return self._custom
        return self._kinds.get(resource_type, self._recorded)

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
        stack = previous.copy() if previous is not None else StackState(stack_name, self.new_stack_id(stack_name), "")
        result = OperationResult("deploy", stack_name, stack.stack_id)
        op = Operation(self, stack, result, assembly, artifact)
        overrides = {**(previous.parameters if previous else {}), **dict(parameters or {})}
        try:
            document = assembly.template(artifact)
            template, resolver, desired = self.prepare(op, document, overrides)
            stack.template = document
            if previous is not None:
                load_nested(op)
                restore_functions(op)
        except (TemplateError, AssemblyError) as error:
            # CloudFormation rejects such a template before touching any resource.
            result.status = "VALIDATION_FAILED"
            result.problems.append(str(error))
            result.ended_at = time.time()
            return result

        op.set_stack_status("CREATE_IN_PROGRESS" if previous is None else "UPDATE_IN_PROGRESS")
        if self.deploy_stack(op, template, resolver, desired):
            if previous is not None and cleanup.cleanup_pending(op):
                op.set_stack_status(AWAITING_CLEANUP)
                cleanup.cleanup_tree(op)
            if previous is not None and op.actions == 0 and not op.removed:
                result.changed = False
                result.notes.append("No updates are to be performed.")
                op.set_stack_status(previous.status)
            else:
                left = any(each.left_behind for each in op.tree())
                op.set_stack_status(
                    "CREATE_COMPLETE" if previous is None else "UPDATE_COMPLETE",
                    cleanup.CLEANUP_LEFT_BEHIND if left else "",
                )
            stack.parameters = dict(overrides)
            result.outputs = dict(stack.outputs)
        else:
            self.rollback(op, new_stack=previous is None)
            stack.parameters = dict(previous.parameters) if previous is not None else {}
        self._persist(op, keep=previous is not None)
        self._finish(op)
        return result

    def prepare(
        self, op: Operation, document: Mapping[str, Any], overrides: Mapping[str, str]
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

    def deploy_stack(self, op: Operation, template: Template, resolver: Resolver, desired: list[str]) -> bool:
        """Create and update the resources of one stack (no cleanup, no rollback); True when all succeeded."""
        op.touched = True
        op.removed = [lid for lid in op.stack.resources if lid not in desired]
        prerequisites = {lid: template.dependencies(lid) & set(desired) for lid in desired}
        succeeded = op.run_graph(
            desired, prerequisites, lambda lid: self._apply(op, template, resolver, lid, prerequisites[lid])
        )
        if not succeeded:
            return False
        try:
            op.stack.outputs = resolver.outputs()
        except TemplateError as error:
            op.problem(f"{op.stack.stack_name}: Outputs: {error}")
            return False
        return True

    def _apply(self, op: Operation, template: Template, resolver: Resolver, logical_id: str, deps: set[str]) -> bool:
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
                op.journal.record(Step(StepKind.CREATE_FAILED, logical_id, after=fresh))
            else:
                op.set_status(logical_id, "UPDATE_FAILED", str(error))
            return False
        fresh.properties = stringify(properties) if is_custom(resource_type) else properties
        if previous is None:
            return self._create(op, fresh)
        if previous.resource_type != resource_type:
            return self._create(op, fresh, replacing=previous)
        if previous.properties == fresh.properties:
            with op.lock:
                # Policies and dependencies may change without any call (CloudFormation updates metadata only).
                current = op.stack.resources[logical_id]
                current.deletion_policy = fresh.deletion_policy
                current.update_replace_policy = fresh.update_replace_policy
                current.depends_on = fresh.depends_on
            return True
        if self.kind(resource_type).replaces(previous.properties, fresh.properties):
            # A create-only property changed: a new resource now, the old one deleted in cleanup.
            return self._create(op, fresh, replacing=previous)
        return self._update(op, previous, fresh)

    def _create(self, op: Operation, fresh: ResourceState, *, replacing: ResourceState | None = None) -> bool:
        kind = self.kind(fresh.resource_type)
        fresh.physical_id = kind.starting_id(op, fresh)
        op.put(fresh, "CREATE_IN_PROGRESS")
        if not kind.sends_requests:
            op.count_action()
        try:
            kind.create(op, fresh)
        except KindError as error:
            op.put(fresh, "CREATE_FAILED", str(error))
            op.journal.record(Step(StepKind.CREATE_FAILED, fresh.logical_id, after=fresh.copy()))
            return False
        op.put(fresh, "CREATE_COMPLETE")
        if replacing is not None:
            op.replaced.append(replacing)
            op.journal.record(
                Step(StepKind.CREATED_REPLACEMENT, fresh.logical_id, before=replacing, after=fresh.copy())
            )
        else:
            op.journal.record(Step(StepKind.CREATED, fresh.logical_id, after=fresh.copy()))
        return True

    def _update(self, op: Operation, previous: ResourceState, fresh: ResourceState) -> bool:
        logical_id = fresh.logical_id
        kind = self.kind(fresh.resource_type)
        op.set_status(logical_id, "UPDATE_IN_PROGRESS")
        if not kind.sends_requests:
            op.count_action()
        try:
            kind.update(op, previous, fresh)
        except KindError as error:
            op.set_status(logical_id, "UPDATE_FAILED", str(error))
            if error.changed:
                op.journal.record(Step(StepKind.UPDATE_FAILED, logical_id, before=previous, attempted=fresh.properties))
            return False
        op.put(fresh, "UPDATE_COMPLETE")
        if fresh.physical_id != previous.physical_id:
            # A new identity is a replacement: the old one is deleted during cleanup.
            op.replaced.append(previous)
        op.journal.record(Step(StepKind.UPDATED, logical_id, before=previous, after=fresh.copy()))
        return True

    def rollback(self, op: Operation, *, new_stack: bool) -> None:
        """Undo what the failed operation did to ``op``'s stack (see :mod:`.rollback`)."""
        rollback.rollback(op, new_stack=new_stack)

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
        op = Operation(self, stack, result, assembly, stack_name)
        try:
            load_nested(op)
            restore_functions(op)
        except AssemblyError as error:
            result.status = "DELETE_FAILED"
            result.problems.append(str(error))
            result.ended_at = time.time()
            return result
        self.destroy_stack(op)
        self._persist(op, keep=True)
        self._finish(op)
        return result

    def destroy_stack(self, op: Operation, *, phase: Phase = Phase.DESTROY) -> bool:
        """Delete every resource of one stack in reverse dependency order; True when the stack is gone."""
        return cleanup.destroy_stack(op, phase=phase)

    # -- shared -----------------------------------------------------------------------------------------------

    def delete(self, op: Operation, phase: Phase, state: ResourceState) -> tuple[bool, str]:
        """Delete one physical resource (the caller has already honoured Retain): done, and why not."""
        kind = self.kind(state.resource_type)
        if not kind.sends_requests:
            op.count_action()
        return kind.delete(op, state, phase)

    def _persist(self, op: Operation, *, keep: bool) -> None:
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

    def _finish(self, op: Operation) -> None:
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

    def new_stack_id(self, stack_name: str) -> str:
        """A StackId as CloudFormation makes them: ``arn:...:stack/<name>/<uuid>``."""
        settings = self.settings
        return f"arn:aws:cloudformation:{settings.region}:{settings.account_id}:stack/{stack_name}/{uuid.uuid4()}"
