"""index.handler driven in this process, as Lambda drives it, with every answer and log line counted.

The pieces are the project's real ones: the Lambda entry point and crhelper unmodified, the HTTPS
ResponseURL listener of ``localdeploy.responses`` (TLS from trustme, trusted through ``SSL_CERT_FILE``,
which is how crhelper finds its CA), the CloudFormation ListStackResources endpoint of
``localdeploy.cfn_api`` (a Delete reads its own stack), and moto's Account API in-process.

crhelper keeps its state in a module-level singleton, so invocations run one after another, as they do
in one Lambda execution environment. Used by tests/robustness and by benchmarks/stress_handler.py.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit
from xml.sax.saxutils import escape

import boto3
from botocore.awsrequest import AWSResponse
from moto import mock_aws
from moto.account.models import account_backends
from moto.ssm.models import ssm_backends

from cdk_alternate_contacts_handler import index
from cdk_alternate_contacts_handler.retry import RetryPolicy
from localdeploy.cfn_api import NAMESPACE, CloudFormationApi
from localdeploy.lifetime import Assembled
from localdeploy.registry import ResourceSummary, StackRegistry, StackView
from localdeploy.responses import Answer, ResponseListener

OWN_ACCOUNT = "123456789012"  # moto's default account: the one the function runs in
REGION = "us-east-1"
FUNCTION_ARN = f"arn:aws:lambda:{REGION}:{OWN_ACCOUNT}:function:provider"
STACK_NAME = "Robustness"
STACK_ID = f"arn:aws:cloudformation:{REGION}:{OWN_ACCOUNT}:stack/{STACK_NAME}/7e1f0c2a-0000-4000-8000-00000000beef"

#: The handler's own loggers: held at DEBUG while logs are captured, so even its debug lines are checked.
PROJECT_LOGGERS = ("cdk_alternate_contacts_handler",)

#: ``(account, partition, contact type) -> (email, name, phone, title)``: every contact moto holds.
Contacts = dict[tuple[str, str, str], tuple[str, str, str, str]]


class LambdaContext:
    """The parts of the Lambda context the handler and crhelper read, on a real running clock."""

    def __init__(self, seconds: float, function_arn: str = FUNCTION_ARN) -> None:
        self.deadline = time.monotonic() + seconds
        self.invoked_function_arn = function_arn
        self.function_name = function_arn.rsplit(":", 1)[-1]
        self.aws_request_id = str(uuid.uuid4())
        self.memory_limit_in_mb = "256"
        self.log_group_name = "/aws/lambda/provider"
        self.log_stream_name = "2026/11/22/[$LATEST]robustness"

    def get_remaining_time_in_millis(self) -> int:
        """Milliseconds until the deadline (negative once it has passed)."""
        return int((self.deadline - time.monotonic()) * 1000)


@dataclass
class Invocation:
    """One call of ``index.handler`` and what came of it.

    Attributes
    ----------
    key:
        The harness's id for the ResponseURL it issued (``None`` when the event got no usable URL).
    raised:
        The exception that escaped the handler, if any (there must never be one).
    answers:
        Every PUT received on that URL so far (refreshed by :meth:`HandlerHarness.answers_of`).
    """

    event: Any
    key: str | None
    started_at: float
    ended_at: float
    context: LambdaContext
    raised: BaseException | None = None
    answers: list[Answer] = field(default_factory=list)

    @property
    def documents(self) -> list[dict[str, Any]]:
        """The answers as parsed JSON (an unparseable answer shows as an empty dict)."""
        return [answer.document or {} for answer in self.answers]


class LogCapture(logging.Handler):
    """Every record that reaches the root logger, formatted with its traceback, kept in memory.

    The levels are the ones the handler's configuration leaves in place (crhelper sets the root logger
    to INFO and boto's to ERROR at every invocation, as in Lambda), except the project's own loggers,
    held at DEBUG so that a debug line quoting a contact detail would be caught too.
    """

    def __init__(self) -> None:
        super().__init__(level=logging.NOTSET)
        self.setFormatter(logging.Formatter("%(levelname)s %(name)s %(message)s"))
        self.lines: list[str] = []
        self._saved: list[tuple[logging.Logger, int]] = []

    def emit(self, record: logging.LogRecord) -> None:
        """Keep the formatted record (message, exception and stack text included)."""
        try:
            self.lines.append(self.format(record))
        except Exception:  # a record that cannot format must not break the run; keep its raw parts
            self.lines.append(f"{record.name} {record.msg!r} {record.args!r}")

    def text(self) -> str:
        """Everything captured so far."""
        return "\n".join(self.lines)

    def clear(self) -> None:
        """Forget what was captured (long runs check each invocation's lines, then drop them)."""
        self.lines.clear()

    def __enter__(self) -> LogCapture:
        for name in PROJECT_LOGGERS:
            logger = logging.getLogger(name)
            self._saved.append((logger, logger.level))
            logger.setLevel(logging.DEBUG)
        logging.getLogger().addHandler(self)
        return self

    def __exit__(self, *_: object) -> None:
        logging.getLogger().removeHandler(self)
        for logger, level in self._saved:
            logger.setLevel(level)
        self._saved.clear()


class _Raw:
    """The raw stream botocore reads a response body from."""

    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self._body


def api_error_response(status: int, code: str, message: str = "injected fault") -> AWSResponse:
    """An Account API (restJson) error as AWS sends it: botocore raises the real ClientError from it."""
    body = ('{"message": "%s"}' % message).encode()  # noqa: UP031 - a JSON literal
    headers = {"x-amzn-ErrorType": code, "Content-Type": "application/json", "x-amzn-RequestId": str(uuid.uuid4())}
    return AWSResponse("https://account.us-east-1.amazonaws.com/", status, headers, _Raw(body))


#: Faults an Account API call can meet: throttling and a server error, as the API reports them.
FAULTS: Mapping[str, tuple[int, str]] = {
    "429": (429, "TooManyRequestsException"),
    "500": (500, "InternalServerException"),
}


class AccountFaults:
    """A botocore ``before-send`` hook that answers scheduled Account API calls with a fault.

    moto cannot throttle or fail (REFERENCE section 4): the hook runs before moto's own and, for a
    scheduled call, returns a 429 ``TooManyRequestsException`` or a 500 ``InternalServerException``
    response, which botocore parses into the real error, and keeps moto from carrying the call out.
    Calls past the schedule reach moto.

    Parameters
    ----------
    schedule:
        Per operation name (``PutAlternateContact``...), the fault of each successive call: ``"429"``,
        ``"500"``, or ``None`` for a call that goes through.
    default:
        The fault of every call past an operation's schedule (``None``: go through).
    before:
        Called with the operation name and the request's parameters just before a call goes through;
        a test uses it to slip a concurrent write in at an exact point.
    """

    def __init__(
        self,
        schedule: Mapping[str, list[str | None]] | None = None,
        *,
        default: str | None = None,
        before: Callable[[str, dict[str, Any]], None] | None = None,
    ) -> None:
        self.schedule = {name: list(faults) for name, faults in (schedule or {}).items()}
        self.default = default
        self.before = before
        self.calls: list[tuple[str, str | None]] = []
        self._lock = threading.Lock()

    def __call__(self, request: Any, event_name: str = "", **_: Any) -> AWSResponse | None:
        operation = event_name.rsplit(".", 1)[-1]
        with self._lock:
            pending = self.schedule.get(operation)
            fault = pending.pop(0) if pending else self.default
            self.calls.append((operation, fault))
        if fault is None:
            if self.before is not None:
                self.before(operation, _json_body(request))
            return None
        # botocore runs every before-send handler and takes the first response; moto's own handler comes
        # later and would still carry out the call. Pointing the request elsewhere makes moto pass on it.
        request.url = "https://fault-injected.invalid/"
        status, code = FAULTS[fault]
        return api_error_response(status, code)

    def faults_served(self) -> int:
        """How many calls were answered with a fault."""
        with self._lock:
            return sum(1 for _, fault in self.calls if fault is not None)


def _json_body(request: Any) -> dict[str, Any]:
    try:
        body = json.loads(request.body or b"{}")
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def moto_contacts() -> Contacts:
    """Every alternate contact moto holds, in every account and partition (read from its backend).

    Read from moto's own state rather than through the API, so a write to an account nobody thought to
    ask about (a look-alike account id, say) shows up too.
    """
    found: Contacts = {}
    for account_id, per_partition in list(account_backends.items()):
        for partition, backend in list(per_partition.items()):
            for contact_type, contact in list(backend._alternate_contacts.items()):
                found[(account_id, partition, contact_type)] = (
                    contact.email_address,
                    contact.name,
                    contact.phone_number,
                    contact.title,
                )
    return found


def ssm_parameters() -> dict[tuple[str, str, str], str]:
    """Every SSM parameter moto holds (restore-on-delete records live there): ``(account, region, name) -> value``."""
    found: dict[tuple[str, str, str], str] = {}
    for account_id, per_region in list(ssm_backends.items()):
        for region, backend in list(per_region.items()):
            for name, versions in list(dict.items(backend._parameters)):
                if versions:
                    found[(account_id, region, name)] = str(versions[-1].value)
    return found


@dataclass(frozen=True)
class World:
    """What an invocation may change: the accounts' contacts and the restore records."""

    contacts: Contacts
    parameters: dict[tuple[str, str, str], str]


def world() -> World:
    """A snapshot of moto's contacts and SSM parameters."""
    return World(moto_contacts(), ssm_parameters())


def crhelper_timer() -> threading.Timer | None:
    """crhelper's last-moment timer of the latest invocation (a private attribute: crhelper offers no other way)."""
    timer: threading.Timer | None = vars(index.helper).get("_timer")
    return timer


def crhelper_timer_stopped(timeout_s: float = 2.0) -> bool:
    """Whether crhelper's timer is cancelled or done: once it is, it cannot send its FAILED answer any more."""
    timer = crhelper_timer()
    if timer is None:
        return True
    timer.join(timeout_s)
    return not timer.is_alive()


@dataclass(frozen=True)
class Observed:
    """What one invocation left behind, besides its answers.

    Attributes
    ----------
    before, after:
        moto's contacts and SSM parameters around the invocation.
    log:
        Every log line written during it.
    stray_answers:
        Answers that arrived for any other URL while it ran (an event without envelope must cause none).
    signature:
        The X-Amz-Signature of the URL it was given.
    """

    before: World
    after: World
    log: str
    stray_answers: int = 0
    signature: str = ""


class CountingListener(ResponseListener):
    """The project's ResponseURL listener, also counting every PUT it receives (accepted or rejected)."""

    def __init__(self, workdir: Path) -> None:
        super().__init__(workdir)
        self.received = 0
        self._count_lock = threading.Lock()

    def _receive(self, path: str, body: bytes) -> tuple[int, str]:
        with self._count_lock:
            self.received += 1
        return super()._receive(path, body)


def instant_waits() -> Callable[[], None]:
    """Make the handler's sleeps (retry backoff, waits between confirming reads) instant; returns the undo.

    moto is strongly consistent and answers at once, so those sleeps only cost time here; the decisions
    around them (what is retried, how many attempts the deadline allows) still run. Tests about timing
    near the deadline leave the real sleeps in place.
    """
    real = index.make_clients

    def make_clients(context: Any, deadline: Any) -> Any:
        clients = real(context, deadline)
        clients.policy = RetryPolicy(sleep=lambda _seconds: None)
        return clients

    index.make_clients = make_clients

    def undo() -> None:
        index.make_clients = real

    return undo


class AppCloudFormationApi(CloudFormationApi):
    """localdeploy's ListStackResources endpoint, answering DescribeStacks too (a Delete asks for its app's root).

    Each published stack is a root unless ``roots`` maps its id to the root stack's id.
    """

    def __init__(self, registry: StackRegistry) -> None:
        super().__init__(registry)
        self.roots: dict[str, str] = {}

    def handle(self, form: dict[str, str]) -> tuple[int, bytes]:
        """Answer DescribeStacks here, everything else as localdeploy does."""
        if form.get("Action") != "DescribeStacks":
            return super().handle(form)
        stack = form.get("StackName", "")
        view = self.registry.find(stack)
        if view is None:
            return _query_error("ValidationError", f"Stack with id {stack} does not exist")
        root = self.roots.get(view.stack_id)
        parent = f"<RootId>{escape(root)}</RootId><ParentId>{escape(root)}</ParentId>" if root else ""
        body = (
            f'<DescribeStacksResponse xmlns="{NAMESPACE}"><DescribeStacksResult><Stacks><member>'
            f"<StackName>{escape(view.stack_name)}</StackName><StackId>{escape(view.stack_id)}</StackId>"
            f"<CreationTime>2026-11-22T00:00:00.000Z</CreationTime><StackStatus>{escape(view.status)}</StackStatus>"
            f"{parent}</member></Stacks></DescribeStacksResult>"
            f"<ResponseMetadata><RequestId>{uuid.uuid4()}</RequestId></ResponseMetadata></DescribeStacksResponse>"
        )
        return 200, body.encode("utf-8")


def _query_error(code: str, message: str) -> tuple[int, bytes]:
    body = (
        f'<ErrorResponse xmlns="{NAMESPACE}"><Error><Type>Sender</Type><Code>{code}</Code>'
        f"<Message>{escape(message)}</Message></Error><RequestId>{uuid.uuid4()}</RequestId></ErrorResponse>"
    )
    return 400, body.encode("utf-8")


class HandlerHarness(Assembled):
    """The handler's world in this process: listener, CloudFormation endpoint, moto, captured logs.

    Parameters
    ----------
    workdir:
        Where the listener's CA certificate is written.
    listener:
        A listener (not started) to use instead of a new one: a test may bring one that fails on purpose.
    """

    def __init__(self, workdir: Path, *, listener: ResponseListener | None = None) -> None:
        super().__init__()
        self.workdir = workdir
        self.listener = listener or CountingListener(workdir)
        self.registry = StackRegistry()
        self.cfn_api = AppCloudFormationApi(self.registry)
        #: What :meth:`publish_stack` last set for :data:`STACK_ID`.
        self.listed: tuple[tuple[str, str, str], ...] = ()
        self.logs = LogCapture()
        #: How many answers each issued URL had when its invocation returned (for a later recount).
        self.answered: dict[str, int] = {}

    # -- life cycle --------------------------------------------------------------------------------

    def _start_parts(self) -> None:
        """Start the servers, set the environment, enter moto's mock and the log capture."""
        self.listener.start()
        self._stack.callback(self.listener.stop)
        self.cfn_api.start()
        self._stack.callback(self.cfn_api.stop)
        self._set_env("SSL_CERT_FILE", str(self.listener.ca_file))
        # Only CloudFormation goes to a local endpoint; the Account API is moto's, in-process.
        self._set_env("AWS_ENDPOINT_URL_CLOUDFORMATION", self.cfn_api.endpoint)
        self._stack.enter_context(mock_aws())
        # A fresh default session: the handler's clients come from it, and fault hooks attach to it.
        boto3.setup_default_session()
        self._stack.callback(boto3.setup_default_session)
        self._stack.enter_context(self.logs)
        self.publish_stack()

    def _set_env(self, name: str, value: str) -> None:
        previous = os.environ.get(name)
        os.environ[name] = value

        def restore() -> None:
            if previous is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = previous

        self._stack.callback(restore)

    # -- the world ---------------------------------------------------------------------------------

    def publish_stack(self, *resources: tuple[str, str, str]) -> None:
        """Set what ListStackResources shows for :data:`STACK_ID`: (logical id, physical id, status)."""
        self.listed = resources
        now = datetime.now(UTC)
        summaries = tuple(
            ResourceSummary(logical, physical, "Custom::AlternateContact", status, now)
            for logical, physical, status in resources
        )
        self.registry.publish(StackView(STACK_ID, STACK_NAME, "UPDATE_IN_PROGRESS", summaries))

    @contextlib.contextmanager
    def account_faults(self, faults: AccountFaults) -> Iterator[AccountFaults]:
        """Attach ``faults`` to the Account API clients the handler creates while the block runs.

        The handler keeps its clients between invocations, as an execution environment does; they are
        dropped on entry and exit so that the clients of the block are made with the faults attached.
        """
        session = boto3.DEFAULT_SESSION
        assert session is not None, "start() sets up the default session"
        events = session.events
        events.register_first("before-send.account", faults, unique_id="robustness-account-faults")
        index._CLIENTS.clear()
        try:
            yield faults
        finally:
            events.unregister("before-send.account", unique_id="robustness-account-faults")
            index._CLIENTS.clear()

    # -- invoking ----------------------------------------------------------------------------------

    def invoke(
        self,
        event: Any,
        *,
        seconds: float = 60.0,
        issue_url: bool = True,
        route: Callable[[str], str] | None = None,
        as_cloudformation: bool = True,
    ) -> Invocation:
        """Call ``index.handler(event, context)`` once, as Lambda would.

        When ``issue_url`` is true and the event is a dict with a string ResponseURL, that is replaced by a
        fresh URL of the listener (the event's RequestId may be anything a fuzzer drew, so the URL has its own key).
        ``route`` rewrites that URL (through a fault proxy, say). Nothing raised by the handler propagates:
        it is recorded in the result.

        With ``as_cloudformation`` (the default), a Delete of a resource of :data:`STACK_ID` that the
        published stack does not list yet is shown DELETE_IN_PROGRESS while it runs, as CloudFormation shows
        a resource it is deleting; False sends the event as a stray or forged one, against the stack as
        published.
        """
        key = None
        if issue_url and isinstance(event, dict) and isinstance(event.get("ResponseURL"), str):
            key = uuid.uuid4().hex
            url = self.listener.issue(STACK_NAME, key)
            event["ResponseURL"] = route(url) if route else url
        context = LambdaContext(seconds)
        started = time.monotonic()
        raised: BaseException | None = None
        published = self.listed
        if as_cloudformation:
            self._show_deleting(event)
        try:
            index.handler(event, context)
        except BaseException as error:  # the property under test: nothing escapes
            raised = error
        finally:
            if self.listed != published:
                self.publish_stack(*published)
        invocation = Invocation(event, key, started, time.monotonic(), context, raised)
        invocation.answers = self.answers_of(invocation)
        if key is not None:
            self.answered[key] = len(invocation.answers)
        return invocation

    def _show_deleting(self, event: Any) -> None:
        if not isinstance(event, dict) or event.get("RequestType") != "Delete" or event.get("StackId") != STACK_ID:
            return
        logical, physical = event.get("LogicalResourceId"), event.get("PhysicalResourceId")
        if not isinstance(logical, str) or not isinstance(physical, str):
            return
        if not (logical.isascii() and logical.isalnum()):
            return  # not a logical id CloudFormation could list (nor XML carry, for control characters)
        if any(listed_logical == logical for listed_logical, _, _ in self.listed):
            return
        self.publish_stack(*self.listed, (logical, physical, "DELETE_IN_PROGRESS"))

    def observe(
        self,
        event: Any,
        *,
        seconds: float = 60.0,
        route: Callable[[str], str] | None = None,
        as_cloudformation: bool = True,
    ) -> tuple[Invocation, Observed]:
        """:meth:`invoke`, with the world before and after, the log lines written and any stray answer."""
        received_before = self._received()
        first_line = len(self.logs.lines)
        before = world()
        invocation = self.invoke(event, seconds=seconds, route=route, as_cloudformation=as_cloudformation)
        after = world()
        stray = self._received() - received_before - len(invocation.answers)
        signature = ""
        if invocation.key is not None:
            signature = parse_qs(urlsplit(invocation.event["ResponseURL"]).query)["X-Amz-Signature"][0]
        log = "\n".join(self.logs.lines[first_line:])
        return invocation, Observed(before, after, log, stray, signature)

    def observe_case(self, case: Any, *, seconds: float = 300.0) -> tuple[Invocation, Observed]:
        """:meth:`observe` a generated case (tests/support/hostile_events.py): a forged Delete runs against
        the stack its case lists, and is not shown DELETE_IN_PROGRESS as a Delete CloudFormation sends is."""
        if case.forged:
            self.publish_stack(*case.listed)
        try:
            return self.observe(case.event, seconds=seconds, as_cloudformation=not case.forged)
        finally:
            if case.forged:
                self.publish_stack()

    def _received(self) -> int:
        listener = self.listener
        if isinstance(listener, CountingListener):
            return listener.received
        return sum(listener.answer_counts().values()) + len(listener.rejected)

    def answers_of(self, invocation: Invocation) -> list[Answer]:
        """Every answer the listener recorded for the invocation's URL, now."""
        return self.listener.answers(invocation.key) if invocation.key else []

    def signatures(self) -> list[str]:
        """The X-Amz-Signature of every URL issued so far."""
        return [issued.signature for issued in self.listener.issued()]
