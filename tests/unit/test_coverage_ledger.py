"""The run ledger (coverage_ledger.py) and its order per record (coverage_index.handle_record), against moto's
DynamoDB in-process: duplicates, redelivery after a crash, racing finishers, a failure on its last delivery.

The work is a fake organization here (the coverage's own work is test_coverage.py's): what is under test is
that every run ends with exactly one summary whose counts are the accounts' own lines, however SQS delivers.
moto checks the conditions of a transaction and of an UpdateItem as DynamoDB does; it never cancels a
transaction or an UpdateItem for a conflict or throttling, nor keeps a transaction's ClientRequestToken, so
those are botocore's Stubber. A response lost after its call committed is a botocore hook raising after
moto answered.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import boto3
import pytest
from botocore.exceptions import ConnectionClosedError
from botocore.stub import Stubber
from cfn_events import FakeTime
from ledger_table import create_ledger_table
from moto import mock_aws

from cdk_alternate_contacts_handler import coverage
from cdk_alternate_contacts_handler.coverage_index import handle_record
from cdk_alternate_contacts_handler.coverage_ledger import COUNTING_DELIVERIES, RUN_ITEM, Ledger, Position

#: 2026-01-01T00:00:00Z
EPOCH = 1_767_225_600.0
#: The queue's maxReceiveCount: three deliveries that work, then coverage_ledger.COUNTING_DELIVERIES that count.
MAX_RECEIVE_COUNT = 5
WORKING = MAX_RECEIVE_COUNT - COUNTING_DELIVERIES


class InvocationEnded(BaseException):
    """The function's timeout, or its environment dying: the invocation ends in the middle of a record."""


#: The fake organization: what each parent holds (accounts, units), and each account's rule and outcome.
UNITS = {"r-root": (["111111111111"], ["ou-pay"]), "ou-pay": (["222222222222", "333333333333"], [])}
RULES = {"111111111111": "defaults", "222222222222": "ou-pay", "333333333333": "ou-pay"}


@dataclass
class Organization:
    """The work of each message, as :func:`.coverage.handle` returns it, over :data:`UNITS`."""

    outcomes: dict[str, str] = field(default_factory=dict)
    failing_lists: set[str] = field(default_factory=set)
    #: Messages (an account, a unit, an action) whose work the invocation's end cuts off, at every delivery.
    dying: set[str] = field(default_factory=set)
    calls: list[str] = field(default_factory=list)
    units: dict[str, tuple[list[str], list[str]]] = field(default_factory=lambda: dict(UNITS))

    def work(self, body: Mapping[str, Any], run: str) -> coverage.Step:
        action = body.get("action")
        name = str(body.get("account") or body.get("parent") or action)
        self.calls.append(name)
        if name in self.dying:
            raise InvocationEnded
        if action == "ignored":  # an event without an account
            return coverage.Step()
        if action == "start":
            return coverage.Step(send=[{"action": "list", "parent": "r-root", "path": [], "run": run}])
        if action == "list":
            if body["parent"] in self.failing_lists:
                raise RuntimeError("ListAccountsForParent keeps failing")
            accounts, units = self.units.get(body["parent"], ([], []))
            return coverage.Step(
                send=[{"action": "apply", "account": a, "path": list(body["path"]), "run": run} for a in accounts]
                + [{"action": "list", "parent": u, "path": [u], "run": run} for u in units]
            )
        account = str(body["account"])
        outcome = self.outcomes.get(account, coverage.WRITTEN)
        return coverage.Step(report=coverage.AccountReport(account, outcome, rule=RULES.get(account, "defaults")))


@dataclass
class Queue:
    """The coverage queue: SQS message ids, receive counts, a dead-letter queue after MAX_RECEIVE_COUNT."""

    waiting: list[dict[str, Any]] = field(default_factory=list)
    dead: list[dict[str, Any]] = field(default_factory=list)
    sent: int = 0

    def send(self, bodies: Sequence[Mapping[str, Any]]) -> None:
        for body in bodies:
            self.sent += 1
            self.waiting.append({"id": f"msg-{self.sent}", "body": dict(body), "receives": 0})

    def receive(self) -> tuple[dict[str, Any], dict[str, Any]]:
        message = self.waiting.pop(0)
        message["receives"] += 1
        record = {
            "messageId": message["id"],
            "body": json.dumps(message["body"]),
            "attributes": {"ApproximateReceiveCount": str(message["receives"])},
        }
        return message, record

    def give_back(self, message: dict[str, Any]) -> None:
        (self.dead if message["receives"] >= MAX_RECEIVE_COUNT else self.waiting).append(message)

    def redrive(self) -> None:
        """The dead-letter queue moved back, as SQS's redrive does: each message new (a new messageId, its
        receive count restarted)."""
        dead, self.dead = self.dead, []
        self.send([message["body"] for message in dead])


def queue_with_a_start() -> Queue:
    """The queue with a run's first message in it."""
    queue = Queue()
    queue.send([{"action": "start"}])
    return queue


@pytest.fixture
def ledger(fake_time: FakeTime) -> Iterator[Ledger]:
    with mock_aws():
        dynamodb = boto3.client("dynamodb", region_name="us-east-1")
        yield Ledger(
            dynamodb, create_ledger_table(dynamodb), fake_time.deadline(), fake_time.policy(), clock=lambda: EPOCH
        )


def deliver(
    queue: Queue,
    ledger: Ledger,
    organization: Organization,
    *,
    send: Callable[[Sequence[Mapping[str, Any]]], None] | None = None,
) -> None:
    """One receive of the queue's first message, handled as coverage_index handles a record."""
    message, record = queue.receive()
    try:
        done = handle_record(
            record,
            ledger,
            organization.work,
            send or queue.send,
            stack="Org",
            max_receive_count=MAX_RECEIVE_COUNT,
            rule_of=lambda path: path[-1] if path else "defaults",
        )
    except (Exception, InvocationEnded):  # the invocation ended: the record is not deleted
        done = False
    if not done:
        queue.give_back(message)


def drain(queue: Queue, ledger: Ledger, organization: Organization) -> None:
    while queue.waiting:
        deliver(queue, ledger, organization)


def printed(capsys: pytest.CaptureFixture[str]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The summary lines and the EMF documents printed so far."""
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
    return [line for line in lines if "summary" in line], [line for line in lines if "_aws" in line]


#: A rule's row of a summary with nothing counted.
ZERO = {"covered": 0, "in_sync": 0, "written": 0, "drifted": 0, "failed": 0, "skipped": 0}


def run_item(ledger: Ledger, run: str) -> dict[str, Any]:
    """The run's item in the ledger's table."""
    key = {"run": {"S": run}, "item": {"S": RUN_ITEM}}
    item: dict[str, Any] = ledger.client.get_item(TableName=ledger.table, Key=key, ConsistentRead=True)["Item"]
    return item


def account_lines(caplog: pytest.LogCaptureFixture) -> list[dict[str, Any]]:
    return [json.loads(r.getMessage()) for r in caplog.records if r.getMessage().startswith('{"run"')]


@pytest.fixture(autouse=True)
def _logs(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="cdk_alternate_contacts_handler")


def test_a_run_ends_with_one_summary_counting_each_account_under_its_rule(
    ledger: Ledger, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    # GIVEN a start message and an organization whose accounts come out written, in sync and drifted
    organization = Organization(outcomes={"222222222222": coverage.IN_SYNC, "333333333333": coverage.DRIFTED})
    queue = Queue()
    queue.send([{"action": "start", "reason": "schedule"}])
    # WHEN the queue is drained
    drain(queue, ledger, organization)
    # THEN one summary names the run (the start's message id), its reason, and the counts per rule
    (summary,), metrics = printed(capsys)
    assert (summary["run"], summary["stack"], summary["reason"]) == ("msg-1", "Org", "schedule")
    assert summary["started"] == summary["finished"] == "2026-01-01T00:00:00Z"
    empty = dict.fromkeys(("covered", "in_sync", "written", "drifted", "failed", "skipped"), 0)
    assert summary["rules"] == {
        "defaults": {**empty, "covered": 1, "written": 1},
        "ou-pay": {**empty, "covered": 2, "in_sync": 1, "drifted": 1},
    }
    assert summary["totals"] == {**empty, "covered": 3, "in_sync": 1, "written": 1, "drifted": 1}
    assert summary["incomplete"] == 0
    # AND the counts are those of the accounts' own lines, one each, with the run's id
    lines = account_lines(caplog)
    assert sorted((line["account"], line["run"]) for line in lines) == [(a, "msg-1") for a in sorted(RULES)]
    # AND the run's metrics: one document per rule (Stack, Rule) and one for the run (Stack)
    assert [(d.get("Rule"), d.get("Covered"), d.get("Runs")) for d in metrics] == [
        ("defaults", 1, None),
        ("ou-pay", 2, None),
        (None, None, 1),
    ]
    assert {d["_aws"]["CloudWatchMetrics"][0]["Namespace"] for d in metrics} == {"CdkAlternateContacts/Coverage"}
    assert metrics[0]["_aws"]["CloudWatchMetrics"][0]["Dimensions"] == [["Stack", "Rule"]]


def test_every_message_delivered_twice_is_done_once_and_the_run_summarized_once(
    ledger: Ledger, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    # GIVEN SQS delivers every message twice (at-least-once), the second copy after the first is done
    organization = Organization()
    queue = queue_with_a_start()
    while queue.waiting:
        message, _ = queue.receive()
        queue.waiting.insert(0, {**message, "receives": 0})
        queue.waiting.insert(1, {**message, "receives": 0})
        deliver(queue, ledger, organization)
        deliver(queue, ledger, organization)
    # THEN each account was applied once, has one line, and the run one summary counting it once
    assert sorted(c for c in organization.calls if c.isdigit()) == sorted(RULES)
    assert len(account_lines(caplog)) == len(RULES)
    (summary,), _ = printed(capsys)
    assert summary["totals"]["written"] == 3


def stop_at_the_root_page(ledger: Ledger, organization: Organization, *, after_sending: bool) -> Queue:
    """A run whose root page recorded its children (the sent-marker), then the invocation stopped: after
    sending them (before the done transaction), or before sending any."""
    queue = queue_with_a_start()
    deliver(queue, ledger, organization)  # start -> list r-root

    def stop(children: Sequence[Mapping[str, Any]]) -> None:
        if after_sending:
            queue.send(children)
        raise TimeoutError("the invocation timed out")

    deliver(queue, ledger, organization, send=stop)
    return queue


def test_a_page_redelivered_after_sending_its_children_sends_the_same_children_and_counts_them_once(
    ledger: Ledger, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN the root's page is handled: its children counted and sent, then the invocation stops (between
    # sending and the done transaction)
    organization = Organization()
    queue = stop_at_the_root_page(ledger, organization, after_sending=True)
    assert [m["body"]["key"] for m in queue.waiting] == [
        "apply/111111111111/list/r-root/0",
        "list/ou-pay/0",
        "list/r-root/0",  # the page itself, delivered again
    ]
    # AND the organization changes before the page comes again
    original = organization.work

    def changed(body: Mapping[str, Any], run: str) -> coverage.Step:
        if body.get("parent") == "r-root":
            accounts = ("111111111111", "444444444444")  # one more than the first time
            return coverage.Step(send=[{"action": "apply", "account": a, "run": run} for a in accounts])
        return original(body, run)

    organization.work = changed  # type: ignore[method-assign]
    # WHEN everything is delivered
    drain(queue, ledger, organization)
    # THEN the page sent again what it recorded the first time (not the new account), and the run ended once
    # with every account of it counted once
    assert "444444444444" not in organization.calls
    (summary,), _ = printed(capsys)
    assert summary["totals"]["covered"] == 3


def test_two_finishers_of_one_message_count_it_once_and_one_of_them_summarizes(
    ledger: Ledger, fake_time: FakeTime
) -> None:
    # GIVEN a run of one message, and a second invocation holding another copy of it
    other = Ledger(ledger.client, ledger.table, fake_time.deadline(), fake_time.policy(), clock=lambda: EPOCH + 5)
    position = Position("run-1", "start")
    ledger.begin(position, stack="Org", reason="event MoveAccount")
    counts = {"count/defaults/written": 1}
    # WHEN both finish it THEN the second finds it counted
    assert ledger.finish(position, counts) is True
    assert other.finish(position, counts) is False
    # WHEN both claim the summary THEN only the first gets it, with the message counted once
    first, second = other.claim_summary("run-1"), ledger.claim_summary("run-1")
    assert second is None and first is not None
    assert first.totals()["written"] == 1 and first.log_record()["seconds"] == 5.0


def run_with_a_failing_account(ledger: Ledger) -> tuple[Organization, Queue]:
    """A full run whose account 333333333333 fails at every delivery, drained."""
    organization = Organization(outcomes={"333333333333": coverage.FAILED})
    queue = queue_with_a_start()
    drain(queue, ledger, organization)
    return organization, queue


def test_an_account_that_keeps_failing_is_counted_on_its_last_delivery_and_left_in_the_dead_letter_queue(
    ledger: Ledger, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    # GIVEN an account whose contacts cannot be written WHEN the queue is drained (the account's message
    # delivered MAX_RECEIVE_COUNT times, then moved to the dead-letter queue)
    organization, queue = run_with_a_failing_account(ledger)
    # THEN it was worked on each working delivery, counted failed once (the last of them), the counting
    # deliveries did no work, and the run ended
    assert organization.calls.count("333333333333") == WORKING
    assert [(m["body"]["account"], m["receives"]) for m in queue.dead] == [("333333333333", MAX_RECEIVE_COUNT)]
    (summary,), metrics = printed(capsys)
    assert summary["rules"]["ou-pay"]["failed"] == 1 and summary["totals"]["covered"] == 3
    assert next(d for d in metrics if d.get("Rule") == "ou-pay")["Failed"] == 1
    assert [line["outcome"] for line in account_lines(caplog) if line["account"] == "333333333333"] == ["failed"]


def test_a_failed_account_redriven_from_the_dead_letter_queue_is_a_run_of_its_own(
    ledger: Ledger, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    # GIVEN a run that ended with an account failed and left in the dead-letter queue
    organization, queue = run_with_a_failing_account(ledger)
    (ended,), _ = printed(capsys)
    # WHEN the cause is fixed and the dead-letter queue is redriven (each message new: a new messageId)
    organization.outcomes.clear()
    queue.redrive()
    drain(queue, ledger, organization)
    # THEN the account is applied, in a run of its own summarized once, which says what it redrove
    assert organization.calls.count("333333333333") == WORKING + 1
    (redriven,), _ = printed(capsys)
    assert redriven["run"] != ended["run"] and queue.dead == []
    assert redriven["reason"] == f"redrive of apply/333333333333/list/ou-pay/0 of run {ended['run']}"
    assert (redriven["rules"], redriven["totals"]["covered"]) == ({"ou-pay": {**ZERO, "covered": 1, "written": 1}}, 1)
    assert account_lines(caplog)[-1] | {"run": ""} == {
        "run": "",
        "account": "333333333333",
        "rule": "ou-pay",
        "outcome": "written",
        "why": "",
        "types": {},
    }
    # AND the ended run's counts stay what it reported
    assert ledger.claim_summary(ended["run"]) is None
    item = run_item(ledger, ended["run"])
    assert (item["count/ou-pay/failed"], item["count/ou-pay/written"], item["pending"]) == ({"N": "1"},) * 2 + (
        {"N": "0"},
    )


def test_a_page_redriven_while_its_run_goes_on_is_counted_in_a_run_of_its_own_not_twice(
    ledger: Ledger, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN a run whose page of ou-pay failed for good (counted incomplete) while its other messages still wait
    organization = Organization(failing_lists={"ou-pay"})
    queue = queue_with_a_start()
    deliver(queue, ledger, organization)  # the start: one page, of the root
    deliver(queue, ledger, organization)  # the root's page: 111111111111 and the page of ou-pay
    while any(m["body"].get("parent") == "ou-pay" for m in queue.waiting):
        message = next(m for m in queue.waiting if m["body"].get("parent") == "ou-pay")
        queue.waiting.remove(message)
        queue.waiting.insert(0, message)
        deliver(queue, ledger, organization)
    assert [m["body"]["parent"] for m in queue.dead] == ["ou-pay"] and printed(capsys) == ([], [])
    # WHEN the cause is fixed and the page is redriven before the run's last account is done
    organization.failing_lists.clear()
    queue.redrive()
    drain(queue, ledger, organization)
    # THEN the run counts the page incomplete and only the account it reached; the redrive, a run of its own,
    # counts the page's two accounts: no account is counted twice, and each run is summarized once
    first, second = printed(capsys)[0]
    runs = {s["reason"].split(" ")[0]: s for s in (first, second)}
    assert (runs["start"]["incomplete"], runs["start"]["totals"]["covered"]) == (1, 1)
    assert (runs["redrive"]["incomplete"], runs["redrive"]["rules"]["ou-pay"]["written"]) == (0, 2)
    assert runs["redrive"]["totals"]["covered"] == 2


def test_a_last_working_delivery_cut_off_is_counted_by_a_counting_delivery_and_the_run_still_ends(
    ledger: Ledger, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    # GIVEN an account whose every working delivery is cut off by the invocation's end (before it is counted)
    organization = Organization(dying={"333333333333"})
    queue = queue_with_a_start()
    # WHEN the queue is drained
    drain(queue, ledger, organization)
    # THEN the first counting delivery counts it failed without working it, and the run ends with its summary
    assert organization.calls.count("333333333333") == WORKING
    (summary,), _ = printed(capsys)
    assert (summary["rules"]["ou-pay"]["failed"], summary["rules"]["ou-pay"]["written"]) == (1, 1)
    (line,) = [line for line in account_lines(caplog) if line["account"] == "333333333333"]
    assert (line["outcome"], line["why"]) == ("failed", "its last working delivery ended before it was counted")
    # AND the message goes on to the dead-letter queue for the operator
    assert [(m["body"]["account"], m["receives"]) for m in queue.dead] == [("333333333333", MAX_RECEIVE_COUNT)]


def test_a_start_cut_off_at_every_working_delivery_is_a_run_counted_incomplete(
    ledger: Ledger, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN a start whose work never finishes (the run's item never made) WHEN the queue is drained
    organization = Organization(dying={"start"})
    queue = queue_with_a_start()
    drain(queue, ledger, organization)
    # THEN a counting delivery makes the run and counts it incomplete: the run has its one summary
    (summary,), _ = printed(capsys)
    assert (summary["reason"], summary["incomplete"], summary["totals"]["covered"]) == ("start", 1, 0)
    assert organization.calls == ["start"] * WORKING and len(queue.dead) == 1


def test_a_page_that_keeps_failing_is_counted_incomplete_and_the_run_still_ends(
    ledger: Ledger, capsys: pytest.CaptureFixture[str]
) -> None:
    organization = Organization(failing_lists={"ou-pay"})
    queue = queue_with_a_start()
    drain(queue, ledger, organization)
    (summary,), metrics = printed(capsys)
    assert (summary["incomplete"], summary["totals"]["covered"]) == (1, 1)
    assert metrics[-1]["Incomplete"] == 1
    assert [m["body"]["parent"] for m in queue.dead] == ["ou-pay"]


def test_an_account_event_is_a_run_of_one_summarized_at_once(
    ledger: Ledger, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN a hand-over (an apply that no run sent) WHEN it is handled THEN its summary follows at once
    hand_over = {"action": "apply", "account": "222222222222", "path": None, "reason": "hand-over"}
    queue = Queue()
    queue.send([hand_over])
    deliver(queue, ledger, Organization())
    (summary,), _ = printed(capsys)
    assert (summary["run"], summary["reason"], summary["rules"]["ou-pay"]["written"]) == ("msg-1", "hand-over", 1)
    # AND the same message delivered again changes nothing and prints nothing
    queue.waiting.append({"id": "msg-1", "body": hand_over, "receives": 1})
    deliver(queue, ledger, Organization())
    assert printed(capsys) == ([], [])


def test_a_transaction_cancelled_by_a_conflict_is_tried_again(fake_time: FakeTime) -> None:
    # moto never cancels a transaction for a conflict; DynamoDB does when two finishers touch the run's item.
    client = boto3.client("dynamodb", region_name="us-east-1")
    ledger = Ledger(client, "ledger", fake_time.deadline(), fake_time.policy(), clock=lambda: EPOCH)
    with Stubber(client) as stubber:
        stubber.add_client_error(
            "transact_write_items",
            "TransactionCanceledException",
            response_meta={},
            modeled_fields={"CancellationReasons": [{"Code": "None"}, {"Code": "TransactionConflict"}]},
        )
        stubber.add_response("transact_write_items", {})
        assert ledger.finish(Position("run-1", "start"), {}) is True
        stubber.assert_no_pending_responses()
    assert len(fake_time.sleeps) == 1


def test_a_conflict_or_throttling_on_a_transaction_is_retried_with_its_one_client_request_token(
    fake_time: FakeTime,
) -> None:
    # GIVEN DynamoDB cancels a finish for a conflict, then for throttling, then commits it (Stubber: moto
    # does neither, nor keeps tokens)
    client = boto3.client("dynamodb", region_name="us-east-1")
    ledger = Ledger(client, "ledger", fake_time.deadline(), fake_time.policy(), clock=lambda: EPOCH)
    tokens: list[str] = []
    client.meta.events.register(
        "provide-client-params.dynamodb.TransactWriteItems",
        lambda params, **_: tokens.append(params["ClientRequestToken"]),
    )
    with Stubber(client) as stubber:
        for reason in ("TransactionConflict", "ThrottlingError"):
            stubber.add_client_error(
                "transact_write_items",
                "TransactionCanceledException",
                response_meta={},
                modeled_fields={"CancellationReasons": [{"Code": "None"}, {"Code": reason}]},
            )
        stubber.add_response("transact_write_items", {})
        # WHEN the message is finished THEN it is counted, after two retries carrying the same token (which
        # DynamoDB answers as the original success when a committed transaction's response was lost)
        assert ledger.finish(Position("run-1", "start"), {}) is True
        stubber.assert_no_pending_responses()
    assert len(fake_time.sleeps) == 2
    assert len(tokens) == 3 and len(set(tokens)) == 1


def test_a_claim_whose_response_was_lost_still_gets_the_summary_once(ledger: Ledger) -> None:
    # GIVEN a run whose one message is counted
    position = Position("run-1", "start")
    ledger.begin(position, stack="Org", reason="schedule")
    assert ledger.finish(position, {"count/defaults/written": 1}) is True
    # AND the summary's claim commits in DynamoDB but its response is lost (the connection closes after moto
    # answered), once
    lost: list[str] = []

    def lose_the_first_answer(**_: Any) -> None:
        if not lost:
            lost.append("claim")
            raise ConnectionClosedError(endpoint_url="https://dynamodb.us-east-1.amazonaws.com")

    ledger.client.meta.events.register("after-call.dynamodb.UpdateItem", lose_the_first_answer)
    # WHEN the claim is made (and retried after the lost response) THEN the claimant gets its summary
    summary = ledger.claim_summary("run-1")
    assert lost == ["claim"]
    assert summary is not None and summary.totals()["written"] == 1
    # AND nobody else does
    assert ledger.claim_summary("run-1") is None


def test_a_conflict_on_the_claim_is_retried(fake_time: FakeTime) -> None:
    # GIVEN the claim's UpdateItem meets a transaction on the run's item (Stubber: moto never conflicts)
    client = boto3.client("dynamodb", region_name="us-east-1")
    ledger = Ledger(client, "ledger", fake_time.deadline(), fake_time.policy(), clock=lambda: EPOCH)
    item = {"run": {"S": "run-1"}, "item": {"S": RUN_ITEM}, "pending": {"N": "0"}, "started": {"N": str(EPOCH)}}
    with Stubber(client) as stubber:
        stubber.add_client_error("update_item", "TransactionConflictException", response_meta={})
        stubber.add_response("update_item", {"Attributes": {**item, "summarized": {"N": str(EPOCH)}}})
        # WHEN the summary is claimed THEN it is tried again and won
        summary = ledger.claim_summary("run-1")
        stubber.assert_no_pending_responses()
    assert summary is not None and summary.run == "run-1"
    assert len(fake_time.sleeps) == 1


def test_a_failing_claim_does_not_deliver_a_counted_message_again(
    ledger: Ledger, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    # GIVEN a hand-over whose summary's claim fails for good, after the message was counted
    def refuse(params: Mapping[str, Any], **_: Any) -> None:
        if "claimant" in params.get("UpdateExpression", ""):
            raise RuntimeError("the claim failed")

    ledger.client.meta.events.register("provide-client-params.dynamodb.UpdateItem", refuse)
    queue = Queue()
    queue.send([{"action": "apply", "account": "222222222222", "path": None, "reason": "hand-over"}])
    # WHEN it is handled THEN it is done (not given back), its account line logged, the failure a warning
    deliver(queue, ledger, Organization())
    assert queue.waiting == [] and queue.dead == []
    assert [line["account"] for line in account_lines(caplog)] == ["222222222222"]
    assert any("claiming its summary failed" in r.getMessage() for r in caplog.records)
    assert printed(capsys) == ([], [])


@pytest.mark.parametrize("retry_work", ["raises", "returns nothing"])
def test_children_recorded_before_a_crash_are_sent_whatever_the_retry_s_work_says(
    ledger: Ledger, capsys: pytest.CaptureFixture[str], retry_work: str
) -> None:
    # GIVEN the root's page recorded its children (the sent-marker) and the invocation stopped before
    # sending any of them
    organization = Organization()
    queue = stop_at_the_root_page(ledger, organization, after_sending=False)
    assert [m["body"]["key"] for m in queue.waiting] == ["list/r-root/0"]
    # AND listing the root now raises at every delivery, or finds nothing
    if retry_work == "raises":
        organization.failing_lists.add("r-root")
    else:
        organization.units["r-root"] = ([], [])
    # WHEN everything is delivered
    drain(queue, ledger, organization)
    # THEN the recorded children were sent and done, and the run was summarized once, counting every account
    (summary,), _ = printed(capsys)
    assert (summary["totals"]["covered"], summary["incomplete"]) == (3, 0)
    assert queue.dead == []


def test_a_message_of_a_run_whose_item_expired_neither_makes_it_again_nor_prints_a_summary(
    ledger: Ledger, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    # GIVEN a run whose children wait in the queue, and its run item gone (TTL)
    organization = Organization()
    queue = queue_with_a_start()
    deliver(queue, ledger, organization)  # start -> list r-root
    deliver(queue, ledger, organization)  # list r-root -> apply 111111111111, list ou-pay
    ledger.client.delete_item(TableName=ledger.table, Key={"run": {"S": "msg-1"}, "item": {"S": RUN_ITEM}})
    # WHEN the queue is drained
    drain(queue, ledger, organization)
    # THEN no run item was made again, no summary printed, and each stray message said so and was done
    found = ledger.client.get_item(TableName=ledger.table, Key={"run": {"S": "msg-1"}, "item": {"S": RUN_ITEM}})
    assert "Item" not in found
    assert printed(capsys) == ([], []) and queue.dead == [] and queue.waiting == []
    assert any("finished without counting" in r.getMessage() for r in caplog.records)


def test_children_with_one_key_are_one_message(ledger: Ledger, capsys: pytest.CaptureFixture[str]) -> None:
    # GIVEN a page that lists one account twice (two children with one key)
    organization = Organization()
    organization.units["r-root"] = (["111111111111", "111111111111"], [])
    queue = queue_with_a_start()
    # WHEN the queue is drained THEN the account was sent and counted once and the run ended
    drain(queue, ledger, organization)
    assert organization.calls.count("111111111111") == 1
    (summary,), _ = printed(capsys)
    assert summary["totals"]["covered"] == 1


def test_an_ignored_event_makes_no_run_and_prints_no_summary(
    ledger: Ledger, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN an event that names no account (its step is empty) WHEN it is handled
    queue = Queue()
    queue.send([{"action": "ignored"}])
    deliver(queue, ledger, Organization())
    # THEN the message is done, without a run item or a summary
    found = ledger.client.get_item(TableName=ledger.table, Key={"run": {"S": "msg-1"}, "item": {"S": RUN_ITEM}})
    assert "Item" not in found
    assert printed(capsys) == ([], []) and queue.waiting == [] and queue.dead == []
