"""The order of a rollback: an update back to the old template, so what a resource depends on comes back first.

A custom resource depends on its function, which depends on the role's policy: when a failed update changed
the policy and the contacts, the rollback restores the policy before it sends the contacts' rollback Updates,
which then run under the old policy (shared/REFERENCE.md section 6).
"""

from __future__ import annotations

from localdeploy.journal import Step, in_dependency_order
from localdeploy.phases import StepKind
from localdeploy.state import ResourceState


def state(logical_id: str, depends_on: list[str]) -> ResourceState:
    return ResourceState(logical_id, "Custom::X", "id", {}, "UPDATE_COMPLETE", depends_on=depends_on)


def test_a_rollback_restores_the_policy_before_the_contacts_that_depend_on_it_through_the_function() -> None:
    # GIVEN the journal of a failed update, most recent first: a contact, then the policy (the function that
    # links them was not changed)
    depends_on = {"Contact": ["Function"], "Function": ["Policy", "Role"], "Policy": ["Role"], "Role": []}
    steps = [
        Step(StepKind.UPDATE_FAILED, "Contact", before=state("Contact", depends_on["Contact"])),
        Step(StepKind.UPDATED, "Policy", before=state("Policy", depends_on["Policy"])),
    ]
    # WHEN the rollback orders its Updates
    ordered = in_dependency_order(steps, depends_on)
    # THEN the policy comes back first, though the contact depends on it only through the function
    assert [s.logical_id for s in ordered] == ["Policy", "Contact"]


def test_unrelated_steps_keep_the_journals_order() -> None:
    depends_on: dict[str, list[str]] = {"A": [], "B": []}
    steps = [Step(StepKind.UPDATED, "B", before=state("B", [])), Step(StepKind.UPDATED, "A", before=state("A", []))]
    assert [s.logical_id for s in in_dependency_order(steps, depends_on)] == ["B", "A"]
