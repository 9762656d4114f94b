"""What an operation reports (:class:`OperationResult`, its :class:`StackEvent` history) and the engine's
tunables (:class:`EngineSettings`)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Literal

from .custom_resources import RequestRecord
from .moto import DEPLOYING_ACCOUNT

#: Final stack statuses of an operation that did what was asked.
SUCCESS_STATUSES = frozenset({"CREATE_COMPLETE", "UPDATE_COMPLETE", "DELETE_COMPLETE"})


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
