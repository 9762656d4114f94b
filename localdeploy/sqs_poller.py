"""Lambda's SQS pollers: what an enabled ``AWS::Lambda::EventSourceMapping`` on a queue does.

Lambda polls the queue with the function's execution role, gathers a batch, invokes the function
synchronously with an event of ``Records``, and deletes the batch when the invocation succeeds (AWS Lambda
developer guide, "Using Lambda with Amazon SQS": https://docs.aws.amazon.com/lambda/latest/dg/with-sqs.html,
"Handling errors for an SQS event source": https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-errorhandling.html).
Reproduced here:

- polls (ReceiveMessage with long polling, then DeleteMessageBatch) are signed with the function role's key,
  so the IAM front judges them as the role's calls: a role that lost ``sqs:ReceiveMessage`` stops the mapping
  ("PROBLEM: ..." in its last processing result) as on AWS;
- a batch holds up to BatchSize messages, gathered for up to MaximumBatchingWindowInSeconds (10 messages at
  most per ReceiveMessage, as SQS gives them);
- each record has the shape Lambda gives (messageId, receiptHandle, body, attributes with
  ApproximateReceiveCount, messageAttributes with stringValue/stringListValues/binaryListValues/dataType,
  md5OfBody, eventSource ``aws:sqs``, eventSourceARN, awsRegion);
- a function error, a timeout (the function's own Timeout, enforced by the runtime) or a crash deletes
  nothing: the whole batch comes back once its visibility timeout passes, and SQS (moto) moves a message
  to the dead-letter queue once it was received maxReceiveCount times;
- with ReportBatchItemFailures, ``{"batchItemFailures": [{"itemIdentifier": <messageId>}]}`` deletes every
  message but those listed; an empty or null list is a full success; an identifier that is empty, null or
  not in the batch makes the whole batch a failure (services-sqs-errorhandling, "Success and failure
  conditions");
- FilterCriteria: a message that matches no filter is deleted without invoking the function;
- at most ``min(MaximumConcurrency, 5)`` batches at once (Lambda starts with five concurrent batches,
  "Configuring scaling behavior for SQS event source mappings"), fewer if this machine runs fewer
  environments per function; a batch that finds the function at its reserved concurrency is throttled and
  left to come back after the visibility timeout, as Lambda's are.
"""

from __future__ import annotations

import base64
import json
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from botocore.exceptions import ClientError

from .event_pattern import matches
from .functions import Invocation
from .lambda_service import FunctionNotFoundError, FunctionService

#: How many batches Lambda processes at once for a mapping without MaximumConcurrency, at first.
DEFAULT_POLLERS = 5

#: Long polling of each ReceiveMessage (Lambda long-polls; short here so that a stop is quick).
WAIT_S = 1

#: Pause after a failed poll (denied, queue gone, function gone) before the next.
BACKOFF_S = 0.5

BatchOutcome = Literal["deleted", "partial", "failed", "throttled", "filtered"]


@dataclass
class Batch:
    """One batch a poller handled: the messages, what the function answered, what was deleted."""

    message_ids: list[str]
    outcome: BatchOutcome
    deleted: list[str] = field(default_factory=list)
    invocation: Invocation | None = None
    detail: str = ""


@dataclass
class SqsMapping:
    """An event source mapping from an SQS queue to a function (as created by :mod:`.event_source_mapping`).

    Attributes
    ----------
    uuid, arn:
        The mapping's id and ARN.
    queue_arn, queue_url, region:
        The event source.
    function_arn:
        What is invoked (unqualified).
    batch_size, window_s, report_failures, maximum_concurrency, enabled, filters:
        BatchSize, MaximumBatchingWindowInSeconds, ``ReportBatchItemFailures`` in FunctionResponseTypes,
        ScalingConfig.MaximumConcurrency, Enabled, FilterCriteria's patterns (parsed).
    batches:
        Every batch handled, in order.
    last_processing_result:
        As Lambda reports it: ``OK``, ``No records processed`` or ``PROBLEM: ...``.
    """

    uuid: str
    arn: str
    queue_arn: str
    queue_url: str
    region: str
    function_arn: str
    batch_size: int = 10
    window_s: int = 0
    report_failures: bool = False
    maximum_concurrency: int | None = None
    enabled: bool = True
    filters: list[dict[str, Any]] = field(default_factory=list)
    batches: list[Batch] = field(default_factory=list)
    last_processing_result: str = "No records processed"


def sqs_record(message: Mapping[str, Any], mapping: SqsMapping) -> dict[str, Any]:
    """One record of Lambda's SQS event, from a ReceiveMessage answer's message."""
    attributes = {str(k): str(v) for k, v in (message.get("Attributes") or {}).items()}
    message_attributes: dict[str, Any] = {}
    for name, value in (message.get("MessageAttributes") or {}).items():
        entry: dict[str, Any] = {}
        if "StringValue" in value:
            entry["stringValue"] = value["StringValue"]
        if "BinaryValue" in value:
            entry["binaryValue"] = base64.b64encode(value["BinaryValue"]).decode()
        entry["stringListValues"] = list(value.get("StringListValues") or [])
        entry["binaryListValues"] = [base64.b64encode(b).decode() for b in value.get("BinaryListValues") or []]
        entry["dataType"] = value.get("DataType", "String")
        message_attributes[name] = entry
    record: dict[str, Any] = {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message.get("Body", ""),
        "attributes": attributes,
        "messageAttributes": message_attributes,
        "md5OfBody": message.get("MD5OfBody", ""),
    }
    if message.get("MD5OfMessageAttributes"):
        record["md5OfMessageAttributes"] = message["MD5OfMessageAttributes"]
    record.update({"eventSource": "aws:sqs", "eventSourceARN": mapping.queue_arn, "awsRegion": mapping.region})
    return record


def _filter_view(record: Mapping[str, Any]) -> dict[str, Any]:
    """What a filter pattern sees: the record, its body parsed when it is a JSON object (Lambda's rule)."""
    view = dict(record)
    try:
        body = json.loads(str(record.get("body", "")))
    except ValueError:
        body = None
    if isinstance(body, dict):
        view["body"] = body
    return view


def failures_to_keep(response: bytes, batch_ids: list[str]) -> list[str] | None:  # noqa: PLR0911 - per documented case
    """The message ids a ReportBatchItemFailures answer asks to keep; ``None`` when the whole batch failed.

    An empty answer, ``null``, ``{}`` or an empty/null list is a full success; an identifier that is empty,
    null or not in the batch fails the batch (services-sqs-errorhandling, "Success and failure conditions").
    """
    try:
        document = json.loads(response) if response.strip() else None
    except ValueError:
        return None
    if document is None:
        return []
    if not isinstance(document, dict):
        return None
    entries = document.get("batchItemFailures")
    if entries is None:
        return []
    if not isinstance(entries, list):
        return None
    keep: list[str] = []
    for entry in entries:
        identifier = entry.get("itemIdentifier") if isinstance(entry, dict) else None
        if not isinstance(identifier, str) or not identifier or identifier not in batch_ids:
            return None
        keep.append(identifier)
    return keep


@dataclass(eq=False)
class SqsPollers:
    """The pollers of every SQS event source mapping."""

    #: The local Lambda service (invoked synchronously).
    functions: FunctionService
    #: Returns an SQS client of a region signed as a role (``None``: unsigned by any function role), for the
    #: pollers' calls; through the IAM front when IAM is enforced.
    client: Callable[[str, str | None], Any]
    #: Returns an SQS client of a region with the deployer's credentials, for looking at queues (how many
    #: messages are left) without being judged.
    control_client: Callable[[str], Any]
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False)
    _mappings: dict[str, SqsMapping] = field(default_factory=dict, init=False)
    _workers: dict[str, list[threading.Thread]] = field(default_factory=dict, init=False)
    _stops: dict[str, threading.Event] = field(default_factory=dict, init=False)
    _busy: int = field(default=0, init=False)

    # -- the mappings ----------------------------------------------------------------------------------

    def add(self, mapping: SqsMapping) -> None:
        """Start polling for a new mapping (if enabled)."""
        with self._lock:
            self._mappings[mapping.uuid] = mapping
        self._restart(mapping.uuid)

    def update(self, mapping: SqsMapping) -> None:
        """Apply a changed configuration (batch size, function, enabled...); batches in flight finish first."""
        with self._lock:
            known = self._mappings.get(mapping.uuid)
            if known is not None:
                mapping.batches = known.batches
            self._mappings[mapping.uuid] = mapping
        self._restart(mapping.uuid)

    def remove(self, uuid: str) -> None:
        """Stop polling and forget the mapping (a batch in flight finishes)."""
        self._stop_workers(uuid)
        with self._lock:
            self._mappings.pop(uuid, None)

    def get(self, uuid: str) -> SqsMapping | None:
        """The mapping ``uuid``, if it exists."""
        with self._lock:
            return self._mappings.get(uuid)

    def mappings(self) -> list[SqsMapping]:
        """Every mapping."""
        with self._lock:
            return list(self._mappings.values())

    def stop(self) -> None:
        """Stop every poller (the cloud is shutting down or being reset)."""
        with self._lock:
            uuids = list(self._mappings)
        for uuid in uuids:
            self._stop_workers(uuid)
        with self._lock:
            self._mappings.clear()

    def pending(self) -> list[str]:
        """What is not done yet: batches being processed, messages left in enabled mappings' queues."""
        with self._lock:
            busy = self._busy
            mappings = [m for m in self._mappings.values() if m.enabled]
        found = [f"{busy} batch(es) being processed"] if busy else []
        for mapping in mappings:
            try:
                attributes = self.control_client(mapping.region).get_queue_attributes(
                    QueueUrl=mapping.queue_url,
                    AttributeNames=[
                        "ApproximateNumberOfMessages",
                        "ApproximateNumberOfMessagesNotVisible",
                        "ApproximateNumberOfMessagesDelayed",
                    ],
                )["Attributes"]
            except ClientError:
                continue  # the queue is gone: nothing will be processed
            left = sum(int(v) for v in attributes.values())
            if left:
                problem = mapping.last_processing_result
                detail = f" (last processing result: {problem})" if problem.startswith("PROBLEM") else ""
                found.append(f"{left} message(s) in {mapping.queue_arn}{detail}")
        return found

    # -- polling ---------------------------------------------------------------------------------------

    def _restart(self, uuid: str) -> None:
        self._stop_workers(uuid)
        with self._lock:
            mapping = self._mappings.get(uuid)
            if mapping is None or not mapping.enabled:
                return
            stop = threading.Event()
            count = min(mapping.maximum_concurrency or DEFAULT_POLLERS, DEFAULT_POLLERS, self.functions.max_concurrency)
            workers = [
                threading.Thread(target=self._poll, args=(uuid, stop), name=f"sqs-poller {uuid[:8]}", daemon=True)
                for _ in range(max(count, 1))
            ]
            self._stops[uuid], self._workers[uuid] = stop, workers
        for worker in workers:
            worker.start()

    def _stop_workers(self, uuid: str) -> None:
        with self._lock:
            stop = self._stops.pop(uuid, None)
            workers = self._workers.pop(uuid, [])
        if stop is not None:
            stop.set()
        for worker in workers:
            worker.join(timeout=60)

    def _poll(self, uuid: str, stop: threading.Event) -> None:
        while not stop.is_set():
            with self._lock:
                mapping = self._mappings.get(uuid)
            if mapping is None:
                return
            try:
                handled = self._one_batch(mapping, stop)
            except Exception as error:  # a poller must survive anything and report it, as Lambda's do
                mapping.last_processing_result = f"PROBLEM: {error}"
                handled = False
            if not handled:
                stop.wait(BACKOFF_S)

    def _one_batch(self, mapping: SqsMapping, stop: threading.Event) -> bool:
        """Receive one batch and process it; False when nothing could be received (backoff)."""
        config = self.functions.config(mapping.function_arn)
        if config is None:
            mapping.last_processing_result = f"PROBLEM: Function not found: {mapping.function_arn}"
            return False
        client = self.client(mapping.region, config.role_arn or None)
        messages = self._receive(client, mapping, stop)
        if messages is None:
            return False
        if not messages:
            return True  # long polling already waited
        with self._lock:
            self._busy += 1
        try:
            self._process(client, mapping, messages)
        finally:
            with self._lock:
                self._busy -= 1
        return True

    def _receive(self, client: Any, mapping: SqsMapping, stop: threading.Event) -> list[dict[str, Any]] | None:
        messages: list[dict[str, Any]] = []
        deadline = time.monotonic() + mapping.window_s
        while not stop.is_set() and len(messages) < mapping.batch_size:
            try:
                answer = client.receive_message(
                    QueueUrl=mapping.queue_url,
                    MaxNumberOfMessages=min(10, mapping.batch_size - len(messages)),
                    WaitTimeSeconds=WAIT_S if not messages else 0,
                    MessageSystemAttributeNames=["All"],
                    MessageAttributeNames=["All"],
                )
            except ClientError as error:
                details = error.response.get("Error", {})
                mapping.last_processing_result = f"PROBLEM: {details.get('Code')}: {details.get('Message')}"
                return messages or None
            received = answer.get("Messages") or []
            messages.extend(received)
            if time.monotonic() >= deadline or (not received and mapping.window_s == 0):
                break
            if not received:
                stop.wait(0.1)
        return messages

    def _process(self, client: Any, mapping: SqsMapping, messages: list[dict[str, Any]]) -> None:
        records = [sqs_record(message, mapping) for message in messages]
        ids = [r["messageId"] for r in records]
        if mapping.filters:
            dropped = [r for r in records if not any(matches(p, _filter_view(r)) for p in mapping.filters)]
            if dropped:
                self._delete(client, mapping, dropped)
                mapping.batches.append(
                    Batch([r["messageId"] for r in dropped], "filtered", [r["messageId"] for r in dropped])
                )
            records = [r for r in records if r not in dropped]
            ids = [r["messageId"] for r in records]
            if not records:
                return
        config = self.functions.config(mapping.function_arn)
        if config is None:
            mapping.last_processing_result = f"PROBLEM: Function not found: {mapping.function_arn}"
            return
        reserved = config.reserved_concurrency
        try:
            pool = self.functions.pool(mapping.function_arn)
        except FunctionNotFoundError:
            return
        if reserved is not None and pool.in_flight() >= reserved:
            # Throttled: Lambda keeps the batch invisible; it comes back after the visibility timeout.
            mapping.batches.append(Batch(ids, "throttled", detail="Rate Exceeded."))
            return
        invocation = self.functions.invoke(mapping.function_arn, json.dumps({"Records": records}).encode())
        invocation.wait(config.timeout_s + 30)
        attempt = invocation.attempts[-1] if invocation.attempts else None
        if attempt is None or attempt.outcome != "success":
            detail = f"{attempt.error_type}: {attempt.error_message}" if attempt else "not run"
            mapping.batches.append(Batch(ids, "failed", invocation=invocation, detail=detail))
            mapping.last_processing_result = "OK"
            return
        keep: list[str] | None = []
        if mapping.report_failures:
            keep = failures_to_keep(attempt.response, ids)
        if keep is None:
            mapping.batches.append(Batch(ids, "failed", invocation=invocation, detail="invalid batchItemFailures"))
            mapping.last_processing_result = "OK"
            return
        done = [r for r in records if r["messageId"] not in keep]
        deleted = self._delete(client, mapping, done)
        mapping.batches.append(Batch(ids, "partial" if keep else "deleted", deleted, invocation))
        mapping.last_processing_result = "OK"

    def _delete(self, client: Any, mapping: SqsMapping, records: list[dict[str, Any]]) -> list[str]:
        deleted: list[str] = []
        for start in range(0, len(records), 10):
            chunk = records[start : start + 10]
            try:
                answer = client.delete_message_batch(
                    QueueUrl=mapping.queue_url,
                    Entries=[{"Id": str(i), "ReceiptHandle": r["receiptHandle"]} for i, r in enumerate(chunk)],
                )
            except ClientError as error:
                details = error.response.get("Error", {})
                mapping.last_processing_result = f"PROBLEM: {details.get('Code')}: {details.get('Message')}"
                continue
            for success in answer.get("Successful") or []:
                deleted.append(chunk[int(success["Id"])]["messageId"])
        return deleted
