"""``AWS::SQS::QueuePolicy``: the resource policy of one or more queues, in moto's SQS backend.

From the resource type's reference (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-resource-sqs-queuepolicy.html):
the policy document is set as the ``Policy`` attribute of every queue in ``Queues`` (queue URLs); an update
sets it on the queues now listed and clears it from the queues no longer listed; a delete clears it. ``Ref``
is a generated id. A queue named in ``Queues`` that does not exist fails the resource.

This is what lets EventBridge deliver to a queue: the policy must allow ``events.amazonaws.com``
``sqs:SendMessage`` (usually with ``aws:SourceArn`` the rule's ARN), see :mod:`.event_bus`. SQS checks that
the document is a policy (JSON with a Statement) and refuses it otherwise ("Invalid value for the parameter
Policy."); its deeper grammar is not checked here.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from botocore.exceptions import ClientError

from . import native
from .native import Created, ResourceError

QUEUE_POLICY_TYPE = "AWS::SQS::QueuePolicy"


def _document(properties: Mapping[str, Any]) -> str:
    document = properties.get("PolicyDocument")
    if isinstance(document, str):
        try:
            document = json.loads(document)
        except ValueError:
            document = None
    if not isinstance(document, Mapping) or not document.get("Statement"):
        raise ResourceError(native.service_reason("Invalid value for the parameter Policy.", "Sqs", "InvalidRequest"))
    return json.dumps(document)


def _queues(properties: Mapping[str, Any]) -> list[str]:
    queues = properties.get("Queues")
    if not isinstance(queues, list) or not queues:
        raise ResourceError(
            "Properties validation failed for resource with message: "
            f"[#/Queues: expected type: JSONArray, found: {type(queues).__name__}]"
        )
    return [str(q) for q in queues]


class QueuePolicyEmulator(native.ClientEmulator):
    """Sets and clears queues' ``Policy`` attribute (through an SQS client) as CloudFormation does for
    ``AWS::SQS::QueuePolicy``, whose ``Ref`` is a generated id and which has no attributes."""

    resource_type = QUEUE_POLICY_TYPE

    def create(self, logical_id: str, properties: Mapping[str, Any], *, stack_name: str = "") -> Created:
        """SetQueueAttributes Policy on each queue."""
        document, queues = _document(properties), _queues(properties)
        self._set(queues, document)
        return Created(native.unique_name(stack_name or "stack", logical_id), {})

    def update(self, physical_id: str, old: Mapping[str, Any], new: Mapping[str, Any]) -> dict[str, Any]:
        """The new document on the queues listed now; cleared from those no longer listed."""
        document, queues = _document(new), _queues(new)
        self._set(queues, document)
        gone = [q for q in (old.get("Queues") or []) if str(q) not in queues]
        self._set([str(q) for q in gone], "", missing_ok=True)
        return {}

    def delete(self, physical_id: str, properties: Mapping[str, Any]) -> None:
        """Clear the policy of every queue listed (a queue already gone is skipped)."""
        self._set([str(q) for q in (properties.get("Queues") or [])], "", missing_ok=True)

    def _set(self, queues: list[str], document: str, *, missing_ok: bool = False) -> None:
        for url in queues:
            try:
                self.client.set_queue_attributes(QueueUrl=url, Attributes={"Policy": document})
            except ClientError as error:
                if missing_ok and "NonExistentQueue" in str(error.response.get("Error", {}).get("Code", "")):
                    continue
                message = str(error.response.get("Error", {}).get("Message", "")) or f"Queue {url} does not exist"
                raise ResourceError(native.service_reason(message, "Sqs", "NotFound")) from None
