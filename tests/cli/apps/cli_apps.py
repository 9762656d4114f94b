"""CDK apps the CLI tests plan: synthesized once per session into the folder given as the only argument.

One process builds every app (jsii's start-up dominates synthesis):

- ``basic``: stack ``Contacts`` (the deploying account's SECURITY and OPERATIONS contacts, and BILLING and
  SECURITY of member 111111111111 in one ``AlternateContacts``), and stack ``TokenContacts`` whose email
  address is an SSM parameter read at deploy time, so it cannot be planned.
- ``nested``: stack ``Org`` (the deploying account's SECURITY contact) with a nested stack ``Members``
  (SECURITY of 222222222222) that holds a nested stack ``Deeper`` (BILLING of 333333333333).
- ``deploy_time``: stack ``DeployTime`` whose accounts are CfnParameters, given only at deploy time:
  BILLING and SECURITY of parameter ``MemberAccount`` in one ``AlternateContacts``, and, in a nested stack
  ``Members``, the SECURITY contact of parameter ``NestedMemberAccount`` (passed down by the CDK);
- ``vended``: stack ``Vended``, which creates an account (``AWS::Organizations::Account``) and declares its
  SECURITY and OPERATIONS contacts with the new account's id.

With ``--serve``, the process then stays up and synthesizes, for each JSON request read from stdin
(``{"contacts": FILE, "out": DIR, "organization_id": ..., "management_account_id": ...}``), stack
``Imported`` holding ``OrganizationContacts.from_file(stack, "Organization", FILE, ...)``: a contacts file
written during the session (by ``import``) is synthesized without paying for jsii's start-up again. A
request's optional ``"context_file"`` (an app's cdk.context.json) is given to the app as its context, as the
CDK CLI passes that file's keys to a synth. A request with ``"app": "coverage"`` synthesizes the ``coverage``
app instead (:func:`coverage`), for an organization the tests made in moto_server (its ids are known only
then). It answers each request with a line ``@@done`` or ``@@failed``, and stops at the end of stdin.
"""

from __future__ import annotations

import json
import sys
import traceback
from pathlib import Path

import aws_cdk as cdk
from aws_cdk import aws_organizations as organizations
from aws_cdk import aws_ssm as ssm

from cdk_alternate_contacts import (
    AccountContacts,
    AlternateContact,
    AlternateContacts,
    AlternateContactType,
    ContactDetails,
    Coverage,
    OnDrift,
    OrganizationalUnitContacts,
    OrganizationContacts,
    OrganizationStructure,
)

SECURITY = ContactDetails(
    email_address="security@example.com", name="Jane Doe", phone_number="+1 206 555 0147", title="CISO"
)
OPERATIONS = ContactDetails(
    email_address="ops@example.com", name="Platform on-call", phone_number="+1 206 555 0101", title="On-call lead"
)
BILLING = ContactDetails(
    email_address="billing@example.com",
    name="Finance Department",
    phone_number="+1 206 555 0102",
    title="Accounts payable",
)

PAYMENTS_OPERATIONS = ContactDetails(
    email_address="pay-ops@example.com", name="Payments on-call", phone_number="+1 206 555 0103", title="Pager"
)


def new_app(outdir: Path, context: dict[str, object] | None = None) -> cdk.App:
    """An app writing to ``outdir`` with the metadata ``cdk synth`` records (construct paths, asset folders),
    and ``context`` besides."""
    metadata = {"aws:cdk:enable-path-metadata": True, "aws:cdk:enable-asset-metadata": True}
    return cdk.App(outdir=str(outdir), context={**(context or {}), **metadata})


def contact(
    scope: cdk.Stack,
    construct_id: str,
    kind: AlternateContactType,
    details: ContactDetails,
    account_id: str | None = None,
) -> None:
    """One AlternateContact with ``details``."""
    AlternateContact(
        scope,
        construct_id,
        contact_type=kind,
        email_address=details.email_address,
        name=details.name,
        phone_number=details.phone_number,
        title=details.title,
        account_id=account_id,
    )


def basic(outdir: Path) -> None:
    app = new_app(outdir)
    stack = cdk.Stack(app, "Contacts")
    contact(stack, "Security", AlternateContactType.SECURITY, SECURITY)
    contact(stack, "Operations", AlternateContactType.OPERATIONS, OPERATIONS)
    AlternateContacts(stack, "Member", account_id="111111111111", billing=BILLING, security=SECURITY)

    tokens = cdk.Stack(app, "TokenContacts")
    email = ssm.StringParameter.value_for_string_parameter(tokens, "/contacts/security-email")
    AlternateContact(
        tokens,
        "Security",
        contact_type=AlternateContactType.SECURITY,
        email_address=email,
        name=SECURITY.name,
        phone_number=SECURITY.phone_number,
        title=SECURITY.title,
    )
    app.synth()


def nested(outdir: Path) -> None:
    app = new_app(outdir)
    stack = cdk.Stack(app, "Org")
    contact(stack, "Security", AlternateContactType.SECURITY, SECURITY)
    members = cdk.NestedStack(stack, "Members")
    AlternateContacts(members, "Member", account_id="222222222222", security=SECURITY)
    deeper = cdk.NestedStack(members, "Deeper")
    contact(deeper, "Billing", AlternateContactType.BILLING, BILLING, account_id="333333333333")
    app.synth()


def deploy_time(outdir: Path) -> None:
    app = new_app(outdir)
    stack = cdk.Stack(app, "DeployTime")
    member = cdk.CfnParameter(stack, "MemberAccount", type="String", description="the member account's id")
    nested_member = cdk.CfnParameter(stack, "NestedMemberAccount", type="String")
    AlternateContacts(stack, "Member", account_id=member.value_as_string, billing=BILLING, security=SECURITY)
    members = cdk.NestedStack(stack, "Members")
    contact(members, "Security", AlternateContactType.SECURITY, SECURITY, account_id=nested_member.value_as_string)
    app.synth()


def vended(outdir: Path) -> None:
    app = new_app(outdir)
    stack = cdk.Stack(app, "Vended")
    account = organizations.CfnAccount(stack, "Sandbox", account_name="sandbox", email="sandbox-root@example.com")
    AlternateContacts(
        stack, "SandboxContacts", account_id=account.attr_account_id, security=SECURITY, operations=OPERATIONS
    )
    app.synth()


def imported(
    outdir: Path, contacts: str, organization_id: str, management_account_id: str, context_file: str | None = None
) -> None:
    context = json.loads(Path(context_file).read_text()) if context_file else None
    app = new_app(outdir, context)
    stack = cdk.Stack(app, "Imported")
    OrganizationContacts.from_file(
        stack,
        "Organization",
        contacts,
        organization_id=organization_id,
        management_account_id=management_account_id,
    )
    app.synth()


def coverage(
    outdir: Path,
    *,
    structure: dict[str, object],
    management_account_id: str,
    workloads: str,
    payments: str,
    listed: str,
) -> None:
    """Two stacks with a coverage of the organization whose structure (``lookup``'s context value) is given:

    - ``CoverAll``: every ACTIVE account (on_drift restore) gets SECURITY and OPERATIONS by default; unit
      ``payments`` (in ``workloads``) gets its own OPERATIONS contact; account ``listed`` is listed in
      ``[[accounts]]`` (its resource, in a nested stack, owns it);
    - ``CoverUnits``: the accounts under unit ``workloads`` get SECURITY, with on_drift report.
    """
    app = new_app(outdir)
    known = OrganizationStructure.from_context(structure)
    everything = cdk.Stack(app, "CoverAll")
    OrganizationContacts(
        everything,
        "Organization",
        defaults={"security": SECURITY, "operations": OPERATIONS},
        accounts=[AccountContacts(listed, name="listed")],
        organizational_units=[
            OrganizationalUnitContacts(payments, name="payments", overrides={"operations": PAYMENTS_OPERATIONS})
        ],
        organization_structure=known,
        coverage=Coverage("all"),
        organization_id=known.organization_id,
        management_account_id=management_account_id,
    )
    units = cdk.Stack(app, "CoverUnits")
    OrganizationContacts(
        units,
        "Workloads",
        defaults={"security": SECURITY},
        accounts=[],
        coverage=Coverage([workloads], on_drift=OnDrift.REPORT),
        organization_id=known.organization_id,
        management_account_id=management_account_id,
    )
    app.synth()


def serve() -> None:
    """Synthesize an ``imported`` (or ``coverage``) app for each request on stdin, until its end."""
    print("@@ready", flush=True)
    for line in sys.stdin:
        request = json.loads(line)
        try:
            if request.get("app") == "coverage":
                coverage(
                    Path(request["out"]),
                    structure=request["structure"],
                    management_account_id=request["management_account_id"],
                    workloads=request["workloads"],
                    payments=request["payments"],
                    listed=request["listed"],
                )
            else:
                imported(
                    Path(request["out"]),
                    request["contacts"],
                    request["organization_id"],
                    request["management_account_id"],
                    request.get("context_file"),
                )
        except Exception:  # the test reports it: the process must keep serving the session
            print(traceback.format_exc(), "@@failed", sep="\n", flush=True)
        else:
            print("@@done", flush=True)


if __name__ == "__main__":
    root = Path(sys.argv[1])
    basic(root / "basic")
    nested(root / "nested")
    deploy_time(root / "deploy_time")
    vended(root / "vended")
    if "--serve" in sys.argv[2:]:
        serve()
