"""The provider role's policy: what the one function may do in every phase of every operation.

:class:`ProviderPolicy` writes the statements on the role that
:class:`~cdk_alternate_contacts.AlternateContactProvider` creates; the provider calls it and holds no IAM
logic of its own. Why the scope is as wide as it is: :data:`SCOPE_REASON`.
"""

from __future__ import annotations

import re

from aws_cdk import Aws
from aws_cdk import aws_iam as iam

from cdk_alternate_contacts_handler import spec

from .details import is_unresolved
from .nag import acknowledge_wildcard

ACTIONS = tuple(
    f"account:{action}" for action in ("PutAlternateContact", "GetAlternateContact", "DeleteAlternateContact")
)

#: What a function's Delete reads to find every live claim of a contact in the app's stacks, and, when a
#: rename rolls back, the values the remaining resource declares (GetTemplate).
LISTING_ACTIONS = ("cloudformation:DescribeStacks", "cloudformation:ListStackResources", "cloudformation:GetTemplate")

#: The restore-on-delete records' actions.
RESTORE_ACTIONS = ("ssm:GetParameter", "ssm:PutParameter", "ssm:DeleteParameter")

ORGANIZATION_ID_PATTERN = re.compile(r"^o-[a-z0-9]{10,32}$", re.ASCII)
ACCOUNT_ID_PATTERN = re.compile(r"^\d{12}$", re.ASCII)

#: Why the role's scope is what it is; repeated in cdk-nag's acknowledgements and the README.
SCOPE_REASON = (
    "CloudFormation deletes a removed or replaced contact in its cleanup phase, under the policy the update "
    "already applied, and a rollback's cleanup under the old one: a scope narrowed to what the template "
    "declares today would refuse those Deletes and strand the contact. The scope is the deploying account and "
    "the organization's member accounts, whose ARNs embed the management account and organization ids "
    "(exact once given), for the three contact types."
)


class ProviderPolicy:
    """The statements of the provider role's policy, added to ``role`` when created.

    - put, get and delete the three contact types of the deploying account and of the organization's
      member accounts (their ARNs are written by :meth:`write_scope`, once the organization is known);
    - describe and list the resources of the role's stack and of the nested stacks below it, and of the
      stacks :meth:`allow_listing` adds;
    - read, write and delete restore-on-delete records under this project's SSM prefix;
    - read member accounts' status (``organizations:DescribeAccount``).

    Every wildcard carries cdk-nag's acknowledgement with its reason.
    """

    def __init__(self, role: iam.Role) -> None:
        self.role = role
        self._organization_id: str | None = None
        self._management_account_id: str | None = None
        self._scope_written = False
        self._contacts = iam.PolicyStatement(actions=list(ACTIONS))
        # Limited to the API's contact types; ForAllValues is also true when the key is absent, so the Null
        # guard makes every request carry it.
        self._contacts.add_condition(
            "ForAllValues:StringEquals", {"account:AlternateContactTypes": list(spec.CONTACT_TYPES)}
        )
        self._contacts.add_condition("Null", {"account:AlternateContactTypes": "false"})
        role.add_to_principal_policy(self._contacts)
        nested_stacks = f"arn:{Aws.PARTITION}:cloudformation:{Aws.REGION}:{Aws.ACCOUNT_ID}:stack/{Aws.STACK_NAME}-*/*"
        self._listing = iam.PolicyStatement(actions=list(LISTING_ACTIONS), resources=[Aws.STACK_ID, nested_stacks])
        role.add_to_principal_policy(self._listing)
        self.acknowledge_wildcard(
            nested_stacks,
            "Nested stacks are named <parent>-<logical id>-<suffix generated at deploy time>; a Delete must read "
            "every stack of the app (this one and its nested stacks, also those an update removes) to keep a "
            "contact another resource still claims. Read-only.",
        )
        records = f"arn:{Aws.PARTITION}:ssm:{Aws.REGION}:{Aws.ACCOUNT_ID}:parameter{spec.RESTORE_PARAMETER_PREFIX}/*"
        role.add_to_principal_policy(iam.PolicyStatement(actions=list(RESTORE_ACTIONS), resources=[records]))
        self.acknowledge_wildcard(
            records,
            "Restore-on-delete records are named after each stack's id and contact slot, known only at deploy time; "
            "the statement is limited to this project's parameter prefix and is there in every phase, because the "
            "Delete of an opted-in contact runs after the update that removed it.",
        )
        self._status = iam.PolicyStatement(actions=["organizations:DescribeAccount"])
        role.add_to_principal_policy(self._status)

    def allow_listing(self, stack_arn: str) -> None:
        """Let the function read the resources of one more stack (an ARN or an exactly scoped pattern of it)."""
        self._listing.add_resources(stack_arn)

    def use_organization(
        self, owner: str, *, organization_id: str | None = None, management_account_id: str | None = None
    ) -> None:
        """Name the organization in member-account ARNs instead of wildcards; ``owner`` names the provider
        in an error.

        Raises
        ------
        ValueError
            When a literal id is malformed, or differs from one this policy was already given.
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
                raise ValueError(f"{owner} already uses {name} {current!r}; one provider serves one organization")
        self._organization_id = organization_id or self._organization_id
        self._management_account_id = management_account_id or self._management_account_id

    def acknowledge_wildcard(self, resource: str, reason: str) -> None:
        """Acknowledge cdk-nag's AwsSolutions-IAM5 finding on the role for exactly ``resource``, with the reason."""
        acknowledge_wildcard(self.role, resource, reason)

    def _organization_arn(self, service: str) -> str:
        """Every member account's ARN in ``service``'s terms; the management account and organization are
        wildcards unless known.

        The ARN names the management account even when the delegated administrator makes the call.
        """
        management = self._management_account_id or "*"
        organization = self._organization_id or "o-*"
        return f"arn:{Aws.PARTITION}:{service}::{management}:account/{organization}/*"

    def write_scope(self) -> None:
        """Write the member accounts' ARNs into the statements; runs once, after every construct had its
        chance to call :meth:`use_organization`."""
        if self._scope_written:
            return
        self._scope_written = True
        members = self._organization_arn("account")
        self._contacts.add_resources(f"arn:{Aws.PARTITION}:account::{Aws.ACCOUNT_ID}:account", members)
        self.acknowledge_wildcard(members, SCOPE_REASON)
        accounts = self._organization_arn("organizations")
        self._status.add_resources(accounts)
        self.acknowledge_wildcard(
            accounts,
            "organizations:DescribeAccount (read-only) on the organization's member accounts, to skip inactive ones; "
            "their ARNs embed the management account and organization ids (exact once given).",
        )
