"""The live resource list of each stack, as CloudFormation reports it while an operation runs.

The engine publishes every status change; the CloudFormation API endpoint serves it. A handler that
lists its stack's resources mid-operation therefore sees what it would see on AWS (for example a renamed
resource CREATE_COMPLETE while the old one is DELETE_IN_PROGRESS).
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class ResourceSummary:
    """One row of ListStackResources."""

    logical_id: str
    physical_id: str | None
    resource_type: str
    status: str
    updated_at: datetime
    reason: str = ""


@dataclass(frozen=True)
class StackView:
    """A stack as the API shows it at one moment."""

    stack_id: str
    stack_name: str
    status: str
    resources: tuple[ResourceSummary, ...]
    parent_id: str = ""
    template: Mapping[str, Any] = field(default_factory=dict)


class StackRegistry:
    """Thread-safe map of stacks, by id and by name."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_id: dict[str, StackView] = {}
        self._latest_by_name: dict[str, str] = {}

    def publish(self, view: StackView) -> None:
        """Replace what is known of ``view.stack_id``."""
        with self._lock:
            self._by_id[view.stack_id] = view
            self._latest_by_name[view.stack_name] = view.stack_id

    def find(self, stack: str) -> StackView | None:
        """Look a stack up as CloudFormation does: by id always, by name only while it exists."""
        with self._lock:
            if stack in self._by_id:
                return self._by_id[stack]
            stack_id = self._latest_by_name.get(stack)
            view = self._by_id.get(stack_id) if stack_id else None
            if view is None or view.status == "DELETE_COMPLETE":
                return None
            return view

    def root_of(self, view: StackView) -> str:
        """The StackId of the top-level stack of ``view``'s tree (its own for a top-level stack)."""
        with self._lock:
            while view.parent_id and view.parent_id in self._by_id:
                view = self._by_id[view.parent_id]
            return view.stack_id
