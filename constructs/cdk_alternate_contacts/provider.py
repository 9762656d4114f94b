"""The stack's single provider: one Lambda function, its role, its log group, however many contacts."""

from __future__ import annotations

import json
from typing import cast

from aws_cdk import Acknowledgment, Aws, Duration, RemovalPolicy, Stack, Token, Validations
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

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

LOG_RETENTION = logs.RetentionDays.THREE_MONTHS

ACTIONS = tuple(
    f"account:{action}" for action in ("PutAlternateContact", "GetAlternateContact", "DeleteAlternateContact")
)


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
    Each contact then calls :meth:`allow` so the role can act only on the accounts and types declared.
    """

    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        self._statements: dict[str, iam.PolicyStatement] = {}
        self._granted: set[tuple[str, str]] = set()
        self._claims: dict[tuple[str, str], str] = {}
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
        # the stack's own resource list is the only source of that, and only this stack's is readable.
        self.role.add_to_principal_policy(
            iam.PolicyStatement(actions=["cloudformation:ListStackResources"], resources=[Aws.STACK_ID])
        )
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

    @classmethod
    def of(cls, scope: Construct) -> AlternateContactProvider:
        """Return the provider of ``scope``'s stack, creating it the first time."""
        stack = Stack.of(scope)
        existing = stack.node.try_find_child(PROVIDER_ID)
        if isinstance(existing, AlternateContactProvider):
            return existing
        return cls(stack, PROVIDER_ID)

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
        stack = Stack.of(self)
        if account_id is None:
            account_id = None if Token.is_unresolved(stack.account) else stack.account
            account_key = account_id or "the deploying account"
        elif Token.is_unresolved(account_id):
            return
        else:
            account_key = account_id
        if Token.is_unresolved(contact_type):
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

        One statement per contact type lists the account ARNs it may touch, limited by the
        ``account:AlternateContactTypes`` condition to that type.
        """
        resources = (
            [f"arn:{Aws.PARTITION}:account::{Aws.ACCOUNT_ID}:account"]
            if account_id is None
            else [
                # The deploying account itself, when it is named explicitly (the handler then omits AccountId).
                f"arn:{Aws.PARTITION}:account::{account_id}:account",
                # A member account: the ARN embeds the management account and organization ids, which are
                # not known at synth time (the same for the delegated administrator), so those two parts
                # are wildcards; the member account id is exact.
                f"arn:{Aws.PARTITION}:account::*:account/o-*/{account_id}",
            ]
        )
        statement_key = contact_type if not Token.is_unresolved(contact_type) else "token"
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
            self.role.add_to_principal_policy(statement)
        for resource in resources:
            if (statement_key, resource) not in self._granted:
                self._granted.add((statement_key, resource))
                statement.add_resources(resource)
        if account_id is not None:
            # cdk-nag names the finding after the resource as it renders it, references included (a
            # CfnParameter account becomes <ParameterId>), so a token account is acknowledged in that form.
            member_arn = render_like_cdk_nag(Stack.of(self).resolve(resources[-1]))
            Validations.of(self.role).acknowledge(
                Acknowledgment(
                    id=f"AwsSolutions-IAM5[Resource::{member_arn}]",
                    reason=(
                        "A member account's ARN embeds the management account and organization ids, unknown "
                        "at synth time; the member account id and the contact-type condition are exact."
                    ),
                )
            )

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
