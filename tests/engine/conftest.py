"""An engine with the event side's resource kinds, over moto in this process (no moto_server, no runtime).

Functions are deployed to a local Lambda service from tiny assets but never started: what is checked here is
what CloudFormation and the services decide when a resource is created, updated or deleted. Delivery, which
runs functions, is tested against a real local cloud in test_event_delivery.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import boto3
import pytest
from moto import mock_aws

from localdeploy.assembly import CloudAssembly
from localdeploy.engine import Engine, OperationResult
from localdeploy.iam import PolicyRegistry
from localdeploy.kinds import event_kinds
from localdeploy.lambda_permission import FunctionPolicies
from localdeploy.lambda_service import FunctionService
from localdeploy.moto import MotoServer
from localdeploy.registry import StackRegistry
from localdeploy.sqs_poller import SqsPollers
from localdeploy.state import StateStore
from tests.engine.tiny_apps import ACCOUNT, offline_host, write_assembly

REGION = "us-east-1"


@dataclass
class Kinds:
    """moto's SQS and EventBridge, the Lambda service, and an engine deploying tiny templates to them."""

    sqs: Any
    events: Any
    functions: FunctionService
    pollers: SqsPollers
    permissions: FunctionPolicies
    policies: PolicyRegistry
    engine: Engine
    folder: Path

    def deploy(self, name: str, template: dict[str, Any], code: dict[str, str] | None = None) -> OperationResult:
        """Deploy (create or update) the stack ``name`` to ``template``, its functions' code in ``code``."""
        self.assembly = self._assembly(name, template, code)
        return self.engine.deploy(self.assembly, name)

    def destroy(self, name: str) -> OperationResult:
        """Delete the stack ``name``."""
        return self.engine.destroy(name, assembly=getattr(self, "assembly", None))

    def _assembly(self, name: str, template: dict[str, Any], code: dict[str, str] | None) -> CloudAssembly:
        count = len(list(self.folder.glob("assembly-*")))
        return write_assembly(self.folder / f"assembly-{count}", {name: template}, code)

    def state(self, stack: str, logical_id: str) -> Any:
        """The engine's record of one resource."""
        found = self.engine.store.load(stack)
        assert found is not None
        return found.resources[logical_id]


@pytest.fixture(scope="module")
def moto(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MotoServer]:
    """moto_server on a free 127.0.0.1 port, for the test module."""
    server = MotoServer(tmp_path_factory.mktemp("moto") / "moto.log").start()
    yield server
    server.stop()


def signed_client(service: str, endpoint: str, key: str) -> Any:
    """A boto3 client of ``service`` at ``endpoint`` that signs with the access key ``key``."""
    return boto3.client(
        service,
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id=key,
        aws_secret_access_key="secret",
        aws_session_token="token",
    )


@pytest.fixture
def kinds(tmp_path: Path) -> Iterator[Kinds]:
    """The event side's kinds in moto, an engine that deploys them, IAM evaluated by a policy registry."""
    with mock_aws():
        functions = FunctionService(offline_host(tmp_path / "logs"))
        sqs, events = boto3.client("sqs", region_name=REGION), boto3.client("events", region_name=REGION)
        pollers = SqsPollers(functions, lambda region, role: sqs, lambda region: sqs)
        permissions = FunctionPolicies()
        policies = PolicyRegistry(ACCOUNT)
        clients = {
            "sqs": sqs,
            "events": events,
            "ssm": boto3.client("ssm", region_name=REGION),
            "dynamodb": boto3.client("dynamodb", region_name=REGION),
        }
        engine = Engine(
            functions=functions,
            requests=cast(Any, None),  # no custom resource in these templates
            registry=StackRegistry(),
            store=StateStore(tmp_path / "state"),
            policies=policies,
            emulators=event_kinds(
                clients.__getitem__, functions, pollers, permissions, policies, region=REGION, account_id=ACCOUNT
            ),
        )
        try:
            yield Kinds(sqs, events, functions, pollers, permissions, policies, engine, tmp_path)
        finally:
            pollers.stop()
            functions.stop()
