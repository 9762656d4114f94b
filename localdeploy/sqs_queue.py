"""``AWS::SQS::Queue``: queues made by a stack, in moto's SQS backend, as CloudFormation makes them.

From the resource type's reference (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-resource-sqs-queue.html)
and the SQS API reference (SetQueueAttributes):

Create
    CreateQueue with the declared attributes; no QueueName gives ``<stack>-<logical id>-<12 characters>``
    (80 characters at most; ``.fifo`` appended for a FIFO queue). Values outside SQS's ranges fail as SQS fails
    them ("Invalid value for the parameter VisibilityTimeout."); a RedrivePolicy naming a queue that does not
    exist fails ("Dead letter target does not exist."); KmsMasterKeyId with SqsManagedSseEnabled true fails
    (one kind of server-side encryption at a time).
Update
    QueueName, FifoQueue: replacement (a new queue, the old one deleted in cleanup). Everything else in place:
    a changed attribute is set, one removed from the template goes back to SQS's default, tags are diffed.
Delete
    DeleteQueue; a queue already gone counts as deleted.

``Ref`` is the queue URL (as moto answers it); ``Fn::GetAtt`` gives Arn, QueueName and QueueUrl.

KMS is not modelled: a KmsMasterKeyId is stored, and nothing is encrypted. moto moves a message to the
dead-letter queue itself when a receive finds it received ``maxReceiveCount`` times already (as SQS does).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from botocore.exceptions import ClientError

from . import native
from .native import Created, ResourceError

QUEUE_TYPE = "AWS::SQS::Queue"

#: Attributes as SQS accepts them: (minimum, maximum, default); a value out of range is refused.
_RANGES: dict[str, tuple[int, int, int]] = {
    "DelaySeconds": (0, 900, 0),
    "MaximumMessageSize": (1024, 1048576, 1048576),
    "MessageRetentionPeriod": (60, 1209600, 345600),
    "ReceiveMessageWaitTimeSeconds": (0, 20, 0),
    "VisibilityTimeout": (0, 43200, 30),
    "KmsDataKeyReusePeriodSeconds": (60, 86400, 300),
}

#: Other attributes passed through as given (default when removed from the template).
_PLAIN: dict[str, str] = {
    "KmsMasterKeyId": "",
    "SqsManagedSseEnabled": "true",
    "ContentBasedDeduplication": "false",
    "DeduplicationScope": "queue",
    "FifoThroughputLimit": "perQueue",
}

#: Properties whose change replaces the queue.
CREATE_ONLY = ("QueueName", "FifoQueue")

_NAME = re.compile(r"^[A-Za-z0-9_-]{1,80}$")


def queue_arn(region: str, account_id: str, name: str) -> str:
    """A queue's ARN."""
    return f"arn:aws:sqs:{region}:{account_id}:{name}"


def queue_name_from(url_or_arn: str) -> str:
    """The queue name in a queue URL or ARN."""
    return url_or_arn.rstrip("/").rsplit("/", 1)[-1].rsplit(":", 1)[-1]


def _boolean(value: Any) -> str:
    return "true" if str(value).lower() == "true" else "false"


def _invalid(name: str) -> ResourceError:
    return ResourceError(native.service_reason(f"Invalid value for the parameter {name}.", "Sqs", "InvalidRequest"))


def _redrive(value: Any) -> str:
    document = json.loads(value) if isinstance(value, str) else dict(value)
    count = int(document.get("maxReceiveCount", 0))
    if not 1 <= count <= 1000 or not document.get("deadLetterTargetArn"):
        raise _invalid("RedrivePolicy")
    return json.dumps({"deadLetterTargetArn": str(document["deadLetterTargetArn"]), "maxReceiveCount": count})


def attributes(properties: Mapping[str, Any]) -> dict[str, str]:
    """The SQS attributes the properties declare (strings, as the API takes them), checked as SQS checks them.

    Raises
    ------
    ResourceError
        With SQS's message, for a value SQS refuses.
    """
    found: dict[str, str] = {}
    for name, (low, high, _) in _RANGES.items():
        if properties.get(name) is None:
            continue
        try:
            number = int(properties[name])
        except (TypeError, ValueError):
            raise _invalid(name) from None
        if not low <= number <= high:
            raise _invalid(name)
        found[name] = str(number)
    for name in _PLAIN:
        if properties.get(name) is not None:
            value = properties[name]
            found[name] = _boolean(value) if isinstance(value, bool) or name.endswith("Enabled") else str(value)
    if properties.get("ContentBasedDeduplication") is not None:
        found["ContentBasedDeduplication"] = _boolean(properties["ContentBasedDeduplication"])
    if properties.get("RedrivePolicy"):
        found["RedrivePolicy"] = _redrive(properties["RedrivePolicy"])
    if properties.get("RedriveAllowPolicy"):
        allow = properties["RedriveAllowPolicy"]
        found["RedriveAllowPolicy"] = allow if isinstance(allow, str) else json.dumps(allow)
    if found.get("KmsMasterKeyId") and found.get("SqsManagedSseEnabled") == "true":
        message = (
            "You can use one type of server-side encryption (SSE) at one time. "
            "You can either enable KMS SSE or SQS SSE."
        )
        raise ResourceError(native.service_reason(message, "Sqs", "InvalidRequest"))
    if str(properties.get("FifoQueue", "")).lower() == "true":
        found["FifoQueue"] = "true"
    return found


class QueueEmulator(native.ClientEmulator):
    """Creates, updates and deletes queues in moto (through an SQS client) as CloudFormation does for
    ``AWS::SQS::Queue``: ``Ref`` is the queue's URL; ``Fn::GetAtt`` gives Arn, QueueName and QueueUrl."""

    resource_type = QUEUE_TYPE
    create_only = CREATE_ONLY

    def create(self, logical_id: str, properties: Mapping[str, Any], *, stack_name: str = "") -> Created:
        """CreateQueue; returns the URL and the attributes."""
        fifo = str(properties.get("FifoQueue", "")).lower() == "true"
        name = str(properties.get("QueueName") or "")
        if not name:
            name = native.unique_name(stack_name or "stack", logical_id, 80, suffix=".fifo" if fifo else "")
        bare = name.removesuffix(".fifo")
        if not _NAME.match(bare) or len(name) > 80 or (fifo != name.endswith(".fifo")):
            raise ResourceError(
                native.service_reason(
                    "Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length",
                    "Sqs",
                    "InvalidRequest",
                )
            )
        wanted = attributes(properties)
        self._check_dead_letter_target(wanted)
        try:
            created = self.client.create_queue(QueueName=name, Attributes=wanted, tags=native.tags(properties))
            url = str(created["QueueUrl"])
        except ClientError as error:
            raise _failure(error) from None
        return Created(url, self._attributes(url))

    def update(self, physical_id: str, old: Mapping[str, Any], new: Mapping[str, Any]) -> dict[str, Any]:
        """SetQueueAttributes for what changed (defaults for what was removed), tags diffed."""
        before, after = attributes(old), attributes(new)
        self._check_dead_letter_target(after)
        changed = {k: v for k, v in after.items() if before.get(k) != v and k != "FifoQueue"}
        for name in set(before) - set(after):
            if name in _RANGES:
                changed[name] = str(_RANGES[name][2])
            elif name in _PLAIN:
                changed[name] = _PLAIN[name]
            elif name in ("RedrivePolicy", "RedriveAllowPolicy"):
                changed[name] = ""
        try:
            if changed:
                # moto's SetQueueAttributes forgets the queue's Policy unless it is passed again (SQS keeps it).
                current = self.client.get_queue_attributes(QueueUrl=physical_id, AttributeNames=["Policy"])
                policy = current.get("Attributes", {}).get("Policy")
                if policy:
                    changed["Policy"] = policy
                self.client.set_queue_attributes(QueueUrl=physical_id, Attributes=changed)
            removed, added = native.tag_changes(native.tags(old), native.tags(new))
            if removed:
                self.client.untag_queue(QueueUrl=physical_id, TagKeys=removed)
            if added:
                self.client.tag_queue(QueueUrl=physical_id, Tags=added)
        except ClientError as error:
            raise _failure(error) from None
        return self._attributes(physical_id)

    def delete(self, physical_id: str, properties: Mapping[str, Any]) -> None:
        """DeleteQueue; a queue that is gone counts as deleted."""
        try:
            self.client.delete_queue(QueueUrl=physical_id)
        except ClientError as error:
            if "NonExistentQueue" not in str(error.response.get("Error", {}).get("Code", "")):
                raise _failure(error) from None

    def _check_dead_letter_target(self, wanted: Mapping[str, str]) -> None:
        if "RedrivePolicy" not in wanted:
            return
        target = json.loads(wanted["RedrivePolicy"])["deadLetterTargetArn"]
        try:
            self.client.get_queue_url(QueueName=queue_name_from(target))
        except ClientError:
            message = (
                f"Value {wanted['RedrivePolicy']} for parameter RedrivePolicy is invalid. "
                "Reason: Dead letter target does not exist."
            )
            raise ResourceError(native.service_reason(message, "Sqs", "InvalidRequest")) from None

    def _attributes(self, url: str) -> dict[str, Any]:
        name = queue_name_from(url)
        return {"Arn": queue_arn(self.region, self.account_id, name), "QueueName": name, "QueueUrl": url}


def _failure(error: ClientError) -> ResourceError:
    details = error.response.get("Error", {})
    return ResourceError(
        native.service_reason(str(details.get("Message") or details.get("Code", "")), "Sqs", "GeneralServiceException")
    )
