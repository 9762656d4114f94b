"""EventBridge's delivery: events matched against the rules moto stores and delivered to their targets.

moto keeps rules and targets (put there by :mod:`.events_rule`) but delivers nothing a local test can rely on:
this bus does it the way EventBridge does (EventBridge user guide, "Amazon EventBridge rules", "Event bus
targets", "Using resource-based policies for Amazon EventBridge",
https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-use-resource-based.html):

- events are per region and per bus: an event put in us-east-1 reaches only rules of us-east-1 (a stack in
  another region needs a rule in us-east-1 that forwards to its bus);
- delivery is asynchronous: :meth:`EventBus.put_events` answers at once, rules are matched and targets
  invoked a moment later (``delay_s``) on a thread of the bus;
- a rule takes part when ENABLED (or ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS, the only state that also
  receives read-only "AWS API Call via CloudTrail" events: eb-service-event-cloudtrail.html) and its
  EventPattern matches (:mod:`.event_pattern`); a scheduled rule gets only its own "Scheduled Event", fired
  on demand by :meth:`EventBus.fire_schedule`;
- each target gets the event, or its Input/InputPath/InputTransformer (:mod:`.target_input`):

  - an SQS queue, only if the queue's policy allows ``events.amazonaws.com`` ``sqs:SendMessage`` with the
    rule as ``aws:SourceArn``;
  - a Lambda function, invoked asynchronously (Lambda's queue and retries then apply), only if a permission
    of the function allows ``events.amazonaws.com`` ``lambda:InvokeFunction`` from the rule;
  - an event bus (another region's default bus), only with a RoleArn whose policy allows ``events:PutEvents``
    on that bus; the event goes on unchanged;

  otherwise the delivery fails permanently: no retry (EventBridge does not retry 4xx answers such as a
  missing permission: repost.aws knowledge center "eventbridge-resolve-failedinvocation-errors"), a
  FailedInvocation counted for the rule, and the event goes to the target's DeadLetterConfig queue if that
  queue's policy lets EventBridge send to it (message attributes RULE_ARN, TARGET_ARN, ERROR_CODE,
  ERROR_MESSAGE: eb-rule-dlq.html), else it is dropped. Nobody is told; tests read :meth:`EventBus.metrics`
  and :attr:`EventBus.deliveries`.

PutEvents checks entries as EventBridge does: Source, DetailType and Detail (a JSON object) are required,
and a Source starting with ``aws.`` is refused (NotAuthorizedForSourceException): events of AWS services come
through :meth:`EventBus.emit` only.
"""

from __future__ import annotations

import json
import queue
import threading
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError

from .event_pattern import matches
from .functions import Invocation
from .iam import PolicyRegistry
from .lambda_permission import FunctionPolicies, unqualified
from .lambda_service import FunctionNotFoundError, FunctionService
from .resource_policy import Caller, allows
from .sqs_queue import queue_name_from
from .target_input import render

EVENTS_PRINCIPAL = Caller(service="events.amazonaws.com")

#: The states in which a rule receives events.
_ACTIVE = ("ENABLED", "ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS")

METRICS = (
    "MatchedEvents",
    "TriggeredRules",
    "Invocations",
    "FailedInvocations",
    "InvocationsSentToDlq",
    "InvocationsFailedToBeSentToDlq",
)


def now_iso() -> str:
    """The time as EventBridge writes it in an event (``2024-05-01T12:00:00Z``)."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class Delivery:
    """One attempt to deliver an event to a rule's target, and how it ended."""

    event_id: str
    rule_arn: str
    target_id: str
    target_arn: str
    payload: str
    ok: bool
    error_code: str = ""
    error_message: str = ""
    dead_letter: str = ""


class DeliveryError(Exception):
    """A target refused an event; EventBridge counts it a FailedInvocation."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass
class _Work:
    event: dict[str, Any]
    region: str
    bus: str
    only_rule: str | None = None
    due: float = field(default_factory=time.monotonic)


class EventBus:
    """The default (and any other) event bus of every region of the account, delivering as EventBridge does.

    Parameters
    ----------
    control_client:
        Returns a client (service, region) of moto with the deployer's credentials: how rules, targets and
        queues are read and messages sent, never judged by the IAM front (EventBridge is not a function).
    functions:
        The local Lambda service (Lambda targets).
    permissions:
        The functions' resource-based policies (``AWS::Lambda::Permission``).
    policies:
        The roles' identity policies (a bus target's RoleArn); ``None``: not evaluated.
    account_id:
        The account the buses belong to.
    delay_s:
        How long after PutEvents an event is matched and delivered (AWS: typically well under a second).
    """

    def __init__(
        self,
        control_client: Callable[[str, str], Any],
        functions: FunctionService,
        permissions: FunctionPolicies,
        policies: PolicyRegistry | None,
        *,
        account_id: str,
        delay_s: float = 0.05,
    ) -> None:
        self._client = control_client
        self.functions = functions
        self.permissions = permissions
        self.policies = policies
        self.account_id = account_id
        self.delay_s = delay_s
        #: Every delivery attempt, in order.
        self.deliveries: list[Delivery] = []
        #: Every event the buses received (after PutEvents' checks), in order.
        self.events: list[dict[str, Any]] = []
        self.problems: list[str] = []
        self._metrics: dict[str, dict[str, int]] = defaultdict(lambda: dict.fromkeys(METRICS, 0))
        self._invocations: list[Invocation] = []
        self._lock = threading.Lock()
        self._queue: queue.Queue[_Work | None] = queue.Queue()
        self._working = 0
        self._thread = threading.Thread(target=self._run, name="event-bus", daemon=True)
        self._thread.start()

    # -- what tests and the demo call -----------------------------------------------------------------

    def put_events(self, entries: Iterable[Mapping[str, Any]], *, region: str) -> dict[str, Any]:
        """PutEvents: custom events, as an application puts them; answers as EventBridge does."""
        results: list[dict[str, Any]] = []
        for entry in entries:
            problem = _entry_problem(entry)
            if problem is not None:
                results.append({"ErrorCode": problem[0], "ErrorMessage": problem[1]})
                continue
            event = {
                "version": "0",
                "id": str(uuid.uuid4()),
                "detail-type": str(entry["DetailType"]),
                "source": str(entry["Source"]),
                "account": self.account_id,
                "time": _time(entry.get("Time")),
                "region": region,
                "resources": [str(r) for r in entry.get("Resources") or []],
                "detail": json.loads(str(entry["Detail"])),
            }
            bus = str(entry.get("EventBusName") or "default").rsplit("/", 1)[-1]
            self._enqueue(_Work(event, region, bus))
            results.append({"EventId": event["id"]})
        return {"FailedEntryCount": sum(1 for r in results if "ErrorCode" in r), "Entries": results}

    def emit(self, event: Mapping[str, Any], *, bus: str = "default") -> str:
        """An event an AWS service sends (its ``region`` says which region's bus gets it); returns its id."""
        document = json.loads(json.dumps(event))
        document.setdefault("version", "0")
        document.setdefault("id", str(uuid.uuid4()))
        document.setdefault("account", self.account_id)
        document.setdefault("time", now_iso())
        document.setdefault("resources", [])
        document.setdefault("detail", {})
        self._enqueue(_Work(document, str(document["region"]), bus))
        return str(document["id"])

    def fire_schedule(self, rule: str, *, region: str) -> str | None:
        """The "Scheduled Event" a scheduled rule sends, now: to that rule's targets only. Returns the event id,
        or ``None`` when the rule is DISABLED (a disabled schedule fires nothing).

        Raises
        ------
        LookupError
            When the rule does not exist or has no ScheduleExpression.
        """
        name = rule.rsplit("/", 1)[-1]
        try:
            found = self._client("events", region).describe_rule(Name=name)
        except ClientError:
            raise LookupError(f"no rule {name} on the default bus of {region}") from None
        if not found.get("ScheduleExpression"):
            raise LookupError(f"rule {name} has no ScheduleExpression")
        if found.get("State") not in _ACTIVE:
            return None
        event = {
            "version": "0",
            "id": str(uuid.uuid4()),
            "detail-type": "Scheduled Event",
            "source": "aws.events",
            "account": self.account_id,
            "time": now_iso(),
            "region": region,
            "resources": [found["Arn"]],
            "detail": {},
        }
        self._enqueue(_Work(event, region, "default", only_rule=str(found["Arn"])))
        return str(event["id"])

    def metrics(self, rule_arn: str) -> dict[str, int]:
        """The rule's CloudWatch metrics so far (MatchedEvents, Invocations, FailedInvocations, ...)."""
        with self._lock:
            return dict(self._metrics[rule_arn])

    def pending(self) -> list[str]:
        """What is not done yet: events not delivered, Lambda targets' invocations still running."""
        with self._lock:
            waiting = self._queue.qsize() + self._working
            running = [i for i in self._invocations if not i.settled]
        found = [f"{waiting} event(s) not delivered yet"] if waiting else []
        if running:
            found.append(f"{len(running)} invocation(s) of Lambda targets still running")
        return found

    def clear(self) -> None:
        """Forget deliveries, metrics and events (a clean slate between tests)."""
        with self._lock:
            self.deliveries.clear()
            self.events.clear()
            self.problems.clear()
            self._metrics.clear()
            self._invocations.clear()

    def stop(self) -> None:
        """Stop the delivery thread."""
        self._queue.put(None)
        self._thread.join(timeout=10)

    # -- delivery --------------------------------------------------------------------------------------

    def _enqueue(self, work: _Work) -> None:
        work.due = time.monotonic() + self.delay_s
        with self._lock:
            self.events.append(work.event)
        self._queue.put(work)

    def _run(self) -> None:
        while True:
            work = self._queue.get()
            if work is None:
                return
            with self._lock:
                self._working += 1
            try:
                time.sleep(max(work.due - time.monotonic(), 0))
                self._deliver(work)
            except Exception as error:  # a bus must keep delivering whatever one event does
                with self._lock:
                    self.problems.append(f"event {work.event.get('id')}: {error!r}")
            finally:
                with self._lock:
                    self._working -= 1

    def _deliver(self, work: _Work) -> None:
        client = self._client("events", work.region)
        rules = []
        for page in client.get_paginator("list_rules").paginate(EventBusName=work.bus):
            rules.extend(page["Rules"])
        event = work.event
        read_only_trail = event.get("detail-type") == "AWS API Call via CloudTrail" and bool(
            (event.get("detail") or {}).get("readOnly")
        )
        for rule in rules:
            arn = str(rule["Arn"])
            if work.only_rule is not None:
                if arn != work.only_rule:
                    continue
            elif (
                rule.get("State") not in _ACTIVE
                or not rule.get("EventPattern")
                or (read_only_trail and rule.get("State") != "ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS")
                or not matches(json.loads(rule["EventPattern"]), event)
            ):
                continue
            self._count(arn, "MatchedEvents")
            self._count(arn, "TriggeredRules")
            targets = client.list_targets_by_rule(Rule=rule["Name"], EventBusName=work.bus)["Targets"]
            for target in targets:
                try:
                    self._to_target(work, rule, target)
                except Exception as error:  # one target's trouble must not keep the event from the others
                    with self._lock:
                        self.problems.append(f"event {event.get('id')} to {target.get('Arn')}: {error!r}")

    def _count(self, rule_arn: str, metric: str) -> None:
        with self._lock:
            self._metrics[rule_arn][metric] += 1

    def _to_target(self, work: _Work, rule: Mapping[str, Any], target: Mapping[str, Any]) -> None:
        rule_arn, event = str(rule["Arn"]), work.event
        payload = render(target, event, rule_arn=rule_arn, rule_name=str(rule["Name"]))
        target_arn = str(target["Arn"])
        self._count(rule_arn, "Invocations")
        try:
            service = target_arn.split(":")[2]
            if service == "sqs":
                self._to_queue(target_arn, payload, rule_arn, target, event)
            elif service == "lambda":
                self._to_function(target_arn, payload, rule_arn)
            elif service == "events" and ":event-bus/" in target_arn:
                self._to_bus(target_arn, target, event)
            else:
                raise DeliveryError("NotEmulated", f"localdeploy does not deliver to targets like {target_arn}")
        except DeliveryError as error:
            self._count(rule_arn, "FailedInvocations")
            dead_letter = self._dead_letter(target, payload, rule_arn, error)
            self._record(
                Delivery(
                    event["id"],
                    rule_arn,
                    str(target["Id"]),
                    target_arn,
                    payload,
                    False,
                    error.code,
                    str(error),
                    dead_letter,
                )
            )
            return
        self._record(Delivery(event["id"], rule_arn, str(target["Id"]), target_arn, payload, True))

    def _record(self, delivery: Delivery) -> None:
        with self._lock:
            self.deliveries.append(delivery)

    def _queue_allows(self, queue_arn: str, rule_arn: str) -> str:
        """The queue's URL when its policy lets EventBridge send for ``rule_arn``; raises DeliveryError if not."""
        region = queue_arn.split(":")[3]
        sqs = self._client("sqs", region)
        try:
            url = str(sqs.get_queue_url(QueueName=queue_name_from(queue_arn))["QueueUrl"])
            found = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["Policy"]).get("Attributes", {})
            policy = found.get("Policy")
        except ClientError:
            raise DeliveryError(
                "AWS.SimpleQueueService.NonExistentQueue", "The specified queue does not exist."
            ) from None
        # EventBridge calls SQS over TLS: a policy that denies insecure transport (CDK's enforceSSL) lets it in.
        context = {"aws:SourceArn": [rule_arn], "aws:SourceAccount": [self.account_id], "aws:SecureTransport": ["true"]}
        if not allows(policy, EVENTS_PRINCIPAL, "sqs:SendMessage", queue_arn, context):
            raise DeliveryError(
                "AccessDenied", "Access to the resource is denied: the queue policy does not allow events.amazonaws.com"
            )
        return url

    def _to_queue(
        self, queue_arn: str, payload: str, rule_arn: str, target: Mapping[str, Any], event: Mapping[str, Any]
    ) -> None:
        url = self._queue_allows(queue_arn, rule_arn)
        arguments: dict[str, Any] = {"QueueUrl": url, "MessageBody": payload}
        if queue_arn.endswith(".fifo"):
            group = (target.get("SqsParameters") or {}).get("MessageGroupId")
            if not group:
                raise DeliveryError("InvalidParameterValue", "The request must contain the parameter MessageGroupId.")
            arguments.update(MessageGroupId=str(group), MessageDeduplicationId=str(event["id"]))
        self._client("sqs", queue_arn.split(":")[3]).send_message(**arguments)

    def _to_function(self, function_arn: str, payload: str, rule_arn: str) -> None:
        if self.functions.config(unqualified(function_arn)) is None:
            raise DeliveryError("ResourceNotFoundException", f"Function not found: {function_arn}")
        context = {"AWS:SourceArn": [rule_arn], "AWS:SourceAccount": [self.account_id]}
        if not self.permissions.allows(function_arn, EVENTS_PRINCIPAL, "lambda:InvokeFunction", context):
            raise DeliveryError(
                "AccessDeniedException",
                f"events.amazonaws.com is not authorized to perform: lambda:InvokeFunction on resource: {function_arn}",
            )
        try:
            invocation = self.functions.invoke_event(unqualified(function_arn), payload.encode())
        except FunctionNotFoundError as error:
            raise DeliveryError("ResourceNotFoundException", str(error)) from None
        with self._lock:
            self._invocations.append(invocation)

    def _to_bus(self, bus_arn: str, target: Mapping[str, Any], event: Mapping[str, Any]) -> None:
        role = str(target.get("RoleArn") or "")
        if not role:
            raise DeliveryError("AccessDenied", f"A RoleArn is required to send events to {bus_arn}")
        if self.policies is not None:
            policy = self.policies.policy(role)
            if policy is None or not policy.allowed("events:PutEvents", bus_arn):
                raise DeliveryError(
                    "AccessDenied", f"{role} is not authorized to perform: events:PutEvents on {bus_arn}"
                )
        region, bus = bus_arn.split(":")[3], bus_arn.rsplit("/", 1)[-1]
        self._enqueue(_Work(json.loads(json.dumps(event)), region, bus))

    def _dead_letter(self, target: Mapping[str, Any], payload: str, rule_arn: str, error: DeliveryError) -> str:
        queue_arn = (target.get("DeadLetterConfig") or {}).get("Arn")
        if not queue_arn:
            return ""
        try:
            url = self._queue_allows(str(queue_arn), rule_arn)
            self._client("sqs", str(queue_arn).split(":")[3]).send_message(
                QueueUrl=url,
                MessageBody=payload,
                MessageAttributes={
                    name: {"DataType": "String", "StringValue": value}
                    for name, value in {
                        "RULE_ARN": rule_arn,
                        "TARGET_ARN": str(target["Arn"]),
                        "ERROR_CODE": error.code,
                        "ERROR_MESSAGE": str(error)[:256],
                        "RETRY_ATTEMPTS": "0",
                    }.items()
                },
            )
        except (DeliveryError, ClientError):
            self._count(rule_arn, "InvocationsFailedToBeSentToDlq")
            return "failed"
        self._count(rule_arn, "InvocationsSentToDlq")
        return "sent"


def _entry_problem(entry: Mapping[str, Any]) -> tuple[str, str] | None:
    for key in ("Source", "DetailType", "Detail"):
        if not entry.get(key):
            return "InvalidArgument", f"Parameter {key} is not valid. Reason: {key} is a required argument."
    if str(entry["Source"]).startswith("aws."):
        return "NotAuthorizedForSourceException", "Not authorized for the source."
    try:
        detail = json.loads(str(entry["Detail"]))
    except ValueError:
        return "MalformedDetail", "Detail is malformed."
    if not isinstance(detail, dict):
        return "MalformedDetail", "Detail is malformed."
    return None


def _time(value: Any) -> str:
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return datetime.fromtimestamp(value, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return str(value) if value else now_iso()
