"""``AWS::Lambda::EventSourceMapping`` from an SQS queue: created, checked and run as Lambda does.

From the resource type's reference (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-resource-lambda-eventsourcemapping.html),
Lambda's CreateEventSourceMapping and "Using Lambda with Amazon SQS"
(https://docs.aws.amazon.com/lambda/latest/dg/with-sqs.html, services-sqs-configure.html):

Create
    The schema's ranges first (BatchSize 1-10,000, MaximumBatchingWindowInSeconds 0-300,
    ScalingConfig.MaximumConcurrency 2-1,000: "Properties validation failed ..."). Then Lambda's checks, each
    failing with Lambda's InvalidParameterValueException as CloudFormation shows it ("Invalid request
    provided: ... (Service: Lambda, Status Code: 400, ...)", HandlerErrorCode InvalidRequest):

    - the function must exist;
    - a BatchSize over 10 needs a batching window ("Maximum batch window in seconds must be greater than 0 if
      maximum batch size is greater than 10", serverless/serverless #8989); a FIFO queue takes 10 at most and
      no window;
    - the function's execution role must allow ``sqs:ReceiveMessage``, ``sqs:DeleteMessage`` and
      ``sqs:GetQueueAttributes`` on the queue, judged by the engine's :class:`~.iam.PolicyRegistry` as the
      policy is at that moment ("The provided execution role does not have permissions to call
      ReceiveMessage on SQS", aws/aws-cdk #6770);
    - the queue's visibility timeout must not be shorter than the function's timeout ("Queue visibility
      timeout: 30 seconds is less than Function timeout: 120 seconds", mongodb/docs-worker-pool #878).

    Then the mapping exists and, when Enabled, its pollers start (:mod:`.sqs_poller`).
Update
    EventSourceArn is create-only (replacement); the rest in place, checked again (a new function, a larger
    batch), the pollers restarted with the new configuration.
Delete
    The pollers stop (a batch in flight finishes); a mapping already gone counts as deleted.

``Ref`` is the mapping's UUID; ``Fn::GetAtt`` gives Id and EventSourceMappingArn. Only SQS sources are
emulated: another EventSourceArn fails the resource instead of being accepted and never polled.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from dataclasses import KW_ONLY, dataclass
from typing import Any

from botocore.exceptions import ClientError

from . import native
from .event_pattern import EventPatternError, parse
from .iam import PolicyRegistry, UnsupportedPolicyError
from .lambda_permission import function_arn, unqualified
from .lambda_service import FunctionService
from .native import Created, ResourceError
from .sqs_poller import SqsMapping, SqsPollers
from .sqs_queue import queue_name_from

MAPPING_TYPE = "AWS::Lambda::EventSourceMapping"

#: The calls Lambda's poller makes with the execution role, in the order Lambda checks them.
REQUIRED_ACTIONS = ("ReceiveMessage", "DeleteMessage", "GetQueueAttributes")

#: The schema's ranges: (minimum, maximum).
_RANGES = {
    ("BatchSize",): (1, 10000),
    ("MaximumBatchingWindowInSeconds",): (0, 300),
    ("ScalingConfig", "MaximumConcurrency"): (2, 1000),
}


def _invalid(message: str) -> ResourceError:
    return ResourceError(native.service_reason(f"Invalid request provided: {message}", "Lambda", "InvalidRequest"))


def _schema_errors(logical_id: str, properties: Mapping[str, Any]) -> None:
    problems = [f"#: required key [{key}] not found" for key in ("FunctionName",) if not properties.get(key)]
    for path, (low, high) in _RANGES.items():
        value: Any = properties
        for key in path:
            value = value.get(key) if isinstance(value, Mapping) else None
        if value is None:
            continue
        where = "#/" + "/".join(path)
        if not isinstance(value, (int, float, str)) or not str(value).lstrip("-").isdigit():
            problems.append(f"{where}: expected type: Integer")
        elif int(value) < low:
            problems.append(f"{where}: {int(value)} is not greater or equal to {low}")
        elif int(value) > high:
            problems.append(f"{where}: {int(value)} is not less or equal to {high}")
    if problems:
        raise ResourceError(
            f"Properties validation failed for resource {logical_id} with message: [{', '.join(problems)}]"
        )


@dataclass(eq=False)
class EventSourceMappingEmulator:
    """Creates, updates and deletes SQS event source mappings as CloudFormation (and Lambda) do.

    Parameters
    ----------
    functions:
        The local Lambda service (the function's role and timeout are read from it).
    pollers:
        Where the mappings run.
    sqs:
        An SQS client of the stack's region with the deployer's credentials (for the queue's attributes, as
        Lambda's service reads them).
    policies:
        The roles' policies as CloudFormation has them now; ``None`` when IAM is not evaluated (then the role
        check is skipped).
    region, account_id:
        Where the stack is deployed.
    """

    resource_type = MAPPING_TYPE

    functions: FunctionService
    pollers: SqsPollers
    sqs: Any
    policies: PolicyRegistry | None
    _: KW_ONLY
    region: str
    account_id: str

    def replaces(self, old: Mapping[str, Any], new: Mapping[str, Any]) -> bool:
        """EventSourceArn is create-only."""
        return native.create_only_changed(("EventSourceArn",), old, new)

    def create(self, logical_id: str, properties: Mapping[str, Any], *, stack_name: str = "") -> Created:
        """Check as Lambda checks, then start the pollers."""
        _schema_errors(logical_id, properties)
        identifier = str(uuid.uuid4())
        mapping = self._mapping(identifier, properties)
        self.pollers.add(mapping)
        return Created(identifier, {"Id": identifier, "EventSourceMappingArn": mapping.arn})

    def update(self, physical_id: str, old: Mapping[str, Any], new: Mapping[str, Any]) -> dict[str, Any]:
        """Check the new configuration, then restart the pollers with it."""
        _schema_errors(physical_id, new)
        mapping = self._mapping(physical_id, new)
        self.pollers.update(mapping)
        return {"Id": physical_id, "EventSourceMappingArn": mapping.arn}

    def delete(self, physical_id: str, properties: Mapping[str, Any]) -> None:
        """Stop the pollers; a mapping already gone counts as deleted."""
        self.pollers.remove(physical_id)

    def _mapping(self, identifier: str, properties: Mapping[str, Any]) -> SqsMapping:
        source = str(properties.get("EventSourceArn") or "")
        if not source.startswith("arn:aws:sqs:"):
            raise ResourceError(
                native.handler_reason(
                    f"localdeploy emulates event source mappings from SQS queues only, not {source or 'none'}",
                    "InvalidRequest",
                )
            )
        if properties.get("StartingPosition"):
            raise _invalid("StartingPosition is not valid for SQS event sources.")
        arn = unqualified(function_arn(str(properties["FunctionName"]), region=self.region, account_id=self.account_id))
        config = self.functions.config(arn)
        if config is None:
            raise ResourceError(native.service_reason(f"Function not found: {arn}", "Lambda", "NotFound", status=404))
        queue = self._queue(source)
        fifo = queue.get("FifoQueue") == "true"
        batch_size = int(properties.get("BatchSize") or 10)
        window = int(properties.get("MaximumBatchingWindowInSeconds") or 0)
        if fifo and batch_size > 10:
            raise _invalid("Batch size must be between 1 and 10 for FIFO queues.")
        if fifo and window:
            raise _invalid("Batching window is not supported for FIFO queues.")
        if batch_size > 10 and window < 1:
            raise _invalid(
                "Maximum batch window in seconds must be greater than 0 if maximum batch size is greater than 10"
            )
        self._check_role(config.role_arn, source)
        visibility = int(queue.get("VisibilityTimeout", "30"))
        if visibility < config.timeout_s:
            raise _invalid(
                f"Queue visibility timeout: {visibility} seconds is less than Function timeout: "
                f"{config.timeout_s} seconds"
            )
        response_types = [str(t) for t in properties.get("FunctionResponseTypes") or []]
        if any(t != "ReportBatchItemFailures" for t in response_types):
            raise _invalid(f"Unsupported FunctionResponseTypes: {response_types}")
        scaling = properties.get("ScalingConfig") or {}
        return SqsMapping(
            uuid=identifier,
            arn=f"arn:aws:lambda:{self.region}:{self.account_id}:event-source-mapping:{identifier}",
            queue_arn=source,
            queue_url=str(queue["QueueUrl"]),
            region=source.split(":")[3],
            function_arn=arn,
            batch_size=batch_size,
            window_s=window,
            report_failures="ReportBatchItemFailures" in response_types,
            maximum_concurrency=int(scaling["MaximumConcurrency"]) if scaling.get("MaximumConcurrency") else None,
            enabled=str(properties.get("Enabled", True)).lower() != "false",
            filters=self._filters(properties),
        )

    def _queue(self, source: str) -> dict[str, str]:
        try:
            url = self.sqs.get_queue_url(QueueName=queue_name_from(source))["QueueUrl"]
            found = self.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
        except ClientError:
            raise _invalid(
                f"Error occurred while ReceiveMessage. SQS Error Code: AWS.SimpleQueueService.NonExistentQueue. "
                f"SQS Error Message: The specified queue does not exist for this wsdl version. ({source})"
            ) from None
        return {**{str(k): str(v) for k, v in found.items()}, "QueueUrl": str(url)}

    def _check_role(self, role_arn: str, queue_arn: str) -> None:
        if self.policies is None:
            return
        try:
            policy = self.policies.policy(role_arn) if role_arn else None
        except UnsupportedPolicyError as error:
            raise ResourceError(f"localdeploy cannot judge the execution role's permissions: {error}") from None
        for action in REQUIRED_ACTIONS:
            if policy is None or not policy.allowed(f"sqs:{action}", queue_arn):
                raise _invalid(f"The provided execution role does not have permissions to call {action} on SQS")

    def _filters(self, properties: Mapping[str, Any]) -> list[dict[str, Any]]:
        criteria = properties.get("FilterCriteria") or {}
        patterns = []
        for entry in criteria.get("Filters") or []:
            try:
                pattern = entry.get("Pattern")
                patterns.append(parse(pattern if isinstance(pattern, str) else json.dumps(pattern)))
            except EventPatternError as error:
                raise _invalid(f"Invalid filter pattern definition. {error}") from None
        if len(patterns) > 5:
            raise _invalid("The maximum number of filters for an event source mapping is 5.")
        return patterns
