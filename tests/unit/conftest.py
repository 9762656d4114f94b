"""Fixtures for handler tests: moto's Account API in-process, a stubbed CloudFormation, fake time."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.stub import Stubber
from cfn_events import OWN_ACCOUNT, FakeTime
from moto import mock_aws

from cdk_alternate_contacts_handler.clients import Clients


@pytest.fixture
def fake_time() -> FakeTime:
    return FakeTime()


@pytest.fixture
def moto_account() -> Iterator[Any]:
    """The Account API of moto, in-process. moto is lenient (see the Stubber tests for what it skips)."""
    with mock_aws():
        yield boto3.client("account", region_name="us-east-1")


@pytest.fixture
def account() -> Iterator[tuple[Any, Stubber]]:
    """An Account API client whose answers come from the test (botocore's Stubber), making one try per call.

    For what moto does not emulate: throttling, server faults, AccessDenied, eventual consistency.
    """
    client = boto3.client("account", region_name="us-east-1", config=Config(retries={"total_max_attempts": 1}))
    with Stubber(client) as stubber:
        yield client, stubber


@pytest.fixture
def cloudformation() -> Iterator[tuple[Any, Stubber]]:
    """A CloudFormation client whose ListStackResources answers come from the test (moto has no stack)."""
    client = boto3.client("cloudformation", region_name="us-east-1")
    with Stubber(client) as stubber:
        yield client, stubber
        stubber.assert_no_pending_responses()


@pytest.fixture
def clients(moto_account: Any, cloudformation: tuple[Any, Stubber], fake_time: FakeTime) -> Clients:
    return Clients(
        account=moto_account,
        cloudformation=cloudformation[0],
        own_account_id=OWN_ACCOUNT,
        policy=fake_time.policy(),
    )
