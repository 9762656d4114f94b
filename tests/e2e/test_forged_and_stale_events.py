"""Events CloudFormation never sends, sent straight to the deployed function: they change nothing.

A Delete proves it is genuine before it deletes: its own properties name the account and types of its
physical id, and its stack lists its logical id. An event that waited in Lambda's queue past its resource's
ServiceTimeout has already failed in CloudFormation: it does no work. Each event goes through the synthesized
asset under awslambdaric and is answered once over real HTTPS; the contacts are read back from moto.

The stale event's age is forged in its ResponseURL's signing time (``X-Amz-Date``), which is what the handler
reads; the queue that makes events old is covered by the Lambda service's own tests (tests/engine).
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from e2e_support import STACK, Assemblies, declared, explain

from localdeploy.cloud import LocalCloud
from localdeploy.contacts import Details, Slot
from localdeploy.custom_resources import RequestRecord
from localdeploy.engine import Engine

pytestmark = pytest.mark.e2e

OWN = "123456789012"


def deployed_base(engine: Engine, assemblies: Assemblies) -> tuple[str, dict[str, Any], dict[str, Any]]:
    """E2eBase deployed; returns its StackId and the SECURITY and OPERATIONS resources' states (as dicts)."""
    result = engine.deploy(assemblies.lifecycle, STACK, artifact="E2eBase")
    assert result.status == "CREATE_COMPLETE", explain(result)
    state = engine.store.load(STACK)
    assert state is not None
    security_id, _ = declared(assemblies.lifecycle, "E2eBase", "Security")
    operations_id, _ = declared(assemblies.lifecycle, "E2eBase", "Operations")
    security, operations = state.resources[security_id], state.resources[operations_id]
    return (
        state.stack_id,
        {"logical_id": security_id, "physical_id": security.physical_id, "properties": security.properties},
        {"logical_id": operations_id, "physical_id": operations.physical_id, "properties": operations.properties},
    )


def send_delete(
    engine: Engine, stack_id: str, *, logical_id: str, physical_id: str, properties: dict[str, Any]
) -> RequestRecord:
    return engine.requests.send(
        phase="forged",
        request_type="Delete",
        stack_id=stack_id,
        stack_name=STACK,
        logical_id=logical_id,
        resource_type="Custom::AlternateContact",
        properties=properties,
        physical_id=physical_id,
    )


def test_forged_deletes_change_nothing(
    engine: Engine, assemblies: Assemblies, contacts: Callable[[], dict[Slot, Details]], cloud: LocalCloud
) -> None:
    # GIVEN a deployed stack managing SECURITY and OPERATIONS of its account
    stack_id, security, operations = deployed_base(engine, assemblies)
    before = contacts()
    assert set(before) == {(OWN, "SECURITY"), (OWN, "OPERATIONS")}
    lower = {**security["properties"], "AlternateContactType": "security"}
    forged = {
        "a logical id the stack does not have": {**security, "logical_id": "NotInThisStack"},
        "the id of a contact another resource owns": {**security, "physical_id": operations["physical_id"]},
        "the properties of another contact": {**security, "properties": operations["properties"]},
        "a lower-case type": {**security, "physical_id": f"{OWN}/security", "properties": lower},
    }
    for case, event in forged.items():
        # WHEN the forged Delete is sent straight to the function
        record = send_delete(engine, stack_id, **event)
        # THEN it is answered SUCCESS once, saying why nothing was deleted, and the contacts are unchanged
        assert record.status == "SUCCESS", (case, record.status, record.reason)
        assert record.reason, case
        assert contacts() == before, case
        assert len(cloud.responses.answers(record.request_id)) == 1, case


def test_an_event_older_than_its_service_timeout_does_no_work(
    engine: Engine, assemblies: Assemblies, contacts: Callable[[], dict[Slot, Details]], cloud: LocalCloud
) -> None:
    # GIVEN a deployed stack, and a genuine Delete of its SECURITY resource that CloudFormation signed longer
    # ago than the resource's ServiceTimeout (it waited in Lambda's queue; CloudFormation has failed it)
    stack_id, security, _ = deployed_base(engine, assemblies)
    before = contacts()
    timeout = int(security["properties"]["ServiceTimeout"])
    request_id = str(uuid.uuid4())
    signed = datetime.now(UTC) - timedelta(seconds=timeout + 60)
    url = re.sub(
        r"X-Amz-Date=\d{8}T\d{6}Z", f"X-Amz-Date={signed:%Y%m%dT%H%M%SZ}", cloud.responses.issue(STACK, request_id)
    )
    event = {
        "RequestType": "Delete",
        "ServiceToken": security["properties"]["ServiceToken"],
        "ResponseURL": url,
        "StackId": stack_id,
        "RequestId": request_id,
        "LogicalResourceId": security["logical_id"],
        "ResourceType": "Custom::AlternateContact",
        "PhysicalResourceId": security["physical_id"],
        "ResourceProperties": security["properties"],
    }
    judged = len(cloud.iam.decisions) if cloud.iam else 0

    # WHEN Lambda finally runs it
    invocation = cloud.functions.invoke_event(str(security["properties"]["ServiceToken"]), json.dumps(event).encode())
    assert invocation.wait(120)
    answer = cloud.responses.wait(request_id, 10)

    # THEN it answered FAILED once, saying it waited too long, and made no call at all
    assert answer is not None and answer.document is not None
    assert answer.document["Status"] == "FAILED"
    assert "ServiceTimeout" in answer.document["Reason"]
    assert len(cloud.responses.answers(request_id)) == 1
    assert cloud.iam is not None and cloud.iam.decisions[judged:] == []
    assert contacts() == before
