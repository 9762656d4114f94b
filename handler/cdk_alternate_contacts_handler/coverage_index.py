"""Lambda entry point of the coverage function: batches of the coverage queue, from an SQS event source mapping.

Each record is one step (:func:`.coverage.handle`), kept in its run's ledger (:mod:`.coverage_ledger`): a
duplicate is dropped, the messages a step leads to are counted in the run before they are sent to the same
queue, and the step is counted finished once. A record that failed, or whose account could not be brought to
the rules, is reported back in ``batchItemFailures`` (the mapping has ReportBatchItemFailures), so SQS
delivers it again after the queue's visibility timeout; on its last delivery (the queue's maxReceiveCount)
its failure is counted in the run, and SQS then moves it to the dead-letter queue: a failure that persists is
left there, one message per account, and the run still ends. Each account's outcome is one JSON log line
(ids, rule, outcome: never a contact detail); the message that ends a run prints the run's one summary line
and its CloudWatch Embedded Metric Format documents (counts per rule: covered, in sync, written, drifted,
failed, skipped), which CloudWatch turns into metrics without any API call.

The rules come from ``coverage-rules.json``, bundled beside this package in the function's deployment
package; the environment names only the queue, the ledger's table, the queue's maxReceiveCount and the
parameters holding the deployed rules' digest and the accounts the stack's other resources own.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import logging
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any, Final

from . import coverage
from .clients import client
from .coverage_events import account_of, is_event
from .coverage_ledger import (
    COUNTING_DELIVERIES,
    ROOT_KEY,
    Finished,
    Ledger,
    Position,
    RunSummary,
    counts_of,
    summary_lines,
)
from .coverage_rules import RULES_FILE, CoverageRules, parse
from .retry import Deadline, RetryPolicy

logger = logging.getLogger(__name__)
logger.setLevel(logging.INFO)


class Variable(StrEnum):
    """The function's environment, as the construct sets it."""

    QUEUE_URL = "COVERAGE_QUEUE_URL"  #: the queue this function feeds
    DIGEST_PARAMETER = "COVERAGE_DIGEST_PARAMETER"  #: the parameter with the deployed rules' digest
    OWNED_PARAMETER = "COVERAGE_OWNED_PARAMETER"  #: the accounts the stack's other resources own (at deploy)
    STACK = "COVERAGE_STACK"  #: the stack's name, for reports
    LEDGER_TABLE = "COVERAGE_LEDGER_TABLE"  #: the run ledger's table
    MAX_RECEIVE_COUNT = "COVERAGE_MAX_RECEIVE_COUNT"  #: the queue's: a record's last delivery counts its failure


#: SendMessageBatch takes at most 10 entries.
SEND_BATCH: Final = 10

#: Seconds kept back at the end of an invocation for sending the next messages and answering the batch.
RESERVE_S: Final = 10.0

_ARN_ACCOUNT_FIELD: Final = 4

_RULES: CoverageRules | None = None


def rules() -> CoverageRules:
    """The bundled rules, read once per execution environment."""
    global _RULES  # noqa: PLW0603 - the cold start's one read
    if _RULES is None:
        path = Path(__file__).resolve().parent.parent / RULES_FILE
        _RULES = parse(json.loads(path.read_text(encoding="utf-8")))
    return _RULES


def _digest(ssm: Any, name: str | None) -> str | None:
    if not name:
        return None
    value: str = ssm.get_parameter(Name=name)["Parameter"]["Value"]
    return value


def send(sqs: Any, queue_url: str, messages: Sequence[Mapping[str, Any]]) -> None:
    """Send ``messages`` to the queue, ten at a time; raises when any entry was refused (the step is retried)."""
    for start in range(0, len(messages), SEND_BATCH):
        chunk = messages[start : start + SEND_BATCH]
        entries = [{"Id": str(i), "MessageBody": json.dumps(m, separators=(",", ":"))} for i, m in enumerate(chunk)]
        failed = sqs.send_message_batch(QueueUrl=queue_url, Entries=entries).get("Failed", [])
        if failed:
            raise RuntimeError(
                f"SendMessageBatch refused {len(failed)} of {len(entries)} messages: {failed[0].get('Code')}"
            )


@dataclass(frozen=True)
class Delivery:
    """Which delivery of its message a record is, against the queue's maxReceiveCount (``None``: no dead-letter
    queue, every delivery works)."""

    count: int
    max_receive_count: int | None

    @classmethod
    def of(cls, record: Mapping[str, Any], max_receive_count: int | None) -> Delivery:
        attributes = record.get("attributes")
        count = attributes.get("ApproximateReceiveCount", "1") if isinstance(attributes, Mapping) else "1"
        return cls(int(count) if str(count).isdigit() else 1, max_receive_count)

    @property
    def working(self) -> int | None:
        """How many deliveries do the work (the rest only count a message their last working one left)."""
        if self.max_receive_count is None:
            return None
        return max(1, self.max_receive_count - COUNTING_DELIVERIES)

    @property
    def last_working(self) -> bool:
        """The last delivery that does the work: a failure of the work is counted here."""
        return self.working is not None and self.count >= self.working

    @property
    def counting(self) -> bool:
        """A delivery after the last working one: it does no work, it only counts the message failed."""
        return self.working is not None and self.count > self.working


def _failed_for_good(
    body: Mapping[str, Any], why: str, rule_of: Callable[[Sequence[str]], str] | None
) -> coverage.AccountReport | None:
    """The report of a message that failed for good: its account failed (an ``apply``, an account event), under
    its rule when the message carries its path, or ``None`` for a step without an account (a page, a start:
    counted incomplete)."""
    account = body.get("account") if body.get("action") == "apply" else None
    if is_event(body):
        account = account_of(body)[0]
    if not isinstance(account, str) or not account:
        return None
    path = body.get("path")
    rule = rule_of([str(unit) for unit in path]) if rule_of is not None and isinstance(path, list) else ""
    return coverage.AccountReport(account, coverage.FAILED, rule=rule, why=why)


def _print_summary(summary: RunSummary | None) -> None:
    if summary is not None:
        for line in summary_lines(summary):
            # Printed, not logged: CloudWatch reads an EMF document only when it is the whole log line.
            print(line, flush=True)


def _claim_summary(ledger: Ledger, position: Position) -> None:
    """Claim and print the run's summary if it ended. The message is counted already: an error here is
    logged, never a reason to deliver the message again."""
    try:
        summary = ledger.claim_summary(position.run)
    except Exception as error:  # the record is counted: whatever the claim raised, it is done
        logger.warning("run %s: claiming its summary failed (%s)", position.run, type(error).__name__)
        return
    _print_summary(summary)


def handle_record(
    record: Mapping[str, Any],
    ledger: Ledger,
    work: Callable[[Mapping[str, Any], str], coverage.Step],
    send_children: Callable[[Sequence[Mapping[str, Any]]], None],
    *,
    stack: str,
    max_receive_count: int | None,
    rule_of: Callable[[Sequence[str]], str] | None = None,
) -> bool:
    """One record, in the ledger's order (:mod:`.coverage_ledger`); False when it is to be delivered again
    (or, past its last delivery, moved to the dead-letter queue).

    Raises
    ------
    Exception
        Whatever the work or a call raised: the record is delivered again. On the record's last working
        delivery the work's error is counted instead, as a failed account or an incomplete step, so that the
        run still ends; a counting delivery counts a message its last working delivery left uncounted.
        ``rule_of`` names the rule a failed account on a known path is counted under.
    """
    body = json.loads(record["body"])
    if not isinstance(body, Mapping):
        raise ValueError("a coverage message is a JSON object")
    message_id = str(record.get("messageId", ""))
    delivery = Delivery.of(record, max_receive_count)
    position = Position.of(body, message_id)
    finished = ledger.finished_as(position)
    reason = coverage.reason_of(body)
    if finished is Finished.FAILED and not delivery.counting:
        # Counted failed for good, and not one of its counting deliveries: moved back from the dead-letter
        # queue (a redrive gets a new messageId). Its run ended counting it failed; the redrive is a run of
        # its own, so that neither run counts anything twice.
        reason = f"redrive of {position.key} of run {position.run}"
        position = Position(message_id, ROOT_KEY)
        finished = ledger.finished_as(position)
    if finished is not None:
        # A copy of this message was finished; the copy that did may have stopped before claiming the summary.
        # A message counted failed goes on to the dead-letter queue.
        _claim_summary(ledger, position)
        return finished is Finished.DONE
    # An account's apply sends nothing: reading its sent-marker would be one DynamoDB call per account for nothing.
    recorded = ledger.recorded_children(position) if position.may_send else None
    if recorded is not None:
        # A copy recorded its children and stopped before finishing: they are sent as recorded, whatever the
        # work would answer now (it only reads, for a message with children).
        send_children(recorded)
        ledger.finish(position, counts_of(None))
        _claim_summary(ledger, position)
        return True
    if delivery.counting:
        # Its last working delivery ended before counting it (a timeout, a dying environment): counted failed
        # now, without the work, and passed on to the dead-letter queue.
        why = "its last working delivery ended before it was counted"
        step = coverage.Step(report=_failed_for_good(body, why, rule_of))
        incomplete = step.report is None
    else:
        try:
            step = work(body, position.run)
        except Exception as error:
            if not delivery.last_working:
                raise
            step = coverage.Step(report=_failed_for_good(body, f"{type(error).__name__} on the last delivery", rule_of))
            incomplete = step.report is None
        else:
            incomplete = False
    report = step.report
    if position.key == ROOT_KEY:
        if report is None and not step.send and not incomplete:
            # An ignored event: nothing to do, so no run (and no empty summary).
            logger.info("message %s: nothing to do, deleted without a run", position.run)
            return True
        ledger.begin(position, stack=stack, reason=reason)
    if report is not None and report.outcome == coverage.FAILED and not delivery.last_working:
        logger.warning(
            "account %s failed (delivery %d of %s): %s; it will be delivered again",
            report.account_id,
            delivery.count,
            delivery.working or "unlimited",
            report.why,
        )
        return False
    if step.send:
        send_children(ledger.record_children(position, step.send))
    failed = incomplete or (report is not None and report.outcome == coverage.FAILED)
    counted = ledger.finish(position, counts_of(report, incomplete=incomplete), failed=failed)
    if report is not None and counted:
        logger.info(json.dumps(report.log_record(position.run), separators=(",", ":")))
    _claim_summary(ledger, position)
    return not failed


def handler(event: Mapping[str, Any], context: Any) -> dict[str, Any]:
    """Handle one batch of the coverage queue; returns the records to deliver again."""
    deadline = Deadline(context.get_remaining_time_in_millis, reserve_s=RESERVE_S)
    call_timeout = max(1.0, min(10.0, deadline.seconds_left() / 2))
    clients = coverage.Clients(
        account=client("account", call_timeout),
        organizations=client("organizations", call_timeout),
        caller_account=context.invoked_function_arn.split(":")[_ARN_ACCOUNT_FIELD],
    )
    sqs, ssm = client("sqs", call_timeout), client("ssm", call_timeout)
    queue_url = os.environ[Variable.QUEUE_URL]
    digest_parameter = os.environ.get(Variable.DIGEST_PARAMETER)
    stack = os.environ.get(Variable.STACK, "")
    max_receive_count = int(os.environ.get(Variable.MAX_RECEIVE_COUNT) or 0) or None
    policy = RetryPolicy()
    ledger = Ledger(client("dynamodb", call_timeout), os.environ[Variable.LEDGER_TABLE], deadline, policy)
    owned_parameter = os.environ.get(Variable.OWNED_PARAMETER)

    @functools.cache
    def batch_rules() -> CoverageRules:
        """The rules, with the accounts the stack's other resources own as listed ones: read once per batch, at
        its first work, so that a batch whose parameter cannot be read still counts what needs no work."""
        loaded = rules()
        if owned_parameter:
            value = ssm.get_parameter(Name=owned_parameter)["Parameter"]["Value"]
            owned = {a for a in value.split(",") if a != "-"}
            loaded = dataclasses.replace(loaded, listed=loaded.listed | owned)
        return loaded

    deployed: list[str | None] = []

    def current_digest() -> str | None:
        if not deployed:  # one read per batch
            deployed.append(_digest(ssm, digest_parameter))
        return deployed[0]

    def work(body: Mapping[str, Any], run: str) -> coverage.Step:
        return coverage.handle(
            clients,
            batch_rules(),
            body,
            deadline=deadline,
            policy=policy,
            current_digest=current_digest,
            new_run=lambda: run,
        )

    failures: list[dict[str, str]] = []
    for record in event.get("Records", []):
        message_id = str(record.get("messageId", ""))
        try:
            done = handle_record(
                record,
                ledger,
                work,
                lambda children: send(sqs, queue_url, children),
                stack=stack,
                max_receive_count=max_receive_count,
                rule_of=lambda path: rules().rule_of(path),
            )
        except Exception as error:
            logger.warning("message %s: %s; it will be delivered again", message_id, type(error).__name__)
            done = False
        if not done:
            failures.append({"itemIdentifier": message_id})
    return {"batchItemFailures": failures}
