"""The engine's order of work, driven with a fake resource type: no Lambda, no moto, no custom resource.

The fake kind (:class:`FakeThings`, behind the same :class:`~localdeploy.native.ResourceEmulator` interface
as the real emulated kinds) writes every call it gets, and the engine every stack status change, to one
timeline; each test asserts that timeline exactly. One resource operation runs at a time
(``max_parallel=1``), so independent resources start in the template's order and the timeline is the same
on every run.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from pathlib import Path
from typing import Any, cast

import pytest

from localdeploy.engine import Engine, EngineSettings, OperationResult, StackEvent
from localdeploy.native import Created, ResourceError
from localdeploy.registry import StackRegistry
from localdeploy.state import StateStore
from tests.engine.tiny_apps import write_assembly

FAKE = "Test::Fake::Thing"

STACK = "Fakes"


class FakeThings:
    """A resource type that exists only in this list of calls. ``Fail`` refuses a change: ``create`` (nothing
    made), ``create-after`` (the resource came to exist first), ``update``; a changed ``Name`` replaces it."""

    resource_type = FAKE

    def __init__(self, timeline: list[str]) -> None:
        self.timeline = timeline
        self.ids = itertools.count(1)

    def create(self, logical_id: str, properties: Mapping[str, Any], *, stack_name: str = "") -> Created:
        physical_id = f"{logical_id}#{next(self.ids)}"
        if properties.get("Fail") == "create":
            self.timeline.append(f"refuse create {logical_id}")
            raise ResourceError("fake create refused")
        if properties.get("Fail") == "create-after":
            self.timeline.append(f"refuse create {physical_id}")
            raise ResourceError("fake create failed late", physical_id=physical_id)
        self.timeline.append(f"create {physical_id}")
        return Created(physical_id, {"Value": properties.get("Value", "")})

    def update(self, physical_id: str, old: Mapping[str, Any], new: Mapping[str, Any]) -> dict[str, Any]:
        if new.get("Fail") == "update":
            self.timeline.append(f"refuse update {physical_id}")
            raise ResourceError("fake update refused")
        self.timeline.append(f"update {physical_id} {old.get('Value')}->{new.get('Value')}")
        return {"Value": new.get("Value", "")}

    def delete(self, physical_id: str, properties: Mapping[str, Any]) -> None:
        self.timeline.append(f"delete {physical_id}")

    def replaces(self, old: Mapping[str, Any], new: Mapping[str, Any]) -> bool:
        return old.get("Name") != new.get("Name")


def timeline(text: str) -> list[str]:
    """The expected timeline, one entry a line."""
    return [line.strip() for line in text.strip().splitlines()]


def thing(*depends_on: str, **properties: str) -> dict[str, Any]:
    """A fake resource declaration."""
    return {"Type": FAKE, "DependsOn": list(depends_on), "Properties": properties}


class Fakes:
    """An engine whose only kind is :class:`FakeThings`, and the timeline of one stack."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.timeline: list[str] = []
        self.engine = Engine(
            functions=cast(Any, None),  # no function in these templates
            requests=cast(Any, None),  # no custom resource either
            registry=StackRegistry(),
            store=StateStore(folder / "state"),
            settings=EngineSettings(max_parallel=1),
            emulators={FAKE: FakeThings(self.timeline)},
        )
        self.engine.on_event = self._stack_event

    def _stack_event(self, event: StackEvent) -> None:
        if event.logical_id == event.stack_name:
            self.timeline.append(f"stack {event.status}")

    def deploy(self, resources: dict[str, Any]) -> OperationResult:
        """Deploy the stack with ``resources``; the timeline then holds this deploy only."""
        assembly = write_assembly(
            self.folder / f"assembly-{len(list(self.folder.glob('assembly-*')))}", {STACK: {"Resources": resources}}
        )
        self.timeline.clear()
        return self.engine.deploy(assembly, STACK)

    def destroy(self) -> OperationResult:
        self.timeline.clear()
        return self.engine.destroy(STACK)


@pytest.fixture
def fakes(tmp_path: Path) -> Fakes:
    return Fakes(tmp_path)


def test_an_update_deletes_the_replaced_and_the_removed_resources_in_its_cleanup_phase(fakes: Fakes) -> None:
    # GIVEN a stack of A, B depending on A, C depending on B
    fakes.deploy({"A": thing(Name="a", Value="1"), "B": thing("A"), "C": thing("B")})
    # WHEN an update renames A (a create-only property) and removes B and C
    result = fakes.deploy({"A": thing(Name="renamed", Value="1")})
    # THEN the new A is created in the update phase; in the cleanup phase the old A goes first, then the
    # removed resources in reverse dependency order
    assert result.status == "UPDATE_COMPLETE"
    assert fakes.timeline == timeline("""
        stack UPDATE_IN_PROGRESS
        create A#4
        stack UPDATE_COMPLETE_CLEANUP_IN_PROGRESS
        delete A#1
        delete C#3
        delete B#2
        stack UPDATE_COMPLETE
    """)


def test_a_failed_update_restores_the_old_resources_then_deletes_the_new_ones(fakes: Fakes) -> None:
    # GIVEN a stack of A, R (a named resource) and B depending on A
    fakes.deploy({"A": thing(Value="1"), "B": thing("A", Value="1"), "R": thing(Name="r1")})
    # WHEN an update changes A, replaces R, adds C, and B's update is refused
    result = fakes.deploy(
        {
            "A": thing(Value="2"),
            "B": thing("A", "C", "R", Value="2", Fail="update"),
            "R": thing(Name="r2"),
            "C": thing("A"),
        }
    )
    # THEN the rollback first updates A back, then, in its cleanup, deletes what the update created: the new
    # C, and R's replacement (the old R is listed again, untouched)
    assert result.status == "UPDATE_ROLLBACK_COMPLETE"
    assert fakes.timeline == timeline("""
        stack UPDATE_IN_PROGRESS
        update A#1 1->2
        create R#4
        create C#5
        refuse update B#3
        stack UPDATE_ROLLBACK_IN_PROGRESS
        update A#1 2->1
        stack UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS
        delete C#5
        delete R#4
        stack UPDATE_ROLLBACK_COMPLETE
    """)
    stored = fakes.engine.store.load(STACK)
    assert stored is not None
    assert {lid: s.physical_id for lid, s in stored.resources.items()} == {"A": "A#1", "B": "B#3", "R": "R#2"}


def test_a_failed_create_of_a_new_stack_deletes_what_it_created_newest_first(fakes: Fakes) -> None:
    # GIVEN a new stack of A, B depending on A (whose creation fails after B came to exist), C depending on B
    resources = {"A": thing(), "B": thing("A", Fail="create-after"), "C": thing("B")}
    # WHEN it is deployed
    result = fakes.deploy(resources)
    # THEN C is never started; the rollback deletes B, then A; the stack is forgotten
    assert result.status == "ROLLBACK_COMPLETE"
    assert fakes.timeline == timeline("""
        stack CREATE_IN_PROGRESS
        create A#1
        refuse create B#2
        stack ROLLBACK_IN_PROGRESS
        delete B#2
        delete A#1
        stack ROLLBACK_COMPLETE
    """)
    assert fakes.engine.store.load(STACK) is None


def test_a_failed_create_that_made_nothing_deletes_only_what_exists(fakes: Fakes) -> None:
    # GIVEN a new stack whose second resource's creation is refused before anything exists
    result = fakes.deploy({"A": thing(), "B": thing("A", Fail="create")})
    # THEN the rollback deletes A and sends no Delete for B
    assert result.status == "ROLLBACK_COMPLETE"
    assert fakes.timeline == timeline("""
        stack CREATE_IN_PROGRESS
        create A#1
        refuse create B
        stack ROLLBACK_IN_PROGRESS
        delete A#1
        stack ROLLBACK_COMPLETE
    """)


def test_a_stack_is_created_in_dependency_order_and_destroyed_in_reverse_keeping_what_is_retained(
    fakes: Fakes,
) -> None:
    # GIVEN a template that declares a chain last first: a retained D depending on C, C on B, B on A
    retained = {**thing("C"), "DeletionPolicy": "Retain"}
    resources = {"D": retained, "C": thing("B"), "B": thing("A"), "A": thing()}
    # WHEN it is deployed as a new stack
    created = fakes.deploy(resources)
    # THEN each resource is created after the one it depends on, not in the template's order
    assert (created.status, fakes.timeline) == (
        "CREATE_COMPLETE",
        timeline("""
        stack CREATE_IN_PROGRESS
        create A#1
        create B#2
        create C#3
        create D#4
        stack CREATE_COMPLETE
    """),
    )
    # WHEN it is destroyed
    destroyed = fakes.destroy()
    # THEN each resource is deleted after those that depend on it, and D is left as it is
    assert (destroyed.status, fakes.timeline) == (
        "DELETE_COMPLETE",
        timeline("""
        stack DELETE_IN_PROGRESS
        delete C#3
        delete B#2
        delete A#1
        stack DELETE_COMPLETE
    """),
    )
    assert [e.status for e in destroyed.events if e.logical_id == "D"] == ["DELETE_SKIPPED"]
