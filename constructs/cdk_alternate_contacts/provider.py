"""The stack's single provider: one Lambda function, its role, its log group, however many contacts."""

from __future__ import annotations

import json
import math
import re
from typing import cast

import jsii
from aws_cdk import (
    Acknowledgment,
    Aspects,
    Aws,
    Duration,
    IAspect,
    NestedStack,
    RemovalPolicy,
    Stack,
    Token,
    Validations,
)
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct, IConstruct

from cdk_alternate_contacts_handler import spec

from .bundling import HANDLER, handler_code

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

ACTIONS = tuple(
    f"account:{action}" for action in ("PutAlternateContact", "GetAlternateContact", "DeleteAlternateContact")
)

#: How many accounts one contact type's statement names exactly. Past it, the statement names every member
#: account of the organization instead: a role's inline policies may hold 10,240 characters in all, and two
#: ARNs per account and type fill that at about 35 accounts of three types. The
#: ``account:AlternateContactTypes`` condition still limits the statement to its one type.
EXACT_ACCOUNTS_PER_TYPE = 10

ORGANIZATION_ID_PATTERN = re.compile(r"^o-[a-z0-9]{10,32}$", re.ASCII)
ACCOUNT_ID_PATTERN = re.compile(r"^\d{12}$", re.ASCII)

MEMBER_WILDCARD_REASON = (
    "A member account's ARN embeds the management account and organization ids, unknown "
    "at synth time; the member account id and the contact-type condition are exact."
)


def is_unresolved(value: object) -> bool:
    """``Token.is_unresolved``, without a round trip to the CDK's Node process for a plain string.

    Every encoded token contains ``{Token[`` (``${Token[...]}`` for strings, ``#{Token[...]}`` in lists), so a
    string without it is known to be literal; anything else is asked. An organization of 1,000 accounts
    declares tens of thousands of values, and each round trip costs about half a millisecond.
    """
    if isinstance(value, str) and "{Token[" not in value:
        return False
    return bool(Token.is_unresolved(value))


def render_like_cdk_nag(value: object) -> str:
    """Flatten a resolved CloudFormation value into the text cdk-nag 3 puts in a finding's id.

    A port of cdk-nag's ``flattenCfnReference``: ``Ref`` becomes ``<Id>``, ``Fn::GetAtt`` ``<Id.Attr>``,
    ``Fn::Join`` is joined, ``Fn::Sub`` and ``Fn::ImportValue`` are flattened, ``${X}`` becomes ``<X>``. A
    reference that only becomes an ``Fn::ImportValue`` at synth time (an automatic cross-stack reference)
    renders differently there; pass such an account through a CfnParameter or ``Fn.import_value`` instead.
    """
    if isinstance(value, str):
        return value.replace("${", "<").replace("}", ">")
    if isinstance(value, dict):
        if value.get("Fn::Join"):
            delimiter, items = value["Fn::Join"]
            return str(delimiter).join(render_like_cdk_nag(item) for item in items)
        inner = value.get("Fn::Sub") or value.get("Fn::ImportValue")
        if inner:
            return render_like_cdk_nag(inner)
        if value.get("Fn::GetAtt"):
            resource, attribute = value["Fn::GetAtt"]
            return f"<{render_like_cdk_nag(resource)}.{render_like_cdk_nag(attribute)}>"
        if value.get("Ref"):
            return f"<{render_like_cdk_nag(value['Ref'])}>"
    return json.dumps(value, separators=(",", ":"))


class AlternateContactProvider(Construct):
    """The Lambda-backed provider that every alternate contact in a stack shares.

    Use :meth:`of` rather than the constructor: it returns the stack's provider, creating it on first use.
    Each contact then calls :meth:`allow` so the role can act only on the accounts and types declared:
    each account's ARNs while a type has at most :data:`EXACT_ACCOUNTS_PER_TYPE` accounts, every member
    account of the organization past that (still only for the declared types; exact to the organization
    once :meth:`use_organization` has its ids). Nested stacks can share the provider (:meth:`share_with`),
    which is how :class:`~cdk_alternate_contacts.OrganizationContacts` keeps one function for 1,000 accounts.
    """

    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        self._statements: dict[str, iam.PolicyStatement] = {}
        # Accounts per statement, in the order declared (None: the deploying account); turned into ARNs
        # when the app is synthesized, once the number of accounts is final.
        self._accounts: dict[str, dict[str | None, None]] = {}
        self._claims: dict[tuple[str, str], str] = {}
        self._organization_id: str | None = None
        self._management_account_id: str | None = None
        self._accounts_granted = False
        self._restore_granted = False
        self._status_granted = False

        self.log_group = logs.LogGroup(self, "LogGroup", retention=LOG_RETENTION, removal_policy=RemovalPolicy.DESTROY)
        self.role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description="Manages the alternate contacts declared in this stack",
        )
        self.log_group.grant_write(self.role)
        # A Delete must know whether a renamed resource of this stack still claims the contact;
        # the stack's own resource list is the only source of that, and only this stack's is readable
        # (and those of the nested stacks this provider serves, see allow_listing).
        self._listing = iam.PolicyStatement(actions=["cloudformation:ListStackResources"], resources=[Aws.STACK_ID])
        self.role.add_to_principal_policy(self._listing)
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
        Aspects.of(self).add(_GrantAccountsAtSynthesis(self))

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
        whole tree of nested stacks shares one function, one role and one log group. The role must also be
        allowed to list the nested stack's resources (see :meth:`allow_listing`), or its Deletes fail.

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
        """Let the function list the resources of another stack whose contacts it serves (a nested stack).

        A Delete lists the resources of the stack it comes from, to keep a contact that a renamed resource
        still claims. ``stack_arn`` is that stack's ARN or an exactly scoped pattern of it.
        """
        self._listing.add_resources(stack_arn)

    def use_organization(self, *, organization_id: str | None = None, management_account_id: str | None = None) -> None:
        """Name the organization in member-account ARNs instead of wildcards.

        A member account's ARN is ``arn:<partition>:account::<management account>:account/<organization>/<member>``.
        Without these ids both parts are wildcards (still limited to the declared member accounts, or past
        :data:`EXACT_ACCOUNTS_PER_TYPE` accounts to the declared contact types); with them they are exact.
        Either may be given alone. A CDK token is accepted.

        Raises
        ------
        ValueError
            When a literal id is malformed, or differs from one this provider was already given.
        """
        checks = (
            (
                "organization_id",
                organization_id,
                ORGANIZATION_ID_PATTERN,
                "o- and 10 to 32 lower-case letters or digits",
            ),
            ("management_account_id", management_account_id, ACCOUNT_ID_PATTERN, "exactly 12 digits"),
        )
        for name, value, pattern, rule in checks:
            if value is not None and not is_unresolved(value) and not pattern.fullmatch(value):
                raise ValueError(f"{name} must be {rule} (got {value[:40]!r})")
        for name, value in (("organization_id", organization_id), ("management_account_id", management_account_id)):
            current = getattr(self, f"_{name}")
            if value is not None and current is not None and current != value:
                raise ValueError(
                    f"{self.node.path} already uses {name} {current!r}; one provider serves one organization"
                )
        self._organization_id = organization_id or self._organization_id
        self._management_account_id = management_account_id or self._management_account_id

    def limit_concurrency(self, max_concurrency: int) -> None:
        """Reserve ``max_concurrency`` concurrent executions for the function, and allow no more.

        Default (never called): no reservation. CloudFormation invokes custom resources asynchronously, so
        invocations beyond the limit wait in Lambda's queue instead of failing, and each one then runs
        only as long as its own calls take. Measured with ``benchmarks/fanout.py`` under the API's quotas:
        300 writes took 1.05x N/5 s at 5 executions as at 100, but the longest invocation fell from 65 s
        to 21 s; 100 deletes (1 a second) at 5 executions ran none longer than 22 s, where 300 deletes
        without a limit kept invocations waiting up to 295 s, against a 300 s function timeout. A large
        fan-out therefore wants a limit of about 5. It needs unreserved concurrency to spare: Lambda
        keeps 10 unreserved per account, so a new account with a quota of 10 cannot reserve any.

        Raises
        ------
        ValueError
            When ``max_concurrency`` is not at least 1.
        """
        if max_concurrency < 1:
            raise ValueError(f"max_concurrency must be at least 1 (got {max_concurrency})")
        cast(lambda_.CfnFunction, self.function.node.default_child).reserved_concurrent_executions = max_concurrency

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

    def allow(self, account_id: str | None, contact_type: str) -> None:
        """Let the function manage ``contact_type`` of ``account_id`` (None: the deploying account), no more.

        One statement per contact type, limited by the ``account:AlternateContactTypes`` condition to that
        type, names the account ARNs it may touch. Up to :data:`EXACT_ACCOUNTS_PER_TYPE` accounts it names
        each one; past that, every member account of the organization (exactly the organization when
        :meth:`use_organization` gave its ids), so the policy stays far below IAM's size limit. The ARNs are
        written when the app is synthesized, once every contact has been declared.
        """
        statement_key = contact_type if not is_unresolved(contact_type) else "token"
        statement = self._statements.get(statement_key)
        if statement is None:
            statement = iam.PolicyStatement(actions=list(ACTIONS))
            if statement_key != "token":
                statement.add_condition("ForAllValues:StringEquals", {"account:AlternateContactTypes": [contact_type]})
            else:
                statement.add_condition(
                    "ForAllValues:StringEquals", {"account:AlternateContactTypes": list(spec.CONTACT_TYPES)}
                )
            # ForAllValues is also true when the key is absent; require it so the condition always bites.
            statement.add_condition("Null", {"account:AlternateContactTypes": "false"})
            self._statements[statement_key] = statement
            self._accounts[statement_key] = {}
            self.role.add_to_principal_policy(statement)
        accounts = self._accounts[statement_key]
        if account_id in accounts:
            return
        accounts[account_id] = None
        explicit = sum(1 for account in accounts if account is not None)
        if account_id is not None and explicit <= EXACT_ACCOUNTS_PER_TYPE:
            member_arn = self._member_arn(account_id)
            if "*" in member_arn:
                # cdk-nag names the finding after the resource as it renders it, references included (a
                # CfnParameter account becomes <ParameterId>), so a token account is acknowledged in that form.
                self.acknowledge_wildcard(member_arn, MEMBER_WILDCARD_REASON)

    def _member_arn(self, account_id: str) -> str:
        """A member account's ARN; the management account and organization are wildcards unless known.

        The ARN names the management account even when the delegated administrator makes the call.
        """
        management = self._management_account_id or "*"
        organization = self._organization_id or "o-*"
        return f"arn:{Aws.PARTITION}:account::{management}:account/{organization}/{account_id}"

    def acknowledge_wildcard(self, resource: str, reason: str) -> None:
        """Acknowledge cdk-nag's AwsSolutions-IAM5 finding on the role for exactly ``resource``, with the reason."""
        rendered = render_like_cdk_nag(Stack.of(self).resolve(resource))
        Validations.of(self.role).acknowledge(
            Acknowledgment(id=f"AwsSolutions-IAM5[Resource::{rendered}]", reason=reason)
        )

    def grant_accounts(self) -> None:
        """Write the account ARNs into the statements; runs once, when the app is synthesized."""
        if self._accounts_granted:
            return
        self._accounts_granted = True
        own_account = f"arn:{Aws.PARTITION}:account::{Aws.ACCOUNT_ID}:account"
        for statement_key, accounts in self._accounts.items():
            explicit = [account for account in accounts if account is not None]
            resources: list[str] = []
            if len(explicit) > EXACT_ACCOUNTS_PER_TYPE:
                # The deploying account, named or not (the handler then omits AccountId), and every member.
                members = self._member_arn("*")
                resources = [own_account, members]
                organization = (
                    "the given organization's member accounts"
                    if self._organization_id and self._management_account_id
                    else "member accounts (the organization's ids were not given)"
                )
                self.acknowledge_wildcard(
                    members,
                    f"More than {EXACT_ACCOUNTS_PER_TYPE} accounts of one contact type do not fit IAM's policy size "
                    f"limit as exact ARNs; this names {organization}, and the contact-type condition limits the "
                    "statement to its one declared type.",
                )
            else:
                for account_id in accounts:
                    if account_id is None:
                        resources.append(own_account)
                    else:
                        # The deploying account itself, when it is named explicitly (the handler then omits
                        # AccountId), and the account as a member of the organization.
                        resources.append(f"arn:{Aws.PARTITION}:account::{account_id}:account")
                        resources.append(self._member_arn(account_id))
            self._statements[statement_key].add_resources(*dict.fromkeys(resources))

    def allow_opt_ins(self, *, restore_on_delete: bool, skip_inactive_account: bool) -> None:
        """Grant what the opt-in behaviours of a contact need (nothing when both are off)."""
        if restore_on_delete:
            self.allow_restore_records()
        if skip_inactive_account:
            self.allow_account_status()

    def allow_restore_records(self) -> None:
        """Let the function keep restore-on-delete records: SSM parameters under its own prefix only.

        The records are SecureString parameters encrypted with the account's AWS managed ``aws/ssm`` key,
        whose key policy already lets SSM use it for principals of the account: no KMS statement is needed.
        """
        if self._restore_granted:
            return
        self._restore_granted = True
        prefix = f"arn:{Aws.PARTITION}:ssm:{Aws.REGION}:{Aws.ACCOUNT_ID}:parameter{spec.RESTORE_PARAMETER_PREFIX}/*"
        self.role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["ssm:GetParameter", "ssm:PutParameter", "ssm:DeleteParameter"], resources=[prefix]
            )
        )
        Validations.of(self.role).acknowledge(
            Acknowledgment(
                id=f"AwsSolutions-IAM5[Resource::{render_like_cdk_nag(Stack.of(self).resolve(prefix))}]",
                reason=(
                    "Restore-on-delete records are named after the stack's id and each contact slot, known only "
                    "at deploy time; the statement is limited to this project's parameter prefix."
                ),
            )
        )

    def allow_account_status(self) -> None:
        """Let the function read member accounts' state (organizations:DescribeAccount), to skip inactive ones.

        DescribeAccount's resource is the member account's ARN under the management account and the
        organization, neither known at synth time; the action is read-only.
        """
        if self._status_granted:
            return
        self._status_granted = True
        resource = f"arn:{Aws.PARTITION}:organizations::*:account/o-*/*"
        self.role.add_to_principal_policy(
            iam.PolicyStatement(actions=["organizations:DescribeAccount"], resources=[resource])
        )
        Validations.of(self.role).acknowledge(
            Acknowledgment(
                id=f"AwsSolutions-IAM5[Resource::{render_like_cdk_nag(Stack.of(self).resolve(resource))}]",
                reason=(
                    "organizations:DescribeAccount (read-only) on member accounts, whose ARNs embed the management "
                    "account and organization ids that are unknown at synth time."
                ),
            )
        )


class SharedProvider(Construct):
    """Stands, in a nested stack, for an ancestor stack's provider (see ``AlternateContactProvider.share_with``)."""

    def __init__(self, scope: Construct, construct_id: str, *, provider: AlternateContactProvider) -> None:
        super().__init__(scope, construct_id)
        self.provider = provider


@jsii.implements(IAspect)
class _GrantAccountsAtSynthesis:
    """Writes the provider's account ARNs once every contact of the app has been declared."""

    def __init__(self, provider: AlternateContactProvider) -> None:
        self._provider = provider

    def visit(self, node: IConstruct) -> None:
        if node is self._provider:
            self._provider.grant_accounts()
