"""The stack's single provider: one Lambda function, its role, its log group, however many contacts."""

from __future__ import annotations

import math
from typing import cast

import jsii
from aws_cdk import (
    Aspects,
    Aws,
    CfnResource,
    Duration,
    IAspect,
    NestedStack,
    RemovalPolicy,
    Stack,
)
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct, IConstruct

from .bundling import HANDLER, handler_code
from .details import is_unresolved
from .policy import ProviderPolicy

#: Fixed id of the provider in its stack: how every contact finds the same one.
PROVIDER_ID = "CdkAlternateContactsProvider"

#: The function's own time limit; the handler stops retrying in time to answer before it.
FUNCTION_TIMEOUT = Duration.minutes(5)

#: How long CloudFormation waits for an answer before failing the resource. Longer than the function's
#: timeout (the handler answers by then, even on failure) but minutes, not the default hour, when an
#: answer is lost.
SERVICE_TIMEOUT = Duration.minutes(7)


def service_timeout_for(contacts: int) -> Duration:
    """ServiceTimeout for resources that share one fan-out of ``contacts`` contacts.

    Time an invocation waits in Lambda's queue counts against ServiceTimeout, and the Account API deletes
    one contact a second per account (its slowest quota): removing N contacts at once takes about N
    seconds. Never below the 7-minute default, never above CloudFormation's 3,600 s maximum.
    """
    return Duration.seconds(min(3600, max(int(SERVICE_TIMEOUT.to_seconds()), 120 + math.ceil(1.2 * contacts))))


LOG_RETENTION = logs.RetentionDays.THREE_MONTHS

#: Lambda's asynchronous queue keeps an event at most this long: CloudFormation's largest ServiceTimeout.
#: An older event has failed in CloudFormation already, whatever its resource's ServiceTimeout.
MAX_EVENT_AGE = Duration.seconds(3600)


def function_role(scope: Construct, description: str) -> tuple[logs.LogGroup, iam.Role]:
    """A function's log group (its retention, destroyed with the stack) and the role it runs as, which may
    write to it: the provider's and the coverage's functions start from these two."""
    log_group = logs.LogGroup(scope, "LogGroup", retention=LOG_RETENTION, removal_policy=RemovalPolicy.DESTROY)
    role = iam.Role(scope, "Role", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"), description=description)
    log_group.grant_write(role)
    return log_group, role


class AlternateContactProvider(Construct):
    """The Lambda-backed provider that every alternate contact in a stack shares.

    Use :meth:`of` rather than the constructor: it returns the stack's provider, creating it on first use.

    The role's scope does not depend on what the stack declares today, because CloudFormation does not
    call the function only under the policy of the template that declared a contact: the Delete of a
    removed or replaced contact runs in the cleanup phase, after the update phase has applied the new
    policy, and the Delete of a contact a failed update created runs after the rollback has put the old
    policy back (aws/aws-cdk #9840 is that trap in ``AwsCustomResource``). A policy narrowed to the
    declared accounts and types would refuse those Deletes and leave the contacts behind for good. So the
    role may, in every phase of every operation:

    - put, get and delete the three contact types of the deploying account and of the organization's
      member accounts (exactly the organization once :meth:`use_organization` has its ids);
    - describe and list the resources of its own stack and of the nested stacks below it (a Delete checks
      that no other live resource of the app claims the contact);
    - read, write and delete restore-on-delete records under this project's SSM prefix, and read member
      accounts' status (``organizations:DescribeAccount``), which a Delete of an opted-in contact needs
      even after the last opted-in contact left the template;
    - write its own log group.

    The policy is the same for 1 contact or 30,000, so it never approaches IAM's size limits, and adding
    an account changes no policy (CloudFormation then updates nothing but the new account's resource).
    Nested stacks can share the provider (:meth:`share_with`). The role's statements are written by
    :class:`~cdk_alternate_contacts.policy.ProviderPolicy` (``policy``), which this construct calls.
    """

    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        self._claims: dict[tuple[str, str], str] = {}
        self._chain_tail: CfnResource | None = None
        #: The construct whose coverage this provider serves (it starts its runs and hands it accounts).
        self.covered_by: str | None = None
        #: Every account a contact of this provider manages (a literal id, a token, or the deploying account's
        #: id), with the path of the construct that declares it: what a coverage must leave to them.
        self.managed: list[tuple[str, str]] = []

        self.log_group, self.role = function_role(self, "Manages the alternate contacts declared in this stack")
        self.policy = ProviderPolicy(self.role)
        self.function = lambda_.Function(
            self,
            "Function",
            description="cdk-alternate-contacts provider: Put/Delete AlternateContact for this stack",
            runtime=lambda_.Runtime.PYTHON_3_14,
            architecture=lambda_.Architecture.ARM_64,
            handler=HANDLER,
            code=handler_code(),
            timeout=FUNCTION_TIMEOUT,
            memory_size=256,
            role=self.role,
            log_group=self.log_group,
        )
        # CloudFormation invokes asynchronously. crhelper answers a failure itself, so a retry by Lambda only
        # replays work CloudFormation has had its answer for; an event past the largest ServiceTimeout has
        # failed in CloudFormation already (the handler also skips one older than its own resource's).
        self.function.configure_async_invoke(max_event_age=MAX_EVENT_AGE, retry_attempts=0)
        Aspects.of(self).add(_WriteScopeAtSynthesis(self))

    @classmethod
    def of(cls, scope: Construct) -> AlternateContactProvider:
        """Return the provider of ``scope``'s stack, creating it the first time.

        In a nested stack that :meth:`share_with` linked to a provider, that provider is returned instead.
        """
        stack = Stack.of(scope)
        existing = stack.node.try_find_child(PROVIDER_ID)
        if isinstance(existing, AlternateContactProvider):
            return existing
        if isinstance(existing, SharedProvider):
            return existing.provider
        return cls(stack, PROVIDER_ID)

    def share_with(self, nested_stack: NestedStack) -> None:
        """Let the contacts declared in ``nested_stack`` use this provider rather than one of their own.

        CloudFormation passes the function's ARN to the nested stack as a parameter (the CDK adds it), so a
        whole tree of nested stacks shares one function, one role and one log group. The role may already
        read every nested stack below the provider's stack (their names start with its name).

        Raises
        ------
        ValueError
            When ``nested_stack`` already has a provider of its own, or is not a nested stack.
        """
        if not NestedStack.is_nested_stack(nested_stack):
            raise ValueError(f"share_with expects a NestedStack, got {nested_stack.node.path}")
        existing = nested_stack.node.try_find_child(PROVIDER_ID)
        if isinstance(existing, SharedProvider) and existing.provider is self:
            return
        if existing is not None:
            raise ValueError(f"{nested_stack.node.path} already has an alternate-contact provider")
        SharedProvider(nested_stack, PROVIDER_ID, provider=self)

    def allow_listing(self, stack_arn: str) -> None:
        """Let the function read the resources of one more stack whose contacts it serves.

        Default: the provider's own stack and every nested stack below it, which is where a Delete looks
        for other claims of its contact. ``stack_arn`` is a stack's ARN or an exactly scoped pattern of it.
        """
        self.policy.allow_listing(stack_arn)

    def use_organization(self, *, organization_id: str | None = None, management_account_id: str | None = None) -> None:
        """Name the organization in member-account ARNs instead of wildcards.

        A member account's ARN is ``arn:<partition>:account::<management account>:account/<organization>/<member>``.
        Without these ids both parts are wildcards: any organization's member accounts, which in practice
        means the deploying account's own organization, since the Account API serves member accounts only to
        their management account and its delegated administrator. With them they are exact. Either may be
        given alone. A CDK token is accepted.

        Raises
        ------
        ValueError
            When a literal id is malformed, or differs from one this provider was already given.
        """
        self.policy.use_organization(
            self.node.path, organization_id=organization_id, management_account_id=management_account_id
        )

    def limit_concurrency(self, max_concurrency: int, *, keep_existing: bool = False) -> None:
        """Reserve ``max_concurrency`` concurrent executions for the function, and allow no more.

        Default (never called): no reservation. CloudFormation invokes custom resources asynchronously, so
        invocations beyond the limit wait in Lambda's queue instead of failing, and each one then runs
        only as long as its own calls take. Measured with ``benchmarks/fanout.py`` under the API's quotas:
        300 creates took 59.3 s at 5 executions and 59.9 s at 50 (the Put quota's floor is 60 s), while the
        longest invocation fell from 42 s to 12 s; 100 deletes (1 a second) at 5 executions all succeeded and
        ran none longer than 32 s, where 300 deletes without a limit lost 9 to the 300 s function timeout.
        A large fan-out therefore wants a limit of about 5 (OrganizationContacts sets 5 by default). It needs
        unreserved concurrency to spare: Lambda keeps 100 unreserved per account (the whole quota when it is
        below 100), so a new account with a quota of 10 or 50 cannot reserve any.

        Raises
        ------
        ValueError
            When ``max_concurrency`` is not at least 1.

        With ``keep_existing``, a limit set before is left as it is (how OrganizationContacts applies its
        default without overriding the app's own choice).
        """
        if max_concurrency < 1:
            raise ValueError(f"max_concurrency must be at least 1 (got {max_concurrency})")
        function = cast(lambda_.CfnFunction, self.function.node.default_child)
        if keep_existing and function.reserved_concurrent_executions is not None:
            return
        function.reserved_concurrent_executions = max_concurrency

    def chain(self, nested_stack: CfnResource) -> None:
        """Deploy ``nested_stack`` after the last nested stack chained before it (and delete it before that one).

        One chain per provider, across every OrganizationContacts it serves: at any moment, one nested stack's
        contacts are in the function's queue, so each contact waits for its own nested stack's fan-out at
        most, however large the organization.
        """
        if self._chain_tail is not None and Stack.of(self._chain_tail) is Stack.of(nested_stack):
            nested_stack.add_resource_dependency(self._chain_tail)
        self._chain_tail = nested_stack

    @property
    def service_token(self) -> str:
        """The ARN CloudFormation invokes for each contact."""
        return cast(str, self.function.function_arn)

    def claim(self, account_id: str | None, contact_type: str, path: str) -> None:
        """Record that ``path`` manages ``contact_type`` of ``account_id`` (None: the deploying account).

        Raises
        ------
        ValueError
            When another contact of this stack already manages the same literal account and type: the two
            would overwrite each other on every deploy and the first Delete would remove both.
        """
        self.managed.append((Aws.ACCOUNT_ID if account_id is None else account_id, path))
        if account_id is None:
            stack = Stack.of(self)
            account_id = None if is_unresolved(stack.account) else stack.account
            account_key = account_id or "the deploying account"
        elif is_unresolved(account_id):
            return
        else:
            account_key = account_id
        if is_unresolved(contact_type):
            return
        key = (account_key, contact_type)
        if key in self._claims:
            raise ValueError(
                f"duplicate alternate contact: {path} and {self._claims[key]} both manage the {contact_type} "
                f"contact of {account_key}; declare each account and type once per stack"
            )
        self._claims[key] = path

    def acknowledge_wildcard(self, resource: str, reason: str) -> None:
        """Acknowledge cdk-nag's AwsSolutions-IAM5 finding on the role for exactly ``resource``, with the reason."""
        self.policy.acknowledge_wildcard(resource, reason)

    def write_scope(self) -> None:
        """Write the member accounts' ARNs into the role's statements; runs once, when the app is synthesized,
        after every construct had its chance to call :meth:`use_organization`."""
        self.policy.write_scope()


class SharedProvider(Construct):
    """Stands, in a nested stack, for an ancestor stack's provider (see ``AlternateContactProvider.share_with``)."""

    def __init__(self, scope: Construct, construct_id: str, *, provider: AlternateContactProvider) -> None:
        super().__init__(scope, construct_id)
        self.provider = provider


@jsii.implements(IAspect)
class _WriteScopeAtSynthesis:
    """Writes the provider's member-account ARNs once every construct of the app has been declared."""

    def __init__(self, provider: AlternateContactProvider) -> None:
        self._provider = provider

    def visit(self, node: IConstruct) -> None:
        if node is self._provider:
            self._provider.write_scope()
