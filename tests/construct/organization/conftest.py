"""Session-scoped apps for the organization tests: 1,000 accounts once, and one app of small scenarios.

Each synthesis costs seconds (1,000 accounts: tens of seconds), so every app is built once per session and
read by all the tests that need it; how long the big one took is printed in the terminal summary.
"""

from __future__ import annotations

import dataclasses
import json
import time
from typing import Any

import pytest
from construct_synth import REPO, Synthesized, new_app, synthesize  # sets up jsii: import it before aws_cdk
from organization_synth import (
    BILLING,
    DEFAULTS,
    MEASURED,
    MODEL_IN_CODE,
    MODEL_JSON,
    MODEL_TOML,
    OPERATIONS,
    SECURITY,
    THOUSAND,
    TimedSynthesis,
    account_ids,
)

# isort: split
import aws_cdk as cdk
from cdk_nag import AwsSolutionsChecks

from cdk_alternate_contacts import (
    AccountContacts,
    AlternateContactProvider,
    AlternateContacts,
    OrganizationContacts,
)


@pytest.fixture(scope="session")
def thousand_accounts(tmp_path_factory: pytest.TempPathFactory) -> TimedSynthesis:
    """1,000 accounts of three contacts, some overriding security and some opting out of billing, under
    cdk-nag's AwsSolutionsChecks, in stack "Organization". Synthesized once; the time is reported."""
    outdir = tmp_path_factory.mktemp("thousand-accounts")
    started = time.perf_counter()
    app = new_app(outdir, bundle=False)
    stack = cdk.Stack(app, "Organization")
    accounts = [
        AccountContacts(
            account_id,
            overrides={"security": dataclasses.replace(SECURITY, email_address=f"sec-{i}@example.com")}
            if i % 10 == 0
            else {},
            opt_out=["billing"] if i % 7 == 0 else [],
        )
        for i, account_id in enumerate(account_ids(THOUSAND))
    ]
    organization = OrganizationContacts(stack, "Contacts", defaults=DEFAULTS, accounts=accounts)
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    synthesized = synthesize(app, outdir, stack=stack)
    seconds = time.perf_counter() - started
    MEASURED["1,000 accounts x 3 contacts: build and synth (once per session)"] = f"{seconds:.1f} s"
    return TimedSynthesis(synthesized, seconds, organization)


@pytest.fixture(scope="session")
def organization_app(tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    """Small scenarios in one app (one synthesis), under cdk-nag's AwsSolutionsChecks:

    - "FromCode", "FromToml", "FromJson": the same model (``MODEL_IN_CODE``, ``MODEL_TOML``, ``MODEL_JSON``);
    - "Example": the shipped examples/contacts.toml;
    - "OverrideOnly": a default for security only, one account overriding billing, one opting out of
      operations (which has no default);
    - "Before", "Added", "Removed": 30 accounts in 4 nested stacks; the same plus one at the end; the same
      minus the 6th account and minus every account of the first nested stack;
    - "Grown": the same 30 accounts in 5 nested stacks;
    - "Exact10", "Members11": 10 and 11 member accounts (the exact-ARN threshold);
    - "OrgIds2", "OrgIds12": 2 and 12 accounts with the organization and management account given;
    - "Providers" + "SharedProvider": an organization served by another stack's provider;
    - "Contacts": AlternateContacts alone (security and billing of a member account, operations of the
      deploying account).
    """
    outdir = tmp_path_factory.mktemp("organization-app")
    (outdir / "model.toml").write_text(MODEL_TOML)
    (outdir / "model.json").write_text(json.dumps(MODEL_JSON))
    app = new_app(outdir / "cdk.out", bundle=False)
    handles: dict[str, Any] = {}

    handles["FromCode"] = OrganizationContacts(
        cdk.Stack(app, "FromCode"), "Organization", defaults=DEFAULTS, accounts=MODEL_IN_CODE, nested_stacks=2
    )
    handles["FromToml"] = OrganizationContacts.from_file(
        cdk.Stack(app, "FromToml"), "Organization", outdir / "model.toml", nested_stacks=2
    )
    handles["FromJson"] = OrganizationContacts.from_file(
        cdk.Stack(app, "FromJson"), "Organization", outdir / "model.json", nested_stacks=2
    )
    handles["Example"] = OrganizationContacts.from_file(
        cdk.Stack(app, "Example"), "Organization", REPO / "examples" / "contacts.toml"
    )
    handles["OverrideOnly"] = OrganizationContacts(
        cdk.Stack(app, "OverrideOnly"),
        "Organization",
        defaults={"security": SECURITY},
        accounts=[
            AccountContacts("555566667777", overrides={"billing": BILLING}),
            AccountContacts("666677778888", opt_out=["operations"]),
        ],
    )

    thirty = account_ids(30, salt="placement")
    before = OrganizationContacts(
        cdk.Stack(app, "Before"),
        "Organization",
        defaults=DEFAULTS,
        accounts=[AccountContacts(a) for a in thirty],
        nested_stacks=4,
    )
    first_stack = [a for a in thirty if before.nested_stack_of(a) is before.stacks[min(before.stacks)]]
    removed = [thirty[5], *first_stack]
    handles.update(Before=before, removed=removed, thirty=thirty)
    handles["Added"] = OrganizationContacts(
        cdk.Stack(app, "Added"),
        "Organization",
        defaults=DEFAULTS,
        accounts=[AccountContacts(a) for a in [*thirty, "999988887777"]],
        nested_stacks=4,
    )
    handles["Grown"] = OrganizationContacts(
        cdk.Stack(app, "Grown"),
        "Organization",
        defaults=DEFAULTS,
        accounts=[AccountContacts(a) for a in thirty],
        nested_stacks=5,
    )
    handles["Removed"] = OrganizationContacts(
        cdk.Stack(app, "Removed"),
        "Organization",
        defaults=DEFAULTS,
        accounts=[AccountContacts(a) for a in thirty if a not in removed],
        nested_stacks=4,
    )

    for name, count, ids in (
        ("Exact10", 10, {}),
        ("Members11", 11, {}),
        ("OrgIds2", 2, {"organization_id": "o-a1b2c3d4e5", "management_account_id": "999999999999"}),
        ("OrgIds12", 12, {"organization_id": "o-a1b2c3d4e5", "management_account_id": "999999999999"}),
    ):
        handles[name] = OrganizationContacts(
            cdk.Stack(app, name),
            "Organization",
            defaults={"security": SECURITY},
            accounts=[AccountContacts(a) for a in account_ids(count, salt=name)],
            nested_stacks=2,
            **ids,
        )

    provider = AlternateContactProvider.of(cdk.Stack(app, "Providers"))
    handles["SharedProvider"] = OrganizationContacts(
        cdk.Stack(app, "SharedProvider"),
        "Organization",
        defaults={"security": SECURITY},
        accounts=[AccountContacts("777788889999"), AccountContacts("888899990000")],
        provider=provider,
    )

    contacts = cdk.Stack(app, "Contacts")
    handles["MemberContacts"] = AlternateContacts(
        contacts, "Member", account_id="121212121212", security=SECURITY, billing=BILLING
    )
    handles["OwnContacts"] = AlternateContacts(contacts, "Own", operations=OPERATIONS)

    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    return synthesize(app, outdir / "cdk.out", **handles)


@pytest.fixture(scope="session")
def vending_apps(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Synthesized]:
    """Stack "Vending" as three versions of one organization, each its own app (a version of a stack is
    compared with the next one under the same name, as CloudFormation compares them): "before", 260
    accounts with default placement (2 nested stacks); "added", one more account; "changed", the 7th account overriding
    security; "removed", the 7th account gone."""
    accounts_260 = account_ids(260, salt="vending")
    versions = {
        "before": [AccountContacts(a) for a in accounts_260],
        "added": [AccountContacts(a) for a in [*accounts_260, "999988887777"]],
        "changed": [
            AccountContacts(a, overrides={"security": OPERATIONS} if a == accounts_260[6] else {}) for a in accounts_260
        ],
        "removed": [AccountContacts(a) for a in accounts_260 if a != accounts_260[6]],
    }
    synthesized = {}
    for version, accounts in versions.items():
        outdir = tmp_path_factory.mktemp(f"vending-{version}")
        app = new_app(outdir, bundle=False)
        stack = cdk.Stack(app, "Vending")
        organization = OrganizationContacts(stack, "Organization", defaults=DEFAULTS, accounts=accounts)
        synthesized[version] = synthesize(app, outdir, organization=organization, changed=accounts_260[6])
    return synthesized


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """Print what the organization tests measured (the 1,000-account synthesis time, the policy size)."""
    if MEASURED:
        terminalreporter.write_sep("-", "organization: measured")
        for what, figure in MEASURED.items():
            terminalreporter.write_line(f"{what}: {figure}")
