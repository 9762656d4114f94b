#!/usr/bin/env python3
"""Example CDK app: the alternate contacts of the deploying account and of one member account.

Values come from CDK context so the same app can be deployed, changed and destroyed by
``make demo`` (see README.md); in your own app you would write them in code or read them from a file.

    cdk deploy -c member_account=123456789012
"""

from __future__ import annotations

import aws_cdk as cdk
from cdk_nag import AwsSolutionsChecks

from cdk_alternate_contacts import AlternateContact, AlternateContactType

app = cdk.App()
context = app.node.try_get_context

stack = cdk.Stack(
    app,
    "AlternateContactsExample",
    description="Alternate contacts of the deploying account and of one member account",
)

AlternateContact(
    stack,
    "Security",
    contact_type=AlternateContactType.SECURITY,
    email_address=context("security_email") or "security@example.com",
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
    account_id=context("member_account") or "111111111111",
    contact_type=AlternateContactType.BILLING,
    email_address="billing@example.com",
    name="Finance Department",
    phone_number="+1 206 555 0102",
    title="Accounts payable",
)

cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app))
app.synth()
