"""The rollback journal: what an operation did to one stack and must undo if it fails, and in which order.

CloudFormation rolls an update back as an update to the old template: what was updated comes back in the old
template's dependency order (a role's policy before the function and the custom resources that depend on it,
whose rollback Updates then run under the old policy; shared/REFERENCE.md section 6), then what was created is
deleted. A stack whose creation failed has only creations to delete, newest first.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .phases import StepKind
from .state import ResourceState


@dataclass
class Step:
    """One completed change, kept so a rollback can undo it.

    Attributes
    ----------
    before:
        The resource as it was (for an update or a replacement).
    after:
        The resource as the change left it (for a create, a failed create, an update or a replacement).
    attempted:
        The properties a failed update tried to apply (the rollback Update's OldResourceProperties).
    """

    kind: StepKind
    logical_id: str
    before: ResourceState | None = None
    after: ResourceState | None = None
    attempted: dict[str, Any] | None = None


class Journal:
    """The steps of one operation on one stack, in the order they completed (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._steps: list[Step] = []

    def record(self, step: Step) -> None:
        """Note a completed change."""
        with self._lock:
            self._steps.append(step)

    def newest_first(self) -> list[Step]:
        """Every step, the most recent first."""
        with self._lock:
            return list(reversed(self._steps))

    def created(self) -> list[ResourceState]:
        """What the rollback of a new stack deletes: every resource the steps left, newest first."""
        return [step.after for step in self.newest_first() if step.after is not None]

    def undo_order(self, depends_on: Mapping[str, list[str]]) -> list[Step]:
        """The steps in the order an update's rollback undoes them: the Updates back in the old template's
        dependency order, then the rest, newest first.

        ``depends_on``: each logical id's direct dependencies as the stack lists them now; an updated step's
        own ``before`` (the old template's) takes precedence.
        """
        steps = self.newest_first()
        old = {logical_id: list(deps) for logical_id, deps in depends_on.items()}
        for step in steps:
            if step.before is not None:
                old[step.logical_id] = list(step.before.depends_on)
        updates = in_dependency_order([s for s in steps if s.kind.undone_by_update], old)
        return updates + [s for s in steps if not s.kind.undone_by_update]


def in_dependency_order(steps: list[Step], depends_on: Mapping[str, list[str]]) -> list[Step]:
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
    ordered: list[Step] = []
    while remaining:
        pending = {s.logical_id for s in remaining}
        ready = next((s for s in remaining if not (below[s.logical_id] & (pending - {s.logical_id}))), remaining[0])
        ordered.append(ready)
        remaining.remove(ready)
    return ordered
