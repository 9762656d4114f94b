"""IAM as AWS evaluates it for the functions' calls: one evaluator, the role policies live at each moment,
and an HTTP front that authorizes every call a function makes before it reaches an emulator.

The evaluator answers ``allowed(action, resource, context)`` for identity-based statements: an explicit
Deny wins, then any matching Allow, else the implicit deny (IAM's policy evaluation logic). Action names
match case-insensitively, resources and condition values case-sensitively, both with ``*`` and ``?``
wildcards. Only the condition operators this project's policies use are implemented; any other raises
:class:`UnsupportedPolicyError`, so a new operator is reviewed instead of being misread.

:class:`PolicyRegistry` holds, per stack, the roles and the policy resources attached to them, exactly as
the engine has them at that moment: a policy resource takes effect when CloudFormation has created or
updated it and stops when it is deleted, so the update phase, the cleanup phase, a rollback and its
cleanup each run under the policy CloudFormation has at that step (shared/REFERENCE.md section 6).

:class:`IamFront` sits between the functions and every emulator they reach. It tells the caller from the
access key of its SigV4 signature (each function's role gets its own key), maps the request to the IAM
action, resource ARN and condition keys the real service authorizes, and answers a call the role's policy
does not allow with that service's own AccessDenied error, in the service's protocol, so boto3 raises the
same ``ClientError`` it raises on AWS. Calls signed with any other key (the tests' and the demo's own
clients) pass unevaluated. What each call asks IAM (:class:`RequestMapper`: the Account API, CloudFormation,
STS, SQS, EventBridge, SSM, CloudWatch and Organizations) is in :mod:`.iam_requests`.
"""

from __future__ import annotations

import contextlib
import hashlib
import re
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from . import aws_managed_policies, iam_requests
from .iam_requests import Authorization, Organization, RequestMapper, denial, json_body, signer
from .net import LocalServer, QuietHandler, forward

__all__ = [
    "POLICY_TYPES",
    "Authorization",
    "Context",
    "Decision",
    "IamFront",
    "IdentityPolicy",
    "Organization",
    "PolicyRegistry",
    "PolicyResource",
    "RequestMapper",
    "Statement",
    "UnsupportedPolicyError",
    "access_key_for",
    "condition_holds",
    "denial",
    "glob_match",
    "signer",
]

#: A request's context keys: each a list of values (IAM's multivalued keys), absent when not sent.
Context = Mapping[str, list[str]]


class UnsupportedPolicyError(NotImplementedError):
    """The policy uses something this evaluator does not model: review it by hand, then teach it here."""


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def glob_match(pattern: str, value: str, *, ignore_case: bool = False) -> bool:
    """IAM's wildcard match: ``*`` any run of characters (``/`` and ``:`` included), ``?`` one character.

    Nothing else is special: IAM's ``StringLike`` knows no ``[...]`` classes, unlike :mod:`fnmatch`.
    """
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, value, re.DOTALL | (re.IGNORECASE if ignore_case else 0)) is not None


#: The condition operators implemented, by base name (the ``ForAllValues:``/``ForAnyValue:`` set
#: qualifiers apply to each).
_MATCHERS: dict[str, Callable[[str, list[str]], bool]] = {
    "StringEquals": lambda value, expected: value in expected,
    "StringNotEquals": lambda value, expected: value not in expected,
    "StringLike": lambda value, expected: any(glob_match(p, value) for p in expected),
    "StringNotLike": lambda value, expected: not any(glob_match(p, value) for p in expected),
    "ArnEquals": lambda value, expected: any(glob_match(p, value) for p in expected),
    "ArnLike": lambda value, expected: any(glob_match(p, value) for p in expected),
    # "true"/"false", compared without case (aws:SecureTransport, aws:MultiFactorAuthPresent).
    "Bool": lambda value, expected: value.lower() in [e.lower() for e in expected],
}

_NEGATED = frozenset({"StringNotEquals", "StringNotLike"})


def condition_holds(operator: str, key: str, expected: list[str], context: Context) -> bool:
    """Whether one condition (operator, key, values) holds for a request's context.

    Follows IAM's documented semantics, traps included: ``ForAllValues`` is true when the key is absent
    (pair it with ``Null``), ``ForAnyValue`` is false then, and a plain operator on an absent key is false
    (a negated one is true: ``StringNotEquals`` matches a request that lacks the key).
    """
    present = key in context
    values = list(context.get(key, []))
    if operator == "Null":
        (want_absent,) = expected
        return (not present) == (str(want_absent).lower() == "true")
    qualifier, _, base = operator.rpartition(":")
    matcher = _MATCHERS.get(base)
    if matcher is None:
        raise UnsupportedPolicyError(f"condition operator {operator}")
    if qualifier == "ForAllValues":
        return all(matcher(v, expected) for v in values)
    if qualifier == "ForAnyValue":
        return any(matcher(v, expected) for v in values)
    if qualifier:
        raise UnsupportedPolicyError(f"condition qualifier {qualifier}")
    if not present:
        return base in _NEGATED
    if base in _NEGATED:
        return all(matcher(v, expected) for v in values)
    return any(matcher(v, expected) for v in values)


@dataclass(frozen=True)
class Statement:
    """One resolved policy statement."""

    effect: str
    actions: tuple[str, ...]
    resources: tuple[str, ...]
    conditions: Mapping[str, Mapping[str, list[str]]]

    @classmethod
    def parse(cls, raw: Mapping[str, Any]) -> Statement:
        """Read one statement of a policy document (values already resolved to strings).

        Raises
        ------
        UnsupportedPolicyError
            For elements an identity policy evaluator must not guess at (NotAction, NotResource, Principal).
        """
        unsupported = {"NotAction", "NotResource", "NotPrincipal", "Principal"} & set(raw)
        if unsupported:
            raise UnsupportedPolicyError(f"statement elements {sorted(unsupported)}")
        conditions = {
            operator: {key: [str(v) for v in _as_list(values)] for key, values in keys.items()}
            for operator, keys in raw.get("Condition", {}).items()
        }
        return cls(
            str(raw["Effect"]),
            tuple(str(a) for a in _as_list(raw["Action"])),
            tuple(str(r) for r in _as_list(raw["Resource"])),
            conditions,
        )

    def matches(self, action: str, resource: str, context: Context) -> bool:
        """Whether the statement applies to the request (its effect aside)."""
        return (
            any(glob_match(pattern, action, ignore_case=True) for pattern in self.actions)
            and any(glob_match(pattern, resource) for pattern in self.resources)
            and all(
                condition_holds(operator, key, expected, context)
                for operator, keys in self.conditions.items()
                for key, expected in keys.items()
            )
        )


class IdentityPolicy:
    """The identity-based statements of one principal, ready to evaluate requests against."""

    def __init__(self, statements: Iterable[Mapping[str, Any]]) -> None:
        self.statements = [Statement.parse(s) for s in statements]

    def allowed(self, action: str, resource: str, context: Context | None = None) -> bool:
        """IAM's decision: explicit deny, else any allow, else implicit deny."""
        context = context or {}
        matching = [s for s in self.statements if s.matches(action, resource, context)]
        if any(s.effect == "Deny" for s in matching):
            return False
        return any(s.effect == "Allow" for s in matching)


# -- the role policies CloudFormation has at each moment ------------------------------------------------

#: Resource states in which a policy resource is not (or no longer) attached.
_NOT_IN_FORCE = frozenset({"CREATE_IN_PROGRESS", "CREATE_FAILED", "DELETE_COMPLETE", "DELETE_SKIPPED"})

ROLE = "AWS::IAM::Role"
POLICY = "AWS::IAM::Policy"
MANAGED_POLICY = "AWS::IAM::ManagedPolicy"
POLICY_TYPES = frozenset({ROLE, POLICY, MANAGED_POLICY})


@dataclass(frozen=True)
class PolicyResource:
    """A policy-bearing resource of a stack as the engine has it: its type, physical id, status and
    resolved properties."""

    resource_type: str
    physical_id: str | None
    status: str
    properties: Mapping[str, Any]


@dataclass
class _StackPolicies:
    roles: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    attached: list[tuple[frozenset[str], list[dict[str, Any]]]] = field(default_factory=list)


@dataclass
class _Published:
    """A stack's policies now, the ones before, and when the change was made (IAM propagates it later)."""

    current: _StackPolicies
    previous: _StackPolicies
    changed_at: float


def _documents(properties: Mapping[str, Any]) -> list[dict[str, Any]]:
    document = properties.get("PolicyDocument")
    if not isinstance(document, Mapping):
        return []
    return [dict(s) for s in _as_list(document.get("Statement", [])) if isinstance(s, Mapping)]


class PolicyRegistry:
    """The identity policies of every role of every stack, as CloudFormation has them now.

    The engine publishes a stack's policy-bearing resources on every change (:meth:`publish`); a role's
    policy is its inline ``Policies`` plus every ``AWS::IAM::Policy`` or ``AWS::IAM::ManagedPolicy`` of any
    stack that names the role in ``Roles``. A role's ``ManagedPolicyArns`` name policies outside the
    template: the AWS managed policies of :mod:`.aws_managed_policies` (AWSLambdaBasicExecutionRole...) add
    their published statements; any other makes the role raise :class:`UnsupportedPolicyError` when
    evaluated, instead of being given or refused what AWS would decide.
    """

    def __init__(
        self, account_id: str, *, propagation_s: float = 0.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.account_id = account_id
        #: How long a change takes to reach IAM's evaluation: until then calls are judged by the policy from
        #: before it ("changes ... are eventually consistent", IAM documentation). 0: at once.
        self.propagation_s = propagation_s
        self._clock = clock
        self._lock = threading.Lock()
        self._stacks: dict[str, _Published] = {}
        self._managed_arns: dict[str, list[str]] = {}

    def publish(self, stack_id: str, resources: Iterable[PolicyResource]) -> None:
        """Replace what is known of ``stack_id``'s roles and policies with ``resources``."""
        view = _StackPolicies()
        for resource in resources:
            if resource.status in _NOT_IN_FORCE or not resource.physical_id:
                continue
            if resource.resource_type == ROLE:
                statements = [
                    s
                    for policy in _as_list(resource.properties.get("Policies") or [])
                    if isinstance(policy, Mapping)
                    for s in _documents(policy)
                ]
                view.roles[resource.physical_id] = statements
                arns = resource.properties.get("ManagedPolicyArns") or []
                self._managed_arns[resource.physical_id] = [str(a) for a in _as_list(arns)]
            elif resource.resource_type in (POLICY, MANAGED_POLICY):
                names = frozenset(str(name) for name in _as_list(resource.properties.get("Roles") or []))
                view.attached.append((names, _documents(resource.properties)))
        with self._lock:
            # A role name is unique in an account: a stack that holds it now is the only one that does (a
            # stack of an earlier run, forgotten without a destroy, no longer has it).
            for other_id, other in list(self._stacks.items()):
                if other_id != stack_id and set(other.current.roles) & set(view.roles):
                    del self._stacks[other_id]
            known = self._stacks.get(stack_id)
            if known is None:
                self._stacks[stack_id] = _Published(view, view, self._clock())
            elif known.current != view:
                self._stacks[stack_id] = _Published(view, self._in_force(known), self._clock())

    def _in_force(self, published: _Published) -> _StackPolicies:
        if self._clock() - published.changed_at >= self.propagation_s:
            return published.current
        return published.previous

    def forget(self, stack_id: str) -> None:
        """A stack is gone: its roles and policies with it."""
        with self._lock:
            self._stacks.pop(stack_id, None)

    def clear(self) -> None:
        """Forget every stack (a clean slate between tests)."""
        with self._lock:
            self._stacks.clear()
            self._managed_arns.clear()

    def role_arn(self, role_name: str) -> str:
        """The ARN of a role of this account."""
        return f"arn:aws:iam::{self.account_id}:role/{role_name}"

    def policy(self, role_arn: str) -> IdentityPolicy | None:
        """The role's identity policy now; ``None`` when no stack holds the role (it was deleted)."""
        name = role_arn.rsplit("/", 1)[-1]
        with self._lock:
            stacks = [self._in_force(published) for published in self._stacks.values()]
        inline = next((view.roles[name] for view in stacks if name in view.roles), None)
        if inline is None:
            return None
        statements = list(inline)
        for arn in self._managed_arns.get(name, []):
            published = aws_managed_policies.statements_of(arn)
            if published is None:
                raise UnsupportedPolicyError(
                    f"role {name} has ManagedPolicyArns ({arn}) whose statements are not known"
                )
            statements.extend(published)
        for view in stacks:
            for names, attached in view.attached:
                if name in names:
                    statements.extend(attached)
        return IdentityPolicy(statements)


def access_key_for(role_arn: str) -> str:
    """The access key id a function running as ``role_arn`` signs with (an STS session key's shape)."""
    return "ASIA" + hashlib.sha256(role_arn.encode()).hexdigest()[:16].upper()


@dataclass(frozen=True)
class Decision:
    """One call the front judged: who, what, and whether IAM allowed it."""

    role_arn: str
    authorization: Authorization
    allowed: bool


class IamFront(LocalServer):
    """An HTTP front that evaluates every call of a function against its role's policy, then forwards it.

    Parameters
    ----------
    upstreams:
        Base URL per service name (``account``, ``cloudformation``...); ``"*"`` for every other service.
    policies:
        The roles' policies now.
    mapper:
        Maps a request to what IAM is asked.
    roles:
        The role ARN behind each function access key (filled as functions are deployed).
    """

    def __init__(self, upstreams: Mapping[str, str], policies: PolicyRegistry, mapper: RequestMapper) -> None:
        self.upstreams = {name: urlsplit(url) for name, url in upstreams.items()}
        self.policies = policies
        self.mapper = mapper
        self._lock = threading.Lock()
        self._roles: dict[str, str] = {}
        #: Every call of a function judged, in order: tests assert what was denied and when.
        self.decisions: list[Decision] = []
        #: Answers an allowed call itself instead of forwarding it (service, headers, body -> answer, or
        #: ``None`` to forward): EventBridge's PutEvents goes to the local buses, which deliver as AWS does.
        self.intercept: Callable[[str, Mapping[str, str], bytes], tuple[int, dict[str, str], bytes] | None] | None = (
            None
        )
        #: Services whose calls are forwarded one at a time. DynamoDB evaluates a write's condition and makes
        #: the write as one atomic step ("conditional writes ... are atomic", DynamoDB Developer Guide,
        #: Condition expressions); moto_server answers each request on its own thread with no lock around its
        #: tables, so two concurrent conditional UpdateItems could both pass (seen: the coverage's run ledger
        #: claimed one run twice). One at a time, the engine is as strict as DynamoDB.
        self.serialized: dict[str, threading.Lock] = {"dynamodb": threading.Lock()}
        super().__init__(_IamHandler, name="iam-front")

    def register(self, role_arn: str) -> str:
        """The access key a function running as ``role_arn`` gets; its calls are judged as that role's."""
        key = access_key_for(role_arn)
        with self._lock:
            self._roles[key] = role_arn
        return key

    def denied(self) -> list[Decision]:
        """The calls refused so far."""
        with self._lock:
            return [d for d in self.decisions if not d.allowed]

    def judge(
        self, headers: Mapping[str, str], path: str, body: bytes
    ) -> tuple[str, tuple[int, dict[str, str], bytes] | None]:
        """The service of a call and, when IAM refuses it, the answer to send instead of forwarding it."""
        signed = signer(headers)
        if signed is None:
            return "", None
        key, service = signed
        with self._lock:
            role_arn = self._roles.get(key)
        if role_arn is None:
            return service, None  # not a function's credentials: the tests' and the demo's own clients
        authorization = self.mapper.map(service, path, headers, body)
        if authorization is None:
            return service, None
        policy = self.policies.policy(role_arn)
        refused_pair = next(
            (
                (action, resource)
                for action, resource in authorization.checks()
                if policy is None or not policy.allowed(action, resource, authorization.context)
            ),
            None,
        )
        refused_action, refused = refused_pair if refused_pair else (authorization.action, None)
        allowed = refused is None
        with self._lock:
            self.decisions.append(Decision(role_arn, authorization, allowed))
        if allowed:
            return service, self._service_rule(service, body)
        session = f"arn:aws:sts::{self.mapper.account_id}:assumed-role/{role_arn.rsplit('/', 1)[-1]}/function"
        if service in iam_requests.SERVICES:
            message = iam_requests.denied_message(service, session, refused_action, str(refused))
            return service, denial(service, message)
        message = (
            f"User: {session} is not authorized to perform: {authorization.action} on resource: "
            f"{authorization.resource} because no identity-based policy allows the {authorization.action} action"
        )
        return service, denial(service, message)

    def _service_rule(self, service: str, body: bytes) -> tuple[int, dict[str, str], bytes] | None:
        """What the service itself refuses although IAM allowed it, where moto is more lenient.

        The Account API refuses a caller's own account id in AccountId (the management account must leave
        it out for its own contacts: shared/REFERENCE.md section 1).
        """
        if service == "account" and str(json_body(body).get("AccountId", "")) == self.mapper.account_id:
            return denial(
                "account",
                "The management account can't specify its own AccountId; it must call the operation in standalone "
                "context by not including the AccountId parameter",
            )
        return None


class _IamHandler(QuietHandler):
    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        front: IamFront = self.context
        body = self.read_body()
        headers = dict(self.headers.items())
        service, refusal = front.judge(headers, self.path, body)
        if refusal is not None:
            status, refusal_headers, payload = refusal
            content_type = refusal_headers.pop("Content-Type")
            self.send_body(status, payload, content_type, refusal_headers)
            return
        answer = front.intercept(service, headers, body) if front.intercept is not None else None
        if answer is not None:
            status, answer_headers, payload = answer
            content_type = answer_headers.pop("Content-Type")
            self.send_body(status, payload, content_type, answer_headers)
            return
        upstream = front.upstreams.get(service) or front.upstreams["*"]
        with front.serialized.get(service) or contextlib.nullcontext():
            forwarded = forward(upstream, self.command, self.path, headers, body)
        self.send_forwarded(*forwarded)

    do_GET = do_POST  # noqa: N815 - http.server's naming
    do_PUT = do_POST  # noqa: N815 - http.server's naming
    do_DELETE = do_POST  # noqa: N815 - http.server's naming
