"""Checks one invocation of the handler against the oracle of its generated :class:`~hostile_events.Case`.

Shared by the property tests (which fail on the first violation, shrunk) and the stress benchmark (which
counts them). Each check returns readable violations instead of raising, so both can use it.
"""

from __future__ import annotations

import json
from typing import Any

from handler_harness import Invocation, Observed, World
from hostile_events import Case

from cdk_alternate_contacts_handler import spec
from localdeploy.responses import MAX_ANSWER_BYTES

#: CloudFormation shows at most this many characters of a reason.
MAX_REASON = 256

_DETAIL_INDEX = {field_name: i for i, field_name in enumerate(spec.DETAIL_FIELDS)}


def strings_in(value: Any) -> list[str]:
    """Every string inside a JSON value (keys included)."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in (*strings_in(k), *strings_in(v))]
    if isinstance(value, list):
        return [s for item in value for s in strings_in(item)]
    return []


def leaked(secrets: set[str], *texts: str) -> list[str]:
    """The secrets (contact details of six or more characters, whitespace-trimmed) found in ``texts``."""
    found = []
    for secret in secrets:
        needle = secret.strip()
        if len(needle) >= 6 and any(needle in text for text in texts):
            found.append(needle[:40])
    return sorted(found)


def violations(case: Case, invocation: Invocation, observed: Observed) -> list[str]:
    """Everything about ``invocation`` that breaks the guarantees, as readable lines (empty: all held)."""
    problems: list[str] = []
    if invocation.raised is not None:
        problems.append(f"an exception escaped the handler: {type(invocation.raised).__name__}")
    answers = invocation.answers
    if not case.answers:
        if answers or observed.stray_answers:
            problems.append(f"an event without envelope was answered ({len(answers) + observed.stray_answers}x)")
        if observed.before != observed.after:
            problems.append("an event without envelope changed the accounts")
        return problems + _log_problems(case, observed)
    if observed.stray_answers:
        problems.append(f"{observed.stray_answers} answer(s) went to another request's URL")
    if len(answers) != 1:
        problems.append(f"answered {len(answers)} times instead of once")
    if not answers:
        return problems + _log_problems(case, observed)
    answer = answers[0]
    document = answer.document or {}
    status = document.get("Status")
    reason = document.get("Reason")
    if answer.document is None:
        problems.append("the answer is not a JSON object")
    if len(answer.body) > MAX_ANSWER_BYTES:
        problems.append(f"the answer is {len(answer.body)} bytes; CloudFormation rejects more than {MAX_ANSWER_BYTES}")
    event = invocation.event
    for key in ("RequestId", "StackId", "LogicalResourceId"):
        if document.get(key) != event.get(key):
            problems.append(f"the answer's {key} does not echo the request's")
    physical = document.get("PhysicalResourceId")
    sent = event.get("PhysicalResourceId", "absent")
    # CloudFormation rejects an answer without an id. (An event whose own id is not a usable string, which
    # CloudFormation never sends, may get any id back.)
    if (not isinstance(physical, str) or not physical) and isinstance(sent, str) and sent:
        problems.append(f"the answer's PhysicalResourceId is empty or not a string ({physical!r:.40})")
    if status not in ("SUCCESS", "FAILED"):
        problems.append(f"the answer's Status is {status!r:.40}")
    if case.status is not None and status != case.status:
        problems.append(f"answered {status} instead of {case.status} (reason: {str(reason)[:120]!r})")
    if status == "FAILED":
        if not isinstance(reason, str) or not reason.strip():
            problems.append("a FAILED answer without a reason")
        elif len(reason) > MAX_REASON:
            problems.append(f"a reason of {len(reason)} characters; CloudFormation shows {MAX_REASON}")
        elif case.reason_mentions and not any(word.lower() in reason.lower() for word in case.reason_mentions):
            problems.append(f"the reason {reason[:160]!r} names none of {list(case.reason_mentions)}")
    if (status != "SUCCESS" or not case.contacts_may_change) and observed.before != observed.after:
        problems.append(f"{status} for a {case.kind} event, yet the accounts changed: {_diff(observed)}")
    if status == "SUCCESS":
        problems += _contact_problems(case, observed.before, observed.after)
    return problems + _log_problems(case, observed) + _answer_leaks(case, answer.body, document)


def _as_details(contact: tuple[str, str, str, str]) -> dict[str, str]:
    return {f: contact[i] for f, i in _DETAIL_INDEX.items()}


def _contact_problems(case: Case, before: World, after: World) -> list[str]:
    problems = []
    for (account, contact_type), details in case.expected_contacts.items():
        live = after.contacts.get((account, "aws", contact_type))
        if live is None:
            problems.append(f"SUCCESS, but {account}/{contact_type} has no contact")
        elif not spec.same_contact(details, _as_details(live)):
            problems.append(f"SUCCESS, but {account}/{contact_type} holds other details than declared")
    for (account, contact_type), written in case.deleted_slots.items():
        slot = (account, "aws", contact_type)
        held = before.contacts.get(slot)
        if held is not None and not spec.same_contact(written, _as_details(held)):
            # Another writer's contact (set after this resource wrote): the Delete must leave it alone.
            if after.contacts.get(slot) != held:
                problems.append(f"SUCCESS, but the Delete removed or changed another writer's {account}/{contact_type}")
        elif slot in after.contacts:
            problems.append(f"SUCCESS, but {account}/{contact_type} still has a contact after Delete")
    return problems


def _log_problems(case: Case, observed: Observed) -> list[str]:
    problems = []
    found = leaked(case.secrets, observed.log)
    if found:
        problems.append(f"contact details in the log: {found}")
    if "X-Amz-Signature" in observed.log or (observed.signature and observed.signature in observed.log):
        problems.append("the ResponseURL's signature is in the log")
    return problems


def _answer_leaks(case: Case, body: bytes, document: dict[str, Any]) -> list[str]:
    found = leaked(case.secrets, body.decode("utf-8", "replace"), *strings_in(document))
    return [f"contact details in the answer: {found}"] if found else []


def _diff(observed: Observed) -> str:
    before, after = observed.before, observed.after
    changed = sorted(
        f"{a}/{t}"
        for (a, _, t) in set(before.contacts) ^ set(after.contacts)
        | {k for k in set(before.contacts) & set(after.contacts) if before.contacts[k] != after.contacts[k]}
    )
    parameters = sorted(set(before.parameters) ^ set(after.parameters))
    return f"contacts {changed[:5]}, parameters {[name for _, _, name in parameters][:5]}"


def dumps(value: Any) -> str:
    """An event as short readable JSON, for assertion messages (contact details included: test data only)."""
    return json.dumps(value, ensure_ascii=False, default=repr)[:1500]
