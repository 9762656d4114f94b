"""The AWS side, read-only: who is calling, the live contacts, the deployed stacks' resources, and the
organization's accounts.

Credentials, region and endpoints come from boto3's standard chain, so the tool works against AWS with a
profile, SSO or environment credentials, and against a local emulator with ``AWS_ENDPOINT_URL`` (or the
per-service ``AWS_ENDPOINT_URL_ACCOUNT`` and so on). The calls themselves are the handler package's (its
Account API, Organizations, retry and error modules, shared with the provider and the coverage function);
contact reads are paced by a shared :class:`RateLimiter`. Failures become messages that say what to do, and
never quote a contact detail.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any, Final, TypeVar

import boto3
from botocore.config import Config
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    EndpointConnectionError,
    NoCredentialsError,
    NoRegionError,
    PartialCredentialsError,
    ProfileNotFound,
    SSOError,
    TokenRetrievalError,
)

from cdk_alternate_contacts_handler import organizations
from cdk_alternate_contacts_handler.account_api import Target, get_contact
from cdk_alternate_contacts_handler.errors import (
    ACCESS_DENIED_HINT,
    error_code,
    error_message,
    is_retryable,
    is_throttling,
    redact,
)
from cdk_alternate_contacts_handler.organizations import OrgAccount, Organization
from cdk_alternate_contacts_handler.retry import RetryPolicy, without_deadline

from .ratelimit import RateLimiter

T = TypeVar("T")
K = TypeVar("K")

#: The Account and Organizations APIs are global, served from us-east-1 in the aws partition.
DEFAULT_REGION: Final = "us-east-1"

#: Attempts per read before reporting the error (throttling and server faults only are retried).
MAX_ATTEMPTS: Final = 8

#: How Organizations reads are retried: the handler's backoff, up to :data:`MAX_ATTEMPTS` attempts (their
#: clients make one try each, ``attempts=1``).
ORGANIZATIONS_POLICY: Final = RetryPolicy(max_attempts=MAX_ATTEMPTS)

#: Account states that the audit checks; the others (SUSPENDED, PENDING_CLOSURE, CLOSED) are skipped.
ACTIVE: Final = "ACTIVE"

_CREDENTIAL_CODES: Final = frozenset(
    {
        "InvalidClientTokenId",
        "UnrecognizedClientException",
        "SignatureDoesNotMatch",
        "ExpiredToken",
        "ExpiredTokenException",
        "InvalidSignatureException",
    }
)

NO_CREDENTIALS_HINT: Final = (
    "no AWS credentials found: use --profile NAME (or AWS_PROFILE), `aws sso login`, or set "
    "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"
)


class AwsError(Exception):
    """A failure that stops the command: bad credentials, no access, an endpoint out of reach."""


def explain_fatal(error: Exception, doing: str) -> AwsError:
    """Turn an exception from boto3 into a message that tells the user what to do."""
    message = f"{doing}: {error}"
    if isinstance(error, (NoCredentialsError, PartialCredentialsError)):
        message = NO_CREDENTIALS_HINT
    elif isinstance(error, ProfileNotFound):
        message = f"{error}: check --profile (or AWS_PROFILE) against ~/.aws/config"
    elif isinstance(error, (TokenRetrievalError, SSOError)):
        message = f"the SSO session has expired or is missing: run `aws sso login` ({error})"
    elif isinstance(error, EndpointConnectionError):
        message = f"{doing}: cannot reach {error.kwargs.get('endpoint_url', 'the endpoint')}"
    elif isinstance(error, ClientError):
        code = error_code(error)
        if code in _CREDENTIAL_CODES:
            message = f"{doing}: the credentials were rejected ({code}): refresh them or pick another profile"
        else:
            message = f"{doing}: {code}: {error_message(error)}"
    return AwsError(message)


@dataclass(frozen=True)
class Caller:
    """The identity of the credentials in use (STS GetCallerIdentity)."""

    account: str
    arn: str

    @property
    def partition(self) -> str:
        """``aws``, ``aws-cn`` or ``aws-us-gov``, from the caller's ARN."""
        parts = self.arn.split(":")
        return parts[1] if len(parts) > 1 and parts[1] else "aws"


class Aws:
    """boto3 clients built once from the standard chain, ``--profile`` and ``--region``.

    Parameters
    ----------
    profile:
        A named profile; default: the standard chain (environment, ``AWS_PROFILE``, default profile, SSO,
        instance or container role).
    region:
        Default: the configured region, else us-east-1, where the Account and Organizations APIs live.
    concurrency:
        Threads reading contacts at once; the rate limiter decides the pace.
    """

    def __init__(self, *, profile: str | None, region: str | None, concurrency: int) -> None:
        try:
            self.session = boto3.Session(profile_name=profile, region_name=region)
        except BotoCoreError as error:
            raise explain_fatal(error, "reading the AWS configuration") from None
        self.region = self.session.region_name or DEFAULT_REGION
        self.concurrency = concurrency

    def client(self, service: str, *, attempts: int, region: str | None = None) -> Any:
        """A client of ``service`` in ``region`` (default: :attr:`region`); ``attempts`` counts botocore's own
        tries (1: this module retries)."""
        config = Config(
            retries={"mode": "standard", "total_max_attempts": attempts},
            connect_timeout=10,
            read_timeout=30,
            max_pool_connections=max(10, self.concurrency + 2),
            user_agent_extra="cdk-alternate-contacts-cli",
        )
        try:
            return self.session.client(service, region_name=region or self.region, config=config)
        except (BotoCoreError, NoRegionError) as error:
            raise explain_fatal(error, f"creating the {service} client") from None

    def caller(self) -> Caller:
        """Who the credentials belong to.

        Raises
        ------
        AwsError
            No credentials, rejected credentials, or no way to reach STS.
        """
        try:
            identity = self.client("sts", attempts=3).get_caller_identity()
        except (BotoCoreError, ClientError) as error:
            raise explain_fatal(error, "STS GetCallerIdentity") from None
        return Caller(account=str(identity["Account"]), arn=str(identity["Arn"]))


@dataclass(frozen=True)
class Reading:
    """What GetAlternateContact said about one account and type.

    Attributes
    ----------
    contact:
        The live details (EmailAddress, Name, PhoneNumber, Title); ``None`` when the account has no contact of
        that type, or when the read failed.
    code:
        The error code when the read failed (``AccessDeniedException``); ``None`` on success.
    message:
        What the failure means and what to do, without contact details.
    """

    contact: dict[str, str] | None
    code: str | None = None
    message: str | None = None

    @property
    def failed(self) -> bool:
        """Whether the read failed, so nothing is known about the contact."""
        return self.code is not None


class ContactReader:
    """Reads live contacts: paced, retried on throttling, AccountId left out for the caller's own account.

    Parameters
    ----------
    client:
        A boto3 ``account`` client (its own retries turned off: each attempt must pass the limiter).
    caller_account:
        The credentials' account; its contacts are read without AccountId, which the management account may
        not name.
    limiter:
        Shared by every thread.
    policy:
        Backoff between attempts (the handler's policy: full jitter, growing to ``cap_s``).
    max_attempts:
        Attempts before a throttled or failing read is reported as an error.
    """

    def __init__(
        self,
        client: Any,
        caller_account: str,
        limiter: RateLimiter,
        *,
        policy: RetryPolicy | None = None,
        max_attempts: int = MAX_ATTEMPTS,
    ) -> None:
        self.client = client
        self.caller_account = caller_account
        self.limiter = limiter
        self.policy = dataclasses.replace(policy or RetryPolicy(), max_attempts=max_attempts)
        self.max_attempts = max_attempts
        self.calls = 0
        self._count = threading.Lock()

    def read(self, account_id: str, contact_type: str) -> Reading:
        """The live contact of ``contact_type`` in ``account_id``, absent, or the error that prevented the read."""
        target = Target(account_id, contact_type, own_account=account_id == self.caller_account)
        try:
            paced = SimpleNamespace(get_alternate_contact=self._paced_get)
            contact = get_contact(
                paced, target, deadline=without_deadline(), policy=self.policy, on_retryable=self._throttled
            )
        except (ClientError, BotoCoreError) as error:
            code = error_code(error)
            if is_retryable(error):
                return Reading(
                    None, code, f"still {code} after {self.max_attempts} attempts; try again later or lower --max-rate"
                )
            return Reading(None, code, self._explain(error, target))
        return Reading(contact)

    def _paced_get(self, **arguments: str) -> Any:
        """GetAlternateContact, once the limiter lets the call through (each attempt waits its turn)."""
        self.limiter.acquire()
        with self._count:
            self.calls += 1
        return self.client.get_alternate_contact(**arguments)

    def _throttled(self, error: BaseException) -> None:
        if is_throttling(error):
            self.limiter.slow_down()

    def _explain(self, error: Exception, target: Target) -> str:
        code = error_code(error)
        if code == "AccessDeniedException":
            if target.own_account:
                return "the credentials need account:GetAlternateContact on their own account"
            return ACCESS_DENIED_HINT
        if isinstance(error, ClientError):
            return f"{code}: {redact(error_message(error), ())}"
        return str(error)


@dataclass(frozen=True)
class StackResource:
    """One resource of a deployed stack, as CloudFormation ListStackResources shows it."""

    logical_id: str
    physical_id: str | None
    resource_type: str
    status: str


class StackReadError(Exception):
    """A deployed stack that could not be listed (access denied, an endpoint out of reach).

    Attributes
    ----------
    code:
        The error code (``AccessDenied``), or the exception's name when there is none.
    """

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


class StackReader:
    """The resources of deployed stacks (CloudFormation ListStackResources, every page), each stack read once.

    ListStackResources rather than DescribeStackResources: the latter stops at 100 resources. A nested
    stack is read by its StackId, the physical id of its ``AWS::CloudFormation::Stack`` resource.

    Parameters
    ----------
    aws:
        The clients' source; one CloudFormation client per region is made, on first use.
    """

    def __init__(self, aws: Aws) -> None:
        self.aws = aws
        self.calls = 0
        self._clients: dict[str, Any] = {}
        self._listed: dict[tuple[str, str], list[StackResource] | StackReadError | None] = {}

    def resources(self, stack: str, region: str) -> list[StackResource] | None:
        """Every resource of ``stack`` (a name or a StackId) in ``region``; ``None`` when there is no such stack.

        Raises
        ------
        StackReadError
            When CloudFormation refuses or cannot be reached; the message names the permission to grant.
        """
        key = (region, stack)
        if key not in self._listed:
            try:
                self._listed[key] = self._list(stack, region)
            except StackReadError as error:
                # A refusal is not asked again for each contact of the stack.
                self._listed[key] = error
        listed = self._listed[key]
        if isinstance(listed, StackReadError):
            raise listed
        return listed

    def _list(self, stack: str, region: str) -> list[StackResource] | None:
        if region not in self._clients:
            self._clients[region] = self.aws.client("cloudformation", attempts=5, region=region)
        found: list[StackResource] = []
        try:
            for page in self._clients[region].get_paginator("list_stack_resources").paginate(StackName=stack):
                self.calls += 1
                found.extend(
                    StackResource(
                        logical_id=str(row["LogicalResourceId"]),
                        physical_id=str(row["PhysicalResourceId"]) if row.get("PhysicalResourceId") else None,
                        resource_type=str(row.get("ResourceType", "")),
                        status=str(row.get("ResourceStatus", "")),
                    )
                    for row in page.get("StackResourceSummaries", [])
                )
        except ClientError as error:
            code = error_code(error)
            message = str(error.response.get("Error", {}).get("Message", ""))
            if code == "ValidationError" and "does not exist" in message:
                return None
            if code in ("AccessDenied", "AccessDeniedException"):
                raise StackReadError(
                    code,
                    f"the credentials need cloudformation:ListStackResources on stack {_short(stack)} in {region} "
                    "to read account ids that only the deploy knows",
                ) from None
            raise StackReadError(
                code, f"CloudFormation ListStackResources {_short(stack)}: {code}: {message}"
            ) from None
        except BotoCoreError as error:
            raise StackReadError(
                type(error).__name__, str(explain_fatal(error, "CloudFormation ListStackResources"))
            ) from None
        return found


def _short(stack: str) -> str:
    """A stack's name, from a StackId (``arn:...:stack/<name>/<uuid>``) or a name."""
    parts = stack.split("/")
    return parts[1] if stack.startswith("arn:") and len(parts) >= 3 else stack


def run_all(work: Callable[[K], T], items: Sequence[K], *, concurrency: int, on_done: Callable[[], None]) -> list[T]:
    """``work`` applied to every item on ``concurrency`` threads, results in the items' order."""
    if not items:
        return []

    def counted(item: K) -> T:
        try:
            return work(item)
        finally:
            on_done()

    with ThreadPoolExecutor(max_workers=max(1, min(concurrency, len(items))), thread_name_prefix="read") as pool:
        return list(pool.map(counted, items))


ORGANIZATIONS_HINT: Final = (
    "read the organization's accounts from its management account or from a delegated administrator "
    "for AWS Organizations (organizations:ListAccounts, organizations:DescribeOrganization)"
)


def list_accounts(client: Any) -> list[OrgAccount]:
    """Every account of the organization, all pages, in the order Organizations gives them.

    ``State`` replaces the older ``Status`` field in ListAccounts (``PENDING_CLOSURE`` becomes ``CLOSED``
    after a while); whichever is present is used.

    Raises
    ------
    AwsError
        When the caller is not in an organization or may not list its accounts.
    """
    try:
        return organizations.list_accounts(client, deadline=without_deadline(), policy=ORGANIZATIONS_POLICY)
    except (ClientError, BotoCoreError) as error:
        raise _organizations_error(error, "ListAccounts") from None


def describe_organization(client: Any) -> Organization:
    """The caller's organization: its id (``o-...``) and its management account.

    Raises
    ------
    AwsError
        When the caller is not in an organization or may not describe it.
    """
    try:
        return organizations.describe_organization(client, deadline=without_deadline(), policy=ORGANIZATIONS_POLICY)
    except (ClientError, BotoCoreError) as error:
        raise _organizations_error(error, "DescribeOrganization") from None


def _organizations_error(error: Exception, operation: str) -> AwsError:
    code = error_code(error) if isinstance(error, ClientError) else None
    if code == "AWSOrganizationsNotInUseException":
        return AwsError(
            f"Organizations {operation}: the caller's account is not a member of an organization: there are no "
            "accounts to read"
        )
    if code == "AccessDeniedException":
        return AwsError(f"Organizations {operation}: AccessDenied; {ORGANIZATIONS_HINT}")
    return explain_fatal(error, f"Organizations {operation}")


def split_active(accounts: Iterable[OrgAccount]) -> tuple[list[OrgAccount], list[OrgAccount]]:
    """The ACTIVE accounts, and the others (suspended, closing, closed), which have no contacts to check."""
    accounts = list(accounts)
    return [a for a in accounts if a.state == ACTIVE], [a for a in accounts if a.state != ACTIVE]
