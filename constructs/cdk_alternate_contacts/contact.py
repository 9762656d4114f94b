"""``AlternateContact``: one alternate contact of one account, as a CloudFormation custom resource."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast

from aws_cdk import CustomResource, Duration, RemovalPolicy, Token
from constructs import Construct

from cdk_alternate_contacts_handler import spec
from cdk_alternate_contacts_handler.spec import AlternateContactType

from .details import AlternateContactValidationError
from .provider import SERVICE_TIMEOUT, AlternateContactProvider

#: The construct's keyword for each API field, for error messages in the user's own terms.
PROP_NAMES = spec.USER_NAMES


def validate_literals(path: str, properties: dict[str, Any]) -> None:
    """Check every value already known at synth time; values that are still tokens wait for the handler.

    Raises
    ------
    AlternateContactValidationError
        One error naming every bad field (``email_address (EmailAddress) must be ...``). Contact details are
        not repeated in the message: synth output ends up in CI logs.
    """
    unresolved = frozenset(key for key, value in properties.items() if Token.is_unresolved(value))
    violations = spec.field_violations(properties, skip=unresolved)
    if violations:
        named = [
            f"{PROP_NAMES[v.path[0]]} ({v.message()})" if v.path[0] in PROP_NAMES else v.message() for v in violations
        ]
        raise AlternateContactValidationError(f"invalid alternate contact {path}: " + "; ".join(named))


@dataclass(frozen=True)
class OptIns:
    """The settings every contact construct takes besides its contacts: what a Delete does, and whether an
    inactive account is skipped (see :class:`AlternateContact`)."""

    removal_policy: RemovalPolicy
    restore_on_delete: bool
    skip_inactive_account: bool

    def flags(self, path: str) -> dict[str, str]:
        """The resource properties of the opt-in behaviours; left out when off, so templates stay as before.

        Raises
        ------
        AlternateContactValidationError
            For restore_on_delete with RemovalPolicy.RETAIN: CloudFormation never calls the handler for a
            retained resource, so nothing would be restored and the record, which holds the previous
            contact's details, would stay in SSM for ever.
        """
        if self.restore_on_delete and self.removal_policy == RemovalPolicy.RETAIN:
            raise AlternateContactValidationError(
                f"invalid alternate contact {path}: restore_on_delete needs removal_policy DESTROY (with RETAIN "
                "CloudFormation never calls the handler, so nothing is restored and the record of the previous "
                "contact would stay in SSM)"
            )
        flags = {spec.RESTORE_ON_DELETE: self.restore_on_delete, spec.SKIP_INACTIVE_ACCOUNT: self.skip_inactive_account}
        return {key: "true" for key, on in flags.items() if on}


def add_resource(
    construct: Construct,
    resource_type: str,
    properties: dict[str, Any],
    *,
    account_id: str | None,
    contact_types: tuple[str, ...],
    validate: Callable[[str, dict[str, Any]], None],
    opt_ins: OptIns,
    service_timeout: Duration = SERVICE_TIMEOUT,
) -> CustomResource:
    """Add the custom resource ``Resource`` to ``construct``, served by its stack's provider.

    ``properties`` are the contacts' own; the account (when one is given) is added to them, ``validate``
    checks the whole (raising for a bad literal value) and the opt-in flags follow. The provider records
    the claims: a second declaration of the same literal account and type in the stack is an error. Its
    role's scope does not depend on the claims (see :class:`AlternateContactProvider`).
    """
    path = construct.node.path
    if account_id is not None:
        properties = {**properties, spec.ACCOUNT_ID: account_id}
    validate(path, properties)
    properties = {**properties, **opt_ins.flags(path)}
    provider = AlternateContactProvider.of(construct)
    for contact_type in contact_types:
        provider.claim(account_id, contact_type, path)
    return CustomResource(
        construct,
        "Resource",
        service_token=provider.service_token,
        resource_type=resource_type,
        properties=properties,
        removal_policy=opt_ins.removal_policy,
        service_timeout=service_timeout,
    )


class AlternateContact(Construct):
    """One alternate contact (BILLING, OPERATIONS or SECURITY) of one AWS account.

    Create and Update call PutAlternateContact and wait until the API reads back the new values; Delete
    calls DeleteAlternateContact. The stack's single provider function does the calls; its role may act
    only on the accounts and types that the stack declares.

    Parameters
    ----------
    scope, construct_id:
        Where the contact sits in the construct tree. The custom resource is the child ``Resource``.
    contact_type:
        Which contact: an :class:`AlternateContactType` or its name in any letter case (``"security"``);
        the template holds the API's upper-case value.
    email_address, name, phone_number, title:
        The contact's details, checked at synth time with the API's exact rules (email up to 254
        characters, name up to 64, phone up to 25 of digits, spaces and ``()+-``, title up to 50).
    account_id:
        The 12-digit account whose contact this is. Default: the account the stack is deployed to. Another
        account must be a member of the deploying account's organization, deployed from the management
        account or the delegated administrator for account.amazonaws.com, with trusted access enabled.
        A CDK token is accepted and checked at deploy time.
    removal_policy:
        What happens to the contact when the resource leaves the stack. Default: ``RemovalPolicy.DESTROY``,
        the contact is deleted from the account (as Terraform's resource does), or restored with
        ``restore_on_delete``. ``RemovalPolicy.RETAIN`` leaves the contact as it is: CloudFormation never
        calls the handler.
    restore_on_delete:
        Default False: a Delete removes the contact. True: before first writing the contact, the handler
        records what the account had (in an encrypted SSM SecureString parameter, never in the template or
        logs) and a Delete puts that back, or deletes the contact if there was none. The function may then
        read and write SSM parameters under ``/cdk-alternate-contacts/``.
    skip_inactive_account:
        Default False: a member account that is suspended or closed fails the deployment (the API refuses).
        True: the handler first asks Organizations (DescribeAccount) and skips an account that is not ACTIVE,
        answering success with a reason that says so. Deploy from the management account or a delegated
        administrator; the function may then call organizations:DescribeAccount.

    Raises
    ------
    AlternateContactValidationError
        When a literal value breaks the API's rules; one message names every bad field.
    ValueError
        When another contact in the stack already manages the same literal account and type.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        contact_type: AlternateContactType | str,
        email_address: str,
        name: str,
        phone_number: str,
        title: str,
        account_id: str | None = None,
        removal_policy: RemovalPolicy = RemovalPolicy.DESTROY,
        restore_on_delete: bool = False,
        skip_inactive_account: bool = False,
    ) -> None:
        super().__init__(scope, construct_id)
        # Any letter case is accepted, as in contacts files and OrganizationContacts; the template holds the
        # API's value. A token, or a string that names no type, is passed on for validation to report.
        normalized = None if Token.is_unresolved(contact_type) else spec.normalized_type(contact_type)
        type_value = normalized.value if normalized is not None else contact_type
        properties = {
            spec.CONTACT_TYPE: type_value,
            spec.EMAIL_ADDRESS: email_address,
            spec.NAME: name,
            spec.PHONE_NUMBER: phone_number,
            spec.TITLE: title,
        }
        self.contact_type = type_value
        self.account_id = account_id
        self.resource = add_resource(
            self,
            spec.RESOURCE_TYPE,
            properties,
            account_id=account_id,
            contact_types=(type_value,),
            validate=validate_literals,
            opt_ins=OptIns(removal_policy, restore_on_delete, skip_inactive_account),
        )

    @property
    def contact_id(self) -> str:
        """The contact's identity as the handler reports it: ``<12-digit account>/<TYPE>`` (a token)."""
        return cast(str, self.resource.ref)
