"""``AWS::Events::Rule``: rules and their targets, in moto's EventBridge backend, as CloudFormation makes them.

From the resource type's reference (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-resource-events-rule.html)
and EventBridge's PutRule / PutTargets:

Create
    An EventPattern or a ScheduleExpression is required ("Parameter(s) EventPattern or ScheduleExpression must
    be specified."); a schedule only on the default bus; the pattern is checked as EventBridge checks it
    (:mod:`.event_pattern`), the schedule too (:mod:`.schedule_expression`). No Name gives
    ``<stack>-<logical id>-<12 characters>``. PutRule, then PutTargets: at most 5 targets, ids unique of
    ``[.\\-_A-Za-z0-9]{1,64}``, at most one of Input, InputPath and InputTransformer, RetryPolicy within
    0-185 attempts and 60-86,400 seconds.
Update
    Name and EventBusName are create-only (replacement). Otherwise PutRule again, targets no longer listed
    removed, the others put.
Delete
    RemoveTargets, then DeleteRule; a rule already gone counts as deleted.

``Ref`` is the rule's name (``<bus>|<name>`` on another bus than the default one); ``Fn::GetAtt Arn`` its ARN.
moto stores rules and targets but delivers nothing: :mod:`.event_bus` reads them back and delivers.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from botocore.exceptions import ClientError

from . import native
from .event_pattern import EventPatternError, parse
from .native import Created, ResourceError
from .schedule_expression import ScheduleExpressionError, validate

RULE_TYPE = "AWS::Events::Rule"

#: PutTargets' limit per rule (EventBridge quotas: five targets per rule).
MAX_TARGETS = 5

STATES = ("ENABLED", "DISABLED", "ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS")

CREATE_ONLY = ("Name", "EventBusName")

_TARGET_ID = re.compile(r"^[.\-_A-Za-z0-9]{1,64}$")

#: Target properties passed to PutTargets as they are (CloudFormation's keys are the API's).
_TARGET_KEYS = ("Id", "Arn", "RoleArn", "Input", "InputPath", "InputTransformer", "RetryPolicy", "DeadLetterConfig")


def _eventbridge(message: str) -> ResourceError:
    return ResourceError(native.service_reason(message, "EventBridge", "GeneralServiceException"))


def bus_name(properties: Mapping[str, Any]) -> str:
    """The bus a rule is on: EventBusName (a name or an ARN), else the default bus."""
    value = str(properties.get("EventBusName") or "default")
    return value.rsplit("/", 1)[-1] if value.startswith("arn:") else value


def rule_arn(region: str, account_id: str, bus: str, name: str) -> str:
    """A rule's ARN (``rule/<name>`` on the default bus, ``rule/<bus>/<name>`` on another)."""
    path = name if bus == "default" else f"{bus}/{name}"
    return f"arn:aws:events:{region}:{account_id}:rule/{path}"


def _pattern_text(properties: Mapping[str, Any]) -> str | None:
    pattern = properties.get("EventPattern")
    if pattern is None or pattern == "":
        return None
    try:
        return json.dumps(parse(pattern))
    except EventPatternError as error:
        raise _eventbridge(str(error)) from None


def targets(properties: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The rule's targets as PutTargets takes them, checked as PutTargets checks them.

    Raises
    ------
    ResourceError
        With EventBridge's message.
    """
    found = [dict(t) for t in properties.get("Targets") or []]
    if len(found) > MAX_TARGETS:
        raise _eventbridge("The requested resource exceeds the maximum number allowed.")
    ids = [str(t.get("Id", "")) for t in found]
    for target, target_id in zip(found, ids, strict=True):
        if not _TARGET_ID.match(target_id):
            raise _eventbridge(
                f"1 validation error detected: Value '{target_id}' at 'targets.1.member.id' failed to satisfy "
                "constraint: Member must satisfy regular expression pattern: [\\.\\-_A-Za-z0-9]+"
            )
        if not target.get("Arn"):
            raise _eventbridge("Parameter Arn must be specified.")
        inputs = [key for key in ("Input", "InputPath", "InputTransformer") if target.get(key)]
        if len(inputs) > 1:
            raise _eventbridge(
                f"Only one of Input, InputPath, or InputTransformer must be provided for target {target_id}."
            )
        if target.get("Input"):
            try:
                json.loads(str(target["Input"]))
            except ValueError:
                raise _eventbridge(f"Input for target {target_id} is not valid JSON text.") from None
        transformer = target.get("InputTransformer")
        if transformer is not None and not (isinstance(transformer, Mapping) and transformer.get("InputTemplate")):
            raise _eventbridge("InputTemplate must be specified in InputTransformer.")
        retry = target.get("RetryPolicy") or {}
        attempts = retry.get("MaximumRetryAttempts")
        age = retry.get("MaximumEventAgeInSeconds")
        if attempts is not None and not 0 <= int(attempts) <= 185:
            raise _eventbridge("MaximumRetryAttempts must be between 0 and 185.")
        if age is not None and not 60 <= int(age) <= 86400:
            raise _eventbridge("MaximumEventAgeInSeconds must be between 60 and 86400.")
        dead_letter = (target.get("DeadLetterConfig") or {}).get("Arn")
        if dead_letter is not None and not str(dead_letter).startswith("arn:aws:sqs:"):
            raise _eventbridge("The DeadLetterConfig Arn must be the ARN of an SQS queue.")
    if len(set(ids)) != len(ids):
        raise _eventbridge("Target ids must be unique within a rule.")
    return [_normalized(t) for t in found]


def _normalized(target: Mapping[str, Any]) -> dict[str, Any]:
    result = {key: target[key] for key in _TARGET_KEYS if target.get(key) is not None}
    if "RetryPolicy" in result:
        result["RetryPolicy"] = {k: int(v) for k, v in dict(result["RetryPolicy"]).items()}
    transformer = result.get("InputTransformer")
    if isinstance(transformer, Mapping):
        result["InputTransformer"] = {
            "InputPathsMap": {str(k): str(v) for k, v in (transformer.get("InputPathsMap") or {}).items()},
            "InputTemplate": str(transformer["InputTemplate"]),
        }
    if target.get("SqsParameters"):
        result["SqsParameters"] = dict(target["SqsParameters"])
    return result


class RuleEmulator(native.ClientEmulator):
    """Creates, updates and deletes rules and targets in moto (through an EventBridge client) as CloudFormation
    does for ``AWS::Events::Rule``: ``Ref`` is the rule's name (``<bus>|<name>`` on another bus than the default
    one), ``Fn::GetAtt Arn`` its ARN."""

    resource_type = RULE_TYPE
    create_only = CREATE_ONLY

    def create(self, logical_id: str, properties: Mapping[str, Any], *, stack_name: str = "") -> Created:
        """PutRule, then PutTargets."""
        name = str(properties.get("Name") or native.unique_name(stack_name or "stack", logical_id, 64))
        bus = bus_name(properties)
        wanted = targets(properties)
        self._put_rule(name, bus, properties)
        try:
            if wanted:
                self._put_targets(name, bus, wanted)
        except ResourceError as error:
            # The rule exists: the failed resource carries its id, and the rollback's Delete removes it.
            raise ResourceError(str(error), physical_id=self._ref(bus, name)) from None
        return Created(self._ref(bus, name), {"Arn": rule_arn(self.region, self.account_id, bus, name)})

    def update(self, physical_id: str, old: Mapping[str, Any], new: Mapping[str, Any]) -> dict[str, Any]:
        """PutRule again; targets no longer listed removed, the others put."""
        bus, _, name = physical_id.rpartition("|")
        bus = bus or "default"
        wanted = targets(new)
        self._put_rule(name, bus, new)
        gone = sorted({str(t["Id"]) for t in targets(old)} - {str(t["Id"]) for t in wanted})
        try:
            if gone:
                self.client.remove_targets(Rule=name, EventBusName=bus, Ids=gone)
        except ClientError as error:
            raise _failure(error) from None
        if wanted:
            self._put_targets(name, bus, wanted)
        return {"Arn": rule_arn(self.region, self.account_id, bus, name)}

    def delete(self, physical_id: str, properties: Mapping[str, Any]) -> None:
        """RemoveTargets, DeleteRule; a rule already gone counts as deleted."""
        bus, _, name = physical_id.rpartition("|")
        bus = bus or "default"
        try:
            found = self.client.list_targets_by_rule(Rule=name, EventBusName=bus)["Targets"]
            if found:
                self.client.remove_targets(Rule=name, EventBusName=bus, Ids=[t["Id"] for t in found])
            self.client.delete_rule(Name=name, EventBusName=bus)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") != "ResourceNotFoundException":
                raise _failure(error) from None

    def _ref(self, bus: str, name: str) -> str:
        return name if bus == "default" else f"{bus}|{name}"

    def _put_rule(self, name: str, bus: str, properties: Mapping[str, Any]) -> None:
        pattern = _pattern_text(properties)
        schedule = properties.get("ScheduleExpression")
        if pattern is None and not schedule:
            raise _eventbridge("Parameter(s) EventPattern or ScheduleExpression must be specified.")
        if schedule:
            if bus != "default":
                raise _eventbridge("ScheduleExpression is supported only on the default event bus.")
            try:
                validate(str(schedule))
            except ScheduleExpressionError as error:
                raise _eventbridge(str(error)) from None
        state = str(properties.get("State") or "ENABLED")
        if state not in STATES:
            raise _eventbridge(f"1 validation error detected: Value '{state}' at 'state' failed to satisfy constraint")
        arguments: dict[str, Any] = {"Name": name, "EventBusName": bus, "State": state}
        if pattern is not None:
            arguments["EventPattern"] = pattern
        if schedule:
            arguments["ScheduleExpression"] = str(schedule)
        for key in ("Description", "RoleArn"):
            if properties.get(key):
                arguments[key] = str(properties[key])
        if properties.get("Tags"):
            arguments["Tags"] = [{"Key": str(t["Key"]), "Value": str(t["Value"])} for t in properties["Tags"]]
        try:
            self.client.put_rule(**arguments)
        except ClientError as error:
            raise _failure(error) from None

    def _put_targets(self, name: str, bus: str, wanted: list[dict[str, Any]]) -> None:
        try:
            answer = self.client.put_targets(Rule=name, EventBusName=bus, Targets=wanted)
        except ClientError as error:
            raise _failure(error) from None
        if answer.get("FailedEntryCount"):
            entry = answer["FailedEntries"][0]
            raise _eventbridge(f"{entry.get('ErrorCode')}: {entry.get('ErrorMessage')}")


def _failure(error: ClientError) -> ResourceError:
    details = error.response.get("Error", {})
    return _eventbridge(str(details.get("Message") or details.get("Code", "")))
