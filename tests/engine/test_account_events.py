"""The events localdeploy sends for accounts joining or moving have the shapes of AWS's documented examples
(tests/engine/events/, whose README names the sources): the same keys at every level, values of the same
types, and the regions AWS sends them in."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from localdeploy import account_events

EVENTS = Path(__file__).parent / "events"
MANAGEMENT = "111122223333"


def shape(value: Any) -> Any:
    """Keys and value types, recursively (lists by their first element)."""
    if isinstance(value, dict):
        return {key: shape(item) for key, item in value.items()}
    if isinstance(value, list):
        return [shape(value[0])] if value else []
    return type(value).__name__


def recorded(name: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((EVENTS / f"{name}.json").read_text())
    return document


@pytest.mark.parametrize(
    ("name", "built"),
    [
        ("create_account_result", account_events.create_account_result(MANAGEMENT, "444455556666")),
        ("move_account", account_events.move_account(MANAGEMENT, "444455556666", "r-ab12", "ou-ab12-cdefghij")),
        ("accept_handshake", account_events.accept_handshake(MANAGEMENT, "222222222222", "o-aa111bb222")),
        (
            "create_managed_account",
            account_events.managed_account(
                "CreateManagedAccount",
                MANAGEMENT,
                "us-east-1",
                account_id="444455556666",
                account_name="LifeCycle1",
                unit_id="ou-ab12-cdefghij",
                unit_name="Custom",
            ),
        ),
        (
            "update_managed_account",
            account_events.managed_account(
                "UpdateManagedAccount",
                MANAGEMENT,
                "us-east-1",
                account_id="624281831893",
                account_name="LifeCycle1",
                unit_id="ou-ab12-cdefghij",
                unit_name="Custom",
            ),
        ),
    ],
)
def test_each_event_has_the_shape_of_awss_documented_example(name: str, built: dict[str, Any]) -> None:
    example = recorded(name)
    # The trail records of the examples differ in userIdentity detail (a session's attributes): compare the rest
    for document in (example, built):
        document["detail"]["userIdentity"].pop("sessionContext", None)
    assert shape(built) == shape(example)
    assert (built["source"], built["detail-type"]) == (example["source"], example["detail-type"])
    assert built["detail"]["eventName"] == example["detail"]["eventName"]


def test_organizations_masks_the_account_name_and_a_failed_creation_carries_its_reason_and_no_id() -> None:
    succeeded = account_events.create_account_result(MANAGEMENT, "444455556666")
    status = succeeded["detail"]["serviceEventDetails"]["createAccountStatus"]
    assert status["accountName"] == "****" and status["state"] == "SUCCEEDED"
    assert status["id"].startswith("car-")
    failed = account_events.create_account_result(MANAGEMENT, None, failure_reason="EMAIL_ALREADY_EXISTS")
    status = failed["detail"]["serviceEventDetails"]["createAccountStatus"]
    assert (status["state"], status["failureReason"]) == ("FAILED", "EMAIL_ALREADY_EXISTS")
    assert "accountId" not in status


def test_organizations_events_are_in_us_east_1_control_towers_in_its_home_region() -> None:
    assert account_events.move_account(MANAGEMENT, "444455556666", "r-ab12", "ou-ab12-x")["region"] == "us-east-1"
    managed = account_events.managed_account(
        "CreateManagedAccount",
        MANAGEMENT,
        "eu-west-1",
        account_id="444455556666",
        account_name="a",
        unit_id="ou-ab12-x",
        unit_name="u",
    )
    assert (managed["region"], managed["detail"]["awsRegion"]) == ("eu-west-1", "eu-west-1")
