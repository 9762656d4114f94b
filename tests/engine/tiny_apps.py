"""Tiny cloud assemblies written by hand for the engine's tests: templates, and Python function assets.

A cloud assembly as the CDK writes it, reduced to what the engine reads (localdeploy/assembly.py): a
manifest, one template per stack, one assets manifest per stack naming each asset folder by the S3 key a
function's ``Code.S3Key`` gives.
"""

from __future__ import annotations

import hashlib
import json
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from localdeploy.assembly import CloudAssembly
from localdeploy.functions import HostSettings

ACCOUNT = "123456789012"

ASSUME_LAMBDA = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}],
}


def asset_key(code: str) -> str:
    """The S3 key (``<hash>.zip``) of a one-file asset."""
    return hashlib.sha256(code.encode()).hexdigest() + ".zip"


def write_assembly(
    folder: Path, stacks: Mapping[str, Mapping[str, Any]], code: Mapping[str, str] | None = None
) -> CloudAssembly:
    """An assembly of ``stacks`` (name -> template) whose functions may use the one-file assets ``code``
    (``index.py`` source -> served under :func:`asset_key`)."""
    folder.mkdir(parents=True, exist_ok=True)
    files: dict[str, Any] = {}
    for source in (code or {}).values():
        key = asset_key(source)
        asset = folder / f"asset.{key.removesuffix('.zip')}"
        asset.mkdir(exist_ok=True)
        (asset / "index.py").write_text(source)
        files[key.removesuffix(".zip")] = {
            "source": {"path": asset.name, "packaging": "zip"},
            "destinations": {"d": {"bucketName": "assets", "objectKey": key}},
        }
    artifacts: dict[str, Any] = {}
    for name, template in stacks.items():
        (folder / f"{name}.template.json").write_text(json.dumps(template))
        (folder / f"{name}.assets.json").write_text(json.dumps({"version": "36.0.0", "files": files}))
        artifacts[f"{name}.assets"] = {"type": "cdk:asset-manifest", "properties": {"file": f"{name}.assets.json"}}
        artifacts[name] = {
            "type": "aws:cloudformation:stack",
            "properties": {"templateFile": f"{name}.template.json"},
            "dependencies": [f"{name}.assets"],
        }
    (folder / "manifest.json").write_text(json.dumps({"version": "36.0.0", "artifacts": artifacts}))
    return CloudAssembly(folder)


def function(code: str, *, role: str = "WorkerRole", timeout: int = 3, **properties: Any) -> dict[str, Any]:
    """An AWS::Lambda::Function running the one-file asset ``code`` (handler ``index.handler``)."""
    return {
        "Type": "AWS::Lambda::Function",
        "Properties": {
            "Code": {"S3Bucket": "assets", "S3Key": asset_key(code)},
            "Handler": "index.handler",
            "Runtime": "python3.12",
            "Timeout": timeout,
            "Role": {"Fn::GetAtt": [role, "Arn"]},
            **properties,
        },
    }


def role() -> dict[str, Any]:
    """An execution role without inline policies (its AWS::IAM::Policy says what it may do)."""
    return {"Type": "AWS::IAM::Role", "Properties": {"AssumeRolePolicyDocument": ASSUME_LAMBDA}}


def policy(statements: list[dict[str, Any]], *, role_id: str = "WorkerRole") -> dict[str, Any]:
    """An AWS::IAM::Policy of ``statements`` attached to ``role_id``."""
    return {
        "Type": "AWS::IAM::Policy",
        "Properties": {
            "PolicyName": "WorkerPolicy",
            "Roles": [{"Ref": role_id}],
            "PolicyDocument": {"Version": "2012-10-17", "Statement": statements},
        },
    }


def consume(queue: str) -> dict[str, Any]:
    """What CDK's ``queue.grant_consume_messages(fn)`` grants (aws-cdk-lib's aws-sqs Queue)."""
    return {
        "Effect": "Allow",
        "Action": [
            "sqs:ReceiveMessage",
            "sqs:ChangeMessageVisibility",
            "sqs:GetQueueUrl",
            "sqs:DeleteMessage",
            "sqs:GetQueueAttributes",
        ],
        "Resource": {"Fn::GetAtt": [queue, "Arn"]},
    }


def events_may_send(queue: str, rule: str) -> dict[str, Any]:
    """The queue policy CDK's SqsQueue target writes: events.amazonaws.com may SendMessage for that rule."""
    return {
        "Type": "AWS::SQS::QueuePolicy",
        "Properties": {
            "Queues": [{"Ref": queue}],
            "PolicyDocument": {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"Service": "events.amazonaws.com"},
                        "Action": ["sqs:SendMessage", "sqs:GetQueueAttributes", "sqs:GetQueueUrl"],
                        "Resource": {"Fn::GetAtt": [queue, "Arn"]},
                        "Condition": {"ArnEquals": {"aws:SourceArn": {"Fn::GetAtt": [rule, "Arn"]}}},
                    }
                ],
            },
        },
    }


def queue_worker(
    code: str, *, timeout: int, mapping: dict[str, Any] | None = None, statements: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    """The resources of a function ``Worker`` fed by the stack's ``Queue`` through an event source ``Mapping``:
    its role, its policy (``statements``, default: it may consume the queue), the function and the mapping."""
    return {
        "WorkerRole": role(),
        "WorkerPolicy": policy(statements if statements is not None else [consume("Queue")]),
        "Worker": {**function(code, timeout=timeout), "DependsOn": ["WorkerPolicy"]},
        "Mapping": {
            "Type": "AWS::Lambda::EventSourceMapping",
            "Properties": {
                "EventSourceArn": {"Fn::GetAtt": ["Queue", "Arn"]},
                "FunctionName": {"Ref": "Worker"},
                **(mapping or {}),
            },
            "DependsOn": ["WorkerPolicy"],
        },
    }


def offline_host(log_root: Path) -> HostSettings:
    """Where a local Lambda service that never starts a function would run them: every endpoint a closed port."""
    return HostSettings(
        python=Path(sys.executable),
        account_endpoint="http://127.0.0.1:1",
        cloudformation_endpoint="http://127.0.0.1:1",
        fallback_endpoint="http://127.0.0.1:1",
        ca_file=Path("/nonexistent"),
        log_root=log_root,
    )
