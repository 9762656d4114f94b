"""``AWS::Lambda::Function`` and ``AWS::Lambda::EventInvokeConfig`` as resource kinds: a function is deployed
to the local Lambda service from its synthesized asset (``Code.S3Key``), an invoke config sets its
asynchronous queue. Both keep CloudFormation's synthetic ids (:mod:`.native`)."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cdk_alternate_contacts_cli.cloud_assembly import AssemblyError

from . import native
from .functions import FunctionConfig
from .lambda_service import AsyncInvokeConfig
from .phases import Phase
from .resource_kind import PROPERTY_ERRORS, KindError, ResourceKind
from .state import ResourceState
from .template import TemplateError

if TYPE_CHECKING:
    from .operation import Operation

LAMBDA_FUNCTION = "AWS::Lambda::Function"

EVENT_INVOKE_CONFIG = "AWS::Lambda::EventInvokeConfig"


class FunctionKind(ResourceKind):
    """A function, deployed to the local Lambda service (its configuration kept in the state, for a later run)."""

    def create(self, op: Operation, fresh: ResourceState) -> None:
        super().create(op, fresh)
        try:
            config = function_config(op, fresh)
        except PROPERTY_ERRORS as error:
            raise KindError(str(error)) from error
        op.engine.functions.deploy(config)
        fresh.function = config.to_json()
        op.result.code_dirs.append(config.code_dir)

    def delete(self, op: Operation, state: ResourceState, phase: Phase) -> tuple[bool, str]:
        if state.function is not None:
            op.engine.functions.remove(FunctionConfig.from_json(state.function).arn)
        return True, ""

    def restore(
        self, op: Operation, target: ResourceState, current_physical_id: str | None, attempted: dict[str, Any]
    ) -> ResourceState:
        if target.function is not None:
            op.engine.functions.deploy(FunctionConfig.from_json(target.function))
        return target.copy()


class InvokeConfigKind(ResourceKind):
    """A function's asynchronous invocation settings (maximum event age and retries)."""

    def create(self, op: Operation, fresh: ResourceState) -> None:
        super().create(op, fresh)
        configure_async(op, fresh.properties)

    def delete(self, op: Operation, state: ResourceState, phase: Phase) -> tuple[bool, str]:
        configure_async(op, state.properties, remove=True)
        return True, ""

    def restore(
        self, op: Operation, target: ResourceState, current_physical_id: str | None, attempted: dict[str, Any]
    ) -> ResourceState:
        configure_async(op, target.properties)
        return target.copy()


def configure_async(op: Operation, properties: Mapping[str, Any], *, remove: bool = False) -> None:
    """Apply (or, removed, undo) an AWS::Lambda::EventInvokeConfig to the function it names."""
    name = str(properties.get("FunctionName", ""))
    settings = op.engine.settings
    arn = (
        name
        if name.startswith("arn:")
        else native.attribute(LAMBDA_FUNCTION, name, "Arn", region=settings.region, account_id=settings.account_id)
    )
    defaults = AsyncInvokeConfig()
    op.engine.functions.configure_async(
        arn,
        defaults
        if remove
        else AsyncInvokeConfig(
            maximum_event_age_s=int(properties.get("MaximumEventAgeInSeconds", defaults.maximum_event_age_s)),
            maximum_retry_attempts=int(properties.get("MaximumRetryAttempts", defaults.maximum_retry_attempts)),
        ),
    )


def function_config(op: Operation, state: ResourceState) -> FunctionConfig:
    """The configuration the local Lambda service deploys a function with, from its resolved properties."""
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
    settings = op.engine.settings
    variables = properties.get("Environment", {}).get("Variables", {})
    return FunctionConfig(
        function_name=physical,
        arn=native.attribute(LAMBDA_FUNCTION, physical, "Arn", region=settings.region, account_id=settings.account_id),
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


def restore_functions(op: Operation) -> None:
    """Deploy the functions of the stack and its nested stacks as they were deployed, for the requests
    sent before (or without) the function's own update: the code is the deployed code, not the new one."""
    for each in op.tree():
        for state in each.stack.resources.values():
            if state.resource_type == EVENT_INVOKE_CONFIG:
                configure_async(each, state.properties)
            if state.function is None:
                continue
            config = FunctionConfig.from_json(state.function)
            if not Path(config.code_dir).is_dir():
                if op.assembly is None:
                    raise AssemblyError(f"the deployed code of {config.function_name} is gone: {config.code_dir}")
                found = op.assembly.asset_dir(op.artifact, f"{config.asset_hash}.zip")
                config = dataclasses.replace(config, code_dir=str(found))
                state.function = config.to_json()
            op.engine.functions.deploy(config)
            op.result.code_dirs.append(config.code_dir)
