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
import json
import logging
import os
from collections.abc import Callable, Mapping, Sequence
from enum import StrEnum
from pathlib import Path
from typing import Any, Final

from . import coverage
from .clients import client
from .coverage_events import account_of, is_event
from .coverage_ledger import ROOT_KEY, Finished, Ledger, Position, RunSummary, counts_of, summary_lines
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


def _receive_count(record: Mapping[str, Any]) -> int:
    attributes = record.get("attributes")
    count = attributes.get("ApproximateReceiveCount", "1") if isinstance(attributes, Mapping) else "1"
    return int(count) if str(count).isdigit() else 1


def _failed_for_good(body: Mapping[str, Any], error: Exception) -> coverage.AccountReport | None:
    """The report of a message whose work raised on its last delivery: its account failed (an ``apply``, an
    account event), or ``None`` for a step without an account (a page, a start: counted incomplete)."""
    account = body.get("account") if body.get("action") == "apply" else None
    if is_event(body):
        account = account_of(body)[0]
    if not isinstance(account, str) or not account:
        return None
    return coverage.AccountReport(account, coverage.FAILED, why=f"{type(error).__name__} on the last delivery")


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
) -> bool:
    """One record, in the ledger's order (:mod:`.coverage_ledger`); False when it is to be delivered again
    (or, on its last delivery, left to the dead-letter queue).

    Raises
    ------
    Exception
        Whatever the work or a call raised: the record is delivered again. On the record's last delivery
        (``ApproximateReceiveCount`` at the queue's ``maxReceiveCount``) the work's error is counted instead,
        as a failed account or an incomplete step, so that the run still ends.
    """
    body = json.loads(record["body"])
    if not isinstance(body, Mapping):
        raise ValueError("a coverage message is a JSON object")
    position = Position.of(body, str(record.get("messageId", "")))
    finished = ledger.finished_as(position)
    if finished is Finished.DONE:
        # A copy of this message was finished; the copy that did may have stopped before claiming the summary.
        _claim_summary(ledger, position)
        return True
    # An account's apply sends nothing: reading its sent-marker would be one DynamoDB call per account for nothing.
    recorded = ledger.recorded_children(position) if position.may_send else None
    if recorded is not None:
        # A copy recorded its children and stopped before finishing: they are sent as recorded, whatever the
        # work would answer now (it only reads, for a message with children).
        send_children(recorded)
        ledger.finish(position, counts_of(None))
        _claim_summary(ledger, position)
        return True
    # Finished.FAILED: sent back from the dead-letter queue after the run counted it failed; the work is done
    # again (its account gets the rules), its counts are the run's already.
    redriven = finished is Finished.FAILED
    receive_count = _receive_count(record)
    last = max_receive_count is not None and receive_count >= max_receive_count
    try:
        step = work(body, position.run)
    except Exception as error:
        if not last:
            raise
        step = coverage.Step(report=_failed_for_good(body, error))
        incomplete = step.report is None
    else:
        incomplete = False
    report = step.report
    if position.key == ROOT_KEY:
        if report is None and not step.send and not incomplete:
            # An ignored event: nothing to do, so no run (and no empty summary).
            logger.info("message %s: nothing to do, deleted without a run", position.run)
            return True
        ledger.begin(position, stack=stack, reason=coverage.reason_of(body))
    if report is not None and report.outcome == coverage.FAILED and not last:
        logger.warning(
            "account %s failed (delivery %d of %s): %s; it will be delivered again",
            report.account_id,
            receive_count,
            max_receive_count or "unlimited",
            report.why,
        )
        return False
    if step.send:
        send_children(ledger.record_children(position, step.send))
    failed = incomplete or (report is not None and report.outcome == coverage.FAILED)
    counted = ledger.finish(position, counts_of(report, incomplete=incomplete), failed=failed)
    if report is not None and (counted or redriven):
        line = report.log_record(position.run) | ({"redriven": True} if redriven else {})
        logger.info(json.dumps(line, separators=(",", ":")))
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
    loaded = rules()
    owned_parameter = os.environ.get(Variable.OWNED_PARAMETER)
    if owned_parameter:
        # The stack's other resources own these accounts as its listed ones: one read per batch.
        owned = {a for a in ssm.get_parameter(Name=owned_parameter)["Parameter"]["Value"].split(",") if a != "-"}
        loaded = dataclasses.replace(loaded, listed=loaded.listed | owned)
    deployed: list[str | None] = []

    def current_digest() -> str | None:
        if not deployed:  # one read per batch
            deployed.append(_digest(ssm, digest_parameter))
        return deployed[0]

    def work(body: Mapping[str, Any], run: str) -> coverage.Step:
        return coverage.handle(
            clients, loaded, body, deadline=deadline, policy=policy, current_digest=current_digest, new_run=lambda: run
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
            )
        except Exception as error:
            logger.warning("message %s: %s; it will be delivered again", message_id, type(error).__name__)
            done = False
        if not done:
            failures.append({"itemIdentifier": message_id})
    return {"batchItemFailures": failures}
