#!/usr/bin/env python3
"""Test app for the end-to-end tests of a coverage: stack ``E2eCovered``, in versions chosen by context.

The organizational unit's id and the organization's structure are moto's, made by the test before it
synthesizes (``-c unit=ou-... -c cdk-alternate-contacts:organization-structure='{...}'``).

version=listed (default)
    Defaults for SECURITY and OPERATIONS; the unit's rule replaces OPERATIONS; account ``listed`` (context)
    is in ``[[accounts]]`` with its own SECURITY; the management account's SECURITY is declared in code
    (``AlternateContacts``); the coverage keeps every other ACTIVE account.
version=unlisted
    The same without the listed account: it passes to the coverage.
version=unit
    The listed version whose coverage keeps only the unit's accounts (``accounts = [unit]``): the function's role
    may write only accounts whose organization path holds the unit (``account:AccountResourceOrgPaths``).
"""

from __future__ import annotations

from pathlib import Path

import aws_cdk as cdk

from cdk_alternate_contacts import (
    AccountContacts,
    AlternateContacts,
    ContactDetails,
    Coverage,
    OrganizationalUnitContacts,
    OrganizationContacts,
)
from cdk_alternate_contacts.structure import CONTEXT_KEY

SECURITY = ContactDetails("soc@example.com", "Security Operations Center", "+1 206 555 0100", "Security team")
OPERATIONS = ContactDetails("cloud-ops@example.com", "Platform on-call", "+1 206 555 0101", "Operations team")
UNIT_OPERATIONS = ContactDetails("payments-ops@example.com", "Payments on-call", "+1 206 555 0130", "Payments ops")
LISTED_SECURITY = ContactDetails("listed-soc@example.com", "Listed SOC", "+1 206 555 0131", "Security team")
MANAGEMENT_SECURITY = ContactDetails("root-soc@example.com", "Root owners", "+1 206 555 0132", "Security team")

app = cdk.App()
# A large organization's structure is read from a file (as cdk.context.json holds it for a real app): a
# 10,000-account structure is longer than a command line may be (benchmarks/coverage_scale.py).
if structure_file := app.node.try_get_context("structure_file"):
    app.node.set_context(CONTEXT_KEY, Path(structure_file).read_text(encoding="utf-8"))
version = app.node.try_get_context("version") or "listed"
unit = app.node.get_context("unit")
listed = app.node.get_context("listed")
stack = cdk.Stack(app, "E2eCovered")
# The management account's own contact, declared in code: the coverage must leave it to this resource.
AlternateContacts(stack, "Management", security=MANAGEMENT_SECURITY)
OrganizationContacts(
    stack,
    "Organization",
    defaults={"security": SECURITY, "operations": OPERATIONS},
    accounts=[] if version == "unlisted" else [AccountContacts(listed, overrides={"security": LISTED_SECURITY})],
    organizational_units=[OrganizationalUnitContacts(unit, overrides={"operations": UNIT_OPERATIONS}, name="payments")],
    coverage=Coverage([unit] if version == "unit" else "all"),
    max_concurrency=None,
)
app.synth()
