"""Lambda entry point of the coverage function: batches of the coverage queue, from an SQS event source mapping.

Each record is one step (:func:`.coverage.handle`). The messages a step leads to are sent to the same queue;
a record that failed, or whose account could not be brought to the rules, is reported back in
``batchItemFailures`` (the mapping has ReportBatchItemFailures), so SQS delivers it again after the queue's
visibility timeout and, after its maxReceiveCount, moves it to the dead-letter queue: a failure that
persists is left there, one message per account. Each account's outcome is one JSON log line (ids, rule,
outcome: never a contact detail), and each batch one CloudWatch Embedded Metric Format line with the counts
per rule (covered, in sync, written, drifted, failed, skipped), which CloudWatch turns into metrics without
any API call.

The rules come from ``coverage-rules.json``, bundled beside this package in the function's deployment
package; the environment names only the queue and the parameter holding the deployed rules' digest.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import time
import uuid
from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Final

from . import coverage
from .clients import client
from .coverage_rules import RULES_FILE, CoverageRules, parse
from .retry import Deadline, RetryPolicy

logger = logging.getLogger(__name__)
logger.setLevel(logging.INFO)

#: The environment: the queue this function feeds, the parameter with the deployed rules' digest, the stack.
QUEUE_URL_VARIABLE: Final = "COVERAGE_QUEUE_URL"
DIGEST_PARAMETER_VARIABLE: Final = "COVERAGE_DIGEST_PARAMETER"
#: The parameter listing the accounts the stack's other resources own (ids resolved at deploy time).
OWNED_PARAMETER_VARIABLE: Final = "COVERAGE_OWNED_PARAMETER"
STACK_VARIABLE: Final = "COVERAGE_STACK"

#: The CloudWatch namespace of the coverage's metrics.
NAMESPACE: Final = "CdkAlternateContacts/Coverage"

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


def metrics_line(stack: str, reports: Sequence[coverage.AccountReport]) -> dict[str, Any]:
    """One Embedded Metric Format document per rule: the counts of this batch's accounts."""
    documents = []
    for rule in sorted({r.rule or "none" for r in reports}):
        counts = Counter(r.outcome for r in reports if (r.rule or "none") == rule)
        covered = sum(counts[o] for o in (coverage.IN_SYNC, coverage.WRITTEN, coverage.DRIFTED, coverage.FAILED))
        values = {
            "Covered": covered,
            "InSync": counts[coverage.IN_SYNC],
            "Written": counts[coverage.WRITTEN],
            "Drifted": counts[coverage.DRIFTED],
            "Failed": counts[coverage.FAILED],
            "Skipped": counts[coverage.SKIPPED],
        }
        documents.append(
            {
                "_aws": {
                    "Timestamp": int(time.time() * 1000),
                    "CloudWatchMetrics": [
                        {
                            "Namespace": NAMESPACE,
                            "Dimensions": [["Stack", "Rule"]],
                            "Metrics": [{"Name": name, "Unit": "Count"} for name in values],
                        }
                    ],
                },
                "Stack": stack,
                "Rule": rule,
                **values,
            }
        )
    return {"metrics": documents}


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
    queue_url = os.environ[QUEUE_URL_VARIABLE]
    digest_parameter = os.environ.get(DIGEST_PARAMETER_VARIABLE)
    stack = os.environ.get(STACK_VARIABLE, "")
    policy = RetryPolicy()
    loaded = rules()
    owned_parameter = os.environ.get(OWNED_PARAMETER_VARIABLE)
    if owned_parameter:
        # The stack's other resources own these accounts as its listed ones: one read per batch.
        owned = {a for a in ssm.get_parameter(Name=owned_parameter)["Parameter"]["Value"].split(",") if a != "-"}
        loaded = dataclasses.replace(loaded, listed=loaded.listed | owned)
    deployed: list[str | None] = []

    def current_digest() -> str | None:
        if not deployed:  # one read per batch
            deployed.append(_digest(ssm, digest_parameter))
        return deployed[0]

    failures: list[dict[str, str]] = []
    reports: list[coverage.AccountReport] = []
    for record in event.get("Records", []):
        message_id = str(record.get("messageId", ""))
        try:
            body = json.loads(record["body"])
            step = coverage.handle(
                clients,
                loaded,
                body,
                deadline=deadline,
                policy=policy,
                current_digest=current_digest,
                new_run=lambda: uuid.uuid4().hex[:12],
            )
            send(sqs, queue_url, step.send)
        except Exception as error:
            logger.warning("message %s: %s; it will be delivered again", message_id, type(error).__name__)
            failures.append({"itemIdentifier": message_id})
            continue
        if step.report is not None:
            reports.append(step.report)
            run = str(body.get("run", "")) if isinstance(body, Mapping) else ""
            logger.info(json.dumps(step.report.log_record(run), separators=(",", ":")))
            if step.report.outcome == coverage.FAILED:
                failures.append({"itemIdentifier": message_id})
    if reports:
        for document in metrics_line(stack, reports)["metrics"]:
            # Printed, not logged: CloudWatch reads an EMF document only when it is the whole log line.
            print(json.dumps(document, separators=(",", ":")), flush=True)
    return {"batchItemFailures": failures}
