"""An engine with the event side's resource kinds, over moto in this process (no moto_server, no runtime).

Functions are deployed to a local Lambda service from tiny assets but never started: what is checked here is
what CloudFormation and the services decide when a resource is created, updated or deleted. Delivery, which
runs functions, is tested against a real local cloud in test_event_delivery.py.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import boto3
import pytest
from moto import mock_aws

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from localdeploy.assembly import CloudAssembly  # noqa: E402
from localdeploy.engine import Engine, OperationResult  # noqa: E402
from localdeploy.functions import HostSettings  # noqa: E402
from localdeploy.iam import PolicyRegistry  # noqa: E402
from localdeploy.kinds import event_kinds  # noqa: E402
from localdeploy.lambda_permission import FunctionPolicies  # noqa: E402
from localdeploy.lambda_service import FunctionService  # noqa: E402
from localdeploy.registry import StackRegistry  # noqa: E402
from localdeploy.sqs_poller import SqsPollers  # noqa: E402
from localdeploy.state import StateStore  # noqa: E402
from tests.engine.tiny_apps import ACCOUNT, write_assembly  # noqa: E402

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


@pytest.fixture
def kinds(tmp_path: Path) -> Iterator[Kinds]:
    """The event side's kinds in moto, an engine that deploys them, IAM evaluated by a policy registry."""
    with mock_aws():
        host = HostSettings(
            python=Path(sys.executable),
            account_endpoint="http://127.0.0.1:1",
            cloudformation_endpoint="http://127.0.0.1:1",
            fallback_endpoint="http://127.0.0.1:1",
            ca_file=Path("/nonexistent"),
            log_root=tmp_path / "logs",
        )
        functions = FunctionService(host)
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
