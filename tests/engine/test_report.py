"""What the local engine tells its user: the first failure of an operation, and progress while it runs."""

from __future__ import annotations

from localdeploy.engine import NESTED_STACK, OperationResult, StackEvent
from localdeploy.report import Progress, first_failure, render_failure

ROOT = "Org"
NESTED = "Org-OrganizationAccounts00-ABC"


def event(at: float, logical_id: str, status: str, reason: str = "", *, stack: str = ROOT) -> StackEvent:
    kind = NESTED_STACK if logical_id in (ROOT, NESTED) or logical_id.startswith("OrganizationAccounts") else "C"
    return StackEvent(at, logical_id, None, kind, status, reason, f"id-{stack}", stack)


def test_the_first_failure_is_the_earliest_resource_failure_not_the_cancellations_after_it() -> None:
    # GIVEN a create in which a nested stack's contact failed, then CloudFormation cancelled the rest
    result = OperationResult("deploy", ROOT, "id-Org", status="ROLLBACK_COMPLETE")
    result.events += [
        event(1.0, ROOT, "CREATE_IN_PROGRESS"),
        event(2.0, "Account111", "CREATE_FAILED", "Resource creation cancelled", stack=NESTED),
        event(3.0, "Account222", "CREATE_FAILED", "EmailAddress: must be an email address", stack=NESTED),
        event(4.0, "OrganizationAccounts00", "CREATE_FAILED", "Embedded stack was not successfully created"),
        event(5.0, ROOT, "ROLLBACK_COMPLETE"),
    ]
    # WHEN the report is made
    found = first_failure(result)
    # THEN it leads with the contact's own failure, naming its nested stack, logical id, status and reason
    assert found is not None and found.logical_id == "Account222"
    assert render_failure(result) == [
        f"  first failure: {NESTED}/Account222 (C) CREATE_FAILED: EmailAddress: must be an email address"
    ]


def test_an_operation_that_failed_nothing_reports_no_failure() -> None:
    result = OperationResult("deploy", ROOT, "id-Org", status="CREATE_COMPLETE")
    result.events += [event(1.0, ROOT, "CREATE_IN_PROGRESS"), event(2.0, "A", "CREATE_COMPLETE")]
    assert first_failure(result) is None and render_failure(result) == []


def test_progress_prints_at_most_once_an_interval_and_starts_afresh_with_each_operation() -> None:
    # GIVEN a progress display every 10 s, on a clock the test moves
    now = [100.0]
    lines: list[str] = []
    progress = Progress(ROOT, lines.append, interval_s=10.0, clock=lambda: now[0])
    # WHEN a create runs for 25 s with events every 5 s
    progress(event(now[0], ROOT, "CREATE_IN_PROGRESS"))
    steps = [("A", "CREATE_IN_PROGRESS"), ("A", "CREATE_COMPLETE"), ("B", "CREATE_IN_PROGRESS"), ("C", "CREATE_FAILED")]
    for logical_id, status in steps:
        now[0] += 5.0
        progress(event(now[0], logical_id, status))
    # THEN a line came at 10 s and at 20 s, each counting what was done, going and failed by then
    assert lines == [
        "  ... create Org: 1 resources done, 0 in progress, 0 failed, 10 s",
        "  ... create Org: 1 resources done, 1 in progress, 1 failed, 20 s",
    ]
    # AND a destroy afterwards starts its own count and clock
    now[0] += 30.0
    progress(event(now[0], ROOT, "DELETE_IN_PROGRESS"))
    now[0] += 11.0
    progress(event(now[0], "A", "DELETE_IN_PROGRESS"))
    assert lines[-1] == "  ... delete Org: 0 resources done, 1 in progress, 0 failed, 11 s"
