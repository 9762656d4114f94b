#!/usr/bin/env python3
"""Test app for the end-to-end tests: successive versions of ONE stack of alternate contacts.

Each version is a stack of this app, so a single synthesis serves every test; a test deploys the
versions in turn under one stack name (``E2eContacts``), which is exactly what editing a CDK app and
deploying it again does to that stack: CloudFormation only ever sees the new template.

E2eBase
    SECURITY and OPERATIONS of the deploying account.
E2eRenamed
    The SECURITY construct renamed (new logical id, same account and type).
E2eRetain
    SECURITY with RemovalPolicy.RETAIN.
E2eSecurityOnly
    OPERATIONS removed from the app.
E2eSecurityOnlyNarrowed
    E2eSecurityOnly with the role's contact statement narrowed (an escape hatch) to the one type the
    template still declares, as a policy derived from the declarations would be: CloudFormation's cleanup
    Delete of OPERATIONS then runs under a policy that refuses it.
E2eBadCreate
    SECURITY's email comes from a CfnParameter whose default the API rejects: synth-time validation
    skips tokens, so the handler's own validation fails the Create at deploy time.
E2eBadUpdate
    Like E2eBadCreate for SECURITY, and OPERATIONS with a new title: one Update fails, one succeeds.
E2eRenamedBadUpdate
    The rename of E2eRenamed, while OPERATIONS' Update fails (its email is a parameter the API rejects):
    the rollback deletes the renamed resource, which carries the same identity as the old one.
E2eRenamedChanged
    E2eRenamed with SECURITY's title changed too: the renamed resource writes the new values.
E2eRenamedChangedBadUpdate
    E2eRenamedBadUpdate with SECURITY's title changed too: the renamed resource writes new values, then the
    rollback deletes it while the old resource, which CloudFormation does not call, declares the old ones.
E2eOperationsRetyped
    The construct ``Operations`` declares BILLING instead (a change of type: a replacement).
E2eRestore
    SECURITY with restore_on_delete: a Delete puts back the contact the account had before.
E2eMember
    SECURITY, and BILLING of member account 111111111111 instead of OPERATIONS.
E2eMemberMovedBadUpdate
    BILLING moved to member 222222222222 (a replacement) while SECURITY's Update fails: the rollback
    must undo a replacement.

And two versions of a three-contact example (stack ``E2eExample``):

E2eExample
    SECURITY and OPERATIONS of the deploying account, BILLING of member 111111111111.
E2eExampleUpdated
    A new SECURITY email (an in-place update), BILLING moved to member 222222222222 (a replacement).
"""

from __future__ import annotations

import aws_cdk as cdk
from narrow_policy import narrow_to_types

from cdk_alternate_contacts import AlternateContact, AlternateContactType

SECURITY = {
    "email_address": "sec.e2e@example.com",
    "name": "Ada Lovelace",
    "phone_number": "+44 20 7946 0001",
    "title": "Security lead",
}
OPERATIONS = {
    "email_address": "ops.e2e@example.com",
    "name": "Charles Babbage",
    "phone_number": "+44 20 7946 0002",
    "title": "Operations lead",
}
BILLING = {
    "email_address": "billing.e2e@example.com",
    "name": "Alan Turing",
    "phone_number": "+44 20 7946 0003",
    "title": "Accounts payable",
}
#: Rejected by the API's email pattern; the construct cannot see it at synth time (it is a parameter).
INVALID_EMAIL = "not-an-email-address"


def contacts_stack(
    app: cdk.App,
    stack_id: str,
    *,
    security_id: str = "Security",
    security_removal: cdk.RemovalPolicy = cdk.RemovalPolicy.DESTROY,
    bad_security_email: bool = False,
    operations: dict[str, str] | None = OPERATIONS,
    member_billing_account: str | None = None,
    restore_on_delete: bool = False,
    bad_operations_email: bool = False,
    security_title: str = SECURITY["title"],
    operations_type: AlternateContactType = AlternateContactType.OPERATIONS,
) -> cdk.Stack:
    """One version of the stack."""
    stack = cdk.Stack(app, stack_id)
    security = {**SECURITY, "title": security_title}
    if bad_security_email:
        security["email_address"] = cdk.CfnParameter(
            stack, "SecurityEmail", type="String", default=INVALID_EMAIL
        ).value_as_string
    AlternateContact(
        stack,
        security_id,
        contact_type=AlternateContactType.SECURITY,
        removal_policy=security_removal,
        restore_on_delete=restore_on_delete,
        **security,
    )
    if operations is not None:
        operations = dict(operations)
        if bad_operations_email:
            operations["email_address"] = cdk.CfnParameter(
                stack, "OperationsEmail", type="String", default=INVALID_EMAIL
            ).value_as_string
        AlternateContact(stack, "Operations", contact_type=operations_type, **operations)
    if member_billing_account is not None:
        AlternateContact(
            stack,
            "MemberBilling",
            contact_type=AlternateContactType.BILLING,
            account_id=member_billing_account,
            **BILLING,
        )
    return stack


def example_stack(app: cdk.App, stack_id: str, *, security_email: str, member_account: str) -> None:
    """One version of the three-contact example."""
    stack = cdk.Stack(app, stack_id)
    AlternateContact(
        stack,
        "Security",
        contact_type=AlternateContactType.SECURITY,
        email_address=security_email,
        name="Security Operations Center",
        phone_number="+1 206 555 0100",
        title="Security team",
    )
    AlternateContact(
        stack,
        "Operations",
        contact_type=AlternateContactType.OPERATIONS,
        email_address="ops@example.com",
        name="Platform on-call",
        phone_number="+1 206 555 0101",
        title="Operations team",
    )
    AlternateContact(
        stack,
        "MemberBilling",
        account_id=member_account,
        contact_type=AlternateContactType.BILLING,
        email_address="billing@example.com",
        name="Finance Department",
        phone_number="+1 206 555 0102",
        title="Accounts payable",
    )


app = cdk.App()
example_stack(app, "E2eExample", security_email="security@example.com", member_account="111111111111")
example_stack(app, "E2eExampleUpdated", security_email="security-team@example.com", member_account="222222222222")
contacts_stack(app, "E2eBase")
contacts_stack(app, "E2eRenamed", security_id="SecurityContact")
contacts_stack(app, "E2eRetain", security_removal=cdk.RemovalPolicy.RETAIN)
contacts_stack(app, "E2eSecurityOnly", operations=None)
narrow_to_types(contacts_stack(app, "E2eSecurityOnlyNarrowed", operations=None), ["SECURITY"])
contacts_stack(app, "E2eBadCreate", bad_security_email=True)
contacts_stack(app, "E2eBadUpdate", bad_security_email=True, operations={**OPERATIONS, "title": "Head of operations"})
contacts_stack(app, "E2eRenamedBadUpdate", security_id="SecurityContact", bad_operations_email=True)
contacts_stack(app, "E2eRenamedChanged", security_id="SecurityContact", security_title="Head of security")
contacts_stack(
    app,
    "E2eRenamedChangedBadUpdate",
    security_id="SecurityContact",
    security_title="Head of security",
    bad_operations_email=True,
)
contacts_stack(app, "E2eOperationsRetyped", operations_type=AlternateContactType.BILLING)
contacts_stack(app, "E2eRestore", operations=None, restore_on_delete=True)
contacts_stack(app, "E2eMember", operations=None, member_billing_account="111111111111")
contacts_stack(
    app, "E2eMemberMovedBadUpdate", bad_security_email=True, operations=None, member_billing_account="222222222222"
)
app.synth()
