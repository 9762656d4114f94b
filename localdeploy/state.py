"""What CloudFormation remembers of each stack between operations, kept as JSON under ``.local/``.

Per stack (nested stacks too, each in a file of its own under its generated name): its id, its status, its
parameters and outputs, and per resource the type, physical id, the properties last applied
(the values the next Update sends as OldResourceProperties and a Delete sends as ResourceProperties),
its deletion policies and its dependencies (so a later destroy deletes in reverse order).
"""

from __future__ import annotations

import copy
import json
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any


def now_iso() -> str:
    """The current UTC time, ISO 8601."""
    return datetime.now(UTC).isoformat()


@dataclass
class ResourceState:
    """One resource of a stack.

    Attributes
    ----------
    logical_id, resource_type:
        As in the template.
    physical_id:
        The resource's identity; for a custom resource, what its handler answered.
    properties:
        The resolved properties last applied (for a custom resource, exactly as sent: all strings).
    status:
        CloudFormation's resource status (CREATE_COMPLETE, UPDATE_COMPLETE, DELETE_FAILED, ...).
    deletion_policy, update_replace_policy:
        ``Delete`` or ``Retain`` (``Snapshot`` is treated as ``Delete``).
    depends_on:
        The logical ids this resource depends on.
    attributes:
        ``Fn::GetAtt`` values: a custom resource's answered ``Data``.
    function:
        For AWS::Lambda::Function, the deployed configuration (see :class:`.functions.FunctionConfig`).
    """

    logical_id: str
    resource_type: str
    physical_id: str | None
    properties: dict[str, Any]
    status: str
    deletion_policy: str = "Delete"
    update_replace_policy: str = "Delete"
    depends_on: list[str] = field(default_factory=list)
    attributes: dict[str, Any] = field(default_factory=dict)
    function: dict[str, Any] | None = None
    updated_at: str = field(default_factory=now_iso)
    reason: str = ""

    def copy(self) -> ResourceState:
        """A deep copy (properties are nested)."""
        return copy.deepcopy(self)


@dataclass
class StackState:
    """One stack, top-level or nested.

    Attributes
    ----------
    parameters:
        The parameter values given (for a nested stack, what its parent passed).
    outputs:
        The evaluated Outputs (a parent reads a nested stack's with ``Fn::GetAtt <Nested>.Outputs.<Name>``).
    parent_id:
        For a nested stack, the StackId of the stack that holds it; empty for a top-level stack.
    template:
        The template GetTemplate returns: the one being deployed from the start of an update, the previous
        one again from the start of its rollback.
    """

    stack_name: str
    stack_id: str
    status: str
    resources: dict[str, ResourceState] = field(default_factory=dict)
    parameters: dict[str, Any] = field(default_factory=dict)
    updated_at: str = field(default_factory=now_iso)
    outputs: dict[str, str] = field(default_factory=dict)
    parent_id: str = ""
    template: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> StackState:
        """The inverse of :meth:`to_json`."""
        values = dict(data)
        values["resources"] = {lid: ResourceState(**r) for lid, r in data.get("resources", {}).items()}
        return cls(**values)

    def copy(self) -> StackState:
        """A deep copy."""
        return copy.deepcopy(self)


class StateStore:
    """Stack states in ``<directory>/stacks/<stack name>.json``.

    Parameters
    ----------
    directory:
        The state folder (``.local`` by default on the command line).
    """

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def path(self, stack_name: str) -> Path:
        """Where the state of ``stack_name`` is kept."""
        return self.directory / "stacks" / f"{stack_name}.json"

    def load(self, stack_name: str) -> StackState | None:
        """The stack's state, or ``None`` when it does not exist (never deployed, or destroyed)."""
        path = self.path(stack_name)
        if not path.exists():
            return None
        return StackState.from_json(json.loads(path.read_text(encoding="utf-8")))

    def save(self, state: StackState) -> None:
        """Write atomically: an interrupted run leaves the previous state, not half a file."""
        path = self.path(state.stack_name)
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(".tmp")
        temporary.write_text(json.dumps(state.to_json(), indent=2, sort_keys=True) + "\n", encoding="utf-8")
        temporary.replace(path)

    def delete(self, stack_name: str) -> None:
        """Forget a stack (after it was destroyed)."""
        self.path(stack_name).unlink(missing_ok=True)

    def stack_names(self) -> list[str]:
        """Every stack with a state."""
        folder = self.directory / "stacks"
        return sorted(p.stem for p in folder.glob("*.json")) if folder.is_dir() else []
