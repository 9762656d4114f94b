"""Fixtures for handler tests: moto's Account API in-process, a stubbed CloudFormation, fake time, and the
handler's entry point invoked against the project's real ResponseURL listener."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.stub import Stubber
from cfn_events import OWN_ACCOUNT, STACK_ID, FakeContext, FakeTime, Listing, Send, described, stack_resources
from moto import mock_aws

from cdk_alternate_contacts_handler import index
from cdk_alternate_contacts_handler.clients import Clients
from localdeploy.responses import ResponseListener


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


@pytest.fixture
def with_ssm(clients: Clients) -> Clients:
    """The clients with moto's SSM, where restore-on-delete records are kept."""
    clients.ssm = boto3.client("ssm", region_name="us-east-1")
    return clients


@pytest.fixture
def expect_listing(cloudformation: tuple[Any, Stubber]) -> Listing:
    """Stub the reads a Delete makes to prove itself genuine, for a resource of the root stack ``STACK_ID``.

    ``expect_listing(*entries, next_pages=())``: DescribeStacks shows a root stack, and ListStackResources
    answers the (logical id, physical id, status) ``entries``, then each page of ``next_pages`` in turn.
    """

    def expect(*entries: tuple[str, str, str], next_pages: tuple[list[tuple[str, str, str]], ...] = ()) -> None:
        stubber = cloudformation[1]
        stubber.add_response("describe_stacks", described(), {"StackName": STACK_ID})
        pages = [list(entries), *next_pages]
        for number, page in enumerate(pages):
            token = f"page-{number + 1}" if number + 1 < len(pages) else None
            expected = {"StackName": STACK_ID, **({"NextToken": f"page-{number}"} if number else {})}
            stubber.add_response("list_stack_resources", stack_resources(*page, next_token=token), expected)

    return expect


@pytest.fixture(scope="module")
def listener(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ResponseListener]:
    server = ResponseListener(Path(tmp_path_factory.mktemp("tls"))).start()
    yield server
    server.stop()


@pytest.fixture
def send(listener: ResponseListener, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> Send:
    """Invoke ``index.handler`` with a fresh ResponseURL; returns the answers that arrived for it.

    The answers go to the project's real local ResponseURL listener (TLS from trustme, trusted through
    SSL_CERT_FILE as crhelper uses the default CA store).
    """
    monkeypatch.setenv("SSL_CERT_FILE", str(listener.ca_file))
    caplog.set_level(logging.DEBUG)

    def invoke(request: dict[str, Any], seconds: float = 60.0, settle_s: float = 0.0) -> list[dict[str, Any]]:
        request["ResponseURL"] = listener.issue("Contacts", request["RequestId"])
        index.handler(request, FakeContext(seconds))
        time.sleep(settle_s)  # only where a late second answer is what the test looks for
        return [answer.document or {} for answer in listener.answers(request["RequestId"])]

    return invoke
