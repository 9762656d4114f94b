#!/usr/bin/env python3
"""Stress the Lambda handler with thousands of generated events and count its answers.

Each event, valid or hostile (tests/support/hostile_events.py, drawn from a seeded generator), goes through
the real ``index.handler`` and crhelper in this process, one after another as in one Lambda execution
environment. Answers go over real HTTPS to the project's ResponseURL listener; the Account API is moto's,
in-process; a Delete lists its stack through localdeploy's CloudFormation endpoint. Every invocation is
checked against its event's oracle (tests/support/answer_oracle.py): one answer (none without an envelope),
the expected status, a reason that names the problem, contacts changed only by valid events, no contact
detail or signature in the log or the answer.

Prints: answers sent, SUCCESS/FAILED counts, FAILED reasons grouped by kind, every invocation answered zero
or two or more times (expected: none), every other broken expectation, and the elapsed time.

    python benchmarks/stress_handler.py                       # 10,000 events, seed 5
    python benchmarks/stress_handler.py --events 500 --seed 7 --real-sleeps

This is a measurement, not a test: it takes minutes (most of each invocation is the handler creating its
boto3 clients) and its exit status only says whether every expectation held.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
for _path in (REPO / "tests" / "support", REPO / "handler", REPO):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

# No AWS: fake credentials and a region, as the test suite sets them, before boto3 or the handler load.
for _key in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN", "AWS_ENDPOINT_URL"):
    os.environ.pop(_key, None)
os.environ.update(
    AWS_ACCESS_KEY_ID="testing",
    AWS_SECRET_ACCESS_KEY="testing",  # noqa: S106 - moto's fake credentials
    AWS_REGION="us-east-1",
    AWS_DEFAULT_REGION="us-east-1",
)

from answer_oracle import violations  # noqa: E402
from handler_harness import STACK_ID, HandlerHarness, instant_waits  # noqa: E402
from hostile_events import RandomDraw, case  # noqa: E402

#: Coarse kinds of FAILED reasons, first match wins.
REASON_KINDS = (
    ("invalid properties", re.compile(r"^Invalid properties")),
    ("unsupported request type", re.compile(r"^Unsupported RequestType")),
    ("the app's stacks unreadable", re.compile(r"cannot list this stack's resources|cannot describe the stack")),
    ("gave up before the timeout", re.compile(r"before the function's timeout|did not confirm")),
    ("API error", re.compile(r"AccessDenied|Exception|rejected the request")),
    ("internal error", re.compile(r"^internal error")),
    ("crhelper's own timer", re.compile(r"^Execution timed out")),
)


def problem_gist(problem: str) -> str:
    """A broken expectation with its values taken out (sizes, quoted text, lists), to group alike ones."""
    text = re.sub(r"\([^)]*\)", "(…)", problem)
    text = re.sub(r"\[[^\]]*\]", "[…]", text)
    text = re.sub(r"(?<=\s)'[^']*'", "'…'", text)
    return re.sub(r"\d+", "N", text).split(": ", 1)[0][:110]


def reason_kind(reason: str) -> str:
    for kind, pattern in REASON_KINDS:
        if pattern.search(reason):
            return kind
    return f"other: {reason[:60]!r}"


def reason_template(reason: str) -> str:
    """A reason with its values taken out, so that reasons of one kind group together."""
    text = re.sub(r"\(got [^)]*\)", "(got …)", reason)
    text = re.sub(r"'[^']*'|\"[^\"]*\"", "'…'", text)
    text = re.sub(r"\d{12}", "<account>", text)
    text = re.sub(r"\b\d+\b", "N", text)
    return text[:150]


def handler_version() -> str:
    """The commit the handler comes from, and whether handler/ has changes not yet committed."""
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "handler"], cwd=REPO, capture_output=True, text=True, check=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown (not a git checkout)"
    return f"{commit}{' with uncommitted changes in handler/' if dirty else ''}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=10_000, help="how many events (default 10000)")
    parser.add_argument("--seed", type=int, default=5, help="generator seed (default 5)")
    parser.add_argument(
        "--real-sleeps",
        action="store_true",
        help="keep the handler's sleeps between confirming reads (moto is consistent: they only cost time)",
    )
    args = parser.parse_args(argv)

    draw = RandomDraw(random.Random(args.seed))  # noqa: S311 - reproducible test data, not secrets
    statuses: Counter[str] = Counter()
    kinds: Counter[str] = Counter()
    reason_kinds: Counter[str] = Counter()
    templates: Counter[str] = Counter()
    answer_counts: Counter[int] = Counter()
    wrong_count: list[str] = []
    broken: dict[str, list[str]] = defaultdict(list)
    raised = 0
    slowest = (0.0, "")
    undo = None if args.real_sleeps else instant_waits()
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="stress-handler-") as workdir, HandlerHarness(Path(workdir)) as harness:
        for index in range(args.events):
            generated = case(draw, STACK_ID)
            kinds[generated.kind] += 1
            request_type = (
                generated.event.get("RequestType") if isinstance(generated.event, dict) else type(generated.event)
            )
            invocation, observed = harness.observe_case(generated)
            harness.logs.clear()
            elapsed = invocation.ended_at - invocation.started_at
            if elapsed > slowest[0]:
                slowest = (elapsed, f"#{index} {generated.kind}")
            raised += invocation.raised is not None
            answers = len(invocation.answers) + observed.stray_answers
            answer_counts[answers] += 1
            expected = 1 if generated.answers else 0
            if answers != expected:
                wrong_count.append(
                    f"#{index} {generated.kind} {str(request_type)[:20]!r}: {answers} answers, expected {expected}"
                )
            for document in invocation.documents:
                status = str(document.get("Status"))
                statuses[status] += 1
                if status == "FAILED":
                    reason = str(document.get("Reason", ""))
                    reason_kinds[reason_kind(reason)] += 1
                    templates[reason_template(reason)] += 1
            for problem in violations(generated, invocation, observed):
                if "times instead of once" in problem or "without envelope was answered" in problem:
                    continue  # listed above with the invocation
                label = f"{generated.kind}: {problem_gist(problem)}"
                broken[label].append(f"#{index}")
            if (index + 1) % 500 == 0:
                rate = (index + 1) / (time.monotonic() - started)
                print(f"... {index + 1} events, {rate:.1f}/s", file=sys.stderr, flush=True)
        # Late answers (crhelper's timer, abandoned work) would land after their invocation returned.
        time.sleep(2.0)
        recount = harness.listener.answer_counts(list(harness.answered))
        late = {key: n - harness.answered[key] for key, n in recount.items() if n != harness.answered[key]}
        sent = getattr(harness.listener, "received", sum(recount.values()))
        rejected = len(harness.listener.rejected)
    if undo is not None:
        undo()
    elapsed_total = time.monotonic() - started

    print(f"handler: {handler_version()}")
    waits = "real" if args.real_sleeps else "instant"
    print(f"events: {args.events} (seed {args.seed}, {waits} consistency waits)")
    print("generated kinds: " + ", ".join(f"{k} {n}" for k, n in sorted(kinds.items())))
    print(f"answers sent (PUTs received by the listener): {sent}; refused by the listener: {rejected}")
    other = sum(statuses.values()) - statuses["SUCCESS"] - statuses["FAILED"]
    print(f"SUCCESS: {statuses['SUCCESS']}  FAILED: {statuses['FAILED']}  other: {other}")
    print(
        "invocations by number of answers: "
        + ", ".join(f"{n} answer(s): {c}" for n, c in sorted(answer_counts.items()))
    )
    print(f"exceptions escaping the handler: {raised}")
    print("FAILED reasons by kind:")
    for kind, count in reason_kinds.most_common():
        print(f"  {count:6d}  {kind}")
    print("most frequent FAILED reasons (values taken out):")
    for template, count in templates.most_common(12):
        print(f"  {count:6d}  {template}")
    print(f"invocations answered a wrong number of times (expected: none): {len(wrong_count)}")
    for line in wrong_count[:50]:
        print(f"  {line}")
    print(f"answers arriving after their invocation returned (expected: none): {len(late)}")
    print(f"other broken expectations (expected: none): {sum(len(v) for v in broken.values())}")
    for label, where in sorted(broken.items(), key=lambda item: -len(item[1])):
        print(f"  {len(where):6d}  {label}  (e.g. {', '.join(where[:3])})")
    print(
        f"elapsed: {elapsed_total:.1f} s ({elapsed_total / max(args.events, 1) * 1000:.1f} ms per event; "
        f"slowest {slowest[0] * 1000:.0f} ms, {slowest[1]})"
    )
    clean = not wrong_count and not late and not raised and not broken
    return 0 if clean else 1


if __name__ == "__main__":
    sys.exit(main())
