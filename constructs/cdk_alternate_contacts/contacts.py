"""``AlternateContacts``: the BILLING, OPERATIONS and SECURITY contacts of one account in one resource."""

from __future__ import annotations

from typing import Any, cast

from aws_cdk import Duration, RemovalPolicy, Token
from constructs import Construct

from cdk_alternate_contacts_handler import spec
from cdk_alternate_contacts_handler.spec import AlternateContactType

from .contact import PROP_NAMES, OptIns, add_resource
from .details import AlternateContactValidationError, ContactDetails
from .provider import SERVICE_TIMEOUT


def _construct_name(violation: spec.Violation) -> str:
    """A violation in the construct's terms: ``security.email_address (AlternateContacts.SECURITY....)``."""
    path, message = violation.path, violation.message()
    if path[0] == spec.CONTACTS and len(path) == 3:
        return f"{path[1].lower()}.{PROP_NAMES.get(path[2], path[2])} ({message})"
    if path[0] in PROP_NAMES:
        return f"{PROP_NAMES[path[0]]} ({message})"
    if violation.kind == "empty":
        return f"billing, operations, security: give at least one ({message})"
    return message


def validate_contacts(path: str, properties: dict[str, Any]) -> None:
    """Check every literal value of an ``AlternateContacts`` declaration; tokens wait for the handler.

    Raises
    ------
    AlternateContactValidationError
        One error naming every bad field (``security.email_address (...)``), never quoting a detail.
    """
    skip = {spec.ACCOUNT_ID} if Token.is_unresolved(properties.get(spec.ACCOUNT_ID)) else set()
    for contact_type, details in properties.get(spec.CONTACTS, {}).items():
        skip.update(f"{contact_type}.{key}" for key, value in details.items() if Token.is_unresolved(value))
    violations = spec.contacts_violations(properties, skip=frozenset(skip))
    if violations:
        named = "; ".join(_construct_name(violation) for violation in violations)
        raise AlternateContactValidationError(f"invalid alternate contacts {path}: {named}")


class AlternateContacts(Construct):
    """The alternate contacts of one AWS account, every declared type in ONE custom resource.

    Compared with one :class:`~cdk_alternate_contacts.AlternateContact` per type, this uses a third of
    the resources (CloudFormation allows 500 per stack). A type left out is not managed: its contact is
    left as it is. A type removed on update is deleted once the update has succeeded; a type added is put.

    Parameters
    ----------
    scope, construct_id:
        Where the contacts sit in the construct tree. The custom resource is the child ``Resource``.
    account_id:
        The 12-digit account. Default: the account the stack is deployed to. Another account must be a
        member of the deploying account's organization (see :class:`AlternateContact`). A CDK token is
        accepted and checked at deploy time.
    billing, operations, security:
        The details of each type to manage. Default: that type is not managed. At least one is required.
    removal_policy:
        Default ``RemovalPolicy.DESTROY``: the contacts are deleted (or restored, see below) when the
        resource leaves the stack. ``RemovalPolicy.RETAIN`` leaves them as they are.
    restore_on_delete, skip_inactive_account:
        Opt-in behaviours, default False; as for :class:`~cdk_alternate_contacts.AlternateContact`.
    service_timeout:
        How long CloudFormation waits for the handler's answer. Default 7 minutes. A large fan-out needs
        more, because time spent in Lambda's queue counts (OrganizationContacts sets it from its size).

    Raises
    ------
    AlternateContactValidationError
        When no type is given, or a literal value breaks the API's rules; one message names every bad field.
    ValueError
        When another contact in the stack already manages one of these types of the same literal account.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        account_id: str | None = None,
        billing: ContactDetails | None = None,
        operations: ContactDetails | None = None,
        security: ContactDetails | None = None,
        removal_policy: RemovalPolicy = RemovalPolicy.DESTROY,
        restore_on_delete: bool = False,
        skip_inactive_account: bool = False,
        service_timeout: Duration | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        declared = {
            AlternateContactType.BILLING.value: billing,
            AlternateContactType.OPERATIONS.value: operations,
            AlternateContactType.SECURITY.value: security,
        }
        contacts = {t: d.to_properties() for t, d in declared.items() if d is not None}
        self.account_id = account_id
        self.contact_types = tuple(sorted(contacts))
        self.resource = add_resource(
            self,
            spec.CONTACTS_RESOURCE_TYPE,
            {spec.CONTACTS: contacts},
            account_id=account_id,
            contact_types=self.contact_types,
            validate=validate_contacts,
            opt_ins=OptIns(removal_policy, restore_on_delete, skip_inactive_account),
            service_timeout=service_timeout or SERVICE_TIMEOUT,
        )

    @property
    def contacts_id(self) -> str:
        """The identity the handler reports: ``<12-digit account>/<TYPE>[+<TYPE>...]`` (a token)."""
        return cast(str, self.resource.ref)
