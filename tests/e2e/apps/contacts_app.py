#!/usr/bin/env python3
"""Test app for the end-to-end tests of ``AlternateContacts`` and of nested stacks.

Each stack is one version of a stack the tests deploy under one name, in turn (as in lifecycle_app.py).

Versions of ``E2eMulti`` (AlternateContacts: several types of one account in one resource):

MultiBase
    ``Own``: SECURITY and OPERATIONS of the deploying account; ``Member``: BILLING and SECURITY of 111111111111.
MultiAdded
    ``Own`` also manages BILLING (a type added: a new identity, so a replacement).
MultiChanged
    ``Own``'s SECURITY details changed (same types: an in-place update).
MultiRemoved
    ``Own`` no longer manages OPERATIONS (a type removed: a replacement whose cleanup deletes it).
MultiMoved
    ``Member`` moved to account 222222222222 (a replacement: cleanup deletes 111111111111's contacts).
MultiRemovedBadUpdate
    MultiRemoved, plus a new resource whose email (a parameter) the API rejects: the update rolls back.
MultiBadCreate
    ``Own``'s SECURITY email is a parameter the API rejects: the Create fails (for a new stack).
MultiHalfDenied, MultiHalfDeniedRestore
    ``Own`` with BILLING and SECURITY (the second without, then with restore_on_delete), and a role narrowed
    to BILLING: the Create puts BILLING, then IAM refuses SECURITY (for a new stack).
MultiAddedDenied
    ``Own`` adds BILLING and changes SECURITY, and the role is narrowed to BILLING and OPERATIONS: the Update
    puts BILLING, a slot it did not manage before, then IAM refuses SECURITY.

Versions of ``E2eNested`` (a nested stack sharing the parent's provider, as OrganizationContacts does):

NestedBase
    Parent: ``Own`` (SECURITY of the deploying account) and the nested stack ``Members`` holding
    ``Member`` (BILLING and SECURITY of 111111111111). The parent's output ``MemberIdentity`` is the
    nested resource's identity, which the CDK passes up as a nested stack output (``Fn::GetAtt
    <Nested>.Outputs.<Name>``).
NestedMoved
    In the nested stack, ``Member`` moved to 222222222222 (a replacement, whose cleanup the nested stack
    defers to the parent's cleanup phase) and ``Extra`` (OPERATIONS of 333333333333) added.
NestedMovedBadUpdate
    NestedMoved, while the parent's ``Own`` gets a SECURITY email (a parameter) the API rejects.
NestedBadCreate
    ``Member``'s BILLING email is a parameter the API rejects, in the nested stack (for a new stack).
NestedRemoved
    The nested stack removed from the parent.

Versions of ``E2eMoves`` (contacts moving between the stacks of one app, which CloudFormation creates in the
new stack and deletes from the old one, with the same physical id):

MovesOne
    ``OrganizationContacts`` of 111111111111, 222222222222 and 333333333333 in one nested stack.
MovesTwo
    The same with ``nested_stacks=2``: 222222222222 moves to the second nested stack.
MovesOut
    333333333333 leaves ``OrganizationContacts`` for an ``AlternateContacts`` of its own in the parent stack.

Versions of ``E2eVending`` (an account the stack vends itself, ``CfnAccount``, and that account's contacts):

VendingBase
    ``Own``: SECURITY of the deploying account; ``Member``: BILLING and SECURITY of 111111111111, with
    restore_on_delete; the account ``Vended`` and ``VendedContacts``: its SECURITY and OPERATIONS, under
    ``account_id=vended.attr_account_id``.
VendingChanged
    ``VendedContacts``' SECURITY details changed (an in-place Update of the vended account's contacts).
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_organizations as organizations
from narrow_policy import narrow_to_types

from cdk_alternate_contacts import (
    AccountContacts,
    AlternateContactProvider,
    AlternateContacts,
    ContactDetails,
    OrganizationContacts,
)

SECURITY = ContactDetails(
    email_address="sec.multi@example.com", name="Mary Jackson", phone_number="+1 757 555 0101", title="Security lead"
)
SECURITY_CHANGED = ContactDetails(
    email_address="soc.multi@example.com", name="Mary Jackson", phone_number="+1 757 555 0109", title="Head of SOC"
)
OPERATIONS = ContactDetails(
    email_address="ops.multi@example.com",
    name="Dorothy Vaughan",
    phone_number="+1 757 555 0102",
    title="Operations lead",
)
BILLING = ContactDetails(
    email_address="billing.multi@example.com",
    name="Annie Easley",
    phone_number="+1 757 555 0103",
    title="Accounts payable",
)
#: The vended account's own (root) email address.
VENDED_EMAIL = "aws-e2e-vended@example.com"
#: Rejected by the API's email pattern; the construct cannot see it at synth time (it is a parameter).
INVALID_EMAIL = "not-an-email-address"


def rejected(stack: cdk.Stack, parameter_id: str, details: ContactDetails) -> ContactDetails:
    """``details`` whose email is a CfnParameter defaulting to a value the API rejects."""
    email = cdk.CfnParameter(stack, parameter_id, type="String", default=INVALID_EMAIL).value_as_string
    return ContactDetails(
        email_address=email, name=details.name, phone_number=details.phone_number, title=details.title
    )


def multi_stack(
    app: cdk.App,
    stack_id: str,
    *,
    own_types: tuple[str, ...] = ("security", "operations"),
    own_security: ContactDetails = SECURITY,
    bad_own_security: bool = False,
    member_account: str = "111111111111",
    broken_extra: bool = False,
    with_member: bool = True,
    restore_on_delete: bool = False,
    narrowed_to: list[str] | None = None,
) -> None:
    """One version of ``E2eMulti``."""
    stack = cdk.Stack(app, stack_id)
    details = {"security": own_security, "operations": OPERATIONS, "billing": BILLING}
    if bad_own_security:
        details["security"] = rejected(stack, "OwnSecurityEmail", own_security)
    AlternateContacts(stack, "Own", restore_on_delete=restore_on_delete, **{kind: details[kind] for kind in own_types})
    if with_member:
        AlternateContacts(stack, "Member", account_id=member_account, billing=BILLING, security=SECURITY)
    if narrowed_to is not None:
        narrow_to_types(stack, narrowed_to)
    if broken_extra:
        AlternateContacts(
            stack, "Broken", account_id="333333333333", security=rejected(stack, "BrokenSecurityEmail", SECURITY)
        )


def nested_stack(
    app: cdk.App,
    stack_id: str,
    *,
    member_account: str = "111111111111",
    extra: bool = False,
    bad_member_billing: bool = False,
    bad_own_security: bool = False,
    with_nested: bool = True,
) -> None:
    """One version of ``E2eNested``."""
    stack = cdk.Stack(app, stack_id)
    own_security = rejected(stack, "OwnSecurityEmail", SECURITY) if bad_own_security else SECURITY
    AlternateContacts(stack, "Own", security=own_security)
    if not with_nested:
        return
    members = cdk.NestedStack(stack, "Members")
    provider = AlternateContactProvider.of(stack)
    provider.share_with(members)
    billing = rejected(members, "MemberBillingEmail", BILLING) if bad_member_billing else BILLING
    member = AlternateContacts(members, "Member", account_id=member_account, billing=billing, security=SECURITY)
    if extra:
        AlternateContacts(members, "Extra", account_id="333333333333", operations=OPERATIONS)
    cdk.CfnOutput(stack, "MemberIdentity", value=member.contacts_id)


def moves_stack(app: cdk.App, stack_id: str, *, nested_stacks: int = 1, own_account: str | None = None) -> None:
    """One version of ``E2eMoves``: every account gets the defaults; ``own_account`` is declared on its own."""
    stack = cdk.Stack(app, stack_id)
    accounts = [a for a in ("111111111111", "222222222222", "333333333333") if a != own_account]
    OrganizationContacts(
        stack,
        "Organization",
        defaults={"security": SECURITY, "billing": BILLING},
        accounts=[AccountContacts(a) for a in accounts],
        nested_stacks=nested_stacks,
    )
    if own_account is not None:
        AlternateContacts(stack, "Moved", account_id=own_account, security=SECURITY, billing=BILLING)


def vending_stack(app: cdk.App, stack_id: str, *, vended_security: ContactDetails = SECURITY) -> None:
    """One version of ``E2eVending``."""
    stack = cdk.Stack(app, stack_id)
    AlternateContacts(stack, "Own", security=SECURITY)
    AlternateContacts(
        stack, "Member", account_id="111111111111", billing=BILLING, security=SECURITY, restore_on_delete=True
    )
    vended = organizations.CfnAccount(stack, "Vended", account_name="e2e-vended", email=VENDED_EMAIL)
    AlternateContacts(
        stack, "VendedContacts", account_id=vended.attr_account_id, security=vended_security, operations=OPERATIONS
    )


app = cdk.App()
multi_stack(app, "MultiBase")
multi_stack(app, "MultiAdded", own_types=("security", "operations", "billing"))
multi_stack(app, "MultiChanged", own_security=SECURITY_CHANGED)
multi_stack(app, "MultiRemoved", own_types=("security",))
multi_stack(app, "MultiMoved", member_account="222222222222")
multi_stack(app, "MultiRemovedBadUpdate", own_types=("security",), broken_extra=True)
multi_stack(app, "MultiBadCreate", bad_own_security=True)
multi_stack(app, "MultiHalfDenied", own_types=("billing", "security"), with_member=False, narrowed_to=["BILLING"])
multi_stack(
    app,
    "MultiHalfDeniedRestore",
    own_types=("billing", "security"),
    with_member=False,
    restore_on_delete=True,
    narrowed_to=["BILLING"],
)
multi_stack(
    app,
    "MultiAddedDenied",
    own_types=("security", "operations", "billing"),
    own_security=SECURITY_CHANGED,
    narrowed_to=["BILLING", "OPERATIONS"],
)
nested_stack(app, "NestedBase")
nested_stack(app, "NestedMoved", member_account="222222222222", extra=True)
nested_stack(app, "NestedMovedBadUpdate", member_account="222222222222", extra=True, bad_own_security=True)
nested_stack(app, "NestedBadCreate", bad_member_billing=True)
nested_stack(app, "NestedRemoved", with_nested=False)
moves_stack(app, "MovesOne")
moves_stack(app, "MovesTwo", nested_stacks=2)
moves_stack(app, "MovesOut", own_account="333333333333")
vending_stack(app, "VendingBase")
vending_stack(app, "VendingChanged", vended_security=SECURITY_CHANGED)
app.synth()
