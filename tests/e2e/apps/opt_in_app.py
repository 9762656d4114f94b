#!/usr/bin/env python3
"""Test app for the opt-in behaviours end to end (tests/e2e/test_opt_ins.py).

E2eSkipInactive
    BILLING of a member account given as the CfnParameter ``MemberAccount`` (the test creates the account
    in moto's organization first, so its id is only known at deploy time), with skip_inactive_account.
"""

from __future__ import annotations

import aws_cdk as cdk

from cdk_alternate_contacts import AlternateContact, AlternateContactType

app = cdk.App()
stack = cdk.Stack(app, "E2eSkipInactive")
member = cdk.CfnParameter(stack, "MemberAccount", type="String", default="000000000000")
AlternateContact(
    stack,
    "MemberBilling",
    account_id=member.value_as_string,
    contact_type=AlternateContactType.BILLING,
    email_address="finance.skip@example.com",
    name="Mary Jackson",
    phone_number="+1 757 555 0199",
    title="Accounts payable",
    skip_inactive_account=True,
)
app.synth()
