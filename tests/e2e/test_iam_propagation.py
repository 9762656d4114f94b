"""IAM is eventually consistent: a policy that CloudFormation has just created may not work for seconds.

A local cloud of its own, whose IAM sees each policy change 4 s late (``LocalCloud(iam_propagation_s=4)``):
a new stack's first calls, made right after its role and policy were created, are denied. The handler
retries an AccessDenied during an invocation's first 20 s, so the deploy still succeeds.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from e2e_support import STACK, Assemblies, assert_answered_exactly_once, explain

from localdeploy.cloud import LocalCloud
from localdeploy.contacts import account_client, read_contacts

pytestmark = pytest.mark.e2e

OWN = "123456789012"


@pytest.fixture
def slow_iam(tmp_path: Path) -> Iterator[LocalCloud]:
    with LocalCloud(tmp_path / "cloud", concurrency=2, retry_delays=(0.5, 1.0), iam_propagation_s=4.0) as cloud:
        cloud.reset()
        yield cloud


def test_a_new_stacks_first_calls_ride_out_iam_propagation(
    slow_iam: LocalCloud, assemblies: Assemblies, tmp_path: Path
) -> None:
    # GIVEN IAM that applies a policy change 4 s after CloudFormation made it
    engine = slow_iam.engine(tmp_path / "state")
    assert slow_iam.iam is not None

    # WHEN a new stack is deployed: its role and policy are created, then at once its function is called
    result = engine.deploy(assemblies.lifecycle, STACK, artifact="E2eBase")

    # THEN the first calls were denied while the policy propagated, were retried, and the stack completed
    denied = [d.authorization.action for d in slow_iam.iam.decisions if not d.allowed]
    assert denied, "IAM propagation should have denied the first calls"
    assert result.status == "CREATE_COMPLETE", explain(result)
    assert result.problems == []
    contacts = read_contacts(account_client(slow_iam.moto.endpoint), [OWN])
    assert set(contacts) == {(OWN, "SECURITY"), (OWN, "OPERATIONS")}
    assert_answered_exactly_once(slow_iam, result)
