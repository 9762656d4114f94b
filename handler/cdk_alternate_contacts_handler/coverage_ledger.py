"""The run ledger: a countdown latch per coverage run in a DynamoDB table, so a run that spans many invocations
knows when it ends and reports once.

A run's item (sort key ``run``) holds ``pending``, the run's messages not yet finished, and one counter per
rule and outcome (``count/<rule>/<outcome>``). A run starts with ``pending`` 1 for the message that starts it
(its SQS messageId is the run's id: a redelivered start is the same run). Every message of a run has a
deterministic key (``start``, ``list/<unit>/<page>``, ``apply/<account>/<the page that listed it>``), and
each message is handled in this order, which holds under SQS's at-least-once delivery, redelivery after a
partial batch failure, concurrent batches and a crash between any two calls:

1. its done-marker (``done/<key>``) exists: a duplicate, nothing to do (but try step 6: the copy that
   finished may have crashed before it); unless the marker says it failed for good: then it is either one
   of that message's counting deliveries (below), which only passes it on to the dead-letter queue, or a
   copy moved back from the dead-letter queue (a redrive: SQS gives it a new messageId), which is the first
   message of a run of its own, so that the ended run's counts stay what they were and the redrive's work
   is summarized once, on its own; its sent-marker (``sent/<key>``) exists: a copy recorded its children
   and stopped before finishing; the recorded children are sent again and the message is finished (steps 4
   to 6) without its work, which for a message with children (a page, a start) only reads;
2. the work (:func:`.coverage.handle`);
3. before sending its children: one transaction puts the sent-marker (``sent/<key>``, holding the children,
   condition ``attribute_not_exists``) and adds their number to ``pending``: a retried message never adds
   twice, sends the children it recorded the first time, and ``pending`` never reaches 0 while children are
   in flight;
4. the children are sent;
5. one transaction puts the done-marker (condition ``attribute_not_exists``), adds -1 to ``pending`` and the
   message's counts: a message is counted once, whoever of its copies gets there first;
6. the summary is claimed with a conditional UpdateItem (``pending = 0 AND (attribute_not_exists(summarized)
   OR claimant = <this claim's token>)``, ReturnValues ALL_NEW): only the winner prints the run's one log
   line and its metrics, also when the response of its committed claim was lost and the call retried.

The queue delivers a message :data:`WORKING_DELIVERIES` times to be worked and :data:`COUNTING_DELIVERIES`
more (its maxReceiveCount is their sum): a message whose work fails on its last working delivery is counted
failed there; one whose last working delivery ended before counting it (the function timing out, the
environment dying) is counted failed by a counting delivery, which does no work. Either way the message then
goes on to the dead-letter queue and its run still ends. (A second copy of a child, sent again by a parent
that crashed after sending it, is told from a redrive by nothing: arriving after the first copy failed for
good, it is worked as a redrive, in a run of its own, which is what a redrive of it would do.)

The run's item is updated (steps 3, 5, 6) only while it exists (``attribute_exists(started)``): a message of
a run whose item is gone finishes without counting, so a stray message never makes a new run item nor prints
a second summary. Every item expires (TTL attribute ``expires``) :data:`TTL_DAYS` days after it was written:
the queue keeps a message :data:`QUEUE_RETENTION_DAYS` days and the dead-letter queue
:data:`DEAD_LETTER_RETENTION_DAYS` (a redrive starts the message's retention again), so no marker is gone while
a copy of its message may still come.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
import uuid
import zlib
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import Enum
from typing import Any, Final

from botocore.exceptions import ClientError

from . import coverage
from .errors import error_code
from .retry import Deadline, RetryPolicy, call_with_retry

logger = logging.getLogger(__name__)

#: The table's keys: the run's id, and which item of the run (``run``, ``sent/<key>``, ``done/<key>``).
PARTITION_KEY: Final = "run"
SORT_KEY: Final = "item"
#: How long the coverage queue and its dead-letter queue keep a message (the construct's retention periods).
QUEUE_RETENTION_DAYS: Final = 4
DEAD_LETTER_RETENTION_DAYS: Final = 14
#: The TTL attribute (epoch seconds) and how long an item is kept: longer than a message can live, in the
#: queue and then in the dead-letter queue, with a margin of three days.
TTL_ATTRIBUTE: Final = "expires"
TTL_DAYS: Final = QUEUE_RETENTION_DAYS + DEAD_LETTER_RETENTION_DAYS + 3
#: Deliveries of a message that do its work (AWS advises a maxReceiveCount of at least 5 for a Lambda event
#: source, as a throttled invocation uses a delivery up), then deliveries that only count it failed when
#: the last working one ended before counting it. The queue's maxReceiveCount is their sum.
WORKING_DELIVERIES: Final = 5
COUNTING_DELIVERIES: Final = 2

#: Counted outcomes, in the order reports show them, and their metric names.
OUTCOMES: Final = (coverage.IN_SYNC, coverage.WRITTEN, coverage.DRIFTED, coverage.FAILED, coverage.SKIPPED)
_METRICS: Final = {
    coverage.IN_SYNC: "InSync",
    coverage.WRITTEN: "Written",
    coverage.DRIFTED: "Drifted",
    coverage.FAILED: "Failed",
    coverage.SKIPPED: "Skipped",
}
#: Outcomes of an account in the scope (every counted outcome but skipped).
COVERED_OUTCOMES: Final = (coverage.IN_SYNC, coverage.WRITTEN, coverage.DRIFTED, coverage.FAILED)

#: The CloudWatch namespace of the coverage's metrics.
NAMESPACE: Final = "CdkAlternateContacts/Coverage"

#: Counts a step that failed for good without an account (a page of a unit, a start): its accounts were
#: never reached.
INCOMPLETE: Final = "incomplete"

_COUNT_PREFIX: Final = "count/"
_NO_RULE: Final = "none"


def count_attribute(rule: str, outcome: str) -> str:
    """The run item's counter of ``outcome`` under ``rule`` (``none`` for an account no rule was found for)."""
    return f"{_COUNT_PREFIX}{rule or _NO_RULE}/{outcome}"


def counts_of(report: coverage.AccountReport | None, *, incomplete: bool = False) -> dict[str, int]:
    """What one finished message adds to its run's counters."""
    counts = {count_attribute(report.rule, report.outcome): 1} if report is not None else {}
    if incomplete:
        counts[INCOMPLETE] = 1
    return counts


def child_key(parent_key: str, child: Mapping[str, Any]) -> str:
    """The deterministic key of a message sent by the message ``parent_key``.

    A unit's pages are numbered from 0 (units cannot move, so a unit is listed once per run); an ``apply``
    names the page that listed it, so an account moved during a run and listed twice is two messages.
    """
    if child.get("action") == "list":
        return f"list/{child['parent']}/{int(child.get('page') or 0)}"
    if child.get("action") == "apply":
        return f"{APPLY_PREFIX}{child['account']}/{parent_key}"
    digest = hashlib.sha256(json.dumps(child, sort_keys=True).encode()).hexdigest()[:16]
    return f"{child.get('action')}/{digest}/{parent_key}"


#: The run's own item, and the key of the message that starts a run (a ``start``, an event, a hand-over).
RUN_ITEM, ROOT_KEY = "run", "start"
#: How the key of an account's ``apply`` begins: such a message sends nothing, so it never has a sent-marker.
APPLY_PREFIX: Final = "apply/"


class Written(Enum):
    """How a transaction of a message (a marker and the run's item) ended."""

    COMMITTED = "committed"  #: both written
    DUPLICATE = "duplicate"  #: the marker was there already: a copy of the message got there first
    RUN_GONE = "run gone"  #: the run's item is gone (expired): nothing written, the message is not counted


#: Cancellation reasons of a transaction worth another attempt: another writer of the run's item, throttling.
_RETRIED_REASONS: Final = frozenset({"TransactionConflict", "ThrottlingError"})


class Finished(Enum):
    """How a message was finished in its run."""

    DONE = "done"  #: its work was done (or it had none): a copy of it is a duplicate
    FAILED = "failed"  #: counted failed: a later delivery is a counting one, or a redrive (a new messageId)


@dataclass(frozen=True)
class Position:
    """Where one queue message stands in its run: the run's id and the message's key (:data:`ROOT_KEY` for the
    message a run's ``pending`` starts with)."""

    run: str
    key: str

    @classmethod
    def of(cls, body: Mapping[str, Any], message_id: str) -> Position:
        """A message sent by a run carries its ``run`` and ``key``; any other message starts a run of its own."""
        key, run = body.get("key"), body.get("run")
        if isinstance(key, str) and key and isinstance(run, str) and run:
            return cls(run, key)
        return cls(message_id, ROOT_KEY)

    @property
    def may_send(self) -> bool:
        """Whether the message can lead to others (a ``start``, a ``list``, a run's first message): only those
        can have a sent-marker to read."""
        return not self.key.startswith(APPLY_PREFIX)


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _number(value: Mapping[str, str] | None) -> int:
    return int(float(value["N"])) if value and "N" in value else 0


def _text(value: Mapping[str, str] | None) -> str:
    return str(value["S"]) if value and "S" in value else ""


@dataclass
class Ledger:
    """The run ledger in one table (see the module's documentation).

    Parameters
    ----------
    client:
        A DynamoDB client (low level: attribute values as ``{"S": ...}``).
    table:
        The table's name.
    deadline, policy:
        The invocation's deadline and the backoff of throttled calls and transaction conflicts.
    clock:
        Epoch seconds (injected for tests).
    """

    client: Any
    table: str
    deadline: Deadline
    policy: RetryPolicy
    clock: Callable[[], float] = field(default=time.time)

    def _key(self, run: str, item: str) -> dict[str, dict[str, str]]:
        return {PARTITION_KEY: {"S": run}, SORT_KEY: {"S": item}}

    def _expires(self) -> dict[str, str]:
        return {"N": str(int(self.clock()) + TTL_DAYS * 86_400)}

    def _call(self, operation: Callable[[], Any], what: str) -> Any:
        return call_with_retry(operation, what=what, deadline=self.deadline, policy=self.policy)

    def _marker(self, run: str, item: str, **more: Mapping[str, Any]) -> dict[str, Any]:
        return {
            "Put": {
                "TableName": self.table,
                "Item": {**self._key(run, item), TTL_ATTRIBUTE: self._expires(), **more},
                "ConditionExpression": "attribute_not_exists(#item)",
                "ExpressionAttributeNames": {"#item": SORT_KEY},
            }
        }

    def _run_update(self, run: str, adds: Mapping[str, int]) -> dict[str, Any]:
        names = {f"#a{i}": name for i, name in enumerate(adds)}
        values = {f":a{i}": {"N": str(number)} for i, number in enumerate(adds.values())}
        return {
            "Update": {
                "TableName": self.table,
                "Key": self._key(run, RUN_ITEM),
                "UpdateExpression": "ADD " + ", ".join(f"#a{i} :a{i}" for i in range(len(adds))),
                # ADD would make the item anew: a message of a run whose item expired must not.
                "ConditionExpression": "attribute_exists(#started)",
                "ExpressionAttributeNames": {**names, "#started": "started"},
                "ExpressionAttributeValues": values,
            }
        }

    def _transact(self, items: Sequence[Mapping[str, Any]], what: str) -> Written:
        """One transaction of a marker (first) and the run's item (second)."""
        # One token for every attempt: when a committed transaction's response was lost, DynamoDB answers
        # the retry (within ten minutes) as the original success instead of failing the marker's condition.
        token = str(uuid.uuid4())
        attempt = 0
        while True:
            try:
                self._call(
                    lambda: self.client.transact_write_items(TransactItems=list(items), ClientRequestToken=token),
                    what,
                )
                return Written.COMMITTED
            except ClientError as error:
                reasons = [str(r.get("Code")) for r in error.response.get("CancellationReasons", [])]
                if reasons[:1] == ["ConditionalCheckFailed"]:
                    return Written.DUPLICATE
                if reasons[1:2] == ["ConditionalCheckFailed"]:
                    return Written.RUN_GONE
                # Two finishers of one run touch its item at once, or the table is throttled: DynamoDB
                # cancels the transaction, which tries again.
                if not _RETRIED_REASONS.intersection(reasons) or self.deadline.seconds_left() < 2.0:
                    raise
                self.policy.sleep(self.policy.backoff(attempt))
                attempt += 1

    def _run_gone(self, position: Position) -> None:
        logger.warning("run %s has no item (expired): message %s finished without counting", position.run, position.key)

    def finished_as(self, position: Position) -> Finished | None:
        """How a copy of this message was finished already, or ``None`` (a strongly consistent read)."""
        found = self._call(
            lambda: self.client.get_item(
                TableName=self.table, Key=self._key(position.run, f"done/{position.key}"), ConsistentRead=True
            ),
            f"DynamoDB GetItem done/{position.key}",
        )
        if "Item" not in found:
            return None
        return Finished.FAILED if found["Item"].get("failed", {}).get("BOOL") else Finished.DONE

    def begin(self, position: Position, *, stack: str, reason: str) -> None:
        """Make the run's item with ``pending`` 1 (its first message); a redelivered start changes nothing."""
        values = {
            ":one": {"N": "1"},
            ":now": {"N": str(self.clock())},
            ":stack": {"S": stack},
            ":reason": {"S": reason[:200]},
            ":expires": self._expires(),
        }
        self._call(
            lambda: self.client.update_item(
                TableName=self.table,
                Key=self._key(position.run, RUN_ITEM),
                UpdateExpression=(
                    "SET pending = if_not_exists(pending, :one), started = if_not_exists(started, :now), "
                    "stack = if_not_exists(stack, :stack), reason = if_not_exists(reason, :reason), "
                    f"{TTL_ATTRIBUTE} = if_not_exists({TTL_ATTRIBUTE}, :expires)"
                ),
                ExpressionAttributeValues=values,
            ),
            "DynamoDB UpdateItem (the run begins)",
        )

    def recorded_children(self, position: Position) -> list[dict[str, Any]] | None:
        """The children a copy of this message recorded (with their keys), or ``None`` when none did (a
        strongly consistent read of its sent-marker)."""
        marker = f"sent/{position.key}"
        found = self._call(
            lambda: self.client.get_item(
                TableName=self.table, Key=self._key(position.run, marker), ConsistentRead=True
            ),
            f"DynamoDB GetItem {marker}",
        )
        if "Item" not in found:
            return None
        sent: list[dict[str, Any]] = json.loads(zlib.decompress(found["Item"]["children"]["B"]))
        return sent

    def record_children(self, position: Position, children: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
        """Key the children and count them in ``pending`` once; returns the children to send.

        Children with one key are one message (the first of them is kept). A copy of this message that got
        here before recorded its children: those are returned (with their keys) instead of ``children``,
        which may differ when the organization changed in between. A run whose item is gone gets none.
        """
        unique: dict[str, dict[str, Any]] = {}
        for child in children:
            key = child_key(position.key, child)
            unique.setdefault(key, {**child, "run": position.run, "key": key})
        keyed = list(unique.values())
        packed = zlib.compress(json.dumps(keyed, separators=(",", ":")).encode())
        marker = f"sent/{position.key}"
        written = self._transact(
            [
                self._marker(position.run, marker, children={"B": packed}),
                self._run_update(position.run, {"pending": len(keyed)}),
            ],
            f"DynamoDB TransactWriteItems {marker}",
        )
        if written is Written.COMMITTED:
            return keyed
        if written is Written.RUN_GONE:
            self._run_gone(position)
            return []
        return self.recorded_children(position) or []

    def finish(self, position: Position, counts: Mapping[str, int], *, failed: bool = False) -> bool:
        """Count the message finished (``pending`` -1, its counts); False when a copy of it was counted first
        or the run's item is gone. ``failed``: it failed for good (:meth:`finished_as` then says so, for a
        redrive)."""
        written = self._transact(
            [
                self._marker(position.run, f"done/{position.key}", failed={"BOOL": failed}),
                self._run_update(position.run, {"pending": -1, **counts}),
            ],
            f"DynamoDB TransactWriteItems done/{position.key}",
        )
        if written is Written.RUN_GONE:
            self._run_gone(position)
        return written is Written.COMMITTED

    def claim_summary(self, run: str) -> RunSummary | None:
        """The run's summary, for the one caller that sees it end; ``None`` for everyone else.

        The claim carries a token of its own: when its UpdateItem committed but the response was lost, the
        retried call finds its own token and gets the summary still. A transaction on the run's item at the
        same moment cancels the claim, which is tried again.
        """
        values = {
            ":now": {"N": str(self.clock())},
            ":zero": {"N": "0"},
            ":token": {"S": str(uuid.uuid4())},
        }
        attempt = 0
        while True:
            try:
                answer = self._call(
                    lambda: self.client.update_item(
                        TableName=self.table,
                        Key=self._key(run, RUN_ITEM),
                        UpdateExpression="SET summarized = :now, claimant = :token",
                        ConditionExpression=(
                            "attribute_exists(started) AND pending = :zero"
                            " AND (attribute_not_exists(summarized) OR claimant = :token)"
                        ),
                        ExpressionAttributeValues=values,
                        ReturnValues="ALL_NEW",
                    ),
                    "DynamoDB UpdateItem (the run's summary)",
                )
                return RunSummary.of(run, answer["Attributes"])
            except ClientError as error:
                if error_code(error) == "ConditionalCheckFailedException":
                    return None
                if error_code(error) != "TransactionConflictException" or self.deadline.seconds_left() < 2.0:
                    raise
                self.policy.sleep(self.policy.backoff(attempt))
                attempt += 1


@dataclass(frozen=True)
class RunSummary:
    """What one run did: its counts per rule and outcome (ids and numbers only, never a contact detail)."""

    run: str
    stack: str
    reason: str
    started: float
    finished: float
    counts: Mapping[str, Mapping[str, int]]
    incomplete: int = 0

    @classmethod
    def of(cls, run: str, item: Mapping[str, Mapping[str, str]]) -> RunSummary:
        """Read the run's item as the claim returned it."""
        counts: dict[str, dict[str, int]] = {}
        for name, value in item.items():
            if name.startswith(_COUNT_PREFIX):
                rule, outcome = name.removeprefix(_COUNT_PREFIX).rsplit("/", 1)
                counts.setdefault(rule, {})[outcome] = _number(value)
        started = float(item.get("started", {}).get("N", "0"))
        finished = float(item.get("summarized", {}).get("N", "0"))
        stack, reason = _text(item.get("stack")), _text(item.get("reason"))
        return cls(run, stack, reason, started, finished, counts, _number(item.get(INCOMPLETE)))

    def per_rule(self) -> dict[str, dict[str, int]]:
        """Per rule: covered, then each outcome (0 when none)."""
        table = {}
        for rule, found in sorted(self.counts.items()):
            row = {outcome: found.get(outcome, 0) for outcome in OUTCOMES}
            table[rule] = {"covered": sum(row[o] for o in COVERED_OUTCOMES), **row}
        return table

    def totals(self) -> dict[str, int]:
        """The counts of every rule added up."""
        total: Counter[str] = Counter()
        for row in self.per_rule().values():
            total.update(row)
        return {name: total[name] for name in ("covered", *OUTCOMES)}

    def log_record(self) -> dict[str, Any]:
        """The run's one structured log line."""
        return {
            "summary": "coverage run",
            "run": self.run,
            "stack": self.stack,
            "reason": self.reason,
            "started": _iso(self.started),
            "finished": _iso(self.finished),
            "seconds": round(self.finished - self.started, 1),
            "rules": self.per_rule(),
            "totals": self.totals(),
            INCOMPLETE: self.incomplete,
        }

    def metric_documents(self) -> list[dict[str, Any]]:
        """CloudWatch Embedded Metric Format: one document per rule (dimensions Stack, Rule) and one for the
        run (dimension Stack: Runs, RunSeconds, Incomplete)."""
        timestamp = int(self.finished * 1000)
        documents = []
        for rule, row in self.per_rule().items():
            values = {"Covered": row["covered"], **{_METRICS[o]: row[o] for o in OUTCOMES}}
            documents.append(_emf(timestamp, ["Stack", "Rule"], {"Stack": self.stack, "Rule": rule}, values, "Count"))
        run_values = {"Runs": 1, "Incomplete": self.incomplete}
        document = _emf(timestamp, ["Stack"], {"Stack": self.stack}, run_values, "Count")
        document["_aws"]["CloudWatchMetrics"][0]["Metrics"].append({"Name": "RunSeconds", "Unit": "Seconds"})
        document["RunSeconds"] = round(self.finished - self.started, 1)
        documents.append(document)
        return documents


def _emf(
    timestamp: int, dimensions: list[str], labels: Mapping[str, str], values: Mapping[str, int], unit: str
) -> dict[str, Any]:
    return {
        "_aws": {
            "Timestamp": timestamp,
            "CloudWatchMetrics": [
                {
                    "Namespace": NAMESPACE,
                    "Dimensions": [dimensions],
                    "Metrics": [{"Name": name, "Unit": unit} for name in values],
                }
            ],
        },
        **labels,
        **values,
    }


def summary_lines(summary: RunSummary) -> Iterable[str]:
    """The lines the winner prints: the run's log line, then its metric documents (each a whole line, as
    CloudWatch reads Embedded Metric Format only when the document is the whole log line)."""
    yield json.dumps(summary.log_record(), separators=(",", ":"))
    for document in summary.metric_documents():
        yield json.dumps(document, separators=(",", ":"))
