#!/usr/bin/env python3
"""Example CDK app: account vending, the alternate contacts of a whole organization from one data file.

Deployed in the organization's management account (or the delegated administrator for
account.amazonaws.com), one stack declares:

- the management account's own three contacts (``AlternateContacts``; no ``account_id``: the deploying
  account): the organization's defaults, read from ``examples/accounts.toml`` (``load_contacts_model``);
- every member account's contacts from the same file (``OrganizationContacts.from_model``): organization
  defaults, per-account overrides and opt-outs, spread over nested stacks that share the stack's one
  provider function. One nested stack per 250 accounts, added by itself as the organization grows; they
  deploy one after another, and the function runs at most 5 invocations at once (the rest wait in Lambda's
  queue), so a fan-out of thousands of contacts keeps to the Account API's quotas;
- an experiments account that the stack itself vends (``AWS::Organizations::Account``) and that
  account's contacts, whose ``account_id`` is the new account's id, known once CloudFormation has created it.

The data file is a context value, so ``make demo`` can deploy a later version of it as an update, and so
can the organization's ids, which make the role's member-account ARNs exact instead of wildcards:

    cdk deploy -c accounts_file=examples/accounts-updated.toml
    cdk deploy -c organization_id=o-a1b2c3d4e5 -c management_account_id=123456789012

Vending an account is one more ``[[accounts]]`` entry in the file and a deploy (for an account made
elsewhere), or a ``CfnAccount`` in the stack, as the experiments account below. cdk-nag's AwsSolutions
checks run on every synth.
"""

from __future__ import annotations

from pathlib import Path

import aws_cdk as cdk
from aws_cdk import aws_organizations as organizations
from cdk_nag import AwsSolutionsChecks

from cdk_alternate_contacts import (
    AlternateContacts,
    AlternateContactType,
    ContactDetails,
    OrganizationContacts,
    load_contacts_model,
)

app = cdk.App()
accounts_file = Path(app.node.try_get_context("accounts_file") or "examples/accounts.toml")
if not accounts_file.is_absolute():
    accounts_file = Path(__file__).resolve().parent / accounts_file

stack = cdk.Stack(
    app,
    "AlternateContactsExample",
    description="Alternate contacts of the management account and of every member account (account vending)",
)

# One data file for the whole organization; its defaults are also the management account's own contacts
# (no account_id: the deploying account). A type the file has no default for is left as it is.
organization = load_contacts_model(accounts_file)
defaults = organization.defaults

AlternateContacts(
    stack,
    "ManagementAccount",
    security=defaults.get(AlternateContactType.SECURITY),
    operations=defaults.get(AlternateContactType.OPERATIONS),
    billing=defaults.get(AlternateContactType.BILLING),
)

OrganizationContacts.from_model(
    stack,
    "Organization",
    organization,
    organization_id=app.node.try_get_context("organization_id"),
    management_account_id=app.node.try_get_context("management_account_id"),
)

# An account for experiments, vended by this stack. CloudFormation creates it (CreateAccount, minutes on
# AWS), then puts its contacts: only this one resource waits for the account, every other contact is deployed
# meanwhile. The removal policy is stated, not left to the default: destroying the stack deletes the contacts
# first, then closes the account (CloseAccount); an account that must outlive the stack wants RETAIN.
experiments = organizations.CfnAccount(
    stack, "ExperimentsAccount", account_name="experiments", email="aws-experiments@example.com"
)
experiments.apply_removal_policy(cdk.RemovalPolicy.DESTROY)
AlternateContacts(
    stack,
    "ExperimentsContacts",
    account_id=experiments.attr_account_id,
    security=defaults.get(AlternateContactType.SECURITY),
    operations=ContactDetails(
        email_address="experiments-owners@example.com",
        name="Experiments owners",
        phone_number="+1 206 555 0103",
        title="Developer experience team",
    ),
)
cdk.CfnOutput(stack, "ExperimentsAccountId", value=experiments.attr_account_id, description="The vended account's id")

cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app))
app.synth()
