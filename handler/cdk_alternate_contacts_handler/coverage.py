"""The coverage's work, one message at a time: start a full run, list a unit's accounts, apply the rules to one
account. The clients are passed in; nothing here reads the environment.

A full run never loops over the organization in one invocation. ``start`` sends one ``list`` message per
root of the scope; each ``list`` reads ONE page of a unit's accounts (ListAccountsForParent) and sends an
``apply`` message per account (its path known from the walk), a ``list`` message per child unit, and one for
the next page. Each ``apply`` reads the account's contacts and writes what the rules say. Messages are the
queue's, so each step is retried by SQS and, when it keeps failing, lands in the dead-letter queue with its
account id: a failure is reported per account, and no invocation comes near its timeout.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Final

from botocore.exceptions import ClientError

from . import spec
from .account_api import Target, put_contact, read_contact
from .coverage_events import account_of, is_event
from .coverage_rules import ALL, CoverageRules, OnDriftValue
from .errors import ContactError, error_code
from .organizations import accounts_page, child_units, inactive_state, path_of, root_id
from .retry import Deadline, RetryPolicy

logger = logging.getLogger(__name__)

#: Outcomes of one account, as reports count them.
IN_SYNC: Final = "in_sync"
WRITTEN: Final = "written"
DRIFTED: Final = "drifted"
FAILED: Final = "failed"
SKIPPED: Final = "skipped"


class StaleRulesError(Exception):
    """This function's rules are older than the ones deployed: the message waits for the new code."""


@dataclass
class AccountReport:
    """What the coverage did to one account (ids, types and outcomes only: never a contact detail)."""

    account_id: str
    outcome: str
    rule: str = ""
    why: str = ""
    types: dict[str, str] = field(default_factory=dict)

    def log_record(self, run: str) -> dict[str, Any]:
        """The structured log line of this account."""
        return {
            "run": run,
            "account": self.account_id,
            "rule": self.rule,
            "outcome": self.outcome,
            "why": self.why,
            "types": self.types,
        }


@dataclass
class Clients:
    """The clients the work calls: Account, Organizations (and the caller's own account id)."""

    account: Any
    organizations: Any
    caller_account: str


@dataclass
class Step:
    """The result of one message: the account's report (for ``apply``) and the messages to send next."""

    report: AccountReport | None = None
    send: list[dict[str, Any]] = field(default_factory=list)


class Decision(Enum):
    """What the coverage does with one contact of a covered account, compared with what its rules give."""

    IN_SYNC = "in sync"  #: the live contact holds the rules' details: nothing is written
    CREATE = "create"  #: the account has no contact of that type: the rules' one is written
    RESTORE = "restore"  #: the live contact differs and on_drift is restore: the rules' one is written back
    REPORT = "report"  #: the live contact differs and on_drift is report: counted as drifted, never written

    @property
    def writes(self) -> bool:
        """Whether the coverage puts the contact."""
        return self in (Decision.CREATE, Decision.RESTORE)


#: How each decision is counted in the account's report: a contact put back counts as drifted, as one reported.
_TYPE_OUTCOMES: Final = {
    Decision.IN_SYNC: IN_SYNC,
    Decision.CREATE: WRITTEN,
    Decision.RESTORE: DRIFTED,
    Decision.REPORT: DRIFTED,
}


def decide(details: Mapping[str, str], live: Mapping[str, str] | None, *, on_drift: OnDriftValue) -> Decision:
    """The one decision per contact, made by :func:`apply_account` and predicted by ``cdk-alternate-contacts plan``.

    ``live`` is ``None`` when the account has no contact of that type; an absent contact is written whatever
    ``on_drift`` says (there is nothing to overwrite).
    """
    if live is None:
        return Decision.CREATE
    if spec.same_contact(details, live):
        return Decision.IN_SYNC
    return Decision.REPORT if on_drift == "report" else Decision.RESTORE


def apply_account(
    clients: Clients,
    rules: CoverageRules,
    account_id: str,
    path: Sequence[str] | None,
    *,
    deadline: Deadline,
    policy: RetryPolicy,
    current_digest: Callable[[], str | None] = lambda: None,
) -> AccountReport:
    """Bring one account to what the rules say (or, with ``report``, only compare it).

    An account listed in ``[[accounts]]`` belongs to its CloudFormation resource and is skipped; so are an
    account that is not ACTIVE and one outside the scope (left as it is, reported).

    Raises
    ------
    StaleRulesError
        When ``current_digest`` names rules other than this function's: the deployed rules are newer.
    """
    deployed = current_digest()
    if deployed is not None and deployed != rules.digest:
        raise StaleRulesError(f"rules {rules.digest[:12]} are not the deployed {deployed[:12]}")
    if account_id in rules.listed:
        return AccountReport(account_id, SKIPPED, why="listed: its CloudFormation resource owns it")
    rule = ""
    try:
        state = inactive_state(clients.organizations, account_id, deadline=deadline, policy=policy)
        if state is not None:
            return AccountReport(account_id, SKIPPED, why=f"not ACTIVE ({state})")
        if path is None:
            path = path_of(clients.organizations, account_id, deadline=deadline, policy=policy)
        rule = rules.rule_of(path)
        if not rules.covers(path):
            return AccountReport(account_id, SKIPPED, rule=rule, why="outside the coverage's units")
        report = AccountReport(account_id, IN_SYNC, rule=rule)
        own = account_id == clients.caller_account
        for contact_type, details in rules.desired(path).items():
            target = Target(account_id, contact_type.value, own)
            live = read_contact(clients.account, target, deadline=deadline, policy=policy)
            decision = decide(details, live, on_drift=rules.on_drift)
            if decision.writes:
                put_contact(clients.account, target, details, deadline=deadline, policy=policy)
            report.types[contact_type.value] = _TYPE_OUTCOMES[decision]
        statuses = set(report.types.values())
        if statuses & {WRITTEN, DRIFTED}:
            report.outcome = DRIFTED if DRIFTED in statuses else WRITTEN
        return report
    except (ContactError, ClientError) as error:
        why = str(error) if isinstance(error, ContactError) else f"{error_code(error)}"
        return AccountReport(account_id, FAILED, rule=rule, why=why[:200])


def list_page(
    organizations: Any, message: Mapping[str, Any], *, deadline: Deadline, policy: RetryPolicy
) -> list[dict[str, Any]]:
    """The messages one page of a unit's accounts leads to (see the module's documentation)."""
    parent = str(message["parent"])
    path = [str(unit) for unit in message.get("path", [])]
    run, reason = message.get("run", ""), message.get("reason", "")
    accounts, next_page = accounts_page(
        organizations, parent, message.get("next") or None, deadline=deadline, policy=policy
    )
    send = [
        {"action": "apply", "account": str(account["Id"]), "path": path, "run": run, "reason": reason}
        for account in accounts
    ]
    if next_page:
        send.append({**message, "next": next_page, "page": int(message.get("page") or 0) + 1})
    if not message.get("next"):  # the first page of a unit also walks into its child units
        for unit in child_units(organizations, parent, deadline=deadline, policy=policy):
            send.append(
                {"action": "list", "parent": unit["Id"], "path": [*path, unit["Id"]], "run": run, "reason": reason}
            )
    return send


def start_run(
    organizations: Any, rules: CoverageRules, run: str, reason: str, *, deadline: Deadline, policy: RetryPolicy
) -> list[dict[str, Any]]:
    """The first messages of a full run: the root, or each unit of the scope that no other one contains."""
    if rules.scope == ALL:
        root = root_id(organizations, deadline=deadline, policy=policy)
        return [{"action": "list", "parent": root, "path": [], "run": run, "reason": reason}]
    messages = []
    for unit in rules.scope:
        above = path_of(organizations, unit, deadline=deadline, policy=policy)
        if not any(other in rules.scope for other in above):
            messages.append({"action": "list", "parent": unit, "path": [*above, unit], "run": run, "reason": reason})
    return messages


def _scheduled(body: Mapping[str, Any]) -> bool:
    return body.get("source") == "aws.events" and body.get("detail-type") == "Scheduled Event"


def reason_of(body: Mapping[str, Any]) -> str:
    """Why a message that starts a run was sent: the start's reason, the schedule, the event's name."""
    if is_event(body):
        return "schedule" if _scheduled(body) else f"event {account_of(body)[1]}"
    return str(body.get("reason") or body.get("action") or "")


def handle(
    clients: Clients,
    rules: CoverageRules,
    body: Mapping[str, Any],
    *,
    deadline: Deadline,
    policy: RetryPolicy,
    current_digest: Callable[[], str | None] = lambda: None,
    new_run: Callable[[], str] = lambda: "",
) -> Step:
    """Do what one queue message asks; an EventBridge event of an account applies the rules to it.

    Raises
    ------
    ValueError
        For a message this function does not know (it is then left to the queue's dead-letter queue).
    StaleRulesError, ContactError, botocore.exceptions.ClientError
        When the step must be retried (the message stays in the queue).
    """
    if is_event(body):
        if _scheduled(body):
            return Step(
                send=start_run(clients.organizations, rules, new_run(), "schedule", deadline=deadline, policy=policy)
            )
        account, name = account_of(body)
        if account is None:
            logger.info("event ignored: %s", name)
            return Step()
        report = apply_account(
            clients, rules, account, None, deadline=deadline, policy=policy, current_digest=current_digest
        )
        report.why = report.why or f"event {name}"
        return Step(report=report)
    action = body.get("action")
    if action == "start":
        reason = str(body.get("reason", "deploy"))
        return Step(send=start_run(clients.organizations, rules, new_run(), reason, deadline=deadline, policy=policy))
    if action == "list":
        return Step(send=list_page(clients.organizations, body, deadline=deadline, policy=policy))
    if action == "apply":
        path = body.get("path")
        report = apply_account(
            clients,
            rules,
            str(body["account"]),
            None if path is None else [str(unit) for unit in path],
            deadline=deadline,
            policy=policy,
            current_digest=current_digest,
        )
        return Step(report=report)
    raise ValueError(f"unknown coverage message (action {str(action)[:20]!r})")
