"""Faults met by the synthesized asset running as Lambda runs it: awslambdaric in a boto3-only environment,
fed by localdeploy's Runtime API stand-in, which stops the process at the function's timeout as Lambda does.

Only what needs the real runtime is tested here: an invocation that runs into the function's timeout. (The
other faults need no process boundary and run in this process: test_faults_in_process.py.) The asset is
app.py's, synthesized once per session. Its Account API calls go through a small HTTP proxy in front of
moto_server that can hold them unanswered; its answers go to localdeploy's HTTPS listener; its log stream is
the file the runtime wrote.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest
from app_synth import SynthesizedApp
from fault_proxies import AccountApiFaultProxy

from localdeploy.cloud import LocalCloud
from localdeploy.contacts import account_client, read_contacts
from localdeploy.custom_resources import CustomResourceClient, RequestRecord
from localdeploy.functions import FunctionConfig
from localdeploy.moto import DEPLOYING_ACCOUNT

REGION = "us-east-1"
STACK_NAME = "RuntimeFaults"
STACK_ID = (
    f"arn:aws:cloudformation:{REGION}:{DEPLOYING_ACCOUNT}:stack/{STACK_NAME}/0d1e2f3a-0000-4000-8000-00000000cafe"
)
DETAILS = {
    "EmailAddress": "margaret.hamilton@example.com",
    "Name": "Margaret Hamilton",
    "PhoneNumber": "+1 617 555 0169",
    "Title": "Director of Software Engineering",
}


@dataclass
class Runtime:
    """The local cloud, the fault proxy in front of its Account API, and a function config to deploy."""

    cloud: LocalCloud
    proxy: AccountApiFaultProxy
    base: FunctionConfig

    def deploy(self, name: str, timeout_s: int) -> FunctionConfig:
        """Deploy the asset as a function named ``name`` with the given timeout; returns its config."""
        config = replace(
            self.base,
            function_name=name,
            arn=f"arn:aws:lambda:{REGION}:{DEPLOYING_ACCOUNT}:function:{name}",
            timeout_s=timeout_s,
        )
        self.cloud.functions.deploy(config)
        return config

    def create(self, config: FunctionConfig) -> RequestRecord:
        """Send a Create for the SECURITY contact of the deploying account and wait for its answer."""
        client = CustomResourceClient(self.cloud.functions, self.cloud.responses, answer_timeout_cap_s=45)
        properties: dict[str, Any] = {
            "ServiceToken": config.arn,
            "ServiceTimeout": "420",
            "AlternateContactType": "SECURITY",
            **DETAILS,
        }
        return client.send(
            phase="deploy",
            request_type="Create",
            stack_id=STACK_ID,
            stack_name=STACK_NAME,
            logical_id="SecurityContact",
            resource_type="Custom::AlternateContact",
            properties=properties,
        )

    def contacts(self) -> dict[Any, dict[str, str]]:
        return read_contacts(account_client(self.cloud.moto.endpoint), [DEPLOYING_ACCOUNT])

    def log_text(self) -> str:
        return self.cloud.log_text()


@pytest.fixture(scope="module")
def runtime(example_synth: SynthesizedApp, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runtime]:
    (function,) = [r for r in example_synth.template["Resources"].values() if r["Type"] == "AWS::Lambda::Function"]
    # Lambda's asynchronous retries after 0.5 s and 1 s (not minutes): a timed-out invocation would be retried
    # and could answer again, which is what these tests must be able to see.
    with LocalCloud(Path(tmp_path_factory.mktemp("runtime")), concurrency=1, retry_delays=(0.5, 1.0)) as cloud:
        proxy = AccountApiFaultProxy(cloud.moto.endpoint).start()
        base = FunctionConfig(
            function_name="provider",
            arn="",
            code_dir=str(example_synth.asset),
            asset_hash=example_synth.asset.name,
            handler=function["Properties"]["Handler"],
            runtime=function["Properties"]["Runtime"],
            timeout_s=int(function["Properties"]["Timeout"]),
            memory_mb=int(function["Properties"]["MemorySize"]),
            # Only the Account API goes through the proxy; CloudFormation and the rest reach the emulators.
            environment=(("AWS_ENDPOINT_URL_ACCOUNT", proxy.endpoint),),
            log_group="/aws/lambda/robustness-provider",
        )
        try:
            yield Runtime(cloud, proxy, base)
        finally:
            proxy.stop()


def assert_no_personal_data_or_signature_in(log: str, runtime: Runtime) -> None:
    assert "START RequestId" in log, "the function's log stream is empty: nothing was checked"
    assert [value for value in DETAILS.values() if value in log] == []
    assert "X-Amz-Signature" not in log
    assert [i.signature for i in runtime.cloud.responses.issued() if i.signature in log] == []


def test_an_unresponsive_account_api_is_answered_failed_once_before_the_runtime_stops_the_function(
    runtime: Runtime,
) -> None:
    # GIVEN the asset deployed with a 7 s timeout, and an Account API that never answers a Put
    config = runtime.deploy("provider-deadline", timeout_s=7)
    runtime.proxy.default = {"PutAlternateContact": "hang"}
    try:
        # WHEN CloudFormation sends a Create
        record = runtime.create(config)
        assert record.invocation is not None
        [attempt] = record.invocation.attempts
        deadline = attempt.started_at + config.timeout_s
        # THEN the function answered FAILED itself, before crhelper's timer (0.5 s before the deadline), with a
        # reason that says it gave up to answer in time
        assert record.status == "FAILED", record.reason
        assert "timeout" in record.reason and "PutAlternateContact" in record.reason, record.reason
        assert record.answered_at is not None and record.answered_at < deadline - 0.5
        # AND after the deadline (and the time Lambda's retry would take) there is still only that answer, the
        # invocation ended normally (so Lambda does not retry it), and the contact was not set
        time.sleep(max(0.0, deadline + 2.0 - time.time()))
        assert runtime.cloud.responses.answer_counts([record.request_id]) == {record.request_id: 1}
        assert record.invocation.wait(10)
        assert [a.outcome for a in record.invocation.attempts] == ["success"]
        assert runtime.contacts() == {}
        assert_no_personal_data_or_signature_in(runtime.log_text(), runtime)
    finally:
        runtime.proxy.default = {}
        runtime.proxy.released.set()
